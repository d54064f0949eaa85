/**
 * The audit log's Merkle tree (shared/domain/merkle.ts) against
 * - a naive reference written straight from RFC 9162's recursive definitions (MTH §2.1.1,
 *   PATH §2.1.3.1, PROOF/SUBPROOF §2.1.4.1) over the whole leaf list, and
 * - the RFC 6962 test vectors of transparency-dev/merkle (the library Trillian and
 *   certificate-transparency-go use): testonly/constants.go (leaf inputs, node and root hashes,
 *   compact trees) and proof/verify_test.go (inclusion and consistency proofs, corruption probes).
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import {
  HASH_BYTES,
  MissingMerkleNode,
  appendLeaves,
  consistencyProof,
  edgeFromNodes,
  edgeRefs,
  emptyEdge,
  emptyRoot,
  fromHex,
  inclusionProof,
  isHashHex,
  leafHash,
  nodeHash,
  nodeKey,
  nodeMap,
  nodesForConsistency,
  nodesForInclusion,
  rootAt,
  rootOf,
  toHex,
  verifyConsistency,
  verifyInclusion,
  type MerkleNode,
  type NodeRef,
  type RightEdge,
} from '../../shared/domain/merkle.js';
import { ValidationError } from '../../shared/domain/errors.js';

// ------------------------------------------------------------------------------------------------
// The reference: RFC 9162 §2.1, recursion over the whole list, nothing shared with the module.

const H = (...parts: Array<Uint8Array | number[]>): Uint8Array => {
  const h = createHash('sha256');
  for (const p of parts) h.update(Uint8Array.from(p));
  return new Uint8Array(h.digest());
};

/** The largest power of two smaller than n (n > 1). */
const split = (n: number): number => {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
};

/** MTH(D[n]) over leaf INPUTS. */
function MTH(D: readonly Uint8Array[]): Uint8Array {
  const n = D.length;
  if (n === 0) return H();
  if (n === 1) return H([0x00], D[0] as Uint8Array);
  const k = split(n);
  return H([0x01], MTH(D.slice(0, k)), MTH(D.slice(k)));
}

/** PATH(m, D[n]). */
function PATH(m: number, D: readonly Uint8Array[]): Uint8Array[] {
  const n = D.length;
  if (n <= 1) return [];
  const k = split(n);
  return m < k ? [...PATH(m, D.slice(0, k)), MTH(D.slice(k))] : [...PATH(m - k, D.slice(k)), MTH(D.slice(0, k))];
}

/** PROOF(m, D[n]) = SUBPROOF(m, D[n], true), 0 < m < n. */
const PROOF = (m: number, D: readonly Uint8Array[]): Uint8Array[] => SUBPROOF(m, D, true);
function SUBPROOF(m: number, D: readonly Uint8Array[], b: boolean): Uint8Array[] {
  const n = D.length;
  if (m === n) return b ? [] : [MTH(D)];
  const k = split(n);
  return m <= k
    ? [...SUBPROOF(m, D.slice(0, k), b), MTH(D.slice(k))]
    : [...SUBPROOF(m - k, D.slice(k), false), MTH(D.slice(0, k))];
}

/**
 * The SHAPE of PATH(m, D[n]) from the same recursion, on sizes alone: for each entry, whether it
 * is the left sibling. RFC 9162 §2.1.3.2 binds index and size only through this shape (the
 * signed checkpoint binds the size to the root), so a verifier given another index or size must
 * succeed exactly when the shape is the same.
 */
function pathShape(m: number, n: number): string {
  if (n <= 1) return '';
  const k = split(n);
  return m < k ? `${pathShape(m, k)}R` : `${pathShape(m - k, n - k)}L`;
}

/**
 * The shape of PROOF(m, D[n]): whether the verifier prepends the old root (b still true when
 * m = n of the subtree), then per entry L (a left sibling, in both trees) or R (a right
 * sibling, in the new tree only).
 */
function proofShape(m: number, n: number): string {
  const go = (mm: number, nn: number, b: boolean): string => {
    if (mm === nn) return b ? 'prepend:' : 'start:';
    const k = split(nn);
    return mm <= k ? `${go(mm, k, b)}R` : `${go(mm - k, nn - k, false)}L`;
  };
  return go(m, n, true);
}

/** Folds a path by its shape: the root the RFC's verifier must arrive at. */
function foldPath(leaf: Uint8Array, proof: readonly Uint8Array[], shape: string): Uint8Array {
  let r = leaf;
  proof.forEach((p, i) => (r = shape[i] === 'L' ? H([0x01], p, r) : H([0x01], r, p)));
  return r;
}

/** Folds a consistency proof by its shape: [old root, new root] the verifier must arrive at. */
function foldConsistency(oldRoot: Uint8Array, proof: readonly Uint8Array[], shape: string): [Uint8Array, Uint8Array] {
  const [head, dirs = ''] = shape.split(':');
  const path = head === 'prepend' ? [oldRoot, ...proof] : [...proof];
  let fr = path[0] as Uint8Array;
  let sr = fr;
  path.slice(1).forEach((c, i) => {
    if (dirs[i] === 'L') {
      fr = H([0x01], c, fr);
      sr = H([0x01], c, sr);
    } else sr = H([0x01], sr, c);
  });
  return [fr, sr];
}

// ------------------------------------------------------------------------------------------------
// Helpers

const hex = (bs: readonly Uint8Array[]): string[] => bs.map(toHex);
const leavesFor = (seed: number, n: number): Uint8Array[] =>
  Array.from({ length: n }, (_, i) => new TextEncoder().encode(`entry ${seed}/${i}`.repeat(i % 3)));

/** Builds a tree of the leaves in batches cut at `cuts`; checks the root after every batch. */
function buildInBatches(leaves: readonly Uint8Array[], cuts: readonly number[]) {
  const bounds = [...new Set([0, ...cuts.filter((c) => c >= 0 && c <= leaves.length), leaves.length])].sort((a, b) => a - b);
  let edge: RightEdge = emptyEdge();
  const stored: MerkleNode[] = [];
  const roots: string[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const from = bounds[i] as number;
    const to = bounds[i + 1] as number;
    const result = appendLeaves(edge, leaves.slice(from, to).map(leafHash));
    expect(result.size).toBe(to);
    expect(toHex(result.root)).toBe(toHex(MTH(leaves.slice(0, to))));
    expect(result.edge.nodes.map(({ level, index }) => ({ level, index }))).toEqual(edgeRefs(to));
    stored.push(...result.nodes);
    roots.push(toHex(result.root));
    edge = result.edge;
  }
  return { edge, stored, roots };
}

/** Every complete subtree of a tree of n leaves. */
function completeSubtrees(n: number): NodeRef[] {
  const refs: NodeRef[] = [];
  for (let level = 0, width = 1; width <= n; level++, width *= 2) {
    for (let index = 0; (index + 1) * width <= n; index++) refs.push({ level, index });
  }
  return refs;
}

/** A Map holding exactly `refs`, so a builder that read anything else would throw MissingMerkleNode. */
function only(refs: readonly NodeRef[], store: ReadonlyMap<string, Uint8Array>): Map<string, Uint8Array> {
  const map = new Map<string, Uint8Array>();
  for (const r of refs) {
    const h = store.get(nodeKey(r));
    if (h === undefined) throw new Error(`the store lacks ${nodeKey(r)}`);
    map.set(nodeKey(r), h);
  }
  return map;
}

const flipBit = (bytes: Uint8Array, bit: number): Uint8Array => {
  const copy = new Uint8Array(bytes);
  const at = Math.floor(bit / 8) % copy.length;
  copy[at] = (copy[at] ?? 0) ^ (1 << bit % 8);
  return copy;
};

/** n with bit b flipped, exact beyond 2^31 (bitwise operators are 32-bit). */
const flipNumberBit = (n: number, b: number): number => (Math.floor(n / 2 ** b) % 2 === 1 ? n - 2 ** b : n + 2 ** b);

const treeArb = fc.integer({ min: 1, max: 300 }).chain((n) =>
  fc.record({
    n: fc.constant(n),
    seed: fc.nat(),
    cuts: fc.array(fc.integer({ min: 0, max: n }), { maxLength: 10 }),
    picks: fc.array(fc.tuple(fc.nat(), fc.nat(), fc.nat()), { minLength: 1, maxLength: 6 }),
  }),
);

const FC = { numRuns: 60, seed: 9162 };

// ------------------------------------------------------------------------------------------------
// Known vectors (transparency-dev/merkle testonly/constants.go and proof/verify_test.go)

const LEAF_INPUTS = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(
  (h) => new Uint8Array(Buffer.from(h, 'hex')),
);
/** RootHashes(): index = tree size. */
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
];
/** NodeHashes(): [level][index]. */
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
  [
    'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
  ],
  ['5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328'],
];
const node = (level: number, index: number): string => NODES[level]?.[index] ?? '';
/** CompactTrees(): the right edge of each size 0..8, as [level, index]. */
const COMPACT: Array<Array<[number, number]>> = [
  [],
  [[0, 0]],
  [[1, 0]],
  [[1, 0], [0, 2]],
  [[2, 0]],
  [[2, 0], [0, 4]],
  [[2, 0], [1, 2]],
  [[2, 0], [1, 2], [0, 6]],
  [[3, 0]],
];
/** inclusionProofs (their leaf numbers are 1-based: index = leaf - 1). */
const INCLUSION: Array<{ index: number; size: number; proof: string[] }> = [
  { index: 0, size: 1, proof: [] },
  { index: 0, size: 8, proof: [node(0, 1), node(1, 1), node(2, 1)] },
  { index: 5, size: 8, proof: [node(0, 4), node(1, 3), node(2, 0)] },
  { index: 2, size: 3, proof: [node(1, 0)] },
  { index: 1, size: 5, proof: [node(0, 0), node(1, 1), node(0, 4)] },
];
/** consistencyProofs. */
const CONSISTENCY: Array<{ m: number; n: number; proof: string[] }> = [
  { m: 1, n: 1, proof: [] },
  { m: 1, n: 8, proof: [node(0, 1), node(1, 1), node(2, 1)] },
  { m: 6, n: 8, proof: [node(1, 2), node(1, 3), node(2, 0)] },
  { m: 2, n: 5, proof: [node(1, 1), node(0, 4)] },
  { m: 6, n: 7, proof: [node(1, 2), node(0, 6), node(2, 0)] },
];

const b = (h: string): Uint8Array => fromHex(h);
const bs = (hs: readonly string[]): Uint8Array[] => hs.map(b);
const SOME_HASH = b('abacaba000000000000000000000000000000000000000000060061e00123456');

describe('known vectors (transparency-dev/merkle)', () => {
  const all = appendLeaves(emptyEdge(), LEAF_INPUTS.map(leafHash));
  const store = nodeMap(all.nodes);

  it('the reference itself reproduces the vectors', () => {
    ROOTS.forEach((root, size) => expect(toHex(MTH(LEAF_INPUTS.slice(0, size)))).toBe(root));
  });

  it('roots of sizes 0..8, appended one leaf at a time, from the edge and from stored nodes', () => {
    expect(toHex(emptyRoot())).toBe(ROOTS[0]);
    expect(toHex(rootOf([]))).toBe(ROOTS[0]);
    let edge = emptyEdge();
    LEAF_INPUTS.forEach((leaf, i) => {
      const r = appendLeaves(edge, [leafHash(leaf)]);
      expect(toHex(r.root)).toBe(ROOTS[i + 1]);
      expect(toHex(rootOf(LEAF_INPUTS.slice(0, i + 1).map(leafHash)))).toBe(ROOTS[i + 1]);
      edge = r.edge;
    });
    ROOTS.forEach((root, size) => expect(toHex(rootAt(size, store))).toBe(root));
  });

  it('every complete subtree of the 8-leaf tree is stored, with its NodeHashes value', () => {
    expect(all.nodes).toHaveLength(15);
    for (const n of all.nodes) expect(toHex(n.hash)).toBe(node(n.level, n.index));
  });

  it('the right edge of each size is its CompactTrees entry', () => {
    COMPACT.forEach((refs, size) => {
      const edge = edgeFromNodes(size, store);
      expect(edge.nodes.map((n) => [n.level, n.index])).toEqual(refs);
      expect(edge.nodes.map((n) => toHex(n.hash))).toEqual(refs.map(([l, i]) => node(l, i)));
    });
  });

  it.each(INCLUSION)('inclusion proof of leaf $index in size $size', ({ index, size, proof }) => {
    expect(hex(inclusionProof(index, size, store))).toEqual(proof);
    expect(hex(inclusionProof(index, size, only(nodesForInclusion(index, size), store)))).toEqual(proof);
    const leaf = leafHash(LEAF_INPUTS[index] as Uint8Array);
    const root = b(ROOTS[size] as string);
    expect(verifyInclusion(leaf, index, size, bs(proof), root)).toEqual({ ok: true });

    // verify_test.go's corruptInclusionProof probes: every one must fail.
    const p = bs(proof);
    const probes: Array<[string, Parameters<typeof verifyInclusion>]> = [
      ['leafIndex - 1', [leaf, index - 1, size, p, root]],
      ['leafIndex + 1', [leaf, index + 1, size, p, root]],
      ['leafIndex ^ 2', [leaf, index ^ 2, size, p, root]],
      ['treeSize * 2', [leaf, index, size * 2, p, root]],
      ['treeSize / 2', [leaf, index, Math.floor(size / 2), p, root]],
      ['wrong leaf', [leafHash(new TextEncoder().encode('WrongLeaf')), index, size, p, root]],
      ['empty root', [leaf, index, size, p, emptyRoot()]],
      ['random root', [leaf, index, size, p, SOME_HASH]],
      ['trailing garbage', [leaf, index, size, [...p, new Uint8Array(0)], root]],
      ['trailing root', [leaf, index, size, [...p, root], root]],
      ['preceding garbage', [leaf, index, size, [new Uint8Array(0), ...p], root]],
      ['preceding root', [leaf, index, size, [root, ...p], root]],
      ...p.map((_, i): [string, Parameters<typeof verifyInclusion>] => [
        `modified proof[${i}] bit 3`,
        [leaf, index, size, p.map((x, j) => (i === j ? flipBit(x, 3) : x)), root],
      ]),
      ...(p.length > 0 ? [['removed component', [leaf, index, size, p.slice(0, -1), root]] as [string, Parameters<typeof verifyInclusion>]] : []),
      ...(p.length > 1
        ? [['inserted component', [leaf, index, size, [p[0] as Uint8Array, SOME_HASH, ...p.slice(1)], root]] as [string, Parameters<typeof verifyInclusion>]]
        : []),
    ];
    const accepted = probes.filter(([, args]) => verifyInclusion(...args).ok).map(([d]) => d);
    expect(accepted).toEqual([]);
  });

  it('any single flipped bit of a known inclusion proof, leaf hash or root fails', () => {
    for (const { index, size, proof } of INCLUSION) {
      const leaf = leafHash(LEAF_INPUTS[index] as Uint8Array);
      const root = b(ROOTS[size] as string);
      const p = bs(proof);
      for (let bit = 0; bit < HASH_BYTES * 8; bit++) {
        expect(verifyInclusion(flipBit(leaf, bit), index, size, p, root)).toEqual({ ok: false, reason: 'root-mismatch' });
        expect(verifyInclusion(leaf, index, size, p, flipBit(root, bit))).toEqual({ ok: false, reason: 'root-mismatch' });
        p.forEach((_, i) => {
          const q = p.map((x, j) => (i === j ? flipBit(x, bit) : x));
          expect(verifyInclusion(leaf, index, size, q, root)).toEqual({ ok: false, reason: 'root-mismatch' });
        });
      }
    }
  });

  it.each(CONSISTENCY)('consistency proof from $m to $n', ({ m, n, proof }) => {
    expect(hex(consistencyProof(m, n, store))).toEqual(proof);
    expect(hex(consistencyProof(m, n, only(nodesForConsistency(m, n), store)))).toEqual(proof);
    const r1 = b(ROOTS[m] as string);
    const r2 = b(ROOTS[n] as string);
    const p = bs(proof);
    expect(verifyConsistency(m, n, r1, r2, p)).toEqual({ ok: true });
    if (p.length === 0) return;

    // verify_test.go's corruptConsistencyProof probes: every one must fail.
    const wrongRoot = leafHash(new TextEncoder().encode('WrongRoot'));
    const probes: Array<[string, Parameters<typeof verifyConsistency>]> = [
      ['size1 - 1', [m - 1, n, r1, r2, p]],
      ['size1 + 1', [m + 1, n, r1, r2, p]],
      ['size1 ^ 2', [m ^ 2, n, r1, r2, p]],
      ['size2 * 2', [m, n * 2, r1, r2, p]],
      ['size2 / 2', [m, Math.floor(n / 2), r1, r2, p]],
      ['wrong root1', [m, n, wrongRoot, r2, p]],
      ['wrong root2', [m, n, r1, wrongRoot, p]],
      ['swapped roots', [m, n, r2, r1, p]],
      ['empty proof', [m, n, r1, r2, []]],
      ['trailing garbage', [m, n, r1, r2, [...p, new Uint8Array(0)]]],
      ['trailing root1', [m, n, r1, r2, [...p, r1]]],
      ['trailing root2', [m, n, r1, r2, [...p, r2]]],
      ['preceding garbage', [m, n, r1, r2, [new Uint8Array(0), ...p]]],
      ['preceding root1', [m, n, r1, r2, [r1, ...p]]],
      ['preceding root2', [m, n, r1, r2, [r2, ...p]]],
      ['preceding proof[0]', [m, n, r1, r2, [p[0] as Uint8Array, ...p]]],
      ['truncated proof', [m, n, r1, r2, p.slice(0, -1)]],
      ...p.map((_, i): [string, Parameters<typeof verifyConsistency>] => [
        `modified proof[${i}] bit 4`,
        [m, n, r1, r2, p.map((x, j) => (i === j ? flipBit(x, 4) : x))],
      ]),
    ];
    const accepted = probes.filter(([, args]) => verifyConsistency(...args).ok).map(([d]) => d);
    expect(accepted).toEqual([]);
  });

  it("verify_test.go's TestVerifyConsistency edge cases (stricter for size 0: the old root must be MTH({}))", () => {
    const root1 = leafHash(new TextEncoder().encode("don't care 1"));
    const root2 = leafHash(new TextEncoder().encode("don't care 2"));
    const empty = emptyRoot();
    const cases: Array<[number, number, Uint8Array, Uint8Array, Uint8Array[], string | true]> = [
      [0, 0, root1, root2, [], 'old-root-mismatch'],
      [1, 1, root1, root2, [], 'new-root-mismatch'],
      [0, 0, empty, empty, [], true],
      [1, 1, root2, root2, [], true],
      // Trillian accepts any old root for size 0; MTH({}) is the only root a tree of 0 leaves has.
      [0, 1, empty, root2, [], true],
      [0, 1, root1, root2, [], 'old-root-mismatch'],
      [1, 0, root1, root2, [], 'old-size-larger'],
      [2, 1, root1, root2, [], 'old-size-larger'],
      [1, 2, root1, root2, [], 'empty-proof'],
      [0, 0, empty, root2, [], 'new-root-mismatch'],
      [1, 1, empty, root2, [], 'new-root-mismatch'],
      [0, 0, empty, empty, [empty], 'proof-not-empty'],
      [0, 1, empty, empty, [empty], 'proof-not-empty'],
      [1, 1, empty, empty, [empty], 'proof-not-empty'],
    ];
    for (const [m, n, r1, r2, p, want] of cases) {
      expect(verifyConsistency(m, n, r1, r2, p)).toEqual(want === true ? { ok: true } : { ok: false, reason: want });
    }
  });

  it("verify_test.go's TestVerifyInclusion edge cases and a single-entry tree", () => {
    const data = leafHash(new TextEncoder().encode('data'));
    expect(verifyInclusion(data, 0, 1, [], data)).toEqual({ ok: true });
    expect(verifyInclusion(data, 0, 1, [], new Uint8Array(0))).toEqual({ ok: false, reason: 'malformed-input' });
    expect(verifyInclusion(new Uint8Array(0), 0, 1, [], data)).toEqual({ ok: false, reason: 'malformed-input' });
    for (const [index, size] of [
      [0, 0],
      [1, 0],
      [2, 1],
    ] as const) {
      expect(verifyInclusion(SOME_HASH, index, size, [], emptyRoot())).toEqual({ ok: false, reason: 'index-out-of-range' });
    }
    expect(verifyInclusion(SOME_HASH, 0, 1, [], emptyRoot())).toEqual({ ok: false, reason: 'root-mismatch' });
  });
});

// ------------------------------------------------------------------------------------------------
// Properties against the reference

describe('appendLeaves', () => {
  it('in random batches gives the reference root after every batch and stores exactly the complete subtrees, once each', () => {
    fc.assert(
      fc.property(treeArb, ({ n, seed, cuts }) => {
        const leaves = leavesFor(seed, n);
        const { stored, edge } = buildInBatches(leaves, cuts);
        const keys = stored.map(nodeKey);
        expect(new Set(keys).size).toBe(keys.length);
        expect([...keys].sort()).toEqual(completeSubtrees(n).map(nodeKey).sort());
        for (const s of stored) {
          const width = 2 ** s.level;
          expect(toHex(s.hash)).toBe(toHex(MTH(leaves.slice(s.index * width, (s.index + 1) * width))));
        }
        expect(edgeFromNodes(n, nodeMap(stored))).toEqual(edge);
      }),
      FC,
    );
  });

  it('an empty batch changes nothing and stores nothing; the input edge is not modified', () => {
    const first = appendLeaves(emptyEdge(), leavesFor(1, 5).map(leafHash));
    const snapshot = JSON.stringify(first.edge, (_, v: unknown) => (v instanceof Uint8Array ? toHex(v) : v));
    const again = appendLeaves(first.edge, []);
    expect(again.nodes).toEqual([]);
    expect(again.edge).toEqual(first.edge);
    expect(toHex(again.root)).toBe(toHex(first.root));
    appendLeaves(first.edge, leavesFor(2, 9).map(leafHash));
    expect(JSON.stringify(first.edge, (_, v: unknown) => (v instanceof Uint8Array ? toHex(v) : v))).toBe(snapshot);
  });

  it('refuses an edge that is not the decomposition of its size, and leaf hashes that are not 32 bytes', () => {
    const { edge } = appendLeaves(emptyEdge(), leavesFor(3, 6).map(leafHash));
    const [a, c] = edge.nodes as [MerkleNode, MerkleNode];
    for (const bad of [
      { size: 7, nodes: edge.nodes },
      { size: 6, nodes: [c, a] },
      { size: 6, nodes: [a] },
      { size: 6, nodes: [a, { ...c, index: 3 }] },
      { size: 6, nodes: [a, { ...c, hash: new Uint8Array(31) }] },
      { size: -1, nodes: [] },
      { size: 1.5, nodes: [] },
    ]) {
      expect(() => appendLeaves(bad, [])).toThrow(ValidationError);
    }
    expect(() => appendLeaves(edge, [new Uint8Array(33)])).toThrow(ValidationError);
    expect(() => appendLeaves({ size: Number.MAX_SAFE_INTEGER, nodes: edgeRefs(Number.MAX_SAFE_INTEGER).map((r) => ({ ...r, hash: SOME_HASH })) }, [SOME_HASH])).toThrow(
      ValidationError,
    );
  });
});

describe('inclusion proofs', () => {
  it('built from stored complete subtrees (only those nodesForInclusion names) equal RFC PATH, for every past size, and verify', () => {
    fc.assert(
      fc.property(treeArb, ({ n, seed, cuts, picks }) => {
        const leaves = leavesFor(seed, n);
        const store = nodeMap(buildInBatches(leaves, cuts).stored);
        for (const [x, y] of picks) {
          const size = 1 + (x % n);
          const index = y % size;
          const D = leaves.slice(0, size);
          const proof = inclusionProof(index, size, only(nodesForInclusion(index, size), store));
          expect(hex(proof)).toEqual(hex(PATH(index, D)));
          expect(verifyInclusion(leafHash(leaves[index] as Uint8Array), index, size, proof, MTH(D))).toEqual({ ok: true });
        }
      }),
      FC,
    );
  });

  it('fail on any flipped bit of an entry, the leaf hash or the root, on an entry added or removed, and on another index or size unless the RFC shape is the same', () => {
    fc.assert(
      fc.property(treeArb, fc.nat(), ({ n, seed, cuts, picks }, salt) => {
        const leaves = leavesFor(seed, n);
        const store = nodeMap(buildInBatches(leaves, cuts).stored);
        for (const [x, y, z] of picks) {
          const size = 1 + (x % n);
          const index = y % size;
          const leaf = leafHash(leaves[index] as Uint8Array);
          const root = MTH(leaves.slice(0, size));
          const proof = inclusionProof(index, size, store);
          const bit = (z + salt) % (HASH_BYTES * 8);
          proof.forEach((_, i) => {
            const q = proof.map((p, j) => (i === j ? flipBit(p, bit + i) : p));
            expect(verifyInclusion(leaf, index, size, q, root).ok).toBe(false);
          });
          expect(verifyInclusion(flipBit(leaf, bit), index, size, proof, root).ok).toBe(false);
          expect(verifyInclusion(leaf, index, size, proof, flipBit(root, bit)).ok).toBe(false);
          expect(verifyInclusion(leaf, index, size, [...proof, SOME_HASH], root).ok).toBe(false);
          if (proof.length) expect(verifyInclusion(leaf, index, size, proof.slice(1), root).ok).toBe(false);
          for (let k = 0; k <= 52; k++) {
            const i2 = flipNumberBit(index, k);
            expect(verifyInclusion(leaf, i2, size, proof, root).ok).toBe(i2 < size && pathShape(i2, size) === pathShape(index, size));
            const n2 = flipNumberBit(size, k);
            expect(verifyInclusion(leaf, index, n2, proof, root).ok).toBe(index < n2 && pathShape(index, n2) === pathShape(index, size));
          }
        }
      }),
      { ...FC, numRuns: 40 },
    );
  });

  it('the verifier follows the RFC recursion at sizes up to 2^53 (no 32-bit arithmetic)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), fc.nat(), fc.nat(), (size, x, salt) => {
        const index = x % size;
        const shape = pathShape(index, size);
        const proof = Array.from({ length: shape.length }, (_, i) => H([salt % 256, i]));
        const leaf = H([1, 2, 3]);
        expect(verifyInclusion(leaf, index, size, proof, foldPath(leaf, proof, shape))).toEqual({ ok: true });
        expect(nodesForInclusion(index, size).length).toBeLessThanOrEqual(2 * 53);
      }),
      { numRuns: 500, seed: 9162 },
    );
  });
});

describe('consistency proofs', () => {
  it('built from stored complete subtrees (only those nodesForConsistency names) equal RFC PROOF, for every pair of past sizes, and verify', () => {
    fc.assert(
      fc.property(treeArb, ({ n, seed, cuts, picks }) => {
        const leaves = leavesFor(seed, n);
        const store = nodeMap(buildInBatches(leaves, cuts).stored);
        for (const [x, y] of picks) {
          const size = x % (n + 1);
          const old = y % (size + 1);
          const proof = consistencyProof(old, size, only(nodesForConsistency(old, size), store));
          const want = old === 0 || old === size ? [] : PROOF(old, leaves.slice(0, size));
          expect(hex(proof)).toEqual(hex(want));
          expect(verifyConsistency(old, size, MTH(leaves.slice(0, old)), MTH(leaves.slice(0, size)), proof)).toEqual({ ok: true });
        }
      }),
      FC,
    );
  });

  it('fail on any flipped bit of an entry or either root, on an entry added or removed, and on other sizes unless the RFC shape is the same', () => {
    fc.assert(
      fc.property(treeArb, fc.nat(), ({ n, seed, cuts, picks }, salt) => {
        if (n < 2) return;
        const leaves = leavesFor(seed, n);
        const store = nodeMap(buildInBatches(leaves, cuts).stored);
        for (const [x, y, z] of picks) {
          const size = 2 + (x % (n - 1));
          const old = 1 + (y % (size - 1)); // 0 < old < size: a proof with entries
          const r1 = MTH(leaves.slice(0, old));
          const r2 = MTH(leaves.slice(0, size));
          const proof = consistencyProof(old, size, store);
          expect(proof.length).toBeGreaterThan(0);
          const bit = (z + salt) % (HASH_BYTES * 8);
          proof.forEach((_, i) => {
            const q = proof.map((p, j) => (i === j ? flipBit(p, bit + i) : p));
            expect(verifyConsistency(old, size, r1, r2, q).ok).toBe(false);
          });
          expect(verifyConsistency(old, size, flipBit(r1, bit), r2, proof).ok).toBe(false);
          expect(verifyConsistency(old, size, r1, flipBit(r2, bit), proof).ok).toBe(false);
          expect(verifyConsistency(old, size, r1, r2, [...proof, SOME_HASH]).ok).toBe(false);
          expect(verifyConsistency(old, size, r1, r2, proof.slice(1)).ok).toBe(false);
          expect(verifyConsistency(old, size, r1, r2, [SOME_HASH, ...proof]).ok).toBe(false);
          const same = (m2: number, n2: number): boolean => m2 > 0 && m2 < n2 && proofShape(m2, n2) === proofShape(old, size);
          for (let k = 0; k <= 52; k++) {
            const m2 = flipNumberBit(old, k);
            expect(verifyConsistency(m2, size, r1, r2, proof).ok).toBe(same(m2, size));
            const n2 = flipNumberBit(size, k);
            expect(verifyConsistency(old, n2, r1, r2, proof).ok).toBe(same(old, n2));
          }
        }
      }),
      { ...FC, numRuns: 40 },
    );
  });

  it('the verifier follows the RFC recursion at sizes up to 2^53 (no 32-bit arithmetic)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: Number.MAX_SAFE_INTEGER }), fc.nat(), fc.nat(), (size, y, salt) => {
        const old = 1 + (y % (size - 1));
        const shape = proofShape(old, size);
        const entries = shape.split(':')[1]?.length ?? 0;
        const length = shape.startsWith('prepend') ? entries : entries + 1;
        const proof = Array.from({ length }, (_, i) => H([salt % 256, i]));
        const oldRoot = shape.startsWith('prepend') ? H([7]) : foldConsistency(H([7]), proof, shape)[0];
        const [fr, sr] = foldConsistency(oldRoot, proof, shape);
        expect(toHex(fr)).toBe(toHex(oldRoot));
        expect(verifyConsistency(old, size, oldRoot, sr, proof)).toEqual({ ok: true });
        expect(nodesForConsistency(old, size).length).toBeLessThanOrEqual(2 * 53);
      }),
      { numRuns: 500, seed: 9162 },
    );
  });
});

// ------------------------------------------------------------------------------------------------
// The API's edges

describe('node lists for one BatchGetItem', () => {
  it('name only complete subtrees inside the tree, without duplicates, at most 2·log2(n) of them', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), fc.nat(), fc.nat(), (size, x, y) => {
        const old = y % (size + 1);
        for (const refs of [nodesForInclusion(x % size, size), nodesForConsistency(old, size), edgeRefs(size)]) {
          // One expect per list: jest's matchers cost more than the code under test here.
          const keys = refs.map(nodeKey);
          const outside = refs.filter((r) => (r.index + 1) * 2 ** r.level > size || !Number.isSafeInteger(r.index));
          expect({ duplicates: keys.length - new Set(keys).size, outside, tooMany: refs.length > 2 * Math.ceil(Math.log2(size + 1)) }).toEqual({
            duplicates: 0,
            outside: [],
            tooMany: false,
          });
        }
      }),
      { numRuns: 1000, seed: 9162 },
    );
    // Below 2^50 leaves any proof fits one BatchGetItem (100 keys).
    const n = 2 ** 50 - 1;
    expect(nodesForInclusion(0, n).length).toBeLessThanOrEqual(100);
    expect(nodesForConsistency(2 ** 49 + 1, n).length).toBeLessThanOrEqual(100);
  });

  it('a builder whose source lacks a node throws MissingMerkleNode naming it; bad arguments are ValidationErrors', () => {
    const { nodes } = appendLeaves(emptyEdge(), leavesFor(4, 8).map(leafHash));
    const store = nodeMap(nodes);
    store.delete('1/1');
    expect(() => inclusionProof(0, 8, store)).toThrow(MissingMerkleNode);
    const full = nodeMap(nodes);
    expect(() => inclusionProof(0, 8, (level, index) => (level === 2 ? new Uint8Array(31) : full.get(`${level}/${index}`)))).toThrow(
      /level 2 index 1/,
    );
    expect(() => consistencyProof(1, 8, store)).toThrow(MissingMerkleNode);
    expect(() => nodesForInclusion(8, 8)).toThrow(ValidationError);
    expect(() => nodesForInclusion(-1, 8)).toThrow(ValidationError);
    expect(() => nodesForConsistency(9, 8)).toThrow(ValidationError);
    expect(() => consistencyProof(0.5, 8, store)).toThrow(ValidationError);
    expect(() => edgeRefs(Number.NaN)).toThrow(ValidationError);
  });
});

describe('verifiers never throw', () => {
  it('answer malformed-input for anything that is not sizes, 32-byte hashes and an array of them', () => {
    const anything = fc.oneof(fc.anything(), fc.uint8Array({ maxLength: 40 }), fc.array(fc.uint8Array({ minLength: 31, maxLength: 33 })));
    fc.assert(
      fc.property(anything, anything, anything, anything, anything, (a, b2, c, d, e) => {
        const inc = verifyInclusion(a as Uint8Array, b2 as number, c as number, d as Uint8Array[], e as Uint8Array);
        const con = verifyConsistency(a as number, b2 as number, c as Uint8Array, d as Uint8Array, e as Uint8Array[]);
        expect(inc.ok).toBe(false);
        expect(con.ok).toBe(false);
      }),
      { numRuns: 2000, seed: 9162 },
    );
    const h = SOME_HASH;
    expect(verifyInclusion(h, Number.NaN, 2, [h], h)).toEqual({ ok: false, reason: 'malformed-input' });
    expect(verifyInclusion(h, 0, 2 ** 53, [h], h)).toEqual({ ok: false, reason: 'malformed-input' });
    expect(verifyInclusion(h, 0, 2, [h, 'x' as unknown as Uint8Array], h)).toEqual({ ok: false, reason: 'malformed-input' });
    expect(verifyConsistency(1, 2, h, h, null as unknown as Uint8Array[])).toEqual({ ok: false, reason: 'malformed-input' });
    expect(verifyInclusion(h, 0, 4, [h], h)).toEqual({ ok: false, reason: 'proof-too-short' });
    expect(verifyInclusion(h, 0, 2, [h, h], h)).toEqual({ ok: false, reason: 'proof-too-long' });
  });
});

describe('hashing and hex', () => {
  it('leafHash and nodeHash are SHA-256 with the 0x00 and 0x01 prefixes', () => {
    expect(toHex(leafHash(new Uint8Array(0)))).toBe(node(0, 0));
    expect(toHex(nodeHash(b(node(0, 0)), b(node(0, 1))))).toBe(node(1, 0));
  });

  it('fromHex takes exactly 64 lowercase hex characters (or the length asked for) and refuses anything else', () => {
    expect(toHex(fromHex(node(3, 0)))).toBe(node(3, 0));
    expect(toHex(fromHex('00ff', 2))).toBe('00ff');
    for (const bad of [node(3, 0).toUpperCase(), node(3, 0).slice(1), `${node(3, 0)}0`, `${node(3, 0).slice(2)}zz`, ' '.repeat(64), '', '0x' + node(3, 0).slice(2)]) {
      expect(() => fromHex(bad)).toThrow(ValidationError);
      expect(isHashHex(bad)).toBe(false);
    }
    expect(() => fromHex(42 as unknown as string)).toThrow(ValidationError);
    expect(isHashHex(node(3, 0))).toBe(true);
    expect(toHex(Uint8Array.of(1, 2, 3, 4).subarray(1, 3))).toBe('0203'); // a view: its offset and length, not the whole buffer
  });
});
