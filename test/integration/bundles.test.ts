/**
 * What Lambda runs is what is tested: the deployable stage is packaged once (`serverless package
 * --stage dev`, as `serverless deploy` would), every function's zip is taken apart, and its `.mjs`
 * bundle is loaded and invoked in a process of its own, by a stand-in for Lambda's Node.js runtime
 * (test/support/lambda-runtime.mjs), with the environment the CloudFormation template gives it
 * (STAGE dev, the signing-key parameter, INFO logs; minified, no source map in the zip, none loaded).
 *
 * The bundles carry their own AWS SDK, so nothing is mocked: their clients reach DynamoDB Local
 * (AWS_ENDPOINT_URL_DYNAMODB, from the jest global setup), the SageMaker, SNS and S3 stand-ins of
 * local/, an SSM stand-in with the stage's signing keys and a KMS stand-in with the checkpoint key
 * (test/support/lambda-bundles.ts) through the standard
 * AWS_ENDPOINT_URL_<SERVICE> variables. The review page is reached through scripts/review-server.ts,
 * which turns HTTP requests into API Gateway's events, as the HTTP API would.
 *
 * The tests below form one story, in order (the sample events of events/): a policy, three
 * training jobs, two versions (one opens a review, one is rejected), the review page, reviewers,
 * the sweep, the audit log (sequenced, checkpointed with KMS, proved, verified, exported and
 * checked offline), and the operators' and auditors' questions.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  CreateModelPackageCommand,
  CreateModelPackageGroupCommand,
  CreateTrainingJobCommand,
  DescribeModelPackageCommand,
  SageMakerClient,
  type CreateTrainingJobCommandInput,
} from '@aws-sdk/client-sagemaker';
import { ListSubscriptionsByTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { startSageMakerStandIn, type EventBridgeEvent, type SageMakerStandIn } from '../../local/sagemaker/server.js';
import { completeTrainingJob, failTrainingJob } from '../../local/sagemaker/seed.js';
import { startSnsStandIn, type SnsStandIn } from '../../local/sns/server.js';
import { startS3StandIn, type S3StandIn } from '../../local/s3/server.js';
import { sampleBuckets, seedSampleReports } from '../../local/seed.js';
import { startReviewServer, type ReviewServer } from '../../scripts/review-server.js';
import { startLocalOidcProvider, type LocalOidcProvider } from '../../local/oidc/provider.js';
import { signIn } from '../support/oidc-login.js';
import { verifyReviewToken, type KeyRing } from '../../shared/domain/token.js';
import { localEndpoint, newTable, type TestTable } from '../support/dynamo.js';
import {
  REPO,
  lambdaFunctions,
  packageStage,
  resolveVariables,
  startFunction,
  startSsmStandIn,
  unzipTo,
  type Invocation,
  type LambdaFunctionSpec,
  type PackagedStage,
  type RunningFunction,
  type SsmStandIn,
  startKmsStandIn,
  type KmsStandIn,
  ORGANISATION_PARAMS,
} from '../support/lambda-bundles.js';

const STAGE = 'dev';
const ACCOUNT = '123456789012';
const GROUP = 'fraud-detector';
const ARN = (v: number) => `arn:aws:sagemaker:us-east-1:${ACCOUNT}:model-package/${GROUP}/${v}`;
const RISK = 'risk-officer@acme-bank.example';
const LEAD = 'ml-lead@acme-bank.example';
const NEW_REVIEWER = 'model-risk@acme-bank.example';
const JOB = { failed: 'fraud-xgb-2026-11-27-08-01-33-250', good: 'fraud-xgb-2026-11-27-09-14-05-412', weak: 'fraud-xgb-2026-11-27-11-02-47-903' };
const SIGNING_KEY_PARAMETER = `/modelgate/${STAGE}/review-signing-keys`;
const TIMEOUT = 30_000;

/** The 22 functions of serverless.yml (issue 9 added the audit log's sequencer, checkpoints and export; issue 10 reissueLink and reopenReview; issue 11 the deployment recorder and its listing). */
const FUNCTIONS = [
  'addReviewer',
  'checkpointAuditLog',
  'datasetImpact',
  'exportAuditTrail',
  'exportModelCard',
  'getAuditTrail',
  'getLineage',
  'getPolicy',
  'listPendingReviews',
  'listUnapprovedDeployments',
  'onEndpointStateChange',
  'onModelPackageStateChange',
  'onTrainingJobStateChange',
  'putPolicy',
  'reconcile',
  'reissueLink',
  'removeReviewer',
  'reopenReview',
  'review',
  'sequenceAuditLog',
  'sweepReviews',
  'verifyAuditTrail',
];

/**
 * The AWS SDK clients each function's wiring builds (functions/<fn>/handler.ts, shared/wire/):
 * getPolicy, for one, reads the table and holds no SageMaker, SNS, S3, SSM or KMS client.
 */
const SDK_CLIENTS_OF: Record<string, string[]> = {
  addReviewer: ['dynamodb', 'sns', 'ssm'],
  checkpointAuditLog: ['dynamodb', 'kms', 's3'],
  datasetImpact: ['dynamodb', 'sagemaker', 'sns'],
  exportAuditTrail: ['dynamodb', 'kms', 's3'],
  exportModelCard: ['dynamodb', 'sagemaker'],
  getAuditTrail: ['dynamodb'],
  getLineage: ['dynamodb'],
  getPolicy: ['dynamodb'],
  listPendingReviews: ['dynamodb'],
  listUnapprovedDeployments: ['dynamodb'],
  onEndpointStateChange: ['dynamodb', 'sagemaker', 'sns'],
  onModelPackageStateChange: ['dynamodb', 's3', 'sagemaker', 'sns', 'ssm'],
  onTrainingJobStateChange: ['dynamodb', 's3', 'sagemaker', 'sns', 'ssm'],
  putPolicy: ['dynamodb', 'sns'],
  reconcile: ['dynamodb', 's3', 'sagemaker', 'sns', 'ssm'],
  reissueLink: ['dynamodb', 'sns', 'ssm'],
  removeReviewer: ['dynamodb', 'sns'],
  reopenReview: ['dynamodb', 'sns', 'ssm'],
  review: ['dynamodb', 'sagemaker', 'sns', 'ssm'],
  sequenceAuditLog: ['dynamodb'],
  sweepReviews: ['dynamodb', 's3', 'sagemaker', 'sns', 'ssm'],
  verifyAuditTrail: ['dynamodb', 'kms', 's3'],
};
/** A string each SDK client's code carries even minified (its protocol's target prefix or an endpoint rule). */
const SDK_CLIENT_MARKERS: Record<string, string> = {
  dynamodb: 'DynamoDB_20120810',
  sagemaker: 'api.sagemaker',
  sns: 'AmazonSimpleNotificationService',
  s3: 's3-object-lambda',
  ssm: 'AmazonSSM',
  kms: 'TrentService',
};

// The stage's signing keys, as the SSM SecureString holds them (a fresh secret per run).
const SECRET = randomBytes(32);
const KEY_RING: KeyRing = { current: { kid: 'bundles-test', secret: new Uint8Array(SECRET) } };
const KEYS_JSON = JSON.stringify({ current: { kid: 'bundles-test', secret: SECRET.toString('base64') } });
// The review page's sign-in: its client at the local OpenID provider, the secret and the session keys in SSM.
const INTRUDER = 'intruder@acme-bank.example';
const OIDC_CLIENT_ID = 'modelgate-review-bundles';
const OIDC_CLIENT_SECRET = 'bundles-test-client-secret-0123456789';
const OIDC_SECRET_PARAMETER = `/modelgate/${STAGE}/oidc-client-secret`;
const SESSION_KEY_PARAMETER = `/modelgate/${STAGE}/review-session-keys`;
const SESSION_KEYS_JSON = JSON.stringify({ current: { kid: 'bundles-session', secret: Buffer.alloc(32, 5).toString('base64') } });
let oidc: LocalOidcProvider | undefined;

let pkg: PackagedStage | undefined;
let specs: LambdaFunctionSpec[] = [];
let unpacked: string;
const entries: Record<string, string[]> = {};
let table: TestTable;
let sagemaker: SageMakerStandIn | undefined;
/** The endpoint events the SageMaker stand-in emitted (what EventBridge would deliver to onEndpointStateChange). */
const endpointEvents: EventBridgeEvent[] = [];
let sns: SnsStandIn | undefined;
let s3: S3StandIn | undefined;
let ssm: SsmStandIn | undefined;
let kms: KmsStandIn | undefined;
const KEY_ARN = `arn:aws:kms:us-east-1:${ACCOUNT}:key/00000000-0000-4000-8000-000000000009`;
const AUDIT_BUCKET = `modelgate-${STAGE}-bundles-audit`;
const EXPORT_BUCKET = `modelgate-${STAGE}-bundles-audit-exports`;
let reviewServer: ReviewServer | undefined;
let s3Dir: string;
let resolved: Record<string, string>;
const running = new Map<string, Promise<RunningFunction>>();
const timings: Record<string, number> = {};

const sample = (file: string): Record<string, unknown> => JSON.parse(readFileSync(join(REPO, 'events', file), 'utf8')) as Record<string, unknown>;

/** The function's runtime, started (a cold start) on first use, then warm. */
function fn(name: string): Promise<RunningFunction> {
  let started = running.get(name);
  if (!started) {
    const spec = specs.find((s) => s.name === name);
    if (!spec) throw new Error(`${name} is not in the packaged template`);
    started = startFunction({
      taskRoot: join(unpacked, name),
      handler: spec.handler,
      functionName: spec.functionName,
      memorySize: spec.memorySize,
      timeoutMs: Math.min(spec.timeoutSeconds * 1000, TIMEOUT - 5000),
      env: { ...resolveVariables(spec.variables, resolved), ...awsEnv() },
    });
    running.set(name, started);
  }
  return started;
}

/** What Lambda's execution environment provides (credentials, region), and where each SDK client goes. */
function awsEnv(): Record<string, string> {
  return {
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'ASIABUNDLESTEST',
    AWS_SECRET_ACCESS_KEY: 'bundles-test-secret',
    AWS_SESSION_TOKEN: 'bundles-test-session',
    AWS_ENDPOINT_URL_DYNAMODB: localEndpoint(),
    AWS_ENDPOINT_URL_SAGEMAKER: sagemaker?.url ?? '',
    AWS_ENDPOINT_URL_SNS: sns?.url ?? '',
    AWS_ENDPOINT_URL_S3: s3?.url ?? '',
    AWS_ENDPOINT_URL_SSM: ssm?.url ?? '',
    AWS_ENDPOINT_URL_KMS: kms?.url ?? '',
  };
}

async function invoke(name: string, event: unknown): Promise<Invocation> {
  return (await fn(name)).invoke(event);
}

/** The result of an invocation that must succeed (its error, if any, in the failure message). */
async function ok<T = Record<string, unknown>>(name: string, event: unknown): Promise<T> {
  const answer = await invoke(name, event);
  if (!answer.ok) throw new Error(`${name} failed: ${answer.error.name}: ${answer.error.message}\n${(await fn(name)).output().slice(-4000)}`);
  return answer.result as T;
}

/** EventBridge's Scheduled Event, as a schedule rule delivers it. */
const scheduledEvent = (rule: string) => ({
  'version': '0',
  'id': '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
  'detail-type': 'Scheduled Event',
  'source': 'aws.events',
  'account': ACCOUNT,
  'time': new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
  'region': 'us-east-1',
  'resources': [`arn:aws:events:us-east-1:${ACCOUNT}:rule/${rule}`],
  'detail': {},
});

async function item(pk: string, sk: string): Promise<Record<string, unknown> | undefined> {
  return (await table.doc.send(new GetCommand({ TableName: table.tableName, Key: { PK: pk, SK: sk }, ConsistentRead: true }))).Item;
}

async function itemCount(): Promise<number> {
  return (await table.doc.send(new ScanCommand({ TableName: table.tableName, Select: 'COUNT' }))).Count ?? 0;
}

/** What SageMaker knows in the sample story: the training jobs (finished), the group and three versions. */
async function seedSageMaker(url: string): Promise<void> {
  const client = new SageMakerClient({ endpoint: url, region: 'us-east-1' });
  const dir = join(REPO, 'events', 'local-aws', 'training-jobs');
  for (const file of readdirSync(dir)) {
    const job = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CreateTrainingJobCommandInput & {
      TrainingJobName: string;
      TrainingJobStatus: string;
      FinalMetricDataList: Array<{ MetricName: string; Value: number }>;
      FailureReason?: string;
    };
    const { TrainingJobName, AlgorithmSpecification, RoleArn, InputDataConfig, OutputDataConfig, ResourceConfig, StoppingCondition, HyperParameters } = job;
    await client.send(new CreateTrainingJobCommand({ TrainingJobName, AlgorithmSpecification, RoleArn, InputDataConfig, OutputDataConfig, ResourceConfig, StoppingCondition, HyperParameters }));
    if (job.TrainingJobStatus === 'Completed') await completeTrainingJob(url, { TrainingJobName: job.TrainingJobName, FinalMetricDataList: job.FinalMetricDataList });
    else await failTrainingJob(url, { TrainingJobName: job.TrainingJobName, FailureReason: job.FailureReason ?? 'failed' });
  }
  await client.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: GROUP }));
  const pending = sample('model-package-pending.json') as { detail: { InferenceSpecification: never } };
  for (let v = 1; v <= 3; v++) {
    await client.send(new CreateModelPackageCommand({ ModelPackageGroupName: GROUP, InferenceSpecification: pending.detail.InferenceSpecification }));
  }
  client.destroy();
}

beforeAll(async () => {
  const started = Date.now();
  // The review page signs reviewers in (reviewAuth oidc, the deployed default) through the local
  // OpenID provider, whose issuer the packaging writes into the review function's environment.
  reviewServer = await startReviewServer({
    handler: async (event) => {
      const answer = await invoke('review', event);
      if (!answer.ok) throw new Error(`review failed: ${answer.error.message}`);
      return answer.result as never;
    },
  });
  oidc = await startLocalOidcProvider({
    port: 0,
    users: [RISK, LEAD, INTRUDER].map((email) => ({ email, name: email })),
    clients: [{ clientId: OIDC_CLIENT_ID, clientSecret: OIDC_CLIENT_SECRET, redirectUris: [`${reviewServer.url}/auth/callback`] }],
  });
  // The packaging (the slow part) runs while everything else starts.
  const packaging = packageStage(STAGE, 'bundles-test', [`--param=oidcIssuer=${oidc.issuer}`, `--param=oidcClientId=${OIDC_CLIENT_ID}`]);
  table = await newTable('bundles');
  s3Dir = mkdtempSync(join(tmpdir(), 'modelgate-bundles-s3-'));
  sagemaker = await startSageMakerStandIn({
    account: ACCOUNT,
    onEvent: async (e) => {
      if (e['detail-type'] === 'SageMaker Endpoint State Change') endpointEvents.push(e);
    },
  });
  sns = await startSnsStandIn({ account: ACCOUNT, topics: [`modelgate-${STAGE}-reviewers`, `modelgate-${STAGE}-governance`], print: () => undefined });
  s3 = await startS3StandIn({ directory: s3Dir, buckets: [...sampleBuckets(), AUDIT_BUCKET, EXPORT_BUCKET] });
  kms = await startKmsStandIn(KEY_ARN);
  ssm = await startSsmStandIn({ [SIGNING_KEY_PARAMETER]: KEYS_JSON, [OIDC_SECRET_PARAMETER]: OIDC_CLIENT_SECRET, [SESSION_KEY_PARAMETER]: SESSION_KEYS_JSON });
  await seedSageMaker(sagemaker.url);
  process.env.AWS_ENDPOINT_URL_S3 = s3.url; // for seedSampleReports' own client
  await seedSampleReports();

  pkg = await packaging;
  timings.packageMs = pkg.ms;
  specs = lambdaFunctions(pkg.template);
  unpacked = mkdtempSync(join(tmpdir(), 'modelgate-bundles-unzipped-'));
  for (const spec of specs) entries[spec.name] = unzipTo(join(pkg.dir, `${spec.name}.zip`), join(unpacked, spec.name));
  // What CloudFormation resolves the template's references to, here.
  resolved = {
    [JSON.stringify({ Ref: 'GovernanceTable' })]: table.tableName,
    [JSON.stringify({ Ref: 'ReviewersTopic' })]: sns.topicArn(`modelgate-${STAGE}-reviewers`) ?? '',
    [JSON.stringify({ Ref: 'GovernanceTopic' })]: sns.topicArn(`modelgate-${STAGE}-governance`) ?? '',
    [JSON.stringify({ 'Fn::GetAtt': ['HttpApi', 'ApiEndpoint'] })]: reviewServer.url,
    // The audit log's checkpoint bucket and export bucket (in the S3 stand-in) and its key (the KMS stand-in).
    [JSON.stringify({ Ref: 'CheckpointBucket' })]: AUDIT_BUCKET,
    [JSON.stringify({ Ref: 'AuditExportBucket' })]: EXPORT_BUCKET,
    [JSON.stringify({ 'Fn::GetAtt': ['CheckpointKey', 'Arn'] })]: KEY_ARN,
  };
  timings.setupMs = Date.now() - started;
}, 180_000);

afterAll(async () => {
  const all = await Promise.allSettled([...running.values()]);
  await Promise.all(all.flatMap((r) => (r.status === 'fulfilled' ? [r.value.stop()] : [])));
  await Promise.allSettled([reviewServer?.close(), sagemaker?.close(), sns?.close(), s3?.close(), ssm?.close(), kms?.close(), oidc?.close()]);
  await table?.drop();
  pkg?.remove();
  for (const dir of [unpacked, s3Dir]) if (dir) rmSync(dir, { recursive: true, force: true });
  // For the README: how long the packaging and the whole file take (printed, not asserted).
  console.log(`bundles test: serverless package ${timings.packageMs} ms, set-up ${timings.setupMs} ms`);
}, 30_000);

describe('the deployment packages', () => {
  it('the template has exactly the 22 functions, each with its own zip', () => {
    expect(specs.map((s) => s.name)).toEqual(FUNCTIONS);
    const zips = readdirSync(pkg?.dir ?? '').filter((f) => f.endsWith('.zip'));
    expect(zips.sort()).toEqual(FUNCTIONS.map((f) => `${f}.zip`));
  });

  it.each(FUNCTIONS)('%s: the zip holds its .mjs bundle only (no source map, no .js handler, no node_modules, no package.json); its map is beside the package', (name) => {
    expect(entries[name]).toEqual([`functions/${name}/handler.mjs`]);
    expect(readdirSync(join(pkg?.dir ?? '', 'sourcemaps', 'functions', name))).toEqual(['handler.mjs.map']);
    for (const entry of entries[name] ?? []) {
      expect(entry).not.toMatch(/(^|\/)node_modules\//);
      expect(entry).not.toMatch(/\.(c?js)$/);
      expect(entry).not.toMatch(/(^|\/)package\.json$/);
    }
  });

  it.each(FUNCTIONS)('%s: nothing loads source maps at init (no NODE_OPTIONS in its environment)', (name) => {
    const spec = specs.find((s) => s.name === name);
    expect(spec?.variables).not.toHaveProperty('NODE_OPTIONS');
    expect(JSON.stringify(spec?.variables ?? {})).not.toContain('enable-source-maps');
  });

  it.each(Object.entries(SDK_CLIENTS_OF))('%s: its bundle holds exactly the SDK clients its wiring builds (%j)', (name, expected) => {
    const bundle = readFileSync(join(unpacked, name, 'functions', name, 'handler.mjs'), 'utf8');
    const held = Object.entries(SDK_CLIENT_MARKERS)
      .filter(([, marker]) => bundle.includes(marker))
      .map(([client]) => client)
      .sort();
    expect(held).toEqual([...expected].sort());
  });

  // Classic zod names its schema classes "ZodString", "ZodObject"…, zod/mini "ZodMiniString"…
  // (keepNames keeps the names). eslint keeps classic zod out of modelgate's source; this keeps it
  // out through a dependency too (Powertools' parser schemas are classic zod).
  it.each(FUNCTIONS)('%s: its bundle holds zod/mini and no classic zod', (name) => {
    const bundle = readFileSync(join(unpacked, name, 'functions', name, 'handler.mjs'), 'utf8');
    expect(bundle).toMatch(/["']ZodMiniObject["']/);
    expect(bundle.match(/["']Zod(String|Object|Array|Union|Number)["']/g) ?? []).toEqual([]);
  });

  // z.schema() (shared/schemas/zod.ts) lets esbuild drop the schemas a function never reaches: only
  // a function that parses SageMaker's events or answers (its SageMaker client) builds their
  // schemas. A message of shared/schemas/events.ts marks them.
  const EVENT_SCHEMAS = 'which no SageMaker string can';
  it.each(Object.entries(SDK_CLIENTS_OF).filter(([, clients]) => !clients.includes('sagemaker')))(
    '%s: its bundle leaves out the SageMaker event schemas it never uses (no SageMaker client: %j)',
    (name) => expect(readFileSync(join(unpacked, name, 'functions', name, 'handler.mjs'), 'utf8')).not.toContain(EVENT_SCHEMAS),
  );
  it.each(['onTrainingJobStateChange', 'onModelPackageStateChange', 'onEndpointStateChange'])('%s: its bundle holds the SageMaker event schemas it parses', (name) =>
    expect(readFileSync(join(unpacked, name, 'functions', name, 'handler.mjs'), 'utf8')).toContain(EVENT_SCHEMAS),
  );

  it.each(FUNCTIONS)(
    "%s: Lambda's module resolution loads handler.mjs from the zip, and its handler export is a function",
    async (name) => {
      const runtime = await fn(name);
      expect(runtime.file).toBe(join(unpacked, name, 'functions', name, 'handler.mjs'));
    },
    TIMEOUT,
  );
});

describe('the bundles, invoked as Lambda would, against DynamoDB Local and the stand-ins', () => {
  it('putPolicy refuses a bad policy with a ValidationError naming each field and writes nothing; then creates version 1', async () => {
    const refused = await invoke('putPolicy', sample('policy-invalid.json'));
    expect(refused.ok).toBe(false);
    if (refused.ok) return;
    expect(refused.error.name).toBe('ValidationError');
    expect((refused.error.problems ?? []).map((p) => p.split(':')[0])).toEqual(
      expect.arrayContaining(['modelPackageGroupName', 'rules.0.comparison', 'rules.0.threshold', 'reviewers.0']),
    );
    expect(await itemCount()).toBe(0);

    const created = await ok('putPolicy', sample('policy-fraud-detector.json'));

    expect(created).toMatchObject({ outcome: 'created', policy: { version: 1, requiredApprovals: 2, reviewers: [RISK, LEAD] } });
    expect(await item(`GROUP#${GROUP}`, 'POLICY#CURRENT')).toMatchObject({ version: 1 });
  }, TIMEOUT);

  it('getPolicy returns the current policy, with its three rules', async () => {
    const answer = await ok<{ policy: { version: number; rules: unknown[] } }>('getPolicy', sample('get-policy.json'));
    expect(answer.policy.version).toBe(1);
    expect(answer.policy.rules).toHaveLength(3);
  }, TIMEOUT);

  it('the training recorder records a Failed job with its reason and no artifact, then two Completed jobs with the final metrics from SageMaker', async () => {
    const failed = await ok('onTrainingJobStateChange', sample('training-job-failed.json'));
    const good = await ok('onTrainingJobStateChange', sample('training-job-completed.json'));
    const weak = await ok('onTrainingJobStateChange', sample('training-job-completed-low-auc.json'));

    expect([failed, good, weak].map((r) => r.outcome)).toEqual(['recorded', 'recorded', 'recorded']);
    const failedJob = await item(`JOB#${JOB.failed}`, 'JOB');
    expect(failedJob).toMatchObject({ status: 'Failed', failureReason: expect.stringMatching(/\S/) });
    expect(failedJob?.artifact).toBeUndefined();
    // DescribeTrainingJob, answered by the SageMaker stand-in (the event carries no metrics).
    expect(await item(`JOB#${JOB.good}`, 'JOB')).toMatchObject({ status: 'Completed', metrics: { 'validation:auc': 0.912 } });
    expect(await item(`JOB#${JOB.weak}`, 'JOB')).toMatchObject({ status: 'Completed', metrics: { 'validation:auc': 0.801 } });
  }, TIMEOUT);

  it('the gate opens a review for version 1 (links signed with the SSM key, one SNS message per reviewer) and rejects version 2 in the registry, with the reason', async () => {
    const opened = await ok('onModelPackageStateChange', sample('model-package-pending.json'));
    const rejected = await ok('onModelPackageStateChange', sample('model-package-pending-low-auc.json'));

    expect(opened).toMatchObject({ outcome: 'review-opened', modelPackageArn: ARN(1) });
    expect(rejected).toMatchObject({ outcome: 'rejected', modelPackageArn: ARN(2) });
    expect(await item(`GROUP#${GROUP}`, 'VERSION#0000000001')).toMatchObject({ arn: ARN(1), status: 'PendingManualApproval' });
    expect(ssm?.requests).toContainEqual({ target: 'AmazonSSM.GetParameter', name: SIGNING_KEY_PARAMETER, withDecryption: true });
    const requests = (sns?.messages() ?? []).filter((m) => m.attributes.event === 'review-requested');
    expect(requests.map((m) => m.attributes.reviewer).sort()).toEqual([LEAD, RISK]);
    for (const m of requests) {
      const link = /(http:\/\/\S+\/reviews\/\S+)/.exec(m.message)?.[1] ?? '';
      expect(link.startsWith(`${reviewServer?.url}/reviews/`)).toBe(true);
      const verdict = verifyReviewToken(decodeURIComponent(link.split('/reviews/')[1] ?? ''), KEY_RING, Math.floor(Date.now() / 1000));
      expect(verdict.ok).toBe(true);
    }
    const registry = new SageMakerClient({ endpoint: sagemaker?.url ?? '', region: 'us-east-1' });
    const v2 = await registry.send(new DescribeModelPackageCommand({ ModelPackageName: ARN(2) }));
    registry.destroy();
    expect(v2.ModelApprovalStatus).toBe('Rejected');
    expect(v2.ApprovalDescription).toMatch(/validation:auc/);
    expect(sns?.messages().some((m) => m.topic === `modelgate-${STAGE}-governance` && m.message.includes(ARN(2)))).toBe(true);
  }, TIMEOUT);

  it('the review page shows the evidence for an emailed link (200) and refuses a forged token (403), through API Gateway events', async () => {
    const message = (sns?.messages() ?? []).find((m) => m.attributes.event === 'review-requested' && m.attributes.reviewer === RISK);
    const link = /(http:\/\/\S+\/reviews\/\S+)/.exec(message?.message ?? '')?.[1] ?? '';
    const token = decodeURIComponent(link.split('/reviews/')[1] ?? '');
    const [kid, , payload] = token.split('.');
    const forged = `v1.${kid}.${payload}.${Buffer.alloc(32, 1).toString('base64url')}`;

    const page = await fetch(link);
    const refused = await fetch(`${reviewServer?.url}/reviews/${encodeURIComponent(forged)}`);

    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    const body = await page.text();
    // reviewAuth oidc: the sign-in step, and nothing of the evidence yet.
    expect(body).toContain(GROUP);
    expect(body).toContain('data-testid="sign-in-form"');
    expect(body).not.toContain('validation:auc');
    expect(refused.status).toBe(403);
    expect(await refused.text()).not.toContain(forged);
  }, TIMEOUT);

  it('a reviewer signs in through the OpenID provider and votes; the link alone cannot (the review bundle, the SSM secret and session keys)', async () => {
    const message = (sns?.messages() ?? []).find((m) => m.attributes.event === 'review-requested' && m.attributes.reviewer === RISK);
    const link = /(http:\/\/\S+\/reviews\/\S+)/.exec(message?.message ?? '')?.[1] ?? '';
    const form = (body: string, cookie?: string) =>
      fetch(link, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) }, body });
    const jar = (r: Response) => r.headers.getSetCookie().map((c) => c.split(';')[0] ?? '').filter((c) => !c.endsWith('=')).join('; ');

    expect((await form('decision=approve')).status).toBe(401);

    const started = await form('intent=sign-in');
    expect(started.status).toBe(303);
    const location = started.headers.get('location') ?? '';
    expect(new URL(location).origin).toBe(oidc?.issuer);
    const { callbackUrl } = await signIn(location, RISK);
    const completed = await fetch(callbackUrl, { redirect: 'manual', headers: { cookie: jar(started) } });
    expect(completed.status).toBe(303);
    expect(completed.headers.get('location')).toBe(link);
    const session = jar(completed);
    expect(session).toMatch(/^__Host-modelgate-session=/);

    const evidence = await fetch(link, { headers: { cookie: session } });
    expect(evidence.status).toBe(200);
    expect(await evidence.text()).toContain('validation:auc');
    // With the session the POST reaches the vote itself: a Reject without a comment is refused for
    // that (400), where the link alone got 401. (No vote is cast: the tests below expect the review open.)
    const voted = await form('decision=reject', session);
    expect(voted.status).toBe(400);
    expect(await voted.text()).toContain('A comment is required to reject.');
    // Someone else signed in, with the same link: refused at the callback.
    const other = await form('intent=sign-in');
    const { callbackUrl: intruder } = await signIn(other.headers.get('location') ?? '', INTRUDER);
    expect((await fetch(intruder, { redirect: 'manual', headers: { cookie: jar(other) } })).status).toBe(403);
    // The bundle read the client secret and the session keys from SSM.
    expect(ssm?.requests).toContainEqual({ target: 'AmazonSSM.GetParameter', name: OIDC_SECRET_PARAMETER, withDecryption: true });
    expect(ssm?.requests).toContainEqual({ target: 'AmazonSSM.GetParameter', name: SESSION_KEY_PARAMETER, withDecryption: true });
  }, TIMEOUT);

  it('listPendingReviews lists the one open review, waiting for both reviewers', async () => {
    const page = await ok<{ items: Array<Record<string, unknown>> }>('listPendingReviews', sample('list-pending-reviews.json'));
    expect(page.items).toEqual([expect.objectContaining({ modelPackageArn: ARN(1), approvals: 0, requiredApprovals: 2, waitingFor: expect.arrayContaining([RISK, LEAD]) })]);
  }, TIMEOUT);

  it('addReviewer subscribes the reviewer on the SNS topic and records policy version 2; removeReviewer records version 3', async () => {
    const added = await ok('addReviewer', sample('add-reviewer.json'));
    const removed = await ok('removeReviewer', sample('remove-reviewer.json'));

    expect(added).toMatchObject({ policy: { version: 2, reviewers: expect.arrayContaining([NEW_REVIEWER]) } });
    expect(removed).toMatchObject({ policy: { version: 3, requiredApprovals: 1 } });
    expect((removed as { policy: { reviewers: string[] } }).policy.reviewers).not.toContain(LEAD);
    const client = new SNSClient({ endpoint: sns?.url ?? '', region: 'us-east-1' });
    const subs = await client.send(new ListSubscriptionsByTopicCommand({ TopicArn: sns?.topicArn(`modelgate-${STAGE}-reviewers`) }));
    client.destroy();
    expect(subs.Subscriptions?.map((s) => s.Endpoint)).toContain(NEW_REVIEWER);
    expect(await item(`GROUP#${GROUP}`, 'POLICY#CURRENT')).toMatchObject({ version: 3 });
  }, TIMEOUT);

  it('sweepReviews (the hourly schedule) finds the open review and nothing due', async () => {
    const report = await ok('sweepReviews', scheduledEvent(`modelgate-${STAGE}-sweep-reviews`));
    expect(report).toMatchObject({ openReviews: 1, expired: 0, failures: [] });
  }, TIMEOUT);

  it("getLineage returns version 1's training job, datasets, image and audit entries", async () => {
    const doc = await ok<{ modelPackage: { arn: string }; trainingJob?: { name: string }; datasets: unknown[]; image?: { uri: string }; audit: { entries: unknown[] } }>(
      'getLineage',
      sample('get-lineage.json'),
    );
    expect(doc.modelPackage.arn).toBe(ARN(1));
    expect(doc.trainingJob?.name).toBe(JOB.good);
    expect(doc.datasets.length).toBeGreaterThan(0);
    expect(doc.image?.uri).toMatch(/sagemaker-xgboost/);
    expect(doc.audit.entries.length).toBeGreaterThan(0);
  }, TIMEOUT);

  it('datasetImpact finds the jobs and the versions derived from the dataset', async () => {
    const report = await ok<{ trainingJobs: Array<{ job: string }>; modelVersions: Array<{ modelPackageArn: string }> }>('datasetImpact', sample('dataset-impact.json'));
    expect(report.trainingJobs.map((j) => j.job)).toContain(JOB.good);
    expect(report.modelVersions.map((v) => v.modelPackageArn)).toContain(ARN(1));
  }, TIMEOUT);

  it("getAuditTrail returns the group's entries, each saying why it has no proof yet", async () => {
    const trail = await ok<{ scope: string; items: Array<{ action: string; scope: string; proof?: unknown }>; checkpoint?: unknown }>(
      'getAuditTrail',
      sample('get-audit-trail.json'),
    );

    expect(trail.scope).toBe(`group:${GROUP}`);
    expect(trail.items.length).toBeGreaterThan(0);
    expect(trail.items.map((e) => e.action)).toEqual(expect.arrayContaining(['policy.changed', 'version.gate-passed', 'version.gate-failed']));
    expect(trail.items.every((e) => e.scope === `group:${GROUP}`)).toBe(true);
    // The sample asks for proofs; nothing here has run the sequencer (no table stream), so none has one.
    expect(trail.items.map((e) => e.proof)).toEqual(trail.items.map(() => ({ none: 'not sequenced yet' })));
    expect(trail.checkpoint).toBeUndefined();
  }, TIMEOUT);

  it('sequenceAuditLog (its catch-up schedule, then a stream batch delivered again) places every entry in the log once', async () => {
    const report = await ok<{ sequenced: number; logSize: number }>('sequenceAuditLog', {
      ...scheduledEvent(`modelgate-${STAGE}-sequence-audit-log`),
      detail: { olderThanMs: 0 },
    });
    expect(report.sequenced).toBeGreaterThan(0);
    expect(report.logSize).toBe(report.sequenced);
    const entry = (await table.client.send(new ScanCommand({ TableName: table.tableName, FilterExpression: '#t = :t', ExpressionAttributeNames: { '#t': 'type' }, ExpressionAttributeValues: { ':t': 'AuditEntry' } }))).Items?.[0];
    const again = await ok<{ sequenced: number; skipped: number }>('sequenceAuditLog', {
      Records: [
        {
          eventID: '1',
          eventName: 'INSERT',
          eventVersion: '1.1',
          eventSource: 'aws:dynamodb',
          awsRegion: 'us-east-1',
          eventSourceARN: `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/${table.tableName}/stream/2026-12-01T00:00:00.000`,
          dynamodb: {
            ApproximateCreationDateTime: 1796083200,
            Keys: { PK: { S: String(entry?.PK) }, SK: { S: String(entry?.SK) } },
            NewImage: { PK: { S: String(entry?.PK) }, SK: { S: String(entry?.SK) }, type: { S: 'AuditEntry' } },
            SequenceNumber: '100000000000000000001',
            SizeBytes: 200,
            StreamViewType: 'NEW_IMAGE',
          },
        },
      ],
    });
    expect(again).toMatchObject({ sequenced: 0, skipped: 1 });
  }, TIMEOUT);

  it('checkpointAuditLog signs the log with KMS (Sign, RAW, ECDSA_SHA_256) and writes the checkpoint bucket; a second run without growth signs nothing', async () => {
    const made = await ok<{ made: boolean; checkpoint: { logSize: number; keyId: string }; objectKey: string }>('checkpointAuditLog', scheduledEvent(`modelgate-${STAGE}-checkpoint-audit-log`));
    expect(made).toMatchObject({ made: true, checkpoint: { keyId: KEY_ARN }, objectKey: `checkpoints/${String(made.checkpoint.logSize).padStart(16, '0')}.json` });
    expect(kms?.requests).toEqual(['GetPublicKey', 'Sign']);
    const again = await ok<{ made: boolean }>('checkpointAuditLog', sample('checkpoint-audit-log.json'));
    expect(again.made).toBe(false);
    expect(kms?.requests.filter((r) => r === 'Sign')).toHaveLength(1);
  }, TIMEOUT);

  it('getAuditTrail with proofs: every entry of the group has an inclusion proof against the checkpoint', async () => {
    const trail = await ok<{ items: Array<{ logIndex?: number; proof?: { path?: string[]; treeSize?: number } }>; checkpoint?: { checkpoint: { logSize: number } } }>('getAuditTrail', sample('get-audit-trail.json'));
    expect(trail.checkpoint?.checkpoint.logSize).toBeGreaterThan(0);
    expect(trail.items.every((e) => e.logIndex !== undefined && Array.isArray(e.proof?.path) && e.proof?.treeSize === trail.checkpoint?.checkpoint.logSize)).toBe(true);
  }, TIMEOUT);

  it('verifyAuditTrail checks the table against every checkpoint; exportAuditTrail writes an export that the offline verifier accepts with the KMS public key', async () => {
    const verdict = await ok<{ verified: boolean; logSize: number; checkpointsChecked: number }>('verifyAuditTrail', sample('verify-audit-trail.json'));
    expect(verdict).toMatchObject({ verified: true, checkpointsChecked: 1 });
    const exported = await ok<{ location: string; entries: number; checkpoints: number }>('exportAuditTrail', sample('export-audit-trail.json'));
    expect(exported).toMatchObject({ entries: verdict.logSize, checkpoints: 1 });
    expect(exported.location).toMatch(new RegExp(`^s3://${EXPORT_BUCKET}/exports/`));
    // The auditor's side: download the export, verify it with the key from KMS, offline.
    const prefix = exported.location.replace(`s3://${EXPORT_BUCKET}/`, '');
    const { S3Client, ListObjectsV2Command, GetObjectCommand } = await import('@aws-sdk/client-s3');
    const client = new S3Client({ endpoint: s3?.url ?? '', region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const folder = mkdtempSync(join(tmpdir(), 'modelgate-bundles-export-'));
    try {
      const listed = await client.send(new ListObjectsV2Command({ Bucket: EXPORT_BUCKET, Prefix: prefix }));
      for (const o of listed.Contents ?? []) {
        const body = await (await client.send(new GetObjectCommand({ Bucket: EXPORT_BUCKET, Key: o.Key }))).Body?.transformToString();
        const file = join(folder, (o.Key ?? '').slice(prefix.length));
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, body ?? '');
      }
      const { runVerify } = await import('../../scripts/audit-verify.js');
      // The key as `aws kms get-public-key --query PublicKey --output text` prints it (base64 DER).
      const keyFile = join(folder, '..', `${folder.split('/').at(-1) ?? 'export'}-kms-key.b64`);
      writeFileSync(keyFile, kms?.publicKey ?? '');
      const result = await runVerify(folder, { publicKey: keyFile });
      rmSync(keyFile, { force: true });
      expect(result.code).toBe(0);
      expect(result.lines.at(-1)).toMatch(new RegExp(`^verified: ${verdict.logSize} entries, 1 checkpoints, root [0-9a-f]{64}$`));
    } finally {
      client.destroy();
      rmSync(folder, { recursive: true, force: true });
    }
  }, TIMEOUT);

  it("exportModelCard returns version 1's card as JSON and Markdown", async () => {
    const exported = await ok<{ card?: unknown; markdown?: string }>('exportModelCard', sample('export-model-card.json'));
    expect(exported.card).toBeDefined();
    expect(exported.markdown).toContain(GROUP);
  }, TIMEOUT);

  it('reconcile (dry run) lists the registry version the table never saw, and changes nothing', async () => {
    const before = await itemCount();
    const report = await ok<{ groups: Array<Record<string, unknown>>; dryRun: boolean }>('reconcile', { ...sample('reconcile.json'), dryRun: true });

    expect(report.dryRun).toBe(true);
    expect(report.groups).toEqual([expect.objectContaining({ group: GROUP, registryVersions: 3, missing: [ARN(3)], unexplainedApprovals: [], actions: [] })]);
    expect(await itemCount()).toBe(before);
  }, TIMEOUT);

  it('onEndpointStateChange records an endpoint that serves version 3 (never gated: the table has no record of it) and sends one governance notice; the same state again sends none', async () => {
    // Deployed outside modelgate: a model from version 3, a configuration, an endpoint (IN_SERVICE at once in the stand-in).
    const endpoint = 'fraud-detector-prod';
    const model = 'fraud-detector-v3';
    const client = new SageMakerClient({ endpoint: sagemaker?.url ?? '', region: 'us-east-1' });
    await client.send(new CreateModelCommand({ ModelName: model, PrimaryContainer: { ModelPackageName: ARN(3) }, ExecutionRoleArn: `arn:aws:iam::${ACCOUNT}:role/service-role/AmazonSageMaker-ExecutionRole-fraud` }));
    await client.send(new CreateEndpointConfigCommand({ EndpointConfigName: `${endpoint}-config-1`, ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: model, InitialInstanceCount: 1, InstanceType: 'ml.m5.large' }] }));
    await client.send(new CreateEndpointCommand({ EndpointName: endpoint, EndpointConfigName: `${endpoint}-config-1` }));
    client.destroy();
    await sagemaker?.drain();
    const delivered = endpointEvents.filter((e) => e.detail.EndpointName === endpoint);
    expect(delivered.map((e) => e.detail.EndpointStatus)).toEqual(['IN_SERVICE']);
    const before = (sns?.messages() ?? []).length;

    const report = await ok('onEndpointStateChange', delivered[0]);

    expect(report).toEqual({ outcome: 'recorded', endpoint, status: 'InService', unapproved: [{ variant: 'AllTraffic', modelPackageArn: ARN(3), reason: 'unknown-version' }] });
    // What SageMaker describes (DescribeEndpoint -> DescribeEndpointConfig -> DescribeModel), in the table; the notice settled.
    expect(await item(`ENDPOINT#${endpoint}`, 'ENDPOINT')).toMatchObject({
      type: 'Endpoint',
      arn: `arn:aws:sagemaker:us-east-1:${ACCOUNT}:endpoint/${endpoint}`,
      status: 'InService',
      configName: `${endpoint}-config-1`,
      served: [{ variant: 'AllTraffic', model, modelPackageArn: ARN(3), group: GROUP, version: 3 }],
      GSI1PK: 'ENDPOINTS#SERVING',
      pendingEffects: {},
    });
    // The recorder invents no version record for what it does not know.
    expect(await item(`GROUP#${GROUP}`, 'VERSION#0000000003')).toBeUndefined();
    const notices = (sns?.messages() ?? []).slice(before);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatchObject({
      topic: `modelgate-${STAGE}-governance`,
      subject: `Unapproved deployment: ${endpoint}`,
      attributes: { event: 'deployment-unapproved', endpoint, group: GROUP },
    });
    expect(notices[0]?.message).toContain(`variant AllTraffic: ${ARN(3)}: unknown-version: modelgate has no record of this version`);
    expect(notices[0]?.message.endsWith('Acme Bank model risk — questions about this message: model-risk@acme-bank.example')).toBe(true);
    const audit = await table.doc.send(
      new ScanCommand({ TableName: table.tableName, FilterExpression: '#t = :t AND #a = :a', ExpressionAttributeNames: { '#t': 'type', '#a': 'action' }, ExpressionAttributeValues: { ':t': 'AuditEntry', ':a': 'deployment.unapproved' } }),
    );
    expect(audit.Items?.map((e) => [e.scope, e.subject, (e.detail as { reason?: string }).reason])).toEqual([[`group:${GROUP}`, ARN(3), 'unknown-version']]);

    // The sample event (an older LastModifiedTime, the same endpoint): SageMaker describes the same state, nothing new.
    const again = await ok('onEndpointStateChange', sample('endpoint-in-service.json'));
    expect(again).toMatchObject({ outcome: 'duplicate', endpoint });
    expect((sns?.messages() ?? []).slice(before)).toHaveLength(1);
  }, TIMEOUT);

  it('listUnapprovedDeployments with all: true lists that deployment (its policy only notifies, so the default listing is empty)', async () => {
    const all = await ok<{ deployments: Array<Record<string, unknown>>; cursor?: string }>('listUnapprovedDeployments', { all: true });
    expect(all.deployments).toEqual([
      expect.objectContaining({
        endpoint: 'fraud-detector-prod',
        endpointArn: `arn:aws:sagemaker:us-east-1:${ACCOUNT}:endpoint/fraud-detector-prod`,
        variant: 'AllTraffic',
        model: 'fraud-detector-v3',
        modelPackageArn: ARN(3),
        group: GROUP,
        version: 3,
        reason: 'unknown-version',
        action: 'notify',
      }),
    ]);
    expect(all.cursor).toBeUndefined();
    const followUps = await ok<{ deployments: unknown[] }>('listUnapprovedDeployments', {});
    expect(followUps.deployments).toEqual([]);
  }, TIMEOUT);

  it('no function logged a review token, a signature or the signing secret', async () => {
    const tokens = (sns?.messages() ?? []).flatMap((m) => [.../\/reviews\/(\S+)/.exec(m.message) ?? []].slice(1)).map((t) => decodeURIComponent(t));
    expect(tokens.length).toBeGreaterThan(0);
    for (const name of running.keys()) {
      const out = (await fn(name)).output();
      for (const token of tokens) {
        expect(out).not.toContain(token);
        expect(out).not.toContain(token.split('.')[3]);
      }
      expect(out).not.toContain(SECRET.toString('base64'));
    }
  });
});

describe('serverless invoke local', () => {
  const sls = (args: string[], timeoutMs: number) =>
    new Promise<{ code: number | null; output: string; ms: number }>((resolveRun) => {
      const started = Date.now();
      const child = spawn(join(REPO, 'node_modules', '.bin', 'serverless'), args, {
        cwd: REPO,
        env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off', NODE_OPTIONS: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (c: Buffer) => (output += c.toString()));
      child.stderr.on('data', (c: Buffer) => (output += c.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolveRun({ code, output, ms: Date.now() - started });
      });
    });

  it.each<[string, string[]]>([
    ['as is', []],
    // With the references given as plain values, osls got as far as bundling, failed to load the
    // .mjs handler and then hung (esbuild's service kept it alive).
    ['with the resources given as parameters', ['--param=reviewBaseUrl=https://reviews.example.com', '--param=tableName=t', '--param=reviewersTopicArn=r', '--param=governanceTopicArn=g']],
  ])('on a deployable stage (.mjs bundles), %s, it fails at once, naming --stage local, instead of hanging', async (_case, extra) => {
    const workFolder = `.esbuild/invoke-guard-test-${process.pid}`;
    const run = await sls(['invoke', 'local', '-f', 'getPolicy', '--stage', STAGE, '--data', '{}', `--param=bundleWorkFolder=${workFolder}`, ...ORGANISATION_PARAMS, ...extra], 25_000);
    rmSync(join(REPO, workFolder), { recursive: true, force: true }); // only without the guard does anything get built

    expect(run.code).not.toBe(0);
    expect(run.code).not.toBeNull(); // null: killed after 25 s, i.e. it hung
    expect(run.output).toContain('serverless invoke local --stage local -f getPolicy');
    expect(run.output).toMatch(/cannot run stage dev: its bundles are \.mjs/);
    expect(run.ms).toBeLessThan(20_000);
  }, 30_000);

  it('on stage local (.js bundles) still runs the function: putPolicy creates a policy in DynamoDB Local', async () => {
    const local = await newTable('invoke-local');
    const workFolder = `.esbuild/invoke-local-test-${process.pid}`;
    try {
      const run = await sls(
        ['invoke', 'local', '--stage', 'local', '-f', 'putPolicy', '--path', 'events/policy-fraud-detector.json', `--param=tableName=${local.tableName}`, `--param=bundleWorkFolder=${workFolder}`],
        90_000,
      );

      expect(run.code).toBe(0);
      expect(run.output).toMatch(/"outcome": "created"/);
      const policy = await local.doc.send(new GetCommand({ TableName: local.tableName, Key: { PK: `GROUP#${GROUP}`, SK: 'POLICY#CURRENT' } }));
      expect(policy.Item).toMatchObject({ version: 1 });
    } finally {
      rmSync(join(REPO, workFolder), { recursive: true, force: true });
      await local.drop();
    }
  }, 100_000);
});
