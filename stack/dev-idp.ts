import { timingSafeEqual } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { html } from '../web/html';
import { csrfField, layout, type PageContext } from '../web/pages/layout';
import { sendProblem } from '../web/problem';
import { pkceChallenge } from '../web/auth/oidc';
import { randomToken } from '../web/auth/session';
import type { DevelopmentAccount } from '../web/app';

/**
 * A real, minimal OpenID Connect provider inside the web service, for
 * development and tests only: discovery, JWKS, an authorize page where you
 * pick a seeded approver, and a token endpoint (authorization code + PKCE
 * S256 only). The console signs in against it through exactly the code path
 * it uses for a production issuer. buildApp refuses it in production, and
 * loads this module (development code) only outside it.
 */
export interface DevIdentityProviderOptions {
  /** `${publicUrl}/dev-idp` */
  issuer: string;
  clientId: string;
  /** When set, the token endpoint requires it (client_secret_basic or _post). */
  clientSecret?: string;
  redirectUris: string[];
  rolesClaim: string;
  accounts: readonly DevelopmentAccount[];
  pageContext(request: FastifyRequest): PageContext;
}

export const DEV_IDP_PREFIX = '/dev-idp';

/** The development provider's issuer for a public URL: what its approvers' subjects start with. */
export function developmentIssuerFor(publicUrl: string): string {
  return `${new URL(publicUrl).origin}${DEV_IDP_PREFIX}`;
}
const CODE_LIFETIME_MS = 60_000;
const ID_TOKEN_LIFETIME_SECONDS = 300;

interface IssuedCode {
  account: DevelopmentAccount;
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  nonce: string | undefined;
  expiresAt: number;
}

const authorizeQuery = z.object({
  response_type: z.literal('code'),
  client_id: z.string().min(1).max(200),
  redirect_uri: z.string().min(1).max(2000),
  scope: z
    .string()
    .max(500)
    .refine((scope) => scope.split(' ').includes('openid'), 'scope must include openid'),
  state: z.string().min(8).max(500),
  nonce: z.string().min(8).max(500).optional(),
  code_challenge: z.string().regex(/^[A-Za-z0-9_-]{43,128}$/),
  code_challenge_method: z.literal('S256'),
});

type AuthorizeQuery = z.infer<typeof authorizeQuery>;

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function registerDevIdentityProvider(app: FastifyInstance, options: DevIdentityProviderOptions): void {
  const signingKey = (async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwk: JWK = { ...(await exportJWK(publicKey)), kid: `dev-${randomToken(6)}`, alg: 'ES256', use: 'sig' };
    return { privateKey, jwk };
  })();
  const codes = new Map<string, IssuedCode>();
  const endpoint = (path: string): string => `${options.issuer}${path}`;

  const tokenError = (reply: FastifyReply, status: number, error: string, description: string) =>
    reply.status(status).header('cache-control', 'no-store').send({ error, error_description: description });

  /** Checks an authorization request; a bad client or redirect URI must not redirect (RFC 6749 §4.1.2.1). */
  const checkAuthorizeRequest = (input: unknown): { ok: true; query: AuthorizeQuery } | { ok: false; detail: string } => {
    const parsed = authorizeQuery.safeParse(input);
    if (!parsed.success) return { ok: false, detail: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') };
    if (parsed.data.client_id !== options.clientId) return { ok: false, detail: 'Unknown client_id.' };
    if (!options.redirectUris.includes(parsed.data.redirect_uri)) return { ok: false, detail: 'redirect_uri is not registered for this client.' };
    return { ok: true, query: parsed.data };
  };

  app.get(`${DEV_IDP_PREFIX}/.well-known/openid-configuration`, async () => ({
    issuer: options.issuer,
    authorization_endpoint: endpoint('/authorize'),
    token_endpoint: endpoint('/token'),
    jwks_uri: endpoint('/jwks'),
    response_types_supported: ['code'],
    grant_types_supported: ['authorization_code'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['ES256'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: options.clientSecret === undefined ? ['none'] : ['client_secret_basic', 'client_secret_post'],
    scopes_supported: ['openid', 'email', 'profile'],
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nonce', 'email', 'email_verified', 'name', options.rolesClaim],
  }));

  app.get(`${DEV_IDP_PREFIX}/jwks`, async () => ({ keys: [(await signingKey).jwk] }));

  app.get(`${DEV_IDP_PREFIX}/authorize`, async (request, reply) => {
    const checked = checkAuthorizeRequest(request.query);
    if (!checked.ok) return sendProblem(reply, { status: 400, title: 'Invalid authorization request', detail: checked.detail });
    const context = options.pageContext(request);
    const hidden = Object.entries(checked.query).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value ?? ''}" />`);
    return reply.type('text/html').send(
      layout(
        context,
        'Development sign-in',
        html`<h1>Development identity provider</h1>
          <p class="lede">This stands in for your organisation's identity provider outside production. Choose the seeded approver to sign in as.</p>
          <form method="post" action="${DEV_IDP_PREFIX}/authorize" class="stack">
            ${csrfField(context)} ${hidden}
            <fieldset>
              <legend>Sign in as</legend>
              ${options.accounts.map(
                (account, index) =>
                  html`<div class="choice">
                    <input type="radio" name="account" id="account-${account.sub}" value="${account.sub}" ${index === 0 ? html` checked` : ''} />
                    <label for="account-${account.sub}"
                      >${account.name} <span class="hint">${account.email} · ${account.roles.join(', ')}</span></label
                    >
                  </div>`,
              )}
            </fieldset>
            <button type="submit">Sign in</button>
          </form>`,
      ).toString(),
    );
  });

  app.post(`${DEV_IDP_PREFIX}/authorize`, async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const checked = checkAuthorizeRequest(body);
    if (!checked.ok) return sendProblem(reply, { status: 400, title: 'Invalid authorization request', detail: checked.detail });
    const account = options.accounts.find((candidate) => candidate.sub === body.account);
    if (account === undefined)
      return sendProblem(reply, { status: 400, title: 'Invalid authorization request', detail: 'Choose one of the listed approvers.' });
    const now = Date.now();
    for (const [key, issued] of codes) if (issued.expiresAt < now) codes.delete(key);
    const code = randomToken();
    codes.set(code, {
      account,
      clientId: checked.query.client_id,
      redirectUri: checked.query.redirect_uri,
      codeChallenge: checked.query.code_challenge,
      nonce: checked.query.nonce,
      expiresAt: now + CODE_LIFETIME_MS,
    });
    const target = new URL(checked.query.redirect_uri);
    target.searchParams.set('code', code);
    target.searchParams.set('state', checked.query.state);
    target.searchParams.set('iss', options.issuer);
    return reply.redirect(target.toString(), 303);
  });

  // Called server to server by the relying party, never by a browser form: PKCE, not a CSRF token, binds it.
  app.post(`${DEV_IDP_PREFIX}/token`, { config: { csrf: false } }, async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    let clientId = typeof body.client_id === 'string' ? body.client_id : undefined;
    let clientSecret = typeof body.client_secret === 'string' ? body.client_secret : undefined;
    const authorization = request.headers.authorization;
    if (authorization?.startsWith('Basic ')) {
      // RFC 6749 §2.3.1: client id and secret are form-urlencoded before Basic encoding.
      let decoded: string[];
      try {
        decoded = Buffer.from(authorization.slice(6), 'base64').toString('utf8').split(':').map(decodeURIComponent);
      } catch {
        return tokenError(reply, 400, 'invalid_request', 'The Basic credentials are not valid percent-encoding.');
      }
      const [id = '', secret = ''] = decoded;
      clientId = id;
      clientSecret = secret;
    }
    if (clientId !== options.clientId) return tokenError(reply, 401, 'invalid_client', 'Unknown client.');
    if (options.clientSecret !== undefined && (clientSecret === undefined || !sameText(clientSecret, options.clientSecret))) {
      return tokenError(reply, 401, 'invalid_client', 'Client authentication failed.');
    }
    if (body.grant_type !== 'authorization_code') return tokenError(reply, 400, 'unsupported_grant_type', 'Only authorization_code is supported.');
    const code = typeof body.code === 'string' ? body.code : '';
    const issued = codes.get(code);
    // Single use: the code is gone whether or not the rest checks out.
    codes.delete(code);
    if (issued === undefined || issued.expiresAt < Date.now())
      return tokenError(reply, 400, 'invalid_grant', 'The code is unknown, used or expired.');
    if (issued.clientId !== clientId || issued.redirectUri !== body.redirect_uri) {
      return tokenError(reply, 400, 'invalid_grant', 'The code was issued to another client or redirect URI.');
    }
    const verifier = typeof body.code_verifier === 'string' ? body.code_verifier : '';
    if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier) || !sameText(pkceChallenge(verifier), issued.codeChallenge)) {
      return tokenError(reply, 400, 'invalid_grant', 'PKCE verification failed.');
    }
    const { privateKey, jwk } = await signingKey;
    const idToken = await new SignJWT({
      email: issued.account.email,
      email_verified: true,
      name: issued.account.name,
      [options.rolesClaim]: [...issued.account.roles],
      ...(issued.nonce === undefined ? {} : { nonce: issued.nonce }),
    })
      .setProtectedHeader({ alg: 'ES256', kid: jwk.kid ?? '', typ: 'JWT' })
      .setIssuer(options.issuer)
      .setAudience(clientId)
      .setSubject(issued.account.sub)
      .setIssuedAt()
      .setExpirationTime(`${ID_TOKEN_LIFETIME_SECONDS}s`)
      .sign(privateKey);
    return reply.header('cache-control', 'no-store').send({
      access_token: randomToken(),
      token_type: 'Bearer',
      expires_in: ID_TOKEN_LIFETIME_SECONDS,
      id_token: idToken,
    });
  });
}
