// Control of the organisation's primary domain, proven ACME-style (RFC 8555 §8.3 and §8.4):
// Admit issues a token; the partner publishes either a TXT record at `_admit-challenge.<domain>`
// holding the digest of the key authorization, or the key authorization itself at
// `https://<domain>/.well-known/admit-challenge/<token>`.
import { createHash, createHmac } from 'node:crypto';
import { AnchorFetchError, type SafeFetcher } from '../anchors';
import type { DnsResolver } from '../anchors/dns-resolver';
import { DnsLookupError } from '../anchors/dns-resolver';

export const TXT_LABEL = '_admit-challenge';
export const WELL_KNOWN_PATH = '/.well-known/admit-challenge/';

export interface DomainChallenge {
  /** 43 base64url characters (256 bits). */
  token: string;
  /** `<token>.<binding>`: what the https method serves (RFC 8555 §8.1's key authorization, bound to this application instead of an account key). */
  keyAuthorization: string;
  txtName: string;
  /** base64url(SHA-256(keyAuthorization)), as RFC 8555 §8.4 puts in the TXT record. */
  txtValue: string;
  httpUrl: string;
}

const b64url = (bytes: Buffer): string => bytes.toString('base64url');

/**
 * The challenge of one application for one domain. The token is an HMAC under Admit's secret of
 * the workflow, the domain and the round, so every retry of the issuing activity gets the same
 * token and only its hash needs storing; a new round (after expiry) gets a new one.
 */
export function domainChallenge(secret: Uint8Array, input: { workflowId: string; domain: string; round: number }): DomainChallenge {
  const token = b64url(createHmac('sha256', secret).update(`admit-domain-challenge\n${input.workflowId}\n${input.domain}\n${input.round}`).digest());
  const binding = b64url(createHash('sha256').update(`admit-domain-binding\n${input.workflowId}\n${input.domain}`).digest());
  const keyAuthorization = `${token}.${binding}`;
  return {
    token,
    keyAuthorization,
    txtName: `${TXT_LABEL}.${input.domain}`,
    txtValue: b64url(createHash('sha256').update(keyAuthorization).digest()),
    httpUrl: `https://${input.domain}${WELL_KNOWN_PATH}${token}`,
  };
}

export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export type DomainControlMethod = 'dns-txt' | 'https-well-known';

export interface DomainCheckReason {
  code: string;
  method: DomainControlMethod;
  message: string;
}

export interface DomainControlResult {
  verified: boolean;
  method: DomainControlMethod | null;
  reasons: DomainCheckReason[];
}

export interface DomainControlOptions {
  resolver: DnsResolver;
  /** The SSRF-safe fetcher for partner URLs (its address lookups use the same resolver). */
  fetcher: SafeFetcher;
  /** The https port of the well-known URL: 443; tests serve on another. */
  httpsPort?: number;
}

/**
 * The TXT method: every TXT record at `_admit-challenge.<domain>` is read; a record of several
 * character-strings is their concatenation without separators (as RFC 7208 §3.3 does for SPF);
 * it proves control when some record equals the issued value exactly (case-sensitive, no
 * trimming). Other records there (older rounds, other tools) are ignored.
 */
export async function checkTxtChallenge(
  resolver: DnsResolver,
  challenge: Pick<DomainChallenge, 'txtName' | 'txtValue'>,
): Promise<DomainControlResult> {
  let records: string[][];
  try {
    records = await resolver.resolveTxt(challenge.txtName);
  } catch (error) {
    const code = error instanceof DnsLookupError ? error.code : 'EUNKNOWN';
    return {
      verified: false,
      method: null,
      reasons: [{ code: 'DNS_LOOKUP_FAILED', method: 'dns-txt', message: `The TXT lookup of ${challenge.txtName} failed (${code}).` }],
    };
  }
  const values = records.map((strings) => strings.join(''));
  if (values.includes(challenge.txtValue)) {
    return {
      verified: true,
      method: 'dns-txt',
      reasons: [{ code: 'DNS_TXT_MATCH', method: 'dns-txt', message: `${challenge.txtName} holds the issued value.` }],
    };
  }
  return {
    verified: false,
    method: null,
    reasons: [
      {
        code: values.length === 0 ? 'DNS_TXT_MISSING' : 'DNS_TXT_MISMATCH',
        method: 'dns-txt',
        message:
          values.length === 0
            ? `${challenge.txtName} has no TXT record.`
            : `None of the ${values.length} TXT record(s) at ${challenge.txtName} holds the issued value.`,
      },
    ],
  };
}

/**
 * The https method: the well-known URL is fetched through the SSRF-safe fetcher (https, a
 * publicly routable address, no redirects, 4 KiB at most) and its body, with trailing white
 * space ignored (RFC 8555 §8.3), must equal the key authorization.
 */
export async function checkHttpsChallenge(
  fetcher: SafeFetcher,
  challenge: Pick<DomainChallenge, 'httpUrl' | 'keyAuthorization'>,
  httpsPort = 443,
): Promise<DomainControlResult> {
  const url = new URL(challenge.httpUrl);
  if (httpsPort !== 443) url.port = String(httpsPort);
  try {
    const { body } = await fetcher.fetch(url.href, { cache: false, accept: 'text/plain' });
    if (body.length <= 4096 && body.toString('utf8').replace(/[\s]+$/, '') === challenge.keyAuthorization) {
      return {
        verified: true,
        method: 'https-well-known',
        reasons: [{ code: 'HTTPS_MATCH', method: 'https-well-known', message: `${challenge.httpUrl} serves the key authorization.` }],
      };
    }
    return {
      verified: false,
      method: null,
      reasons: [{ code: 'HTTPS_MISMATCH', method: 'https-well-known', message: `${challenge.httpUrl} does not serve the key authorization.` }],
    };
  } catch (error) {
    if (!(error instanceof AnchorFetchError)) throw error;
    return {
      verified: false,
      method: null,
      reasons: [
        {
          code: error.code === 'URL_FORBIDDEN' ? 'HTTPS_FORBIDDEN' : 'HTTPS_UNREACHABLE',
          method: 'https-well-known',
          message: `${challenge.httpUrl}: ${error.message}`,
        },
      ],
    };
  }
}

/** DNS first, then https; verified when either proves control. Every attempt's reason is kept as evidence. */
export async function checkDomainControl(options: DomainControlOptions, challenge: DomainChallenge): Promise<DomainControlResult> {
  const dns = await checkTxtChallenge(options.resolver, challenge);
  if (dns.verified) return dns;
  const https = await checkHttpsChallenge(options.fetcher, challenge, options.httpsPort);
  return { verified: https.verified, method: https.method, reasons: [...dns.reasons, ...https.reasons] };
}
