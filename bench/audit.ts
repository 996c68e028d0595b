// Audit-log append: Admit's appendAuditEvent (per-field salted digests and the RFC 8785 canonical form
// in Node; in the database's audit_append, the idempotency lookup, the chain head locked FOR UPDATE, the
// hash, the insert and the head moved) against a plain single-row INSERT of the same shape into a scratch
// table through the same Prisma client. Each side commits one row per operation in the same way: on its
// own (autocommit), or, in the `transaction` form, each in an interactive transaction as appends ride
// their callers' in production; the difference is the chain. With several writers each appends to its
// own application's chain (8 partners at once), as issue 12 measures.
import { randomUUID } from 'node:crypto';
import { appendAuditEvent } from '../registry/audit';
import type { Prisma, Registry } from '../registry/client';
import type { Benchmark } from './harness';

export const SCRATCH_TABLE = 'bench_audit_baseline';
const SALT = 'ab'.repeat(32);

/** Same columns, types, constraints and indexes as audit_events, with its own sequence. */
export async function createScratchTable(registry: Registry): Promise<void> {
  await registry.$executeRawUnsafe(`CREATE TABLE ${SCRATCH_TABLE} (LIKE audit_events INCLUDING ALL EXCLUDING DEFAULTS)`);
  await registry.$executeRawUnsafe(`CREATE SEQUENCE ${SCRATCH_TABLE}_seq OWNED BY ${SCRATCH_TABLE}.seq`);
  await registry.$executeRawUnsafe(`ALTER TABLE ${SCRATCH_TABLE} ALTER COLUMN seq SET DEFAULT nextval('${SCRATCH_TABLE}_seq')`);
}

function eventData(i: number): { fingerprint: string; kind: string; tier: string; n: number } {
  return { fingerprint: `sha256:${i.toString(16).padStart(64, '0')}`, kind: 'x509', tier: 'MEDIUM', n: i };
}

export function auditBenchmark(registry: Registry, run: string, concurrency: number, form: 'alone' | 'transaction' = 'alone'): Benchmark {
  const organisationId = randomUUID();
  // One application per writer: writers never share a chain, so never wait on each other's head lock.
  const applicationOf = (writer: number) => `app-bench-partner-${run}-${writer}-sandbox`;
  // The baseline fills the same columns (chain id, place, salt) without a chain behind them.
  const chainOf = Array.from({ length: concurrency }, () => randomUUID());
  const inTransaction = form === 'transaction';
  const commit = <T>(work: (tx: Prisma.TransactionClient) => Promise<T>): Promise<T> =>
    inTransaction ? registry.$transaction(work) : work(registry);
  const writers = concurrency === 1 ? '' : `, ${concurrency} writers`;
  return {
    name: `Audit append, ${concurrency === 1 ? 'sequential' : `${concurrency} writers`}${inTransaction ? ', in a transaction' : ''}`,
    baseline: `plain INSERT, same shape${writers}${inTransaction ? ', in a transaction' : ''}`,
    admit: (i, writer) =>
      commit((tx) =>
        appendAuditEvent(tx, {
          idempotencyKey: `${run}-${i}`,
          type: 'anchor.bound',
          actor: 'workflow',
          organisationId,
          applicationId: applicationOf(writer),
          occurredAt: new Date(),
          data: eventData(i),
        }),
      ),
    base: (i, writer) => {
      const applicationId = applicationOf(writer);
      const key = `${run}-${i}`;
      // prev_hash and hash hold 64 hex characters, as Admit's do; unique like Admit's.
      const hash = Buffer.from(key).toString('hex').padEnd(64, '0').slice(0, 64);
      return commit(
        (tx) => tx.$executeRaw`
        INSERT INTO bench_audit_baseline (id, idempotency_key, organisation_id, application_id, type, actor, occurred_at, data, prev_hash, hash,
                                          chain_id, chain_seq, salt)
        VALUES (${randomUUID()}::uuid, ${key}, ${organisationId}::uuid, ${applicationId}, 'anchor.verified', 'workflow', ${new Date()},
                ${JSON.stringify(eventData(i))}::jsonb, ${'0'.repeat(64)}, ${hash}, ${chainOf[writer]}::uuid, ${i}, ${SALT})`,
      );
    },
    concurrency,
    // Commits wait on fsync, whose latency swings with the disk: many short interleaved rounds.
    warmup: 50,
    iterations: concurrency === 1 ? 120 : 200,
    rounds: 15,
  };
}
