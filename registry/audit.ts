import { createHash, randomUUID } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { Prisma, Registry } from './client';
import type { AuditEvent } from '../generated/prisma/client';
import { isAuditEventType, type AuditEventType } from '../domain/audit-events';

/** The chain's first `prevHash`. */
export const GENESIS_HASH = '0'.repeat(64);

/** Serialises appends so each event links to the one before it. */
const AUDIT_CHAIN_LOCK = 4_170_001;

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

function hashEvent(fields: {
  id: string;
  idempotencyKey: string;
  type: string;
  actor: string;
  organisationId: string | null;
  applicationId: string | null;
  occurredAt: string;
  data: unknown;
  prevHash: string;
}): string {
  // RFC 8785 canonical JSON: the same content always hashes the same.
  return createHash('sha256')
    .update(canonicalize(fields) ?? '')
    .digest('hex');
}

/**
 * Appends an event to the tamper-evident log inside the caller's transaction,
 * so the evidence and the change it describes commit together.
 */
export async function appendAuditEvent(tx: Tx, entry: AuditEntry): Promise<AuditEvent> {
  if (!isAuditEventType(entry.type)) throw new TypeError(`${JSON.stringify(entry.type)} is not an audit event type (domain/audit-events.ts).`);
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(${AUDIT_CHAIN_LOCK})`;
  const existing = await tx.auditEvent.findUnique({ where: { idempotencyKey: entry.idempotencyKey } });
  if (existing !== null) return existing;
  const last = await tx.auditEvent.findFirst({ orderBy: { seq: 'desc' }, select: { hash: true } });
  // Exactly these fields are hashed and stored; verifyAuditChain recomputes from the stored row.
  const chained = {
    id: randomUUID(),
    idempotencyKey: entry.idempotencyKey,
    type: entry.type,
    actor: entry.actor,
    organisationId: entry.organisationId ?? null,
    applicationId: entry.applicationId ?? null,
    occurredAt: entry.occurredAt.toISOString(),
    data: entry.data,
    prevHash: last?.hash ?? GENESIS_HASH,
  };
  return tx.auditEvent.create({
    data: { ...chained, occurredAt: new Date(chained.occurredAt), hash: hashEvent(chained) },
  });
}

export interface ChainVerification {
  ok: boolean;
  events: number;
  /** The first event whose hash or link does not hold. */
  brokenAt?: { seq: bigint; reason: 'hash-mismatch' | 'broken-link' };
}

/** Recomputes every hash and link of the log, oldest first, in pages. */
export async function verifyAuditChain(registry: Registry, pageSize = 500): Promise<ChainVerification> {
  let prevHash = GENESIS_HASH;
  let events = 0;
  let after: bigint | undefined;
  for (;;) {
    const page = await registry.auditEvent.findMany({
      where: after === undefined ? {} : { seq: { gt: after } },
      orderBy: { seq: 'asc' },
      take: pageSize,
    });
    if (page.length === 0) return { ok: true, events };
    for (const event of page) {
      if (event.prevHash !== prevHash) return { ok: false, events, brokenAt: { seq: event.seq, reason: 'broken-link' } };
      const recomputed = hashEvent({
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
      if (recomputed !== event.hash) return { ok: false, events, brokenAt: { seq: event.seq, reason: 'hash-mismatch' } };
      prevHash = event.hash;
      events += 1;
    }
    after = page[page.length - 1]?.seq;
  }
}
