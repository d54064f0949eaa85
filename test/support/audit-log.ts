/**
 * The audit log as the tests see it (issue 9): a scope's or a subject's entries through the
 * store's own paged query, the sequencer run over a test table, and the whole log checked leaf
 * by leaf against its entries.
 *
 *   await changeSomething(deps);
 *   expect(await scopeEntries(deps, groupScope(group))).toHaveLength(3);
 *   expect(await logVerifies(table)).toMatchObject({ ok: true });
 *
 * One table is one log: `logVerifies` checks every entry of the table, whatever test wrote it.
 */
import { QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { AuditLogStore, ItemKey, LogLeaf, StoredItem } from '../../shared/audit-log-ports.js';
import { documentClient } from '../../shared/aws/clients.js';
import { TRAINING_SCOPE, groupScope, type AuditEntry } from '../../shared/domain/audit.js';
import { verifyLog, type LogReport } from '../../shared/domain/log-verify.js';
import { fromHex, rootOf, toHex } from '../../shared/domain/merkle.js';
import { auditEntryItem } from '../../shared/store/dynamo-store.js';
import { UNSEQUENCED_ENTRIES } from '../../shared/store/keys.js';
import { auditLogStore } from '../../shared/store/audit-log-store.js';
import type { Deps } from '../../shared/ports.js';
import { sequencePending, type SequencingReport } from '../../shared/usecases/sequencer.js';
import type { TestTable } from './dynamo.js';

type StoreDeps = Pick<Deps, 'store'>;

/** Every page of one `auditTrail` query, oldest first. */
async function allPages(deps: StoreDeps, args: { scope: string; subject?: string }): Promise<AuditEntry[]> {
  const entries: AuditEntry[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.store.auditTrail({ ...args, limit: 100, ...(cursor ? { cursor } : {}) });
    entries.push(...page.items);
    cursor = page.cursor;
  } while (cursor);
  return entries;
}

/**
 * Every entry of a scope (`groupScope(group)`, `TRAINING_SCOPE`, `REVIEW_LINKS_SCOPE`), oldest
 * first: by `at`, then by `position` within one change. Two changes with the same `at` (a test's
 * fixed clock) come in the order of their ids, which `testDeps` hands out in sequence.
 */
export const scopeEntries = (deps: StoreDeps, scope: string): Promise<AuditEntry[]> => allPages(deps, { scope });

/** Every entry about one subject (GSI1 `AUDITOF#<subject>`), oldest first, whatever its scope. */
export function subjectEntries(deps: StoreDeps, subject: string): Promise<AuditEntry[]> {
  // The store reads a subject's entries from GSI1 alone; the scope is passed as getAuditTrail would.
  const group = /:model-package\/([^/]+)\/\d+$/.exec(subject)?.[1];
  const scope = group ? groupScope(group) : subject.includes(':training-job/') ? TRAINING_SCOPE : '';
  return allPages(deps, { scope, subject });
}

/**
 * The entries of `after` that `before` did not hold (by id and position): what the changes in between added,
 * in `after`'s order. Not `after.slice(before.length)`: an entry of a new change can sort before
 * older ones that share its `at` (a test's fixed clock) and come later in their own change.
 */
export function addedEntries(before: readonly AuditEntry[], after: readonly AuditEntry[]): AuditEntry[] {
  // A change's entries share their id; the position tells them apart.
  const key = (e: AuditEntry) => `${e.id}#${e.position}`;
  const known = new Set(before.map(key));
  return after.filter((e) => !known.has(key(e)));
}

/** The audit log store of a test table, with the same document client as `testDeps`. */
export const logStore = (t: TestTable): AuditLogStore => auditLogStore({ client: documentClient(t.client), table: t.tableName });

/** The newest `at` among the entries not sequenced yet (GSI2 is in `at` order). */
async function newestUnsequencedAt(t: TestTable): Promise<number | undefined> {
  const out = await t.doc.send(
    new QueryCommand({
      TableName: t.tableName,
      IndexName: 'GSI2',
      KeyConditionExpression: 'GSI2PK = :pk',
      ExpressionAttributeValues: { ':pk': UNSEQUENCED_ENTRIES },
      ScanIndexForward: false,
      Limit: 1,
    }),
  );
  const at = out.Items?.[0]?.at;
  return typeof at === 'string' ? Date.parse(at) : undefined;
}

/**
 * Runs the catch-up path of the sequencer (`sequencePending`, `olderThanMs: 0`) over the table.
 * Its clock is the later of now and the newest unsequenced entry (tests' clocks run ahead of or
 * behind the real one), so that every entry written so far counts as old enough.
 */
export async function sequenceAll(t: TestTable): Promise<SequencingReport> {
  const newest = await newestUnsequencedAt(t);
  const now = Math.max(Date.now(), newest === undefined || Number.isNaN(newest) ? 0 : newest + 1);
  return sequencePending({ log: logStore(t), clock: { now: () => now } }, { olderThanMs: 0 });
}

/** How many audit entry items the table holds (a Scan: tests only). */
export async function countEntries(t: TestTable): Promise<number> {
  let count = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const out = await t.doc.send(
      new ScanCommand({
        TableName: t.tableName,
        FilterExpression: '#type = :entry',
        ExpressionAttributeNames: { '#type': 'type' },
        ExpressionAttributeValues: { ':entry': 'AuditEntry' },
        Select: 'COUNT',
        ExclusiveStartKey: start,
      }),
    );
    count += out.Count ?? 0;
    start = out.LastEvaluatedKey;
  } while (start);
  return count;
}

const keyOf = (k: ItemKey): string => `${k.PK}\u0000${k.SK}`;

/**
 * Sequences everything, then checks the whole log of the table with `verifyLog` (no checkpoints:
 * every entry comes back `unanchored`): each entry's place, its leaf recomputed against the leaf
 * the log stored. Beyond what verifyLog checks, it also requires that no entry was left
 * unsequenced, that every audit entry of the table is in the log, and that the head's root is the
 * root of the leaves. Returns verifyLog's report (or one of the same shape for those checks); a
 * healthy table gives `{ ok: true }`.
 */
export async function logVerifies(t: TestTable): Promise<LogReport> {
  await sequenceAll(t);
  const log = logStore(t);
  const head = await log.readHead();
  const broken = (what: string, at: string, entries: number): LogReport => ({ ok: false, what, at, entries, checkpoints: 0 });

  const left = (await log.listUnsequenced({ limit: 1 })).items[0];
  if (left) return broken(`an entry was left unsequenced (${left.PK} / ${left.SK})`, 'unsequenced', head.size);

  const leaves: LogLeaf[] = [];
  for (let from = 0; from < head.size; from += 1000) leaves.push(...(await log.readLeaves(from, Math.min(head.size, from + 1000))));
  const gap = leaves.findIndex((l, i) => l.index !== i);
  if (gap !== -1 || leaves.length !== head.size) {
    const at = gap === -1 ? leaves.length : gap;
    return broken(`the log's leaf ${at} is missing (the head says ${head.size} leaves)`, `entry ${at}`, head.size);
  }

  const found = new Map<string, StoredItem>();
  for (let i = 0; i < leaves.length; i += 100) {
    for (const item of await log.readEntries(leaves.slice(i, i + 100).map((l) => l.entry))) found.set(keyOf(item as unknown as ItemKey), item);
  }
  // A missing entry stands in as an empty item: verifyLog then reports it out of place, at its index.
  const entries = leaves.map((l) => found.get(keyOf(l.entry)) ?? {});
  const report = verifyLog({ entries, checkpoints: [], publicKey: 'unused: no checkpoints', storedLeafHashes: leaves.map((l) => l.hash) });
  if (!report.ok) return report;

  if (toHex(rootOf(leaves.map((l) => fromHex(l.hash)))) !== head.rootHash) {
    return broken(`the head's root is not the root of its ${head.size} leaves`, 'log head', head.size);
  }
  const inTable = await countEntries(t);
  if (inTable !== head.size) return broken(`the table holds ${inTable} audit entries, the log ${head.size}`, 'log head', head.size);
  return report;
}

/**
 * An entry item exactly as the write path stores it (`auditEntryItem`), once the sequencer has
 * placed it at `index`: with its `logIndex`, without the unsequenced marker.
 */
export function sequencedEntryItem(entry: AuditEntry, index: number): Record<string, unknown> {
  const { GSI2PK: _pk, GSI2SK: _sk, ...item } = auditEntryItem(entry);
  return { ...item, logIndex: index };
}
