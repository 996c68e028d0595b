// A real DNS server on loopback for the tests of domain control and of the fetcher's address
// checks: Debian's dnsmasq (package dnsmasq-base), serving only the records it is given.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Resolver } from 'node:dns/promises';
import { isExecutable, onPath } from './executables';
import { freePort, startProcess, waitUntilReady, type ManagedProcess } from './processes';

export interface DnsRecords {
  /** TXT records: each entry is one record, made of one or more character-strings. */
  txt?: { name: string; strings: string[] }[];
  /** A or AAAA answers for a name and every name below it (dnsmasq `address=/name/ip`). */
  addresses?: { name: string; address: string }[];
}

export interface LocalDns {
  /** `127.0.0.1:<port>`: the value of ADMIT_DNS_RESOLVER. */
  readonly address: string;
  readonly port: number;
  /** Replaces every record. dnsmasq rereads only its hosts-style files on SIGHUP, not `txt-record=` lines, so this restarts it on the same port. */
  setRecords(records: DnsRecords): Promise<void>;
  stop(): Promise<void>;
}

export async function findDnsmasq(): Promise<string> {
  for (const candidate of ['/usr/sbin/dnsmasq', '/usr/local/sbin/dnsmasq']) {
    if (await isExecutable(candidate)) return candidate;
  }
  const found = await onPath('dnsmasq');
  if (found !== undefined) return found;
  throw new Error('dnsmasq was not found: install Debian’s dnsmasq-base (apt-get install dnsmasq-base).');
}

/** A character-string in dnsmasq's quoted form. */
function quoted(s: string): string {
  if (!/^[\x20-\x7e]*$/.test(s) || s.length > 255)
    throw new Error(`TXT strings here are printable ASCII of at most 255 characters: ${JSON.stringify(s)}`);
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function configuration(records: DnsRecords, generation: number, domains: string[]): string {
  const lines = [
    // Answer only from this file, and say NXDOMAIN (not REFUSED) for names of the test domains it does not know.
    ...domains.map((d) => `local=/${d}/`),
    `txt-record=_ready.admit-dns.test,${quoted(`generation-${generation}`)}`,
    ...(records.txt ?? []).map((r) => `txt-record=${r.name},${r.strings.map(quoted).join(',')}`),
    ...(records.addresses ?? []).map((a) => `address=/${a.name}/${a.address}`),
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * Starts dnsmasq on a free loopback port: `--no-daemon --port N --listen-address 127.0.0.1
 * --bind-interfaces --no-resolv --no-hosts --conf-file=<generated>`, no pid file, no cache.
 * `domains` are answered from the configuration alone (NXDOMAIN for unknown names).
 */
export async function startDnsmasq(options: { dir: string; records?: DnsRecords; domains?: string[] }): Promise<LocalDns> {
  const binary = await findDnsmasq();
  await mkdir(options.dir, { recursive: true });
  const conf = path.join(options.dir, 'dnsmasq.conf');
  const port = await freePort();
  const domains = options.domains ?? ['test'];
  const probe = new Resolver({ timeout: 500, tries: 1 });
  probe.setServers([`127.0.0.1:${port}`]);
  let generation = 0;
  let proc: ManagedProcess | undefined;

  async function start(records: DnsRecords): Promise<void> {
    generation += 1;
    await writeFile(conf, configuration(records, generation, domains));
    const expected = `generation-${generation}`;
    proc = startProcess('dnsmasq', binary, [
      '--no-daemon',
      `--port=${port}`,
      '--listen-address=127.0.0.1',
      '--bind-interfaces',
      '--no-resolv',
      '--no-hosts',
      '--cache-size=0',
      '--pid-file',
      `--conf-file=${conf}`,
    ]);
    await waitUntilReady(proc, async () => (await probe.resolveTxt('_ready.admit-dns.test')).some((r) => r.join('') === expected), 10_000);
  }

  await start(options.records ?? {});
  return {
    address: `127.0.0.1:${port}`,
    port,
    async setRecords(records) {
      await proc?.stop(2000);
      await start(records);
    },
    async stop() {
      await proc?.stop(2000);
    },
  };
}
