// The trust-anchor verifier: one entry point per anchor kind behind a single dispatch.
import { verifyAssertion } from './assertion';
import type { AssertionInput } from './assertion';
import { reason } from './reasons';
import { refuse } from './result';
import type { VerificationResult } from './result';
import { AnchorFetchError } from './safe-fetch';
import type { SafeFetcher } from './safe-fetch';
import { verifyOidc } from './oidc';
import type { OidcInput } from './oidc';
import { verifySpiffe } from './spiffe';
import type { SpiffeInput } from './spiffe';
import { verifyX509 } from './x509';
import type { X509Input } from './x509';

export type JwkInput = Omit<AssertionInput, 'keys'> & ({ keys: unknown } | { jwksUrl: string; fetcher: SafeFetcher });

export type AnchorInput =
  ({ kind: 'x509' } & X509Input) | ({ kind: 'jwk' } & JwkInput) | ({ kind: 'spiffe' } & SpiffeInput) | ({ kind: 'oidc' } & OidcInput);

/**
 * Verifies a trust anchor. A refusal is a result (`ok: false` with reasons); infrastructure faults throw
 * AnchorFetchError (see `retryable`) and operator mistakes throw AnchorConfigError.
 */
export async function verifyAnchor(input: AnchorInput): Promise<VerificationResult> {
  switch (input.kind) {
    case 'x509':
      return verifyX509(input);
    case 'jwk':
      return verifyJwk(input);
    case 'spiffe':
      return verifySpiffe(input);
    case 'oidc':
      return verifyOidc(input);
  }
}

async function verifyJwk(input: JwkInput): Promise<VerificationResult> {
  if ('keys' in input) return verifyAssertion(input);
  let keys: unknown;
  try {
    const { body } = await input.fetcher.fetch(input.jwksUrl, { accept: 'application/json' });
    keys = JSON.parse(body.toString('utf8'));
  } catch (err) {
    if (err instanceof SyntaxError) return refuse('jwk', [reason('JWKS_INVALID', 'the JWKS at the URL is not JSON')]);
    if (err instanceof AnchorFetchError && !err.retryable) return refuse('jwk', [reason(err.code, err.message)]);
    throw err;
  }
  return verifyAssertion({ ...input, keys });
}

export { REASONS, reason } from './reasons';
export type { Reason, ReasonCode } from './reasons';
export { AnchorConfigError } from './result';
export type { AnchorKind, VerificationResult } from './result';
export { AnchorFetchError, createSafeFetcher, isForbiddenAddress } from './safe-fetch';
export { createDnsResolver, DnsLookupError, parseResolverAddress } from './dns-resolver';
export type { DnsResolver, ResolvedAddress } from './dns-resolver';
export type { SafeFetcher, SafeFetcherOptions } from './safe-fetch';
export { InMemoryReplayStore, issueChallenge, parseChallenge } from './challenge';
export type { Challenge, ReplayStore } from './challenge';
export { certificateFingerprint, keyFingerprint, normalizeFingerprint } from './fingerprint';
export { ALLOWED_ALGORITHMS } from './jwk';
export { parseSpiffeId, parseTrustBundle } from './spiffe';
export type { TrustBundle } from './spiffe';
export { verifyAssertion, verifyOidc, verifySpiffe, verifyX509 };
