// RFC 9162 Merkle code against the published reference data of transparency-dev/merkle
// (testonly/constants.go: the 8-leaf tree's leaves, node hashes and roots; proof/verify_test.go:
// inclusion and consistency proofs; proof/proof_test.go: the node ids making up proofs in trees
// of sizes up to 8), then property tests over random trees.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  consistencyProof,
  emptyRoot,
  inclusionProof,
  leafHash,
  MerkleTree,
  nodeHash,
  rootOfLeafHashes,
  verifyConsistency,
  verifyInclusion,
} from '../src/merkle.js';

const hex = (h: string): Uint8Array => Uint8Array.from(h.match(/../g) ?? [], (b) => Number.parseInt(b, 16));
const toHex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

const LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(hex);
// NODES[level][index]: hash of the complete subtree of 2^level leaves starting at index·2^level.
const NODES = [
  [
    '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
    '0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7',
    '07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7',
    'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    '4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658',
    'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
    '46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1',
  ],
  [
    'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
    '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
    '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
    'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
  ],
  ['d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4'],
  ['5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328'],
].map((level) => level.map(hex));
// ROOTS[n]: root of the tree of the first n leaves.
const ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
].map(hex);

const leafHashes = LEAVES.map(leafHash);
const treeOf = (hs: Uint8Array[]): MerkleTree => {
  const t = new MerkleTree();
  for (const x of hs) t.append(x);
  return t;
};
const tree = treeOf(leafHashes);

// Names of proof_test.go's picture of the 7- and 8-leaf trees.
const n0 = NODES[0]!;
const n1 = NODES[1]!;
const [a, b, c, d, e, f, j, leaf7] = n0 as [Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array];
const [g, h, i] = n1 as [Uint8Array, Uint8Array, Uint8Array];
const k = NODES[2]![0]!;
const l7 = nodeHash(i, j); // l in the 7-leaf tree: "l=hash(i,j)"
const l8 = NODES[2]![1]!;

// verify_test.go: inclusion proofs (leaf index made 0-based) and consistency proofs.
const PUBLISHED_INCLUSION: [number, number, string[]][] = [
  [
    0,
    8,
    [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  ],
  [
    5,
    8,
    [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  ],
  [2, 3, ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125']],
  [
    1,
    5,
    [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  ],
];
const PUBLISHED_CONSISTENCY: [number, number, string[]][] = [
  [
    1,
    8,
    [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  ],
  [
    6,
    8,
    [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  ],
  [
    2,
    5,
    [
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  ],
  [
    6,
    7,
    [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  ],
];

// proof_test.go: which nodes make up each proof (its "rehash" ranges combined as it says).
const STRUCTURE_INCLUSION: [number, number, Uint8Array[]][] = [
  [0, 1, []],
  [0, 2, [b]],
  [1, 2, [a]],
  [1, 3, [a, c]],
  [0, 7, [b, h, l7]],
  [1, 7, [a, h, l7]],
  [2, 7, [d, g, l7]],
  [3, 7, [c, g, l7]],
  [4, 7, [f, j, k]],
  [5, 7, [e, j, k]],
  [6, 7, [i, k]],
  [2, 4, [d, g]],
  [3, 5, [c, g, e]],
  [3, 6, [c, g, i]],
  [4, 6, [f, k]],
];
const STRUCTURE_CONSISTENCY: [number, number, Uint8Array[]][] = [
  [1, 2, [b]],
  [1, 4, [b, h]],
  [1, 6, [b, h, i]],
  [2, 3, [c]],
  [2, 8, [h, l8]],
  [3, 7, [c, d, g, l7]],
  [4, 7, [l7]],
  [5, 7, [e, f, j, k]],
  [6, 7, [i, j, k]],
  [7, 8, [j, leaf7, i, k]],
  [2, 4, [h]],
  [3, 5, [c, d, g, e]],
  [3, 6, [c, d, g, i]],
  [4, 6, [i]],
  [1, 7, [b, h, l7]],
];

test('leaf hashes, subtree hashes and roots match the reference tree', () => {
  assert.deepEqual(leafHashes.map(toHex), n0.map(toHex));
  assert.equal(toHex(emptyRoot()), toHex(ROOTS[0]!));
  for (let n = 0; n <= 8; n++) {
    assert.equal(toHex(rootOfLeafHashes(leafHashes.slice(0, n))), toHex(ROOTS[n]!), `reference MTH, size ${n}`);
    assert.equal(toHex(tree.root(n)), toHex(ROOTS[n]!), `cached tree, size ${n}`);
  }
  NODES.forEach((level, lv) => {
    level.forEach((node, idx) => {
      const width = 2 ** lv;
      assert.equal(toHex(tree.rangeHash(idx * width, (idx + 1) * width)), toHex(node), `node ${lv}/${idx}`);
    });
  });
});

test('published inclusion proofs are generated exactly and verify', () => {
  for (const [index, size, proofHex] of [
    ...PUBLISHED_INCLUSION,
    ...STRUCTURE_INCLUSION.map(([x, y, p]) => [x, y, p.map(toHex)] as const),
  ]) {
    const expected = proofHex.map(hex);
    assert.deepEqual(inclusionProof(leafHashes, index, size).map(toHex), proofHex, `generated (${index}, ${size})`);
    assert.deepEqual(tree.inclusionProof(index, size).map(toHex), proofHex, `cached (${index}, ${size})`);
    assert.deepEqual(verifyInclusion(index, size, leafHashes[index]!, expected, ROOTS[size]!), { ok: true }, `verify (${index}, ${size})`);
  }
});

test('published consistency proofs are generated exactly and verify', () => {
  for (const [m, n, proofHex] of [...PUBLISHED_CONSISTENCY, ...STRUCTURE_CONSISTENCY.map(([x, y, p]) => [x, y, p.map(toHex)] as const)]) {
    assert.deepEqual(consistencyProof(leafHashes, m, n).map(toHex), proofHex, `generated (${m}, ${n})`);
    assert.deepEqual(tree.consistencyProof(m, n).map(toHex), proofHex, `cached (${m}, ${n})`);
    assert.deepEqual(verifyConsistency(m, n, ROOTS[m]!, ROOTS[n]!, proofHex.map(hex)), { ok: true }, `verify (${m}, ${n})`);
  }
});

const SOME_HASH = hex('abacaba000000000000000000000000000000000000000000060061e00123456');

test('corrupted inclusion proofs of the published vectors are refused', () => {
  for (const [index, size, proofHex] of PUBLISHED_INCLUSION) {
    const proof = proofHex.map(hex);
    const root = ROOTS[size]!;
    const leaf = leafHashes[index]!;
    const flipped = proof.map((_, at) => proof.map((p, q) => (q === at ? Uint8Array.from(p, (x, y) => (y === 0 ? x ^ 8 : x)) : p)));
    const probes: [string, number, number, Uint8Array, Uint8Array[], Uint8Array][] = [
      ['index - 1', index - 1, size, leaf, proof, root],
      ['index + 1', index + 1, size, leaf, proof, root],
      ['index ^ 2', index ^ 2, size, leaf, proof, root],
      ['size * 2', index, size * 2, leaf, proof, root],
      ['size / 2', index, Math.floor(size / 2), leaf, proof, root],
      ['wrong leaf', index, size, leafHash(new TextEncoder().encode('WrongLeaf')), proof, root],
      ['short leaf', index, size, new TextEncoder().encode('WrongLeaf'), proof, root],
      ['empty-tree root', index, size, leaf, proof, emptyRoot()],
      ['random root', index, size, leaf, proof, SOME_HASH],
      ['trailing empty element', index, size, leaf, [...proof, new Uint8Array(0)], root],
      ['trailing root', index, size, leaf, [...proof, root], root],
      ['preceding empty element', index, size, leaf, [new Uint8Array(0), ...proof], root],
      ['preceding root', index, size, leaf, [root, ...proof], root],
      ['removed element', index, size, leaf, proof.slice(0, -1), root],
      ['inserted element', index, size, leaf, [proof[0]!, SOME_HASH, ...proof.slice(1)], root],
      ...flipped.map(
        (p, at) =>
          [`flipped bit in element ${at}`, index, size, leaf, p, root] as [string, number, number, Uint8Array, Uint8Array[], Uint8Array],
      ),
    ];
    for (const [what, x, s, lf, p, r] of probes) {
      assert.equal(verifyInclusion(x, s, lf, p, r).ok, false, `(${index}, ${size}) ${what} was accepted`);
    }
  }
});

test('corrupted consistency proofs of the published vectors are refused', () => {
  for (const [m, n, proofHex] of PUBLISHED_CONSISTENCY) {
    const proof = proofHex.map(hex);
    const r1 = ROOTS[m]!;
    const r2 = ROOTS[n]!;
    const flipped = proof.map((_, at) => proof.map((p, q) => (q === at ? Uint8Array.from(p, (x, y) => (y === 0 ? x ^ 16 : x)) : p)));
    const probes: [string, number, number, Uint8Array, Uint8Array, Uint8Array[]][] = [
      ['first - 1', m - 1, n, r1, r2, proof],
      ['first + 1', m + 1, n, r1, r2, proof],
      ['first ^ 2', m ^ 2, n, r1, r2, proof],
      ['second * 2', m, n * 2, r1, r2, proof],
      ['second / 2', m, Math.floor(n / 2), r1, r2, proof],
      ['wrong first root', m, n, SOME_HASH, r2, proof],
      ['wrong second root', m, n, r1, SOME_HASH, proof],
      ['swapped roots', m, n, r2, r1, proof],
      ['empty proof', m, n, r1, r2, []],
      ['trailing empty element', m, n, r1, r2, [...proof, new Uint8Array(0)]],
      ['trailing first root', m, n, r1, r2, [...proof, r1]],
      ['trailing second root', m, n, r1, r2, [...proof, r2]],
      ['preceding empty element', m, n, r1, r2, [new Uint8Array(0), ...proof]],
      ['preceding first root', m, n, r1, r2, [r1, ...proof]],
      ['preceding second root', m, n, r1, r2, [r2, ...proof]],
      ['preceding proof[0]', m, n, r1, r2, [proof[0]!, ...proof]],
      ['truncated', m, n, r1, r2, proof.slice(0, -1)],
      ...flipped.map(
        (p, at) => [`flipped bit in element ${at}`, m, n, r1, r2, p] as [string, number, number, Uint8Array, Uint8Array, Uint8Array[]],
      ),
    ];
    for (const [what, s1, s2, x1, x2, p] of probes) {
      assert.equal(verifyConsistency(s1, s2, x1, x2, p).ok, false, `(${m}, ${n}) ${what} was accepted`);
    }
  }
});

test('edge cases: empty trees, equal sizes, sizes going backwards, bad arguments', () => {
  const empty = emptyRoot();
  const r1 = ROOTS[1]!;
  assert.deepEqual(verifyConsistency(0, 0, empty, empty, []), { ok: true });
  assert.deepEqual(verifyConsistency(0, 5, empty, ROOTS[5]!, []), { ok: true });
  assert.deepEqual(
    verifyConsistency(0, 5, SOME_HASH, ROOTS[5]!, []),
    { ok: false, reason: 'ROOT_MISMATCH' },
    'size 0 has only the empty root',
  );
  assert.deepEqual(verifyConsistency(0, 1, empty, r1, [empty]), { ok: false, reason: 'WRONG_PROOF_LENGTH' });
  assert.deepEqual(verifyConsistency(1, 1, r1, r1, []), { ok: true });
  assert.deepEqual(verifyConsistency(1, 1, r1, SOME_HASH, []), { ok: false, reason: 'ROOT_MISMATCH' });
  assert.deepEqual(verifyConsistency(1, 1, r1, r1, [empty]), { ok: false, reason: 'WRONG_PROOF_LENGTH' });
  assert.deepEqual(verifyConsistency(2, 1, ROOTS[2]!, r1, []), { ok: false, reason: 'SIZES_DECREASE' });
  assert.deepEqual(verifyConsistency(1, 2, r1, ROOTS[2]!, []), { ok: false, reason: 'WRONG_PROOF_LENGTH' });
  assert.deepEqual(verifyConsistency(-1, 2, r1, ROOTS[2]!, []), { ok: false, reason: 'BAD_SIZE' });
  assert.deepEqual(verifyConsistency(1, 2.5, r1, ROOTS[2]!, [b]), { ok: false, reason: 'BAD_SIZE' });
  assert.deepEqual(verifyConsistency(1, 2, r1.subarray(1), ROOTS[2]!, [b]), { ok: false, reason: 'BAD_HASH_LENGTH' });

  // A one-leaf tree: the root is the leaf hash, the proof is empty.
  assert.deepEqual(verifyInclusion(0, 1, a, [], a), { ok: true });
  assert.deepEqual(verifyInclusion(0, 1, a, [], b), { ok: false, reason: 'ROOT_MISMATCH' });
  assert.deepEqual(verifyInclusion(0, 1, new Uint8Array(0), [], a), { ok: false, reason: 'BAD_HASH_LENGTH' });
  assert.deepEqual(verifyInclusion(0, 1, a, [], new Uint8Array(0)), { ok: false, reason: 'BAD_HASH_LENGTH' });
  for (const [index, size] of [
    [0, 0],
    [1, 0],
    [1, 1],
    [2, 1],
    [8, 8],
  ] as const) {
    assert.deepEqual(verifyInclusion(index, size, a, [], a), { ok: false, reason: 'INDEX_OUT_OF_RANGE' }, `(${index}, ${size})`);
  }
  assert.deepEqual(verifyInclusion(-1, 3, a, [], a), { ok: false, reason: 'BAD_SIZE' });
  assert.deepEqual(verifyInclusion(0, Number.MAX_SAFE_INTEGER + 1, a, [], a), { ok: false, reason: 'BAD_SIZE' });

  assert.throws(() => inclusionProof(leafHashes, 8, 8), RangeError);
  assert.throws(() => inclusionProof(leafHashes, 0, 9), RangeError);
  assert.throws(() => consistencyProof(leafHashes, 5, 4), RangeError);
  assert.throws(() => tree.root(9), RangeError);
  assert.deepEqual(consistencyProof(leafHashes, 0, 8), []);
  assert.deepEqual(consistencyProof(leafHashes, 8, 8), []);
});

test('huge sizes: arithmetic stays exact beyond 2^32', () => {
  // A proof's shape depends only on the index and size; check the verifier walks it to the end
  // for a size where 32-bit shifts would go wrong (the lengths differ, so a wrong walk fails).
  const size = 2 ** 40 + 3;
  const index = 2 ** 40 + 2; // the last leaf: its path is [MTH of the 2^40-leaf left tree, MTH(leaves 2^40..2^40+1)]
  const left = SOME_HASH;
  const mid = nodeHash(a, b);
  const root = nodeHash(left, nodeHash(mid, c));
  assert.deepEqual(verifyInclusion(index, size, c, [mid, left], root), { ok: true });
  assert.equal(verifyInclusion(index, size, c, [mid, left, left], root).ok, false);
});

// Property tests over random trees.
const leavesFor = (n: number, salt: number) => Array.from({ length: n }, (_, x) => leafHash(new TextEncoder().encode(`${salt}:${x}`)));

test('property: the cached tree agrees with the reference MTH and the list-based proofs', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 140 }), fc.integer(), (n, salt) => {
      const hs = leavesFor(n, salt);
      const t = treeOf(hs);
      for (let s = 0; s <= n; s += Math.max(1, Math.floor(n / 7))) {
        assert.equal(toHex(t.root(s)), toHex(rootOfLeafHashes(hs.slice(0, s))));
      }
      if (n > 0) {
        const x = Math.abs(salt) % n;
        assert.deepEqual(t.inclusionProof(x).map(toHex), inclusionProof(hs, x).map(toHex));
        assert.deepEqual(t.consistencyProof(x).map(toHex), consistencyProof(hs, x).map(toHex));
      }
    }),
    { numRuns: 150 },
  );
});

const flipBit = (proof: Uint8Array[], element: number, bit: number) =>
  proof.map((p, q) => (q === element ? Uint8Array.from(p, (x, y) => (y === bit >> 3 ? x ^ (1 << (bit & 7)) : x)) : p));

test('property: every inclusion proof verifies; a flipped bit, another index or another size does not', () => {
  fc.assert(
    fc.property(
      fc
        .integer({ min: 1, max: 300 })
        .chain((n) => fc.tuple(fc.constant(n), fc.nat(n - 1), fc.nat(n - 1), fc.integer({ min: 1, max: 300 }), fc.nat(255), fc.nat())),
      ([n, index, otherIndex, otherSize, bit, pick]) => {
        const hs = leavesFor(n, n);
        const t = treeOf(hs);
        const root = t.root();
        const proof = t.inclusionProof(index);
        assert.deepEqual(verifyInclusion(index, n, hs[index]!, proof, root), { ok: true });
        if (proof.length > 0) {
          assert.equal(
            verifyInclusion(index, n, hs[index]!, flipBit(proof, pick % proof.length, bit), root).ok,
            false,
            'flipped proof bit',
          );
        }
        assert.equal(verifyInclusion(index, n, flipBit([hs[index]!], 0, bit)[0]!, proof, root).ok, false, 'flipped leaf bit');
        assert.equal(verifyInclusion(index, n, hs[index]!, proof, flipBit([root], 0, bit)[0]!).ok, false, 'flipped root bit');
        if (otherIndex !== index) assert.equal(verifyInclusion(otherIndex, n, hs[index]!, proof, root).ok, false, 'other index');
        if (otherSize !== n && index < otherSize) {
          const bigger = leavesFor(Math.max(n, otherSize), n);
          const otherRoot = rootOfLeafHashes(bigger.slice(0, otherSize));
          assert.equal(verifyInclusion(index, otherSize, hs[index]!, proof, otherRoot).ok, false, 'other size');
        }
      },
    ),
    { numRuns: 300 },
  );
});

test('property: every consistency proof verifies; a flipped bit or other sizes do not', () => {
  fc.assert(
    fc.property(
      fc
        .integer({ min: 2, max: 300 })
        .chain((n) =>
          fc.tuple(fc.constant(n), fc.integer({ min: 1, max: n - 1 }), fc.integer({ min: 1, max: 300 }), fc.nat(255), fc.nat()),
        ),
      ([n, m, other, bit, pick]) => {
        const hs = leavesFor(Math.max(n, other), 7);
        const t = treeOf(hs);
        const proof = t.consistencyProof(m, n);
        const r1 = t.root(m);
        const r2 = t.root(n);
        assert.deepEqual(verifyConsistency(m, n, r1, r2, proof), { ok: true });
        assert.ok(proof.length > 0);
        assert.equal(verifyConsistency(m, n, r1, r2, flipBit(proof, pick % proof.length, bit)).ok, false, 'flipped proof bit');
        assert.equal(verifyConsistency(m, n, flipBit([r1], 0, bit)[0]!, r2, proof).ok, false, 'flipped first root');
        assert.equal(verifyConsistency(m, n, r1, flipBit([r2], 0, bit)[0]!, proof).ok, false, 'flipped second root');
        if (other !== m && other <= n) assert.equal(verifyConsistency(other, n, t.root(other), r2, proof).ok, false, 'other first size');
        if (other !== n && other >= m) assert.equal(verifyConsistency(m, other, r1, t.root(other), proof).ok, false, 'other second size');
      },
    ),
    { numRuns: 300 },
  );
});
