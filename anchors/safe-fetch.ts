// Fetching partner-supplied URLs (JWKS, CRL, OCSP, OIDC discovery) without letting a partner point
// Admit at its own network. The name is resolved once, every resolved address is checked, and the
// connection goes to that checked address, so a DNS answer cannot change between check and use.
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { createDnsResolver, DnsLookupError, type DnsResolver } from './dns-resolver';
import type { ReasonCode } from './reasons';

/** An infrastructure fault while fetching: `retryable` tells a Temporal activity whether to try again. */
export class AnchorFetchError extends Error {
  constructor(
    readonly code: ReasonCode,
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'AnchorFetchError';
  }
}

export interface FetchOptions {
  /** CRLs and OCSP responses are signed and conventionally served over http (RFC 5280, RFC 6960). */
  allowHttp?: boolean;
  method?: 'GET' | 'POST';
  body?: Uint8Array;
  contentType?: string;
  accept?: string;
  cache?: boolean;
  /** Non-2xx statuses that are answers rather than failures (GLEIF's 404 for an unknown LEI); their bodies are returned. */
  answerStatuses?: number[];
}

export interface FetchResult {
  body: Buffer;
  contentType?: string;
  /** The HTTP status (2xx, or one of `answerStatuses`). */
  status?: number;
}

export interface SafeFetcher {
  fetch(url: string, options?: FetchOptions): Promise<FetchResult>;
}

export interface SafeFetcherOptions {
  /** host:port entries exempt from the address rules and allowed over http (tests use their local servers). */
  allow?: string[];
  maxBytes?: number;
  timeoutMs?: number;
  cacheTtlMs?: number;
  /** Extra CA certificates (PEM) for https, e.g. a test server's. */
  ca?: string[];
  /** The DNS resolver whose answers are checked and connected to (ADMIT_DNS_RESOLVER); the system's resolvers by default. */
  resolver?: DnsResolver;
  /** Overrides `resolver` for address lookups (tests of the address rules). */
  resolve?: (host: string) => Promise<{ address: string; family: number }[]>;
}

// Address classes come from ipaddr.js (a maintained list of the IANA special-purpose registries), not from
// hand-written ranges. Only globally routable unicast is fetched; addresses that embed an IPv4 address
// (6to4, the NAT64 well-known prefix) are judged by the IPv4 address they lead to.
const IPV4_COMPATIBLE = ipaddr.parseCIDR('::/96');
const NAT64_WELL_KNOWN = ipaddr.parseCIDR('64:ff9b::/96');
const NAT64_LOCAL_USE = ipaddr.parseCIDR('64:ff9b:1::/48');
const SIX_TO_FOUR = ipaddr.parseCIDR('2002::/16');

function ipv4Allowed(address: ipaddr.IPv4): boolean {
  return address.range() === 'unicast';
}

/**
 * Loopback, private, link-local (cloud metadata lives at 169.254.169.254), CGNAT, documentation,
 * benchmarking, multicast, reserved, IPv4-mapped and -compatible, Teredo, unique-local; NAT64 and
 * 6to4 addresses whose embedded IPv4 address is one of those; NAT64 local-use prefixes (RFC 8215,
 * which lead into the operator's own network) altogether; and anything that is not an address.
 */
export function isForbiddenAddress(address: string): boolean {
  if (isIP(address) === 0) return true;
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.parse(address);
  } catch {
    return true;
  }
  if (parsed.kind() === 'ipv4') return !ipv4Allowed(parsed as ipaddr.IPv4);
  const v6 = parsed as ipaddr.IPv6;
  // ::/96 holds ::, ::1 and the deprecated IPv4-compatible addresses (RFC 4291 §2.5.5.1), which ipaddr.js calls unicast.
  if (v6.match(IPV4_COMPATIBLE)) return true;
  if (v6.match(NAT64_LOCAL_USE)) return true;
  const bytes = v6.toByteArray();
  if (v6.match(NAT64_WELL_KNOWN)) return !ipv4Allowed(new ipaddr.IPv4(bytes.slice(12, 16)));
  if (v6.match(SIX_TO_FOUR)) return !ipv4Allowed(new ipaddr.IPv4(bytes.slice(2, 6)));
  return v6.range() !== 'unicast';
}

export function createSafeFetcher(options: SafeFetcherOptions = {}): SafeFetcher {
  const allow = new Set((options.allow ?? []).map((e) => e.toLowerCase()));
  const maxBytes = options.maxBytes ?? 1024 * 1024;
  const timeoutMs = options.timeoutMs ?? 5000;
  const ttl = options.cacheTtlMs ?? 5 * 60_000;
  let resolver = options.resolver;
  const resolve = options.resolve ?? ((host: string) => (resolver ??= createDnsResolver()).lookup(host));
  const cache = new Map<string, { expires: number; result: FetchResult }>();

  return {
    async fetch(raw, opts = {}) {
      const url = checkUrl(raw, opts, allow);
      const cacheable = (opts.method ?? 'GET') === 'GET' && opts.cache !== false;
      const hit = cacheable ? cache.get(url.href) : undefined;
      if (hit && hit.expires > Date.now()) return hit.result;

      const host = url.hostname.replace(/^\[|\]$/g, '');
      const allowed = allow.has(`${host.toLowerCase()}:${portOf(url)}`);
      const address = await resolveChecked(host, allowed, resolve);
      const result = await request(url, address, opts, { maxBytes, timeoutMs, ca: options.ca });
      if (cacheable) {
        if (cache.size >= 256) cache.delete(cache.keys().next().value!);
        cache.set(url.href, { expires: Date.now() + ttl, result });
      }
      return result;
    },
  };
}

function portOf(url: URL): string {
  return url.port || (url.protocol === 'https:' ? '443' : '80');
}

function checkUrl(raw: string, opts: FetchOptions, allow: Set<string>): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AnchorFetchError('URL_FORBIDDEN', `not a URL: ${raw.slice(0, 100)}`, false);
  }
  if (url.username || url.password) throw new AnchorFetchError('URL_FORBIDDEN', 'URLs with credentials are refused', false);
  const key = `${url.hostname.replace(/^\[|\]$/g, '').toLowerCase()}:${portOf(url)}`;
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && (opts.allowHttp || allow.has(key))) return url;
  throw new AnchorFetchError('URL_FORBIDDEN', `only https URLs are fetched (${url.protocol})`, false);
}

async function resolveChecked(
  host: string,
  allowed: boolean,
  resolve: (host: string) => Promise<{ address: string; family: number }[]>,
): Promise<string> {
  let addresses: { address: string }[];
  if (isIP(host)) addresses = [{ address: host }];
  else {
    try {
      addresses = await resolve(host);
    } catch (err) {
      const code = err instanceof DnsLookupError ? err.code : (err as NodeJS.ErrnoException).code;
      throw new AnchorFetchError('URL_FETCH_FAILED', `cannot resolve ${host}`, code !== 'ENOTFOUND');
    }
  }
  if (addresses.length === 0) throw new AnchorFetchError('URL_FETCH_FAILED', `cannot resolve ${host}`, true);
  // Every answer must be acceptable: otherwise a name with one public and one internal address would let the client pick.
  if (!allowed && addresses.some((a) => isForbiddenAddress(a.address))) {
    throw new AnchorFetchError('URL_FORBIDDEN', `${host} resolves to a loopback, private, link-local or reserved address`, false);
  }
  return addresses[0]!.address;
}

function request(
  url: URL,
  address: string,
  opts: FetchOptions,
  limits: { maxBytes: number; timeoutMs: number; ca: string[] | undefined },
): Promise<FetchResult> {
  return new Promise((resolvePromise, reject) => {
    const fail = (err: AnchorFetchError) => {
      req.destroy();
      reject(err);
    };
    const hostname = url.hostname.replace(/^\[|\]$/g, '');
    const common = {
      method: opts.method ?? 'GET',
      path: `${url.pathname}${url.search}`,
      port: portOf(url),
      headers: {
        host: url.host,
        accept: opts.accept ?? '*/*',
        ...(opts.contentType ? { 'content-type': opts.contentType } : {}),
        ...(opts.body ? { 'content-length': String(opts.body.length) } : {}),
      },
      // Connect to the address that was checked, never to a fresh resolution of the name.
      lookup: (_h: string, o: { all?: boolean }, cb: (e: Error | null, a: string | { address: string; family: number }[], f?: number) => void) =>
        o.all ? cb(null, [{ address, family: isIP(address) }]) : cb(null, address, isIP(address)),
      timeout: limits.timeoutMs,
    };
    const req =
      url.protocol === 'https:'
        ? https.request({ ...common, host: hostname, ...(isIP(hostname) ? {} : { servername: hostname }), ...(limits.ca ? { ca: limits.ca } : {}) })
        : http.request({ ...common, host: hostname });

    const deadline = setTimeout(() => fail(new AnchorFetchError('URL_FETCH_FAILED', `${url.host} did not answer in time`, true)), limits.timeoutMs);
    req.on('timeout', () => fail(new AnchorFetchError('URL_FETCH_FAILED', `${url.host} did not answer in time`, true)));
    req.on('error', (err) => {
      clearTimeout(deadline);
      if (err instanceof AnchorFetchError) reject(err);
      else reject(new AnchorFetchError('URL_FETCH_FAILED', `cannot fetch ${url.host}: ${err.message}`, true));
    });
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400) {
        clearTimeout(deadline);
        return fail(new AnchorFetchError('URL_FORBIDDEN', 'redirects are not followed', false));
      }
      if ((status < 200 || status >= 300) && !(opts.answerStatuses ?? []).includes(status)) {
        clearTimeout(deadline);
        const retryable = status >= 500 || status === 408 || status === 429;
        return fail(new AnchorFetchError('URL_FETCH_FAILED', `${url.host} answered HTTP ${status}`, retryable));
      }
      const declared = Number(res.headers['content-length'] ?? 0);
      if (declared > limits.maxBytes) {
        clearTimeout(deadline);
        return fail(new AnchorFetchError('URL_RESPONSE_TOO_LARGE', `${declared} bytes`, false));
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > limits.maxBytes) {
          clearTimeout(deadline);
          fail(new AnchorFetchError('URL_RESPONSE_TOO_LARGE', `more than ${limits.maxBytes} bytes`, false));
        } else chunks.push(chunk);
      });
      res.on('end', () => {
        clearTimeout(deadline);
        if (size <= limits.maxBytes) {
          const contentType = res.headers['content-type'];
          resolvePromise({ body: Buffer.concat(chunks), status, ...(contentType ? { contentType } : {}) });
        }
      });
    });
    req.end(opts.body ? Buffer.from(opts.body) : undefined);
  });
}
