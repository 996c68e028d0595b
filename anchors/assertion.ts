// Signed assertions (RFC 7523 style proof of possession): a compact JWS over Admit's challenge,
// verified by jose against keys the partner registered, never against keys the token brings along.
import { timingSafeEqual } from 'node:crypto';
import { compactVerify, decodeProtectedHeader, errors, jwtVerify } from 'jose';
import { importKey } from './key-cache';
import type { JWK, JWTPayload, ProtectedHeaderParameters } from 'jose';
import type { Challenge, ReplayStore } from './challenge';
import { keyFingerprint } from './fingerprint';
import { ALLOWED_ALGORITHMS, algorithmFits, isAllowedAlgorithm, parseKeySet } from './jwk';
import type { AllowedAlgorithm, KeySet } from './jwk';
import { reason } from './reasons';
import type { Reason } from './reasons';
import { refuse } from './result';
import type { VerificationResult } from './result';

export const MAX_TOKEN_BYTES = 16 * 1024;
export const MAX_ASSERTION_LIFETIME_SECONDS = 600;
export const CLOCK_SKEW_SECONDS = 30;

const EMBEDDED_KEY_HEADERS = ['jwk', 'jku', 'x5u', 'x5c'] as const;
// The signature may be empty so that alg "none" tokens reach the alg check and get its precise reason.
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/;

export interface SignedToken {
  header: ProtectedHeaderParameters;
  alg: AllowedAlgorithm;
  jwk: JWK;
}

function isReason(value: unknown): value is Reason {
  return !!value && typeof value === 'object' && 'code' in value && 'message' in value;
}

/**
 * The header and key-selection rules shared by every JWT Admit verifies: allow-listed alg, no
 * embedded keys or URLs, no crit, and a kid that picks exactly one registered key that fits the alg.
 */
export function selectKey(token: unknown, keys: KeySet, algorithms: readonly AllowedAlgorithm[] = ALLOWED_ALGORITHMS): SignedToken | Reason {
  if (typeof token === 'string' && token.length > MAX_TOKEN_BYTES) return reason('INPUT_TOO_LARGE', `a token of more than ${MAX_TOKEN_BYTES} bytes`);
  if (typeof token !== 'string' || !COMPACT_JWS.test(token)) return reason('JWT_MALFORMED');
  let header: ProtectedHeaderParameters;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    return reason('JWT_MALFORMED', 'the protected header is not base64url JSON');
  }
  const alg = header.alg;
  if (!isAllowedAlgorithm(alg) || !algorithms.includes(alg)) return reason('JWT_ALG_NOT_ALLOWED', `alg ${JSON.stringify(alg ?? null)}`);
  const embedded = EMBEDDED_KEY_HEADERS.filter((h) => h in header);
  if (embedded.length > 0) return reason('JWT_EMBEDDED_KEY_REFUSED', embedded.join(', '));
  if ('crit' in header || 'b64' in header) return reason('JWT_CRIT_UNSUPPORTED');

  const kid = header.kid;
  const named = kid === undefined ? keys.keys : keys.keys.filter((k) => k.kid === kid);
  if (named.length === 0) return reason('JWT_KID_UNKNOWN', kid === undefined ? undefined : `kid "${kid}"`);
  const fitting = named.filter((k) => algorithmFits(k, alg));
  if (fitting.length === 0) return reason('JWT_ALG_NOT_ALLOWED', `alg ${alg} does not fit the registered ${named[0]!.kty} key`);
  if (fitting.length > 1) return reason('JWT_KID_UNKNOWN', 'several registered keys fit; set kid');
  return { header, alg, jwk: fitting[0]! };
}

function joseReason(err: unknown): Reason {
  if (err instanceof errors.JWSSignatureVerificationFailed) return reason('JWT_SIGNATURE_INVALID');
  if (err instanceof errors.JWTExpired) return reason('JWT_EXPIRED');
  if (err instanceof errors.JOSEAlgNotAllowed) return reason('JWT_ALG_NOT_ALLOWED');
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.reason === 'missing') return reason('JWT_CLAIM_MISSING', err.claim);
    switch (err.claim) {
      case 'aud':
        return reason('JWT_AUDIENCE_MISMATCH');
      case 'iss':
        return reason('JWT_ISSUER_MISMATCH');
      case 'sub':
        return reason('JWT_SUBJECT_MISMATCH');
      case 'nbf':
      case 'iat':
        return reason('JWT_NOT_YET_VALID');
      default:
        return reason('JWT_MALFORMED', `claim ${err.claim}: ${err.message}`);
    }
  }
  if (err instanceof errors.JOSEError) return reason('JWT_MALFORMED', err.code);
  throw err;
}

/** Signature check only (header rules plus jose), for tokens whose payload is not a claims set. */
export async function verifyJwsSignature(token: unknown, keys: KeySet): Promise<{ payload: Uint8Array; signed: SignedToken } | Reason> {
  const signed = selectKey(token, keys);
  if (isReason(signed)) return signed;
  try {
    const key = await importKey(signed.jwk, signed.alg);
    const { payload } = await compactVerify(token as string, key, { algorithms: [signed.alg] });
    return { payload, signed };
  } catch (err) {
    return joseReason(err);
  }
}

export interface JwtCheck {
  token: string;
  keys: KeySet;
  audience: string;
  issuer?: string;
  subject?: string;
  now: Date;
  requiredClaims: string[];
  algorithms?: readonly AllowedAlgorithm[];
}

/** Signature and registered claims through jose's jwtVerify; the caller adds its own claim rules. */
export async function verifyJwt(check: JwtCheck): Promise<{ payload: JWTPayload; signed: SignedToken } | Reason> {
  const signed = selectKey(check.token, check.keys, check.algorithms);
  if (isReason(signed)) return signed;
  try {
    const key = await importKey(signed.jwk, signed.alg);
    const { payload } = await jwtVerify(check.token, key, {
      algorithms: [signed.alg],
      audience: check.audience,
      ...(check.issuer !== undefined ? { issuer: check.issuer } : {}),
      ...(check.subject !== undefined ? { subject: check.subject } : {}),
      currentDate: check.now,
      clockTolerance: CLOCK_SKEW_SECONDS,
      requiredClaims: check.requiredClaims,
    });
    if (typeof payload.iat === 'number' && payload.iat > check.now.getTime() / 1000 + CLOCK_SKEW_SECONDS)
      return reason('JWT_NOT_YET_VALID', 'iat is in the future');
    return { payload, signed };
  } catch (err) {
    return joseReason(err);
  }
}

export interface AssertionInput {
  token: string;
  /** The partner's registered key: a JWK or a JWKS object. */
  keys: unknown;
  challenge: Challenge;
  /** Admit's own audience; must equal the challenge's. */
  audience: string;
  /** The partner's registered client id (iss = sub); when absent any iss = sub is accepted and reported. */
  clientId?: string;
  replayStore: ReplayStore;
  now?: Date;
}

export async function verifyAssertion(input: AssertionInput): Promise<VerificationResult> {
  const now = input.now ?? new Date();
  const keys = await parseKeySet(input.keys);
  if (isReason(keys)) return refuse('jwk', [keys]);
  if (input.challenge.audience !== input.audience)
    return refuse('jwk', [reason('JWT_AUDIENCE_MISMATCH', 'the challenge was issued for another audience')]);
  if (Date.parse(input.challenge.expiresAt) < now.getTime()) return refuse('jwk', [reason('JWT_CHALLENGE_EXPIRED')]);

  const verified = await verifyJwt({
    token: input.token,
    keys,
    audience: input.audience,
    ...(input.clientId !== undefined ? { issuer: input.clientId, subject: input.clientId } : {}),
    now,
    requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'nonce'],
  });
  if (isReason(verified)) return refuse('jwk', [verified]);
  const { payload, signed } = verified;
  const reasons: Reason[] = [];

  if (payload.iss !== payload.sub) reasons.push(reason('JWT_SUBJECT_MISMATCH', 'sub must equal iss (the client id)'));
  const exp = payload.exp!;
  const nowSeconds = now.getTime() / 1000;
  if (exp - nowSeconds > MAX_ASSERTION_LIFETIME_SECONDS + CLOCK_SKEW_SECONDS || exp - payload.iat! > MAX_ASSERTION_LIFETIME_SECONDS) {
    reasons.push(reason('JWT_LIFETIME_TOO_LONG'));
  }
  if (typeof payload.nonce !== 'string' || !sameText(payload.nonce, input.challenge.nonce)) reasons.push(reason('JWT_NONCE_MISMATCH'));
  if (typeof payload.jti !== 'string' || payload.jti.length === 0 || payload.jti.length > 256)
    reasons.push(reason('JWT_CLAIM_MISSING', 'jti must be a non-empty string'));
  const fingerprint = await keyFingerprint(signed.jwk);
  const subject = typeof payload.iss === 'string' ? payload.iss : undefined;
  const described = { fingerprint, keyFingerprint: fingerprint, ...(subject ? { subject } : {}) };
  if (reasons.length > 0) return refuse('jwk', reasons, described);

  // Claimed last, so a refused token does not use up its jti.
  if (!(await input.replayStore.claim(payload.jti!, new Date(exp * 1000)))) return refuse('jwk', [reason('JWT_REPLAYED')], described);
  return { ok: true, kind: 'jwk', ...described, reasons: [], details: { kid: signed.jwk.kid, alg: signed.alg } };
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
