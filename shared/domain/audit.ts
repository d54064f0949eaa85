import canonicalize from 'canonicalize';
import { leafHash } from './merkle.js';

/**
 * Audit entries. A change's transaction writes its entries as new items (no shared head, no
 * counter): each entry has a random id and its scope's partition, and nothing that another
 * invocation also writes. A sequencer (usecases/sequencer.ts) later gives each entry its place
 * in one append-only Merkle log (`logIndex`, ./merkle.ts) and signed checkpoints anchor the log
 * outside the table (./checkpoint.ts).
 *
 * Scopes group entries for queries: `group:<group, lowercase>` (a group's versions, policies and
 * reviews), `training-jobs` (the training recorder) and `review-links` (refusals of links that
 * name no version). A version's own entries are also found by subject (GSI1 `AUDITOF#<subject>`).
 *
 * The leaf of an entry is the RFC 8785 canonical JSON of the whole item as stored, keys and
 * type included, except the attributes the sequencer itself manages (`SEQUENCING_ATTRIBUTES`):
 * `logIndex` (checked against the entry's position in the log instead) and the sparse index
 * that marks it unsequenced (which a sequenced entry must not carry). Any other attribute, added
 * or changed, changes the leaf.
 */

export interface AuditEvent {
  action: string;
  /** The resource the entry is about (a model package ARN, a training job ARN, a group). */
  subject: string;
  /** Who caused it: `sagemaker` for events, the IAM identity from DescribeModelPackage, an operator. */
  actor: string;
  detail: Record<string, unknown>;
}

export interface AuditEntry extends AuditEvent {
  /**
   * 128 random bits, base64url, shared by the entries of one change: with `at` and `position` it
   * makes the entry's key, unique without coordination, and keeps a change's entries together.
   */
  id: string;
  scope: string;
  at: string;
  /** The entry's place among the entries of its change, so their order is kept. */
  position: number;
  /** The entry's position in the Merkle log, once sequenced. */
  logIndex?: number;
}

/** Lowercase, as in SageMaker's ARNs: one scope per group whatever the case of its name. */
export const groupScope = (group: string): string => `group:${group.toLowerCase()}`;
export const TRAINING_SCOPE = 'training-jobs';
export const REVIEW_LINKS_SCOPE = 'review-links';

/** The entries of one change: `events`, all in `scope`, stamped `now`, under one new id. */
export function auditEntries(scope: string, events: readonly AuditEvent[], now: number, newId: () => string): AuditEntry[] {
  if (events.length === 0) return [];
  const at = new Date(now).toISOString();
  const id = newId();
  return events.map((e, position) => ({ id, scope, at, position, action: e.action, subject: e.subject, actor: e.actor, detail: e.detail }));
}

/** Set by the sequencer, so not part of the leaf (see the module comment). */
export const SEQUENCING_ATTRIBUTES = ['logIndex', 'GSI2PK', 'GSI2SK'] as const;

export class UncanonicalEntry extends Error {
  constructor(readonly reason: string) {
    super(`audit entry cannot be hashed: ${reason}`);
    this.name = 'UncanonicalEntry';
  }
}

/** Only what JSON (and so RFC 8785) can write: no Set, no binary, no undefined, finite numbers. */
function assertJson(value: unknown, path: string): void {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new UncanonicalEntry(`${path} is not a finite number`);
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((v, i) => assertJson(v, `${path}[${i}]`));
    return;
  }
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [k, v] of Object.entries(value)) assertJson(v, `${path}.${k}`);
    return;
  }
  throw new UncanonicalEntry(`${path} is not a JSON value`);
}

/** The leaf bytes of a stored entry item (as read from the table, or a line of an export). */
export function entryLeaf(item: Readonly<Record<string, unknown>>): Uint8Array {
  const covered: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(item)) {
    if (!(SEQUENCING_ATTRIBUTES as readonly string[]).includes(k)) covered[k] = v;
  }
  assertJson(covered, 'entry');
  const text = canonicalize(covered);
  if (text === undefined) throw new UncanonicalEntry('canonicalize returned nothing');
  return new TextEncoder().encode(text);
}

/** RFC 9162 leaf hash of a stored entry item. */
export const entryLeafHash = (item: Readonly<Record<string, unknown>>): Uint8Array => leafHash(entryLeaf(item));

/**
 * What is wrong with a stored entry that the log holds at `index`; empty when nothing is. The
 * leaf hash is compared by the caller (it needs the log's hash); this checks what the hash
 * does not cover: the position, and that the unsequenced marker is gone.
 */
export function sequencedEntryProblems(item: Readonly<Record<string, unknown>>, index: number): string[] {
  const problems: string[] = [];
  if (item.logIndex !== index) problems.push(`logIndex is ${JSON.stringify(item.logIndex ?? null)}, the log holds it at ${index}`);
  for (const k of ['GSI2PK', 'GSI2SK']) if (k in item) problems.push(`a sequenced entry carries ${k}`);
  return problems;
}
