import type { CheckpointBody } from './domain/checkpoint.js';
import type { NodeRef } from './domain/merkle.js';
import type { Clock, CommitResult } from './ports.js';

/**
 * The ports of the audit log's own functions (the sequencer, checkpoints, proofs, verification,
 * export). They are kept apart from `ports.ts`: no function on the event path wires them, and
 * the functions that do wire nothing of the governance store but the entries they read.
 */

/** The key of a stored item. */
export interface ItemKey {
  PK: string;
  SK: string;
}

/** A stored item exactly as read from the table (unmarshalled, keys included). */
export type StoredItem = Record<string, unknown>;

/** One complete subtree of the log's Merkle tree, hash in lowercase hex. */
export interface StoredNode extends NodeRef {
  hash: string;
}

/** The log's head item: its size, root and right edge (merkle.ts `RightEdge`, hashes in hex). */
export interface LogHead {
  size: number;
  rootHash: string;
  edge: StoredNode[];
  /** When the sequencer last extended the log (ISO); absent for an empty log. */
  updatedAt?: string;
}

/** A leaf of the log: its index, hash and the entry item it was made from. */
export interface LogLeaf {
  index: number;
  hash: string;
  entry: ItemKey;
  /** When the sequencer placed it (ISO). */
  sequencedAt: string;
}

/** One batch appended to the log: committed in one transaction, conditional on the head's size. */
export interface LogAppend {
  expectedSize: number;
  head: LogHead;
  /** Every node the append created (leaves included). */
  nodes: StoredNode[];
  /** The leaves, each with the entry that gets its `logIndex` (the entry must still have none). */
  leaves: LogLeaf[];
}

/** A checkpoint and its signature (DER ECDSA-Sig-Value, base64), as stored in the bucket and the table. */
export interface SignedCheckpoint {
  checkpoint: CheckpointBody;
  signature: string;
}

export interface AuditLogStore {
  /** The head (consistent read); an empty log when there is none yet. */
  readHead(): Promise<LogHead>;
  /** Entry items by key (consistent reads, BatchGetItem); missing keys are left out. */
  readEntries(keys: readonly ItemKey[]): Promise<StoredItem[]>;
  /** Keys of entries not sequenced yet (the sparse GSI2 partition), oldest first. */
  listUnsequenced(page: { limit: number; cursor?: string }): Promise<{ items: Array<ItemKey & { at: string }>; cursor?: string }>;
  /** 'conflict' when another sequencer moved the head or an entry was sequenced meanwhile. */
  append(change: LogAppend): Promise<CommitResult>;
  /** Stored nodes by reference (BatchGetItem); absent nodes are missing from the map (key `nodeKey`). */
  readNodes(refs: readonly NodeRef[]): Promise<Map<string, Uint8Array>>;
  /** Leaves [from, to) in index order; a missing leaf is left out (the caller checks the indexes). */
  readLeaves(from: number, to: number): Promise<LogLeaf[]>;
  /** The newest checkpoint recorded in the table, if any. */
  latestCheckpoint(): Promise<SignedCheckpoint | undefined>;
  /** Every checkpoint recorded in the table, oldest first. */
  listCheckpoints(): Promise<SignedCheckpoint[]>;
  /** Records a checkpoint once (conditional on its log size being new). */
  recordCheckpoint(signed: SignedCheckpoint & { objectKey: string }): Promise<CommitResult>;
}

/** Signs checkpoints: a KMS asymmetric key (ECC_NIST_P256, ECDSA_SHA_256), or a local key file. */
export interface CheckpointSigner {
  /** The key's id as checkpoints name it (the KMS key ARN, or the local key's name). */
  keyId(): Promise<string>;
  /** DER ECDSA-Sig-Value, base64, over SHA-256 of `message`. */
  sign(message: Uint8Array): Promise<string>;
  /** The public key: DER SubjectPublicKeyInfo, base64 (what KMS GetPublicKey returns). */
  publicKey(): Promise<string>;
}

/** The checkpoint bucket (S3 with Object Lock in compliance mode; locally the local S3). */
export interface CheckpointBucket {
  /**
   * Writes the checkpoint under `checkpoints/<logSize, 16 digits>.json`, never over an existing
   * object; returns the key. When the key already holds this very checkpoint (a repeat), returns
   * the key too; when it holds another one, throws `CheckpointObjectTaken`.
   */
  put(signed: SignedCheckpoint): Promise<string>;
  /** Every checkpoint object's key, in key (so log size) order. */
  listKeys(): Promise<string[]>;
  /** The object's JSON, parsed (not validated: the caller verifies it); undefined when absent. */
  get(key: string): Promise<unknown>;
}

/**
 * `CheckpointBucket.put` found another object under the checkpoint's key (in compliance mode it
 * can never be replaced): `existing` is that object's JSON, unverified, for the caller to judge.
 */
export class CheckpointObjectTaken extends Error {
  constructor(
    readonly key: string,
    readonly existing: unknown,
  ) {
    super(`the checkpoint bucket already holds another object at ${key}`);
    this.name = 'CheckpointObjectTaken';
  }
}

/** Where `exportAuditTrail` writes: an S3 prefix, or (stage local) a folder. */
export interface ExportSink {
  /** Where the export is, for the operator (`s3://bucket/prefix/` or a folder path). */
  location: string;
  write(relativePath: string, body: string): Promise<void>;
}

export interface AuditLogDeps {
  log: AuditLogStore;
  clock: Clock;
}
