import { createHash } from 'node:crypto';
import { EmbeddedJWK, calculateJwkThumbprint, createLocalJWKSet, jwtVerify, type JWK, type JWTPayload } from 'jose';
import type Provider from 'oidc-provider';
import { DPOP_ALGS } from './provider';

/**
 * The resource-server side of Admit's tokens, for POST /decisions (and the
 * example API through it): is this access token live, and did the caller
 * prove possession of what it is bound to (RFC 8705 certificate thumbprint,
 * RFC 9449 DPoP proof)? Opaque tokens are looked up through the provider's
 * storage (which consults the registry, oauth/adapter.ts); JWT access tokens
 * (RFC 9068) are verified against the provider's signing key.
 */

export interface PresentedToken {
  accessToken: string;
  /** base64url SHA-256 of the DER certificate the client presented on its TLS connection. */
  certificateThumbprint?: string;
  /** The DPoP proof sent with the request, and the request's method and URL as the gateway saw them. */
  dpop?: { proof: string; htm: string; htu: string };
}

export type TokenCheck =
  | { ok: true; clientId: string; confirmation: { method: 'x5t#S256' | 'jkt'; value: string }; scopes: string[]; audience: string[] }
  | { ok: false; code: string; message: string };

/** How far a DPoP proof's iat may be from now (RFC 9449 §11.1 leaves it to the server). */
export const DPOP_MAX_SKEW_SECONDS = 60;

export interface TokenVerifier {
  check(presented: PresentedToken, now?: Date): Promise<TokenCheck>;
}

interface StoredToken {
  clientId: string;
  scope?: string;
  aud?: string | string[];
  jkt?: string;
  'x5t#S256'?: string;
  isValid: boolean;
}

interface ReplayDetection {
  unique(iss: string, jti: string, exp: number): Promise<boolean>;
}

function fail(code: string, message: string): TokenCheck {
  return { ok: false, code, message };
}

function normalisedUrl(value: string): string | undefined {
  try {
    const url = new URL(value);
    url.hash = '';
    url.search = '';
    return url.href;
  } catch {
    return undefined;
  }
}

export function tokenVerifier(provider: Provider, signingJwks: { keys: JWK[] }): TokenVerifier {
  const jwks = createLocalJWKSet({ keys: signingJwks.keys.map(({ d: _d, ...pub }) => pub) });
  const models = provider as unknown as {
    ClientCredentials: { find(value: string): Promise<StoredToken | undefined> };
    ReplayDetection: ReplayDetection;
  };

  async function proofOfPossession(
    token: string,
    cnf: { jkt?: string; 'x5t#S256'?: string },
    presented: PresentedToken,
    clientId: string,
    now: Date,
  ): Promise<TokenCheck | undefined> {
    if (cnf['x5t#S256'] !== undefined) {
      if (presented.certificateThumbprint !== cnf['x5t#S256'])
        return fail('CONFIRMATION_MISMATCH', 'the token is bound to another certificate than the one presented');
      return undefined;
    }
    if (cnf.jkt === undefined) return fail('TOKEN_NOT_SENDER_CONSTRAINED', 'Admit issues sender-constrained tokens only');
    const dpop = presented.dpop;
    if (dpop === undefined) return fail('DPOP_PROOF_MISSING', 'the token is DPoP-bound: send the request’s DPoP proof');
    let payload: JWTPayload;
    let jwk: JWK | undefined;
    try {
      const verified = await jwtVerify(dpop.proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: [...DPOP_ALGS] });
      payload = verified.payload;
      jwk = verified.protectedHeader.jwk;
    } catch {
      return fail('DPOP_PROOF_INVALID', 'the DPoP proof is not a valid dpop+jwt signed by the key in its header');
    }
    const seconds = Math.floor(now.getTime() / 1000);
    if (typeof payload.iat !== 'number' || Math.abs(seconds - payload.iat) > DPOP_MAX_SKEW_SECONDS)
      return fail('DPOP_PROOF_STALE', 'the DPoP proof is not fresh');
    if (payload.htm !== dpop.htm) return fail('DPOP_PROOF_MISMATCH', 'the DPoP proof was made for another HTTP method');
    const htu = typeof payload.htu === 'string' ? normalisedUrl(payload.htu) : undefined;
    if (htu === undefined || htu !== normalisedUrl(dpop.htu)) return fail('DPOP_PROOF_MISMATCH', 'the DPoP proof was made for another URL');
    if (payload.ath !== createHash('sha256').update(token).digest('base64url'))
      return fail('DPOP_PROOF_MISMATCH', 'the DPoP proof was made for another access token');
    if (jwk === undefined || (await calculateJwkThumbprint(jwk)) !== cnf.jkt)
      return fail('CONFIRMATION_MISMATCH', 'the DPoP proof is signed by another key than the token is bound to');
    if (typeof payload.jti !== 'string' || payload.jti === '') return fail('DPOP_PROOF_INVALID', 'the DPoP proof has no jti');
    if (!(await models.ReplayDetection.unique(`rs:${clientId}`, payload.jti, seconds + DPOP_MAX_SKEW_SECONDS * 2))) {
      return fail('DPOP_PROOF_REPLAYED', 'this DPoP proof was already used');
    }
    return undefined;
  }

  return {
    async check(presented, now = new Date()) {
      const token = presented.accessToken;
      let clientId: string;
      let cnf: { jkt?: string; 'x5t#S256'?: string };
      let scopes: string[];
      let audience: string[];
      if (token.split('.').length === 3) {
        let payload: JWTPayload;
        try {
          ({ payload } = await jwtVerify(token, jwks, { issuer: provider.issuer, typ: 'at+jwt', currentDate: now }));
        } catch {
          return fail('TOKEN_INVALID', 'the access token is not a valid, unexpired JWT access token from this issuer');
        }
        if (typeof payload.client_id !== 'string') return fail('TOKEN_INVALID', 'the access token names no client');
        clientId = payload.client_id;
        cnf = (payload.cnf ?? {}) as typeof cnf;
        scopes = typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [];
        audience = [payload.aud ?? []].flat();
      } else {
        if (token.length === 0 || token.length > 512) return fail('TOKEN_INVALID', 'the access token is malformed');
        const stored = await models.ClientCredentials.find(token);
        // Absent when unknown, expired, revoked, or its client's credential or application is no longer live.
        if (stored === undefined || !stored.isValid) return fail('TOKEN_INACTIVE', 'the access token is not active');
        clientId = stored.clientId;
        cnf = {
          ...(stored.jkt === undefined ? {} : { jkt: stored.jkt }),
          ...(stored['x5t#S256'] === undefined ? {} : { 'x5t#S256': stored['x5t#S256'] }),
        };
        scopes = (stored.scope ?? '').split(' ').filter(Boolean);
        audience = [stored.aud ?? []].flat();
      }
      const refused = await proofOfPossession(token, cnf, presented, clientId, now);
      if (refused !== undefined) return refused;
      const confirmation =
        cnf['x5t#S256'] !== undefined
          ? { method: 'x5t#S256' as const, value: cnf['x5t#S256'] }
          : { method: 'jkt' as const, value: cnf.jkt as string };
      return { ok: true, clientId, confirmation, scopes, audience };
    },
  };
}
