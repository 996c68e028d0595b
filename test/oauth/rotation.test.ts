import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rotateAnchorUpdate } from '../../workflows/messages';
import { anchorActivities } from '../../activities/anchors';
import { clientAssertion, dpopProof, fetchToken } from '../../cli/token';
import { GATEWAY_TOKEN } from '../support/lifecycle';
import { tokenProfileOf } from '../../oauth/clients';
import { admitJwkPartner, anchorAssertion, createOAuthHarness, keyPair, type OAuthHarness } from '../support/oauth';
import { SignJWT, importJWK } from 'jose';
import { randomUUID } from 'node:crypto';

let o: OAuthHarness;
beforeAll(async () => {
  o = await createOAuthHarness();
});
afterAll(async () => o?.close());

async function decide(token: string, key: Parameters<typeof dpopProof>[0]) {
  const htu = 'https://accounts.api.test/opaque/accounts';
  const response = await fetch(`${o.issuer}/decisions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${GATEWAY_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      accessToken: token,
      dpop: { proof: await dpopProof(key, 'GET', htu, { accessToken: token }), htm: 'GET', htu },
      scope: 'accounts:read',
      environment: 'sandbox',
    }),
  });
  return (await response.json()) as { allow: boolean; reasons: { code: string }[] };
}

describe('key rotation', () => {
  it('during the overlap both anchors authenticate; once the old one is retired only the new one does', async () => {
    const partner = await admitJwkPartner(o.h);
    const input = { clientId: partner.clientId, issuer: o.issuer, tokenEndpoint: o.tokenEndpoint, scope: 'accounts:read' };
    const oldToken = await fetchToken(partner, input);

    const next = await keyPair('ES256');
    const attempt = await partner.handle.executeUpdate(rotateAnchorUpdate, {
      args: [
        { kind: 'jwk', jwks: { keys: [next.publicJwk] }, assertion: await anchorAssertion(partner.handle, partner.applicationId, next.privateJwk) },
      ],
    });
    expect(attempt.ok).toBe(true);

    // Overlap: both keys get tokens, and tokens of both keep passing /decisions.
    const byOld = await fetchToken(partner, input);
    const byNew = await fetchToken(next, input);
    expect(await decide(oldToken.access_token, partner)).toMatchObject({ allow: true });
    expect(await decide(byOld.access_token, partner)).toMatchObject({ allow: true });
    expect(await decide(byNew.access_token, next)).toMatchObject({ allow: true });
    // Each key still proves only its own tokens.
    expect(await decide(byNew.access_token, partner)).toMatchObject({ allow: false, reasons: [{ code: 'CONFIRMATION_MISMATCH' }] });

    // The overlap ends (the workflow's timer runs this activity).
    await anchorActivities(o.h.stack.registry, o.h.stack.trust).retireRotatedAnchors({
      applicationId: partner.applicationId,
      workflowId: partner.handle.workflowId,
    });
    await expect(fetchToken(partner, input)).rejects.toThrow(/^invalid_client/);
    expect(await decide(byOld.access_token, partner)).toMatchObject({ allow: false, reasons: [{ code: 'CONFIRMATION_MISMATCH' }] });
    expect(await decide((await fetchToken(next, input)).access_token, next)).toMatchObject({ allow: true });
  });
});

describe('FAPI 2.0 algorithms', () => {
  it('an RS256 anchor keeps working as a non-FAPI client; a PS256 (FAPI) client may not fall back to RS256', async () => {
    const legacy = await admitJwkPartner(o.h, 'RS256');
    const input = { clientId: legacy.clientId, issuer: o.issuer, tokenEndpoint: o.tokenEndpoint, scope: 'accounts:read' };
    expect((await fetchToken(legacy, input)).token_type).toBe('DPoP');

    const fapi = await admitJwkPartner(o.h, 'PS256');
    const now = Math.floor(Date.now() / 1000);
    const rs256 = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS256', kid: fapi.privateJwk.kid as string })
      .setIssuer(fapi.clientId)
      .setSubject(fapi.clientId)
      .setAudience(o.issuer)
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .setJti(randomUUID())
      .sign(await importJWK(fapi.privateJwk, 'RS256'));
    const form = (assertion: string) =>
      new URLSearchParams({
        grant_type: 'client_credentials',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: assertion,
        scope: 'accounts:read',
      }).toString();
    const refused = await fetch(o.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: await dpopProof(fapi, 'POST', o.tokenEndpoint) },
      body: form(rs256),
    });
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ error: 'invalid_client' });
    const accepted = await fetch(o.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: await dpopProof(fapi, 'POST', o.tokenEndpoint) },
      body: form(await clientAssertion(fapi, fapi.clientId, o.issuer)),
    });
    expect(accepted.status).toBe(200);

    // Their status says which profile their tokens are under.
    expect(await tokenProfileOf(o.h.stack.registry, legacy.applicationId)).toBe('non-fapi');
    expect(await tokenProfileOf(o.h.stack.registry, fapi.applicationId)).toBe('fapi2');
  });
});
