// One DNS resolver for everything Admit looks up about partners: the TXT records of domain-control
// challenges and the addresses the SSRF-safe fetcher connects to. Operators point it at a resolver
// of their choice (ADMIT_DNS_RESOLVER); the tests point it at a dnsmasq on loopback.
import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

export interface DnsResolver {
  /** The A and AAAA records of `host` (no /etc/hosts: only DNS answers). Throws with `code` ENOTFOUND when the name has neither. */
  lookup(host: string): Promise<ResolvedAddress[]>;
  /** The TXT records at `name`, each as its list of character-strings; [] when there are none. */
  resolveTxt(name: string): Promise<string[][]>;
  /** The servers asked, as `ip:port`. */
  servers(): string[];
}

export interface DnsResolverOptions {
  /** `ip`, `ip:port` or `[ipv6]:port`; the system's resolvers (resolv.conf) when absent. */
  server?: string;
  timeoutMs?: number;
  tries?: number;
}

/** ENODATA and ENOTFOUND mean "the name has no such record": an answer, not a failure. */
const NO_ANSWER = new Set(['ENODATA', 'ENOTFOUND', 'NOTFOUND', 'NODATA']);

export class DnsLookupError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'DnsLookupError';
  }
}

/** Parses `ip`, `ip:port` or `[ipv6]:port` into the form Resolver#setServers takes, or undefined when it is none of those. */
export function parseResolverAddress(value: string): string | undefined {
  const v = value.trim();
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(v);
  if (bracketed) {
    const [, ip, port] = bracketed;
    if (isIP(ip!) !== 6 || !validPort(port)) return undefined;
    return port === undefined ? ip! : `[${ip}]:${port}`;
  }
  if (isIP(v) !== 0) return v;
  const hostPort = /^([0-9.]+):(\d{1,5})$/.exec(v);
  if (hostPort && isIP(hostPort[1]!) === 4 && validPort(hostPort[2])) return v;
  return undefined;
}

function validPort(port: string | undefined): boolean {
  return port === undefined || (Number(port) >= 1 && Number(port) <= 65535);
}

export function createDnsResolver(options: DnsResolverOptions = {}): DnsResolver {
  const resolver = new Resolver({ timeout: options.timeoutMs ?? 3000, tries: options.tries ?? 2 });
  if (options.server !== undefined) {
    const server = parseResolverAddress(options.server);
    if (server === undefined) throw new Error(`not a resolver address (ip, ip:port or [ipv6]:port): ${options.server}`);
    resolver.setServers([server]);
  }

  return {
    servers: () => resolver.getServers(),

    async lookup(host) {
      const [v4, v6] = await Promise.allSettled([resolver.resolve4(host), resolver.resolve6(host)]);
      const addresses: ResolvedAddress[] = [
        ...(v4.status === 'fulfilled' ? v4.value.map((address) => ({ address, family: 4 as const })) : []),
        ...(v6.status === 'fulfilled' ? v6.value.map((address) => ({ address, family: 6 as const })) : []),
      ];
      if (addresses.length > 0) return addresses;
      // A failure of either query that is not "no such record" is a fault worth retrying.
      for (const result of [v4, v6]) {
        if (result.status === 'rejected') {
          const code = String((result.reason as NodeJS.ErrnoException).code ?? 'EUNKNOWN');
          if (!NO_ANSWER.has(code)) throw new DnsLookupError(`cannot resolve ${host}: ${code}`, code);
        }
      }
      throw new DnsLookupError(`${host} has no A or AAAA record`, 'ENOTFOUND');
    },

    async resolveTxt(name) {
      try {
        return await resolver.resolveTxt(name);
      } catch (error) {
        const code = String((error as NodeJS.ErrnoException).code ?? 'EUNKNOWN');
        if (NO_ANSWER.has(code)) return [];
        throw new DnsLookupError(`cannot look up TXT ${name}: ${code}`, code);
      }
    },
  };
}
