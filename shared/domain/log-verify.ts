import type { StoredItem } from '../audit-log-ports.js';
import { UncanonicalEntry, entryLeafHash, sequencedEntryProblems } from './audit.js';
import { checkpointOrder, checkpointProblems, verifyCheckpoint, type CheckpointBody } from './checkpoint.js';
import {
  appendLeaves,
  consistencyProof,
  emptyEdge,
  emptyRoot,
  fromHex,
  nodeKey,
  toHex,
  verifyConsistency,
  type MerkleNode,
  type RightEdge,
} from './merkle.js';

/**
 * Verifies the audit log as a whole: its entries, in log order, against its signed checkpoints.
 * One function for both places an auditor looks: an export folder read offline
 * (scripts/audit-verify.ts) and the table (`verifyAuditTrail`, which also passes the leaf hashes
 * the log stored, `storedLeafHashes`).
 *
 * What it proves. A checkpoint says "the first `logSize` leaves have root `rootHash`", signed by
 * the checkpoint key. Recomputing every leaf from its entry and the root from the leaves, and
 * finding the signed root, proves that entries [0, logSize) are exactly the ones the log held
 * when the key signed: no entry edited, added, removed or reordered, whatever else was rewritten
 * (the table, the leaf nodes, the export). Entries after the newest checkpoint are covered by no
 * signature yet: they are reported as `unanchored`, not as verified.
 *
 * The checks run in a fixed order and the report names the FIRST problem:
 * a. each entry in order: its place (`logIndex` = its position), what the leaf does not cover
 *    (`sequencedEntryProblems`), its leaf hash; on the table path, the leaf the log stored;
 * b. each checkpoint in name order: its name (`<logSize, 16 digits>.json`) against its body, the
 *    body, the signature, the order after the previous one, the entries it covers being present,
 *    the root of those entries, and the consistency proof from the previous checkpoint.
 * Only contradictions make a report not ok: a log without any checkpoint is ok, with every entry
 * unanchored (the caller must say so loudly).
 *
 * A report never carries a signature, key material or an entry's content: only positions,
 * checkpoint names and roots (which the checkpoints publish anyway).
 *
 * Pure: no I/O, no clock (`now` is the caller's).
 */

export interface LogVerifyInput {
  /** The entry items in log order (entry i has logIndex i), exactly as stored. */
  entries: readonly StoredItem[];
  /** The checkpoint files: their names (`<logSize, 16 digits>.json`) and parsed content (`SignedCheckpoint`, unchecked). */
  checkpoints: ReadonlyArray<{ name: string; raw: unknown }>;
  /** The checkpoint key's public key: PEM "PUBLIC KEY", or base64 DER SPKI (KMS GetPublicKey). */
  publicKey: string;
  /** On the table path: the hash (hex) the log stored for each leaf; undefined where it holds none. */
  storedLeafHashes?: readonly (string | undefined)[];
  /** Epoch ms, to say how long the oldest unanchored entry has waited for a checkpoint. */
  now?: number;
}

export interface UnanchoredWindow {
  /** How many entries come after the newest checkpoint. */
  count: number;
  /** The first of them (= the newest checkpoint's logSize, 0 without any). */
  fromIndex: number;
  /** The `at` of entry `fromIndex`. */
  oldestAt?: string;
  /** now - oldestAt, when `now` was given. */
  ageMs?: number;
}

export type LogReport =
  | {
      ok: true;
      /** Entries checked (all of them, anchored or not). */
      entries: number;
      checkpoints: number;
      /** The newest checkpoint's root (MTH({}) without any checkpoint). */
      root: string;
      /** The newest checkpoint's logSize: how many entries a signature covers (0 without any). */
      logSize: number;
      unanchored: UnanchoredWindow | undefined;
    }
  | {
      ok: false;
      /** What is wrong, in words. */
      what: string;
      /** Where: `entry 17` or `checkpoint 0000000000000040`. */
      at: string;
      entries: number;
      checkpoints: number;
    };

const CHECKPOINT_NAME = /^(\d{16})\.json$/;

/** The `at` of a checkpoint: its name without `.json` (the whole name when it is not a checkpoint name). */
const checkpointAt = (name: string): string => `checkpoint ${CHECKPOINT_NAME.exec(name)?.[1] ?? name}`;

const describeOrder = {
  'malformed-body': 'is malformed',
  smaller: 'covers fewer entries than the one before it',
  older: 'is older than the one before it',
  fork: 'has another root than the one before it at the same size, a fork',
} as const;

const describeSignature = {
  'malformed-body': 'its body is malformed',
  'malformed-signature': 'its signature is not a base64 DER ECDSA P-256 signature',
  'malformed-key': 'the public key is malformed, so no signature can be checked',
  'wrong-key-type': 'the public key is not an EC P-256 key, so no signature can be checked',
  'bad-signature': 'its signature does not verify with the public key',
} as const;

/**
 * What is wrong with a public key for checking checkpoints (undefined when it is a P-256 public
 * key): the same parser `verifyCheckpoint` uses, which checks the key before the signature.
 */
export function publicKeyProblem(publicKey: string): string | undefined {
  const probe: CheckpointBody = { logSize: 0, rootHash: toHex(emptyRoot()), time: new Date(0).toISOString(), keyId: 'probe' };
  const result = verifyCheckpoint(probe, '', publicKey);
  if (result.ok) return undefined;
  if (result.reason === 'malformed-key') return 'not a public key (PEM "PUBLIC KEY" or base64 DER SubjectPublicKeyInfo)';
  if (result.reason === 'wrong-key-type') return 'not an EC P-256 public key';
  return undefined;
}

/** A value for a message, cut short: a tampered attribute may hold anything. */
function shown(value: unknown): string {
  const text = JSON.stringify(value ?? null) ?? 'null';
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export function verifyLog(input: LogVerifyInput): LogReport {
  const { entries, publicKey, storedLeafHashes, now } = input;
  const checkpoints = [...input.checkpoints].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const counts = { entries: entries.length, checkpoints: checkpoints.length };
  const broken = (what: string, at: string): LogReport => ({ ok: false, what, at, ...counts });

  // a. The entries, in order.
  const leaves: Uint8Array[] = [];
  for (let i = 0; i < entries.length; i++) {
    const entry: unknown = entries[i];
    const at = `entry ${i}`;
    if (!isPlainObject(entry)) return broken('the entry is not a JSON object', at);
    // Before anything else: a deleted or moved entry shifts every later one, and this says where.
    if (entry.logIndex !== i) return broken(`the entry is out of place (its logIndex is ${shown(entry.logIndex)})`, at);
    const problems = sequencedEntryProblems(entry, i);
    if (problems.length) return broken(`the entry is malformed: ${problems.join('; ')}`, at);
    let leaf: Uint8Array;
    try {
      leaf = entryLeafHash(entry);
    } catch (e) {
      if (e instanceof UncanonicalEntry) return broken(`the entry cannot be hashed: ${e.reason}`, at);
      throw e;
    }
    if (storedLeafHashes !== undefined) {
      const stored = storedLeafHashes[i];
      if (stored === undefined) return broken('the log holds no leaf for the entry', at);
      if (stored !== toHex(leaf)) return broken('the entry does not match its leaf in the log', at);
    }
    leaves.push(leaf);
  }
  if (storedLeafHashes !== undefined && storedLeafHashes.length > entries.length) {
    return broken(`the log holds ${storedLeafHashes.length} leaves, only ${entries.length} entries are present`, `entry ${entries.length}`);
  }

  // b. The checkpoints, oldest (smallest) first. The tree is extended from one checkpoint's size
  //    to the next (appendLeaves from the previous right edge), never recomputed from scratch.
  let edge: RightEdge = emptyEdge();
  let previous: { name: string; body: CheckpointBody } | undefined;
  for (const { name, raw } of checkpoints) {
    const at = checkpointAt(name);
    const match = CHECKPOINT_NAME.exec(name);
    if (match === null) return broken('the file name is not <logSize, 16 digits>.json', at);
    const named = Number(match[1]);
    if (!isPlainObject(raw) || !isPlainObject(raw.checkpoint) || typeof raw.signature !== 'string') {
      return broken('the file is not a JSON object {"checkpoint", "signature"}', at);
    }
    const claimed = raw.checkpoint.logSize;
    // A checkpoint swapped with another, or an older one put in its place, shows here first.
    if (claimed !== named) return broken(`the checkpoint's logSize is ${shown(claimed)}, its name says ${named}`, at);
    const problems = checkpointProblems(raw.checkpoint);
    if (problems.length) return broken(`the checkpoint is malformed: ${problems.join('; ')}`, at);
    const body = raw.checkpoint as unknown as CheckpointBody;
    const signature = verifyCheckpoint(body, raw.signature, publicKey);
    if (!signature.ok) return broken(describeSignature[signature.reason], at);
    if (previous !== undefined) {
      const order = checkpointOrder(previous.body, body);
      if (!order.ok) return broken(`the checkpoint ${describeOrder[order.reason]} (${checkpointAt(previous.name)})`, at);
    }
    if (body.logSize > leaves.length) return broken(`the checkpoint covers ${body.logSize} entries, only ${leaves.length} are present`, at);

    const from = edge.size;
    const appended = appendLeaves(edge, leaves.slice(from, body.logSize));
    if (toHex(appended.root) !== body.rootHash) {
      // Every earlier checkpoint matched, so the first changed entry lies in this one's new range.
      const range = from === body.logSize - 1 ? `entry ${from}` : `entries ${from} to ${body.logSize - 1}`;
      return broken(`the entries do not have the checkpoint's root: the first changed entry is among ${range}`, at);
    }
    // Belt and braces: with every leaf present the root check implies consistency, but this checks
    // the published roots themselves, as a monitor holding only the two checkpoints would.
    if (previous !== undefined) {
      const proof = consistencyProof(previous.body.logSize, body.logSize, proofNodes(edge, appended.nodes));
      const consistent = verifyConsistency(previous.body.logSize, body.logSize, fromHex(previous.body.rootHash), fromHex(body.rootHash), proof);
      if (!consistent.ok) return broken(`the checkpoint is not consistent with ${checkpointAt(previous.name)} (${consistent.reason})`, at);
    }
    edge = appended.edge;
    previous = { name, body };
  }

  // c, d. What no signature covers yet.
  const logSize = previous?.body.logSize ?? 0;
  const root = previous?.body.rootHash ?? toHex(emptyRoot());
  let unanchored: UnanchoredWindow | undefined;
  if (entries.length > logSize) {
    const oldest = (entries[logSize] as StoredItem).at;
    unanchored = { count: entries.length - logSize, fromIndex: logSize };
    if (typeof oldest === 'string') {
      unanchored.oldestAt = oldest;
      const ms = Date.parse(oldest);
      if (now !== undefined && !Number.isNaN(ms)) unanchored.ageMs = now - ms;
    }
  }
  return { ok: true, ...counts, root, logSize, unanchored };
}

/**
 * The nodes a consistency proof from size m to size n reads, without keeping the whole tree: every
 * range PROOF(m, D[n]) hashes lies either wholly below m, where it is a subtree of m's right edge
 * (the proof is built from the old root's parts), or wholly in [m, n), where each complete subtree
 * it splits into was created by appending leaves m..n-1. So the old edge plus the append's nodes
 * suffice (log-verify.test.ts checks this for every m < n up to 130).
 */
export function proofNodes(oldEdge: RightEdge, appended: readonly MerkleNode[]): Map<string, Uint8Array> {
  const map = new Map<string, Uint8Array>();
  for (const n of [...oldEdge.nodes, ...appended]) map.set(nodeKey(n), n.hash);
  return map;
}
