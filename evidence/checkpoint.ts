import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import canonicalize from 'canonicalize';
import { CompactSign, compactVerify, createLocalJWKSet, type JSONWebKeySet } from 'jose';
import type { Registry } from '../registry/client';
import type { ChainKind } from '../registry/audit';
import type { EvidenceKeyring } from './keys';
import { inclusionPath, leafHash, merkleRoot, rootFromInclusionProof } from './merkle';

/**
 * Signed checkpoints over the heads of every audit chain, in the style of a
 * Certificate Transparency signed tree head (docs/evidence.md).
 */

export const CHECKPOINT_TYPE = 'admit-evidence-checkpoint/1';
export const CHECKPOINT_JWS_TYP = 'admit-checkpoint+jws';

/** One leaf: a chain's head. Hashed as its RFC 8785 canonical JSON. */
export interface CheckpointLeaf {
  chainId: string;
  kind: ChainKind;
  size: number;
  head: string;
}

/** What the checkpoint's JWS signs. */
export interface CheckpointBody {
  typ: typeof CHECKPOINT_TYPE;
  seq: number;
  createdAt: string;
  treeSize: number;
  rootHash: string;
}

/** A checkpoint as published: the body in clear and its JWS (whose payload is the same body). */
export interface PublishedCheckpoint extends CheckpointBody {
  kid: string;
  jws: string;
}

/** A checkpoint as written outside the database: with its leaves, so truncation of any chain shows. */
export interface CheckpointFile extends PublishedCheckpoint {
  leaves: CheckpointLeaf[];
}

export interface InclusionProof {
  leafIndex: number;
  treeSize: number;
  /** RFC 9162 §2.1.3 audit path, hex, nearest sibling first. */
  path: string[];
}

export const leafBytes = (leaf: CheckpointLeaf): Buffer =>
  Buffer.from(canonicalize({ chainId: leaf.chainId, kind: leaf.kind, size: leaf.size, head: leaf.head }) ?? '');

export const leafHashOf = (leaf: CheckpointLeaf): Buffer => leafHash(leafBytes(leaf));

export function rootOf(leaves: readonly CheckpointLeaf[]): string {
  return merkleRoot(leaves.map(leafHashOf)).toString('hex');
}

export function inclusionProofFor(leaves: readonly CheckpointLeaf[], chainId: string): InclusionProof | undefined {
  const index = leaves.findIndex((l) => l.chainId === chainId);
  if (index < 0) return undefined;
  return { leafIndex: index, treeSize: leaves.length, path: inclusionPath(index, leaves.map(leafHashOf)).map((h) => h.toString('hex')) };
}

/** Whether `leaf` is at `proof.leafIndex` of a tree whose root is `rootHash`. */
export function verifyInclusion(leaf: CheckpointLeaf, proof: InclusionProof, rootHash: string): boolean {
  if (!proof.path.every((h) => /^[0-9a-f]{64}$/.test(h))) return false;
  const root = rootFromInclusionProof(
    proof.leafIndex,
    proof.treeSize,
    leafHashOf(leaf),
    proof.path.map((h) => Buffer.from(h, 'hex')),
  );
  return root !== undefined && root.toString('hex') === rootHash;
}

export async function signCheckpoint(body: CheckpointBody, keyring: EvidenceKeyring): Promise<PublishedCheckpoint> {
  const jws = await new CompactSign(Buffer.from(canonicalize(body) ?? ''))
    .setProtectedHeader({ alg: 'EdDSA', kid: keyring.signing.kid, typ: CHECKPOINT_JWS_TYP })
    .sign(keyring.signing.privateKey);
  return { ...body, kid: keyring.signing.kid, jws };
}

/**
 * Checks a checkpoint's signature against a key set and returns the body it
 * signs; throws when the signature, type or the clear fields do not hold.
 */
export async function verifyCheckpoint(
  checkpoint: Pick<PublishedCheckpoint, 'jws'> & Partial<CheckpointBody>,
  jwks: JSONWebKeySet,
): Promise<CheckpointBody> {
  const { payload, protectedHeader } = await compactVerify(checkpoint.jws, createLocalJWKSet(jwks), { algorithms: ['EdDSA', 'ES256'] });
  if (protectedHeader.typ !== CHECKPOINT_JWS_TYP) throw new Error(`the checkpoint's JWS is of type ${String(protectedHeader.typ)}`);
  const body = JSON.parse(Buffer.from(payload).toString('utf8')) as CheckpointBody;
  if (body.typ !== CHECKPOINT_TYPE) throw new Error('the signed payload is not an Admit checkpoint');
  for (const field of ['seq', 'createdAt', 'treeSize', 'rootHash'] as const) {
    if (checkpoint[field] !== undefined && checkpoint[field] !== body[field])
      throw new Error(`the checkpoint's ${field} differs from what its signature covers`);
  }
  return body;
}

/** Serialises checkpoint writers (not appends). */
const CHECKPOINT_LOCK = 4_170_012;

function fileName(seq: number): string {
  return `checkpoint-${String(seq).padStart(10, '0')}.json`;
}

/** Writes the checkpoint file and `latest.json` atomically (temporary file, then rename). */
export async function writeCheckpointFile(dir: string, checkpoint: CheckpointFile): Promise<string> {
  await mkdir(dir, { recursive: true });
  const text = `${JSON.stringify(checkpoint, null, 2)}\n`;
  const target = path.join(dir, fileName(checkpoint.seq));
  for (const file of [target, path.join(dir, 'latest.json')]) {
    const temporary = `${file}.${process.pid}.tmp`;
    await writeFile(temporary, text, { mode: 0o644 });
    await rename(temporary, file);
  }
  return target;
}

function toFile(row: {
  seq: bigint;
  createdAt: Date;
  treeSize: number;
  rootHash: string;
  kid: string;
  jws: string;
  leaves: unknown;
}): CheckpointFile {
  return {
    typ: CHECKPOINT_TYPE,
    seq: Number(row.seq),
    createdAt: row.createdAt.toISOString(),
    treeSize: row.treeSize,
    rootHash: row.rootHash,
    kid: row.kid,
    jws: row.jws,
    leaves: row.leaves as CheckpointLeaf[],
  };
}

export async function latestCheckpoint(registry: Registry): Promise<CheckpointFile | undefined> {
  const row = await registry.auditCheckpoint.findFirst({ orderBy: { seq: 'desc' } });
  return row === null ? undefined : toFile(row);
}

export async function checkpointBySeq(registry: Registry, seq: number): Promise<CheckpointFile | undefined> {
  const row = await registry.auditCheckpoint.findUnique({ where: { seq: BigInt(seq) } });
  return row === null ? undefined : toFile(row);
}

/**
 * Commits to the heads of every chain (the legacy segment included), signs
 * the tree head and stores it, then writes it to `dir`. When no chain has
 * moved since the latest checkpoint, that one stands and nothing is written.
 */
export async function createCheckpoint(
  registry: Registry,
  keyring: EvidenceKeyring,
  dir: string | undefined,
  now: Date = new Date(),
): Promise<{ checkpoint: CheckpointFile; created: boolean; file?: string }> {
  const result = await registry.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${CHECKPOINT_LOCK})`;
    const chains = await tx.auditChain.findMany({ orderBy: { position: 'asc' }, select: { id: true, kind: true, size: true, headHash: true } });
    const leaves: CheckpointLeaf[] = chains.map((c) => ({ chainId: c.id, kind: c.kind as ChainKind, size: c.size, head: c.headHash }));
    const rootHash = rootOf(leaves);
    const previous = await tx.auditCheckpoint.findFirst({ orderBy: { seq: 'desc' } });
    if (previous !== null && previous.rootHash === rootHash && previous.treeSize === leaves.length)
      return { checkpoint: toFile(previous), created: false };
    const [next] = await tx.$queryRaw<{ seq: bigint }[]>`SELECT nextval(pg_get_serial_sequence('audit_checkpoints', 'seq')) AS seq`;
    const seq = Number(next?.seq);
    const body: CheckpointBody = { typ: CHECKPOINT_TYPE, seq, createdAt: now.toISOString(), treeSize: leaves.length, rootHash };
    const signed = await signCheckpoint(body, keyring);
    await tx.auditCheckpoint.create({
      data: {
        seq: BigInt(seq),
        createdAt: now,
        treeSize: leaves.length,
        rootHash,
        leaves: leaves as unknown as object[],
        kid: signed.kid,
        jws: signed.jws,
      },
    });
    return { checkpoint: { ...signed, leaves }, created: true };
  });
  if (!result.created || dir === undefined) return result;
  return { ...result, file: await writeCheckpointFile(dir, result.checkpoint) };
}

/**
 * A checkpoint that covers each chain at its current head: the latest one if it
 * does, else a new one (an export does not wait for the next periodic one).
 */
export async function checkpointCovering(
  registry: Registry,
  keyring: EvidenceKeyring,
  dir: string | undefined,
  chainIds: string[],
): Promise<CheckpointFile> {
  const latest = await latestCheckpoint(registry);
  const chains = await registry.auditChain.findMany({ where: { id: { in: chainIds } }, select: { id: true, size: true } });
  const covered = latest !== undefined && chains.every((c) => latest.leaves.some((leaf) => leaf.chainId === c.id && leaf.size === c.size));
  if (covered) return latest;
  return (await createCheckpoint(registry, keyring, dir)).checkpoint;
}

/** The strip of a checkpoint the well-known URL serves: no leaves, so no other partner's head. */
export function publishedOf(checkpoint: CheckpointFile): PublishedCheckpoint {
  const { leaves: _leaves, ...published } = checkpoint;
  return published;
}

/**
 * Runs `createCheckpoint` every `everyMs` in the worker, and once at start.
 * The state lives in the database: a checkpoint missed while no worker ran is
 * simply the next one. Failures are logged and retried at the next tick.
 */
export function startCheckpointer(
  registry: Registry,
  keyring: EvidenceKeyring,
  dir: string,
  everyMs: number,
  log: (line: string) => void = (line) => console.error(line),
): { stop(): Promise<void> } {
  let running: Promise<void> = Promise.resolve();
  const tick = () => {
    running = running.then(async () => {
      try {
        const { checkpoint, created } = await createCheckpoint(registry, keyring, dir);
        if (created) log(`evidence: checkpoint ${checkpoint.seq} over ${checkpoint.treeSize} chains, root ${checkpoint.rootHash}`);
      } catch (error) {
        log(`evidence: checkpoint failed, retrying in ${Math.round(everyMs / 1000)}s: ${error instanceof Error ? error.message : String(error)}`);
      }
    });
  };
  tick();
  const timer = setInterval(tick, everyMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
