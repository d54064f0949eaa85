import { createHash } from 'node:crypto';
import { ValidationError } from './errors.js';

/**
 * The audit log's Merkle tree, as in Certificate Transparency (RFC 9162 §2.1):
 *
 *   leaf hash   SHA-256(0x00 ‖ leaf)
 *   node hash   SHA-256(0x01 ‖ left ‖ right)
 *   MTH({})     SHA-256("")
 *   MTH(D[n])   node hash of MTH(D[0:k]) and MTH(D[k:n]), k the largest power of two smaller than n
 *
 * Storage model. A node `(level, index)` is the COMPLETE subtree over leaves
 * [index·2^level, (index+1)·2^level); level 0 is a leaf hash. Once the tree has that many leaves
 * the node's hash never changes, so the sequencer writes each one exactly once (`appendLeaves`
 * returns the new ones) and never updates it. Everything else is derived from complete subtrees:
 * - the right edge of a tree of size n is its complete subtrees for the set bits of n, largest
 *   first (`edgeRefs`); folding it from the right gives the root (`rootOfEdge`);
 * - every hash in an inclusion or consistency proof is the MTH of a range [s, e) that the RFC's
 *   recursion produces; such a range is either one complete subtree or splits, by the same
 *   recursion, into at most log2(n) of them (`rangeRefs`).
 * So a proof is two steps: `nodesForInclusion`/`nodesForConsistency` say which nodes to read (one
 * BatchGetItem: at most 2·log2(n) keys, under BatchGetItem's 100 for any n below 2^50), and the
 * pure builders assemble the proof from what was read.
 *
 * Sizes and indices are JavaScript numbers, exact up to Number.MAX_SAFE_INTEGER; the code uses
 * arithmetic, never the 32-bit bitwise operators, so nothing breaks at 2^31.
 *
 * Hashes are `Uint8Array` (32 bytes) here; `toHex`/`fromHex` are for the edges (JSON, DynamoDB
 * strings). The verifiers never throw: anything malformed is a refusal with a reason.
 *
 * Pure: node:crypto only, no I/O.
 */

export const HASH_BYTES = 32;

/** A complete subtree: leaves [index·2^level, (index+1)·2^level). */
export interface NodeRef {
  readonly level: number;
  readonly index: number;
}

export interface MerkleNode extends NodeRef {
  readonly hash: Uint8Array;
}

/** A tree of `size` leaves, kept as its right edge: the complete subtrees for the set bits of `size`, largest first. */
export interface RightEdge {
  readonly size: number;
  readonly nodes: readonly MerkleNode[];
}

export interface AppendResult {
  readonly edge: RightEdge;
  readonly size: number;
  readonly root: Uint8Array;
  /** Every complete subtree the append created (leaves included), in the order they completed. */
  readonly nodes: readonly MerkleNode[];
}

/** Where the builders read stored nodes: a Map keyed by `nodeKey`, or a lookup function. */
export type NodeSource = ReadonlyMap<string, Uint8Array> | ((level: number, index: number) => Uint8Array | undefined);

/** A node the builders needed but the source did not hold (or held with a hash that is not 32 bytes). */
export class MissingMerkleNode extends Error {
  constructor(readonly ref: NodeRef) {
    super(`Merkle node level ${ref.level} index ${ref.index} is missing or malformed`);
    this.name = 'MissingMerkleNode';
  }
}

export type InclusionRefusal =
  | 'malformed-input' // a size that is not a safe integer ≥ 0, a hash that is not 32 bytes, a proof that is not an array of them
  | 'index-out-of-range' // leafIndex ≥ treeSize (RFC 9162 §2.1.3.2 step 1)
  | 'proof-too-long' // step 4a: sn reached 0 with proof entries left
  | 'proof-too-short' // step 5: sn is not 0 after the last entry
  | 'root-mismatch'; // step 5: r differs from the root

export type ConsistencyRefusal =
  | 'malformed-input'
  | 'old-size-larger' // oldSize > newSize: a log never shrinks
  | 'empty-proof' // RFC 9162 §2.1.4.2 step 1 (0 < oldSize < newSize with no proof)
  | 'proof-not-empty' // oldSize = 0 or oldSize = newSize: the proof must be empty
  | 'proof-too-long' // step 6a
  | 'proof-too-short' // step 7: sn is not 0
  | 'old-root-mismatch' // step 7: fr differs from the old root (or, for oldSize = 0, the old root is not MTH({}))
  | 'new-root-mismatch'; // step 7: sr differs from the new root (or, for oldSize = newSize, the roots differ)

export type MerkleVerification<R extends string> = { ok: true } | { ok: false; reason: R };

// ---------------------------------------------------------------------------------------------
// Hashing

const sha256 = (...parts: Uint8Array[]): Uint8Array => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};

const LEAF_PREFIX = Uint8Array.of(0x00);
const NODE_PREFIX = Uint8Array.of(0x01);

export const leafHash = (leaf: Uint8Array): Uint8Array => sha256(LEAF_PREFIX, leaf);
export const nodeHash = (left: Uint8Array, right: Uint8Array): Uint8Array => sha256(NODE_PREFIX, left, right);
/** MTH({}) = SHA-256 of the empty string (RFC 9162 §2.1.1). A fresh copy each call. */
export const emptyRoot = (): Uint8Array => sha256();

/** MTH over leaf hashes (not leaf inputs: hash those with `leafHash` first). */
export function rootOf(leafHashes: readonly Uint8Array[]): Uint8Array {
  return appendLeaves(emptyEdge(), leafHashes).root;
}

// ---------------------------------------------------------------------------------------------
// Hex at the edges

const HEX = /^(?:[0-9a-f]{2})*$/;

export const toHex = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');

/**
 * Lowercase hex of exactly `byteLength` bytes (a hash by default), else a ValidationError. Only
 * lowercase: a hash has one text form, the one `toHex` writes and a checkpoint signs.
 */
export function fromHex(hex: string, byteLength: number = HASH_BYTES): Uint8Array {
  if (typeof hex !== 'string' || !HEX.test(hex) || hex.length !== byteLength * 2) {
    throw new ValidationError('hex', [`must be ${byteLength * 2} lowercase hex characters`]);
  }
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

export const isHashHex = (value: unknown): value is string =>
  typeof value === 'string' && value.length === HASH_BYTES * 2 && HEX.test(value);

/** The key of a node in a `NodeSource` Map: `<level>/<index>`. */
export const nodeKey = (ref: NodeRef): string => `${ref.level}/${ref.index}`;

export function nodeMap(nodes: Iterable<MerkleNode>): Map<string, Uint8Array> {
  const map = new Map<string, Uint8Array>();
  for (const n of nodes) map.set(nodeKey(n), n.hash);
  return map;
}

// ---------------------------------------------------------------------------------------------
// Size arithmetic (exact for safe integers)

const isSize = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
const isHash = (h: unknown): h is Uint8Array => h instanceof Uint8Array && h.length === HASH_BYTES;
const half = (n: number): number => Math.floor(n / 2);
const isOdd = (n: number): boolean => n % 2 === 1;

/** The largest power of two strictly smaller than n (n ≥ 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** The largest power of two ≤ n (n ≥ 1), and its exponent. */
function highestPower(n: number): { pow: number; level: number } {
  let pow = 1;
  let level = 0;
  while (pow * 2 <= n) {
    pow *= 2;
    level += 1;
  }
  return { pow, level };
}

function isPowerOfTwo(n: number): boolean {
  return n >= 1 && highestPower(n).pow === n;
}

function requireSize(name: string, n: unknown): asserts n is number {
  if (!isSize(n)) throw new ValidationError(name, ['must be a safe integer ≥ 0']);
}

// ---------------------------------------------------------------------------------------------
// Ranges → complete subtrees

/**
 * The complete subtrees whose fold is MTH(D[start:end]), following the MTH recursion (so the
 * result is the binary decomposition, largest first, for the ranges proofs use). start < end.
 */
function rangeRefs(start: number, end: number, out: NodeRef[] = []): NodeRef[] {
  const len = end - start;
  if (isPowerOfTwo(len) && start % len === 0) {
    out.push({ level: highestPower(len).level, index: start / len });
    return out;
  }
  const k = splitPoint(len);
  rangeRefs(start, start + k, out);
  rangeRefs(start + k, end, out);
  return out;
}

function readNode(source: NodeSource, ref: NodeRef): Uint8Array {
  const hash = typeof source === 'function' ? source(ref.level, ref.index) : source.get(nodeKey(ref));
  if (!isHash(hash)) throw new MissingMerkleNode(ref);
  return hash;
}

/** MTH(D[start:end]) from stored complete subtrees, by the same recursion as `rangeRefs`. */
function rangeHash(start: number, end: number, source: NodeSource): Uint8Array {
  const len = end - start;
  if (isPowerOfTwo(len) && start % len === 0) return readNode(source, { level: highestPower(len).level, index: start / len });
  const k = splitPoint(len);
  return nodeHash(rangeHash(start, start + k, source), rangeHash(start + k, end, source));
}

type Range = readonly [start: number, end: number];

/** The ranges whose MTHs are PATH(m, D[n]) (RFC 9162 §2.1.3.1), in proof order (leaf's sibling first). */
function inclusionRanges(m: number, n: number): Range[] {
  const ranges: Range[] = [];
  let s = 0;
  let e = n;
  while (e - s > 1) {
    const k = splitPoint(e - s);
    if (m < s + k) {
      ranges.push([s + k, e]); // PATH(m, D[0:k]) : MTH(D[k:n])
      e = s + k;
    } else {
      ranges.push([s, s + k]); // PATH(m - k, D[k:n]) : MTH(D[0:k])
      s += k;
    }
  }
  return ranges.reverse();
}

/** The ranges whose MTHs are PROOF(m, D[n]) = SUBPROOF(m, D[n], true) (RFC 9162 §2.1.4.1), in proof order. */
function consistencyRanges(m: number, n: number): Range[] {
  const ranges: Range[] = [];
  if (m === 0 || m === n) return ranges;
  let s = 0;
  let e = n;
  let rel = m; // m relative to s
  let b = true;
  for (;;) {
    if (rel === e - s) {
      if (!b) ranges.push([s, e]); // SUBPROOF(m, D[m], false) = {MTH(D[m])}
      break;
    }
    const k = splitPoint(e - s);
    if (rel <= k) {
      ranges.push([s + k, e]); // SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
      e = s + k;
    } else {
      ranges.push([s, s + k]); // SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])
      s += k;
      rel -= k;
      b = false;
    }
  }
  return ranges.reverse();
}

// ---------------------------------------------------------------------------------------------
// The right edge and appends

export const emptyEdge = (): RightEdge => ({ size: 0, nodes: [] });

/** The complete subtrees that make up [0, size), largest first: the nodes to read to rebuild the edge or the root of `size`. */
export function edgeRefs(size: number): NodeRef[] {
  requireSize('size', size);
  const refs: NodeRef[] = [];
  let start = 0;
  let rest = size;
  while (rest > 0) {
    const { pow, level } = highestPower(rest);
    refs.push({ level, index: start / pow });
    start += pow;
    rest -= pow;
  }
  return refs;
}

/** The right edge of the tree of `size` leaves, from stored nodes (e.g. after losing the head item, or for a past size). */
export function edgeFromNodes(size: number, source: NodeSource): RightEdge {
  return { size, nodes: edgeRefs(size).map((ref) => ({ ...ref, hash: readNode(source, ref) })) };
}

/** The root of a tree from its right edge: fold from the right. O(log n). */
export function rootOfEdge(edge: RightEdge): Uint8Array {
  const nodes = edge.nodes;
  const last = nodes[nodes.length - 1];
  if (last === undefined) return emptyRoot();
  let root = last.hash;
  for (let i = nodes.length - 2; i >= 0; i--) root = nodeHash((nodes[i] as MerkleNode).hash, root);
  return root;
}

/** The root of the tree of `size` leaves from stored nodes (read `edgeRefs(size)`). */
export function rootAt(size: number, source: NodeSource): Uint8Array {
  return rootOfEdge(edgeFromNodes(size, source));
}

function checkEdge(edge: RightEdge): void {
  const problems: string[] = [];
  if (!isSize(edge?.size)) problems.push('size must be a safe integer ≥ 0');
  else {
    const want = edgeRefs(edge.size);
    const got = Array.isArray(edge.nodes) ? edge.nodes : [];
    if (got.length !== want.length || want.some((r, i) => got[i]?.level !== r.level || got[i]?.index !== r.index)) {
      problems.push(`nodes must be the complete subtrees of [0, ${edge.size}), largest first`);
    } else if (!got.every((n) => isHash(n.hash))) problems.push(`every hash must be ${HASH_BYTES} bytes`);
  }
  if (problems.length) throw new ValidationError('Merkle right edge', problems);
}

/**
 * Appends leaf hashes to the tree whose right edge is `edge`. Returns the new edge, size and
 * root, and every complete subtree the append created, for the caller to store. O(batch + log n):
 * each leaf is pushed once and each merge creates one stored node; the root is one fold of the
 * new edge. The input edge is not modified.
 */
export function appendLeaves(edge: RightEdge, leafHashes: readonly Uint8Array[]): AppendResult {
  checkEdge(edge);
  if (!Array.isArray(leafHashes) || !leafHashes.every(isHash)) {
    throw new ValidationError('leaf hashes', [`every leaf hash must be ${HASH_BYTES} bytes`]);
  }
  if (edge.size + leafHashes.length > Number.MAX_SAFE_INTEGER) {
    throw new ValidationError('leaf hashes', ['the tree would outgrow Number.MAX_SAFE_INTEGER leaves']);
  }
  const stack: MerkleNode[] = [...edge.nodes];
  const created: MerkleNode[] = [];
  let size = edge.size;
  for (const hash of leafHashes) {
    let node: MerkleNode = { level: 0, index: size, hash: new Uint8Array(hash) };
    created.push(node);
    size += 1;
    // The edge's levels strictly decrease, so merges only ever happen at its end.
    for (let top = stack[stack.length - 1]; top !== undefined && top.level === node.level; top = stack[stack.length - 1]) {
      stack.pop();
      node = { level: node.level + 1, index: top.index / 2, hash: nodeHash(top.hash, node.hash) };
      created.push(node);
    }
    stack.push(node);
  }
  const next: RightEdge = { size, nodes: stack };
  return { edge: next, size, root: rootOfEdge(next), nodes: created };
}

// ---------------------------------------------------------------------------------------------
// Proofs from stored complete subtrees

function requireIndex(leafIndex: number, treeSize: number): void {
  requireSize('treeSize', treeSize);
  requireSize('leafIndex', leafIndex);
  if (leafIndex >= treeSize) throw new ValidationError('leafIndex', [`must be below the tree size ${treeSize}`]);
}

function requireSizes(oldSize: number, newSize: number): void {
  requireSize('oldSize', oldSize);
  requireSize('newSize', newSize);
  if (oldSize > newSize) throw new ValidationError('oldSize', [`must not exceed newSize ${newSize}`]);
}

const refsOf = (ranges: readonly Range[]): NodeRef[] => ranges.flatMap(([s, e]) => rangeRefs(s, e));

/** The nodes `inclusionProof(leafIndex, treeSize, …)` reads: at most 2·log2(treeSize), no duplicates. */
export function nodesForInclusion(leafIndex: number, treeSize: number): NodeRef[] {
  requireIndex(leafIndex, treeSize);
  return refsOf(inclusionRanges(leafIndex, treeSize));
}

/** The inclusion proof PATH(leafIndex, D[treeSize]) (RFC 9162 §2.1.3.1), leaf's sibling first. */
export function inclusionProof(leafIndex: number, treeSize: number, source: NodeSource): Uint8Array[] {
  requireIndex(leafIndex, treeSize);
  return inclusionRanges(leafIndex, treeSize).map(([s, e]) => rangeHash(s, e, source));
}

/** The nodes `consistencyProof(oldSize, newSize, …)` reads: at most 2·log2(newSize), no duplicates. */
export function nodesForConsistency(oldSize: number, newSize: number): NodeRef[] {
  requireSizes(oldSize, newSize);
  return refsOf(consistencyRanges(oldSize, newSize));
}

/**
 * The consistency proof PROOF(oldSize, D[newSize]) (RFC 9162 §2.1.4.1). The RFC defines it for
 * 0 < oldSize < newSize; for oldSize = 0 or oldSize = newSize it is empty (nothing to prove).
 */
export function consistencyProof(oldSize: number, newSize: number, source: NodeSource): Uint8Array[] {
  requireSizes(oldSize, newSize);
  return consistencyRanges(oldSize, newSize).map(([s, e]) => rangeHash(s, e, source));
}

// ---------------------------------------------------------------------------------------------
// Verification, exactly as RFC 9162 §2.1.3.2 and §2.1.4.2

const equal = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
const isProof = (proof: unknown): proof is readonly Uint8Array[] => Array.isArray(proof) && proof.every(isHash);
const refuse = <R extends string>(reason: R): { ok: false; reason: R } => ({ ok: false, reason });

/** RFC 9162 §2.1.3.2. Never throws. */
export function verifyInclusion(
  leafHashValue: Uint8Array,
  leafIndex: number,
  treeSize: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): MerkleVerification<InclusionRefusal> {
  if (!isHash(leafHashValue) || !isHash(root) || !isSize(leafIndex) || !isSize(treeSize) || !isProof(proof)) {
    return refuse('malformed-input');
  }
  // 1. leaf_index ≥ tree_size fails.
  if (leafIndex >= treeSize) return refuse('index-out-of-range');
  // 2. fn = leaf_index, sn = tree_size - 1. 3. r = hash.
  let fn = leafIndex;
  let sn = treeSize - 1;
  let r = leafHashValue;
  // 4. For each p in inclusion_path:
  for (const p of proof) {
    // a. sn = 0: fail.
    if (sn === 0) return refuse('proof-too-long');
    // b. LSB(fn) set or fn = sn: r = HASH(0x01 ‖ p ‖ r), then, if LSB(fn) is not set, shift both
    //    until LSB(fn) is set or fn is 0. Otherwise r = HASH(0x01 ‖ r ‖ p).
    if (isOdd(fn) || fn === sn) {
      r = nodeHash(p, r);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = nodeHash(r, p);
    }
    // c. Shift both once.
    fn = half(fn);
    sn = half(sn);
  }
  // 5. sn = 0 and r = root_hash.
  if (sn !== 0) return refuse('proof-too-short');
  return equal(r, root) ? { ok: true } : refuse('root-mismatch');
}

/**
 * RFC 9162 §2.1.4.2 for 0 < oldSize < newSize. The RFC leaves the other cases out; here
 * oldSize > newSize is refused, and oldSize = newSize (same roots) and oldSize = 0 (old root
 * MTH({})) hold with an empty proof only. Never throws.
 */
export function verifyConsistency(
  oldSize: number,
  newSize: number,
  oldRoot: Uint8Array,
  newRoot: Uint8Array,
  proof: readonly Uint8Array[],
): MerkleVerification<ConsistencyRefusal> {
  if (!isSize(oldSize) || !isSize(newSize) || !isHash(oldRoot) || !isHash(newRoot) || !isProof(proof)) {
    return refuse('malformed-input');
  }
  if (oldSize > newSize) return refuse('old-size-larger');
  if (oldSize === newSize || oldSize === 0) {
    if (proof.length !== 0) return refuse('proof-not-empty');
    if (oldSize === 0 && !equal(oldRoot, emptyRoot())) return refuse('old-root-mismatch');
    if (oldSize === newSize && !equal(oldRoot, newRoot)) return refuse('new-root-mismatch');
    return { ok: true };
  }
  // 1. An empty consistency_path fails.
  if (proof.length === 0) return refuse('empty-proof');
  // 2. first an exact power of 2: prepend first_hash.
  const path = isPowerOfTwo(oldSize) ? [oldRoot, ...proof] : [...proof];
  // 3. fn = first - 1, sn = second - 1.
  let fn = oldSize - 1;
  let sn = newSize - 1;
  // 4. While LSB(fn) is set, shift both.
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  // 5. fr = sr = the first value.
  let fr = path[0] as Uint8Array;
  let sr = fr;
  // 6. For each subsequent c:
  for (const c of path.slice(1)) {
    // a. sn = 0: fail.
    if (sn === 0) return refuse('proof-too-long');
    // b. LSB(fn) set or fn = sn: fr = HASH(0x01 ‖ c ‖ fr), sr = HASH(0x01 ‖ c ‖ sr), then, if
    //    LSB(fn) is not set, shift both until LSB(fn) is set or fn is 0. Otherwise sr = HASH(0x01 ‖ sr ‖ c).
    if (isOdd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    // c. Shift both once.
    fn = half(fn);
    sn = half(sn);
  }
  // 7. fr = first_hash, sr = second_hash, sn = 0.
  if (sn !== 0) return refuse('proof-too-short');
  if (!equal(fr, oldRoot)) return refuse('old-root-mismatch');
  return equal(sr, newRoot) ? { ok: true } : refuse('new-root-mismatch');
}
