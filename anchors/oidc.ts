// OIDC workload identity federation: a token from the partner's identity provider, keys from the
// provider's JWKS (found by discovery), exact issuer, subject and audience.
import type { JWK } from 'jose';
import { verifyJwt } from './assertion';
import { jwkProblem } from './jwk';
import type { KeySet } from './jwk';
import { reason } from './reasons';
import type { Reason } from './reasons';
import { refuse } from './result';
import type { VerificationResult } from './result';
import { AnchorFetchError } from './safe-fetch';
import type { SafeFetcher } from './safe-fetch';

export interface OidcInput {
  token: string;
  /** The registered issuer, compared exactly (no trailing-slash or case folding). */
  issuer: string;
  /** The registered workload subject. */
  subject: string;
  audience: string;
  /** Keys given directly (offline); otherwise discovery through `fetcher`. */
  jwks?: unknown;
  fetcher?: SafeFetcher;
  now?: Date;
}

export async function verifyOidc(input: OidcInput): Promise<VerificationResult> {
  const fingerprint = `oidc:${input.issuer}#${input.subject}`;
  let keys: KeySet | Reason;
  try {
    keys = input.jwks !== undefined ? await usableKeys(input.jwks) : await discoverKeys(input.issuer, input.fetcher);
  } catch (err) {
    if (err instanceof AnchorFetchError && !err.retryable) return refuse('oidc', [reason(err.code, err.message)], { fingerprint });
    throw err;
  }
  if ('code' in keys) return refuse('oidc', [keys], { fingerprint });

  const verified = await verifyJwt({
    token: input.token,
    keys,
    audience: input.audience,
    issuer: input.issuer,
    subject: input.subject,
    now: input.now ?? new Date(),
    requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat'],
  });
  if ('code' in verified) {
    const mapped = verified.code === 'JWT_SUBJECT_MISMATCH' ? reason('OIDC_SUBJECT_MISMATCH') : verified;
    return refuse('oidc', [mapped], { fingerprint });
  }
  return {
    ok: true,
    kind: 'oidc',
    fingerprint,
    subject: input.subject,
    notAfter: new Date(verified.payload.exp! * 1000).toISOString(),
    reasons: [],
    details: { kid: verified.signed.jwk.kid, alg: verified.signed.alg },
  };
}

/** An identity provider's JWKS may hold keys for other uses; only the acceptable signing keys are kept. */
async function usableKeys(jwks: unknown): Promise<KeySet | Reason> {
  const list = jwks && typeof jwks === 'object' && Array.isArray((jwks as { keys?: unknown }).keys) ? (jwks as { keys: unknown[] }).keys : undefined;
  if (!list) return reason('JWKS_INVALID', 'no keys array');
  const keys: JWK[] = [];
  for (const key of list.slice(0, 100)) if (!(await jwkProblem(key))) keys.push(key as JWK);
  if (keys.length === 0) return reason('JWKS_INVALID', 'no acceptable signing key');
  return { keys };
}

function json(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

async function discoverKeys(issuer: string, fetcher: SafeFetcher | undefined): Promise<KeySet | Reason> {
  if (!fetcher) return reason('OIDC_DISCOVERY_INVALID', 'discovery is disabled and no JWKS was given');
  const discoveryUrl = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  const doc = json((await fetcher.fetch(discoveryUrl, { accept: 'application/json' })).body) as { issuer?: unknown; jwks_uri?: unknown } | undefined;
  if (!doc || typeof doc !== 'object') return reason('OIDC_DISCOVERY_INVALID', 'not a JSON object');
  if (doc.issuer !== issuer) return reason('OIDC_DISCOVERY_INVALID', `the document names issuer ${JSON.stringify(doc.issuer)}`);
  if (typeof doc.jwks_uri !== 'string') return reason('OIDC_DISCOVERY_INVALID', 'no jwks_uri');
  const jwks = json((await fetcher.fetch(doc.jwks_uri, { accept: 'application/json' })).body);
  return usableKeys(jwks);
}
