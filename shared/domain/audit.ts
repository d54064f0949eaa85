import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

/**
 * The audit trail is a set of hash chains, one per scope: `group:<ModelPackageGroupName>` for
 * everything about a group's versions, policies and reviews, and `training-jobs` for the training
 * recorder. Each entry commits to the previous entry's hash, so editing, removing or reordering
 * an entry breaks every later link.
 */
export const GENESIS_HASH = '0'.repeat(64);

export interface AuditHead {
  chain: string;
  seq: number; // 0 for an empty chain
  hash: string;
}

export interface AuditEvent {
  action: string;
  /** The resource the entry is about (a model package ARN, a training job ARN, a group). */
  subject: string;
  /** Who caused it: `sagemaker` for events, the IAM identity from DescribeModelPackage, an operator. */
  actor: string;
  detail: Record<string, unknown>;
}

export interface AuditEntry extends AuditEvent {
  chain: string;
  seq: number;
  at: string;
  prevHash: string;
  hash: string;
}

export const emptyHead = (chain: string): AuditHead => ({ chain, seq: 0, hash: GENESIS_HASH });

/** Lowercase, as in SageMaker's ARNs: one chain per group whatever the case of its name. */
export const groupChain = (group: string): string => `group:${group.toLowerCase()}`;
export const TRAINING_CHAIN = 'training-jobs';

export function hashEntry(entry: Omit<AuditEntry, 'hash'>): string {
  // RFC 8785 canonical JSON, so the hash does not depend on key order or number formatting.
  const canonical = canonicalize({
    chain: entry.chain,
    seq: entry.seq,
    at: entry.at,
    prevHash: entry.prevHash,
    action: entry.action,
    subject: entry.subject,
    actor: entry.actor,
    detail: entry.detail,
  });
  if (canonical === undefined) throw new Error('audit entry cannot be canonicalised');
  return createHash('sha256').update(canonical).digest('hex');
}

/** Appends events to a chain whose head is `head`; returns the entries and the new head. */
export function appendToChain(
  head: AuditHead,
  events: readonly AuditEvent[],
  now: number,
): { entries: AuditEntry[]; head: AuditHead } {
  const entries: AuditEntry[] = [];
  let prev = head;
  for (const event of events) {
    const unsigned = { ...event, chain: head.chain, seq: prev.seq + 1, at: new Date(now).toISOString(), prevHash: prev.hash };
    const entry = { ...unsigned, hash: hashEntry(unsigned) };
    entries.push(entry);
    prev = { chain: head.chain, seq: entry.seq, hash: entry.hash };
  }
  return { entries, head: prev };
}

export type ChainVerdict =
  | { verified: true; entries: number; head: AuditHead }
  | { verified: false; seq: number; reason: string };

/**
 * Recomputes the chain from its first entry. `entries` must be the whole chain in seq order;
 * `head` is the stored head item, which must match the last entry.
 */
export function verifyChain(chain: string, entries: readonly AuditEntry[], head?: AuditHead): ChainVerdict {
  let prev = emptyHead(chain);
  for (const e of entries) {
    if (e.chain !== chain) return { verified: false, seq: e.seq, reason: `entry belongs to chain ${e.chain}` };
    if (e.seq !== prev.seq + 1) return { verified: false, seq: prev.seq + 1, reason: `entry ${prev.seq + 1} is missing` };
    if (e.prevHash !== prev.hash) return { verified: false, seq: e.seq, reason: 'previous-hash link does not match' };
    const { hash, ...unsigned } = e;
    if (hashEntry(unsigned) !== hash) return { verified: false, seq: e.seq, reason: 'content does not match its hash' };
    prev = { chain, seq: e.seq, hash };
  }
  if (head && (head.seq !== prev.seq || head.hash !== prev.hash)) {
    return { verified: false, seq: head.seq, reason: 'stored head does not match the last entry' };
  }
  return { verified: true, entries: entries.length, head: prev };
}
