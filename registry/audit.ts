import { randomBytes, randomUUID } from 'node:crypto';
import type { Prisma, Registry } from './client';
import type { AuditEvent } from '../generated/prisma/client';
import { isAuditEventType, type AuditEventType } from '../domain/audit-events';
import { GENESIS_HASH, chainedEventCanonical, fieldDigests, fullChainedEventHash, legacyEventHash } from '../evidence/event-hash';

export { GENESIS_HASH } from '../evidence/event-hash';

export type JsonObject = { [key: string]: Prisma.InputJsonValue | null };

export interface AuditEntry {
  /** The same key always names the same event: a retried write is a no-op. */
  idempotencyKey: string;
  /** One of domain/audit-events.ts, each mapped to the controls it evidences (evidence/controls.ts). */
  type: AuditEventType;
  /** Who acted: `system`, `workflow`, an approver's subject, a partner contact's role. */
  actor: string;
  organisationId?: string | null;
  applicationId?: string | null;
  occurredAt: Date;
  data: JsonObject;
}

type Tx = Prisma.TransactionClient;

export type ChainKind = 'legacy' | 'system' | 'organisation' | 'application';

/** Which chain an event belongs to: its application's, else its organisation's, else the system chain. */
export function chainKindFor(entry: Pick<AuditEntry, 'applicationId' | 'organisationId'>): Exclude<ChainKind, 'legacy'> {
  if (entry.applicationId != null) return 'application';
  if (entry.organisationId != null) return 'organisation';
  return 'system';
}

function splitOnce(text: string, mark: string): [string, string] {
  const at = text.indexOf(mark);
  if (at < 0) throw new Error('the canonical form of an audit event lost a mark');
  return [text.slice(0, at), text.slice(at + mark.length)];
}

/**
 * Appends an event to its chain inside the caller's transaction, so the
 * evidence and the change it describes commit together (given the registry
 * itself, the append commits on its own: it is one atomic call). The chain is the
 * application's (its current claim's), else the organisation's, else the
 * system chain.
 *
 * One call of the database's `audit_append` locks the chain's head row
 * (`SELECT … FOR UPDATE`: appends to other chains do not wait), writes the
 * event linked to that head and moves the head, opening the chain on its first
 * event. The hash is over RFC 8785 canonical JSON made here, with the
 * head's values spliced in by the database (a uuid, an integer and a hex
 * string, which canonical JSON writes as they are), so `chainedEventHash`
 * recomputes it exactly.
 */
export async function appendAuditEvent(tx: Tx, entry: AuditEntry): Promise<AuditEvent> {
  if (!isAuditEventType(entry.type)) throw new TypeError(`${JSON.stringify(entry.type)} is not an audit event type (domain/audit-events.ts).`);
  const kind = chainKindFor(entry);
  const salt = randomBytes(32).toString('hex');
  const id = randomUUID();
  const occurredAt = entry.occurredAt.toISOString();
  const organisationId = entry.organisationId ?? null;
  const applicationId = entry.applicationId ?? null;
  // Stored as JSON and read back as JSON: hash what the database will hold.
  const dataJson = JSON.stringify(entry.data);
  const data = JSON.parse(dataJson) as Record<string, unknown>;
  const digests = fieldDigests(entry.actor, data, salt);
  const [chainMark, seqMark, prevMark] = [`@chain-${salt}@`, 9_007_199_254_740_991, `@prev-${salt}@`];
  const template = chainedEventCanonical(
    {
      id,
      chainId: chainMark,
      chainSeq: seqMark,
      prevHash: prevMark,
      idempotencyKey: entry.idempotencyKey,
      type: entry.type,
      organisationId,
      applicationId,
      occurredAt,
    },
    digests,
  );
  // Keys come in code-point order: applicationId, chainId, chainSeq, fields, id, idempotencyKey, occurredAt, organisationId, prevHash, …
  const [beforeChain, afterChain] = splitOnce(template, `"${chainMark}"`);
  const [beforeSeq, afterSeq] = splitOnce(afterChain, `:${seqMark},`);
  const [beforePrev, afterPrev] = splitOnce(afterSeq, `"${prevMark}"`);
  // One round trip (prisma/migrations/…_audit_append_function): the idempotency check, the chain's head
  // locked FOR UPDATE (appends to other chains do not wait), the event linked to it, the head moved.
  const rows = await tx.$queryRaw<Written[]>`
    SELECT seq, prev_hash, hash, chain_id::text AS chain_id, chain_seq
    FROM audit_append(${kind}, ${organisationId}::uuid, ${applicationId}, ${id}::uuid, ${entry.idempotencyKey}, ${entry.type}, ${entry.actor},
                      ${entry.occurredAt}, ${dataJson}::jsonb, ${salt}, ${beforeChain}, ${beforeSeq}, ${beforePrev}, ${afterPrev})`;
  const row = rows[0];
  if (row === undefined) {
    // Written before: a retry, which returns the event as it was first written.
    const existing = await tx.auditEvent.findUnique({ where: { idempotencyKey: entry.idempotencyKey } });
    if (existing === null) throw new Error(`could not append ${entry.idempotencyKey} to its ${kind} audit chain`);
    return existing;
  }
  // Everything else is what this call wrote: only what the database chose comes back.
  return {
    seq: row.seq,
    id,
    idempotencyKey: entry.idempotencyKey,
    organisationId,
    applicationId,
    type: entry.type,
    actor: entry.actor,
    occurredAt: new Date(occurredAt),
    data: data as Prisma.JsonObject,
    prevHash: row.prev_hash,
    hash: row.hash,
    chainId: row.chain_id,
    chainSeq: row.chain_seq,
    salt,
  };
}

interface Written {
  seq: bigint;
  prev_hash: string;
  hash: string;
  chain_id: string;
  chain_seq: number;
}

/**
 * A later claim of an application id (after an earlier claim ended unverified
 * and released it) gets a chain of its own: the open one is superseded and
 * keeps its events. Called in the registering transaction, before its first event.
 */
export async function openNewApplicationChain(tx: Tx, applicationId: string, at: Date = new Date()): Promise<void> {
  await tx.$executeRaw`
    UPDATE audit_chains SET superseded_at = ${at} WHERE kind = 'application' AND application_id = ${applicationId} AND superseded_at IS NULL`;
}

/** The stored hash of an event, recomputed from its stored fields. */
export function recomputeHash(event: AuditEvent): string {
  if (event.chainId === null || event.chainSeq === null || event.salt === null) {
    return legacyEventHash({
      id: event.id,
      idempotencyKey: event.idempotencyKey,
      type: event.type,
      actor: event.actor,
      organisationId: event.organisationId,
      applicationId: event.applicationId,
      occurredAt: event.occurredAt.toISOString(),
      data: event.data,
      prevHash: event.prevHash,
    });
  }
  return fullChainedEventHash(
    {
      id: event.id,
      chainId: event.chainId,
      chainSeq: event.chainSeq,
      prevHash: event.prevHash,
      idempotencyKey: event.idempotencyKey,
      type: event.type,
      organisationId: event.organisationId,
      applicationId: event.applicationId,
      occurredAt: event.occurredAt.toISOString(),
    },
    event.actor,
    (event.data ?? {}) as Record<string, unknown>,
    event.salt,
  );
}

export type ChainBreak = 'hash-mismatch' | 'broken-link' | 'gap' | 'missing-tail' | 'head-mismatch';

export interface ChainVerification {
  ok: boolean;
  /** Chains checked, and events in them. */
  chains: number;
  events: number;
  /** The first event whose hash, link or place does not hold. */
  brokenAt?: { chainId: string | null; seq?: bigint; chainSeq?: number; reason: ChainBreak };
}

/**
 * Recomputes every hash and link of one chain (null: the legacy segment), in
 * pages, oldest first, up to `upTo` events when given (a checkpoint's size).
 */
export async function verifyChain(
  registry: Registry,
  chainId: string | null,
  options: { pageSize?: number; upTo?: { size: number; head: string } } = {},
): Promise<{ ok: boolean; events: number; head: string; brokenAt?: ChainVerification['brokenAt'] }> {
  const pageSize = options.pageSize ?? 500;
  let prevHash = GENESIS_HASH;
  let events = 0;
  let after: bigint | undefined;
  for (;;) {
    const page = await registry.auditEvent.findMany({
      where: { chainId, ...(after === undefined ? {} : { seq: { gt: after } }) },
      orderBy: chainId === null ? { seq: 'asc' } : { chainSeq: 'asc' },
      take: pageSize,
    });
    for (const event of page) {
      if (options.upTo !== undefined && events >= options.upTo.size) break;
      const broken = (reason: ChainBreak) => ({
        ok: false,
        events,
        head: prevHash,
        brokenAt: { chainId, seq: event.seq, ...(event.chainSeq === null ? {} : { chainSeq: event.chainSeq }), reason },
      });
      if (chainId !== null && event.chainSeq !== events + 1) return broken('gap');
      if (event.prevHash !== prevHash) return broken('broken-link');
      if (recomputeHash(event) !== event.hash) return broken('hash-mismatch');
      prevHash = event.hash;
      events += 1;
    }
    if (page.length < pageSize || (options.upTo !== undefined && events >= options.upTo.size)) break;
    after = page[page.length - 1]?.seq;
  }
  if (options.upTo !== undefined) {
    if (events < options.upTo.size) return { ok: false, events, head: prevHash, brokenAt: { chainId, chainSeq: events + 1, reason: 'missing-tail' } };
    if (prevHash !== options.upTo.head)
      return { ok: false, events, head: prevHash, brokenAt: { chainId, chainSeq: events, reason: 'head-mismatch' } };
  }
  return { ok: true, events, head: prevHash };
}

/** Every chain of the log, and the legacy segment, checked against the heads the chains record. */
export async function verifyAuditChain(registry: Registry, pageSize = 500): Promise<ChainVerification> {
  const chains = await registry.auditChain.findMany({ orderBy: { position: 'asc' } });
  let events = 0;
  for (const chain of chains) {
    const result = await verifyChain(registry, chain.kind === 'legacy' ? null : chain.id, {
      pageSize,
      upTo: { size: chain.size, head: chain.headHash },
    });
    events += result.events;
    if (!result.ok) return { ok: false, chains: chains.length, events, ...(result.brokenAt === undefined ? {} : { brokenAt: result.brokenAt }) };
    // Events past the recorded head are as suspect as missing ones. The head moves in the transaction
    // that appends, so the head as it stands now covers every committed event, also those appended since.
    const now = chain.kind === 'legacy' ? chain : await registry.auditChain.findUniqueOrThrow({ where: { id: chain.id } });
    const beyond = await registry.auditEvent.findFirst({
      where: chain.kind === 'legacy' ? { chainId: null } : { chainId: chain.id, chainSeq: { gt: now.size } },
      orderBy: { seq: 'asc' },
      ...(chain.kind === 'legacy' ? { skip: chain.size } : {}),
    });
    if (beyond !== null) {
      return {
        ok: false,
        chains: chains.length,
        events,
        brokenAt: { chainId: chain.kind === 'legacy' ? null : chain.id, seq: beyond.seq, reason: 'gap' },
      };
    }
  }
  return { ok: true, chains: chains.length, events };
}
