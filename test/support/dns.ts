import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startDnsmasq, type DnsRecords, type LocalDns } from '../../stack/dnsmasq';

/**
 * A dnsmasq of this test file's own, on a free loopback port, answering for `*.test`. Started
 * per file rather than once for the run: it starts in milliseconds, and a file that changes its
 * records restarts it (dnsmasq rereads `txt-record=` lines only on restart), which would cut off
 * the lookups of other files running in parallel on a shared one. Its files live in a temporary
 * folder of its own, removed when it stops, so unit tests (which share no services) can use it.
 */
export async function startTestDns(records: DnsRecords = {}): Promise<LocalDns> {
  const dir = await mkdtemp(path.join(tmpdir(), 'admit-dns-'));
  const dns = await startDnsmasq({ dir, records, domains: ['test'] });
  return {
    ...dns,
    address: dns.address,
    port: dns.port,
    setRecords: (next) => dns.setRecords(next),
    async stop() {
      await dns.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
