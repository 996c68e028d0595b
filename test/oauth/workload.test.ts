import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { reportKeyCompromiseUpdate } from '../../workflows/messages';
import { startProtectedApi, type ProtectedApi } from '../../examples/protected-api';
import { dpopProof } from '../../cli/token';
import { JWT_BEARER } from '../../oauth/clients';
import { jwtKey, signJwt, type JwtKey } from '../anchors/fixtures';
import { approvers, confirmContacts, GATEWAY_TOKEN, signup, submitAnchor, waitForStage } from '../support/lifecycle';
import { createOAuthHarness, keyPair, type OAuthHarness } from '../support/oauth';

const TRUST_DOMAIN = 'workloads.partner.test';
let o: OAuthHarness;
let api: ProtectedApi;
let svidKey: JwtKey;

beforeAll(async () => {
  svidKey = await jwtKey('ES256', 'svid-key-1');
  const { alg: _alg, ...publicJwk } = svidKey.publicJwk;
  const file = path.join(await mkdtemp(path.join(tmpdir(), 'admit-spiffe-')), 'bundles.json');
  await writeFile(file, JSON.stringify({ [TRUST_DOMAIN]: { keys: [{ use: 'jwt-svid', ...publicJwk }] } }));
  o = await createOAuthHarness({ env: { ADMIT_SPIFFE_BUNDLES: file } });
  api = await startProtectedApi({ admitUrl: o.issuer, gatewayToken: GATEWAY_TOKEN, environment: 'sandbox' });
});
afterAll(async () => {
  await api?.close();
  await o?.close();
});

function svid(spiffeId: string, audience: string, extra: Record<string, unknown> = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return signJwt(svidKey, { sub: spiffeId, aud: audience, iat: now, exp: now + 300, jti: randomUUID(), ...extra });
}

describe('a SPIFFE workload by the JWT bearer grant', () => {
  it('JWT-SVID anchor → admitted → DPoP-bound token for an SVID naming Admit → the API answers → refused after key compromise', async () => {
    const spiffeId = `spiffe://${TRUST_DOMAIN}/ns/payments/sa/${randomUUID().slice(0, 8)}`;
    const { handle, body } = await signup(o.h);
    await waitForStage(handle, 'AWAITING_CONTACTS');
    await confirmContacts(o.h, handle, body);
    await waitForStage(handle, 'AWAITING_ANCHOR');
    const attempt = await submitAnchor(handle, { kind: 'spiffe', spiffeId, jwtSvid: await svid(spiffeId, o.h.stack.config.anchorAudience) });
    expect(attempt.reasons ?? []).toEqual([]);
    const clientId = (await waitForStage(handle, 'ADMITTED')).grant?.clientId as string;
    const credential = await o.h.stack.registry.clientCredential.findUniqueOrThrow({ where: { clientId } });
    expect(credential).toMatchObject({ confirmationMethod: 'spiffe-id', confirmationValue: spiffeId });

    const ephemeral = await keyPair('ES256');
    const request = async (assertion: string, dpop: string | null = null) => {
      const response = await fetch(o.tokenEndpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: dpop ?? (await dpopProof(ephemeral, 'POST', o.tokenEndpoint)) },
        body: new URLSearchParams({ grant_type: JWT_BEARER, client_id: clientId, assertion, scope: 'accounts:read' }).toString(),
      });
      return { status: response.status, ...((await response.json()) as { error?: string; access_token?: string; token_type?: string }) };
    };

    const assertion = await svid(spiffeId, o.issuer);
    const token = await request(assertion);
    expect(token).toMatchObject({ status: 200, token_type: 'DPoP' });
    const url = `${api.url}/accounts`;
    const call = async () =>
      fetch(url, {
        headers: {
          authorization: `DPoP ${token.access_token}`,
          dpop: await dpopProof(ephemeral, 'GET', url, { accessToken: token.access_token as string }),
        },
      });
    expect((await call()).status).toBe(200);

    // Refused: the same SVID again, an SVID for Admit's anchor audience only, another workload's SVID.
    expect(await request(assertion)).toMatchObject({ status: 400, error: 'invalid_grant' });
    const other = `spiffe://${TRUST_DOMAIN}/ns/other/sa/x`;
    expect(await request(await svid(other, o.issuer))).toMatchObject({ status: 400, error: 'invalid_grant' });
    expect(await request(await svid(spiffeId, 'https://somewhere-else.example'))).toMatchObject({ status: 400, error: 'invalid_grant' });
    const forged = await signJwt(await jwtKey('ES256', 'svid-key-1'), { sub: spiffeId, aud: o.issuer, exp: Math.floor(Date.now() / 1000) + 300 });
    expect(await request(forged)).toMatchObject({ status: 400, error: 'invalid_grant' });
    // The client has no authentication of its own: its id alone gets nothing by client_credentials.
    const byIdAlone = await fetch(o.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: await dpopProof(ephemeral, 'POST', o.tokenEndpoint) },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, scope: 'accounts:read' }).toString(),
    });
    expect(byIdAlone.status).toBe(400);
    const refusal = (await byIdAlone.json()) as { error: string; error_description: string };
    expect(refusal).toEqual({ error: 'invalid_request', error_description: 'requested grant type is not allowed for this client' });
    expect(await o.h.stack.registry.oAuthArtifact.count({ where: { model: 'ClientCredentials', clientId } })).toBe(1);

    await handle.executeUpdate(reportKeyCompromiseUpdate, { args: [{ reportedBy: approvers.rui, detail: 'workload compromised' }] });
    expect((await call()).status).toBe(403);
    expect(await request(await svid(spiffeId, o.issuer))).toMatchObject({ status: 401, error: 'invalid_client' });
  });
});
