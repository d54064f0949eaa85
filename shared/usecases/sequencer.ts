import type { AuditLogDeps, ItemKey, LogAppend, LogHead, LogLeaf, StoredItem } from '../audit-log-ports.js';
import { entryLeafHash } from '../domain/audit.js';
import { Conflict } from '../domain/errors.js';
import { appendLeaves, fromHex, toHex, type RightEdge } from '../domain/merkle.js';
import { logger } from '../logger.js';
import { recordAuditWindow } from '../metrics.js';

/**
 * The sequencer: gives each audit entry its place in the one Merkle log (domain/merkle.ts).
 *
 * Entries arrive by two paths: the table's stream (every new entry, within seconds) and a
 * schedule (`sequencePending`: whatever the stream did not deliver, or delivered to a failed
 * invocation, still sits in the sparse GSI2 partition `AUDIT#UNSEQUENCED`). Both call
 * `sequenceEntries`, which is safe to run twice on the same entries and concurrently with itself:
 *
 * - an entry that already has a `logIndex` is skipped (a redelivery, or the other path was first);
 * - each append is one transaction conditional on the head's size, on every new node being new
 *   and on every entry still having no index, so of two sequencers racing, one commits and the
 *   other re-reads and appends what is left after it;
 * - the order within a batch is the entries' own (`at`, then the sort key), so a redelivered batch
 *   that lost a race produces the same leaves in the same order.
 *
 * A batch is split into appends of at most `MAX_LEAVES_PER_APPEND` leaves, each within
 * DynamoDB's 100 operations per transaction (`planAppends`).
 */

export interface SequencingReport {
  /** Entries this call placed in the log. */
  sequenced: number;
  /** Entries it left alone: already in the log (a redelivery), or not found (`missing`). */
  skipped: number;
  /** Of `skipped`, the keys that named no entry (logged). */
  missing: number;
  logSize: number;
  rootHash: string;
  /**
   * Seconds from the `at` of the oldest entry this call placed to its placement: how long the
   * entry waited outside the log (the sequencer's lag). Absent when nothing was placed.
   */
  lagSeconds?: number;
}

/** The catch-up run's report: the entries it placed, and the audit window it found. */
export interface PendingSequencingReport extends SequencingReport {
  /**
   * The oldest entry that was not sequenced when the run started (the index's first), and its
   * age then in seconds; absent when every entry was sequenced. The same age is published as the
   * `AuditUnsequencedAge` metric at once, so that a run that then fails still reports it.
   */
  oldestUnsequenced?: { at: string; ageSeconds: number };
}

/** Leaves per transaction: 30 leaves take at most ~95 operations (see `appendOperations`). */
export const MAX_LEAVES_PER_APPEND = 30;
/** DynamoDB's limit of operations in one TransactWriteItems. */
export const MAX_TRANSACTION_OPERATIONS = 100;
/** Conflicts one call absorbs before it fails (and the stream or the schedule retries it). */
export const MAX_APPEND_ATTEMPTS = 5;
/** The catch-up path leaves entries younger than this to the stream. */
export const DEFAULT_PENDING_AGE_MS = 60_000;
/** Keys read from the unsequenced index per page. */
const PENDING_PAGE = 100;

// ---------------------------------------------------------------------------------------------
// Planning (pure)

/** Set bits of a safe integer, by arithmetic (no 32-bit bitwise operators). */
function setBits(n: number): number {
  let bits = 0;
  for (let rest = n; rest > 0; rest = Math.floor(rest / 2)) bits += rest % 2;
  return bits;
}

/**
 * The operations of one append of `count` leaves to a log of `size`: the head, one node per
 * leaf, one node per merge, and one update per leaf's entry. Appending one leaf to a tree of
 * size s merges as many times as s has trailing one bits, so k leaves merge
 * k + popcount(s) − popcount(s + k) times in all.
 */
export function appendOperations(size: number, count: number): number {
  if (count === 0) return 0;
  const merges = count + setBits(size) - setBits(size + count);
  return 1 + 2 * count + merges;
}

/**
 * Splits `count` leaves appended to a log of `size` into the sizes of consecutive appends, each
 * of at most `maxLeaves` leaves and `maxOperations` operations. 30 leaves fit in 100 operations
 * up to a log of about 2^14 leaves; beyond that a batch that would merge many edge nodes is cut
 * shorter (15 leaves always fit, whatever the size).
 */
export function planAppends(
  size: number,
  count: number,
  { maxLeaves = MAX_LEAVES_PER_APPEND, maxOperations = MAX_TRANSACTION_OPERATIONS }: { maxLeaves?: number; maxOperations?: number } = {},
): number[] {
  const plan: number[] = [];
  let at = size;
  let left = count;
  while (left > 0) {
    let k = Math.min(maxLeaves, left);
    while (k > 0 && appendOperations(at, k) > maxOperations) k -= 1;
    if (k === 0) throw new Error(`one leaf appended at ${at} needs ${appendOperations(at, 1)} operations, over ${maxOperations}`);
    plan.push(k);
    at += k;
    left -= k;
  }
  return plan;
}

/** The head after appending to `head`: what the append's transaction writes, with its nodes. */
export function nextAppend(head: LogHead, leaves: ReadonlyArray<{ entry: ItemKey; hash: Uint8Array }>, now: string): LogAppend {
  const edge: RightEdge = { size: head.size, nodes: head.edge.map((n) => ({ level: n.level, index: n.index, hash: fromHex(n.hash) })) };
  const appended = appendLeaves(edge, leaves.map((l) => l.hash));
  return {
    expectedSize: head.size,
    head: {
      size: appended.size,
      rootHash: toHex(appended.root),
      edge: appended.edge.nodes.map((n) => ({ level: n.level, index: n.index, hash: toHex(n.hash) })),
      updatedAt: now,
    },
    nodes: appended.nodes.map((n) => ({ level: n.level, index: n.index, hash: toHex(n.hash) })),
    leaves: leaves.map((l, i): LogLeaf => ({ index: head.size + i, hash: toHex(l.hash), entry: l.entry, sequencedAt: now })),
  };
}

// ---------------------------------------------------------------------------------------------
// Use cases

const keyOf = (k: { PK?: unknown; SK?: unknown }): string => `${String(k.PK)}\u0000${String(k.SK)}`;

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Log order within a batch: the entry's time, then its sort key (`ENTRY#<at>#<id>#<position>`:
 * the entries of one change keep their order), then its partition (the scope), so the order is
 * total and the same whoever sequences the batch.
 */
const byTimeThenKey = (a: StoredItem, b: StoredItem): number =>
  compare(String(a.at ?? ''), String(b.at ?? '')) || compare(String(a.SK), String(b.SK)) || compare(String(a.PK), String(b.PK));

const backoff = (attempt: number): Promise<void> => new Promise((r) => setTimeout(r, Math.random() * 20 * 2 ** attempt));

/**
 * Places the entries named by `entryKeys` in the log, in (`at`, SK) order, after what the log
 * holds. Entries already sequenced and keys that name no entry are skipped. An entry that cannot
 * be hashed (`UncanonicalEntry`) is a bug in the write path and is thrown, so the batch fails
 * loudly instead of leaving a gap. A lost race re-reads the head and the entries and goes on; a
 * call that keeps losing throws `Conflict` (retryable) after `MAX_APPEND_ATTEMPTS`.
 */
export async function sequenceEntries({ log, clock }: AuditLogDeps, entryKeys: readonly ItemKey[]): Promise<SequencingReport> {
  const wanted = [...new Map(entryKeys.map((k) => [keyOf(k), { PK: k.PK, SK: k.SK }])).values()];
  const placed = new Set<string>();
  // The oldest `at` among the entries placed (for the lag); entries whose `at` is no time are not aged.
  let oldestPlaced: number | undefined;
  let missing = 0;

  for (let attempt = 1; ; attempt++) {
    const items = wanted.length ? await log.readEntries(wanted) : [];
    if (attempt === 1) {
      const found = new Set(items.map(keyOf));
      for (const k of wanted) {
        if (found.has(keyOf(k))) continue;
        missing += 1;
        logger.warn('audit entry to sequence not found', { entry: k });
      }
    }
    const pending = items.filter((i) => i.logIndex === undefined).sort(byTimeThenKey);
    // Hash everything before writing anything: an unhashable entry fails the whole batch.
    const leaves = pending.map((item) => ({ entry: { PK: String(item.PK), SK: String(item.SK) }, hash: entryLeafHash(item) }));

    let head = await log.readHead();
    let lost = false;
    let next = 0;
    for (const count of planAppends(head.size, leaves.length)) {
      const change = nextAppend(head, leaves.slice(next, next + count), new Date(clock.now()).toISOString());
      if ((await log.append(change)) === 'conflict') {
        lost = true;
        break;
      }
      for (const l of change.leaves) placed.add(keyOf(l.entry));
      for (const item of pending.slice(next, next + count)) {
        const at = Date.parse(String(item.at ?? ''));
        if (Number.isFinite(at) && (oldestPlaced === undefined || at < oldestPlaced)) oldestPlaced = at;
      }
      head = change.head;
      next += count;
    }

    if (!lost) {
      // Read with an index at the start of this round and not placed by an earlier round of this call.
      const alreadyInLog = items.filter((i) => i.logIndex !== undefined && !placed.has(keyOf(i))).length;
      const report: SequencingReport = {
        sequenced: placed.size,
        skipped: alreadyInLog + missing,
        missing,
        logSize: head.size,
        rootHash: head.rootHash,
        ...(oldestPlaced !== undefined ? { lagSeconds: Math.max(0, Math.floor((clock.now() - oldestPlaced) / 1000)) } : {}),
      };
      if (report.sequenced > 0 || report.skipped > 0) logger.info('audit entries sequenced', { ...report });
      return report;
    }
    if (attempt >= MAX_APPEND_ATTEMPTS) {
      throw new Conflict(`the audit log's head kept moving: ${attempt} appends lost their race (${placed.size} of ${wanted.length} entries placed)`);
    }
    await backoff(attempt);
  }
}

/**
 * The catch-up path (scheduled): sequences every entry still in the unsequenced index whose `at`
 * is older than `olderThanMs`, oldest first, page by page. Younger entries are left to the stream,
 * so that the two paths do not race for fresh entries (they would still be correct, only slower).
 */
export async function sequencePending(deps: AuditLogDeps, { olderThanMs = DEFAULT_PENDING_AGE_MS }: { olderThanMs?: number } = {}): Promise<PendingSequencingReport> {
  const now = deps.clock.now();
  const cutoff = now - olderThanMs;
  const total = { sequenced: 0, skipped: 0, missing: 0 };
  let last: SequencingReport | undefined;
  let lagSeconds: number | undefined;
  let oldestUnsequenced: PendingSequencingReport['oldestUnsequenced'];
  let cursor: string | undefined;
  for (;;) {
    const page = await deps.log.listUnsequenced({ limit: PENDING_PAGE, ...(cursor ? { cursor } : {}) });
    if (!cursor) {
      // The audit window: the first page's first entry is the oldest not in the log. Published
      // now, before anything can fail, so that the alarm sees it from a failing run too. (0 when
      // the index is empty: an entry whose `at` is no time cannot be aged and counts as 0.)
      const first = page.items[0];
      const at = first ? Date.parse(first.at) : NaN;
      const ageSeconds = Number.isFinite(at) ? Math.max(0, Math.floor((now - at) / 1000)) : 0;
      if (first) oldestUnsequenced = { at: first.at, ageSeconds };
      recordAuditWindow('unsequenced', ageSeconds);
    }
    // The index is in `at` order: the first young entry ends the catch-up. An `at` that is not a
    // time counts as old, so that one bad entry cannot hold back every entry after it.
    const old = page.items.filter((i) => !(Date.parse(i.at) >= cutoff));
    if (old.length > 0) {
      last = await sequenceEntries(deps, old.map(({ PK, SK }) => ({ PK, SK })));
      // Pages are in `at` order: the first page that placed anything holds the oldest.
      lagSeconds ??= last.lagSeconds;
      total.sequenced += last.sequenced;
      total.skipped += last.skipped;
      total.missing += last.missing;
    }
    cursor = page.cursor;
    if (!cursor || old.length < page.items.length) break;
  }
  const head = last ? { size: last.logSize, rootHash: last.rootHash } : await deps.log.readHead();
  const report: PendingSequencingReport = {
    ...total,
    logSize: head.size,
    rootHash: head.rootHash,
    ...(lagSeconds !== undefined ? { lagSeconds } : {}),
    ...(oldestUnsequenced ? { oldestUnsequenced } : {}),
  };
  logger.info('pending audit entries sequenced', { ...report, olderThanMs });
  return report;
}
