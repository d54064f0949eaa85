/**
 * `npm run bench`, part 2: contention (issue 9, acceptance "Contention").
 *
 * One mixed story goes through the real handlers, in this process (scripts/story.ts
 * `loadHandlers`), against DynamoDB Local and the SageMaker, SNS and S3 stand-ins, at 1, 8 and 32
 * concurrent invocations. Each level starts from nothing: a fresh table (deleted and created
 * again from serverless.yml: the handlers read TABLE_NAME once per process), the groups'
 * policies put again (not counted), and the SageMaker stand-in restarted from the same saved
 * state. Each level prints one line:
 *
 *   concurrency <n>: <requests> requests, <ratio>x floor, <failed> failed, <cancelled> cancelled
 *
 * THE STORY is built once, through the SageMaker stand-in, which emits SageMaker's own events for
 * what is created through it; serverless.yml's EventBridge rules choose the function for each
 * (the InProgress events of new jobs match no rule and are dropped, as on AWS):
 * - 200 training jobs (`jobs`) over 8 groups of different sizes; 20 fail, the others complete
 *   with their final metrics (validation:auc between 0.78 and 0.95, so many versions are rejected);
 * - 1,000 model-package events: 390 registrations of those jobs' artifacts, right after their
 *   job's event (the pipeline's next step; 1 to 3 versions per job: the re-registrations share
 *   their artifact node), 10 registrations of models of a tuning job still training (they wait for
 *   their job), 330 status changes made by people 3 to 60 jobs later (120 approved in the console
 *   and reverted, 110 rejected, 100 metadata edits), 200 repeats under new event ids (half right
 *   behind their original, so that at 8 and 32 they run at the same time, half up to 40 events
 *   later), and 70 registrations delivered again after their version's newer change (stale);
 * - the event of a quarter of the completed jobs comes after its versions: the gate confirms the
 *   job with DescribeTrainingJob and ListTags, and the job's late event is a duplicate or stale;
 * - then the tuning job ends (`burst`): its 50 training jobs complete in SageMaker and their 50
 *   Completed events are invoked together at 8 and 32 (a tuning job's jobs end within a second,
 *   each event its own invocation; at 1 they go one at a time, as that run is the floor); 10
 *   versions wait for them.
 *
 * The SageMaker stand-in runs in a process of its own (see `spawnSageMaker`). DynamoDB Local
 * runs transactions one at a time (measured on this machine: at most ~56 TransactWriteItems/s
 * whatever the concurrency, mean latency 33 ms alone and ~580 ms with 32 in flight), so at 32 an
 * invocation is in flight for seconds rather than the tens of milliseconds DynamoDB takes, and
 * events of one item further apart in the replay overlap than would on AWS: the counts at 32 are
 * an upper bound of what the same events would conflict on there.
 *
 * COUNTED: every DynamoDB request the handlers send (a middleware on the shared document client,
 * as in scripts/bench.ts; an AsyncLocalStorage context tells which invocation sent it), every
 * TransactionCanceledException (`cancelled`; the middleware counts it, notes which items the
 * cancellation reasons name, and rethrows it), every ConditionalCheckFailedException of a
 * single-item write (shown in the details), and every invocation that threw (`failed`).
 *
 * THE FLOOR is the number of requests the same events need with no conflict at all. It is
 * measured, not modelled: it is the concurrency-1 replay on its fresh table, where every
 * invocation, the burst's included, runs alone, so no write can meet another one (the line of
 * concurrency 1 shows 0 cancelled, and the header says so if it did not). Each event there does
 * exactly what it needs: its read, its commit, the settle of its side effects, the extra read of a
 * version that comes before its job. The concurrency-1 line is therefore 1.00x by definition, and
 * the ratio at 8 and 32 is what running the same events side by side costs: cancelled commits and
 * the reads that re-plan them, and paths that an overlap changes (a version and its job racing).
 *
 * Then 50 review POSTs go through the review handler at once (as scripts/bench.ts's review bench
 * calls it): both reviewers of 25 open reviews of the concurrency-32 table vote at the same time,
 * so each review takes two concurrent votes on one item, and the second decides.
 *
 * scripts/bench-sequencer.ts reuses this module (the environment, the story and a level's replay).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateModelPackageCommand,
  CreateModelPackageGroupCommand,
  CreateTrainingJobCommand,
  SageMakerClient,
  UpdateModelPackageCommand,
  type CreateModelPackageCommandInput,
} from '@aws-sdk/client-sagemaker';
import { matches, rulesFromServerlessYml } from '../local/eventbridge.js';
import type { EventBridgeEvent } from '../local/sagemaker/server.js';
import { completeTrainingJob, failTrainingJob, type MetricInput } from '../local/sagemaker/seed.js';
import { startSnsStandIn, type SnsStandIn } from '../local/sns/server.js';
import { startS3StandIn, type S3StandIn } from '../local/s3/server.js';
import { sampleBuckets } from '../local/seed.js';
import { REPO_ROOT, assertJava, createTable, startDynamoDbLocal, type DynamoDbLocalHandle } from './dynamodb-local.js';
import { LOCAL_ENV, fakeContext, loadHandlers, type FunctionName } from './story.js';
import type { ReviewRequest } from '../shared/domain/review.js';

const ACCOUNT = '123456789012';
const ARTIFACTS = 'acme-ml-artifacts-123456789012';
const DATASETS = 'acme-ml-datasets-123456789012';
const IMAGE = '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1';
const ROLE = 'arn:aws:iam::123456789012:role/service-role/AmazonSageMaker-ExecutionRole-bench';
export const REVIEWERS = ['risk-officer@acme-bank.example', 'ml-lead@acme-bank.example'] as const;
export const LEVELS = [1, 8, 32] as const;
const REVIEW_POSTS = 50;

/** The groups of the mixed story, with how many of the jobs each gets (some groups are busy). */
const GROUPS: ReadonlyArray<{ name: string; weight: number; report?: true; fairness?: true }> = [
  { name: 'bench-fraud', weight: 5, report: true, fairness: true },
  { name: 'bench-churn', weight: 3 },
  { name: 'bench-credit', weight: 3, report: true, fairness: true },
  { name: 'bench-ltv', weight: 2 },
  { name: 'bench-risk', weight: 2, fairness: true },
  { name: 'bench-pricing', weight: 1 },
  { name: 'bench-ranking', weight: 1 },
  { name: 'bench-forecast', weight: 1 },
];
const TUNING_GROUP = 'bench-tuning';
/** A person acts on a version after this many more jobs have ended (inclusive range). */
const HUMAN_DELAY_JOBS = [3, 60] as const;

export interface StorySize {
  /** Training jobs of the mixed story (one event each). */
  jobs: number;
  failedJobs: number;
  /** Registrations of the completed jobs' artifacts. */
  registrations: number;
  statusChanges: number;
  /** Model-package events delivered again under a new event id. */
  repeats: number;
  /** Registrations delivered again after their version's newer change. */
  outOfOrder: number;
  /** Share of the completed jobs whose event comes after their versions'. */
  lateJobShare: number;
  /** The tuning job's training jobs (the burst). */
  tuningJobs: number;
  /** Versions registered while their tuning job still trains (they wait for it). */
  tuningWaiting: number;
}

/** 1,000 model-package events (390 + 10 + 330 + 200 + 70) and 200 training-job events, then the burst of 50. */
export const FULL_STORY: StorySize = {
  jobs: 200,
  failedJobs: 20,
  registrations: 390,
  statusChanges: 330,
  repeats: 200,
  outOfOrder: 70,
  lateJobShare: 0.25,
  tuningJobs: 50,
  tuningWaiting: 10,
};

export type Kind = 'job' | 'registration' | 'status-change' | 'repeat' | 'older, late' | 'tuning job';
export interface Invocation {
  fn: FunctionName;
  kind: Kind;
  event: EventBridgeEvent;
}

export interface Story {
  size: StorySize;
  groups: string[];
  /** putPolicy payloads, one per group. */
  policies: unknown[];
  replay: Invocation[];
  burst: Invocation[];
  /** The SageMaker stand-in's state before the tuning job ends (JSON): every level starts from it. */
  sagemakerState: string;
  tuningJobs: Array<{ TrainingJobName: string; FinalMetricDataList: MetricInput[] }>;
}

// ---------------------------------------------------------------------------------------------
// Environment

export interface BenchEnvironment {
  db(): DynamoDbLocalHandle;
  table: string;
  scratch: string;
  sagemaker(): SageMakerProcess;
  sns: SnsStandIn;
  s3: S3StandIn;
  /** While set, every event the SageMaker stand-in emits is handed to it (never to a handler). */
  capture(sink: ((e: EventBridgeEvent) => void) | undefined): void;
  /** Restarts the SageMaker stand-in on its port from a saved state (the handlers' client reconnects). */
  restartSageMaker(state: string): Promise<void>;
  /** The table, created from serverless.yml on a DynamoDB Local of its own (the first time, the one started with the environment). */
  freshTable(): Promise<void>;
  stop(): Promise<void>;
}

/** The SageMaker stand-in in a process of its own (local/sagemaker/main.ts). */
interface SageMakerProcess {
  url: string;
  port: number;
  /** Resolves once no event has come for a moment (each change emits its event right after its answer). */
  drain(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts local/sagemaker/main.ts in its own node process: it answers one request at a time and
 * copies its whole state on each one (to undo a failed operation), and with a state file it also
 * writes the whole state after each change. In this process that work would take the event loop
 * from the handlers (measured: the better part of the CPU of a level) and the timing of every
 * invocation would be the stand-in's; in its own process it costs the handlers only its latency.
 * Its events arrive as JSON lines on stdout.
 */
async function spawnSageMaker(opts: { port?: number; stateFile?: string; onEvent: (e: EventBridgeEvent) => void }): Promise<SageMakerProcess> {
  const args = ['--import', 'tsx', join(REPO_ROOT, 'local', 'sagemaker', 'main.ts'), '--port', String(opts.port ?? 0), '--account', ACCOUNT];
  if (opts.stateFile) args.push('--state', opts.stateFile);
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '--no-warnings' } });
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  let lastEventAt = performance.now();
  createInterface({ input: child.stdout }).on('line', (line) => {
    lastEventAt = performance.now();
    if (line.trim()) opts.onEvent(JSON.parse(line) as EventBridgeEvent);
  });
  const url = await new Promise<string>((resolveUrl, reject) => {
    let err = '';
    const lines = createInterface({ input: child.stderr });
    lines.on('line', (line) => {
      err += `${line}\n`;
      const m = /SageMaker stand-in on (http:\/\/\S+)/.exec(line);
      if (m?.[1]) resolveUrl(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`the SageMaker stand-in exited (${String(code)}):\n${err}`)));
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    url,
    port: Number(new URL(url).port),
    async drain() {
      while (performance.now() - lastEventAt < 300) await new Promise((r) => setTimeout(r, 100));
    },
    async close() {
      process.off('exit', kill);
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * DynamoDB Local, the stand-ins, and the environment the handlers read once (set before any of
 * them is imported). `buckets`: more S3 buckets to create (the sequencer bench's checkpoint bucket).
 */
export async function startBenchEnvironment({ buckets = [], env = {}, table = `bench-${Date.now().toString(36)}` }: { buckets?: string[]; env?: Record<string, string>; table?: string } = {}): Promise<BenchEnvironment> {
  assertJava();
  let db = await startDynamoDbLocal({});
  let used = false;
  const scratch = mkdtempSync(join(tmpdir(), 'modelgate-bench-'));
  // The restarted SageMaker stand-in saves its whole state after every change: in memory if we can.
  const stateDir = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/modelgate-bench-') : join(scratch, 'sagemaker');
  let sink: ((e: EventBridgeEvent) => void) | undefined;
  const onEvent = (e: EventBridgeEvent) => sink?.(e);
  let sagemaker = await spawnSageMaker({ onEvent });
  const sns = await startSnsStandIn({ account: ACCOUNT, topics: ['modelgate-local-reviewers', 'modelgate-local-governance'], print: () => undefined });
  const s3 = await startS3StandIn({ directory: join(scratch, 's3'), buckets: [...new Set([...sampleBuckets(), ARTIFACTS, ...buckets])] });
  Object.assign(process.env, LOCAL_ENV, {
    AWS_ENDPOINT_URL_DYNAMODB: db.endpoint,
    AWS_ENDPOINT_URL_SAGEMAKER: sagemaker.url,
    AWS_ENDPOINT_URL_SNS: sns.url,
    AWS_ENDPOINT_URL_S3: s3.url,
    TABLE_NAME: table,
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    ...env,
  });
  const admin = new DynamoDBClient({});
  let restarts = 0;
  return {
    db: () => db,
    table,
    scratch,
    sagemaker: () => sagemaker,
    sns,
    s3,
    capture: (s) => {
      sink = s;
    },
    async restartSageMaker(state) {
      const port = sagemaker.port;
      await sagemaker.close();
      const stateFile = join(stateDir, `state-${++restarts}.json`);
      writeFileSync(stateFile, state);
      sagemaker = await spawnSageMaker({ port, stateFile, onEvent });
    },
    async freshTable() {
      // A new DynamoDB Local on the same port (the handlers' client keeps its endpoint), not the
      // table deleted and created again: a DynamoDB Local that had served one level served the next
      // several times slower (measured: the concurrency-32 level took 66 s on a new one, 150 s after
      // level 1 and 378 s after levels 1 and 8, its transactions 0.4 s, 1.5 s and 5 s on average).
      if (used) {
        const port = db.port;
        await db.stop();
        for (let attempt = 1; ; attempt++) {
          try {
            db = await startDynamoDbLocal({ port });
            break;
          } catch (e) {
            if (attempt >= 50 || !(e instanceof Error && /already in use/.test(e.message))) throw e;
            await new Promise((r) => setTimeout(r, 100));
          }
        }
      }
      used = true;
      await createTable(admin, table);
    },
    async stop() {
      admin.destroy();
      await Promise.all([db.stop(), sagemaker.close(), sns.close(), s3.close()]);
      rmSync(scratch, { recursive: true, force: true });
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The story

/** mulberry32: the same story on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pad = (n: number, w = 3) => String(n).padStart(w, '0');

function policyFor(group: string, opts: { report?: boolean; fairness?: boolean }) {
  return {
    modelPackageGroupName: group,
    rules: [
      { metric: 'validation:auc', source: 'trainingJob', comparison: '>=', threshold: 0.85 },
      ...(opts.report ? [{ metric: 'binary_classification_metrics.auc', source: 'evaluationReport', comparison: '>=', threshold: 0.84 }] : []),
      ...(opts.fairness ? [{ metric: 'fairness_review', source: 'customerMetadata', comparison: '==', threshold: 1 }] : []),
    ],
    reviewers: [...REVIEWERS],
    requiredApprovals: 2,
    allowSelfApproval: false,
    reviewLifetimeHours: 72,
    reminderAfterHours: 24,
    changedBy: 'arn:aws:sts::123456789012:assumed-role/PlatformAdmin/asmith',
    reason: 'contention bench',
  };
}

/** What SageMaker is asked to create a training job with (the sample job's shape). */
function trainingJobInput(name: string, group: string, i: number) {
  const snapshot = `s3://${DATASETS}/${group}/snapshot-${i % 4}`;
  const channel = (ChannelName: string) => ({
    ChannelName,
    DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: `${snapshot}/${ChannelName}/`, S3DataDistributionType: 'FullyReplicated' } },
    ContentType: 'text/csv',
    CompressionType: 'None',
    RecordWrapperType: 'None',
  });
  return {
    TrainingJobName: name,
    AlgorithmSpecification: { TrainingImage: IMAGE, TrainingInputMode: 'File' },
    RoleArn: ROLE,
    InputDataConfig: [channel('train'), channel('validation')],
    OutputDataConfig: { KmsKeyId: '', S3OutputPath: `s3://${ARTIFACTS}/${group}/training` },
    ResourceConfig: { InstanceType: 'ml.m5.xlarge', InstanceCount: 1, VolumeSizeInGB: 30 },
    StoppingCondition: { MaxRuntimeInSeconds: 3600 },
    HyperParameters: { max_depth: String(3 + (i % 6)), eta: '0.2', objective: 'binary:logistic', num_round: String(100 + (i % 5) * 50) },
    Tags: [
      { Key: 'team', Value: `${group}-ml` },
      // The Studio user who trained it (trainedBy): on half the jobs, as SageMaker adds it.
      ...(i % 2 === 0 ? [{ Key: 'sagemaker:user-profile-arn', Value: `arn:aws:sagemaker:us-east-1:${ACCOUNT}:user-profile/d-bench/trainer-${i % 5}` }] : []),
    ],
  };
}

const artifactOf = (group: string, job: string) => `s3://${ARTIFACTS}/${group}/training/${job}/output/model.tar.gz`;

/**
 * Creates the story in the SageMaker stand-in (and the evaluation reports in S3), in the order a
 * day of SageMaker would emit it, captures the events it emits, and arranges the replay: late
 * job events, repeats and older events delivered late. Needs the environment (for the endpoints).
 */
export async function buildStory(env: BenchEnvironment, size: StorySize = FULL_STORY): Promise<Story> {
  const rand = prng(9);
  const as = (accessKeyId: string) => new SageMakerClient({ credentials: { accessKeyId, secretAccessKey: 'local' } });
  const pipeline = as('ml-pipeline');
  const console_ = { approver: as('alice'), rejecter: as('bob') };
  const s3 = new S3Client({ forcePathStyle: true });
  const captured: EventBridgeEvent[] = [];
  env.capture((e) => captured.push(e));

  const groups = [...GROUPS.map((g) => g.name), TUNING_GROUP];
  for (const g of groups) await pipeline.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: g }));
  const policies = [...GROUPS.map((g) => policyFor(g.name, { report: g.report ?? false, fairness: g.fairness ?? false })), policyFor(TUNING_GROUP, {})];

  // The jobs, spread over the groups by weight.
  const weights = GROUPS.flatMap((g) => Array.from({ length: g.weight }, () => g));
  const jobs = Array.from({ length: size.jobs }, (_, i) => {
    const g = weights[i % weights.length] ?? GROUPS[0];
    if (!g) throw new Error('no group');
    const failed = i % Math.round(size.jobs / size.failedJobs) === Math.round(size.jobs / size.failedJobs) - 1;
    return { i, group: g, name: `${g.name}-job-${pad(i)}`, failed, auc: Math.round((0.78 + 0.17 * rand()) * 1000) / 1000 };
  });
  const tuning = Array.from({ length: size.tuningJobs }, (_, i) => ({ name: `${TUNING_GROUP}-hpo-${pad(i)}`, auc: Math.round((0.8 + 0.15 * rand()) * 1000) / 1000 }));
  for (const j of jobs) await pipeline.send(new CreateTrainingJobCommand(trainingJobInput(j.name, j.group.name, j.i) as never));
  for (const [i, t] of tuning.entries()) await pipeline.send(new CreateTrainingJobCommand(trainingJobInput(t.name, TUNING_GROUP, i) as never));

  // Versions per completed job: 1, 2 or 3, adding up to `registrations`.
  const completed = jobs.filter((j) => !j.failed);
  const versionsOf = new Map(completed.map((j) => [j.name, 1]));
  for (let extra = size.registrations - completed.length; extra > 0; ) {
    const j = completed[Math.floor(rand() * completed.length)];
    if (!j || (versionsOf.get(j.name) ?? 0) >= 3) continue;
    versionsOf.set(j.name, (versionsOf.get(j.name) ?? 0) + 1);
    extra--;
  }
  // Which versions (by registration order) get a status change, and which.
  const changeOf = new Map<number, 'approved-in-console' | 'rejected' | 'metadata'>();
  const changeKinds = ['approved-in-console', 'rejected', 'metadata'] as const;
  const shares = [120, 110, 100];
  const total = shares.reduce((a, b) => a + b, 0);
  while (changeOf.size < Math.min(size.statusChanges, size.registrations)) {
    const v = Math.floor(rand() * size.registrations);
    if (changeOf.has(v)) continue;
    let r = rand() * total;
    let k = 0;
    while (k < shares.length - 1 && r >= (shares[k] ?? 0)) r -= shares[k++] ?? 0;
    changeOf.set(v, changeKinds[k] ?? 'metadata');
  }

  const registered: Array<{ arn: string; n: number }> = [];
  const register = async (group: { name: string; report?: true; fairness?: true }, job: string, auc: number, n: number) => {
    const input: CreateModelPackageCommandInput = {
      ModelPackageGroupName: group.name,
      ModelPackageDescription: `${job}, registration ${n}`,
      InferenceSpecification: {
        Containers: [{ Image: IMAGE, ModelDataUrl: artifactOf(group.name, job) }],
        SupportedContentTypes: ['text/csv'],
        SupportedResponseMIMETypes: ['text/csv'],
      },
      MetadataProperties: { GeneratedBy: `arn:aws:sagemaker:us-east-1:${ACCOUNT}:pipeline/${group.name}-train/execution/${job}` },
      // Most versions carry their fairness review; some of the groups that require it miss it.
      CustomerMetadataProperties: { intended_use: 'bench', fairness_review: group.fairness && rand() < 0.15 ? '0' : '1' },
    };
    if (group.report) {
      // The job's evaluation report, with its digest (the gate checks it).
      const key = `${group.name}/evaluation/${job}/evaluation.json`;
      const body = JSON.stringify({ binary_classification_metrics: { auc: { value: Math.round((auc - 0.005) * 1000) / 1000 } } });
      await s3.send(new PutObjectCommand({ Bucket: ARTIFACTS, Key: key, Body: body, ContentType: 'application/json' }));
      const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
      input.ModelMetrics = { ModelQuality: { Statistics: { ContentType: 'application/json', S3Uri: `s3://${ARTIFACTS}/${key}`, ContentDigest: digest } } };
    }
    const out = await pipeline.send(new CreateModelPackageCommand(input));
    if (!out.ModelPackageArn) throw new Error('CreateModelPackage returned no ARN');
    return out.ModelPackageArn;
  };
  const change = async (v: { arn: string; n: number }) => {
    const kind = changeOf.get(v.n);
    if (kind === 'approved-in-console') await console_.approver.send(new UpdateModelPackageCommand({ ModelPackageArn: v.arn, ModelApprovalStatus: 'Approved' }));
    if (kind === 'rejected') await console_.rejecter.send(new UpdateModelPackageCommand({ ModelPackageArn: v.arn, ModelApprovalStatus: 'Rejected', ApprovalDescription: 'not for production' }));
    if (kind === 'metadata') await pipeline.send(new UpdateModelPackageCommand({ ModelPackageArn: v.arn, CustomerMetadataProperties: { notes: 'data sheet reviewed' } }));
  };

  // The day: each job ends and its versions are registered right away (the pipeline's next step).
  // People act later: a console approval, a rejection or a metadata edit of a version comes after
  // 3 to 60 more jobs have ended (a few to a few hundred events later), or at the end of the day.
  const due = new Map<number, Array<{ arn: string; n: number }>>();
  for (const [k, j] of jobs.entries()) {
    if (j.failed) {
      await failTrainingJob(env.sagemaker().url, { TrainingJobName: j.name, FailureReason: 'AlgorithmError: out of memory' });
    } else {
      await completeTrainingJob(env.sagemaker().url, {
        TrainingJobName: j.name,
        FinalMetricDataList: [
          { MetricName: 'validation:auc', Value: j.auc },
          { MetricName: 'train:auc', Value: Math.min(0.999, j.auc + 0.02) },
        ],
      });
    }
    for (let c = 0; c < (versionsOf.get(j.name) ?? 0); c++) {
      const n = registered.length;
      const v = { arn: await register(j.group, j.name, j.auc, c + 1), n };
      registered.push(v);
      if (changeOf.has(n)) {
        const at = Math.min(jobs.length, k + HUMAN_DELAY_JOBS[0] + Math.floor(rand() * (HUMAN_DELAY_JOBS[1] - HUMAN_DELAY_JOBS[0] + 1)));
        due.set(at, [...(due.get(at) ?? []), v]);
      }
    }
    if (k === Math.floor(jobs.length / 2)) {
      // Versions of the tuning job's models, registered while their jobs still train.
      for (const t of tuning.slice(0, size.tuningWaiting)) await register({ name: TUNING_GROUP }, t.name, t.auc, 1);
    }
    for (const v of due.get(k) ?? []) await change(v);
  }
  for (const v of due.get(jobs.length) ?? []) await change(v);
  await env.sagemaker().drain();

  const sagemakerState = await (await fetch(`${env.sagemaker().url}/_local/state`)).text();
  const tuningJobs = tuning.map((t) => ({
    TrainingJobName: t.name,
    FinalMetricDataList: [
      { MetricName: 'validation:auc', Value: t.auc },
      { MetricName: 'train:auc', Value: Math.min(0.999, t.auc + 0.02) },
    ],
  }));
  // The tuning job ends: its events are the burst (each level completes the jobs again, from the saved state).
  const beforeBurst = captured.length;
  for (const t of tuningJobs) await completeTrainingJob(env.sagemaker().url, t);
  await env.sagemaker().drain();
  env.capture(undefined);
  for (const c of [pipeline, console_.approver, console_.rejecter]) c.destroy();
  s3.destroy();

  const rules = rulesFromServerlessYml(REPO_ROOT, 'local');
  const route = (e: EventBridgeEvent): FunctionName | undefined => {
    const rule = rules.find((r) => matches(r.pattern, e));
    const fn = rule?.functionName.replace(/^modelgate-local-/, '');
    return fn === 'onTrainingJobStateChange' || fn === 'onModelPackageStateChange' ? fn : undefined;
  };
  const burst = captured.slice(beforeBurst).flatMap((event): Invocation[] => {
    const fn = route(event);
    return fn ? [{ fn, kind: 'tuning job', event }] : [];
  });
  const replay = arrange(captured.slice(0, beforeBurst), route, size, rand);
  return { size, groups, policies, replay, burst, sagemakerState, tuningJobs };
}

/**
 * The replay order: SageMaker's own order, with a quarter of the job events moved after their
 * versions' registrations, repeats under new event ids inserted behind their originals (half right
 * behind, half later), and registrations delivered again after their version's newer change.
 */
function arrange(events: EventBridgeEvent[], route: (e: EventBridgeEvent) => FunctionName | undefined, size: StorySize, rand: () => number): Invocation[] {
  const placed: Array<Invocation & { at: number }> = [];
  const seen = new Set<string>();
  const registrationAt = new Map<string, number>();
  const lastRegistrationOfArtifact = new Map<string, number>();
  for (const event of events) {
    const fn = route(event);
    if (!fn) continue;
    const at = placed.length;
    if (fn === 'onTrainingJobStateChange') {
      placed.push({ fn, kind: 'job', event, at });
      continue;
    }
    const arn = String(event.detail['ModelPackageArn']);
    const kind: Kind = seen.has(arn) ? 'status-change' : 'registration';
    seen.add(arn);
    placed.push({ fn, kind, event, at });
    if (kind === 'registration') {
      registrationAt.set(arn, at);
      const artifact = (event.detail['InferenceSpecification'] as { Containers?: Array<{ ModelDataUrl?: string }> } | undefined)?.Containers?.[0]?.ModelDataUrl;
      if (artifact) lastRegistrationOfArtifact.set(artifact, at);
    }
  }
  let copies = 0;
  const copy = (i: Invocation, label: string): EventBridgeEvent => ({ ...structuredClone(i.event), id: `bench-${label}-${pad(++copies, 4)}` });

  // Late job events: after the last registration of their artifact.
  const completedJobs = placed.filter((p) => p.kind === 'job' && p.event.detail['TrainingJobStatus'] === 'Completed');
  for (const p of completedJobs) {
    const artifact = (p.event.detail['ModelArtifacts'] as { S3ModelArtifacts?: string } | undefined)?.S3ModelArtifacts;
    const last = artifact ? lastRegistrationOfArtifact.get(artifact) : undefined;
    if (last !== undefined && rand() < size.lateJobShare) p.at = last + 0.3 + rand() * 3;
  }
  const packages = placed.filter((p) => p.kind === 'registration' || p.kind === 'status-change');
  const extra: Array<Invocation & { at: number }> = [];
  for (let r = 0; r < size.repeats; r++) {
    const p = packages[Math.floor(rand() * packages.length)];
    if (!p) break;
    const behind = rand() < 0.5 ? rand() * 4 : 4 + rand() * 40;
    extra.push({ fn: p.fn, kind: 'repeat', event: copy(p, 'repeat'), at: p.at + 0.1 + behind });
  }
  const changes = packages.filter((p) => p.kind === 'status-change');
  for (let r = 0; r < size.outOfOrder && changes.length > 0; r++) {
    const p = changes.splice(Math.floor(rand() * changes.length), 1)[0];
    const reg = p ? registrationAt.get(String(p.event.detail['ModelPackageArn'])) : undefined;
    const original = reg === undefined ? undefined : placed[reg];
    if (!p || !original) continue;
    extra.push({ fn: original.fn, kind: 'older, late', event: copy(original, 'older-late'), at: p.at + 0.2 + rand() * 20 });
  }
  return [...placed, ...extra].sort((a, b) => a.at - b.at).map(({ fn, kind, event }) => ({ fn, kind, event }));
}

// ---------------------------------------------------------------------------------------------
// Counting

/** What one invocation (or one review POST) sent. */
interface Trace {
  requests: number;
  cancelled: number;
  /** The last write was cancelled or refused: the next read re-plans it. */
  replanning: boolean;
}

export interface Counts {
  requests: number;
  byCommand: Map<string, number>;
  cancelled: number;
  /** ConditionalCheckFailedException of single-item writes (settling or claiming side effects). */
  refused: number;
  /** Reads that directly follow a cancelled or refused write of the same invocation (re-planning it). */
  rereads: number;
  /** What the cancelled transactions' reasons and the refused writes name: `<item> <code>`. */
  collisions: Map<string, number>;
  /** Cancelled transactions by the kind of invocation that sent them. */
  cancelledBy: Map<string, number>;
  /** Milliseconds spent waiting for DynamoDB, by command, and for SageMaker, by operation (`SageMaker <op>`). */
  waitMs: Map<string, number>;
  /** SageMaker calls by operation. */
  sagemaker: Map<string, number>;
  /** Requests (DynamoDB or SageMaker) that failed for another reason than a condition. */
  requestErrors: Map<string, number>;
}

export const newCounts = (): Counts => ({ requests: 0, byCommand: new Map(), cancelled: 0, refused: 0, rereads: 0, collisions: new Map(), cancelledBy: new Map(), waitMs: new Map(), sagemaker: new Map(), requestErrors: new Map() });
const bump = (m: Map<string, number>, k: string, n = 1) => m.set(k, (m.get(k) ?? 0) + n);

const context = new AsyncLocalStorage<{ counts: Counts; trace: Trace; kind: string }>();

/** The kind of item a key is (keys.ts). */
function itemKind(key: Record<string, unknown> | undefined): string {
  const text = (v: unknown) => (typeof v === 'string' ? v : typeof v === 'object' && v !== null && 'S' in v ? String((v as { S: unknown }).S) : '');
  const pk = text(key?.['PK']);
  const sk = text(key?.['SK']);
  if (pk.startsWith('GROUP#')) {
    if (sk.startsWith('VERSION#')) return 'version';
    if (sk.startsWith('REVIEW#')) return 'review';
    if (sk.startsWith('POLICY#')) return 'policy';
    if (sk.startsWith('VINPUT#')) return 'version dataset edge';
  }
  if (pk.startsWith('JOB#')) return sk === 'JOB' ? 'job' : 'job dataset edge';
  if (pk.startsWith('ARTIFACT#')) return 'artifact node';
  if (pk.startsWith('LINK#')) return 'review link';
  if (pk.startsWith('AUDIT#')) return 'audit entry';
  if (pk.startsWith('MLOG')) return 'log';
  if (pk.startsWith('REVIEWER#')) return 'reviewer';
  return pk.split('#')[0] || 'item';
}

type Op = { Item?: Record<string, unknown>; Key?: Record<string, unknown> };
const READS = new Set(['GetItem', 'BatchGetItem', 'Query']);

let installed = false;
/**
 * Counts what the handlers send on the shared document client (the one every handler's store
 * uses, one per cold start). Only requests made inside `counted(...)` are counted.
 */
export async function installCounter(): Promise<void> {
  if (installed) return;
  installed = true;
  const { clients } = await import('../shared/aws/clients.js');
  clients.dynamo().middlewareStack.add(
    (next, ctx) => async (args) => {
      const here = context.getStore();
      if (!here) return next(args);
      const command = (ctx.commandName ?? '?').replace(/Command$/, '');
      here.counts.requests++;
      here.trace.requests++;
      bump(here.counts.byCommand, command);
      if (here.trace.replanning && READS.has(command)) here.counts.rereads++;
      here.trace.replanning = false;
      const t0 = performance.now();
      try {
        return await next(args);
      } catch (e) {
        const input = args.input as { TransactItems?: Array<Record<string, Op>>; Key?: Record<string, unknown> };
        if (e instanceof Error && e.name === 'TransactionCanceledException') {
          here.counts.cancelled++;
          here.trace.cancelled++;
          here.trace.replanning = true;
          bump(here.counts.cancelledBy, here.kind);
          const reasons = (e as { CancellationReasons?: Array<{ Code?: string }> }).CancellationReasons ?? [];
          reasons.forEach((r, i) => {
            if (!r.Code || r.Code === 'None') return;
            const op = Object.values(input.TransactItems?.[i] ?? {})[0];
            bump(here.counts.collisions, `${itemKind(op?.Item ?? op?.Key)} ${r.Code}`);
          });
        } else if (e instanceof Error && e.name === 'ConditionalCheckFailedException') {
          here.counts.refused++;
          here.trace.replanning = true;
          bump(here.counts.collisions, `${itemKind(input.Key)} ConditionalCheckFailed (${command})`);
        } else {
          bump(here.counts.requestErrors, `${command} ${e instanceof Error ? `${e.name}: ${e.message.slice(0, 100)}` : String(e)}`);
        }
        throw e;
      } finally {
        bump(here.counts.waitMs, command, performance.now() - t0);
      }
    },
    { step: 'initialize', name: 'benchContention' },
  );
  // SageMaker is not counted in the requests; its calls and their time show where a level's time goes.
  clients.sagemaker().middlewareStack.add(
    (next, ctx) => async (args) => {
      const here = context.getStore();
      if (!here) return next(args);
      const op = `SageMaker ${(ctx.commandName ?? '?').replace(/Command$/, '')}`;
      bump(here.counts.sagemaker, op);
      const t0 = performance.now();
      try {
        return await next(args);
      } catch (e) {
        bump(here.counts.requestErrors, `${op} ${e instanceof Error ? `${e.name}: ${e.message.slice(0, 100)}` : String(e)}`);
        throw e;
      } finally {
        bump(here.counts.waitMs, op, performance.now() - t0);
      }
    },
    { step: 'initialize', name: 'benchContentionSageMaker' },
  );
}

/** Runs `work` with its DynamoDB requests counted into `counts`. */
export function counted<T>(counts: Counts, kind: string, work: () => Promise<T>): Promise<T> {
  return context.run({ counts, trace: { requests: 0, cancelled: 0, replanning: false }, kind }, work);
}

/** At most `width` at a time, in order. */
async function pool<T>(items: readonly T[], width: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) {
      const item = items[i];
      if (item !== undefined) await run(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(width, items.length)) }, worker));
}

// ---------------------------------------------------------------------------------------------
// A level

export interface LevelResult {
  concurrency: number;
  counts: Counts;
  invocations: number;
  failed: number;
  errors: Map<string, number>;
  outcomes: Map<string, number>;
  ms: number;
}

type Handlers = Awaited<ReturnType<typeof loadHandlers>>;

/**
 * One level: the SageMaker stand-in from the story's saved state, a fresh table, the policies,
 * then the replay through `concurrency` workers, then the tuning job ends and its events are
 * invoked together (one at a time at concurrency 1, which is the floor).
 */
export async function runLevel(
  env: BenchEnvironment,
  story: Story,
  handlers: Handlers,
  concurrency: number,
  { burst = true, beforeReplay }: { burst?: boolean; beforeReplay?: () => Promise<void> } = {},
): Promise<LevelResult> {
  await env.restartSageMaker(story.sagemakerState);
  await env.freshTable();
  await beforeReplay?.();
  for (const p of story.policies) await handlers.putPolicy(p, fakeContext('putPolicy'));
  const result: LevelResult = { concurrency, counts: newCounts(), invocations: 0, failed: 0, errors: new Map(), outcomes: new Map(), ms: 0 };
  const invoke = async (inv: Invocation) => {
    result.invocations++;
    try {
      const out = (await counted(result.counts, inv.kind, () => handlers[inv.fn](structuredClone(inv.event), fakeContext(inv.fn)))) as { outcome?: string };
      bump(result.outcomes, `${inv.kind}: ${out.outcome ?? 'ok'}`);
    } catch (e) {
      result.failed++;
      const err = e instanceof Error ? e : new Error(String(e));
      bump(result.errors, `${inv.kind}: ${err.name}: ${err.message.slice(0, 160)}`);
    }
  };
  const t0 = performance.now();
  // BENCH_PROGRESS=1: a line on stderr every 10 s (to see a level that stalls).
  const progress = process.env.BENCH_PROGRESS
    ? setInterval(() => console.error(`  … concurrency ${concurrency}: ${result.invocations} started, ${result.counts.requests} requests, ${result.counts.cancelled} cancelled, ${((performance.now() - t0) / 1000).toFixed(0)} s`), 10_000)
    : undefined;
  await pool(story.replay, concurrency, invoke);
  if (burst) {
    // SageMaker has the jobs Completed (with their metrics) before their events go out.
    for (const t of story.tuningJobs) await completeTrainingJob(env.sagemaker().url, t);
    await pool(story.burst, concurrency === 1 ? 1 : story.burst.length, invoke);
  }
  result.ms = performance.now() - t0;
  if (progress) clearInterval(progress);
  return result;
}

// ---------------------------------------------------------------------------------------------
// Review POSTs

/**
 * Both reviewers of REVIEW_POSTS / 2 open reviews vote (approve) at the same time, through the
 * review handler: 2 concurrent votes per review item, several reviews per group. Returns the
 * status codes, how many reviews are decided afterwards, and what was sent.
 */
async function benchReviewPosts(): Promise<{ statuses: Map<string, number>; decided: number; reviews: number; groups: number; counts: Counts; ms: number }> {
  const { handler: review } = (await import('../functions/review/handler.js')) as { handler: (e: unknown, c: unknown) => Promise<{ statusCode?: number }> };
  const { LOCAL_KEY_RING } = await import('../shared/aws/signing-keys.js');
  const { signReviewToken } = await import('../shared/domain/token.js');
  const { productionDeps } = await import('../shared/wiring.js');
  type Review = ReviewRequest;
  const store = productionDeps().store;
  const open: Review[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listOpenReviews({ limit: 100, ...(cursor ? { cursor } : {}) });
    open.push(...page.items.filter((r) => Object.keys(r.votes ?? {}).length === 0 && REVIEWERS.every((x) => r.links[x])));
    cursor = page.cursor;
  } while (cursor);
  // Round robin over the groups, so that each group gets several reviews voted on at once.
  const byGroup = new Map<string, Review[]>();
  for (const r of open) byGroup.set(r.group, [...(byGroup.get(r.group) ?? []), r]);
  const chosen: Review[] = [];
  for (let round = 0; chosen.length < REVIEW_POSTS / 2 && round < open.length; round++) {
    for (const rs of byGroup.values()) if (rs[round] && chosen.length < REVIEW_POSTS / 2) chosen.push(rs[round] as Review);
  }
  const request = (token: string) => ({
    version: '2.0',
    routeKey: 'POST /reviews/{token}',
    rawPath: `/reviews/${token}`,
    rawQueryString: '',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    pathParameters: { token },
    requestContext: { http: { method: 'POST', path: `/reviews/${token}`, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bench' } },
    isBase64Encoded: false,
    body: 'decision=approve&comment=ok',
  });
  const counts = newCounts();
  const statuses = new Map<string, number>();
  const t0 = performance.now();
  await Promise.all(
    chosen.flatMap((r) =>
      REVIEWERS.map(async (reviewer) => {
        const token = signReviewToken(
          { linkId: r.links[reviewer] ?? '', reviewId: r.id, modelPackageArn: r.modelPackageArn, version: r.version, reviewer, expiresAt: Math.floor(Date.parse(r.expiresAt) / 1000) },
          LOCAL_KEY_RING.current,
        );
        try {
          const res = await counted(counts, 'review POST', () => review(request(token), fakeContext('review')));
          bump(statuses, String(res.statusCode ?? '?'));
        } catch (e) {
          // A throw would reach API Gateway as a 500.
          bump(statuses, `500 (threw ${e instanceof Error ? e.name : 'error'})`);
        }
      }),
    ),
  );
  const ms = performance.now() - t0;
  let decided = 0;
  for (const r of chosen) if ((await store.getVersion({ group: r.group, version: r.version }))?.decision?.outcome === 'Approved') decided++;
  return { statuses, decided, reviews: chosen.length, groups: new Set(chosen.map((r) => r.group)).size, counts, ms };
}

// ---------------------------------------------------------------------------------------------
// Printing

const n = (x: number) => x.toLocaleString('en');
const describeMap = (m: Map<string, number>, limit = 8) =>
  [...m.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ') || 'none';

/** Requests by command over the floor's (commands whose count is not above the floor's are left out). */
function overFloor(level: Counts, floor: Counts): string {
  const out: string[] = [];
  for (const [command, count] of [...level.byCommand.entries()].sort()) {
    const d = count - (floor.byCommand.get(command) ?? 0);
    if (d !== 0) out.push(`${command} ${d > 0 ? '+' : ''}${d}`);
  }
  return out.join(', ') || 'none';
}

function details(r: LevelResult, floor: LevelResult | undefined): string[] {
  return [
    `  concurrency ${r.concurrency}: ${(r.ms / 1000).toFixed(1)} s for ${n(r.invocations)} invocations; over the floor: ${floor ? overFloor(r.counts, floor.counts) : 'n/a'}`,
    `    ${r.counts.cancelled} cancelled transactions + ${r.counts.refused} refused single writes + ${r.counts.rereads} reads re-planning them = ${r.counts.cancelled + r.counts.refused + r.counts.rereads} requests` +
      (floor ? ` of the ${r.counts.requests - floor.counts.requests} over the floor` : ''),
    `    collided on: ${describeMap(r.counts.collisions)}; cancelled by invocation: ${describeMap(r.counts.cancelledBy)}`,
    `    mean wait per call, ms: ${[...r.counts.waitMs.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([k, ms]) => `${k} ${(ms / (r.counts.byCommand.get(k) ?? r.counts.sagemaker.get(k) ?? 1)).toFixed(1)} (${r.counts.byCommand.get(k) ?? r.counts.sagemaker.get(k) ?? 0})`)
      .join(', ')}`,
    ...(r.errors.size > 0 ? [`    failures: ${describeMap(r.errors, 5)}`] : []),
    // middy ends an invocation 5 ms before the deadline that the (fake) Lambda context gives: 30 s, serverless.yml's timeout.
    ...([...r.errors.keys()].some((k) => k.includes('TimeoutError')) ? ['    (TimeoutError: the invocation ran into its 30 s Lambda timeout; middy stopped it, as Lambda would)'] : []),
    ...(r.counts.requestErrors.size > 0 ? [`    requests that failed: ${describeMap(r.counts.requestErrors, 5)}`] : []),
  ];
}

async function main(): Promise<void> {
  const wall = performance.now();
  const env = await startBenchEnvironment();
  try {
    const t0 = performance.now();
    const story = await buildStory(env);
    const seedMs = performance.now() - t0;
    const handlers = await loadHandlers();
    await installCounter();
    const kinds = new Map<string, number>();
    for (const i of story.replay) bump(kinds, i.fn === 'onTrainingJobStateChange' ? 'training-job' : 'model-package');
    console.log(
      `\nContention: the mixed story, ${n(kinds.get('model-package') ?? 0)} model-package and ${n(kinds.get('training-job') ?? 0)} training-job events over ${GROUPS.length + 1} groups ` +
        `(registrations, status changes, repeats under new event ids, older events late, versions before their job), then a tuning job's ${story.burst.length} Completed events at once; ` +
        `real handlers in this process, a fresh DynamoDB Local table per level (story built in ${(seedMs / 1000).toFixed(1)} s)`,
    );
    const results: LevelResult[] = [];
    let floor: LevelResult | undefined;
    // BENCH_LEVELS=8,32 runs only those (no floor then: the ratio is against the first level run).
    const levels = process.env.BENCH_LEVELS ? process.env.BENCH_LEVELS.split(',').map(Number) : [...LEVELS];
    for (const level of levels) {
      const r = await runLevel(env, story, handlers, level);
      results.push(r);
      if (level === 1) {
        floor = r;
        console.log(
          `floor: ${n(r.counts.requests)} requests = the same events one at a time on a fresh table (the concurrency-1 replay, burst included: nothing overlaps, so nothing can conflict)` +
            (r.counts.cancelled + r.counts.refused > 0 ? `; WARNING: it had ${r.counts.cancelled} cancelled and ${r.counts.refused} refused writes, so it is not conflict-free` : ''),
        );
      }
      const base = floor?.counts.requests ?? r.counts.requests;
      console.log(`concurrency ${level}: ${r.counts.requests} requests, ${(r.counts.requests / base).toFixed(2)}x floor, ${r.failed} failed, ${r.counts.cancelled} cancelled`);
      if (process.env.BENCH_PROGRESS) for (const line of details(r, floor)) console.error(line);
    }
    const posts = await benchReviewPosts();
    const answered500 = [...posts.statuses.entries()].filter(([s]) => s.startsWith('500')).reduce((a, [, v]) => a + v, 0);
    console.log(
      `review posts: ${REVIEW_POSTS} concurrent, ${answered500} answered 500 (both reviewers of ${posts.reviews} open reviews in ${posts.groups} groups at once: ` +
        `status ${describeMap(posts.statuses)}; ${posts.decided} of ${posts.reviews} reviews decided; ${posts.counts.requests} requests, ${posts.counts.cancelled} cancelled; ${(posts.ms / 1000).toFixed(1)} s)`,
    );

    console.log('\nDetails per level (wall time; requests over the floor by command; what cancelled transactions and refused writes collided on):');
    for (const r of results) for (const line of details(r, floor)) console.log(line);
    if (floor) console.log(`  outcomes at concurrency 1: ${describeMap(floor.outcomes, 30)}`);
    console.log(`\nContention bench: ${((performance.now() - wall) / 1000).toFixed(0)} s in all`);
  } finally {
    await env.stop();
  }
}

if (process.argv[1] && pathToFileURL(resolve(process.argv[1])).href === import.meta.url) {
  await main();
  process.exit(0);
}
