import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import type Provider from 'oidc-provider';
import type { GatewayToken } from '../config/env';
import { gatewayFor } from '../web/auth/gateway';
import { GATEWAY_CLIENT_PREFIX } from './clients';
import { OAUTH_ROUTES } from './provider';
import type { TokenVerifier } from './token-check';

/** The authorization server as the web app mounts it. */
export interface AuthorizationServer {
  provider: Provider;
  /** Checks access tokens for POST /decisions. */
  tokens: TokenVerifier;
}

/** RFC 8414 discovery (served from oidc-provider's own discovery document). */
export const DISCOVERY_PATH = '/.well-known/oauth-authorization-server';

/** The only requests that reach the provider: discovery, JWKS, token, introspection, revocation. */
const FORWARDED: ReadonlyMap<string, { method: string; path: string }> = new Map([
  [DISCOVERY_PATH, { method: 'GET', path: '/.well-known/openid-configuration' }],
  [OAUTH_ROUTES.jwks, { method: 'GET', path: OAUTH_ROUTES.jwks }],
  [OAUTH_ROUTES.token, { method: 'POST', path: OAUTH_ROUTES.token }],
  [OAUTH_ROUTES.introspection, { method: 'POST', path: OAUTH_ROUTES.introspection }],
  [OAUTH_ROUTES.revocation, { method: 'POST', path: OAUTH_ROUTES.revocation }],
]);

/**
 * API gateways authenticate to introspection and revocation with their
 * ADMIT_GATEWAY_TOKENS bearer token, as they do to /usage and /decisions; the
 * provider knows them as `gateway:<name>` clients with that token as secret,
 * so a valid bearer becomes the equivalent client_secret_basic header.
 */
function translateGatewayBearer(req: IncomingMessage, gatewayTokens: readonly GatewayToken[]): void {
  const authorization = req.headers.authorization;
  if (authorization === undefined || !/^Bearer /i.test(authorization)) return;
  const name = gatewayFor(authorization, gatewayTokens);
  if (name === undefined) return;
  const token = gatewayTokens.find((g) => g.name === name)?.token ?? '';
  const user = encodeURIComponent(`${GATEWAY_CLIENT_PREFIX}${name}`);
  req.headers.authorization = `Basic ${Buffer.from(`${user}:${encodeURIComponent(token)}`).toString('base64')}`;
}

/**
 * Passes one request to the provider, or answers 404/405 for anything it
 * does not serve. Returns when the response is finished.
 */
export function forwardToProvider(
  provider: Provider,
  gatewayTokens: readonly GatewayToken[],
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const handler = provider.callback();
  return (req, res) =>
    new Promise<void>((resolve) => {
      res.once('close', resolve);
      res.once('finish', resolve);
      const [pathname = '', query] = (req.url ?? '').split('?', 2);
      const route = FORWARDED.get(pathname);
      if (route === undefined || route.method !== req.method) {
        res.statusCode = route === undefined ? 404 : 405;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ error: 'invalid_request', error_description: route === undefined ? 'no such endpoint' : 'method not allowed' }));
        return;
      }
      req.url = query === undefined ? route.path : `${route.path}?${query}`;
      if (pathname === OAUTH_ROUTES.introspection || pathname === OAUTH_ROUTES.revocation) translateGatewayBearer(req, gatewayTokens);
      void handler(req, res);
    });
}

/**
 * Mounts the authorization server's endpoints in the web app (their own scope: the provider reads its own bodies).
 * `tokenBudget` runs first on the token endpoint (the per-address budget of web/rate-budgets.ts).
 */
export function registerAuthorizationServer(
  app: FastifyInstance,
  provider: Provider,
  gatewayTokens: readonly GatewayToken[],
  tokenBudget?: onRequestHookHandler,
): void {
  const forward = forwardToProvider(provider, gatewayTokens);
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    // Leave the body unread: oidc-provider parses (and bounds) it itself.
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null));
    for (const [url, { method }] of FORWARDED) {
      scope.route({
        method: method as 'GET' | 'POST',
        url,
        ...(url === OAUTH_ROUTES.token && tokenBudget !== undefined ? { onRequest: tokenBudget } : {}),
        handler: async (request, reply) => {
          reply.hijack();
          await forward(request.raw, reply.raw);
        },
      });
    }
  });
}
