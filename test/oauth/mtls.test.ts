import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportKeyCompromiseUpdate } from '../../workflows/messages';
import { startProtectedApi, type ProtectedApi } from '../../examples/protected-api';
import { approvers, GATEWAY_TOKEN } from '../support/lifecycle';
import { admitX509Partner, clientChainWithKey, createOAuthHarness, httpsWithCert, OPAQUE_API, type OAuthHarness } from '../support/oauth';

let o: OAuthHarness;
let api: ProtectedApi;
beforeAll(async () => {
  o = await createOAuthHarness();
  api = await startProtectedApi({ admitUrl: o.issuer, gatewayToken: GATEWAY_TOKEN, environment: 'sandbox', tls: o.serverTls });
});
afterAll(async () => {
  await api?.close();
  await o?.close();
});

function tokenForm(clientId: string, scope = 'accounts:read'): string {
  return new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, scope }).toString();
}

describe('an X.509-anchored partner over mutual TLS, end to end', () => {
  it('LOW signup → admitted → certificate-bound token by tls_client_auth → the API answers → key compromise → refused once the Update returns', async () => {
    const partner = await admitX509Partner(o.h);
    const credential = await o.h.stack.registry.clientCredential.findUniqueOrThrow({ where: { clientId: partner.clientId } });
    const asPartner = { certPem: partner.chainPem, keyPem: partner.keyPem, caPem: o.serverCaPem };

    const token = await httpsWithCert(`${o.mtls.url}/oauth/token`, { method: 'POST', ...asPartner, body: tokenForm(partner.clientId) });
    expect(token.status).toBe(200);
    expect(token.json).toMatchObject({ token_type: 'Bearer', scope: 'accounts:read', expires_in: credential.tokenLifetimeSeconds });
    const accessToken = token.json.access_token as string;

    const introspection = await fetch(`${o.issuer}/oauth/introspect`, {
      method: 'POST',
      headers: { authorization: `Bearer ${GATEWAY_TOKEN}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: accessToken }).toString(),
    });
    expect(await introspection.json()).toMatchObject({
      active: true,
      client_id: partner.clientId,
      aud: OPAQUE_API,
      cnf: { 'x5t#S256': credential.confirmationValue },
    });

    const call = () =>
      httpsWithCert(`${api.url.replace('127.0.0.1', 'localhost')}/accounts`, {
        method: 'GET',
        ...asPartner,
        headers: { authorization: `Bearer ${accessToken}` },
      });
    const ok = await call();
    expect(ok.status).toBe(200);

    // The token on another connection, without the bound certificate, is refused.
    const other = await clientChainWithKey(o.h, 'CN=someone-else');
    const stolen = await httpsWithCert(`${api.url.replace('127.0.0.1', 'localhost')}/accounts`, {
      method: 'GET',
      certPem: other.chainPem,
      keyPem: other.keyPem,
      caPem: o.serverCaPem,
      headers: { authorization: `Bearer ${accessToken}` },
    });
    expect(stolen).toMatchObject({ status: 403, json: { reasons: ['CONFIRMATION_MISMATCH'] } });

    await partner.handle.executeUpdate(reportKeyCompromiseUpdate, { args: [{ reportedBy: approvers.rui, detail: 'certificate key stolen' }] });
    expect(await call()).toMatchObject({ status: 403, json: { reasons: ['TOKEN_INACTIVE'] } });
    expect(await httpsWithCert(`${o.mtls.url}/oauth/token`, { method: 'POST', ...asPartner, body: tokenForm(partner.clientId) })).toMatchObject({
      status: 401,
      json: { error: 'invalid_client' },
    });
  });

  it('pins the bound certificate: another certificate with the same subject DN from the same CA is refused', async () => {
    const partner = await admitX509Partner(o.h);
    const twin = await clientChainWithKey(o.h, `CN=${partner.applicationId}`);
    expect(twin.leafPem).not.toBe(partner.leafPem);
    const answer = await httpsWithCert(`${o.mtls.url}/oauth/token`, {
      method: 'POST',
      certPem: twin.chainPem,
      keyPem: twin.keyPem,
      caPem: o.serverCaPem,
      body: tokenForm(partner.clientId),
    });
    expect(answer).toMatchObject({ status: 401, json: { error: 'invalid_client' } });
    expect(await o.h.stack.registry.oAuthArtifact.count({ where: { clientId: partner.clientId } })).toBe(0);
    // Without any certificate, and on the plain listener, likewise.
    expect(
      await httpsWithCert(`${o.mtls.url}/oauth/token`, { method: 'POST', caPem: o.serverCaPem, body: tokenForm(partner.clientId) }),
    ).toMatchObject({
      status: 401,
      json: { error: 'invalid_client' },
    });
    const plain = await fetch(o.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: tokenForm(partner.clientId),
    });
    expect(plain.status).toBe(401);
  });
});
