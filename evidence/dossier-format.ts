/**
 * The dossier's shape (docs/evidence.md): what `admit evidence export` writes
 * and `admit evidence verify` reads. Pure types and constants, shared by the
 * builder, the HTML rendering and the offline verifier.
 */
import type { JWK } from 'jose';
import type { ChainKind } from '../registry/audit';
import type { CheckpointLeaf, InclusionProof, PublishedCheckpoint } from './checkpoint';

export const DOSSIER_FORMAT = 'admit-evidence-dossier/1';
export const DOSSIER_JWS_TYP = 'admit-dossier+jws';
export const AUDIENCES = ['full', 'partner'] as const;
export type Audience = (typeof AUDIENCES)[number];

/** A value left out of the partner's copy: the salted digest of what was there. */
export interface Omission {
  omitted: true;
  /** SHA-256 over RFC 8785 [salt, path, value]; see `digest` in docs/evidence.md. */
  digest: string;
}

/** One audit event as the dossier carries it. */
export interface DossierEvent {
  /** The registry's global order (a string: it is a 64-bit integer). */
  seq: string;
  /** Place in its chain, from 1; null in the legacy segment. */
  chainSeq: number | null;
  id: string;
  idempotencyKey: string;
  type: string;
  organisationId: string | null;
  applicationId: string | null;
  occurredAt: string;
  /** Absent when omitted (see `omitted`). */
  actor?: string;
  /** Only the fields shown; omitted ones are in `omitted`. */
  data: Record<string, unknown>;
  prevHash: string;
  hash: string;
  /** Full copy: the event's salt, from which each field's salt derives. */
  salt?: string;
  /** Partner copy: the salts of the fields it shows, by RFC 6901 path. */
  salts?: Record<string, string>;
  /** Partner copy: the committed digest of each field it leaves out, by path. */
  omitted?: Record<string, string>;
}

export interface DossierChain {
  chainId: string;
  kind: ChainKind;
  openedAt: string | null;
  supersededAt: string | null;
  /**
   * Legacy segment only: this partner's events in the global chain that was
   * frozen by the migration. Their own hashes verify; their links run through
   * other partners' events, which a dossier does not carry.
   */
  partial?: true;
  events: DossierEvent[];
  /** The chain's head as the checkpoint commits to it, and the proof it is in the checkpoint's tree. */
  leaf: CheckpointLeaf;
  inclusionProof: InclusionProof;
}

export interface Dossier {
  format: typeof DOSSIER_FORMAT;
  audience: Audience;
  /** Random per export: the omission salts of table-derived values derive from it. */
  exportId: string;
  generatedAt: string;
  applicationId: string;
  record: Record<string, unknown>;
  sections: Record<string, unknown>;
  /**
   * The controls each event evidences (OWASP NHI Top 10, NIST CSF 2.0, SP 800-207), computed from the
   * events by `evidence/controls.ts` (issue 12, item 4); null when that mapping is not installed.
   */
  controls: unknown;
  chains: DossierChain[];
  checkpoint: PublishedCheckpoint;
  /** The public keys that signed: a convenience. Verify against the keys from the well-known URL (`--keys`). */
  keys: { keys: JWK[] };
}

/** The signed file: the dossier and a JWS with a detached payload, the dossier's RFC 8785 canonical bytes. */
export interface SignedDossier {
  dossier: Dossier;
  signature: { protected: string; signature: string };
}
