import { createLocalJWKSet, flattenedVerify, type JSONWebKeySet } from 'jose';
import { chainedEventHash, fieldDigest, fieldPath, fullChainedEventHash, GENESIS_HASH, legacyEventHash } from './event-hash';
import { verifyCheckpoint, verifyInclusion, type CheckpointFile, type CheckpointLeaf, type PublishedCheckpoint } from './checkpoint';
import { canonicalBytes } from './dossier';
import { DOSSIER_FORMAT, DOSSIER_JWS_TYP, type DossierChain, type DossierEvent, type SignedDossier } from './dossier-format';

/**
 * Offline verification of a dossier (docs/evidence.md): its signature, every
 * event's hash and link, each chain's completeness and its inclusion in the
 * signed checkpoint, and optionally a checkpoint the verifier holds from
 * elsewhere. Needs no database and no network.
 */

export type ProblemCode =
  | 'malformed'
  | 'signature'
  | 'checkpoint-signature'
  | 'inclusion-proof'
  | 'event-altered'
  | 'event-removed'
  | 'event-inserted'
  | 'chain-start'
  | 'external-checkpoint';

export interface Problem {
  code: ProblemCode;
  message: string;
  chainId?: string;
  chainSeq?: number | null;
  eventId?: string;
}

export interface DossierVerification {
  ok: boolean;
  /** Where the keys came from: the verifier's (`--keys`) or the dossier's own (self-asserted). */
  keys: 'given' | 'embedded';
  signatureKid?: string;
  checkpoint?: { seq: number; treeSize: number; rootHash: string };
  chains: { chainId: string; kind: string; events: number; checkpointed: number; ok: boolean }[];
  /** Partner copies: how many fields were left out, each still committed by its digest. */
  omittedFields: number;
  problems: Problem[];
}

/**
 * Recomputes one event's hash from what the dossier shows of it. Undefined for
 * a legacy event whose content the partner's copy left out (only its hash is shown),
 * or a chained event whose disclosed salts and digests do not cover exactly its fields.
 */
export function recomputeDossierEventHash(event: DossierEvent, chainId: string, legacy: boolean): string | undefined {
  if (legacy) {
    if (event.omitted !== undefined || event.actor === undefined) return undefined;
    const { id, idempotencyKey, type, actor, organisationId, applicationId, occurredAt, data, prevHash } = event;
    return legacyEventHash({ id, idempotencyKey, type, actor, organisationId, applicationId, occurredAt, data, prevHash });
  }
  if (typeof event.chainSeq !== 'number') return undefined;
  const envelope = {
    id: event.id,
    chainId,
    chainSeq: event.chainSeq,
    prevHash: event.prevHash,
    idempotencyKey: event.idempotencyKey,
    type: event.type,
    organisationId: event.organisationId,
    applicationId: event.applicationId,
    occurredAt: event.occurredAt,
  };
  if (event.salt !== undefined) {
    if (event.actor === undefined) return undefined;
    return fullChainedEventHash(envelope, event.actor, event.data, event.salt);
  }
  // Partner copy: shown fields with their salts, left-out fields by their digests.
  const digests: Record<string, string> = { ...(event.omitted ?? {}) };
  const shown = new Map<string, unknown>(Object.entries(event.data).map(([k, v]) => [fieldPath('data', k), v]));
  if (event.actor !== undefined) shown.set(fieldPath('actor'), event.actor);
  const salts = event.salts ?? {};
  if (Object.keys(salts).length !== shown.size) return undefined;
  for (const [path, value] of shown) {
    const salt = salts[path];
    if (salt === undefined || path in digests) return undefined;
    digests[path] = fieldDigest(salt, path, value);
  }
  return chainedEventHash(envelope, digests);
}

function describe(event: DossierEvent): string {
  return `event ${event.chainSeq ?? '?'} (${event.type}, seq ${event.seq}, id ${event.id})`;
}

/**
 * One chain: walks back from the head the checkpoint commits to, so the events
 * that lead there are the chain; an event the walk needs and cannot find was
 * removed, an event it never reaches was inserted, an event whose content no
 * longer gives its hash was altered. Events appended after the checkpoint are
 * walked forward from its head.
 */
function checkChain(chain: DossierChain): Problem[] {
  const problems: Problem[] = [];
  const at = (e: DossierEvent) => ({ chainId: chain.chainId, chainSeq: e.chainSeq, eventId: e.id });
  if (chain.partial === true) {
    for (const event of chain.events) {
      const recomputed = recomputeDossierEventHash(event, chain.chainId, true);
      if (recomputed !== undefined && recomputed !== event.hash) {
        problems.push({ code: 'event-altered', message: `legacy ${describe(event)}: its content does not give its hash`, ...at(event) });
      }
    }
    return problems;
  }
  const byHash = new Map<string, DossierEvent[]>();
  for (const e of chain.events) byHash.set(e.hash, [...(byHash.get(e.hash) ?? []), e]);
  const reached = new Set<DossierEvent>();
  const unreachedAtOrBelow = (place: number) =>
    chain.events
      .filter((e) => !reached.has(e) && typeof e.chainSeq === 'number' && e.chainSeq <= place)
      .sort((a, b) => (b.chainSeq ?? 0) - (a.chainSeq ?? 0));
  const follow = (event: DossierEvent, place: number) => {
    reached.add(event);
    if (event.chainSeq !== place || recomputeDossierEventHash(event, chain.chainId, false) !== event.hash) {
      problems.push({ code: 'event-altered', message: `${describe(event)}: its content does not give its hash ${event.hash}`, ...at(event) });
    }
    if (place === 1 && event.prevHash !== GENESIS_HASH) {
      problems.push({ code: 'chain-start', message: `the chain's first event does not start from the genesis hash`, ...at(event) });
    }
    return event.prevHash;
  };
  let current = chain.leaf.head;
  let place = chain.leaf.size;
  while (place >= 1) {
    const event = (byHash.get(current) ?? []).find((e) => !reached.has(e));
    if (event !== undefined) {
      current = follow(event, place);
      place -= 1;
      continue;
    }
    // The event this place needs is not there. Another event in its place: it was replaced (altered and rehashed).
    const below = unreachedAtOrBelow(place);
    const replacement = below.find((e) => e.chainSeq === place);
    if (replacement !== undefined) {
      problems.push({
        code: 'event-altered',
        message: `${describe(replacement)}: replaced; the chain needs an event with hash ${current} in its place`,
        ...at(replacement),
      });
      reached.add(replacement);
      current = replacement.prevHash;
      place -= 1;
      continue;
    }
    // None: removed, down to the next event the dossier still has, from which the walk resumes.
    const next = below[0];
    const first = (next?.chainSeq ?? 0) + 1;
    problems.push({
      code: 'event-removed',
      message:
        first === place
          ? `event ${place} of chain ${chain.chainId} (hash ${current}) is missing`
          : `events ${first}–${place} of chain ${chain.chainId} are missing (the last had hash ${current})`,
      chainId: chain.chainId,
      chainSeq: first,
    });
    if (next === undefined) break;
    place = next.chainSeq ?? 0;
    current = next.hash;
  }
  // After the checkpoint: forward from its head.
  let previous = chain.leaf.head;
  const after = chain.events
    .filter((e) => typeof e.chainSeq === 'number' && e.chainSeq > chain.leaf.size)
    .sort((a, b) => (a.chainSeq ?? 0) - (b.chainSeq ?? 0));
  let expected = chain.leaf.size + 1;
  for (const event of after) {
    if (event.chainSeq !== expected) {
      problems.push({
        code: 'event-removed',
        message: `event ${expected} of chain ${chain.chainId} is missing`,
        chainId: chain.chainId,
        chainSeq: expected,
      });
      break;
    }
    if (event.prevHash !== previous) break;
    reached.add(event);
    if (recomputeDossierEventHash(event, chain.chainId, false) !== event.hash) {
      problems.push({ code: 'event-altered', message: `${describe(event)}: its content does not give its hash ${event.hash}`, ...at(event) });
    }
    previous = event.hash;
    expected += 1;
  }
  const unreached = chain.events.filter((e) => !reached.has(e));
  for (const event of unreached) {
    problems.push({ code: 'event-inserted', message: `${describe(event)} is not part of the chain the checkpoint commits to`, ...at(event) });
  }
  return problems.sort((a, b) => (a.chainSeq ?? 0) - (b.chainSeq ?? 0));
}

function isCheckpointFile(value: PublishedCheckpoint | CheckpointFile): value is CheckpointFile {
  return Array.isArray((value as CheckpointFile).leaves);
}

export async function verifyDossier(
  signed: SignedDossier,
  options: { jwks?: JSONWebKeySet; checkpoint?: PublishedCheckpoint | CheckpointFile } = {},
): Promise<DossierVerification> {
  const problems: Problem[] = [];
  const dossier = signed?.dossier;
  const result: DossierVerification = { ok: false, keys: options.jwks === undefined ? 'embedded' : 'given', chains: [], omittedFields: 0, problems };
  if (dossier?.format !== DOSSIER_FORMAT || !Array.isArray(dossier.chains) || typeof signed.signature?.signature !== 'string') {
    problems.push({ code: 'malformed', message: `not an ${DOSSIER_FORMAT} document` });
    return result;
  }
  const jwks = options.jwks ?? dossier.keys;
  try {
    const verified = await flattenedVerify(
      { protected: signed.signature.protected, payload: canonicalBytes(dossier).toString('base64url'), signature: signed.signature.signature },
      createLocalJWKSet(jwks),
      { algorithms: ['EdDSA', 'ES256'] },
    );
    const header = verified.protectedHeader ?? {};
    if (header.typ !== DOSSIER_JWS_TYP) throw new Error(`the JWS is of type ${String(header.typ)}`);
    if (header.kid !== undefined) result.signatureKid = header.kid;
  } catch (error) {
    problems.push({
      code: 'signature',
      message: `the dossier's signature does not verify: ${error instanceof Error ? error.message : String(error)}`,
    });
  }
  try {
    const body = await verifyCheckpoint(dossier.checkpoint, jwks);
    result.checkpoint = { seq: body.seq, treeSize: body.treeSize, rootHash: body.rootHash };
  } catch (error) {
    problems.push({
      code: 'checkpoint-signature',
      message: `the checkpoint's signature does not verify: ${error instanceof Error ? error.message : String(error)}`,
    });
  }
  for (const chain of dossier.chains) {
    const chainProblems: Problem[] = [];
    if (
      chain.leaf.chainId !== chain.chainId ||
      chain.inclusionProof.treeSize !== dossier.checkpoint.treeSize ||
      !verifyInclusion(chain.leaf, chain.inclusionProof, dossier.checkpoint.rootHash)
    ) {
      chainProblems.push({
        code: 'inclusion-proof',
        message: `chain ${chain.chainId}: its head is not proven in checkpoint ${dossier.checkpoint.seq}`,
        chainId: chain.chainId,
      });
    }
    chainProblems.push(...checkChain(chain));
    for (const e of chain.events) result.omittedFields += Object.keys(e.omitted ?? {}).length;
    problems.push(...chainProblems);
    result.chains.push({
      chainId: chain.chainId,
      kind: chain.kind,
      events: chain.events.length,
      checkpointed: chain.leaf.size,
      ok: chainProblems.length === 0,
    });
  }
  if (options.checkpoint !== undefined) problems.push(...(await againstHeld(dossier.chains, options.checkpoint, jwks)));
  result.ok = problems.length === 0;
  return result;
}

/** Against a checkpoint the verifier holds from elsewhere: the dossier must reach every head it commits to. */
async function againstHeld(chains: DossierChain[], held: PublishedCheckpoint | CheckpointFile, jwks: JSONWebKeySet): Promise<Problem[]> {
  try {
    await verifyCheckpoint(held, jwks);
  } catch (error) {
    return [
      { code: 'external-checkpoint', message: `the checkpoint given does not verify: ${error instanceof Error ? error.message : String(error)}` },
    ];
  }
  if (!isCheckpointFile(held)) return [];
  const problems: Problem[] = [];
  for (const chain of chains) {
    if (chain.partial === true) continue;
    const leaf: CheckpointLeaf | undefined = held.leaves.find((l) => l.chainId === chain.chainId);
    if (leaf === undefined) continue;
    const event = chain.events.find((e) => e.chainSeq === leaf.size);
    if (event === undefined) {
      const last = Math.max(0, ...chain.events.map((e) => e.chainSeq ?? 0));
      problems.push({
        code: 'event-removed',
        message: `checkpoint ${held.seq} commits chain ${chain.chainId} to ${leaf.size} events; the dossier stops at ${last}: events ${last + 1}–${leaf.size} were removed`,
        chainId: chain.chainId,
        chainSeq: last + 1,
      });
    } else if (event.hash !== leaf.head) {
      problems.push({
        code: 'event-altered',
        message: `checkpoint ${held.seq} commits event ${leaf.size} of chain ${chain.chainId} to hash ${leaf.head}; the dossier has ${event.hash}`,
        chainId: chain.chainId,
        chainSeq: leaf.size,
        eventId: event.id,
      });
    }
  }
  return problems;
}
