import { describe, expect, it } from 'vitest';
import { inclusionPath, leafHash, merkleRoot, rootFromInclusionProof } from '../../evidence/merkle';

// The Certificate Transparency test vectors (RFC 6962/9162 trees over these leaves; roots of the first n).
const LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map((h) => Buffer.from(h, 'hex'));
const ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];

describe('RFC 9162 Merkle trees', () => {
  it('hash the empty tree as SHA-256 of nothing', () => {
    expect(merkleRoot([]).toString('hex')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('give the CT test vectors’ roots for 1 to 8 leaves, power of two or not', () => {
    const hashes = LEAVES.map(leafHash);
    expect(ROOTS.map((_, i) => merkleRoot(hashes.slice(0, i + 1)).toString('hex'))).toEqual(ROOTS);
  });

  it('prove every leaf of every tree up to 8, and refuse a changed leaf, index or path', () => {
    const hashes = LEAVES.map(leafHash);
    for (let n = 1; n <= 8; n += 1) {
      const tree = hashes.slice(0, n);
      const root = merkleRoot(tree);
      for (let m = 0; m < n; m += 1) {
        const path = inclusionPath(m, tree);
        expect(rootFromInclusionProof(m, n, tree[m] as Buffer, path)).toEqual(root);
        expect(rootFromInclusionProof(m, n, leafHash(Buffer.from('ff', 'hex')), path)).not.toEqual(root);
        if (n > 1) expect(rootFromInclusionProof((m + 1) % n, n, tree[m] as Buffer, path)).not.toEqual(root);
        // A path one node short does not reach the root (the size itself is what the checkpoint signs).
        if (path.length > 0) expect(rootFromInclusionProof(m, n, tree[m] as Buffer, path.slice(0, -1))).not.toEqual(root);
      }
    }
  });

  it('prove a leaf of a 7-leaf tree with the RFC 9162 path (sibling subtrees, nearest first)', () => {
    const tree = LEAVES.slice(0, 7).map(leafHash);
    // Leaf 6 (the lone right-most leaf): its path is MTH(D[4:6]) then MTH(D[0:4]).
    expect(inclusionPath(6, tree)).toEqual([merkleRoot(tree.slice(4, 6)), merkleRoot(tree.slice(0, 4))]);
    expect(() => inclusionPath(7, tree)).toThrow(RangeError);
  });
});
