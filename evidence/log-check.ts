import type { JSONWebKeySet } from 'jose';
import type { Registry } from '../registry/client';
import { verifyChain, type ChainVerification } from '../registry/audit';
import { rootOf, verifyCheckpoint, type CheckpointFile } from './checkpoint';

/**
 * Checks the registry's audit log against a checkpoint held outside the
 * database (a file from ADMIT_EVIDENCE_DIR): each chain must still hold, up
 * to the checkpoint's head, exactly the events it committed to. Rows edited,
 * deleted or truncated behind the triggers' back show, even when whoever did
 * it also rewound the chain's head row.
 */
export async function verifyLogAgainstCheckpoint(
  registry: Registry,
  checkpoint: CheckpointFile,
  options: { jwks?: JSONWebKeySet; only?: string[] } = {},
): Promise<ChainVerification & { checkpoint: number }> {
  if (options.jwks !== undefined) await verifyCheckpoint(checkpoint, options.jwks);
  if (rootOf(checkpoint.leaves) !== checkpoint.rootHash || checkpoint.leaves.length !== checkpoint.treeSize) {
    throw new Error(`checkpoint ${checkpoint.seq}: its leaves do not make its root`);
  }
  let events = 0;
  const leaves = checkpoint.leaves.filter((leaf) => options.only === undefined || options.only.includes(leaf.chainId));
  for (const leaf of leaves) {
    const result = await verifyChain(registry, leaf.kind === 'legacy' ? null : leaf.chainId, { upTo: { size: leaf.size, head: leaf.head } });
    events += result.events;
    if (!result.ok) {
      return {
        ok: false,
        chains: leaves.length,
        events,
        checkpoint: checkpoint.seq,
        ...(result.brokenAt === undefined ? {} : { brokenAt: { ...result.brokenAt, chainId: leaf.chainId } }),
      };
    }
  }
  return { ok: true, chains: leaves.length, events, checkpoint: checkpoint.seq };
}
