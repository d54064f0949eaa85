/**
 * Tampering with the audit log (issue 9, acceptance "Tampering, 12 of 12"): each case plays an
 * attacker with write access to the table (and, where it says so, to the checkpoint objects or
 * to an export), against DynamoDB Local and the local S3 stand-in, and checks that both
 * verifiers find it and name the first bad entry or checkpoint:
 *
 *   - `verifyAuditTrail(deps, { full: true })` on the table and the bucket, and
 *   - `npm run audit:verify` on an export of the same table (`exportAuditTrail` into a folder):
 *     through its runner `runVerify` for most cases, as a real child process for two (the control,
 *     `npm run audit:verify`, and one tamper case, `npx tsx scripts/audit-verify.ts`).
 *
 * The fixture is written once, through the use cases (putPolicy, recordTrainingJob with a mocked
 * DescribeTrainingJob, handleModelPackageChange, submitVote: 30 entries of three groups), and
 * sequenced and checkpointed after each group's 10 entries: checkpoints at 10, 20 and 30, the
 * newest covering the whole log. Every test then gets a fresh table (newTable) holding a
 * byte-for-byte copy of the fixture's items (a raw Scan / BatchWriteItem: the checkpoints sign
 * the items as stored, so they stay valid) and a bucket of its own in the one S3 stand-in with
 * copies of the fixture's checkpoint objects. The stand-in does not enforce Object Lock, which
 * is what lets a test overwrite a checkpoint object as an attacker who could would.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BatchWriteItemCommand, ScanCommand, type AttributeValue, type WriteRequest } from '@aws-sdk/client-dynamodb';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SNSClient } from '@aws-sdk/client-sns';
import { BatchWriteCommand, DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { startS3StandIn, type S3StandIn } from '../../local/s3/server.js';
import { runVerify } from '../../scripts/audit-verify.js';
import type { AuditLogStore, CheckpointSigner, SignedCheckpoint, StoredItem } from '../../shared/audit-log-ports.js';
import { s3CheckpointBucket } from '../../shared/aws/checkpoint-bucket.js';
import { documentClient } from '../../shared/aws/clients.js';
import { folderExportSink } from '../../shared/aws/export-sink.js';
import { localCheckpointSigner } from '../../shared/aws/local-checkpoint-signer.js';
import { s3Reports } from '../../shared/aws/s3.js';
import { entryLeafHash } from '../../shared/domain/audit.js';
import { encodeCheckpoint } from '../../shared/domain/checkpoint.js';
import { appendLeaves, emptyEdge, toHex } from '../../shared/domain/merkle.js';
import { ownKeysClient, type OwnKeysClient } from '../../shared/store/attributes.js';
import { LOG_CHECKPOINTS, keys } from '../../shared/store/keys.js';
import { getAuditTrail, verifyAuditTrail, exportAuditTrail, type AuditVerifyDeps, type VerifyReport } from '../../shared/usecases/audit-trail.js';
import { makeCheckpoint } from '../../shared/usecases/checkpoint.js';
import { putPolicy } from '../../shared/usecases/policies.js';
import { submitVote } from '../../shared/usecases/review.js';
import { logStore, sequenceAll } from '../support/audit-log.js';
import { newTable, type TestTable } from '../support/dynamo.js';
import { openSampleReview, resetMocks, story, testDeps } from '../support/story.js';

const T0 = Date.parse('2026-11-27T09:00:00.000Z');
/** The verifiers' clock: after the whole fixture. */
const NOW = T0 + 12 * 3_600_000;
const REPO = process.cwd();
const RISK = 'risk-officer@acme-bank.example';
const LEAD = 'ml-lead@acme-bank.example';

/** The fixture's checkpoints (asserted when it is built). */
const CP10 = 'checkpoint 0000000000000010';
const CP20 = 'checkpoint 0000000000000020';
const CP30 = 'checkpoint 0000000000000030';
const objectKey = (size: number): string => `checkpoints/${String(size).padStart(16, '0')}.json`;

const GOLDEN_BUCKET = 'tamper-golden';
/** One bucket per test (the stand-in creates them at start). */
const BUCKETS = Array.from({ length: 24 }, (_, i) => `tamper-${i}`);

const sm = mockClient(SageMakerClient);
const sns = mockClient(SNSClient);
// The evaluation reports' S3 client is mocked on its own instance: the checkpoint bucket's real
// S3Client must reach the stand-in.
const reportsClient = new S3Client({ region: 'us-east-1' });
const reports = mockClient(reportsClient);

let s3: S3StandIn;
let s3Client: S3Client;
let dir: string;
let golden: TestTable;
let signer: CheckpointSigner;
/** The attacker's own P-256 key (the local signer's format, another file). */
let otherSigner: CheckpointSigner;
/** The fixture's checkpoint objects by size, and every signature in them (never to be printed). */
let fixtureCheckpoints: Map<number, SignedCheckpoint>;
let signatures: string[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'modelgate-tamper-'));
  s3 = await startS3StandIn({ directory: join(dir, 's3'), buckets: [GOLDEN_BUCKET, ...BUCKETS] });
  s3Client = new S3Client({ endpoint: s3.url, forcePathStyle: true, region: 'us-east-1' });
  signer = localCheckpointSigner(join(dir, 'keys', 'checkpoint-key.pem'));
  otherSigner = localCheckpointSigner(join(dir, 'keys', 'attacker-key.pem'));
  golden = await newTable('tamper-golden');
  await writeFixture();
}, 60_000);
afterAll(async () => {
  await golden.drop();
  s3Client.destroy();
  reportsClient.destroy();
  await s3.close();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * The fixture, through the use cases: per group, its policy, its completed training job and its
 * version (gate passed, review opened: openSampleReview), then three more policy versions and
 * two votes (the second group's second vote rejects, the others approve), each a second after
 * the one before, so that the log order is the order of the changes. After each group's 10
 * entries: sequence (sequencePending, olderThanMs 0) and checkpoint (makeCheckpoint, an hour later).
 */
async function writeFixture(): Promise<void> {
  const clock = { now: T0 };
  const deps = { ...testDeps(golden.client, golden.tableName, clock), reports: s3Reports(reportsClient) };
  const log = logStore(golden);
  const checkpointDeps = { log, signer, bucket: s3CheckpointBucket(s3Client, GOLDEN_BUCKET), clock: { now: () => clock.now } };
  const later = () => (clock.now += 1_000);
  resetMocks(sm, sns, reports);
  const sizes: number[] = [];
  for (const [i, prefix] of ['ta', 'tb', 'tc'].entries()) {
    const { s, tokens } = await openSampleReview(deps, { sm, sns }, prefix);
    later();
    await putPolicy(deps, s.policy({ reminderAfterHours: 12, reason: 'remind twice a day' }));
    later();
    expect((await submitVote(deps, tokens[RISK] ?? '', { decision: 'approve', comment: 'metrics and lineage check out' })).status).toBe(200);
    later();
    await putPolicy(deps, s.policy({ reminderAfterHours: 6, reason: 'remind four times a day' }));
    later();
    const second = i === 1 ? { decision: 'reject', comment: 'validation set overlaps training' } : { decision: 'approve' };
    expect((await submitVote(deps, tokens[LEAD] ?? '', second)).status).toBe(200);
    later();
    await putPolicy(deps, s.policy({ reminderAfterHours: 3, reason: 'remind every three hours' }));
    await sequenceAll(golden);
    clock.now += 3_600_000;
    const made = await makeCheckpoint(checkpointDeps, {});
    sizes.push(made.made ? made.checkpoint.logSize : -1);
    clock.now += 60_000;
  }
  expect(sizes).toEqual([10, 20, 30]);
  expect((await log.readHead()).size).toBe(30);
  fixtureCheckpoints = new Map();
  for (const size of sizes) fixtureCheckpoints.set(size, (await checkpointDeps.bucket.get(objectKey(size))) as SignedCheckpoint);
  signatures = [...fixtureCheckpoints.values()].map((c) => c.signature);
}

// ---------------------------------------------------------------------------------------------
// One test's world: a copy of the fixture in a fresh table and bucket.

interface World {
  table: TestTable;
  /** The attacker's client: the store's own marshalling over the document client. */
  db: OwnKeysClient;
  log: AuditLogStore;
  bucketName: string;
  deps: AuditVerifyDeps;
  folder: string;
}

let worlds = 0;
const opened: TestTable[] = [];
afterEach(async () => {
  for (const t of opened.splice(0)) await t.drop();
});

async function world(): Promise<World> {
  const n = worlds++;
  const bucketName = BUCKETS[n];
  if (bucketName === undefined) throw new Error('more worlds than buckets: add to BUCKETS');
  const table = await newTable(`tamper-${n}`);
  opened.push(table);
  await copyTable(golden, table);
  const objects = await s3Client.send(new ListObjectsV2Command({ Bucket: GOLDEN_BUCKET }));
  for (const { Key } of objects.Contents ?? []) {
    const body = await (await s3Client.send(new GetObjectCommand({ Bucket: GOLDEN_BUCKET, Key }))).Body?.transformToString();
    await s3Client.send(new PutObjectCommand({ Bucket: bucketName, Key, Body: body, ContentType: 'application/json' }));
  }
  const log = logStore(table);
  return {
    table,
    db: ownKeysClient(documentClient(table.client)),
    log,
    bucketName,
    deps: { log, bucket: s3CheckpointBucket(s3Client, bucketName), signer, clock: { now: () => NOW } },
    folder: join(dir, `export-${n}`),
  };
}

/** Every item of `from` into `to`, as the low-level client reads them (no marshalling in between). */
async function copyTable(from: TestTable, to: TestTable): Promise<void> {
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await from.client.send(new ScanCommand({ TableName: from.tableName, ExclusiveStartKey: start }));
    const items = page.Items ?? [];
    for (let i = 0; i < items.length; i += 25) {
      let requests: WriteRequest[] = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
      while (requests.length > 0) {
        const out = await to.client.send(new BatchWriteItemCommand({ RequestItems: { [to.tableName]: requests } }));
        requests = out.UnprocessedItems?.[to.tableName] ?? [];
      }
    }
    start = page.LastEvaluatedKey;
  } while (start);
}

// ---------------------------------------------------------------------------------------------
// The attacker's tools: direct reads and writes of the table, the bucket and the export.

const get = async (w: World, key: { PK: string; SK: string }): Promise<StoredItem> => {
  const out = await w.db.send(new GetCommand({ TableName: w.table.tableName, Key: key }));
  if (!out.Item) throw new Error(`no item ${key.PK} / ${key.SK}`);
  return out.Item;
};
const put = (w: World, item: StoredItem) => w.db.send(new PutCommand({ TableName: w.table.tableName, Item: item }));
const remove = (w: World, key: { PK: string; SK: string }) => w.db.send(new DeleteCommand({ TableName: w.table.tableName, Key: key }));
const leafItem = (w: World, i: number) => get(w, keys.logNode(0, i));
const entryKeyOf = (leaf: StoredItem) => ({ PK: String(leaf.entryPK), SK: String(leaf.entrySK) });
const entryAt = async (w: World, i: number) => get(w, entryKeyOf(await leafItem(w, i)));

/** Every entry item in log order, as stored. */
async function logEntries(w: World): Promise<StoredItem[]> {
  const leaves = await w.log.readLeaves(0, (await w.log.readHead()).size);
  const found = new Map((await w.log.readEntries(leaves.map((l) => l.entry))).map((e) => [`${String(e.PK)}\u0000${String(e.SK)}`, e]));
  return leaves.map((l) => found.get(`${l.entry.PK}\u0000${l.entry.SK}`) ?? {});
}

/** Every complete subtree of a tree of `size` leaves (the node items a log of that size holds). */
function nodeRefs(size: number): Array<{ level: number; index: number }> {
  const refs: Array<{ level: number; index: number }> = [];
  for (let level = 0; 2 ** level <= size; level++) for (let index = 0; (index + 1) * 2 ** level <= size; index++) refs.push({ level, index });
  return refs;
}

/**
 * What an attacker with write access to the table does after changing entries: recomputes each
 * leaf hash from the entries as they now are (in this order, `logIndex` set to the position),
 * rebuilds every node item and the head with appendLeaves, and deletes the node items a shorter
 * log no longer has. The table is then self-consistent; only a checkpoint can contradict it.
 */
async function rewriteLog(w: World, entries: readonly StoredItem[]): Promise<void> {
  const oldSize = (await w.log.readHead()).size;
  const sequencedAt = new Date(NOW - 60_000).toISOString();
  const puts: StoredItem[] = entries.flatMap((entry, i) => (entry.logIndex === i ? [] : [{ ...entry, logIndex: i }]));
  const appended = appendLeaves(emptyEdge(), entries.map((e) => entryLeafHash(e)));
  for (const n of appended.nodes) {
    const entry = n.level === 0 ? entries[n.index] : undefined;
    puts.push({
      ...keys.logNode(n.level, n.index),
      type: 'LogNode',
      level: n.level,
      index: n.index,
      hash: toHex(n.hash),
      ...(entry ? { entryPK: entry.PK, entrySK: entry.SK, sequencedAt } : {}),
    });
  }
  puts.push({
    ...keys.logHead(),
    type: 'LogHead',
    size: appended.size,
    rootHash: toHex(appended.root),
    edge: appended.edge.nodes.map((n) => ({ level: n.level, index: n.index, hash: toHex(n.hash) })),
    updatedAt: sequencedAt,
  });
  const kept = new Set(appended.nodes.map((n) => `${n.level}/${n.index}`));
  const deletes = nodeRefs(oldSize).filter((r) => !kept.has(`${r.level}/${r.index}`)).map((r) => keys.logNode(r.level, r.index));
  await batchWrite(w, [...puts.map((Item) => ({ PutRequest: { Item } })), ...deletes.map((Key) => ({ DeleteRequest: { Key } }))]);
}

/** BatchWriteItem, 25 requests at a time, through the store's marshalling. */
async function batchWrite(w: World, requests: ReadonlyArray<{ PutRequest: { Item: StoredItem } } | { DeleteRequest: { Key: StoredItem } }>): Promise<void> {
  for (let i = 0; i < requests.length; i += 25) {
    let pending = requests.slice(i, i + 25);
    while (pending.length > 0) {
      const out = await w.db.send(new BatchWriteCommand({ RequestItems: { [w.table.tableName]: [...pending] } }));
      pending = (out.UnprocessedItems?.[w.table.tableName] ?? []) as typeof pending;
    }
  }
}

/** PutObject over a checkpoint object (the stand-in does not enforce Object Lock). */
async function overwriteCheckpoint(w: World, size: number, object: unknown): Promise<void> {
  await s3Client.send(new PutObjectCommand({ Bucket: w.bucketName, Key: objectKey(size), Body: JSON.stringify(object), ContentType: 'application/json' }));
}

const fixtureCheckpoint = (size: number): SignedCheckpoint => {
  const c = fixtureCheckpoints.get(size);
  if (!c) throw new Error(`the fixture has no checkpoint at ${size}`);
  return c;
};

// ---------------------------------------------------------------------------------------------
// The two verifiers.

/** exportAuditTrail of the world's table and bucket into its folder. */
async function exportTrail(w: World): Promise<string> {
  await exportAuditTrail({ ...w.deps, signer, sink: folderExportSink(w.folder) }, {});
  return w.folder;
}

interface CliRun {
  code: number;
  lines: string[];
}

/** The CLI through its runner (scripts/audit-verify.ts `runVerify`), in this process. */
async function cliRunner(folder: string): Promise<CliRun> {
  const run = await runVerify(folder, { now: NOW });
  return { code: run.code, lines: run.lines };
}

const execFileAsync = promisify(execFile);

/** The CLI as a separate process: `npm run audit:verify -- <folder>` or `npx tsx scripts/audit-verify.ts <folder>`. */
async function cliProcess(folder: string, via: 'npm' | 'npx'): Promise<CliRun> {
  const [command, args] = via === 'npm' ? ['npm', ['run', '--silent', 'audit:verify', '--', folder]] : ['npx', ['tsx', 'scripts/audit-verify.ts', folder]];
  // jest's NODE_OPTIONS (--experimental-vm-modules) are not the CLI's.
  const env = { ...process.env, NODE_OPTIONS: '--no-warnings' };
  try {
    const out = await execFileAsync(command as string, args as string[], { cwd: REPO, env, timeout: 60_000 });
    return { code: 0, lines: out.stdout.trimEnd().split('\n') };
  } catch (e) {
    const failed = e as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof failed.code !== 'number') throw e;
    return { code: failed.code, lines: `${failed.stdout ?? ''}${failed.stderr ?? ''}`.trimEnd().split('\n') };
  }
}

/** Neither verifier's output carries a checkpoint signature. */
function expectNoSignature(output: unknown): void {
  const text = JSON.stringify(output);
  for (const s of signatures) expect(text).not.toContain(s);
}

// ---------------------------------------------------------------------------------------------

describe('the untampered log (the control)', () => {
  it('verifyAuditTrail (full) verifies it; its export verifies with npm run audit:verify (exit 0, last line "verified: …")', async () => {
    const w = await world();
    const newest = fixtureCheckpoint(30);

    const report = await verifyAuditTrail(w.deps, { full: true });

    expect(report).toEqual({
      verified: true,
      logSize: 30,
      rootHash: newest.checkpoint.rootHash,
      checkpoint: { ...newest, objectKey: objectKey(30) },
      checkpointsChecked: 3,
      window: {},
    });
    const run = await cliProcess(await exportTrail(w), 'npm');
    expect(run.code).toBe(0);
    expect(run.lines.at(-1)).toBe(`verified: 30 entries, 3 checkpoints, root ${newest.checkpoint.rootHash}`);
    expect(run.lines.some((l) => l.startsWith('unanchored:'))).toBe(false);
    expectNoSignature(run.lines);
  });
});

interface TamperCase {
  name: string;
  /** What the attacker does to the table and/or the bucket (before the export). */
  tamper?: (w: World) => Promise<void>;
  /** What the attacker does to the export folder (after it was written). */
  tamperExport?: (folder: string) => void;
  /** verifyAuditTrail's brokenAt and reason; absent for an export-only tamper (the table is untouched). */
  table?: { at: string; reason: RegExp };
  /** The CLI's last line: `broken: <what>, at <at>`. */
  cli: { at: string; what: RegExp };
  /** Run the CLI as a child process rather than through its runner. */
  process?: 'npm' | 'npx';
}

/**
 * Where each case is caught, and why there. On the table path the log's own leaf items still
 * hold the hash of each entry as it was sequenced, so an entry changed in place is named
 * exactly; an export carries no leaf hashes (it proves nothing about itself), so there the first
 * thing that can be shown wrong is the checkpoint whose range holds the changed entry.
 */
/**
 * The checkpoint's own root check (not the consistency proof from the checkpoint before, which
 * also fails for a changed range, but one checkpoint later for a change in the first one's).
 */
const rootMismatch = (from: number, to: number): RegExp =>
  new RegExp(`^the entries do not have the checkpoint's root: the first changed entry is among entries ${from} to ${to}$`);

const CASES: TamperCase[] = [
  {
    name: 'edit an entry',
    tamper: async (w) => {
      const entry = await entryAt(w, 14);
      await w.db.send(
        new UpdateCommand({ TableName: w.table.tableName, Key: { PK: entry.PK, SK: entry.SK }, UpdateExpression: 'SET actor = :a', ExpressionAttributeValues: { ':a': 'someone-else@acme-bank.example' } }),
      );
    },
    table: { at: 'entry 14', reason: /does not match its leaf/ },
    cli: { at: CP20, what: rootMismatch(10, 19) },
    process: 'npx',
  },
  {
    name: 'delete a middle entry',
    tamper: async (w) => {
      const leaf = await leafItem(w, 14);
      await remove(w, entryKeyOf(leaf));
    },
    // The log's leaf 14 still names the entry: the table path says it is missing; the export
    // simply lacks it, so its line 14 is entry 15 (logIndex 15), out of place.
    table: { at: 'entry 14', reason: /missing from the table/ },
    cli: { at: 'entry 14', what: /out of place \(its logIndex is 15\)/ },
  },
  {
    name: 'reorder two entries',
    tamper: async (w) => {
      // Leaves 12 and 13 point at each other's entry, and each entry gets the other's logIndex:
      // the log now lists them the other way round, each entry in its new place.
      const [l12, l13] = [await leafItem(w, 12), await leafItem(w, 13)];
      const [e12, e13] = [await get(w, entryKeyOf(l12)), await get(w, entryKeyOf(l13))];
      await put(w, { ...l12, entryPK: l13.entryPK, entrySK: l13.entrySK });
      await put(w, { ...l13, entryPK: l12.entryPK, entrySK: l12.entrySK });
      await put(w, { ...e12, logIndex: 13 });
      await put(w, { ...e13, logIndex: 12 });
    },
    // Leaf 12's hash is entry 12's, and the entry now there is entry 13.
    table: { at: 'entry 12', reason: /does not match its leaf/ },
    cli: { at: CP20, what: rootMismatch(10, 19) },
  },
  {
    name: 'delete the last entry (and roll the head and the tree back to match)',
    tamper: async (w) => {
      const entries = await logEntries(w);
      const last = entries.at(-1) ?? {};
      await remove(w, { PK: String(last.PK), SK: String(last.SK) });
      await rewriteLog(w, entries.slice(0, -1));
    },
    // The table is a consistent log of 29 entries; the newest checkpoint signed 30.
    table: { at: CP30, reason: /covers 30 entries, only 29 are present/ },
    cli: { at: CP30, what: /covers 30 entries, only 29 are present/ },
  },
  {
    name: 'edit an entry and recompute every later hash and all tree state',
    tamper: async (w) => {
      const entries = await logEntries(w);
      const edited = { ...entries[3], actor: 'someone-else@acme-bank.example' };
      await put(w, edited);
      await rewriteLog(w, entries.map((e, i) => (i === 3 ? edited : e)));
    },
    // Every leaf matches its entry and the head its leaves: the first checkpoint, whose range
    // holds entry 3, is the first thing that contradicts the table.
    table: { at: CP10, reason: rootMismatch(0, 9) },
    cli: { at: CP10, what: rootMismatch(0, 9) },
  },
  {
    name: 'delete every entry',
    tamper: async (w) => {
      // Everything of the log in the table: the entries, every node, the head, and the table's
      // own records of the checkpoints. Only the bucket remembers.
      const entries = await logEntries(w);
      const doomed = [
        ...entries.map((e) => ({ PK: e.PK, SK: e.SK })),
        ...nodeRefs(entries.length).map((r) => keys.logNode(r.level, r.index)),
        keys.logHead(),
        ...[10, 20, 30].map((size) => ({ PK: LOG_CHECKPOINTS, SK: String(size).padStart(16, '0') })),
      ];
      await batchWrite(w, doomed.map((Key) => ({ DeleteRequest: { Key } })));
      expect(await w.log.readHead()).toMatchObject({ size: 0 });
    },
    table: { at: CP10, reason: /covers 10 entries, only 0 are present/ },
    cli: { at: CP10, what: /covers 10 entries, only 0 are present/ },
  },
  {
    name: 'add an attribute to an entry',
    tamper: async (w) => {
      const entry = await entryAt(w, 22);
      await w.db.send(
        new UpdateCommand({ TableName: w.table.tableName, Key: { PK: entry.PK, SK: entry.SK }, UpdateExpression: 'SET note = :n', ExpressionAttributeValues: { ':n': 'approved by phone' } }),
      );
    },
    table: { at: 'entry 22', reason: /does not match its leaf/ },
    cli: { at: CP30, what: rootMismatch(20, 29) },
  },
  {
    name: "move an entry's index key",
    tamper: async (w) => {
      // Entry 15 is the first vote on tb-detector/1: moved to another version's trail.
      const entry = await entryAt(w, 15);
      const arn = 'arn:aws:sagemaker:us-east-1:123456789012:model-package/tb-detector/1';
      expect(entry).toMatchObject({ action: 'review.vote', subject: arn, GSI1PK: `AUDITOF#${arn}` });
      const store = testDeps(w.table.client, w.table.tableName, { now: NOW }).store;
      // `from` given: the store's subject query without one sends an empty GSI1SK bound, which
      // DynamoDB refuses (reported to the lead).
      const trail = async () => (await getAuditTrail({ store }, { modelPackageArn: arn, from: new Date(T0).toISOString(), limit: 500 })).items.map((e) => e.id);
      expect(await trail()).toContain(entry.id);
      await w.db.send(
        new UpdateCommand({
          TableName: w.table.tableName,
          Key: { PK: entry.PK, SK: entry.SK },
          UpdateExpression: 'SET GSI1PK = :pk',
          ExpressionAttributeValues: { ':pk': 'AUDITOF#arn:aws:sagemaker:us-east-1:123456789012:model-package/tb-detector/2' },
        }),
      );
      expect(await trail()).not.toContain(entry.id); // the version's trail no longer shows the vote
    },
    table: { at: 'entry 15', reason: /does not match its leaf/ },
    cli: { at: CP20, what: rootMismatch(10, 19) },
  },
  {
    name: 'replace a checkpoint with one signed by another key',
    tamper: async (w) => {
      const checkpoint = { ...fixtureCheckpoint(20).checkpoint, keyId: await otherSigner.keyId() };
      await overwriteCheckpoint(w, 20, { checkpoint, signature: await otherSigner.sign(encodeCheckpoint(checkpoint)) });
    },
    table: { at: CP20, reason: /signature does not verify/ },
    cli: { at: CP20, what: /signature does not verify/ },
  },
  {
    name: 'roll the newest checkpoint back to an older one',
    tamper: (w) => overwriteCheckpoint(w, 30, fixtureCheckpoint(20)),
    table: { at: CP30, reason: /logSize is 20, its name says 30/ },
    cli: { at: CP30, what: /logSize is 20, its name says 30/ },
  },
  {
    name: 'swap two checkpoints',
    tamper: async (w) => {
      await overwriteCheckpoint(w, 10, fixtureCheckpoint(20));
      await overwriteCheckpoint(w, 20, fixtureCheckpoint(10));
    },
    table: { at: CP10, reason: /logSize is 20, its name says 10/ },
    cli: { at: CP10, what: /logSize is 20, its name says 10/ },
  },
  {
    name: 'an export whose entries were cut after the last checkpoint',
    // Export-only: the table and the bucket are untouched (verifyAuditTrail has nothing to find);
    // the export's entries.jsonl loses its last 5 lines, which the newest checkpoint covers.
    tamperExport: (folder) => {
      const file = join(folder, 'entries.jsonl');
      const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
      expect(lines).toHaveLength(30);
      writeFileSync(file, `${lines.slice(0, 25).join('\n')}\n`);
    },
    cli: { at: CP30, what: /covers 30 entries, only 25 are present/ },
  },
];

/** The cases both verifiers caught at the expected place (the last test counts them). */
const detected = new Set<string>();

describe('tampering', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s: both verifiers (the CLI alone for an export-only tamper) name the first bad entry or checkpoint', async (_name, c) => {
    const w = await world();
    await c.tamper?.(w);

    if (c.table) {
      const report = await verifyAuditTrail(w.deps, { full: true });
      expect(report).toMatchObject({ verified: false, brokenAt: c.table.at });
      expect((report as Extract<VerifyReport, { verified: false }>).reason).toMatch(c.table.reason);
      expectNoSignature(report);
    }

    const folder = await exportTrail(w);
    c.tamperExport?.(folder);
    const run = c.process ? await cliProcess(folder, c.process) : await cliRunner(folder);
    const last = run.lines.at(-1) ?? '';
    expect({ code: run.code, last }).toEqual({ code: 1, last: expect.stringMatching(/^broken: /) });
    expect(last.endsWith(`, at ${c.cli.at}`)).toBe(true);
    expect(last.slice('broken: '.length, -`, at ${c.cli.at}`.length)).toMatch(c.cli.what);
    expectNoSignature(run.lines);
    detected.add(c.name);
  });

  it('a checkpoint object removed from the bucket (the newest rolled back by deletion): the table still records it; the export shows the window', async () => {
    // Not one of the twelve: a deletion the bucket's Object Lock forbids, played on the stand-in.
    // verifyAuditTrail knows from the table's record; an export holds only the bucket's
    // checkpoints, so the CLI cannot know, and says the last 10 entries are unanchored.
    const w = await world();
    await s3Client.send(new DeleteObjectCommand({ Bucket: w.bucketName, Key: objectKey(30) }));

    expect(await verifyAuditTrail(w.deps, { full: true })).toMatchObject({ verified: false, brokenAt: CP30, reason: expect.stringMatching(/the bucket does not hold it/) });
    const run = await cliRunner(await exportTrail(w));
    expect(run.code).toBe(0);
    expect(run.lines.slice(-2)).toEqual([
      expect.stringMatching(/^unanchored: 10 entries after the newest checkpoint \(from index 20, /),
      `verified: 20 entries, 2 checkpoints, root ${fixtureCheckpoint(20).checkpoint.rootHash}`,
    ]);
  });
});

describe('the unanchored window', () => {
  it('an entry changed after the newest checkpoint (leaf and head recomputed) is reported as the unanchored window, never as plainly verified', async () => {
    const w = await world();
    // Three more changes through the use cases, sequenced, no checkpoint after them.
    const clock = { now: NOW - 3_600_000 };
    const deps = testDeps(w.table.client, w.table.tableName, clock);
    for (const hours of [2, 4, 8]) {
      clock.now += 1_000;
      await putPolicy(deps, story('ta').policy({ reminderAfterHours: hours, reason: `remind every ${hours} hours` }));
    }
    await sequenceAll(w.table);
    const before = await w.log.readHead();
    expect(before.size).toBe(33);

    // The attacker edits entry 31 and recomputes its leaf, the nodes above it and the head.
    const entries = await logEntries(w);
    const edited = { ...entries[31], actor: 'someone-else@acme-bank.example' };
    await put(w, edited);
    await rewriteLog(w, entries.map((e, i) => (i === 31 ? edited : e)));
    expect((await w.log.readHead()).rootHash).not.toBe(before.rootHash);
    expect((await leafItem(w, 31)).hash).toBe(toHex(entryLeafHash(edited)));

    const report = await verifyAuditTrail(w.deps, { full: true });
    expect(report).toMatchObject({
      verified: true,
      logSize: 33,
      checkpointsChecked: 3,
      checkpoint: { checkpoint: { logSize: 30 } },
      window: { uncheckpointed: { entries: 3, fromIndex: 30, oldestAt: entries[30]?.at } },
    });

    const run = await cliRunner(await exportTrail(w));
    expect(run.code).toBe(0);
    expect(run.lines.slice(-2)).toEqual([
      `unanchored: 3 entries after the newest checkpoint (from index 30, oldest ${String(entries[30]?.at)}): not covered by any signature yet`,
      `verified: 30 entries, 3 checkpoints, root ${fixtureCheckpoint(30).checkpoint.rootHash}`,
    ]);
  });
});

it('counts: 12 of 12 tamper cases detected, each at its first bad entry or checkpoint', () => {
  expect(CASES).toHaveLength(12);
  expect(new Set(CASES.map((c) => c.name)).size).toBe(12);
  expect([...detected].sort()).toEqual(CASES.map((c) => c.name).sort());
});
