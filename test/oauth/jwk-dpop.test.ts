import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { reportKeyCompromiseUpdate } from '../../workflows/messages';
import { startProtectedApi, type ProtectedApi } from '../../examples/protected-api';
import { dpopProof, fetchToken } from '../../cli/token';
import { main } from '../../cli/admit';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { approvers, GATEWAY_TOKEN } from '../support/lifecycle';
import { admitJwkPartner, createOAuthHarness, JWT_API, OPAQUE_API, type OAuthHarness } from '../support/oauth';

let o: OAuthHarness;
let api: ProtectedApi;
beforeAll(async () => {
  o = await createOAuthHarness();
  api = await startProtectedApi({ admitUrl: o.issuer, gatewayToken: GATEWAY_TOKEN, environment: 'sandbox' });
});
afterAll(async () => {
  await api?.close();
  await o?.close();
});

async function callApi(key: { privateJwk: Parameters<typeof dpopProof>[0]['privateJwk'] }, token: string) {
  const url = `${api.url}/accounts`;
  return fetch(url, { headers: { authorization: `DPoP ${token}`, dpop: await dpopProof(key, 'GET', url, { accessToken: token }) } });
}

async function introspect(token: string) {
  const response = await fetch(`${o.issuer}/oauth/introspect`, {
    method: 'POST',
    headers: { authorization: `Bearer ${GATEWAY_TOKEN}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }).toString(),
  });
  expect(response.status).toBe(200);
  return response.json() as Promise<Record<string, unknown>>;
}

describe('a JWK-anchored partner, end to end', () => {
  it('discovery advertises client_credentials, private_key_jwt, DPoP and mTLS', async () => {
    const response = await fetch(`${o.issuer}/.well-known/oauth-authorization-server`);
    expect(response.status).toBe(200);
    const metadata = (await response.json()) as Record<string, unknown>;
    expect(metadata.issuer).toBe(o.issuer);
    expect(metadata.token_endpoint).toBe(`${o.issuer}/oauth/token`);
    // client_credentials, and the JWT bearer grant only where workload issuers are federated (none here).
    expect(metadata.grant_types_supported).toEqual(['client_credentials']);
    expect(metadata.token_endpoint_auth_methods_supported).toEqual(
      expect.arrayContaining(['private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth']),
    );
    expect(metadata.token_endpoint_auth_methods_supported).not.toContain('client_secret_post');
    expect(metadata.dpop_signing_alg_values_supported).toEqual(expect.arrayContaining(['ES256', 'PS256', 'EdDSA']));
    expect(metadata.tls_client_certificate_bound_access_tokens).toBe(true);
  });

  it('LOW signup → admitted → DPoP token by private_key_jwt → the API answers → key compromise → refused once the Update returns', async () => {
    const partner = await admitJwkPartner(o.h);
    const token = await fetchToken(partner, { clientId: partner.clientId, issuer: o.issuer, tokenEndpoint: o.tokenEndpoint, scope: 'accounts:read' });
    expect(token.token_type).toBe('DPoP');
    expect(token.scope).toBe('accounts:read');
    // The LOW template's credential lifetime (15 minutes), not a provider default.
    const credential = await o.h.stack.registry.clientCredential.findUniqueOrThrow({ where: { clientId: partner.clientId } });
    expect(token.expires_in).toBe(credential.tokenLifetimeSeconds);

    const details = await introspect(token.access_token);
    expect(details).toMatchObject({ active: true, client_id: partner.clientId, aud: OPAQUE_API, scope: 'accounts:read', token_type: 'DPoP' });
    expect((details.cnf as { jkt: string }).jkt).toBe(credential.confirmationValue);

    const ok = await callApi(partner, token.access_token);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ accounts: [{ id: 'acc-1' }] });

    // The same token without its key's proof is refused by the API's decision.
    const stolen = await fetch(`${api.url}/accounts`, { headers: { authorization: `DPoP ${token.access_token}` } });
    expect(stolen.status).toBe(401);

    await partner.handle.executeUpdate(reportKeyCompromiseUpdate, { args: [{ reportedBy: approvers.rui, detail: 'private key published' }] });
    // The Update has returned: no waiting, the very next use is refused everywhere.
    const refused = await callApi(partner, token.access_token);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ reasons: ['TOKEN_INACTIVE'] });
    expect(await introspect(token.access_token)).toEqual({ active: false });
    await expect(
      fetchToken(partner, { clientId: partner.clientId, issuer: o.issuer, tokenEndpoint: o.tokenEndpoint, scope: 'accounts:read' }),
    ).rejects.toThrow(/^invalid_client/);
  });

  it('issues RFC 9068 JWT access tokens for a JWT API, bound by jkt, refused at /decisions after revocation', async () => {
    const partner = await admitJwkPartner(o.h, 'EdDSA');
    const token = await fetchToken(partner, {
      clientId: partner.clientId,
      issuer: o.issuer,
      tokenEndpoint: o.tokenEndpoint,
      scope: 'accounts:read',
      resource: JWT_API,
    });
    const claims = decodeJwt(token.access_token);
    const credential = await o.h.stack.registry.clientCredential.findUniqueOrThrow({ where: { clientId: partner.clientId } });
    expect(claims).toMatchObject({
      iss: o.issuer,
      aud: JWT_API,
      client_id: partner.clientId,
      scope: 'accounts:read',
      cnf: { jkt: credential.confirmationValue },
    });
    expect((claims.exp as number) - (claims.iat as number)).toBe(credential.tokenLifetimeSeconds);
    expect((await callApi(partner, token.access_token)).status).toBe(200);

    await partner.handle.executeUpdate(reportKeyCompromiseUpdate, { args: [{ reportedBy: approvers.rui, detail: 'key lost' }] });
    // The JWT itself stays valid until exp for gateways verifying locally; /decisions consults the registry.
    const refused = await callApi(partner, token.access_token);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ reasons: ['CLIENT_NOT_ACTIVE'] });
  });

  it('`admit token` and `admit dpop` get a token and sign the call, as a partner would from the shell', async () => {
    const partner = await admitJwkPartner(o.h, 'PS256');
    const keyFile = path.join(await mkdtemp(path.join(tmpdir(), 'admit-key-')), 'key.json');
    await writeFile(keyFile, JSON.stringify(partner.privateJwk));
    const run = async (argv: string[]) => {
      let out = '';
      let err = '';
      const code = await main(argv, { out: (t) => (out += t), err: (t) => (err += t) });
      return { code, out: out.trim(), err };
    };
    const token = await run(['token', '--issuer', o.issuer, '--client-id', partner.clientId, '--key', keyFile, '--scope', 'accounts:read']);
    expect(token.err).toBe('');
    expect(token.code).toBe(0);
    const url = `${api.url}/accounts`;
    const proof = await run(['dpop', '--key', keyFile, '--method', 'GET', '--url', url, '--token', token.out]);
    const call = await fetch(url, { headers: { authorization: `DPoP ${token.out}`, dpop: proof.out } });
    expect(call.status).toBe(200);
    const refused = await run(['token', '--issuer', o.issuer, '--client-id', partner.clientId, '--key', keyFile, '--scope', 'payments:initiate']);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/invalid_scope/);
  });
});
