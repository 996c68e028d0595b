import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { OidcClient, actorFromClaims } from '../../web/auth/oidc';
import { safeReturnPath } from '../../web/routes/auth';
import { freePort } from '../../stack/processes';
import { createTestStack, type TestStack } from '../support/stack';
import { PageClient } from '../support/page-client';
import { startTestWeb, type RunningWeb } from '../support/web';

let stack: TestStack;
let web: RunningWeb;

beforeAll(async () => {
  stack = await createTestStack();
  web = await startTestWeb(stack, { oidc: { clientId: 'admit-console', rolesClaim: 'groups' } });
});
afterAll(async () => {
  await web.close();
  await stack.close();
});

/** Walks the sign-in as a browser would: console → login → provider page → pick an approver → callback. */
async function signIn(client: PageClient, account: string) {
  const login = await client.get('/auth/login?returnTo=%2Fconsole');
  expect(login.statusCode).toBe(303);
  const authorize = new URL(String(login.headers.location));
  expect(authorize.origin + authorize.pathname).toBe(`${web.url}/dev-idp/authorize`);
  expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
  expect(authorize.searchParams.get('redirect_uri')).toBe(`${web.url}/auth/callback`);
  const page = await client.get(`${authorize.pathname}${authorize.search}`);
  expect(page.statusCode).toBe(200);
  expect(page.body).toContain('Development identity provider');
  const fields = Object.fromEntries(authorize.searchParams);
  const chosen = await client.post('/dev-idp/authorize', { ...fields, account });
  expect(chosen.statusCode).toBe(303);
  const callback = new URL(String(chosen.headers.location));
  expect(callback.pathname).toBe('/auth/callback');
  return { callback, finished: await client.get(`${callback.pathname}${callback.search}`) };
}

describe('approver sign-in through OpenID Connect (development provider)', () => {
  it('signs in with code flow + PKCE, takes roles from the configured claim, and rotates the session', async () => {
    const client = new PageClient(web.app);
    await client.get('/apply');
    const anonymousToken = client.csrf();
    const { finished } = await signIn(client, 'rui');
    expect(finished.statusCode).toBe(303);
    expect(finished.headers.location).toBe('/console');
    const consolePage = await client.get('/console');
    expect(consolePage.statusCode).toBe(200);
    expect(consolePage.body).toContain('Signed in as <strong>Rui Reviewer</strong>');
    expect(consolePage.body).toContain('roles: approver, security-reviewer');
    // A new session: the token an attacker could have planted before sign-in no longer works.
    expect(client.csrf()).not.toBe(anonymousToken);

    const out = await client.post('/auth/logout', {});
    expect(out.statusCode).toBe(303);
    expect((await client.get('/console')).statusCode).toBe(401);
  });

  it('refuses a callback whose state does not match the sign-in this browser started', async () => {
    const client = new PageClient(web.app);
    const { callback } = await signIn(new PageClient(web.app), 'ada');
    // The code and state belong to another browser's sign-in.
    const response = await client.get(`${callback.pathname}${callback.search}`);
    expect(response.statusCode).toBe(401);
    expect(response.body).toContain('did not start here');
    expect((await client.get('/console')).statusCode).toBe(401);
  });

  it('uses each authorization code once', async () => {
    const client = new PageClient(web.app);
    const { callback, finished } = await signIn(client, 'ada');
    expect(finished.statusCode).toBe(303);
    const token = await fetch(`${web.url}/dev-idp/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: callback.searchParams.get('code') ?? '',
        redirect_uri: `${web.url}/auth/callback`,
        client_id: 'admit-console',
        code_verifier: 'x'.repeat(43),
      }),
    });
    expect(token.status).toBe(400);
    expect(await token.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('refuses a token request whose PKCE verifier does not match', async () => {
    const client = new PageClient(web.app);
    const login = await client.get('/auth/login');
    const authorize = new URL(String(login.headers.location));
    await client.get(`${authorize.pathname}${authorize.search}`);
    const chosen = await client.post('/dev-idp/authorize', { ...Object.fromEntries(authorize.searchParams), account: 'sam' });
    const code = new URL(String(chosen.headers.location)).searchParams.get('code') ?? '';
    const token = await fetch(`${web.url}/dev-idp/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: `${web.url}/auth/callback`,
        client_id: 'admit-console',
        code_verifier: 'y'.repeat(64),
      }),
    });
    expect(token.status).toBe(400);
    expect(await token.json()).toMatchObject({ error: 'invalid_grant', error_description: 'PKCE verification failed.' });
  });

  it('will not redirect a sign-in anywhere but this site', () => {
    expect(safeReturnPath('/console/applications/x')).toBe('/console/applications/x');
    for (const hostile of ['//evil.example', 'https://evil.example', '/\\evil.example', 'javascript:alert(1)', 42]) {
      expect(safeReturnPath(hostile)).toBe('/console');
    }
  });

  it('refuses an authorization request for another redirect URI without redirecting', async () => {
    const response = await web.app.inject({
      method: 'GET',
      url: `/dev-idp/authorize?response_type=code&client_id=admit-console&redirect_uri=${encodeURIComponent('https://evil.example/cb')}&scope=openid&state=abcdefgh12&code_challenge=${'a'.repeat(43)}&code_challenge_method=S256`,
    });
    expect(response.statusCode).toBe(400);
    expect(response.headers.location).toBeUndefined();
  });
});

/**
 * A hostile provider: a real HTTP server with discovery and JWKS whose token
 * endpoint returns whatever ID token the test made, to prove the relying
 * party's checks (signature, issuer, audience, expiry, nonce) each hold.
 */
describe('ID token checks', () => {
  let provider: FastifyInstance;
  let issuer: string;
  let key: CryptoKey;
  let otherKey: CryptoKey;
  let jwk: JWK;
  let nextIdToken = '';

  beforeAll(async () => {
    const port = await freePort();
    issuer = `http://127.0.0.1:${port}/realm`;
    const pair = await generateKeyPair('ES256');
    key = pair.privateKey;
    jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' };
    otherKey = (await generateKeyPair('ES256')).privateKey;
    provider = Fastify();
    provider.get('/realm/.well-known/openid-configuration', async () => ({
      issuer,
      authorization_endpoint: `${issuer}/auth`,
      token_endpoint: `${issuer}/token`,
      jwks_uri: `${issuer}/jwks`,
    }));
    provider.get('/realm/jwks', async () => ({ keys: [jwk] }));
    provider.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, body));
    provider.post('/realm/token', async () => ({ id_token: nextIdToken, access_token: 'a', token_type: 'Bearer' }));
    await provider.listen({ host: '127.0.0.1', port });
  });
  afterAll(async () => {
    await provider.close();
  });

  const client = () => new OidcClient({ issuer, clientId: 'admit-console', redirectUri: 'http://127.0.0.1/auth/callback', rolesClaim: 'roles' });
  const token = (claims: Record<string, unknown>, options: { signWith?: CryptoKey; iss?: string; aud?: string; exp?: number } = {}) =>
    new SignJWT({ nonce: 'the-nonce', email: 'ada@example.com', name: 'Ada', roles: ['approver'], ...claims })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(options.iss ?? issuer)
      .setAudience(options.aud ?? 'admit-console')
      .setSubject('ada')
      .setIssuedAt()
      .setExpirationTime(options.exp ?? Math.floor(Date.now() / 1000) + 300)
      .sign(options.signWith ?? key);
  const pending = { nonce: 'the-nonce', verifier: 'v'.repeat(43) };

  it('accepts a good token and names the approver by issuer and subject', async () => {
    nextIdToken = await token({});
    expect(await client().completeSignIn('code', pending)).toEqual({
      subject: `${issuer} ada`,
      email: 'ada@example.com',
      name: 'Ada',
      roles: ['approver'],
    });
  });

  it.each([
    ['a signature by another key', { signWith: 'other' }, /did not verify/],
    ['another issuer', { iss: 'https://elsewhere.example' }, /did not verify.*iss/],
    ['another audience', { aud: 'someone-else' }, /did not verify.*aud/],
    ['an expired token', { exp: Math.floor(Date.now() / 1000) - 120 }, /did not verify.*exp/],
  ] as const)('refuses %s', async (_name, options, message) => {
    nextIdToken = await token({}, { ...options, signWith: 'signWith' in options ? otherKey : key } as never);
    await expect(client().completeSignIn('code', pending)).rejects.toThrow(message);
  });

  it('refuses a token for another sign-in (nonce)', async () => {
    nextIdToken = await token({ nonce: 'another' });
    await expect(client().completeSignIn('code', pending)).rejects.toThrow(/nonce/);
  });

  it('refuses a provider whose discovery names another issuer', async () => {
    const mismatched = new OidcClient({ issuer: `${issuer}/`, clientId: 'admit-console', redirectUri: 'http://127.0.0.1/cb', rolesClaim: 'roles' });
    await expect(mismatched.authorizationRequest()).rejects.toThrow(/discovery|issuer/);
  });

  it('reads roles from the configured claim, as an array or a space-separated string', () => {
    expect(actorFromClaims({ sub: 's', groups: ['approver', 7] }, 'https://i', 'groups').roles).toEqual(['approver']);
    expect(actorFromClaims({ sub: 's', scope_roles: 'approver security-reviewer' }, 'https://i', 'scope_roles').roles).toEqual([
      'approver',
      'security-reviewer',
    ]);
    expect(actorFromClaims({ sub: 's', roles: ['approver'] }, 'https://i', 'groups').roles).toEqual([]);
  });
});
