/**
 * The audit log's sequencer against DynamoDB Local: the store (shared/store/audit-log-store.ts),
 * the use cases (shared/usecases/sequencer.ts), the handler and the local stream poller
 * (local/streams.ts). Entries are written directly in their stored shape (the write path's
 * `{ ...keys.auditEntry, ...gsi.auditOf, ...gsi.unsequenced, type: 'AuditEntry', ... }`), so these
 * tests depend on nothing but the item format.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import type { Context } from 'aws-lambda';
import { DynamoDBClient, TransactWriteItemsCommand, type TransactWriteItemsCommandInput } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, GetCommand, QueryCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import type { AuditLogDeps, AuditLogStore, ItemKey, StoredItem } from '../../shared/audit-log-ports.js';
import { documentClient } from '../../shared/aws/clients.js';
import { entryLeafHash, sequencedEntryProblems } from '../../shared/domain/audit.js';
import { ValidationError } from '../../shared/domain/errors.js';
import {
  consistencyProof,
  edgeFromNodes,
  edgeRefs,
  fromHex,
  inclusionProof,
  nodesForConsistency,
  nodesForInclusion,
  rootOf,
  toHex,
  verifyConsistency,
  verifyInclusion,
} from '../../shared/domain/merkle.js';
import { ownKeysClient } from '../../shared/store/attributes.js';
import { auditLogStore } from '../../shared/store/audit-log-store.js';
import { UNSEQUENCED_ENTRIES, gsi, keys } from '../../shared/store/keys.js';
import { startStreamPoller } from '../../local/streams.js';
import { REPO_ROOT } from '../../scripts/dynamodb-local.js';
import { localEndpoint, newTable, type TestTable } from '../support/dynamo.js';

// The logger reads its level once, when shared/logger.ts is first loaded: by the sequencer, here.
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
const { nextAppend, sequenceEntries, sequencePending } = await import('../../shared/usecases/sequencer.js');

const T0 = Date.parse('2026-11-27T12:00:00Z');
const clock = { now: () => T0 };
const REPO = REPO_ROOT;

const context = {
  functionName: 'modelgate-test-sequenceAuditLog',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:modelgate-test-sequenceAuditLog',
  memoryLimitInMB: '512',
  awsRequestId: 'c0ffee00-0000-4000-8000-000000000009',
  getRemainingTimeInMillis: () => 30_000,
} as unknown as Context;

let counter = 0;
/** An entry item exactly as the write path stores it (common.md), `at` = T0 + offsetMs. */
function entryItem(scope: string, offsetMs: number, position = 0): StoredItem {
  counter += 1;
  const at = new Date(T0 + offsetMs).toISOString();
  const id = `e${String(counter).padStart(6, '0')}-${Math.random().toString(36).slice(2, 8)}`;
  const subject = `arn:aws:sagemaker:us-east-1:123456789012:model-package/fraud-detector/${counter}`;
  return {
    ...keys.auditEntry(scope, at, position, id),
    ...gsi.auditOf(subject, at, position, id),
    ...gsi.unsequenced(at, position, id),
    type: 'AuditEntry',
    id,
    scope,
    at,
    position,
    action: 'model-version.registered',
    subject,
    actor: 'sagemaker',
    // Map keys are data (README): the sequencer must hash and keep them as stored.
    detail: { n: counter, metrics: { 'validation:auc': 0.912 }, tags: Object.fromEntries([['__proto__', 'x'], ['constructor', 'y']]) },
  };
}

/** BatchWriteItem through the store's own marshalling (lib-dynamodb alone would lose `__proto__`). */
async function putItems(documentClient: DynamoDBDocumentClient, table: string, items: readonly StoredItem[]): Promise<void> {
  const doc = ownKeysClient(documentClient);
  const chunks: StoredItem[][] = [];
  for (let i = 0; i < items.length; i += 25) chunks.push(items.slice(i, i + 25));
  await Promise.all(
    chunks.map(async (chunk) => {
      let pending: Record<string, unknown>[] = chunk.map((Item) => ({ PutRequest: { Item } }));
      while (pending.length) {
        const out = await doc.send(new BatchWriteCommand({ RequestItems: { [table]: pending as never } }));
        pending = (out.UnprocessedItems?.[table] as Record<string, unknown>[] | undefined) ?? [];
      }
    }),
  );
}

const keyOf = (i: StoredItem): ItemKey => ({ PK: String(i.PK), SK: String(i.SK) });
const cmp = (a: unknown, b: unknown) => (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0);
const byTimeThenKey = (a: StoredItem, b: StoredItem) => cmp(a.at, b.at) || cmp(a.SK, b.SK) || cmp(a.PK, b.PK);
const shuffled = <T>(xs: readonly T[]): T[] => [...xs].map((x) => [Math.random(), x] as const).sort((a, b) => a[0] - b[0]).map(([, x]) => x);

interface Fixture {
  table: TestTable;
  log: AuditLogStore;
  deps: AuditLogDeps;
}

async function fixture(prefix: string): Promise<Fixture> {
  const table = await newTable(prefix);
  const log = auditLogStore({ client: table.doc, table: table.tableName });
  return { table, log, deps: { log, clock } };
}

/** Every entry of the table as stored, by key. */
async function storedEntries(f: Fixture, items: readonly StoredItem[]): Promise<StoredItem[]> {
  return f.log.readEntries(items.map(keyOf));
}

/** The checks every sequenced log must pass: indexes 0..n-1 once each, leaves = entries, root and edge from the stored nodes. */
async function expectConsistentLog(f: Fixture, written: readonly StoredItem[]): Promise<StoredItem[]> {
  const head = await f.log.readHead();
  const entries = await storedEntries(f, written);
  expect(head.size).toBe(written.length);
  expect(entries.map((e) => e.logIndex).sort((a, b) => Number(a) - Number(b))).toEqual(written.map((_, i) => i));
  const byIndex = [...entries].sort((a, b) => Number(a.logIndex) - Number(b.logIndex));
  const leaves = await f.log.readLeaves(0, head.size);
  expect(leaves.map((l) => l.index)).toEqual(byIndex.map((_, i) => i));
  byIndex.forEach((e, i) => {
    expect(sequencedEntryProblems(e, i)).toEqual([]);
    expect(leaves[i]?.entry).toEqual(keyOf(e));
    expect(leaves[i]?.hash).toBe(toHex(entryLeafHash(e)));
  });
  expect(head.rootHash).toBe(toHex(rootOf(byIndex.map((e) => entryLeafHash(e)))));
  const edgeNodes = await f.log.readNodes(edgeRefs(head.size));
  const edge = edgeFromNodes(head.size, edgeNodes);
  expect(head.edge).toEqual(edge.nodes.map((n) => ({ level: n.level, index: n.index, hash: toHex(n.hash) })));
  return byIndex;
}

describe('sequenceEntries', () => {
  let f: Fixture;
  beforeEach(async () => {
    f = await fixture('sequencer');
  });
  afterEach(() => f.table.drop());

  it('places N entries in (at, key) order: the root is rootOf their leaf hashes, each entry gets its logIndex and leaves the unsequenced index, the edge is edgeFromNodes', async () => {
    // Three share one `at` (one change's entries: positions 2, 0, 1): the sort key decides between them.
    const written = [0, 5, 5, 5, 9, 1, 3, 7, 2, 8, 4, 6].map((s, i) =>
      entryItem(i % 2 ? 'group:fraud-detector' : 'training-jobs', s * 1000, s === 5 ? [2, 0, 1][i - 1] : 0),
    );
    await putItems(f.table.doc, f.table.tableName, written);
    const before = (await storedEntries(f, written)).sort(byTimeThenKey);

    const report = await sequenceEntries(f.deps, shuffled(written.map(keyOf)));

    const expectedRoot = toHex(rootOf(before.map((e) => entryLeafHash(e))));
    // The oldest entry's `at` is T0, the clock's time: it waited 0 s outside the log.
    expect(report).toEqual({ sequenced: written.length, skipped: 0, missing: 0, logSize: written.length, rootHash: expectedRoot, lagSeconds: 0 });
    const byIndex = await expectConsistentLog(f, written);
    expect(byIndex.map(keyOf)).toEqual(before.map(keyOf));
    for (const e of byIndex) {
      expect(e).not.toHaveProperty('GSI2PK');
      expect(e).not.toHaveProperty('GSI2SK');
    }
    expect((await f.log.listUnsequenced({ limit: 100 })).items).toEqual([]);
    const head = await f.log.readHead();
    expect(head.updatedAt).toBe(new Date(T0).toISOString());
    // The head item as stored (serverless.yml/README shape).
    const stored = await f.table.doc.send(new GetCommand({ TableName: f.table.tableName, Key: keys.logHead() }));
    expect(stored.Item).toMatchObject({ type: 'LogHead', size: written.length, rootHash: expectedRoot });
    const leaf = await f.table.doc.send(new GetCommand({ TableName: f.table.tableName, Key: keys.logNode(0, 0) }));
    expect(leaf.Item).toEqual({ ...keys.logNode(0, 0), type: 'LogNode', level: 0, index: 0, hash: toHex(entryLeafHash(before[0] as StoredItem)), entryPK: before[0]?.PK, entrySK: before[0]?.SK, sequencedAt: new Date(T0).toISOString() });
  });

  it('the same keys delivered again sequence nothing: all skipped, the head unchanged; a key that names no entry is skipped as missing', async () => {
    const written = Array.from({ length: 8 }, (_, i) => entryItem('group:fraud-detector', i));
    await putItems(f.table.doc, f.table.tableName, written);
    await sequenceEntries(f.deps, written.map(keyOf));
    const head = await f.log.readHead();

    const later = { log: f.log, clock: { now: () => T0 + 60_000 } };
    const ghost = keys.auditEntry('group:fraud-detector', new Date(T0).toISOString(), 0, 'no-such-entry');
    const again = await sequenceEntries(later, [...written.map(keyOf), ghost]);

    expect(again).toEqual({ sequenced: 0, skipped: 9, missing: 1, logSize: 8, rootHash: head.rootHash });
    expect(await f.log.readHead()).toEqual(head); // updatedAt included: nothing was written
    await expectConsistentLog(f, written);
  });

  it('two sequencers racing on overlapping keys give each entry exactly one index, 0..n-1 with no gap, and the root of the stored leaves', async () => {
    const written = Array.from({ length: 45 }, (_, i) => entryItem(i % 3 ? 'group:fraud-detector' : 'training-jobs', i * 10));
    await putItems(f.table.doc, f.table.tableName, written);
    const keysOf = written.map(keyOf);

    const [a, b, c] = await Promise.all([
      sequenceEntries(f.deps, keysOf.slice(0, 35)),
      sequenceEntries(f.deps, shuffled(keysOf.slice(10))),
      sequenceEntries(f.deps, keysOf.slice(20, 30)),
    ]);

    expect(a.sequenced + b.sequenced + c.sequenced).toBe(45);
    const byIndex = await expectConsistentLog(f, written);
    const head = await f.log.readHead();
    const leaves = await f.log.readLeaves(0, head.size);
    expect(head.rootHash).toBe(toHex(rootOf(leaves.map((l) => fromHex(l.hash)))));
    expect(new Set(byIndex.map((e) => `${String(e.PK)}|${String(e.SK)}`)).size).toBe(45);
  });

  it('a batch of 100 entries is committed in at least 4 transactions, none over 100 operations; the store refuses an append of more', async () => {
    const written = Array.from({ length: 100 }, (_, i) => entryItem('group:fraud-detector', i));
    await putItems(f.table.doc, f.table.tableName, written);
    const client = new DynamoDBClient({});
    const doc = documentClient(client);
    const transactions: TransactWriteItemsCommandInput[] = [];
    const send = doc.send.bind(doc);
    jest.spyOn(doc, 'send').mockImplementation(((command: unknown, ...rest: unknown[]) => {
      if (command instanceof TransactWriteItemsCommand) transactions.push(command.input);
      return (send as (...args: unknown[]) => Promise<unknown>)(command, ...rest);
    }) as typeof doc.send);
    const log = auditLogStore({ client: doc, table: f.table.tableName });
    try {
      const report = await sequenceEntries({ log, clock }, written.map(keyOf));
      expect(report.sequenced).toBe(100);
      expect(transactions.length).toBeGreaterThanOrEqual(4);
      for (const t of transactions) expect(t.TransactItems?.length ?? 0).toBeLessThanOrEqual(100);
      expect(transactions.reduce((n, t) => n + (t.TransactItems ?? []).filter((i) => i.Update).length, 0)).toBe(100);
      await expectConsistentLog(f, written);

      // 40 leaves in one append are over 100 operations: a ValidationError before anything is sent.
      const more = Array.from({ length: 40 }, (_, i) => entryItem('group:fraud-detector', 1000 + i));
      await putItems(f.table.doc, f.table.tableName, more);
      const head = await log.readHead();
      const change = nextAppend(head, (await log.readEntries(more.map(keyOf))).map((e) => ({ entry: keyOf(e), hash: entryLeafHash(e) })), new Date(T0).toISOString());
      const sent = transactions.length;
      const error = await log.append(change).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).problems.some((p) => /transaction: has \d+ operations; DynamoDB allows at most 100/.test(p))).toBe(true);
      expect(transactions.length).toBe(sent);
      expect(await log.readHead()).toEqual(head);
    } finally {
      doc.destroy();
      client.destroy();
    }
  });

  it('an empty log reads as size 0 with the root SHA-256(""); an append that lost its race is a conflict and writes nothing (a stale head, an entry sequenced meanwhile)', async () => {
    const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
    expect(await f.log.readHead()).toEqual({ size: 0, rootHash: EMPTY, edge: [] });
    expect(await sequenceEntries(f.deps, [])).toEqual({ sequenced: 0, skipped: 0, missing: 0, logSize: 0, rootHash: EMPTY });
    const written = Array.from({ length: 3 }, (_, i) => entryItem('training-jobs', i));
    await putItems(f.table.doc, f.table.tableName, written);
    const entries = (await f.log.readEntries(written.map(keyOf))).sort(byTimeThenKey);
    const leaves = entries.map((e) => ({ entry: keyOf(e), hash: entryLeafHash(e) }));
    const empty = await f.log.readHead();
    const first = nextAppend(empty, leaves.slice(0, 1), new Date(T0).toISOString());
    expect(await f.log.append(first)).toBe('committed');
    // Built from the empty head again: its head condition fails.
    expect(await f.log.append(nextAppend(empty, leaves.slice(1), new Date(T0).toISOString()))).toBe('conflict');
    // From the right head, but re-appending the entry already sequenced: its own condition fails.
    const head = await f.log.readHead();
    expect(await f.log.append(nextAppend(head, leaves.slice(0, 2), new Date(T0).toISOString()))).toBe('conflict');
    expect(await f.log.readHead()).toEqual(head);
    expect((await f.log.readEntries(written.map(keyOf))).filter((e) => e.logIndex !== undefined)).toHaveLength(1);
  });
});

describe('sequencePending', () => {
  let f: Fixture;
  beforeEach(async () => {
    f = await fixture('sequencer-pending');
  });
  afterEach(() => f.table.drop());

  it('sequences every entry nobody streamed that is older than the threshold, over several pages, oldest first, and leaves fresh ones', async () => {
    const old = Array.from({ length: 130 }, (_, i) => entryItem(i % 2 ? 'group:fraud-detector' : 'review-links', -10 * 60_000 + i * 100));
    const fresh = Array.from({ length: 3 }, (_, i) => entryItem('group:fraud-detector', -30_000 + i));
    await putItems(f.table.doc, f.table.tableName, [...old, ...fresh]);

    const report = await sequencePending(f.deps);

    expect(report).toMatchObject({ sequenced: 130, skipped: 0, logSize: 130 });
    // The window found at the start: the oldest entry, 10 minutes old; the oldest placed, as old.
    expect(report.oldestUnsequenced).toEqual({ at: old[0]?.at, ageSeconds: 600 });
    expect(report.lagSeconds).toBe(600);
    const sequenced = (await storedEntries(f, old)).sort((a, b) => Number(a.logIndex) - Number(b.logIndex));
    expect(sequenced.map(keyOf)).toEqual([...old].sort(byTimeThenKey).map(keyOf));
    expect((await storedEntries(f, fresh)).every((e) => e.logIndex === undefined && e.GSI2PK === UNSEQUENCED_ENTRIES)).toBe(true);
    const left = await f.log.listUnsequenced({ limit: 100 });
    expect(left.items.map(({ PK, SK }) => ({ PK, SK }))).toEqual(fresh.map(keyOf));
    expect(left.items.map((i) => i.at)).toEqual(fresh.map((e) => e.at));

    // A minute later the fresh ones are old enough; what is in the log stays as it was.
    const later = await sequencePending({ log: f.log, clock: { now: () => T0 + 60_000 } });
    expect(later).toMatchObject({ sequenced: 3, logSize: 133 });
    await expectConsistentLog(f, [...old, ...fresh]);
  });

  it('listUnsequenced pages with an opaque cursor and refuses a cursor of another query', async () => {
    const written = Array.from({ length: 5 }, (_, i) => entryItem('training-jobs', i));
    await putItems(f.table.doc, f.table.tableName, written);
    const first = await f.log.listUnsequenced({ limit: 2 });
    expect(first.items).toHaveLength(2);
    expect(first.cursor).toEqual(expect.any(String));
    const second = await f.log.listUnsequenced({ limit: 10, ...(first.cursor ? { cursor: first.cursor } : {}) });
    expect([...first.items, ...second.items].map(({ PK, SK }) => ({ PK, SK }))).toEqual(written.map(keyOf));
    const forged = Buffer.from(JSON.stringify({ q: 'x', k: { PK: 'A', SK: 'B' } })).toString('base64url');
    await expect(f.log.listUnsequenced({ limit: 2, cursor: forged })).rejects.toBeInstanceOf(ValidationError);
  });
});

describe('stored nodes and checkpoints', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await fixture('sequencer-proofs');
  });
  afterAll(() => f.table.drop());

  it('inclusion proofs from readNodes(nodesForInclusion(i, size)) verify against the head root for every i, and consistency proofs between the heads', async () => {
    const written = Array.from({ length: 37 }, (_, i) => entryItem('group:fraud-detector', i));
    await putItems(f.table.doc, f.table.tableName, written);
    // Three batches, so that appends start from edges of several shapes.
    const heads = [];
    for (const [from, to] of [[0, 5], [5, 18], [18, 37]] as const) {
      await sequenceEntries(f.deps, written.slice(from, to).map(keyOf));
      heads.push(await f.log.readHead());
    }
    const head = heads[heads.length - 1];
    if (!head) throw new Error('no head');
    expect(head.size).toBe(37);
    const root = fromHex(head.rootHash);
    const leaves = await f.log.readLeaves(0, 37);
    for (let i = 0; i < 37; i++) {
      const nodes = await f.log.readNodes(nodesForInclusion(i, 37));
      const proof = inclusionProof(i, 37, nodes);
      expect({ i, ...verifyInclusion(fromHex(leaves[i]?.hash ?? ''), i, 37, proof, root) }).toEqual({ i, ok: true });
      // A proof for the wrong index fails: the nodes are the ones of this leaf.
      if (i > 0) expect(verifyInclusion(fromHex(leaves[i]?.hash ?? ''), i - 1, 37, proof, root).ok).toBe(false);
    }
    for (const old of heads.slice(0, -1)) {
      const proof = consistencyProof(old.size, 37, await f.log.readNodes(nodesForConsistency(old.size, 37)));
      expect(verifyConsistency(old.size, 37, fromHex(old.rootHash), root, proof)).toEqual({ ok: true });
    }
    await expectConsistentLog(f, written);
  });

  it('checkpoints are recorded once per log size; the latest and the full list come back in order', async () => {
    expect(await f.log.latestCheckpoint()).toBeUndefined();
    const signed = (logSize: number) => ({
      checkpoint: { logSize, rootHash: 'ab'.repeat(32), time: new Date(T0 + logSize).toISOString(), keyId: 'local-test' },
      signature: `c2lnLQ${logSize}`,
      objectKey: `checkpoints/${String(logSize).padStart(16, '0')}.json`,
    });
    for (const n of [3, 20, 7]) expect(await f.log.recordCheckpoint(signed(n))).toBe('committed');
    expect(await f.log.recordCheckpoint({ ...signed(20), signature: 'b3RoZXI' })).toBe('conflict');
    const strip = ({ checkpoint, signature }: ReturnType<typeof signed>) => ({ checkpoint, signature });
    expect(await f.log.latestCheckpoint()).toEqual(strip(signed(20)));
    expect(await f.log.listCheckpoints()).toEqual([3, 7, 20].map((n) => strip(signed(n))));
    const item = await f.table.doc.send(new GetCommand({ TableName: f.table.tableName, Key: keys.logCheckpoint(20) }));
    expect(item.Item).toEqual({ ...keys.logCheckpoint(20), type: 'LogCheckpoint', ...signed(20) });
  });
});

describe('the sequenceAuditLog handler and the local stream', () => {
  type Handler = (event: unknown, context: Context) => Promise<unknown>;
  let table: TestTable;
  let handler: Handler;
  let log: AuditLogStore;

  beforeAll(async () => {
    table = await newTable('sequencer-handler', { stream: true });
    log = auditLogStore({ client: table.doc, table: table.tableName });
    Object.assign(process.env, {
      TABLE_NAME: table.tableName,
      REVIEWERS_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:modelgate-test-reviewers',
      GOVERNANCE_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:modelgate-test-governance',
      REVIEW_BASE_URL: 'https://modelgate.acme-bank.example',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    });
    handler = ((await import('../../functions/sequenceAuditLog/handler.js')) as { handler: Handler }).handler;
  });
  afterAll(() => table.drop());

  const scan = async () => (await table.doc.send(new ScanCommand({ TableName: table.tableName, ConsistentRead: true }))).Items ?? [];
  const record = (item: StoredItem, eventName = 'INSERT') => ({
    eventID: `ev-${String(item.id)}`,
    eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'us-east-1',
    eventSourceARN: `arn:aws:dynamodb:us-east-1:123456789012:table/${table.tableName}/stream/2026-11-27T00:00:00.000`,
    dynamodb: {
      ApproximateCreationDateTime: Math.floor(T0 / 1000),
      Keys: { PK: { S: String(item.PK) }, SK: { S: String(item.SK) } },
      NewImage: { PK: { S: String(item.PK) }, SK: { S: String(item.SK) }, type: { S: String(item.type) } },
      SequenceNumber: '100000000000000000001',
      SizeBytes: 200,
      StreamViewType: 'NEW_IMAGE',
    },
  });

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the tests break events on purpose
  type Mutable = any;
  it.each([
    ['a record without its sort key', (e: Mutable): void => { delete e.Records[0].dynamodb.Keys.SK; }, 'Records.0.dynamodb.Keys.SK'],
    ['a key that is not a string', (e: Mutable): void => { e.Records[0].dynamodb.Keys.PK = { N: '1' }; }, 'Records.0.dynamodb.Keys.PK.S'],
    ["an audit entry's INSERT whose key is not an audit entry's", (e: Mutable): void => { e.Records[0].dynamodb.Keys.PK = { S: 'GROUP#fraud-detector' }; }, 'Records.0.dynamodb.Keys.PK.S'],
    ['a record of another event source', (e: Mutable): void => { e.Records[0].eventSource = 'aws:kinesis'; }, 'Records.0.eventSource'],
    ['a scheduled event of another detail-type', (): Mutable => ({ ...JSON.parse(readFileSync(join(REPO, 'events', 'sequence-audit-log.json'), 'utf8')), 'detail-type': 'Object Created' }), 'detail-type'],
  ] as const)('a malformed event is a ValidationError naming the field, and nothing is written: %s', async (_name, mutate, path) => {
    const item = entryItem('group:fraud-detector', -120_000);
    await putItems(table.doc, table.tableName, [item]);
    const before = await scan();
    const event = { Records: [record(item)] } as Mutable;
    const replaced = mutate(event);

    const error = await handler(replaced ?? event, context).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).problems.some((p) => p.startsWith(`${path}:`))).toBe(true);
    expect(await scan()).toEqual(before);
  });

  it('the scheduled event (events/sequence-audit-log.json) catches up on the entries older than a minute', async () => {
    const event = JSON.parse(readFileSync(join(REPO, 'events', 'sequence-audit-log.json'), 'utf8')) as Record<string, unknown>;
    const old = entryItem('training-jobs', Date.now() - T0 - 5 * 60_000);
    const fresh = entryItem('training-jobs', Date.now() - T0);
    await putItems(table.doc, table.tableName, [old, fresh]);

    const report = (await handler(event, context)) as { sequenced: number; logSize: number };

    expect(report.sequenced).toBeGreaterThanOrEqual(1);
    const [o, n] = await log.readEntries([keyOf(old), keyOf(fresh)]).then((es) => [keyOf(old), keyOf(fresh)].map((k) => es.find((e) => e.SK === k.SK)));
    expect(o?.logIndex).toEqual(expect.any(Number));
    expect(n?.logIndex).toBeUndefined();
    // An operator's catch-up of everything: detail.olderThanMs 0.
    const all = (await handler({ ...event, detail: { olderThanMs: 0 } }, context)) as { logSize: number };
    expect((await log.listUnsequenced({ limit: 100 })).items).toEqual([]);
    expect(all.logSize).toBe((await log.readHead()).size);
  });

  it('the stream poller delivers the INSERTs of audit entries (not the sequencer\'s MODIFYs, not other items) and, wired to the handler, they are sequenced', async () => {
    const delivered: DynamoDBStreamEvent[] = [];
    const poller = startStreamPoller({
      endpoint: localEndpoint(),
      table: table.tableName,
      intervalMs: 50,
      onRecords: async (event) => {
        delivered.push(event);
        await handler(event, context);
      },
    });
    try {
      const entries = Array.from({ length: 130 }, (_, i) => entryItem(i % 2 ? 'group:fraud-detector' : 'training-jobs', i));
      await putItems(table.doc, table.tableName, [
        ...entries,
        { ...keys.version('fraud-detector', 1), type: 'ModelVersion', status: 'PendingManualApproval' },
        { PK: 'MLOG#NODE#9#9', SK: 'NODE', type: 'LogNode' },
      ]);
      await poller.drain();

      const records = delivered.flatMap((e) => e.Records);
      expect(delivered.every((e) => e.Records.length <= 100)).toBe(true);
      expect(records.every((r) => r.eventName === 'INSERT' && r.dynamodb?.NewImage?.type?.S === 'AuditEntry')).toBe(true);
      expect(records[0]).toMatchObject({
        eventSource: 'aws:dynamodb',
        eventSourceARN: expect.stringContaining(table.tableName),
        dynamodb: { ApproximateCreationDateTime: expect.any(Number), SequenceNumber: expect.any(String), StreamViewType: 'NEW_IMAGE' },
      });
      // Every audit entry in the table was delivered once (those of the tests above included), and all are sequenced.
      const allEntries = (await scan()).filter((i) => i.type === 'AuditEntry');
      const deliveredKeys = records.map((r) => `${r.dynamodb?.Keys?.PK?.S}|${r.dynamodb?.Keys?.SK?.S}`).sort();
      expect(deliveredKeys).toEqual(allEntries.map((i) => `${String(i.PK)}|${String(i.SK)}`).sort());
      expect(allEntries.every((i) => typeof i.logIndex === 'number' && !('GSI2PK' in i))).toBe(true);
      expect((await log.readHead()).size).toBe(allEntries.length);
      const leaves = await log.readLeaves(0, allEntries.length);
      expect((await log.readHead()).rootHash).toBe(toHex(rootOf(leaves.map((l) => fromHex(l.hash)))));

      // The sequencer's own writes (entry MODIFYs, node and head INSERTs) are in the stream too: read, never delivered.
      const count = records.length;
      await poller.drain();
      expect(delivered.flatMap((e) => e.Records)).toHaveLength(count);
      const unsequenced = await table.doc.send(
        new QueryCommand({ TableName: table.tableName, IndexName: 'GSI2', KeyConditionExpression: 'GSI2PK = :pk', ExpressionAttributeValues: { ':pk': UNSEQUENCED_ENTRIES } }),
      );
      expect(unsequenced.Items).toEqual([]);

      // Without the filter the same stream holds those writes: it is the filter that keeps them out.
      const everything: DynamoDBStreamEvent[] = [];
      const unfiltered = startStreamPoller({ endpoint: localEndpoint(), table: table.tableName, intervalMs: 0, filter: null, onRecords: async (e) => void everything.push(e) });
      try {
        await unfiltered.drain();
      } finally {
        await unfiltered.stop();
      }
      const all = everything.flatMap((e) => e.Records);
      const kinds = new Set(all.map((r) => `${r.eventName} ${r.dynamodb?.NewImage?.type?.S}`));
      expect([...kinds].sort()).toEqual(['INSERT AuditEntry', 'INSERT LogHead', 'INSERT LogNode', 'INSERT ModelVersion', 'MODIFY AuditEntry', 'MODIFY LogHead']);
      expect(all.filter((r) => r.eventName === 'MODIFY' && r.dynamodb?.NewImage?.type?.S === 'AuditEntry')).toHaveLength(allEntries.length);
    } finally {
      await poller.stop();
    }
  });
});
