import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createRegistry, type Registry } from '../../registry/client';
import { appendAuditEvent, GENESIS_HASH, verifyAuditChain } from '../../registry/audit';
import { createTestDatabase } from '../support/stack';

let databaseUrl: string;
let registry: Registry;

beforeAll(async () => {
  databaseUrl = await createTestDatabase();
  registry = createRegistry(databaseUrl);
});
afterAll(async () => registry.$disconnect());

const append = (key: string, data: Record<string, string | number> = {}) =>
  registry.$transaction((tx) =>
    appendAuditEvent(tx, { idempotencyKey: key, type: 'lifecycle.transition', actor: 'tester', occurredAt: new Date(), data }),
  );

describe('the audit log', () => {
  it('links each event to the previous one, starting from the genesis hash', async () => {
    const first = await append('chain-1', { n: 1 });
    const second = await append('chain-2', { n: 2 });
    expect(first.prevHash).toBe(GENESIS_HASH);
    expect(second.prevHash).toBe(first.hash);
    expect(await verifyAuditChain(registry)).toMatchObject({ ok: true, events: 2 });
  });

  it('writes an event once however often the same key is appended', async () => {
    const once = await append('retry-me', { n: 3 });
    const again = await append('retry-me', { n: 3 });
    expect(again.id).toBe(once.id);
    expect(await registry.auditEvent.count({ where: { idempotencyKey: 'retry-me' } })).toBe(1);
  });

  it('keeps the system chain unbroken under concurrent appends', async () => {
    await Promise.all(Array.from({ length: 20 }, (_, i) => append(`concurrent-${i}`, { i })));
    const result = await verifyAuditChain(registry, 7);
    expect(result.ok).toBe(true);
    expect(result.events).toBe(23);
  });

  it('is append-only in the database: UPDATE, DELETE and TRUNCATE are refused', async () => {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      await expect(client.query(`update audit_events set actor = 'mallory'`)).rejects.toThrow(/append-only/);
      await expect(client.query('delete from audit_events')).rejects.toThrow(/append-only/);
      await expect(client.query('truncate audit_events')).rejects.toThrow(/append-only/);
    } finally {
      await client.end();
    }
  });

  it('detects an event rewritten behind the trigger’s back', async () => {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      // Only a superuser can do this; the chain still gives it away.
      await client.query('alter table audit_events disable trigger audit_events_no_update_or_delete');
      const { rows } = await client.query<{ seq: string }>(
        `update audit_events set data = '{"n": 99}' where idempotency_key = 'chain-2' returning seq`,
      );
      await client.query('alter table audit_events enable trigger audit_events_no_update_or_delete');
      const result = await verifyAuditChain(registry);
      expect(result.ok).toBe(false);
      expect(result.brokenAt).toMatchObject({ seq: BigInt(rows[0]?.seq ?? -1), reason: 'hash-mismatch' });
    } finally {
      await client.end();
    }
  });
});
