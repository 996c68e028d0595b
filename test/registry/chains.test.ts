import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import pg from 'pg';
import { createRegistry, type Registry } from '../../registry/client';
import { appendAuditEvent, openNewApplicationChain, verifyAuditChain, verifyChain } from '../../registry/audit';
import { GENESIS_HASH, legacyEventHash } from '../../evidence/event-hash';
import { applyMigrations, readMigrations } from '../../registry/migrate';
import { evidenceKeyringFromSeeds, type EvidenceKeyring } from '../../evidence/keys';
import { createCheckpoint, inclusionProofFor, verifyCheckpoint, verifyInclusion, type CheckpointFile } from '../../evidence/checkpoint';
import { verifyLogAgainstCheckpoint } from '../../evidence/log-check';
import { createTestDatabase } from '../support/stack';

let databaseUrl: string;
let registry: Registry;
let keyring: EvidenceKeyring;
let dir: string;
const firstSeed = randomBytes(32);

beforeAll(async () => {
  databaseUrl = await createTestDatabase();
  registry = createRegistry(databaseUrl);
  keyring = await evidenceKeyringFromSeeds([firstSeed]);
  dir = await mkdtemp(path.join(tmpdir(), 'admit-checkpoints-'));
});
afterAll(async () => registry.$disconnect());

const append = (key: string, target: { applicationId?: string; organisationId?: string }, data: Record<string, string | number> = {}) =>
  registry.$transaction((tx) =>
    appendAuditEvent(tx, { idempotencyKey: key, type: 'lifecycle.transition', actor: 'tester', occurredAt: new Date(), data, ...target }),
  );

const superuser = async <T>(work: (client: pg.Client) => Promise<T>): Promise<T> => {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
};

describe('audit chains', () => {
  it('gives each application, each organisation and the system a chain of its own, each from the genesis hash', async () => {
    const org = randomUUID();
    const a1 = await append('c-a-1', { applicationId: 'app-chains-a', organisationId: org });
    const b1 = await append('c-b-1', { applicationId: 'app-chains-b', organisationId: org });
    const a2 = await append('c-a-2', { applicationId: 'app-chains-a', organisationId: org });
    const o1 = await append('c-o-1', { organisationId: org });
    const s1 = await append('c-s-1', {});
    expect([a1.prevHash, b1.prevHash, o1.prevHash]).toEqual([GENESIS_HASH, GENESIS_HASH, GENESIS_HASH]);
    expect(a2.prevHash).toBe(a1.hash);
    expect([a1.chainSeq, a2.chainSeq, b1.chainSeq]).toEqual([1, 2, 1]);
    expect(new Set([a1.chainId, b1.chainId, o1.chainId, s1.chainId]).size).toBe(4);
    expect(a2.chainId).toBe(a1.chainId);
    expect(await verifyAuditChain(registry)).toMatchObject({ ok: true });
  });

  it('appends once per idempotency key, also when the same key races', async () => {
    const results = await Promise.all(Array.from({ length: 5 }, () => append('c-race', { applicationId: 'app-chains-race' })));
    expect(new Set(results.map((r) => r.id)).size).toBe(1);
    expect(await registry.auditEvent.count({ where: { idempotencyKey: 'c-race' } })).toBe(1);
  });

  it('keeps every chain unbroken under concurrent appends to many applications', async () => {
    await Promise.all(Array.from({ length: 40 }, (_, i) => append(`c-par-${i}`, { applicationId: `app-chains-par-${i % 8}` }, { i })));
    for (let i = 0; i < 8; i += 1) {
      const chain = await registry.auditChain.findFirstOrThrow({ where: { applicationId: `app-chains-par-${i}` } });
      expect(chain.size).toBe(5);
      expect(await verifyChain(registry, chain.id, { pageSize: 2 })).toMatchObject({ ok: true, events: 5, head: chain.headHash });
    }
  });

  it('appends on its own, outside any transaction, as one atomic call', async () => {
    const entry = (i: number) => ({
      idempotencyKey: `c-alone-${i}`,
      type: 'lifecycle.transition' as const,
      actor: 'tester',
      occurredAt: new Date(),
      data: { i },
    });
    const written = await Promise.all([0, 1, 2, 3].map((i) => appendAuditEvent(registry, { ...entry(i), applicationId: 'app-chains-alone' })));
    expect(written.map((e) => e.chainSeq).sort()).toEqual([1, 2, 3, 4]);
    expect((await appendAuditEvent(registry, { ...entry(2), applicationId: 'app-chains-alone' })).id).toBe(written[2]?.id);
    const chain = await registry.auditChain.findFirstOrThrow({ where: { applicationId: 'app-chains-alone' } });
    expect(await verifyChain(registry, chain.id)).toMatchObject({ ok: true, events: 4, head: chain.headHash });
  });

  it('starts a new chain for a new claim of a released application id; the old chain keeps its events', async () => {
    const first = await append('c-claim-1', { applicationId: 'app-chains-reclaimed' });
    await registry.$transaction((tx) => openNewApplicationChain(tx, 'app-chains-reclaimed'));
    const second = await append('c-claim-2', { applicationId: 'app-chains-reclaimed' });
    expect(second.chainId).not.toBe(first.chainId);
    expect(second.chainSeq).toBe(1);
    const chains = await registry.auditChain.findMany({ where: { applicationId: 'app-chains-reclaimed' }, orderBy: { position: 'asc' } });
    expect(chains.map((c) => [c.size, c.supersededAt !== null])).toEqual([
      [1, true],
      [1, false],
    ]);
  });
});

describe('signed checkpoints', () => {
  let checkpoint: CheckpointFile;

  it('commit to every chain head in a signed RFC 9162 tree, written to the database and a file', async () => {
    const made = await createCheckpoint(registry, keyring, dir);
    expect(made.created).toBe(true);
    checkpoint = made.checkpoint;
    const chains = await registry.auditChain.count();
    expect(checkpoint.treeSize).toBe(chains);
    expect(await verifyCheckpoint(checkpoint, keyring.jwks)).toMatchObject({ rootHash: checkpoint.rootHash, treeSize: chains });
    const onDisk = JSON.parse(await readFile(path.join(dir, 'latest.json'), 'utf8')) as CheckpointFile;
    expect(onDisk).toEqual(checkpoint);
    // Nothing moved: no new checkpoint.
    expect((await createCheckpoint(registry, keyring, dir)).created).toBe(false);
  });

  it('prove one chain’s head without the others, and refuse a proof for another head', async () => {
    const chain = await registry.auditChain.findFirstOrThrow({ where: { applicationId: 'app-chains-a' } });
    const leaf = checkpoint.leaves.find((l) => l.chainId === chain.id);
    const proof = inclusionProofFor(checkpoint.leaves, chain.id);
    expect(leaf).toBeDefined();
    expect(proof).toBeDefined();
    if (leaf === undefined || proof === undefined) return;
    expect(verifyInclusion(leaf, proof, checkpoint.rootHash)).toBe(true);
    expect(verifyInclusion({ ...leaf, size: leaf.size - 1 }, proof, checkpoint.rootHash)).toBe(false);
    expect(verifyInclusion(leaf, { ...proof, leafIndex: (proof.leafIndex + 1) % proof.treeSize }, checkpoint.rootHash)).toBe(false);
  });

  it('refuse a checkpoint signed by a key outside the published set, and one whose clear fields were changed', async () => {
    const stranger = await evidenceKeyringFromSeeds([randomBytes(32)]);
    await expect(verifyCheckpoint(checkpoint, stranger.jwks)).rejects.toThrow();
    await expect(verifyCheckpoint({ ...checkpoint, rootHash: '0'.repeat(64) }, keyring.jwks)).rejects.toThrow(/rootHash/);
  });

  it('still verify under a rotated keyring that keeps the old key published', async () => {
    const rotated = await evidenceKeyringFromSeeds([randomBytes(32), firstSeed]);
    expect(rotated.signing.kid).not.toBe(keyring.signing.kid);
    expect(rotated.jwks.keys.map((k) => k.kid)).toEqual([rotated.signing.kid, keyring.signing.kid]);
    expect(await verifyCheckpoint(checkpoint, rotated.jwks)).toMatchObject({ seq: checkpoint.seq });
    await append('c-after-rotation', { applicationId: 'app-chains-a' });
    const next = await createCheckpoint(registry, rotated, dir);
    expect(next.checkpoint.kid).toBe(rotated.signing.kid);
    await expect(verifyCheckpoint(next.checkpoint, keyring.jwks)).rejects.toThrow();
  });
});

describe('the database against a checkpoint held outside it', () => {
  it('holds while nothing was changed', async () => {
    expect(
      await verifyLogAgainstCheckpoint(registry, JSON.parse(await readFile(path.join(dir, 'latest.json'), 'utf8')) as CheckpointFile),
    ).toMatchObject({
      ok: true,
    });
  });

  it('names an event edited with the trigger disabled by a superuser', async () => {
    const held = JSON.parse(await readFile(path.join(dir, 'latest.json'), 'utf8')) as CheckpointFile;
    const seq = await superuser(async (client) => {
      await client.query('alter table audit_events disable trigger audit_events_no_update_or_delete');
      const { rows } = await client.query<{ seq: string }>(
        `update audit_events set data = '{"n": 99}' where idempotency_key = 'c-b-1' returning seq`,
      );
      await client.query('alter table audit_events enable trigger audit_events_no_update_or_delete');
      return BigInt(rows[0]?.seq ?? -1);
    });
    const result = await verifyLogAgainstCheckpoint(registry, held);
    expect(result).toMatchObject({ ok: false, brokenAt: { seq, chainSeq: 1, reason: 'hash-mismatch' } });
    expect(await verifyAuditChain(registry)).toMatchObject({ ok: false, brokenAt: { seq, reason: 'hash-mismatch' } });
  });

  it('names a truncated tail, even when the chain head row was rewound to match', async () => {
    const held = JSON.parse(await readFile(path.join(dir, 'latest.json'), 'utf8')) as CheckpointFile;
    const chain = await registry.auditChain.findFirstOrThrow({ where: { applicationId: 'app-chains-a' } });
    await superuser(async (client) => {
      await client.query('alter table audit_events disable trigger audit_events_no_update_or_delete');
      await client.query(`delete from audit_events where chain_id = $1 and chain_seq >= 2`, [chain.id]);
      await client.query('alter table audit_events enable trigger audit_events_no_update_or_delete');
      // Cover the tracks: the head row now agrees with what is left.
      const { rows } = await client.query<{ hash: string }>(`select hash from audit_events where chain_id = $1 and chain_seq = 1`, [chain.id]);
      await client.query(`update audit_chains set size = 1, head_hash = $2 where id = $1`, [chain.id, rows[0]?.hash]);
    });
    const result = await verifyLogAgainstCheckpoint(registry, held, { only: [chain.id] });
    expect(result).toMatchObject({ ok: false, brokenAt: { chainId: chain.id, chainSeq: 2, reason: 'missing-tail' } });
  });
});

describe('events written before chains per application (the legacy segment)', () => {
  it('keep their hashes through the migration, are frozen as one segment and committed by the first checkpoint', async () => {
    const name = `t_${randomUUID().replace(/-/g, '')}`;
    const admin = new pg.Client({ connectionString: inject('postgresAdminUrl') });
    await admin.connect();
    await admin.query(`create database ${pg.escapeIdentifier(name)} template template0`);
    await admin.end();
    const url = inject('postgresAdminUrl').replace(/\/postgres$/, `/${name}`);
    // Migrate up to the last migration before chains, from a copy of the folder.
    const before = await mkdtemp(path.join(tmpdir(), 'admit-migrations-'));
    for (const migration of (await readMigrations()).filter((m) => m.name < '20261203150000')) {
      await mkdir(path.join(before, migration.name));
      await writeFile(path.join(before, migration.name, 'migration.sql'), migration.sql);
    }
    await applyMigrations(url, before);
    // Three events in the old global chain, hashed as the old appendAuditEvent did.
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    let prevHash = GENESIS_HASH;
    const written: { id: string; hash: string }[] = [];
    for (let i = 0; i < 3; i += 1) {
      const fields = {
        id: randomUUID(),
        idempotencyKey: `legacy-${i}`,
        type: 'legacy.event',
        actor: 'workflow',
        organisationId: null,
        applicationId: i === 1 ? 'app-legacy' : null,
        occurredAt: new Date(Date.UTC(2026, 0, 1 + i)).toISOString(),
        data: { i },
        prevHash,
      };
      const hash = legacyEventHash(fields);
      await client.query(
        `insert into audit_events (id, idempotency_key, organisation_id, application_id, type, actor, occurred_at, data, prev_hash, hash)
         values ($1, $2, null, $3, $4, $5, $6, $7, $8, $9)`,
        [
          fields.id,
          fields.idempotencyKey,
          fields.applicationId,
          fields.type,
          fields.actor,
          fields.occurredAt,
          JSON.stringify(fields.data),
          prevHash,
          hash,
        ],
      );
      written.push({ id: fields.id, hash });
      prevHash = hash;
    }
    await applyMigrations(url);
    const { rows } = await client.query<{ id: string; hash: string; chain_id: string | null }>(
      'select id, hash, chain_id from audit_events order by seq',
    );
    expect(rows).toEqual(written.map((w) => ({ ...w, chain_id: null })));
    // The triggers still refuse rewriting them.
    await expect(client.query(`update audit_events set actor = 'mallory'`)).rejects.toThrow(/append-only/);
    await client.end();

    const legacyRegistry = createRegistry(url);
    try {
      const legacy = await legacyRegistry.auditChain.findFirstOrThrow({ where: { kind: 'legacy' } });
      expect(legacy).toMatchObject({ size: 3, headHash: prevHash });
      expect(legacy.supersededAt).not.toBeNull();
      // New events, for the application the legacy segment mentions too, start a chain of their own.
      const next = await legacyRegistry.$transaction((tx) =>
        appendAuditEvent(tx, {
          idempotencyKey: 'after-1',
          type: 'lifecycle.transition',
          actor: 'tester',
          applicationId: 'app-legacy',
          occurredAt: new Date(),
          data: {},
        }),
      );
      expect(next).toMatchObject({ prevHash: GENESIS_HASH, chainSeq: 1 });
      expect(await verifyAuditChain(legacyRegistry)).toMatchObject({ ok: true, chains: 2, events: 4 });
      const { checkpoint } = await createCheckpoint(legacyRegistry, keyring, undefined);
      expect(checkpoint.leaves[0]).toEqual({ chainId: legacy.id, kind: 'legacy', size: 3, head: prevHash });
      expect(await verifyLogAgainstCheckpoint(legacyRegistry, checkpoint, { jwks: keyring.jwks })).toMatchObject({ ok: true, events: 4 });
      // Rewriting a legacy event behind the trigger's back (and the constraint that refuses an unchained row) shows against the checkpoint.
      await superuserOn(url, async (c) => {
        await expect(c.query(`update audit_events set data = '{"i": 7}' where idempotency_key = 'legacy-1'`)).rejects.toThrow(/append-only/);
        await c.query('alter table audit_events drop constraint audit_events_chained_check');
        await c.query('alter table audit_events disable trigger audit_events_no_update_or_delete');
        await c.query(`update audit_events set data = '{"i": 7}' where idempotency_key = 'legacy-1'`);
        await c.query('alter table audit_events enable trigger audit_events_no_update_or_delete');
      });
      expect(await verifyLogAgainstCheckpoint(legacyRegistry, checkpoint)).toMatchObject({
        ok: false,
        brokenAt: { chainId: legacy.id, reason: 'hash-mismatch' },
      });
    } finally {
      await legacyRegistry.$disconnect();
    }
  });
});

async function superuserOn(url: string, work: (client: pg.Client) => Promise<void>): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await work(client);
  } finally {
    await client.end();
  }
}
