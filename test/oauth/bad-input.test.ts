import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { SignJWT, UnsecuredJWT, importJWK, type JWK } from 'jose';
import { offboardUpdate } from '../../workflows/messages';
import { grantActivities } from '../../activities/grants';
import { CLIENT_ASSERTION_TYPE, clientAssertion, dpopProof, fetchToken } from '../../cli/token';
import { approvers, GATEWAY_TOKEN } from '../support/lifecycle';
import { admitJwkPartner, createOAuthHarness, keyPair, type JwkPartner, type OAuthHarness } from '../support/oauth';
import { buildApp } from '../../web/app';
import { testAppDependencies } from '../support/web';

let o: OAuthHarness;
let partner: JwkPartner;
beforeAll(async () => {
  o = await createOAuthHarness();
  partner = await admitJwkPartner(o.h);
});
afterAll(async () => o?.close());

interface Attempt {
  assertion?: string;
  dpop?: string | null;
  scope?: string;
  resource?: string;
}

/** A raw token request, so each part can be made wrong; answers status and the OAuth error. */
async function tokenAttempt(p: JwkPartner, attempt: Attempt = {}) {
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_assertion_type: CLIENT_ASSERTION_TYPE,
    client_assertion: attempt.assertion ?? (await clientAssertion(p, p.clientId, o.issuer)),
    scope: attempt.scope ?? 'accounts:read',
  });
  if (attempt.resource !== undefined) form.set('resource', attempt.resource);
  const dpop = attempt.dpop === undefined ? await dpopProof(p, 'POST', o.tokenEndpoint) : attempt.dpop;
  const response = await fetch(o.tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(dpop === null ? {} : { dpop }) },
    body: form.toString(),
  });
  return { status: response.status, ...((await response.json()) as { error?: string; error_description?: string; access_token?: string }) };
}

async function issued(clientId: string): Promise<number> {
  return o.h.stack.registry.oAuthArtifact.count({ where: { model: 'ClientCredentials', clientId } });
}

async function signed(key: JWK, alg: string, claims: Record<string, unknown>, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg, ...header }).sign(await importJWK(key, alg));
}

function claims(p: JwkPartner, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { iss: p.clientId, sub: p.clientId, aud: o.issuer, iat: now, exp: now + 60, jti: randomUUID(), ...overrides };
}

describe('client assertions that are refused, with nothing issued', () => {
  it('a replayed assertion (same jti) is refused the second time', async () => {
    const assertion = await clientAssertion(partner, partner.clientId, o.issuer);
    const before = await issued(partner.clientId);
    expect((await tokenAttempt(partner, { assertion })).status).toBe(200);
    expect(await tokenAttempt(partner, { assertion })).toMatchObject({ status: 401, error: 'invalid_client' });
    expect(await issued(partner.clientId)).toBe(before + 1);
  });

  it.each([
    ['an audience other than the issuer', { aud: 'https://elsewhere.example/token' }],
    ['the token endpoint as audience (FAPI 2.0 / RFC 7523bis: the issuer only)', { aud: 'TOKEN_ENDPOINT' }],
    ['an issuer other than the client', { iss: 'someone-else' }],
    ['an expired assertion', { iat: Math.floor(Date.now() / 1000) - 300, exp: Math.floor(Date.now() / 1000) - 200 }],
    ['a lifetime beyond Admit’s maximum', { exp: Math.floor(Date.now() / 1000) + 3600 }],
    ['no jti', { jti: undefined }],
  ])('%s', async (_name, overrides) => {
    const fixed = { ...overrides } as Record<string, unknown>;
    if (fixed.aud === 'TOKEN_ENDPOINT') fixed.aud = o.tokenEndpoint;
    const assertion = await signed(partner.privateJwk, 'ES256', claims(partner, fixed), { kid: partner.privateJwk.kid });
    const before = await issued(partner.clientId);
    expect(await tokenAttempt(partner, { assertion })).toMatchObject({ status: 401, error: 'invalid_client' });
    expect(await issued(partner.clientId)).toBe(before);
  });

  it('alg none', async () => {
    const assertion = new UnsecuredJWT(claims(partner)).encode();
    expect(await tokenAttempt(partner, { assertion })).toMatchObject({ status: 401, error: 'invalid_client' });
  });

  it('HS256 keyed with the public key', async () => {
    const secret = new TextEncoder().encode(JSON.stringify(partner.publicJwk));
    const assertion = await new SignJWT(claims(partner)).setProtectedHeader({ alg: 'HS256' }).sign(secret);
    expect(await tokenAttempt(partner, { assertion })).toMatchObject({ status: 401, error: 'invalid_client' });
  });

  it('a key that is not the bound anchor', async () => {
    const stranger = await keyPair('ES256');
    const assertion = await signed(stranger.privateJwk, 'ES256', claims(partner), { kid: partner.publicJwk.kid });
    const before = await issued(partner.clientId);
    expect(await tokenAttempt(partner, { assertion, dpop: await dpopProof(stranger, 'POST', o.tokenEndpoint) })).toMatchObject({
      status: 401,
      error: 'invalid_client',
    });
    expect(await issued(partner.clientId)).toBe(before);
  });
});

describe('DPoP proofs that are refused at the token endpoint', () => {
  it('signed by a key other than the anchor (the token would be bound to the wrong key)', async () => {
    const stranger = await keyPair('ES256');
    const before = await issued(partner.clientId);
    expect(await tokenAttempt(partner, { dpop: await dpopProof(stranger, 'POST', o.tokenEndpoint) })).toMatchObject({
      status: 400,
      error: 'invalid_dpop_proof',
    });
    expect(await issued(partner.clientId)).toBe(before);
  });

  it.each([
    ['missing', async (): Promise<string | null> => null, 'invalid_grant'],
    ['for another method', async (): Promise<string | null> => dpopProof(partner, 'GET', o.tokenEndpoint), 'invalid_dpop_proof'],
    ['for another URL', async (): Promise<string | null> => dpopProof(partner, 'POST', `${o.issuer}/elsewhere`), 'invalid_dpop_proof'],
    [
      'stale',
      async (): Promise<string | null> => dpopProof(partner, 'POST', o.tokenEndpoint, { iat: Math.floor(Date.now() / 1000) - 600 }),
      'invalid_dpop_proof',
    ],
  ] as const)('%s', async (_name, proof, error) => {
    const before = await issued(partner.clientId);
    expect(await tokenAttempt(partner, { dpop: await proof() })).toMatchObject({ status: 400, error });
    expect(await issued(partner.clientId)).toBe(before);
  });

  it('replayed', async () => {
    const proof = await dpopProof(partner, 'POST', o.tokenEndpoint);
    expect((await tokenAttempt(partner, { dpop: proof })).status).toBe(200);
    const before = await issued(partner.clientId);
    expect(await tokenAttempt(partner, { dpop: proof })).toMatchObject({ status: 400, error: 'invalid_grant' });
    expect(await issued(partner.clientId)).toBe(before);
  });
});

describe('DPoP proofs that are refused where the token is used (POST /decisions)', () => {
  it('replayed, for another URL or method, stale, or by another key', async () => {
    const token = await fetchToken(partner, { clientId: partner.clientId, issuer: o.issuer, tokenEndpoint: o.tokenEndpoint, scope: 'accounts:read' });
    const htu = 'https://accounts.api.test/opaque/accounts';
    const ask = async (proof: string, at = { htm: 'GET', htu }): Promise<{ allow: boolean; reasons: { code: string }[] }> => {
      const response = await fetch(`${o.issuer}/decisions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${GATEWAY_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ accessToken: token.access_token, dpop: { proof, ...at }, scope: 'accounts:read', environment: 'sandbox' }),
      });
      return (await response.json()) as { allow: boolean; reasons: { code: string }[] };
    };
    const proof = await dpopProof(partner, 'GET', htu, { accessToken: token.access_token });
    expect(await ask(proof)).toMatchObject({ allow: true });
    expect(await ask(proof)).toMatchObject({ allow: false, reasons: [{ code: 'DPOP_PROOF_REPLAYED' }] });
    expect(await ask(await dpopProof(partner, 'GET', `${htu}/other`, { accessToken: token.access_token }))).toMatchObject({
      reasons: [{ code: 'DPOP_PROOF_MISMATCH' }],
    });
    expect(await ask(await dpopProof(partner, 'POST', htu, { accessToken: token.access_token }))).toMatchObject({
      reasons: [{ code: 'DPOP_PROOF_MISMATCH' }],
    });
    expect(await ask(await dpopProof(partner, 'GET', htu))).toMatchObject({ reasons: [{ code: 'DPOP_PROOF_MISMATCH' }] });
    expect(
      await ask(await dpopProof(partner, 'GET', htu, { accessToken: token.access_token, iat: Math.floor(Date.now() / 1000) - 600 })),
    ).toMatchObject({
      reasons: [{ code: 'DPOP_PROOF_STALE' }],
    });
    const stranger = await keyPair('ES256');
    expect(await ask(await dpopProof(stranger, 'GET', htu, { accessToken: token.access_token }))).toMatchObject({
      reasons: [{ code: 'CONFIRMATION_MISMATCH' }],
    });
    const [header, payload, signature] = proof.split('.') as [string, string, string];
    const tampered = `${header}.${payload}.${signature[0] === 'A' ? 'B' : 'A'}${signature.slice(1)}`;
    expect(await ask(tampered)).toMatchObject({ reasons: [{ code: 'DPOP_PROOF_INVALID' }] });
  });
});

describe('requests outside what was granted', () => {
  it('a scope outside the grant', async () => {
    const before = await issued(partner.clientId);
    expect(await tokenAttempt(partner, { scope: 'payments:initiate' })).toMatchObject({ status: 400, error: 'invalid_scope' });
    expect(await tokenAttempt(partner, { scope: 'accounts:read payments:initiate' })).toMatchObject({ status: 400, error: 'invalid_scope' });
    expect(await issued(partner.clientId)).toBe(before);
    // A value outside the catalogue is no scope at all: ignored, as RFC 6749 §3.3 allows, and never granted.
    const unknown = await tokenAttempt(partner, { scope: 'accounts:read not-a-scope' });
    expect(unknown).toMatchObject({ status: 200, scope: 'accounts:read' });
  });

  it('an API outside the resource catalogue', async () => {
    expect(await tokenAttempt(partner, { resource: 'https://evil.example/api' })).toMatchObject({ status: 400, error: 'invalid_target' });
  });

  it('a partner cannot introspect, and a gateway token is needed', async () => {
    const token = await fetchToken(partner, { clientId: partner.clientId, issuer: o.issuer, tokenEndpoint: o.tokenEndpoint, scope: 'accounts:read' });
    const byPartner = await fetch(`${o.issuer}/oauth/introspect`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        token: token.access_token,
        client_assertion_type: CLIENT_ASSERTION_TYPE,
        client_assertion: await clientAssertion(partner, partner.clientId, o.issuer),
      }).toString(),
    });
    expect(await byPartner.json()).toEqual({ active: false });
    const wrongGateway = await fetch(`${o.issuer}/oauth/introspect`, {
      method: 'POST',
      headers: { authorization: 'Bearer not-the-gateway-token-0123456789abcdef', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: token.access_token }).toString(),
    });
    expect(wrongGateway.status).toBe(400);
  });
});

describe('clients that no longer exist', () => {
  it('a suspended client is refused at once, and its tokens are inactive', async () => {
    const suspended = await admitJwkPartner(o.h);
    const token = await fetchToken(suspended, {
      clientId: suspended.clientId,
      issuer: o.issuer,
      tokenEndpoint: o.tokenEndpoint,
      scope: 'accounts:read',
    });
    await grantActivities(o.h.stack.registry).suspendAccess({
      applicationId: suspended.applicationId,
      workflowId: suspended.handle.workflowId,
      reason: 'anchor unreachable',
      at: new Date().toISOString(),
    });
    const before = await issued(suspended.clientId);
    expect(await tokenAttempt(suspended)).toMatchObject({ status: 401, error: 'invalid_client' });
    expect(await issued(suspended.clientId)).toBe(before);
    const introspection = await fetch(`${o.issuer}/oauth/introspect`, {
      method: 'POST',
      headers: { authorization: `Bearer ${GATEWAY_TOKEN}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: token.access_token }).toString(),
    });
    expect(await introspection.json()).toEqual({ active: false });
  });

  it('a client whose application was offboarded (closed) is refused', async () => {
    const closed = await admitJwkPartner(o.h);
    await closed.handle.executeUpdate(offboardUpdate, { args: [{ by: approvers.ada, reason: 'contract terminated' }] });
    expect(await tokenAttempt(closed)).toMatchObject({ status: 401, error: 'invalid_client' });
    expect(await issued(closed.clientId)).toBe(0);
  });
});

describe('a flood of token requests', () => {
  it('is turned away by the per-address token budget (429, Retry-After) before the provider verifies anything', async () => {
    const app = buildApp({
      ...testAppDependencies(o.h.stack, { publicUrl: o.issuer, rateLimits: { token: { max: 2, timeWindow: 60_000 } } }),
      authorizationServer: o.as,
    });
    try {
      const attempt = () =>
        app.inject({
          method: 'POST',
          url: '/oauth/token',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          payload: 'grant_type=client_credentials',
        });
      // Within the budget the provider answers (the request is not a valid one).
      for (let i = 0; i < 2; i += 1) expect((await attempt()).statusCode).toBe(400);
      const refused = await attempt();
      expect(refused.statusCode).toBe(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      // Discovery is not a token request and does not draw on the budget.
      expect((await app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server' })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });
});
