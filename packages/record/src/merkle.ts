// RFC 9162 §2.1 Merkle tree hashing, inclusion and consistency proofs (SHA-256).
//
// Sizes and indices are JavaScript numbers (safe integers); the bit operations of the RFC are
// written as arithmetic (`% 2`, `Math.floor(x / 2)`) so they stay correct beyond 2^32.
import { sha256 } from '@noble/hashes/sha2.js';

export const HASH_SIZE = 32;

/** Why a proof was refused. Stable strings: the record's own evidence objects carry them. */
export type ProofFailure =
  | 'BAD_SIZE' // a size or index that is not a non-negative safe integer
  | 'INDEX_OUT_OF_RANGE' // leaf index >= tree size
  | 'SIZES_DECREASE' // consistency from a larger tree to a smaller one
  | 'BAD_HASH_LENGTH' // a root, leaf or proof element that is not 32 bytes
  | 'WRONG_PROOF_LENGTH' // more or fewer proof elements than the tree shape requires
  | 'ROOT_MISMATCH'; // the proof does not lead to the root it was checked against

export type ProofCheck = { ok: true } | { ok: false; reason: ProofFailure };

const OK: ProofCheck = Object.freeze({ ok: true });
const fail = (reason: ProofFailure): ProofCheck => ({ ok: false, reason });

const LEAF_PREFIX = new Uint8Array([0x00]);
const NODE_PREFIX = new Uint8Array([0x01]);

/** SHA-256(0x00 || leaf). */
export function leafHash(leaf: Uint8Array): Uint8Array {
  return sha256.create().update(LEAF_PREFIX).update(leaf).digest();
}

/** SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return sha256.create().update(NODE_PREFIX).update(left).update(right).digest();
}

/** The root of the empty tree: SHA-256 of the empty string. */
export function emptyRoot(): Uint8Array {
  return sha256(new Uint8Array(0));
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

function isSize(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

/** The largest power of two strictly smaller than n (n >= 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function isPowerOfTwo(n: number): boolean {
  let k = 1;
  while (k < n) k *= 2;
  return k === n;
}

/**
 * MTH(D[start:end]) for some source of leaves. Proof generation only ever asks for ranges
 * produced by the RFC's recursion, so a cache of complete aligned subtrees answers any of
 * them in O(log n) node hashes (see MerkleTree).
 */
export type RangeHasher = (start: number, end: number) => Uint8Array;

/** The plain recursive MTH of RFC 9162 §2.1.1 over leaf hashes; O(n). The reference the cached tree is tested against. */
export function rootOfLeafHashes(leafHashes: readonly Uint8Array[]): Uint8Array {
  const mth = (start: number, end: number): Uint8Array => {
    const n = end - start;
    if (n === 0) return emptyRoot();
    if (n === 1) return leafHashes[start]!;
    const k = splitPoint(n);
    return nodeHash(mth(start, start + k), mth(start + k, end));
  };
  return mth(0, leafHashes.length);
}

/** RFC 9162 §2.1.3.1 PATH(m, D[n]), over any range hasher. */
export function inclusionPathFrom(range: RangeHasher, index: number, size: number): Uint8Array[] {
  if (!isSize(index) || !isSize(size)) throw new RangeError(`bad inclusion proof request (${index}, ${size})`);
  if (index >= size) throw new RangeError(`leaf index ${index} is not in a tree of size ${size}`);
  const out: Uint8Array[] = [];
  // Iterative form of PATH(m, D[start:end]): each step records the sibling of the side holding m.
  // The RFC appends siblings from the bottom up, so collect top-down and reverse.
  let start = 0;
  let end = size;
  let m = index;
  while (end - start > 1) {
    const k = splitPoint(end - start);
    if (m < k) {
      out.push(range(start + k, end));
      end = start + k;
    } else {
      out.push(range(start, start + k));
      start += k;
      m -= k;
    }
  }
  return out.reverse();
}

/** RFC 9162 §2.1.4.1 PROOF(m, D[n]), over any range hasher. Empty when m is 0 or m equals n. */
export function consistencyPathFrom(range: RangeHasher, first: number, second: number): Uint8Array[] {
  if (!isSize(first) || !isSize(second)) throw new RangeError(`bad consistency proof request (${first}, ${second})`);
  if (first > second) throw new RangeError(`no consistency proof from size ${first} to the smaller size ${second}`);
  if (first === 0 || first === second) return [];
  const out: Uint8Array[] = [];
  // SUBPROOF(m, D[start:end], b), unrolled the same way as inclusionPathFrom.
  let start = 0;
  let end = second;
  let m = first;
  let whole = true; // b: is D[start:start+m] the complete old tree (whose root the verifier knows)?
  while (m !== end - start) {
    const k = splitPoint(end - start);
    if (m <= k) {
      out.push(range(start + k, end));
      end = start + k;
    } else {
      out.push(range(start, start + k));
      start += k;
      m -= k;
      whole = false;
    }
  }
  if (!whole) out.push(range(start, end));
  return out.reverse();
}

function rangeOverLeafHashes(leafHashes: readonly Uint8Array[]): RangeHasher {
  return (start, end) => rootOfLeafHashes(leafHashes.slice(start, end));
}

/** Inclusion proof of leaf `index` in the tree of the first `size` leaves (default: all). */
export function inclusionProof(leafHashes: readonly Uint8Array[], index: number, size: number = leafHashes.length): Uint8Array[] {
  if (size > leafHashes.length) throw new RangeError(`tree size ${size} is larger than the ${leafHashes.length} leaves given`);
  return inclusionPathFrom(rangeOverLeafHashes(leafHashes), index, size);
}

/** Consistency proof between the trees of the first `first` and the first `second` leaves. */
export function consistencyProof(leafHashes: readonly Uint8Array[], first: number, second: number = leafHashes.length): Uint8Array[] {
  if (second > leafHashes.length) throw new RangeError(`tree size ${second} is larger than the ${leafHashes.length} leaves given`);
  return consistencyPathFrom(rangeOverLeafHashes(leafHashes), first, second);
}

/** How many elements PATH(index, D[size]) has. */
function inclusionLength(index: number, size: number): number {
  let n = 0;
  let m = index;
  let s = size;
  while (s > 1) {
    const k = splitPoint(s);
    if (m < k) s = k;
    else {
      m -= k;
      s -= k;
    }
    n++;
  }
  return n;
}

/** How many elements PROOF(first, D[second]) has, for 0 < first < second. */
function consistencyLength(first: number, second: number): number {
  let n = 0;
  let m = first;
  let s = second;
  let whole = true;
  while (m !== s) {
    const k = splitPoint(s);
    if (m <= k) s = k;
    else {
      m -= k;
      s -= k;
      whole = false;
    }
    n++;
  }
  return whole ? n : n + 1;
}

function allHashes(hashes: readonly Uint8Array[]): boolean {
  return hashes.every((h) => h instanceof Uint8Array && h.length === HASH_SIZE);
}

/**
 * The root an inclusion proof leads to (RFC 9162 §2.1.3.2 steps 1–5 without the final
 * comparison), or why the proof cannot be right for this index and size.
 */
export function rootFromInclusionProof(
  index: number,
  size: number,
  leaf: Uint8Array,
  proof: readonly Uint8Array[],
): { ok: true; root: Uint8Array } | { ok: false; reason: ProofFailure } {
  if (!isSize(index) || !isSize(size)) return { ok: false, reason: 'BAD_SIZE' };
  if (index >= size) return { ok: false, reason: 'INDEX_OUT_OF_RANGE' };
  if (!allHashes([leaf, ...proof])) return { ok: false, reason: 'BAD_HASH_LENGTH' };
  if (proof.length !== inclusionLength(index, size)) return { ok: false, reason: 'WRONG_PROOF_LENGTH' };
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return { ok: false, reason: 'WRONG_PROOF_LENGTH' };
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
  if (sn !== 0) return { ok: false, reason: 'WRONG_PROOF_LENGTH' };
  return { ok: true, root: r };
}

/** RFC 9162 §2.1.3.2: does `proof` show leaf hash `leaf` at `index` in the tree of `size` with `root`? */
export function verifyInclusion(index: number, size: number, leaf: Uint8Array, proof: readonly Uint8Array[], root: Uint8Array): ProofCheck {
  if (!(root instanceof Uint8Array) || root.length !== HASH_SIZE) return fail('BAD_HASH_LENGTH');
  const got = rootFromInclusionProof(index, size, leaf, proof);
  if (!got.ok) return got;
  return bytesEqual(got.root, root) ? OK : fail('ROOT_MISMATCH');
}

/**
 * RFC 9162 §2.1.4.2: is the tree of size `first` with root `firstRoot` a prefix of the tree of
 * size `second` with root `secondRoot`? Stricter than the RFC's text on the edges: equal sizes
 * need an empty proof and equal roots; size 0 needs an empty proof and the empty-tree root.
 */
export function verifyConsistency(
  first: number,
  second: number,
  firstRoot: Uint8Array,
  secondRoot: Uint8Array,
  proof: readonly Uint8Array[],
): ProofCheck {
  if (!isSize(first) || !isSize(second)) return fail('BAD_SIZE');
  if (first > second) return fail('SIZES_DECREASE');
  if (!allHashes([firstRoot, secondRoot, ...proof])) return fail('BAD_HASH_LENGTH');
  if (first === 0 || first === second) {
    if (proof.length !== 0) return fail('WRONG_PROOF_LENGTH');
    if (first === 0) return bytesEqual(firstRoot, emptyRoot()) ? OK : fail('ROOT_MISMATCH');
    return bytesEqual(firstRoot, secondRoot) ? OK : fail('ROOT_MISMATCH');
  }
  if (proof.length !== consistencyLength(first, second)) return fail('WRONG_PROOF_LENGTH');
  const path = isPowerOfTwo(first) ? [firstRoot, ...proof] : [...proof];
  let fn = first - 1;
  let sn = second - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return fail('WRONG_PROOF_LENGTH');
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) return fail('WRONG_PROOF_LENGTH');
  return bytesEqual(fr, firstRoot) && bytesEqual(sr, secondRoot) ? OK : fail('ROOT_MISMATCH');
}

/**
 * An append-only tree of leaf hashes that keeps every complete aligned subtree
 * (`levels[h][i]` = MTH of leaves [i·2^h, (i+1)·2^h)). Appending costs amortised O(1) hashes;
 * a root or a proof for any past size costs O(log² n) at most. About 2n hashes of memory.
 */
export class MerkleTree {
  private readonly levels: Uint8Array[][] = [[]];

  get size(): number {
    return this.levels[0]!.length;
  }

  leafHash(index: number): Uint8Array {
    const h = this.levels[0]![index];
    if (!h) throw new RangeError(`no leaf ${index} in a tree of size ${this.size}`);
    return h;
  }

  /** Append one leaf *hash* (see leafHash()). */
  append(leaf: Uint8Array): void {
    if (!(leaf instanceof Uint8Array) || leaf.length !== HASH_SIZE) throw new TypeError('a leaf hash is 32 bytes');
    this.levels[0]!.push(leaf);
    // Complete every subtree this leaf closes: at level h, index i closes when i is odd.
    let level = 0;
    let index = this.levels[0]!.length - 1;
    while (index % 2 === 1) {
      const row = this.levels[level]!;
      const parent = nodeHash(row[index - 1]!, row[index]!);
      level++;
      if (!this.levels[level]) this.levels[level] = [];
      this.levels[level]!.push(parent);
      index = (index - 1) / 2;
    }
  }

  /** MTH of leaves [start, end); any range the RFC recursion produces, within the current size. */
  readonly rangeHash: RangeHasher = (start, end) => {
    if (!(0 <= start && start <= end && end <= this.size))
      throw new RangeError(`range [${start}, ${end}) outside a tree of size ${this.size}`);
    const n = end - start;
    if (n === 0) return emptyRoot();
    if (isPowerOfTwo(n) && start % n === 0) {
      let level = 0;
      for (let w = n; w > 1; w /= 2) level++;
      return this.levels[level]![start / n]!;
    }
    const k = splitPoint(n);
    return nodeHash(this.rangeHash(start, start + k), this.rangeHash(start + k, end));
  };

  root(size: number = this.size): Uint8Array {
    if (!isSize(size) || size > this.size) throw new RangeError(`no tree of size ${size} (current size ${this.size})`);
    return this.rangeHash(0, size);
  }

  inclusionProof(index: number, size: number = this.size): Uint8Array[] {
    if (!isSize(size) || size > this.size) throw new RangeError(`no tree of size ${size} (current size ${this.size})`);
    return inclusionPathFrom(this.rangeHash, index, size);
  }

  consistencyProof(first: number, second: number = this.size): Uint8Array[] {
    if (!isSize(second) || second > this.size) throw new RangeError(`no tree of size ${second} (current size ${this.size})`);
    return consistencyPathFrom(this.rangeHash, first, second);
  }
}
