import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { inject } from 'vitest';
import { startDnsmasq, type DnsRecords, type LocalDns } from '../../stack/dnsmasq';

/**
 * A dnsmasq of this test file's own, on a free loopback port, answering for `*.test`. Started
 * per file rather than once for the run: it starts in milliseconds, and a file that changes its
 * records restarts it (dnsmasq rereads `txt-record=` lines only on restart), which would cut off
 * the lookups of other files running in parallel on a shared one.
 */
export function startTestDns(records: DnsRecords = {}): Promise<LocalDns> {
  return startDnsmasq({ dir: path.join(inject('scratchDir'), `dns-${randomUUID()}`), records, domains: ['test'] });
}
