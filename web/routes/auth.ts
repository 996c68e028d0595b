import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { IdentityProviderUnreachable, OidcError, type OidcClient } from '../auth/oidc';
import { startNewSession, updateSession } from '../auth/session';
import { messagePage } from '../pages/layout';
import type { PagesContext } from './pages-context';

/** Only a path on this site: never `//host` or a scheme, so sign-in cannot bounce to another origin. */
export function safeReturnPath(value: unknown): string {
  return typeof value === 'string' && /^\/(?![/\\])[\x21-\x7e]*$/.test(value) && value.length < 500 ? value : '/console';
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Approver sign-in through OpenID Connect, and sign-out. */
export function registerAuthRoutes(app: FastifyInstance, pages: PagesContext, oidc: OidcClient): void {
  /** A clear 503 page when the identity provider cannot be reached, instead of a bare 500. */
  const unavailable = (
    request: Parameters<PagesContext['context']>[0],
    reply: Parameters<PagesContext['sendPage']>[0],
    error: IdentityProviderUnreachable,
  ) =>
    pages.sendPage(
      reply.status(503).header('retry-after', '60'),
      messagePage(pages.context(request), 'Sign-in is unavailable', 'error', error.message),
    );

  app.get<{ Querystring: { returnTo?: string } }>('/auth/login', { onRequest: pages.deps.rateBudget('login') }, async (request, reply) => {
    let authorization;
    try {
      authorization = await oidc.authorizationRequest();
    } catch (error) {
      if (error instanceof IdentityProviderUnreachable) return unavailable(request, reply, error);
      throw error;
    }
    updateSession(request, (data) => ({
      ...data,
      oidc: {
        state: authorization.state,
        nonce: authorization.nonce,
        verifier: authorization.verifier,
        returnTo: safeReturnPath(request.query.returnTo),
      },
    }));
    return reply.header('cache-control', 'no-store').redirect(authorization.url, 303);
  });

  app.get<{ Querystring: { code?: string; state?: string; error?: string; error_description?: string } }>(
    '/auth/callback',
    { onRequest: pages.deps.rateBudget('login') },
    async (request, reply) => {
      const pending = request.session.data.oidc;
      const refuse = (detail: string) => pages.sendPage(reply.status(401), messagePage(pages.context(request), 'Sign-in failed', 'error', detail));
      // The pending request is used once, whatever happens next.
      updateSession(request, (data) => ({ ...data, oidc: null }));
      if (typeof request.query.error === 'string')
        return refuse(`The identity provider said: ${request.query.error_description ?? request.query.error}.`);
      if (pending === null || typeof request.query.state !== 'string' || !sameText(request.query.state, pending.state)) {
        return refuse('This sign-in did not start here or has already been used. Start again from the sign-in link.');
      }
      if (typeof request.query.code !== 'string' || request.query.code === '') return refuse('The identity provider sent no authorization code.');
      try {
        const actor = await oidc.completeSignIn(request.query.code, pending);
        startNewSession(request, actor);
        return reply.redirect(pending.returnTo, 303);
      } catch (error) {
        if (error instanceof IdentityProviderUnreachable) return unavailable(request, reply, error);
        if (error instanceof OidcError) return refuse(error.message);
        throw error;
      }
    },
  );

  app.post('/auth/logout', async (request, reply) => {
    startNewSession(request, null);
    return reply.redirect('/', 303);
  });
}
