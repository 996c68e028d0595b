import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export class CsrfError extends Error {
  override name = 'CsrfError';
  readonly statusCode = 403;
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The token a form sent back: the `_csrf` field, or an `x-csrf-token` header for scripted clients. */
function submittedToken(request: FastifyRequest): string | undefined {
  const header = request.headers['x-csrf-token'];
  if (typeof header === 'string') return header;
  const body = request.body as Record<string, unknown> | null | undefined;
  const field = body && typeof body === 'object' ? body._csrf : undefined;
  return typeof field === 'string' ? field : undefined;
}

/**
 * Synchronizer-token CSRF protection for every state-changing request in the
 * pages' scope: the token lives in the encrypted session and must come back
 * with the form. Runs after body parsing (preHandler) so multipart and
 * urlencoded fields are readable. A request without a session cookie has a
 * brand-new token it cannot know, so it is refused too.
 */
export function registerCsrfProtection(app: FastifyInstance): void {
  app.addHook('preHandler', async (request) => {
    if (!STATE_CHANGING.has(request.method)) return;
    if (request.routeOptions.config.csrf === false) return;
    const token = submittedToken(request);
    if (request.session.fresh || token === undefined || !sameToken(token, request.session.data.csrf)) {
      throw new CsrfError(
        'This form has expired or did not come from Admit (its security token is missing or does not match). Reload the page and submit it again.',
      );
    }
  });
}
