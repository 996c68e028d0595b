import { createHash } from 'node:crypto';

/**
 * RFC 9162 §2.1 Merkle trees: leaf hash SHA-256(0x00 || leaf), node hash
 * SHA-256(0x01 || left || right), and for n leaves the left subtree holds the
 * largest power of two smaller than n. Inclusion proofs as in §2.1.3.
 */

const sha256 = (...parts: Buffer[]): Buffer => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
};

export const leafHash = (leaf: Buffer): Buffer => sha256(Buffer.from([0x00]), leaf);
export const nodeHash = (left: Buffer, right: Buffer): Buffer => sha256(Buffer.from([0x01]), left, right);

/** The largest power of two smaller than n (n > 1). */
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH(D[n]) over the leaves' hashes; the empty tree is SHA-256 of the empty string. */
export function merkleRoot(leafHashes: readonly Buffer[]): Buffer {
  if (leafHashes.length === 0) return sha256();
  if (leafHashes.length === 1) return leafHashes[0] as Buffer;
  const k = split(leafHashes.length);
  return nodeHash(merkleRoot(leafHashes.slice(0, k)), merkleRoot(leafHashes.slice(k)));
}

/** PATH(m, D[n]): the audit path of leaf m, nearest sibling first. */
export function inclusionPath(index: number, leafHashes: readonly Buffer[]): Buffer[] {
  if (!Number.isInteger(index) || index < 0 || index >= leafHashes.length)
    throw new RangeError(`leaf ${index} is not in a tree of ${leafHashes.length}`);
  if (leafHashes.length === 1) return [];
  const k = split(leafHashes.length);
  return index < k
    ? [...inclusionPath(index, leafHashes.slice(0, k)), merkleRoot(leafHashes.slice(k))]
    : [...inclusionPath(index - k, leafHashes.slice(k)), merkleRoot(leafHashes.slice(0, k))];
}

/**
 * RFC 9162 §2.1.3.2: verifies an inclusion proof, returning the root it leads
 * to, or undefined when the proof does not fit a tree of that size.
 */
export function rootFromInclusionProof(index: number, treeSize: number, leaf: Buffer, path: readonly Buffer[]): Buffer | undefined {
  if (!Number.isInteger(index) || !Number.isInteger(treeSize) || index < 0 || index >= treeSize) return undefined;
  let fn = index;
  let sn = treeSize - 1;
  let r = leaf;
  for (const p of path) {
    if (sn === 0) return undefined;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : undefined;
}
