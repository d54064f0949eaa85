/**
 * Signed checkpoints of the audit log (shared/usecases/checkpoint.ts) end to end: the log's store
 * on DynamoDB Local (shared/store/audit-log-store.ts), the checkpoint bucket in the local S3
 * stand-in (s3rver, a real S3Client pointed at it), and the local key file as the signer. The log
 * grows through the store's own append, from audit entry items written to the table; the 412
 * path of the bucket (which s3rver does not implement) runs against a mocked S3Client.
 */
import { generateKeyPairSync, sign as cryptoSign } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { jest } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import { startS3StandIn, type S3StandIn } from '../../local/s3/server.js';
import type { AuditLogStore, CheckpointSigner, ItemKey } from '../../shared/audit-log-ports.js';
import { checkpointObjectKey, s3CheckpointBucket } from '../../shared/aws/checkpoint-bucket.js';
import { documentClient } from '../../shared/aws/clients.js';
import { localCheckpointSigner } from '../../shared/aws/local-checkpoint-signer.js';
import { entryLeafHash } from '../../shared/domain/audit.js';
import { checkpointOrder, signCheckpointLocally, verifyCheckpoint, type CheckpointBody } from '../../shared/domain/checkpoint.js';
import { ValidationError } from '../../shared/domain/errors.js';
import {
  appendLeaves,
  consistencyProof,
  fromHex,
  nodesForConsistency,
  rootOf,
  toHex,
  verifyConsistency,
  type RightEdge,
} from '../../shared/domain/merkle.js';
import { auditLogStore } from '../../shared/store/audit-log-store.js';
import { LOG_CHECKPOINTS, gsi, keys } from '../../shared/store/keys.js';
import { CheckpointRefused, checkpointWindow, makeCheckpoint, type CheckpointDeps } from '../../shared/usecases/checkpoint.js';
import { newTable, type TestTable } from '../support/dynamo.js';

const BUCKET = 'modelgate-test-audit';
const T0 = Date.parse('2026-11-27T09:00:00.000Z');

let s3: S3StandIn;
let s3Client: S3Client;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'modelgate-checkpoint-'));
  s3 = await startS3StandIn({ directory: join(dir, 's3'), buckets: [BUCKET] });
  s3Client = new S3Client({ endpoint: s3.url, forcePathStyle: true, region: 'us-east-1' });
});
afterAll(async () => {
  s3Client.destroy();
  await s3.close();
  rmSync(dir, { recursive: true, force: true });
});

/** One test's world: its own table and key file; the bucket is emptied before each test. */
interface World {
  table: TestTable;
  log: AuditLogStore;
  signer: CheckpointSigner;
  deps: CheckpointDeps;
  keyFile: string;
  /** Every leaf hash so far, in log order (the independent reference for roots). */
  leaves: Uint8Array[];
  now: number;
  /** Writes `n` audit entry items and appends them to the log through the store. */
  grow(n: number): Promise<void>;
  objectKeys(): Promise<string[]>;
  recorded(): Promise<Array<Record<string, unknown>>>;
}

let worldCount = 0;
async function world(opts: { bucketClient?: S3Client; signer?: (real: CheckpointSigner) => CheckpointSigner } = {}): Promise<World> {
  const n = ++worldCount;
  const table = await newTable(`checkpoint-${n}`);
  const log = auditLogStore({ client: documentClient(table.client), table: table.tableName });
  const keyFile = join(dir, `world-${n}`, 'checkpoint-key.pem');
  const real = localCheckpointSigner(keyFile);
  const signer = opts.signer ? opts.signer(real) : real;
  const bucket = s3CheckpointBucket(opts.bucketClient ?? s3Client, BUCKET);
  const w: World = {
    table,
    log,
    signer,
    keyFile,
    leaves: [],
    now: T0,
    deps: { log, signer, bucket, clock: { now: () => w.now } },
    async grow(count) {
      const head = await log.readHead();
      const entries: Array<{ key: ItemKey; hash: Uint8Array }> = [];
      for (let i = 0; i < count; i++) {
        const at = new Date(w.now + i).toISOString();
        const id = `entry-${n}-${head.size + i}`;
        const scope = 'group:checkpoint-detector';
        const item = {
          ...keys.auditEntry(scope, at, 0, id),
          ...gsi.unsequenced(at, 0, id),
          type: 'AuditEntry',
          id,
          scope,
          at,
          position: 0,
          action: 'policy.put',
          subject: 'checkpoint-detector',
          actor: 'ml-lead@acme-bank.example',
          detail: { version: head.size + i + 1 },
        };
        await table.doc.send(new PutCommand({ TableName: table.tableName, Item: item, ConditionExpression: 'attribute_not_exists(PK)' }));
        entries.push({ key: { PK: item.PK, SK: item.SK }, hash: entryLeafHash(item) });
      }
      const edge: RightEdge = { size: head.size, nodes: head.edge.map((e) => ({ level: e.level, index: e.index, hash: fromHex(e.hash) })) };
      const appended = appendLeaves(edge, entries.map((e) => e.hash));
      const hex = (nodes: RightEdge['nodes']) => nodes.map((x) => ({ level: x.level, index: x.index, hash: toHex(x.hash) }));
      const sequencedAt = new Date(w.now).toISOString();
      const result = await log.append({
        expectedSize: head.size,
        head: { size: appended.size, rootHash: toHex(appended.root), edge: hex(appended.edge.nodes), updatedAt: sequencedAt },
        nodes: hex(appended.nodes),
        leaves: entries.map((e, i) => ({ index: head.size + i, hash: toHex(e.hash), entry: e.key, sequencedAt })),
      });
      expect(result).toBe('committed');
      w.leaves.push(...entries.map((e) => e.hash));
    },
    objectKeys: async () => {
      const out = await s3Client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'checkpoints/' }));
      return (out.Contents ?? []).map((o) => o.Key ?? '');
    },
    recorded: async () => {
      const out = await table.doc.send(
        new QueryCommand({ TableName: table.tableName, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': LOG_CHECKPOINTS } }),
      );
      return out.Items ?? [];
    },
  };
  return w;
}

/** The object as stored in the stand-in, read with a plain GetObject. */
async function objectAt(key: string): Promise<{ checkpoint: CheckpointBody; signature: string }> {
  const out = await s3Client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  expect(out.ContentType).toBe('application/json');
  return JSON.parse((await out.Body?.transformToString()) ?? '') as { checkpoint: CheckpointBody; signature: string };
}

/** The worlds share the one bucket (and their log sizes overlap): it is emptied before each test. */
async function emptyBucket(): Promise<void> {
  const out = await s3Client.send(new ListObjectsV2Command({ Bucket: BUCKET }));
  for (const o of out.Contents ?? []) await s3Client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: o.Key }));
}
beforeEach(emptyBucket);

describe('makeCheckpoint', () => {
  it('signs the head, writes the object to the bucket and records it; the object verifies with the public key', async () => {
    const w = await world();
    try {
      await w.grow(3);
      w.now = T0 + 60_000;

      const result = await makeCheckpoint(w.deps, {});

      const keyId = await w.signer.keyId();
      const expected: CheckpointBody = { logSize: 3, rootHash: toHex(rootOf(w.leaves)), time: '2026-11-27T09:01:00.000Z', keyId };
      expect(result).toEqual({ made: true, checkpoint: expected, objectKey: 'checkpoints/0000000000000003.json' });
      expect(keyId).toMatch(/^local:[0-9a-f]{16}$/);

      expect(await w.objectKeys()).toEqual(['checkpoints/0000000000000003.json']);
      const object = await objectAt('checkpoints/0000000000000003.json');
      expect(object.checkpoint).toEqual(expected);
      expect(verifyCheckpoint(object.checkpoint, object.signature, await w.signer.publicKey())).toEqual({ ok: true, body: expected });

      // The table's record is the same signed checkpoint, with its object's key.
      const recorded = await w.recorded();
      expect(recorded).toEqual([
        { ...keys.logCheckpoint(3), type: 'LogCheckpoint', checkpoint: expected, signature: object.signature, objectKey: 'checkpoints/0000000000000003.json' },
      ]);
      await expect(w.log.latestCheckpoint()).resolves.toEqual({ checkpoint: expected, signature: object.signature });
    } finally {
      await w.table.drop();
    }
  });

  it('makes none when the log did not grow (force too); growth makes a larger one, consistent with the first', async () => {
    const w = await world();
    try {
      await w.grow(3);
      const first = await makeCheckpoint(w.deps, {});
      expect(first).toMatchObject({ made: true, checkpoint: { logSize: 3 } });
      const firstObject = await objectAt(checkpointObjectKey(3));

      w.now += 3_600_000;
      const again = await makeCheckpoint(w.deps, {});
      const forced = await makeCheckpoint(w.deps, { force: true });
      expect(again).toEqual({ made: false, reason: 'no-growth', checkpoint: first.made ? first.checkpoint : undefined });
      expect(forced).toEqual(again);
      expect(await w.objectKeys()).toEqual([checkpointObjectKey(3)]);
      expect(await w.recorded()).toHaveLength(1);
      expect(await objectAt(checkpointObjectKey(3))).toEqual(firstObject); // not rewritten

      await w.grow(4);
      w.now += 1_000;
      const second = await makeCheckpoint(w.deps, { force: false });
      expect(second).toMatchObject({ made: true, checkpoint: { logSize: 7, rootHash: toHex(rootOf(w.leaves)) }, objectKey: checkpointObjectKey(7) });
      expect(await w.objectKeys()).toEqual([checkpointObjectKey(3), checkpointObjectKey(7)]);
      expect((await w.recorded()).map((r) => (r.checkpoint as CheckpointBody).logSize)).toEqual([3, 7]);

      const secondObject = await objectAt(checkpointObjectKey(7));
      const publicKey = await w.signer.publicKey();
      expect(verifyCheckpoint(secondObject.checkpoint, secondObject.signature, publicKey).ok).toBe(true);
      expect(checkpointOrder(firstObject.checkpoint, secondObject.checkpoint)).toEqual({ ok: true });
      // The larger checkpoint extends the smaller one: the stored nodes prove it.
      const nodes = await w.log.readNodes(nodesForConsistency(3, 7));
      const proof = consistencyProof(3, 7, nodes);
      expect(verifyConsistency(3, 7, fromHex(firstObject.checkpoint.rootHash), fromHex(secondObject.checkpoint.rootHash), proof)).toEqual({ ok: true });

      expect(checkpointWindow(await w.log.readHead(), secondObject.checkpoint, w.now + 90_500)).toEqual({
        logSize: 7,
        uncheckpointed: 0,
        latest: { logSize: 7, time: secondObject.checkpoint.time, ageSeconds: 90 },
      });
    } finally {
      await w.table.drop();
    }
  });

  it('an empty log makes no checkpoint and writes nothing', async () => {
    const w = await world();
    try {
      await expect(makeCheckpoint(w.deps, {})).resolves.toEqual({ made: false, reason: 'empty-log' });
      expect(await w.objectKeys()).toEqual([]);
      expect(await w.recorded()).toEqual([]);
      expect(checkpointWindow(await w.log.readHead(), undefined, w.now)).toEqual({ logSize: 0, uncheckpointed: 0 });
    } finally {
      await w.table.drop();
    }
  });

  it.each([
    ['force not a boolean', { force: 'yes' }, 'force:'],
    ['an unknown member', { logSize: 3 }, '(root):'],
    ['a string', 'checkpoint please', '(root):'],
    ['an array', [], '(root):'],
    ['an EventBridge event of another detail-type', { source: 'aws.events', 'detail-type': 'Object Created', detail: {} }, '(root):'],
  ])('a malformed payload (%s) is a ValidationError naming the field, and nothing is written', async (_name, payload, field) => {
    const w = await world();
    try {
      await w.grow(2);
      const error = await makeCheckpoint(w.deps, payload).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).problems.some((p) => p.startsWith(field))).toBe(true);
      expect(await w.objectKeys()).toEqual([]);
      expect(await w.recorded()).toEqual([]);
      expect(existsSync(w.keyFile)).toBe(false); // the signer was never asked
    } finally {
      await w.table.drop();
    }
  });

  it('a scheduled EventBridge event is a request like {}', async () => {
    const w = await world();
    try {
      await w.grow(1);
      const scheduled = { version: '0', id: 'e1', 'detail-type': 'Scheduled Event', source: 'aws.events', account: '123456789012', time: '2026-11-27T09:00:00Z', region: 'us-east-1', resources: [], detail: {} };
      await expect(makeCheckpoint(w.deps, scheduled)).resolves.toMatchObject({ made: true, checkpoint: { logSize: 1 } });
    } finally {
      await w.table.drop();
    }
  });

  it('a signer whose signature does not verify with its public key writes nothing', async () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    let badSignature = '';
    const w = await world({
      // The real key's id and public key, another key's (well-formed) signature: a KMS answer gone wrong.
      signer: (real) => ({
        ...real,
        sign: async (message) => (badSignature = cryptoSign('sha256', message, { key: other.privateKey, dsaEncoding: 'der' }).toString('base64')),
      }),
    });
    try {
      await w.grow(2);
      const error = await makeCheckpoint(w.deps, {}).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CheckpointRefused);
      expect((error as Error).message).toMatch(/does not verify with its public key \(bad-signature\)/);
      expect(badSignature.length).toBeGreaterThan(40);
      expect((error as Error).message).not.toContain(badSignature);
      expect(await w.objectKeys()).toEqual([]);
      expect(await w.recorded()).toEqual([]);
    } finally {
      await w.table.drop();
    }
  });

  it('refuses a log that is behind its latest checkpoint, or has another root at its size, writing nothing', async () => {
    const w = await world();
    try {
      await w.grow(2);
      await makeCheckpoint(w.deps, {});
      // The head rewritten behind the log's back: same size, another root.
      const head = await w.table.doc.send(new GetCommand({ TableName: w.table.tableName, Key: keys.logHead() }));
      await w.table.doc.send(new PutCommand({ TableName: w.table.tableName, Item: { ...head.Item, rootHash: 'ab'.repeat(32) } }));
      await expect(makeCheckpoint(w.deps, {})).rejects.toThrow(/another root than its checkpoint/);
      await w.table.doc.send(new PutCommand({ TableName: w.table.tableName, Item: { ...head.Item, size: 1 } }));
      await expect(makeCheckpoint(w.deps, {})).rejects.toThrow(/log size 2, the log only 1/);
      expect(await w.objectKeys()).toEqual([checkpointObjectKey(2)]);
      expect(await w.recorded()).toHaveLength(1);
    } finally {
      await w.table.drop();
    }
  });
});

describe('makeCheckpoint when the bucket already holds the size (S3 answers 412; mocked, s3rver ignores If-None-Match)', () => {
  const mocked = new S3Client({ region: 'us-east-1' });
  const s3mock = mockClient(mocked);
  beforeEach(() => s3mock.reset());
  afterAll(() => s3mock.restore());
  const preconditionFailed = () =>
    new S3ServiceException({ name: 'PreconditionFailed', message: 'At least one of the pre-conditions you specified did not hold', $fault: 'client', $metadata: { httpStatusCode: 412 } });

  it('adopts an object of the same size and root signed by this key (a run that stopped before the table) and records it', async () => {
    const w = await world({ bucketClient: mocked });
    try {
      await w.grow(3);
      const keyId = await w.signer.keyId();
      const earlier: CheckpointBody = { logSize: 3, rootHash: toHex(rootOf(w.leaves)), time: '2026-11-27T08:59:00.000Z', keyId };
      const pem = readFileSync(w.keyFile, 'utf8');
      const existing = { checkpoint: earlier, signature: signCheckpointLocally(earlier, pem) };
      s3mock.on(PutObjectCommand).rejects(preconditionFailed());
      s3mock.on(GetObjectCommand).resolves({ Body: { transformToString: async () => JSON.stringify(existing) } as never });

      const result = await makeCheckpoint(w.deps, {});

      expect(result).toEqual({ made: true, checkpoint: earlier, objectKey: checkpointObjectKey(3), adopted: true });
      expect(await w.log.latestCheckpoint()).toEqual(existing);
      expect(s3mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input.IfNoneMatch)).toEqual(['*']);
    } finally {
      await w.table.drop();
    }
  });

  it.each([
    ['signed by another key', 'other-key'],
    ['of another root', 'other-root'],
    ['not a checkpoint', 'garbage'],
  ] as const)('refuses an object %s, and records nothing', async (_name, kind) => {
    const w = await world({ bucketClient: mocked });
    try {
      await w.grow(3);
      const keyId = await w.signer.keyId();
      const root = kind === 'other-root' ? 'cd'.repeat(32) : toHex(rootOf(w.leaves));
      const body: CheckpointBody = { logSize: 3, rootHash: root, time: '2026-11-27T08:59:00.000Z', keyId };
      const pem =
        kind === 'other-key'
          ? (generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string)
          : readFileSync(w.keyFile, 'utf8');
      const existing = kind === 'garbage' ? { hello: 'world' } : { checkpoint: body, signature: signCheckpointLocally(body, pem) };
      s3mock.on(PutObjectCommand).rejects(preconditionFailed());
      s3mock.on(GetObjectCommand).resolves({ Body: { transformToString: async () => JSON.stringify(existing) } as never });

      const error = await makeCheckpoint(w.deps, {}).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CheckpointRefused);
      expect((error as Error).message).toMatch(/holds another object at checkpoints\/0000000000000003\.json/);
      expect(await w.recorded()).toEqual([]);
    } finally {
      await w.table.drop();
    }
  });
});

describe('the checkpointAuditLog handler (production wiring, stage local)', () => {
  it('makes a checkpoint on the schedule with the local key file and the stand-in bucket, and logs no signature', async () => {
    const w = await world();
    try {
      await w.grow(2);
      const keyFile = join(dir, 'handler', 'checkpoint-key.pem');
      Object.assign(process.env, {
        TABLE_NAME: w.table.tableName,
        REVIEWERS_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:modelgate-test-reviewers',
        GOVERNANCE_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:modelgate-test-governance',
        REVIEW_BASE_URL: 'https://modelgate.acme-bank.example',
        STAGE: 'local',
        CHECKPOINT_KEY_FILE: keyFile,
        AUDIT_BUCKET: BUCKET,
        AWS_ENDPOINT_URL_S3: s3.url,
        POWERTOOLS_LOG_LEVEL: 'INFO',
      });
      const { handler } = (await import('../../functions/checkpointAuditLog/handler.js')) as {
        handler: (event: unknown, context: Context) => Promise<unknown>;
      };
      const context = {
        functionName: 'modelgate-test-checkpointAuditLog',
        functionVersion: '$LATEST',
        invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:modelgate-test-checkpointAuditLog',
        memoryLimitInMB: '512',
        awsRequestId: 'c0ffee00-0000-4000-8000-00000000000c',
        getRemainingTimeInMillis: () => 10_000,
      } as unknown as Context;
      const scheduled = { version: '0', id: 'e2', 'detail-type': 'Scheduled Event', source: 'aws.events', account: '123456789012', time: '2026-11-27T09:00:00Z', region: 'us-east-1', resources: [], detail: {} };

      const chunks: string[] = [];
      const record = (chunk: string | Uint8Array) => (chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')), true);
      const spies = [jest.spyOn(process.stdout, 'write').mockImplementation(record), jest.spyOn(process.stderr, 'write').mockImplementation(record)];
      let result: unknown;
      let refused: unknown;
      try {
        result = await handler(scheduled, context);
        refused = await handler({ force: 'yes' }, context).catch((e: unknown) => e);
      } finally {
        for (const spy of spies) spy.mockRestore();
      }

      expect(result).toMatchObject({ made: true, checkpoint: { logSize: 2 }, objectKey: checkpointObjectKey(2) });
      expect(existsSync(keyFile)).toBe(true);
      const object = await objectAt(checkpointObjectKey(2));
      expect(verifyCheckpoint(object.checkpoint, object.signature, await localCheckpointSigner(keyFile).publicKey()).ok).toBe(true);
      expect(refused).toBeInstanceOf(ValidationError);

      const lines = chunks.join('').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.find((l) => l.message === 'audit log checkpoint made')).toMatchObject({ logSize: 2, objectKey: checkpointObjectKey(2), keyId: object.checkpoint.keyId });
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) expect(JSON.stringify(line)).not.toContain(object.signature);
    } finally {
      await w.table.drop();
    }
  });
});
