// Fetching partner-supplied URLs (JWKS, CRL, OCSP, OIDC discovery) without letting a partner point
// Admit at its own network. The name is resolved once, every resolved address is checked, and the
// connection goes to that checked address, so a DNS answer cannot change between check and use.
import { lookup as dnsLookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP } from 'node:net';
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
}

export interface FetchResult {
  body: Buffer;
  contentType?: string;
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
  resolve?: (host: string) => Promise<{ address: string; family: number }[]>;
}

const FORBIDDEN = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15],
  ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) FORBIDDEN.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128], ['::1', 128], ['64:ff9b::', 96], ['100::', 64], ['2001:db8::', 32],
  ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8],
] as const) FORBIDDEN.addSubnet(net, prefix, 'ipv6');

/** Loopback, private, IPv4-mapped, link-local (cloud metadata lives at 169.254.169.254), CGNAT, documentation, multicast, reserved. */
export function isForbiddenAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  // IPv4-mapped IPv6 (::ffff:a.b.c.d in any spelling) would smuggle an IPv4 address past the IPv6 rules.
  if (family === 6 && new URL(`http://[${address}]`).hostname.startsWith('[::ffff:')) return true;
  return FORBIDDEN.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

export function createSafeFetcher(options: SafeFetcherOptions = {}): SafeFetcher {
  const allow = new Set((options.allow ?? []).map((e) => e.toLowerCase()));
  const maxBytes = options.maxBytes ?? 1024 * 1024;
  const timeoutMs = options.timeoutMs ?? 5000;
  const ttl = options.cacheTtlMs ?? 5 * 60_000;
  const resolve = options.resolve ?? ((host: string) => dnsLookup(host, { all: true, verbatim: true }));
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
      const code = (err as NodeJS.ErrnoException).code;
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
      if (status < 200 || status >= 300) {
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
          resolvePromise({ body: Buffer.concat(chunks), ...(contentType ? { contentType } : {}) });
        }
      });
    });
    req.end(opts.body ? Buffer.from(opts.body) : undefined);
  });
}
