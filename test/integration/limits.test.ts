/**
 * Issue 8, defect 8, against DynamoDB Local: input SageMaker may legally send, and operator
 * payloads, either stored exactly or refused with a ValidationError naming the field before
 * anything is written.
 *
 * "Nothing written" is proven two ways: every request the store's client sends is counted by a
 * middleware on that client (no write command goes out), and the items are read back (absent).
 */
import { mockClient } from 'aws-sdk-client-mock';
import { DescribeTrainingJobCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SNSClient } from '@aws-sdk/client-sns';
import { S3Client } from '@aws-sdk/client-s3';
import { GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import middy from '@middy/core';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import fc from 'fast-check';
import { ValidationError } from '../../shared/domain/errors.js';
import { logger } from '../../shared/logger.js';
import { typedErrors } from '../../shared/middleware.js';
import type { Deps } from '../../shared/ports.js';
import { ModelPackageStateChangeSchema, TrainingJobStateChangeSchema, type TrainingJobDetail } from '../../shared/schemas/events.js';
import { documentClient } from '../../shared/aws/clients.js';
import { DYNAMODB_LIMITS, itemBytes, ownKeysClient, toAttributeMap } from '../../shared/store/attributes.js';
import { getAuditTrail } from '../../shared/usecases/audit-trail.js';
import { handleModelPackageChange } from '../../shared/usecases/gate.js';
import { datasetImpact } from '../../shared/usecases/impact.js';
import { listPendingReviews } from '../../shared/usecases/pending.js';
import { putPolicy } from '../../shared/usecases/policies.js';
import { recordTrainingJob } from '../../shared/usecases/training.js';
import { logVerifies } from '../support/audit-log.js';
import { newTable, type TestTable } from '../support/dynamo.js';
import { openSampleReview, resetMocks, story, testDeps } from '../support/story.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- events are changed on purpose
type Json = any;

const sm = mockClient(SageMakerClient);
const sns = mockClient(SNSClient);
const s3 = mockClient(S3Client);
const T0 = Date.parse('2026-11-27T12:00:00Z');
const clock = { now: T0 };
const BUCKET = 'acme-ml-datasets-123456789012';
const WRITES = new Set(['TransactWriteItemsCommand', 'PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'BatchWriteItemCommand']);
const HOSTILE = ['__proto__', 'constructor', 'toString', 'hasOwnProperty'];
const PROTOTYPE_KEYS = Object.getOwnPropertyNames(Object.prototype);

let table: TestTable;
let deps: Deps;
/** Every DynamoDB command the store's client sent since the last `sent.length = 0`. */
const sent: string[] = [];
const writesSent = () => sent.filter((c) => WRITES.has(c));

/** A table of this file's own, with a request counter on its client. */
async function freshTable(prefix: string) {
  const t = await newTable(prefix);
  t.client.middlewareStack.add(
    (next, context) => async (args) => {
      sent.push(context.commandName ?? '?');
      return next(args);
    },
    { step: 'initialize', name: 'countRequests' },
  );
  return t;
}

beforeAll(async () => {
  logger.setLogLevel('SILENT');
  table = await freshTable('limits');
  deps = testDeps(table.client, table.tableName, clock);
});
afterAll(async () => {
  logger.setLogLevel('INFO');
  await table.drop();
});
beforeEach(() => {
  clock.now = T0;
  resetMocks(sm, sns, s3);
  sent.length = 0;
});

/** The training handler's parse path (middy, typedErrors, the Powertools parser) in front of the real use case. */
const trainingHandler = middy()
  .use(typedErrors('training job state change event'))
  .use(parser({ schema: TrainingJobStateChangeSchema }))
  .handler(async (event) => recordTrainingJob(deps, event.detail));

/** A rejected promise's error (the test fails if it resolves). */
async function refusal(p: Promise<unknown>): Promise<ValidationError> {
  const outcome = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(outcome).toBeInstanceOf(ValidationError);
  return outcome as ValidationError;
}

const rawItem = async (key: { PK: string; SK: string }) =>
  (await table.client.send(new GetItemCommand({ TableName: table.tableName, Key: { PK: { S: key.PK }, SK: { S: key.SK } }, ConsistentRead: true }))).Item;
const partition = async (pk: string) =>
  (await table.client.send(new QueryCommand({ TableName: table.tableName, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': { S: pk } } }))).Items ?? [];

/** A story whose job DescribeTrainingJob confirms, with its metrics. */
function jobStory(prefix: string) {
  const s = story(prefix);
  sm.on(DescribeTrainingJobCommand).resolves(s.describe('training-job-completed.json', { 'validation:auc': 0.912 }) as never);
  return s;
}

describe('map keys that are legal in SageMaker survive DynamoDB', () => {
  it('Tags, HyperParameters and CustomerMetadataProperties keep __proto__, constructor, toString, hasOwnProperty', async () => {
    const s = jobStory('hostile');
    const jobEvent = s.raw('training-job-completed.json') as Json;
    // Through JSON, as EventBridge delivers it: `__proto__` is an own key of the parsed object.
    jobEvent.detail.Tags = JSON.parse(`{${[...HOSTILE.map((k) => `"${k}":"tag:${k}"`), '"team":"fraud-ml"'].join(',')}}`);
    jobEvent.detail.HyperParameters = JSON.parse(`{${[...HOSTILE.map((k) => `"${k}":"hp:${k}"`), '"eta":"0.2"'].join(',')}}`);
    const job = TrainingJobStateChangeSchema.parse(jobEvent).detail;
    await putPolicy(deps, s.policy());

    expect((await recordTrainingJob(deps, job)).outcome).toBe('recorded');

    const stored = await deps.store.getTrainingJob(job.TrainingJobName);
    for (const k of HOSTILE) {
      expect(Object.getOwnPropertyDescriptor(stored?.tags, k)?.value).toBe(`tag:${k}`);
      expect(Object.getOwnPropertyDescriptor(stored?.hyperparameters, k)?.value).toBe(`hp:${k}`);
    }
    expect(stored?.hyperparameters['eta']).toBe('0.2');
    // In DynamoDB itself: map entries named __proto__ etc.
    const raw = await rawItem({ PK: `JOB#${job.TrainingJobName}`, SK: 'JOB' });
    expect(Object.keys(raw?.tags?.M ?? {}).sort()).toEqual([...HOSTILE, 'team'].sort());
    expect(raw?.hyperparameters?.M?.['__proto__']).toEqual({ S: 'hp:__proto__' });

    const versionEvent = s.raw('model-package-pending.json') as Json;
    const cmp = versionEvent.detail.CustomerMetadataProperties as Record<string, string>;
    versionEvent.detail.CustomerMetadataProperties = JSON.parse(
      `{${[...HOSTILE.map((k) => `"${k}":"cmp:${k}"`), ...Object.entries(cmp).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`)].join(',')}}`,
    );
    const hostileVersion = ModelPackageStateChangeSchema.parse(versionEvent).detail;

    expect((await handleModelPackageChange(deps, hostileVersion)).outcome).toBe('review-opened');

    const v = await deps.store.getVersion({ group: s.group, version: 1 });
    for (const k of HOSTILE) expect(Object.getOwnPropertyDescriptor(v?.customerMetadata, k)?.value).toBe(`cmp:${k}`);
    expect(v?.customerMetadata['intended_use']).toBe(cmp['intended_use']);
    const rawVersion = await rawItem({ PK: `GROUP#${s.group}`, SK: 'VERSION#0000000001' });
    expect(Object.keys(rawVersion?.customerMetadata?.M ?? {})).toEqual(expect.arrayContaining(HOSTILE));
    // The audit log that recorded them still verifies (each leaf recomputed from its entry as read
    // back, hostile keys included), and no prototype was touched.
    expect(await logVerifies(table)).toMatchObject({ ok: true });
    expect(Object.getOwnPropertyNames(Object.prototype)).toEqual(PROTOTYPE_KEYS);
  });
});

describe('numbers SageMaker may send', () => {
  it('a final metric beyond 2^53 (1e20, 3.4e38) is stored and read back as the same number', async () => {
    const s = story('bignum');
    const described = s.describe('training-job-completed.json', { 'validation:auc': 0.912, 'train:loss': 3.4028234663852886e38, 'train:count': 1e20, 'train:tiny': 1.5e-45 });
    sm.on(DescribeTrainingJobCommand).resolves(described as never);

    expect((await recordTrainingJob(deps, s.job('training-job-completed.json'))).outcome).toBe('recorded');

    const job = await deps.store.getTrainingJob(s.job('training-job-completed.json').TrainingJobName);
    expect(job?.metrics).toEqual({ 'validation:auc': 0.912, 'train:loss': 3.4028234663852886e38, 'train:count': 1e20, 'train:tiny': 1.5e-45 });
    // The gate's read of the artifact node sees the same numbers.
    const artifact = await deps.store.getArtifact(s.job('training-job-completed.json').ModelArtifacts?.S3ModelArtifacts ?? '');
    expect(artifact?.producer?.metrics['train:count']).toBe(1e20);
  });
});

describe('refused before anything is written', () => {
  it('a training job whose LastModifiedTime is an epoch string of 30 digits: ValidationError naming detail.LastModifiedTime', async () => {
    const s = jobStory('time');
    const event = s.raw('training-job-completed.json') as Json;
    event.detail.LastModifiedTime = '1' + '0'.repeat(29);

    const e = await refusal(trainingHandler(event, {} as never));

    expect(e.problems).toEqual([expect.stringMatching(/^detail\.LastModifiedTime: not a timestamp/)]);
    expect(sent).toEqual([]);
    expect(await partition(`JOB#${event.detail.TrainingJobName}`)).toEqual([]);
  });

  it('a training job with two channels of one name: ValidationError naming detail.InputDataConfig.<i>.ChannelName', async () => {
    const s = jobStory('dupchan');
    const event = s.raw('training-job-completed.json') as Json;
    event.detail.InputDataConfig = [event.detail.InputDataConfig[0], event.detail.InputDataConfig[1], event.detail.InputDataConfig[0]];

    const e = await refusal(trainingHandler(event, {} as never));

    expect(e.problems).toEqual(['detail.InputDataConfig.2.ChannelName: duplicates the name of channel 0']);
    expect(sent).toEqual([]);
    expect(await partition(`JOB#${event.detail.TrainingJobName}`)).toEqual([]);
  });

  it('two writes of one item in one transaction (a job detail that skipped the schema): ValidationError, nothing sent', async () => {
    const s = jobStory('dupitem');
    const detail = s.job('training-job-completed.json');
    const channels = detail.InputDataConfig ?? [];
    const twice: TrainingJobDetail = { ...detail, InputDataConfig: [...channels, ...channels.slice(0, 1)] };

    const e = await refusal(recordTrainingJob(deps, twice));

    expect(e.message).toContain(`item JOB#${detail.TrainingJobName} / INPUT#train: written twice in one transaction`);
    expect(writesSent()).toEqual([]);
    expect(await partition(`JOB#${detail.TrainingJobName}`)).toEqual([]);
  });

  it('a legal training job whose item would pass 400 KB (100 hyperparameters of 2,500 emoji): ValidationError naming the item and its largest attribute', async () => {
    const s = jobStory('bigjob');
    const event = s.raw('training-job-completed.json') as Json;
    event.detail.HyperParameters = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`hp${String(i).padStart(3, '0')}`, '😀'.repeat(2500)]));

    const e = await refusal(trainingHandler(event, {} as never));

    expect(e.subject).toBe('DynamoDB write');
    expect(e.message).toMatch(new RegExp(`item JOB#${event.detail.TrainingJobName} / JOB: is \\d+ bytes \\(estimated\\), over DynamoDB's 400 KB item limit; largest attribute: hyperparameters \\(\\d+ bytes\\), its largest entry: hyperparameters\\.hp\\d{3}`));
    expect(writesSent()).toEqual([]);
    expect(await partition(`JOB#${event.detail.TrainingJobName}`)).toEqual([]);
  });

  it('a policy over its caps (51 rules, 26 reviewers) is refused by putPolicy, naming each field, and writes nothing', async () => {
    const s = story('capped');
    const rules = Array.from({ length: 51 }, (_, i) => ({ metric: `m${i}`, source: 'trainingJob', comparison: '>=', threshold: 0.5 }));
    const reviewers = Array.from({ length: 26 }, (_, i) => `reviewer-${i}@acme-bank.example`);

    const e = await refusal(putPolicy(deps, s.policy({ rules, reviewers, requiredApprovals: 1 })));

    expect(e.problems).toEqual(['rules: at most 50 rules', 'reviewers: at most 25 reviewers']);
    expect(writesSent()).toEqual([]);
    expect(await partition(`GROUP#${s.group}`)).toEqual([]);
  });

  it('a policy item too big for DynamoDB (2,000 long rules, written past the use case): ValidationError naming POLICY#CURRENT and its rules', async () => {
    const s = story('bigpolicy');
    const rules = Array.from({ length: 2000 }, (_, i) => ({ metric: `m${i}-${'x'.repeat(240)}`, source: 'trainingJob' as const, comparison: '>=' as const, threshold: 0.5 }));
    const policy = { ...(s.policy() as object), version: 1, createdAt: new Date(T0).toISOString(), rules, allowSelfApproval: false, reviewLifetimeHours: 72, reminderAfterHours: 24 } as never;

    const e = await refusal(deps.store.commitPolicy({ policy, audit: [] }));

    expect(e.message).toMatch(new RegExp(`item GROUP#${s.group} / POLICY#CURRENT: is \\d+ bytes \\(estimated\\), over DynamoDB's 400 KB item limit; largest attribute: rules \\(\\d+ bytes\\), its largest entry: rules\\.\\d+`));
    expect(writesSent()).toEqual([]);
    expect(await partition(`GROUP#${s.group}`)).toEqual([]);
  });

  it('a transaction of more than 100 writes (a review with 120 links, written past the use case): ValidationError, nothing sent', async () => {
    const s = jobStory('manyrev');
    await putPolicy(deps, s.policy());
    await recordTrainingJob(deps, s.job('training-job-completed.json'));
    expect((await handleModelPackageChange(deps, s.version('model-package-pending.json'))).outcome).toBe('review-opened');
    const version = await deps.store.getVersion({ group: s.group, version: 1 });
    const review = await deps.store.getReview({ group: s.group, version: 1, reviewId: version?.review?.id ?? '' });
    if (!version || !review) throw new Error('no review opened');
    const { rev, ...v } = version;
    const links = Array.from({ length: 120 }, (_, i) => ({ id: `many-${i}`, reviewId: 'many', modelPackageArn: v.arn, version: 1, reviewer: `reviewer-${i}@acme-bank.example`, expiresAt: review.expiresAt }));
    sent.length = 0;

    const e = await refusal(
      deps.store.commitVersionChange({
        version: v,
        expectedRev: rev,
        review: { review: { ...review, id: 'many' }, links },
        audit: [],
      }),
    );

    expect(e.message).toMatch(/transaction: has \d{3} operations; DynamoDB allows at most 100/);
    expect(writesSent()).toEqual([]);
    expect(await deps.store.getReviewLink('many-0')).toBeUndefined();
  });
});

describe('the write guard never under-counts an item', () => {
  const client = () => ownKeysClient(documentClient(table.client));

  it('an item of exactly 400 KB is written; one byte more is refused with the attribute named, and not sent', async () => {
    const key = { PK: 'SIZE#edge', SK: 'ITEM' };
    const overhead = itemBytes(toAttributeMap({ ...key, blob: '' }));
    await client().send(new PutCommand({ TableName: table.tableName, Item: { ...key, blob: 'x'.repeat(DYNAMODB_LIMITS.itemBytes - overhead) } }));
    expect((await table.doc.send(new GetCommand({ TableName: table.tableName, Key: key }))).Item?.blob).toHaveLength(DYNAMODB_LIMITS.itemBytes - overhead);

    sent.length = 0;
    const bigger = { PK: 'SIZE#over', SK: 'ITEM' };
    const e = await refusal(client().send(new PutCommand({ TableName: table.tableName, Item: { ...bigger, blob: 'x'.repeat(DYNAMODB_LIMITS.itemBytes - overhead + 1) } })));
    expect(e.message).toContain('item SIZE#over / ITEM: is 409601 bytes (estimated)');
    expect(e.message).toMatch(/largest attribute: blob \(\d+ bytes\)$/);
    expect(sent).toEqual([]);
    expect(await rawItem(bigger)).toBeUndefined();
  });

  it('a value DynamoDB has no form for (NaN, a number past 1E+126, an empty map key): ValidationError naming item and path, not sent', async () => {
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['SHAPE#nan', { metrics: { 'train:loss': Number.NaN } }, 'item SHAPE#nan / ITEM: metrics.train:loss: NaN is not a number DynamoDB can store'],
      ['SHAPE#big', { gate: { results: [{ actual: 1e300 }] } }, "item SHAPE#big / ITEM: gate.results.0.actual: the number 1e+300 is outside DynamoDB's range"],
      ['SHAPE#empty', { hyperparameters: { '': 'x' } }, 'item SHAPE#empty / ITEM: hyperparameters: a map entry with an empty name'],
    ];
    for (const [pk, attrs, expected] of cases) {
      sent.length = 0;
      const e = await refusal(client().send(new PutCommand({ TableName: table.tableName, Item: { PK: pk, SK: 'ITEM', ...attrs } })));
      expect(e.message).toContain(expected);
      expect(sent).toEqual([]);
      expect(await rawItem({ PK: pk, SK: 'ITEM' })).toBeUndefined();
    }
  });

  it('property: whatever the guard lets through near the limit, DynamoDB accepts', async () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'é', '€', '😀'), minLength: 0, maxLength: 60 });
    const scalar = fc.oneof(text, fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), fc.boolean(), fc.constant(null));
    const value = fc.oneof(scalar, fc.array(scalar, { maxLength: 8 }), fc.dictionary(text, scalar, { maxKeys: 8 }), fc.uniqueArray(text, { minLength: 1, maxLength: 5 }).map((a) => new Set(a)));
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), value, { maxKeys: 30 }), fc.integer({ min: -3000, max: 300 }), async (attrs, slack) => {
        const key = { PK: `SIZE#prop-${n++}`, SK: 'ITEM' };
        const item: Record<string, unknown> = { ...attrs, ...key };
        // Pad with one string so that the estimate lands near 400 KB: a little under, or a little over.
        const estimate = itemBytes(toAttributeMap({ ...item, pad: '' }));
        item['pad'] = 'p'.repeat(Math.max(0, DYNAMODB_LIMITS.itemBytes - estimate + slack));
        const refused = await client()
          .send(new PutCommand({ TableName: table.tableName, Item: item }))
          .then(
            () => false,
            (err: unknown) => {
              // Anything but the guard's own refusal is DynamoDB refusing what the guard let through.
              expect(err).toBeInstanceOf(ValidationError);
              return true;
            },
          );
        if (!refused) expect(await rawItem(key)).toBeDefined();
      }),
      { numRuns: 25 },
    );
  });
});

describe('operator payloads', () => {
  let impactTable: TestTable;
  let impactDeps: Deps;
  let s: ReturnType<typeof story>;

  beforeAll(async () => {
    impactTable = await freshTable('impact-limits');
    impactDeps = testDeps(impactTable.client, impactTable.tableName, clock);
    resetMocks(sm, sns, s3);
    // Two versions under review (two groups), each derived from the sample's two channels.
    ({ s } = await openSampleReview(impactDeps, { sm, sns }, 'wb'));
    await openSampleReview(impactDeps, { sm, sns }, 'wc');
  });
  afterAll(() => impactTable.drop());

  it.each([`s3://${BUCKET}`, `s3://${BUCKET}/`])('datasetImpact on the whole bucket (%s) lists its jobs and versions', async (s3Uri) => {
    const report = await datasetImpact(impactDeps, { s3Uri });

    expect(report.trainingJobs).toHaveLength(4); // two jobs, two channels each
    expect(new Set(report.modelVersions.map((v) => v.modelPackageArn))).toEqual(new Set([s.arn(1), s.arn(1).replace('/wb-detector/', '/wc-detector/')]));
    expect(report.modelVersions.every((v) => v.status === 'PendingManualApproval')).toBe(true);
  });

  it('a real cursor still pages: the whole bucket one edge at a time, and the audit trail, and the open reviews', async () => {
    const all = await datasetImpact(impactDeps, { s3Uri: `s3://${BUCKET}` });
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await datasetImpact(impactDeps, { s3Uri: `s3://${BUCKET}`, limit: 1, ...(cursor ? { cursor } : {}) });
      seen.push(...page.trainingJobs.map((j) => `${j.job}/${j.channel}`), ...page.modelVersions.map((v) => `${v.modelPackageArn}/${v.channel}`));
      cursor = page.cursor;
    } while (cursor);
    expect(seen.sort()).toEqual([...all.trainingJobs.map((j) => `${j.job}/${j.channel}`), ...all.modelVersions.map((v) => `${v.modelPackageArn}/${v.channel}`)].sort());

    const trail = await getAuditTrail(impactDeps, { modelPackageGroupName: s.group });
    const first = await getAuditTrail(impactDeps, { modelPackageGroupName: s.group, limit: 1 });
    const rest = await getAuditTrail(impactDeps, { modelPackageGroupName: s.group, limit: 100, cursor: first.cursor });
    expect([...first.items, ...rest.items].map((e) => e.id)).toEqual(trail.items.map((e) => e.id));
    expect(trail.items.length).toBeGreaterThan(1);

    const p1 = await listPendingReviews(impactDeps, { limit: 1 });
    const p2 = await listPendingReviews(impactDeps, { limit: 1, cursor: p1.cursor });
    expect([...p1.items, ...p2.items].map((r) => r.group).sort()).toEqual(['wb-detector', 'wc-detector']);
  });

  /** The JSON inside a cursor, to change it. */
  const open = (cursor: string): Json => JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  const seal = (json: unknown): string => Buffer.from(JSON.stringify(json)).toString('base64url');

  const realCursors = async () => ({
    impact: (await datasetImpact(impactDeps, { s3Uri: `s3://${BUCKET}/fraud/`, limit: 1 })).cursor ?? '',
    audit: (await getAuditTrail(impactDeps, { modelPackageGroupName: s.group, limit: 1 })).cursor ?? '',
    pending: (await listPendingReviews(impactDeps, { limit: 1 })).cursor ?? '',
  });

  type Call = (cursor: string) => Promise<unknown>;
  const calls: Record<'impact' | 'audit' | 'pending', Call> = {
    impact: (cursor) => datasetImpact(impactDeps, { s3Uri: `s3://${BUCKET}/fraud/`, cursor }),
    audit: (cursor) => getAuditTrail(impactDeps, { modelPackageGroupName: s.group, cursor }),
    pending: (cursor) => listPendingReviews(impactDeps, { cursor }),
  };

  type Forgery = [string, (real: string, kind: keyof typeof calls) => Promise<string> | string];
  const forgeries: Forgery[] = [
    ['random base64', () => Buffer.from('3q2+7wAAAAAAABJjaGFvcyDir7MgbW9yZSBub2lzZQ', 'base64').toString('base64url')],
    ['not base64url at all', () => 'not a cursor!'],
    ['base64 of something that is not JSON', () => Buffer.from('hello, DynamoDB').toString('base64url')],
    ['a bare LastEvaluatedKey (the old format), hand-made', () => seal({ PK: 'GROUP#x', SK: 'VERSION#0000000001' })],
    ['JSON with wrong attributes', (real) => seal({ ...open(real), k: { PK: 'JOB#x', SK: 'JOB', GSI9PK: 'y' } })],
    ['a cursor with an extra attribute', (real) => seal({ ...open(real), k: { ...open(real).k, extra: 'x' } })],
    ['a cursor with an attribute missing', (real) => seal({ ...open(real), k: Object.fromEntries(Object.entries(open(real).k).slice(1)) })],
    ['a cursor with a __proto__ attribute', (real) => Buffer.from(JSON.stringify(open(real)).replace('"k":{', '"k":{"__proto__":{"S":"x"},')).toString('base64url')],
    ['a cursor with a number where a key string goes', (real) => seal({ ...open(real), k: { ...open(real).k, SK: 7 } })],
    ['a cursor with an empty key string', (real) => seal({ ...open(real), k: { ...open(real).k, SK: '' } })],
    ['a truncated cursor', (real) => real.slice(0, Math.floor(real.length / 2))],
    ['an oversize cursor', () => 'A'.repeat(10_000)],
    [
      'a cursor from another query (another bucket, scope or index)',
      async (_real, kind) => {
        if (kind === 'impact') return (await datasetImpact(impactDeps, { s3Uri: `s3://${BUCKET}/fraud/transactions/`, limit: 1 })).cursor ?? '';
        if (kind === 'audit') return (await getAuditTrail(impactDeps, { modelPackageGroupName: 'wc-detector', limit: 1 })).cursor ?? '';
        return (await datasetImpact(impactDeps, { s3Uri: `s3://${BUCKET}/fraud/`, limit: 1 })).cursor ?? '';
      },
    ],
    [
      'a real binding with a key moved outside the query (another partition)',
      (real) => {
        const json = open(real);
        const pk = Object.keys(json.k).find((k: string) => k !== 'PK' && k.endsWith('PK')) ?? 'PK';
        return seal({ ...json, k: { ...json.k, [pk]: `${json.k[pk]}-other` } });
      },
    ],
    [
      'a real binding with a table key of another kind of item',
      (real) => seal({ ...open(real), k: { ...open(real).k, SK: `LINK#${String(open(real).k.SK)}` } }),
    ],
  ];
  /** The open-reviews index has no sort key prefix: any GSI2SK is a position within it. */
  const outsidePrefix: Forgery = [
    'a real binding with a sort key outside the prefix',
    (real) => {
      const json = open(real);
      const sk = Object.keys(json.k).find((k: string) => k !== 'SK' && k.endsWith('SK')) ?? 'SK';
      return seal({ ...json, k: { ...json.k, [sk]: `zzz${json.k[sk]}` } });
    },
  ];

  describe.each(['impact', 'audit', 'pending'] as const)('%s', (kind) => {
    it.each(kind === 'pending' ? forgeries : [...forgeries, outsidePrefix])('%s: ValidationError naming cursor, before any request', async (_what, forge) => {
      const real = (await realCursors())[kind];
      expect(real).not.toBe('');
      const forged = await forge(real, kind);
      expect(forged).not.toBe(real);
      sent.length = 0;

      const e = await refusal(calls[kind](forged));

      expect(e.message).toMatch(/cursor/);
      expect(sent).toEqual([]);
    });
  });
});
