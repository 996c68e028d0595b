import { createHmac, hash } from 'node:crypto';
import canonicalize from 'canonicalize';

/**
 * How an audit event's hash is computed: pure, so the offline verifier and the
 * registry share it (docs/evidence.md).
 *
 * - Legacy events (the global chain before chains per application) hash their
 *   RFC 8785 canonical JSON, as they always did.
 * - Chained events commit to their actor and to each top-level field of their
 *   data through a salted digest, so a copy that leaves a field out (the
 *   partner's copy of a dossier) still verifies: it carries the digest instead.
 *   Each field's salt is HMAC-SHA256(event salt, field path); the event salt is
 *   32 random bytes kept in the registry. The full copy discloses the event
 *   salt; the partner copy discloses only the salts of the fields it shows, so
 *   an omitted short value (a name, "approve") cannot be found by trying
 *   candidates against its digest.
 */

/** A chain's first `prevHash`. */
export const GENESIS_HASH = '0'.repeat(64);

const sha256 = (text: string): string => hash('sha256', text, 'hex');
const canonical = (value: unknown): string => canonicalize(value) ?? '';

export interface LegacyEventFields {
  id: string;
  idempotencyKey: string;
  type: string;
  actor: string;
  organisationId: string | null;
  applicationId: string | null;
  occurredAt: string;
  data: unknown;
  prevHash: string;
}

export function legacyEventHash(fields: LegacyEventFields): string {
  return sha256(canonical(fields));
}

/** The envelope every chained event's hash covers in clear. */
export interface ChainedEnvelope {
  id: string;
  chainId: string;
  chainSeq: number;
  prevHash: string;
  idempotencyKey: string;
  type: string;
  organisationId: string | null;
  applicationId: string | null;
  occurredAt: string;
}

/** RFC 6901 pointer of a committed field: `/actor`, `/data/<key>`. */
export function fieldPath(...tokens: string[]): string {
  return tokens.map((t) => `/${t.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/** The event salt's bytes, given as hex or already decoded (an append derives several field salts from one). */
export function fieldSalt(eventSalt: string | Buffer, path: string): string {
  return createHmac('sha256', typeof eventSalt === 'string' ? Buffer.from(eventSalt, 'hex') : eventSalt)
    .update(path)
    .digest('hex');
}

export function fieldDigest(salt: string, path: string, value: unknown): string {
  // canonical([salt, path, value]), one element at a time (RFC 8785 §3.2.2: an array is its elements' forms, in order).
  return sha256(`[${canonical(salt)},${canonical(path)},${canonical(value)}]`);
}

/** Every committed field of an event in clear: its actor and each top-level key of its data. */
export function committedValues(actor: string, data: Record<string, unknown>): Map<string, unknown> {
  const values = new Map<string, unknown>([[fieldPath('actor'), actor]]);
  for (const [key, value] of Object.entries(data)) values.set(fieldPath('data', key), value);
  return values;
}

/** The salted digest of every committed field, by its path. */
export function fieldDigests(actor: string, data: Record<string, unknown>, eventSalt: string): Record<string, string> {
  const saltBytes = Buffer.from(eventSalt, 'hex');
  const digests: Record<string, string> = {};
  for (const [path, value] of committedValues(actor, data)) digests[path] = fieldDigest(fieldSalt(saltBytes, path), path, value);
  return digests;
}

/** The RFC 8785 canonical JSON a chained event's hash is the SHA-256 of. */
export function chainedEventCanonical(envelope: ChainedEnvelope, fieldDigests: Record<string, string>): string {
  const { id, chainId, chainSeq, prevHash, idempotencyKey, type, organisationId, applicationId, occurredAt } = envelope;
  return canonical({ v: 2, id, chainId, chainSeq, prevHash, idempotencyKey, type, organisationId, applicationId, occurredAt, fields: fieldDigests });
}

export function chainedEventHash(envelope: ChainedEnvelope, fieldDigests: Record<string, string>): string {
  return sha256(chainedEventCanonical(envelope, fieldDigests));
}

/** The hash of a chained event known in full (with its event salt). */
export function fullChainedEventHash(envelope: ChainedEnvelope, actor: string, data: Record<string, unknown>, eventSalt: string): string {
  return chainedEventHash(envelope, fieldDigests(actor, data, eventSalt));
}
