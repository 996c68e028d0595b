import { createHash, randomUUID } from 'node:crypto';
import { SignJWT, importJWK, type JWK } from 'jose';

/**
 * The partner's side of Admit's authorization server for key anchors: a
 * private_key_jwt client assertion (RFC 7523, aud = the issuer as in
 * RFC 7523bis) and DPoP proofs (RFC 9449) signed with the anchor's private
 * key. Used by `npx admit token`, the tests and the example client.
 */

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export interface PartnerKey {
  /** The anchor's private JWK (with `alg`, or one is chosen from the key type). */
  privateJwk: JWK;
}

export function algFor(jwk: JWK): string {
  if (typeof jwk.alg === 'string') return jwk.alg;
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'ES256';
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA';
  if (jwk.kty === 'RSA') return 'PS256';
  throw new Error(`no signing algorithm for a ${jwk.kty ?? 'typeless'} key; set "alg" in the JWK`);
}

export function publicJwkOf(jwk: JWK): JWK {
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub } = jwk;
  return { ...pub };
}

export async function clientAssertion(
  key: PartnerKey,
  clientId: string,
  issuer: string,
  options: { lifetimeSeconds?: number; jti?: string; now?: number } = {},
): Promise<string> {
  const alg = algFor(key.privateJwk);
  const now = options.now ?? Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg, ...(key.privateJwk.kid === undefined ? {} : { kid: key.privateJwk.kid }) })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(issuer)
    .setIssuedAt(now)
    .setExpirationTime(now + (options.lifetimeSeconds ?? 60))
    .setJti(options.jti ?? randomUUID())
    .sign(await importJWK(key.privateJwk, alg));
}

export async function dpopProof(
  key: PartnerKey,
  htm: string,
  htu: string,
  options: { accessToken?: string; jti?: string; iat?: number } = {},
): Promise<string> {
  const alg = algFor(key.privateJwk);
  return new SignJWT({
    htm,
    htu,
    ...(options.accessToken === undefined ? {} : { ath: createHash('sha256').update(options.accessToken).digest('base64url') }),
  })
    .setProtectedHeader({ typ: 'dpop+jwt', alg, jwk: publicJwkOf(key.privateJwk) })
    .setIssuedAt(options.iat ?? Math.floor(Date.now() / 1000))
    .setJti(options.jti ?? randomUUID())
    .sign(await importJWK(key.privateJwk, alg));
}

export interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope?: string;
}

/** The form body and headers of a client_credentials request by private_key_jwt + DPoP. */
export async function tokenRequest(
  key: PartnerKey,
  input: { clientId: string; issuer: string; tokenEndpoint: string; scope?: string; resource?: string },
): Promise<{ body: string; headers: Record<string, string> }> {
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_assertion_type: CLIENT_ASSERTION_TYPE,
    client_assertion: await clientAssertion(key, input.clientId, input.issuer),
  });
  if (input.scope !== undefined) form.set('scope', input.scope);
  if (input.resource !== undefined) form.set('resource', input.resource);
  return {
    body: form.toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: await dpopProof(key, 'POST', input.tokenEndpoint) },
  };
}

/** Obtains a DPoP-bound access token; throws with the OAuth error when refused. */
export async function fetchToken(
  key: PartnerKey,
  input: { clientId: string; issuer: string; tokenEndpoint: string; scope?: string; resource?: string },
): Promise<TokenResponse> {
  const request = await tokenRequest(key, input);
  const response = await fetch(input.tokenEndpoint, { method: 'POST', headers: request.headers, body: request.body });
  const json = (await response.json()) as TokenResponse & { error?: string; error_description?: string };
  if (!response.ok) throw new Error(`${json.error ?? response.status}: ${json.error_description ?? ''}`);
  return json;
}
