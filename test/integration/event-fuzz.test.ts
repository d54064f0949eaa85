/**
 * Acceptance (issue 8): at least 10,000 generated SageMaker events, valid and broken, go through
 * both real event handlers (`functions/on*StateChange/handler.ts`, production wiring) against
 * DynamoDB Local. For every event:
 *   - it is accepted, or refused with a typed error (a ModelgateError): never anything else;
 *   - a refused event (ValidationError) makes no write at all (every DynamoDB request that the
 *     handler's own client sends is counted, per event, through an AsyncLocalStorage);
 * and at the end the audit log that the accepted events wrote verifies end to end (every entry
 * sequenced, each leaf recomputed from its entry).
 *
 * The events are built from the sample story (events/) and then varied the way AWS and attackers
 * vary them: repeats under new ids, older after newer, versions before their jobs, failed and
 * stopped jobs with empty artifacts, hostile map keys, extreme sizes and timestamps, random values
 * in every field, and concurrent deliveries of one event. SageMaker, SNS and S3 are mocked and
 * answer consistently with the events generated so far.
 *
 * Another run: FUZZ_SEED=<n> npx jest test/integration/event-fuzz.test.ts (a failure prints its seed).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import fc from 'fast-check';
import { mockClient } from 'aws-sdk-client-mock';
import {
  DescribeModelPackageCommand,
  DescribeTrainingJobCommand,
  ListTagsCommand,
  SageMakerClient,
  UpdateModelPackageCommand,
} from '@aws-sdk/client-sagemaker';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ModelgateError, ValidationError } from '../../shared/domain/errors.js';
import { clients } from '../../shared/aws/clients.js';
import { logger } from '../../shared/logger.js';
import { productionDeps } from '../../shared/wiring.js';
import { putPolicy } from '../../shared/usecases/policies.js';
import { logVerifies } from '../support/audit-log.js';
import { newTable, type TestTable } from '../support/dynamo.js';
import { EVENTS_DIR, SAMPLE_REPORT, TOPICS, s3Body } from '../support/story.js';

const EVENTS = Number(process.env['FUZZ_EVENTS'] ?? 10_000);
/** A fixed seed by default, so that CI is reproducible; FUZZ_SEED=<n> explores another run. */
const SEED = Number(process.env['FUZZ_SEED'] ?? 20261201);
const GROUPS = 40;
/** Groups handled side by side (see the test). */
const LANES = 4;
const WRITES = new Set(['TransactWriteItemsCommand', 'PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'BatchWriteItemCommand']);

const sm = mockClient(SageMakerClient);
const sns = mockClient(SNSClient);
const s3 = mockClient(S3Client);

type Handler = (event: unknown, context: Context) => Promise<unknown>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the events are broken on purpose
type Json = any;

const context = {
  functionName: 'modelgate-fuzz',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:modelgate-fuzz',
  memoryLimitInMB: '512',
  awsRequestId: 'f0220000-0000-4000-8000-000000000001',
  getRemainingTimeInMillis: () => 30_000,
} as unknown as Context;

const sample = (file: string): Json => JSON.parse(readFileSync(join(EVENTS_DIR, file), 'utf8'));
const TEMPLATES = {
  jobCompleted: sample('training-job-completed.json'),
  jobFailed: sample('training-job-failed.json'),
  versionPending: sample('model-package-pending.json'),
  versionBeforeJob: sample('model-package-pending-before-job.json'),
  versionApproved: sample('model-package-approved-in-console.json'),
};

const ARTIFACT_BUCKET = 's3://acme-ml-artifacts-123456789012';
const artifactOf = (group: number, job: string) => `${ARTIFACT_BUCKET}/fz${group}-detector/training/${job}/output/model.tar.gz`;
const jobName = (group: number, n: number) => `fz${group}-xgb-${String(n).padStart(4, '0')}`;
const groupName = (group: number) => `fz${group}-detector`;
const versionArn = (group: number, v: number) => `arn:aws:sagemaker:us-east-1:123456789012:model-package/${groupName(group)}/${v}`;

// ---------------------------------------------------------------------------------------------
// What to generate: a recipe (fast-check) that a deterministic builder turns into an event.

const HOSTILE_KEYS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'prototype', '__defineGetter__', 'then'];
const hostileString = fc.oneof(
  fc.constantFrom('<script>alert(1)</script>', '"; DROP TABLE x; --', '\u0000', '\u202e\u200b', '${jndi:ldap://x}', '%00', '../../etc/passwd', '\ud83d', 'a'.repeat(3000)),
  fc.string({ unit: 'binary', maxLength: 40 }),
);
const extremeTimestamp = fc.oneof(
  fc.constantFrom(8.64e15 + 1, -8.64e15 - 1, 1e300, Number.MAX_SAFE_INTEGER, -1, 0, '1'.repeat(30), '99999999999999999999', '2026-13-45T99:99:99Z', '+275760-09-13T00:00:00.001Z', 'NaN', '', ' '),
  fc.integer({ min: -1e16, max: 1e16 }),
  fc.double(),
);
/** Mostly sizes around SageMaker's limits, sometimes past DynamoDB's 400 KB item limit. */
const size = fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 1, max: 3000 }) }, { weight: 3, arbitrary: fc.integer({ min: 3000, max: 60_000 }) }, { weight: 1, arbitrary: fc.integer({ min: 390_000, max: 420_000 }) });
const anyValue = fc.oneof(fc.jsonValue({ maxDepth: 2 }), hostileString, extremeTimestamp, fc.constant(undefined));

const JOB_PATHS = [
  'detail.TrainingJobName', 'detail.TrainingJobArn', 'detail.TrainingJobStatus', 'detail.LastModifiedTime', 'detail.CreationTime',
  'detail.TrainingEndTime', 'detail.HyperParameters', 'detail.InputDataConfig', 'detail.InputDataConfig.0', 'detail.InputDataConfig.0.ChannelName',
  'detail.InputDataConfig.0.DataSource.S3DataSource.S3Uri', 'detail.ModelArtifacts', 'detail.ModelArtifacts.S3ModelArtifacts', 'detail.Tags',
  'detail.AlgorithmSpecification', 'detail.AlgorithmSpecification.TrainingImage', 'detail.FailureReason', 'detail.OutputDataConfig.S3OutputPath',
  'detail.RoleArn', 'detail', 'source', 'detail-type', 'id', 'time', 'account', 'region', 'resources', 'version',
];
const VERSION_PATHS = [
  'detail.ModelPackageGroupName', 'detail.ModelPackageVersion', 'detail.ModelPackageArn', 'detail.ModelApprovalStatus', 'detail.CreationTime',
  'detail.LastModifiedTime', 'detail.InferenceSpecification', 'detail.InferenceSpecification.Containers', 'detail.InferenceSpecification.Containers.0',
  'detail.InferenceSpecification.Containers.0.ModelDataUrl', 'detail.InferenceSpecification.Containers.0.ImageDigest', 'detail.ModelMetrics',
  'detail.ModelMetrics.ModelQuality.Statistics.S3Uri', 'detail.ModelMetrics.ModelQuality.Statistics.ContentDigest', 'detail.CustomerMetadataProperties',
  'detail.ModelPackageDescription', 'detail.MetadataProperties.GeneratedBy', 'detail.ApprovalDescription', 'detail', 'source', 'detail-type', 'time',
];

const mutation = (paths: string[], maps: string[]) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.record({ op: fc.constant('set' as const), path: fc.constantFrom(...paths), value: anyValue }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), path: fc.constantFrom(...paths) }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('hostileKeys' as const), map: fc.constantFrom(...maps), keys: fc.subarray(HOSTILE_KEYS, { minLength: 1 }), value: fc.oneof(fc.string({ maxLength: 20 }), hostileString) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('bigMap' as const), map: fc.constantFrom(...maps), entries: fc.integer({ min: 40, max: 400 }), valueSize: fc.integer({ min: 1, max: 3000 }) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('bigString' as const), path: fc.constantFrom(...paths), size }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('timestamp' as const), path: fc.constantFrom('detail.LastModifiedTime', 'detail.CreationTime', 'detail.TrainingEndTime'), value: extremeTimestamp }) },
  );

const jobRecipe = fc.record({
  kind: fc.constant('job' as const),
  group: fc.integer({ min: 0, max: GROUPS - 1 }),
  n: fc.integer({ min: 0, max: 400 }),
  status: fc.constantFrom('Completed', 'Completed', 'Completed', 'Failed', 'Stopped'),
  artifact: fc.constantFrom('normal', 'normal', 'normal', 'empty', 'absent'),
  tagged: fc.boolean(),
  /** Seconds added to the template's LastModifiedTime: repeats, older and newer states. */
  dt: fc.integer({ min: -3, max: 3 }),
  channels: fc.oneof({ weight: 8, arbitrary: fc.constant('normal' as const) }, { weight: 1, arbitrary: fc.constant('duplicate' as const) }, { weight: 1, arbitrary: fc.integer({ min: 21, max: 140 }) }),
  mutations: fc.oneof({ weight: 3, arbitrary: fc.constant([]) }, { weight: 2, arbitrary: fc.array(mutation(JOB_PATHS, ['Tags', 'HyperParameters']), { minLength: 1, maxLength: 3 }) }),
  deliveries: fc.oneof({ weight: 9, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.integer({ min: 2, max: 4 }) }),
});

const versionRecipe = fc.record({
  kind: fc.constant('version' as const),
  group: fc.integer({ min: 0, max: GROUPS - 1 }),
  v: fc.integer({ min: 1, max: 60 }),
  /** The job whose artifact the version names (it may not have been recorded, or may never be). */
  job: fc.integer({ min: 0, max: 400 }),
  template: fc.constantFrom('versionPending', 'versionPending', 'versionBeforeJob', 'versionApproved'),
  status: fc.constantFrom('PendingManualApproval', 'PendingManualApproval', 'Approved', 'Rejected'),
  dt: fc.integer({ min: -3, max: 3 }),
  mutations: fc.oneof({ weight: 3, arbitrary: fc.constant([]) }, { weight: 2, arbitrary: fc.array(mutation(VERSION_PATHS, ['CustomerMetadataProperties']), { minLength: 1, maxLength: 3 }) }),
  deliveries: fc.oneof({ weight: 9, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.integer({ min: 2, max: 4 }) }),
});

function setPath(root: Json, path: string, value: unknown, remove = false): void {
  const parts = path.split('.');
  let at = root;
  for (const p of parts.slice(0, -1)) {
    if (at === null || typeof at !== 'object') return;
    if (at[p] === null || typeof at[p] !== 'object') at[p] = /^\d+$/.test(p) ? [] : {};
    at = at[p];
  }
  const last = parts.at(-1) as string;
  if (at === null || typeof at !== 'object') return;
  if (remove) delete at[last];
  // defineProperty: a key such as __proto__ becomes an own property, as JSON.parse makes it.
  else Object.defineProperty(at, last, { value, enumerable: true, writable: true, configurable: true });
}

function applyMutations(event: Json, mutations: ReadonlyArray<Json>): void {
  for (const m of mutations) {
    switch (m.op) {
      case 'set':
        setPath(event, m.path, m.value);
        break;
      case 'delete':
        setPath(event, m.path, undefined, true);
        break;
      case 'hostileKeys': {
        const map = event.detail?.[m.map];
        const target = map && typeof map === 'object' ? map : {};
        for (const k of m.keys as string[]) Object.defineProperty(target, k, { value: m.value, enumerable: true, writable: true, configurable: true });
        if (event.detail && typeof event.detail === 'object') event.detail[m.map] = target;
        break;
      }
      case 'bigMap': {
        const value = 'v'.repeat(m.valueSize);
        if (event.detail && typeof event.detail === 'object') {
          event.detail[m.map] = Object.fromEntries(Array.from({ length: m.entries }, (_, i) => [`k${i}`, value]));
        }
        break;
      }
      case 'bigString':
        setPath(event, m.path, 'x'.repeat(m.size));
        break;
      case 'timestamp':
        setPath(event, m.path, m.value);
        break;
    }
  }
}

const BASE_JOB_TIME = 1795772497000;
const BASE_VERSION_TIME = Date.parse('2026-11-27T09:44:02Z');

function buildJob(r: Json): Json {
  const name = jobName(r.group, r.n);
  const e = structuredClone(r.status === 'Completed' ? TEMPLATES.jobCompleted : TEMPLATES.jobFailed);
  e.id = `fuzz-${r.id}`;
  const d = e.detail;
  d.TrainingJobName = name;
  d.TrainingJobArn = `arn:aws:sagemaker:us-east-1:123456789012:training-job/${name}`;
  e.resources = [d.TrainingJobArn];
  d.TrainingJobStatus = r.status;
  d.LastModifiedTime = String(BASE_JOB_TIME + r.dt * 1000);
  d.OutputDataConfig = { S3OutputPath: `${ARTIFACT_BUCKET}/${groupName(r.group)}/training` };
  if (r.status === 'Completed' || r.artifact === 'normal') d.ModelArtifacts = { S3ModelArtifacts: artifactOf(r.group, name) };
  if (r.artifact === 'empty') d.ModelArtifacts = { S3ModelArtifacts: '' };
  if (r.artifact === 'absent') delete d.ModelArtifacts;
  d.Tags = { team: 'fraud-ml', ...(r.tagged ? { 'sagemaker:user-profile-arn': `arn:aws:sagemaker:us-east-1:123456789012:user-profile/d-fuzz/ml-lead` } : {}) };
  const channel = (c: string) => ({ ChannelName: c, DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: `s3://acme-ml-datasets-123456789012/fuzz/${r.group}/${c}/` } } });
  if (r.channels === 'duplicate') d.InputDataConfig = [channel('train'), channel('train')];
  else if (typeof r.channels === 'number') d.InputDataConfig = Array.from({ length: r.channels }, (_, i) => channel(`c${i}`));
  applyMutations(e, r.mutations);
  return e;
}

function buildVersion(r: Json): Json {
  const e = structuredClone(TEMPLATES[r.template as keyof typeof TEMPLATES]);
  e.id = `fuzz-${r.id}`;
  const d = e.detail;
  d.ModelPackageGroupName = groupName(r.group);
  d.ModelPackageVersion = r.v;
  d.ModelPackageArn = versionArn(r.group, r.v);
  e.resources = [d.ModelPackageArn];
  d.ModelApprovalStatus = r.status;
  d.LastModifiedTime = new Date(BASE_VERSION_TIME + r.dt * 1000).toISOString();
  const container = d.InferenceSpecification?.Containers?.[0];
  if (container) container.ModelDataUrl = artifactOf(r.group, jobName(r.group, r.job));
  applyMutations(e, r.mutations);
  return e;
}

// ---------------------------------------------------------------------------------------------
// SageMaker's answers, consistent with what was generated: a job is known once its event was built.

const knownJobs = new Map<string, Json>();
const versionStatus = new Map<string, string>();

function describeAnswer(name: string): Json {
  const d = knownJobs.get(name);
  if (!d) {
    const e = new Error(`Requested resource not found: ${name}`);
    e.name = 'ValidationException';
    throw e;
  }
  const date = (v: unknown) => new Date(Number(v));
  return {
    ...d,
    CreationTime: date(d.CreationTime),
    TrainingEndTime: date(d.TrainingEndTime),
    LastModifiedTime: date(d.LastModifiedTime),
    FinalMetricDataList: [{ MetricName: 'validation:auc', Value: 0.912, Timestamp: new Date(0) }],
    Tags: undefined,
  };
}

function installMocks(): void {
  sm.reset();
  sns.reset();
  s3.reset();
  sm.on(DescribeTrainingJobCommand).callsFake((input: { TrainingJobName: string }) => describeAnswer(input.TrainingJobName));
  sm.on(ListTagsCommand).callsFake((input: { ResourceArn: string }) => {
    const d = knownJobs.get(String(input.ResourceArn).split('/').at(-1) ?? '');
    return { Tags: Object.entries(d?.Tags ?? {}).map(([Key, Value]) => ({ Key, Value })) };
  });
  sm.on(DescribeModelPackageCommand).callsFake((input: { ModelPackageName: string }) => ({
    ModelPackageArn: input.ModelPackageName,
    ModelApprovalStatus: versionStatus.get(input.ModelPackageName) ?? 'PendingManualApproval',
    CreatedBy: { IamIdentity: { Arn: 'arn:aws:sts::123456789012:assumed-role/SageMakerPipelineRole/fuzz' } },
    LastModifiedBy: { IamIdentity: { Arn: 'arn:aws:sts::123456789012:assumed-role/DataScientist/someone' } },
  }));
  sm.on(UpdateModelPackageCommand).callsFake((input: { ModelPackageArn: string; ModelApprovalStatus: string }) => {
    versionStatus.set(input.ModelPackageArn, input.ModelApprovalStatus);
    return {};
  });
  sns.on(PublishCommand).resolves({ MessageId: 'm-fuzz' });
  s3.on(GetObjectCommand).callsFake(() => ({ Body: s3Body(SAMPLE_REPORT) }));
}

// ---------------------------------------------------------------------------------------------

let table: TestTable;
let handlers: { job: Handler; version: Handler };
const writes = new AsyncLocalStorage<{ count: number }>();

beforeAll(async () => {
  table = await newTable('fuzz');
  Object.assign(process.env, {
    TABLE_NAME: table.tableName,
    REVIEWERS_TOPIC_ARN: TOPICS.reviewers,
    GOVERNANCE_TOPIC_ARN: TOPICS.governance,
    REVIEW_BASE_URL: 'https://modelgate.acme-bank.example',
    // Every page and message names the organisation (serverless.yml's stage local defaults).
    ORGANISATION_NAME: 'Acme Bank model risk',
    ORGANISATION_CONTACT: 'model-risk@acme-bank.example',
    STAGE: 'local',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  });
  const load = async (name: string) => ((await import(`../../functions/${name}/handler.js`)) as { handler: Handler }).handler;
  handlers = { job: await load('onTrainingJobStateChange'), version: await load('onModelPackageStateChange') };
  // The logger was built before the environment was set (imports come first): quiet it here.
  logger.setLogLevel('SILENT');
  // Every request that the handlers' own DynamoDB client sends and DynamoDB accepts, counted
  // against the event being handled.
  clients.dynamo().middlewareStack.add(
    (next, ctx) => async (args) => {
      const out = await next(args);
      const counter = writes.getStore();
      if (counter && WRITES.has(ctx.commandName ?? '')) counter.count++;
      return out;
    },
    { step: 'initialize', name: 'fuzzWriteCounter' },
  );
  installMocks();
  // Half the groups are governed; the others fail closed (no policy).
  const policy = sample('policy-fraud-detector.json');
  for (let g = 0; g < GROUPS; g += 2) await putPolicy(productionDeps(), { ...policy, modelPackageGroupName: groupName(g) });
}, 60_000);
afterAll(() => table.drop());

interface Tally {
  accepted: number;
  refused: number;
  otherTyped: Record<string, number>;
  untyped: Array<{ id: number; error: string }>;
  refusedWithWrites: Array<{ id: number; writes: number; error: string }>;
  outcomes: Record<string, number>;
}

async function deliver(handler: Handler, event: Json, id: number, tally: Tally): Promise<void> {
  const counter = { count: 0 };
  await writes.run(counter, async () => {
    try {
      const result = (await handler(event, context)) as { outcome?: string } | undefined;
      tally.accepted++;
      const outcome = result?.outcome ?? 'none';
      tally.outcomes[outcome] = (tally.outcomes[outcome] ?? 0) + 1;
    } catch (e) {
      if (e instanceof ValidationError) {
        tally.refused++;
        if (counter.count > 0) tally.refusedWithWrites.push({ id, writes: counter.count, error: e.message.slice(0, 300) });
      } else if (e instanceof ModelgateError) {
        tally.otherTyped[e.name] = (tally.otherTyped[e.name] ?? 0) + 1;
      } else {
        tally.untyped.push({ id, error: e instanceof Error ? `${e.name}: ${e.message.slice(0, 300)}` : String(e) });
      }
    }
  });
}

describe(`${EVENTS} generated SageMaker events through both event handlers`, () => {
  it('are accepted or refused with a typed error, refused ones write nothing, and the audit log verifies', async () => {
    const recipes = fc.sample(fc.oneof({ weight: 1, arbitrary: jobRecipe }, { weight: 1, arbitrary: versionRecipe }), { numRuns: EVENTS, seed: SEED });
    const tally: Tally = { accepted: 0, refused: 0, otherTyped: {}, untyped: [], refusedWithWrites: [], outcomes: {} };
    const started = Date.now();
    let delivered = 0;
    // Lanes by group, run side by side: a group's jobs and versions stay in their generated order
    // (so repeats, older-after-newer and version-before-job happen as generated), while unrelated
    // groups are handled concurrently, as Lambda would.
    const lanes: Json[][] = Array.from({ length: LANES }, () => []);
    recipes.forEach((recipe, i) => {
      const r = { ...(recipe as object), id: i } as Json;
      lanes[r.group % LANES]?.push(r);
    });
    await Promise.all(
      lanes.map(async (lane) => {
        for (const r of lane) {
          const event = r.kind === 'job' ? buildJob(r) : buildVersion(r);
          if (r.kind === 'job' && typeof event?.detail?.TrainingJobName === 'string') knownJobs.set(event.detail.TrainingJobName, event.detail);
          if (r.kind === 'version' && typeof event?.detail?.ModelPackageArn === 'string') versionStatus.set(event.detail.ModelPackageArn, event.detail.ModelApprovalStatus);
          const handler = r.kind === 'job' ? handlers.job : handlers.version;
          // Concurrent deliveries of one event (EventBridge at least once, Lambda's retries).
          await Promise.all(Array.from({ length: r.deliveries }, () => deliver(handler, structuredClone(event), r.id, tally)));
          delivered += r.deliveries;
        }
      }),
    );
    const elapsed = Date.now() - started;

    // Every entry the accepted events wrote is sequenced into the one log, and the log verifies end to end.
    const log = await logVerifies(table);
    const entries = log.entries;

    const summary = { seed: SEED, events: recipes.length, delivered, ms: elapsed, accepted: tally.accepted, refused: tally.refused, otherTyped: tally.otherTyped, outcomes: tally.outcomes, auditEntries: entries };
    // One line for the record (npm test prints it; the README quotes it).
    process.stdout.write(`fuzz: ${JSON.stringify(summary)}\n`);

    expect({ seed: SEED, untyped: tally.untyped.slice(0, 5) }).toEqual({ seed: SEED, untyped: [] });
    expect({ seed: SEED, refusedWithWrites: tally.refusedWithWrites.slice(0, 5) }).toEqual({ seed: SEED, refusedWithWrites: [] });
    expect({ seed: SEED, log }).toMatchObject({ seed: SEED, log: { ok: true } });
    expect(entries).toBeGreaterThan(GROUPS / 2); // at least the policies' entries
    expect(recipes.length).toBeGreaterThanOrEqual(EVENTS);
    // Not vacuous: both kinds of answer occur in bulk, and the accepted events wrote the log.
    expect(tally.accepted).toBeGreaterThan(EVENTS / 5);
    expect(tally.refused).toBeGreaterThan(EVENTS / 10);
    expect(entries).toBeGreaterThan(EVENTS / 10);
    // 240 s before issue 9; the log's sequencing is now part of the check (about 5,000 entries,
    // some 170 append transactions, then every leaf and entry read back): ~10 ms an entry here.
  }, 900_000);
});
