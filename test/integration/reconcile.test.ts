/**
 * Reconciliation against DynamoDB Local and the SageMaker stand-in (local/sagemaker), driven by
 * the real `@aws-sdk/client-sagemaker`. The stand-in runs with no `onEvent`: its events are never
 * delivered, as if EventBridge had lost them. SNS and S3 are aws-sdk-client-mock.
 */
import { mockClient } from 'aws-sdk-client-mock';
import {
  CreateModelPackageCommand,
  CreateModelPackageGroupCommand,
  CreateTrainingJobCommand,
  DescribeModelPackageCommand,
  SageMakerClient,
  UpdateModelPackageCommand,
  type CreateModelPackageInput,
} from '@aws-sdk/client-sagemaker';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { sageMakerRegistry } from '../../shared/aws/sagemaker.js';
import { groupScope } from '../../shared/domain/audit.js';
import { ValidationError } from '../../shared/domain/errors.js';
import type { Deps } from '../../shared/ports.js';
import { ModelPackageDetailSchema } from '../../shared/schemas/events.js';
import { handleModelPackageChange } from '../../shared/usecases/gate.js';
import { putPolicy } from '../../shared/usecases/policies.js';
import { reconcile, type ReconcileReport } from '../../shared/usecases/reconcile.js';
import { IncompleteRun } from '../../shared/usecases/runs.js';
import { recordTrainingJob } from '../../shared/usecases/training.js';
import { startSageMakerStandIn, type SageMakerStandIn } from '../../local/sagemaker/server.js';
import { completeTrainingJob } from '../../local/sagemaker/seed.js';
import { addedEntries, countEntries, logVerifies, scopeEntries } from '../support/audit-log.js';
import { newTable, type TestTable } from '../support/dynamo.js';
import { SAMPLE_REPORT, TOPICS, TRUST_LINE, s3Body, story, testDeps } from '../support/story.js';

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const MODELGATE = 'AKIDMODELGATE'; // modelgate's role in the stand-in
const CONSOLE_USER = 'AKIDCONSOLEBOB'; // someone approving in the console, behind modelgate's back
const roleArn = (akid: string) => `arn:aws:sts::${ACCOUNT}:assumed-role/local/${akid}`;
const REPORT_DIGEST = 'sha256:c08281aec4324ae5e52820ffe239e89fa3a08435de59cc7b8bb1d4930949ad11';
const IMAGE = '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1';

const sns = mockClient(SNSClient);
const s3 = mockClient(S3Client);

const ENV_KEYS = ['AWS_ENDPOINT_URL_SAGEMAKER', 'AWS_REGION'] as const;
const savedEnv = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));

let standIn: SageMakerStandIn;
/** modelgate's client (what Deps uses): every command it sends is recorded. */
let sm: SageMakerClient;
let console_: SageMakerClient;
let sent: Array<{ command: string; input: Record<string, unknown> }>;
const tables: TestTable[] = [];
const clock = { now: Date.parse('2026-11-28T06:00:00Z') };

beforeAll(async () => {
  process.env.AWS_REGION = REGION;
  standIn = await startSageMakerStandIn({ port: 0 }); // no onEvent: nothing is delivered
  process.env.AWS_ENDPOINT_URL_SAGEMAKER = standIn.url;
  sm = new SageMakerClient({ credentials: { accessKeyId: MODELGATE, secretAccessKey: 'local' } });
  sm.middlewareStack.add(
    (next, context) => async (args) => {
      sent.push({ command: String(context.commandName), input: args.input as Record<string, unknown> });
      return next(args);
    },
    { step: 'initialize', name: 'recordCommands' },
  );
  console_ = new SageMakerClient({ credentials: { accessKeyId: CONSOLE_USER, secretAccessKey: 'local' } });
});

afterAll(async () => {
  sm.destroy();
  console_.destroy();
  await standIn.close();
  await Promise.all(tables.map((t) => t.drop()));
  for (const k of ENV_KEYS) {
    if (savedEnv[k] === undefined) delete process.env[k];
    else process.env[k] = savedEnv[k];
  }
});

beforeEach(() => {
  sent = [];
  sns.reset();
  s3.reset();
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  s3.on(GetObjectCommand).resolves({ Body: s3Body(SAMPLE_REPORT), ContentLength: SAMPLE_REPORT.length });
});

/** A table of its own per test: `reconcile({})` sees only this test's governed groups. */
async function freshDeps(): Promise<{ deps: Deps; table: TestTable }> {
  const table = await newTable('reconcile');
  tables.push(table);
  const deps: Deps = {
    ...testDeps(table.client, table.tableName, clock),
    registry: sageMakerRegistry(sm),
    modelCards: { upsert: async () => 'created' },
  };
  return { deps, table };
}

const artifacts = (group: string) => `s3://acme-ml-artifacts-${ACCOUNT}/${group}/training`;

/** A training job in the stand-in, completed with the given validation AUC. */
async function trainedJob(group: string, name: string, auc: number): Promise<string> {
  await sm.send(
    new CreateTrainingJobCommand({
      TrainingJobName: name,
      AlgorithmSpecification: { TrainingImage: IMAGE, TrainingInputMode: 'File' },
      RoleArn: `arn:aws:iam::${ACCOUNT}:role/service-role/AmazonSageMaker-ExecutionRole-fraud`,
      InputDataConfig: [
        {
          ChannelName: 'train',
          DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: `s3://acme-ml-datasets-${ACCOUNT}/fraud/transactions/2026-11-01/train/` } },
        },
      ],
      OutputDataConfig: { S3OutputPath: artifacts(group) },
      ResourceConfig: { InstanceType: 'ml.m5.xlarge', InstanceCount: 1, VolumeSizeInGB: 30 },
      StoppingCondition: { MaxRuntimeInSeconds: 3600 },
      HyperParameters: { max_depth: '6', eta: '0.2' },
    }),
  );
  await completeTrainingJob(standIn.url, {
    TrainingJobName: name,
    FinalMetricDataList: [
      { MetricName: 'validation:auc', Value: auc },
      { MetricName: 'train:auc', Value: auc + 0.03 },
    ],
  });
  return name;
}

const packageInput = (group: string, job: string): CreateModelPackageInput => ({
  ModelPackageGroupName: group,
  ModelPackageDescription: `XGBoost fraud model from ${job}`,
  InferenceSpecification: {
    Containers: [{ Image: IMAGE, ModelDataUrl: `${artifacts(group)}/${job}/output/model.tar.gz` }],
    SupportedContentTypes: ['text/csv'],
    SupportedResponseMIMETypes: ['text/csv'],
  },
  ModelMetrics: {
    ModelQuality: {
      Statistics: { ContentType: 'application/json', S3Uri: `s3://acme-ml-artifacts-${ACCOUNT}/${group}/evaluation/${job}/evaluation.json`, ContentDigest: REPORT_DIGEST },
    },
  },
  CustomerMetadataProperties: { intended_use: 'card-not-present fraud scoring', fairness_review: '1' },
});

/** Registers a version in the stand-in; its event goes nowhere. */
/** A completed job (auc 0.91) that SageMaker knows and modelgate recorded, as its event would have it. */
async function recordedJob(deps: Deps, group: string, name: string): Promise<string> {
  const job = await trainedJob(group, name, 0.91);
  const described = await deps.registry.describeTrainingJob(job);
  if (!described) throw new Error('no job');
  await recordTrainingJob(deps, described.detail);
  return job;
}

async function register(group: string, job: string): Promise<string> {
  const { ModelPackageArn } = await sm.send(new CreateModelPackageCommand(packageInput(group, job)));
  if (!ModelPackageArn) throw new Error('no ARN');
  return ModelPackageArn;
}

/** A governed group: its policy in the table, the group in the stand-in. */
async function governedGroup(deps: Deps, prefix: string): Promise<ReturnType<typeof story>> {
  const s = story(prefix);
  await putPolicy(deps, s.policy());
  await sm.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: s.group }));
  return s;
}

const status = async (arn: string) => (await sm.send(new DescribeModelPackageCommand({ ModelPackageName: arn }))).ModelApprovalStatus;
const lastModified = async (arn: string) => (await sm.send(new DescribeModelPackageCommand({ ModelPackageName: arn }))).LastModifiedTime?.getTime();
const published = () => sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
const commands = () => sent.map((c) => c.command);

/**
 * Every DynamoDB request the table's client sends from now on, by operation (BatchGetItem for
 * the document client's BatchGet), with the number of keys of each BatchGetItem.
 */
function countDynamo(table: TestTable): { ops: string[]; batchGetKeys: number[]; reset(): void } {
  const seen = { ops: [] as string[], batchGetKeys: [] as number[], reset: () => ((seen.ops = []), (seen.batchGetKeys = [])) };
  const names: Record<string, string> = { BatchGet: 'BatchGetItem', Get: 'GetItem', Put: 'PutItem', Update: 'UpdateItem', TransactWrite: 'TransactWriteItems' };
  table.client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = String(context.commandName).replace(/Command$/, '');
      const op = names[name] ?? name;
      seen.ops.push(op);
      if (op === 'BatchGetItem') {
        const items = (args.input as { RequestItems: Record<string, { Keys: unknown[] }> }).RequestItems;
        seen.batchGetKeys.push(Object.values(items).reduce((n, r) => n + r.Keys.length, 0));
      }
      return next(args);
    },
    { step: 'initialize', name: 'countDynamo' },
  );
  return seen;
}

/** A version recorded as Rejected (as its event would), with no SageMaker call: the gate only records a Rejected. */
async function recordRejected(deps: Deps, group: string, version: number): Promise<string> {
  const arn = `arn:aws:sagemaker:${REGION}:${ACCOUNT}:model-package/${group}/${version}`;
  const detail = ModelPackageDetailSchema.parse({
    ModelPackageGroupName: group,
    ModelPackageVersion: version,
    ModelPackageArn: arn,
    ModelApprovalStatus: 'Rejected',
    ModelPackageStatus: 'Completed',
    CreationTime: Date.parse('2026-11-27T09:00:00Z') + version,
    LastModifiedTime: Date.parse('2026-11-27T10:00:00Z') + version,
  });
  expect((await handleModelPackageChange(deps, detail)).outcome).toBe('recorded');
  return arn;
}

/** The group's audit entries, oldest first. */
async function auditTrail(deps: Deps, group: string) {
  return { entries: await scopeEntries(deps, groupScope(group)) };
}

/** How many audit entries the group's scope and the whole table hold: unchanged means nothing was audited. */
async function auditCounts(deps: Deps, table: TestTable, group: string) {
  return { scope: (await scopeEntries(deps, groupScope(group))).length, table: await countEntries(table) };
}

describe('reconcile', () => {
  it('records and gates the versions whose events were missed, reverts an approval made behind its back, and a second run changes nothing', async () => {
    const { deps, table } = await freshDeps();
    const s = await governedGroup(deps, 'recon');
    const goodJob = await trainedJob(s.group, 'recon-xgb-good-1', 0.912);
    const lowJob = await trainedJob(s.group, 'recon-xgb-low-2', 0.801);
    const lateJob = await trainedJob(s.group, 'recon-xgb-good-3', 0.93); // its training event was missed too
    for (const job of [goodJob, lowJob]) {
      const described = await deps.registry.describeTrainingJob(job);
      if (!described) throw new Error(`no job ${job}`);
      await recordTrainingJob(deps, described.detail);
    }

    // v1: recorded by modelgate (its event delivered), review open…
    const v1 = await register(s.group, goodJob);
    expect((await handleModelPackageChange(deps, await deps.registry.describeModelPackageDetail(v1))).outcome).toBe('review-opened');
    // …then approved in the console; that event is lost.
    await console_.send(new UpdateModelPackageCommand({ ModelPackageArn: v1, ModelApprovalStatus: 'Approved', ApprovalDescription: 'looks fine to me' }));
    // v2 (fails the policy) and v3 (passes; job not recorded either): never seen by modelgate.
    const v2 = await register(s.group, lowJob);
    const v3 = await register(s.group, lateJob);
    const before = await auditTrail(deps, s.group);
    sns.resetHistory();
    sent = [];

    const report = await reconcile(deps, { modelPackageGroupName: s.group });

    expect(report).toEqual({
      groups: [
        {
          group: s.group,
          registryVersions: 3,
          recorded: 1,
          missing: [v3, v2],
          unexplainedApprovals: [v1],
          statusDrift: [],
          stuck: [],
          actions: [
            { arn: v3, outcome: 'review-opened' },
            { arn: v2, outcome: 'rejected', then: ['recorded'] },
            { arn: v1, outcome: 'approval-reverted', then: ['recorded'] },
          ],
        },
      ],
      totals: { groups: 1, registryVersions: 3, recorded: 1, missing: 2, unexplainedApprovals: 1, statusDrift: 0, stuck: 0, actions: 3, failures: 0 },
      failures: [],
      dryRun: false,
    });

    // The registry now: the console approval undone, the weak version rejected, the good one waiting for review.
    expect([await status(v1), await status(v2), await status(v3)]).toEqual(['PendingManualApproval', 'Rejected', 'PendingManualApproval']);
    const d1 = await sm.send(new DescribeModelPackageCommand({ ModelPackageName: v1 }));
    expect(d1.LastModifiedBy?.IamIdentity?.Arn).toBe(roleArn(MODELGATE));
    expect(d1.ApprovalDescription).toBe(
      `modelgate: reverted an approval by ${roleArn(CONSOLE_USER)} that no modelgate decision explains; approvals go through modelgate's review.`,
    );
    const updates = sent.filter((c) => c.command === 'UpdateModelPackageCommand').map((c) => [c.input.ModelPackageArn, c.input.ModelApprovalStatus]);
    expect(updates).toEqual([
      [v2, 'Rejected'],
      [v1, 'PendingManualApproval'],
    ]);

    // The table now matches the registry.
    expect(await deps.store.getVersion({ group: s.group, version: 1 })).toMatchObject({ status: 'PendingManualApproval', gateState: 'passed', pendingEffects: {} });
    expect(await deps.store.getVersion({ group: s.group, version: 2 })).toMatchObject({ status: 'Rejected', gateState: 'failed', job: { name: lowJob } });
    expect(await deps.store.getVersion({ group: s.group, version: 3 })).toMatchObject({
      status: 'PendingManualApproval',
      gateState: 'passed',
      job: { name: lateJob },
      review: { status: 'Open' },
    });

    // The audit trail says what happened, in a log that verifies.
    const after = await auditTrail(deps, s.group);
    expect(await logVerifies(table)).toMatchObject({ ok: true });
    const added = addedEntries(before.entries, after.entries).map((e) => [e.action, e.subject]);
    expect(added).toEqual([
      ['version.gate-passed', v3],
      ['review.opened', v3],
      ['version.gate-failed', v2],
      ['version.status-changed', v2],
      ['approval.reverted', v1],
      ['version.status-changed', v1],
    ]);
    const reverted = after.entries.find((e) => e.action === 'approval.reverted');
    expect(reverted).toMatchObject({ actor: roleArn(CONSOLE_USER), detail: { observed: 'Approved', revertTo: 'PendingManualApproval', fallback: 'Rejected' } });

    // The governance notice for the reverted approval, exactly.
    expect(published().filter((p) => p.MessageAttributes?.event?.StringValue === 'approval-reverted')).toEqual([
      {
        TopicArn: TOPICS.governance,
        Subject: `Approval reverted: ${s.group} v1`,
        Message: [
          `${roleArn(CONSOLE_USER)} set ${v1} to Approved outside modelgate.`,
          'No recorded modelgate decision explains it, so modelgate set it back to PendingManualApproval (or Rejected if SageMaker refuses that).',
          '',
          TRUST_LINE,
        ].join('\n'),
        MessageAttributes: {
          event: { DataType: 'String', StringValue: 'approval-reverted' },
          group: { DataType: 'String', StringValue: s.group },
        },
      },
    ]);
    // And the others: the rejection notice for v2, one review message per reviewer for v3.
    expect(published().map((p) => [p.TopicArn, p.MessageAttributes?.event?.StringValue, p.MessageAttributes?.reviewer?.StringValue])).toEqual([
      [TOPICS.reviewers, expect.any(String), 'risk-officer@acme-bank.example'],
      [TOPICS.reviewers, expect.any(String), 'ml-lead@acme-bank.example'],
      [TOPICS.governance, 'version-rejected', undefined],
      [TOPICS.governance, 'approval-reverted', undefined],
    ]);

    // The second run: no drift, and nothing changes.
    const stamps = [await lastModified(v1), await lastModified(v2), await lastModified(v3)];
    sns.resetHistory();
    sent = [];
    const again = await reconcile(deps, { modelPackageGroupName: s.group });
    expect(again.groups[0]).toEqual({
      group: s.group,
      registryVersions: 3,
      recorded: 3,
      missing: [],
      unexplainedApprovals: [],
      statusDrift: [],
      stuck: [],
      actions: [],
    });
    expect(again.totals).toMatchObject({ missing: 0, unexplainedApprovals: 0, statusDrift: 0, actions: 0, failures: 0 });
    expect(commands()).toEqual(['ListModelPackagesCommand']);
    expect(published()).toEqual([]);
    expect((await auditTrail(deps, s.group)).entries).toHaveLength(after.entries.length);
    expect([await lastModified(v1), await lastModified(v2), await lastModified(v3)]).toEqual(stamps);
  });

  it('lists with ModelPackageType Versioned, newest first, 100 a page, and follows NextToken (a dry run over 101 missing versions)', async () => {
    const { deps, table } = await freshDeps();
    const s = await governedGroup(deps, 'recpage');
    const job = await trainedJob(s.group, 'recpage-xgb-1', 0.91);
    const arns: string[] = [];
    for (let i = 0; i < 101; i++) arns.push(await register(s.group, job));
    const audited = await auditCounts(deps, table, s.group);
    sent = [];

    const report = await reconcile(deps, { dryRun: true });

    expect(report.dryRun).toBe(true);
    expect(report.groups).toHaveLength(1);
    expect(report.groups[0]).toMatchObject({ group: s.group, registryVersions: 101, recorded: 0, actions: [] });
    expect(report.groups[0]?.missing).toEqual([...arns].reverse());
    const lists = sent.filter((c) => c.command === 'ListModelPackagesCommand').map((c) => c.input);
    const query = { ModelPackageGroupName: s.group, ModelPackageType: 'Versioned', SortBy: 'CreationTime', SortOrder: 'Descending', MaxResults: 100 };
    expect(lists).toEqual([query, { ...query, NextToken: expect.any(String) }]);
    // A dry run only lists (the versions, and the endpoints in service): no Describe, no Update, no write, no message.
    expect(commands()).toEqual(['ListModelPackagesCommand', 'ListModelPackagesCommand', 'ListEndpointsCommand']);
    expect(await deps.store.getVersion({ group: s.group, version: 1 })).toBeUndefined();
    expect(await auditCounts(deps, table, s.group)).toEqual(audited);
    expect(published()).toEqual([]);
    expect(await status(arns[0] ?? '')).toBe('PendingManualApproval');
  });

  it('a dry run reports an unexplained approval and drift without touching either', async () => {
    const { deps, table } = await freshDeps();
    const s = await governedGroup(deps, 'recdry');
    const job = await recordedJob(deps, s.group, 'recdry-xgb-1');
    const v1 = await register(s.group, job);
    const v2 = await register(s.group, job);
    for (const arn of [v1, v2]) await handleModelPackageChange(deps, await deps.registry.describeModelPackageDetail(arn));
    await console_.send(new UpdateModelPackageCommand({ ModelPackageArn: v1, ModelApprovalStatus: 'Approved' }));
    await console_.send(new UpdateModelPackageCommand({ ModelPackageArn: v2, ModelApprovalStatus: 'Rejected' }));
    const audited = await auditCounts(deps, table, s.group);
    sns.resetHistory();
    sent = [];

    const report = await reconcile(deps, { modelPackageGroupName: s.group, dryRun: true });

    expect(report.groups).toEqual([
      {
        group: s.group,
        registryVersions: 2,
        recorded: 2,
        missing: [],
        unexplainedApprovals: [v1],
        statusDrift: [{ arn: v2, registry: 'Rejected', recorded: 'PendingManualApproval' }],
        stuck: [],
        actions: [],
      },
    ]);
    expect(commands()).toEqual(['ListModelPackagesCommand']);
    expect(await status(v1)).toBe('Approved');
    expect(await deps.store.getVersion({ group: s.group, version: 2 })).toMatchObject({ status: 'PendingManualApproval' });
    expect(await auditCounts(deps, table, s.group)).toEqual(audited);
    expect(published()).toEqual([]);

    // For real this time: the rejection made in the console is recorded, the approval reverted.
    const real = await reconcile(deps, { modelPackageGroupName: s.group });
    expect(real.groups[0]?.actions).toEqual([
      { arn: v2, outcome: 'recorded' },
      { arn: v1, outcome: 'approval-reverted', then: ['recorded'] },
    ]);
    expect(await deps.store.getVersion({ group: s.group, version: 2 })).toMatchObject({ status: 'Rejected' });
    expect(await status(v1)).toBe('PendingManualApproval');
  });

  it('the daily schedule reconciles every governed group; a group with no versions reports zeros', async () => {
    const { deps, table } = await freshDeps();
    const s = await governedGroup(deps, 'recempty');
    const audited = await auditCounts(deps, table, s.group);
    const scheduled = {
      version: '0',
      id: '89d1a02d-5ec7-412e-82f5-13505f849b41',
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: ACCOUNT,
      time: '2026-11-28T06:00:00Z',
      region: REGION,
      resources: [`arn:aws:events:${REGION}:${ACCOUNT}:rule/modelgate-dev-reconcile`],
      detail: {},
    };

    const report = await reconcile(deps, scheduled);

    expect(report).toEqual({
      groups: [{ group: s.group, registryVersions: 0, recorded: 0, missing: [], unexplainedApprovals: [], statusDrift: [], stuck: [], actions: [] }],
      totals: { groups: 1, registryVersions: 0, recorded: 0, missing: 0, unexplainedApprovals: 0, statusDrift: 0, stuck: 0, actions: 0, failures: 0 },
      // The schedule reconciles the endpoints too; SageMaker lists none in service here.
      endpoints: { inService: 0, inStep: 0, missing: [], outdated: [], gone: [], actions: [] },
      failures: [],
      dryRun: false,
    });
    expect(await auditCounts(deps, table, s.group)).toEqual(audited);
  });

  it('refuses a bad payload with a ValidationError naming each problem, and calls and writes nothing', async () => {
    const { deps } = await freshDeps();
    const s = await governedGroup(deps, 'recbad');
    await register(s.group, await trainedJob(s.group, 'recbad-xgb-1', 0.91));
    sent = [];

    const error = await reconcile(deps, { modelPackageGroupName: 'fraud detector!', dryRun: 'yes', group: 'x' }).then(
      () => undefined,
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).problems).toEqual([
      'modelPackageGroupName: must be a SageMaker model package group name',
      'dryRun: Invalid input: expected boolean, received string',
      '(root): Unrecognized key: "group"',
    ]);
    await expect(reconcile(deps, [])).rejects.toThrow(ValidationError);
    expect(sent).toEqual([]);
    expect(await deps.store.getVersion({ group: s.group, version: 1 })).toBeUndefined();
    expect(published()).toEqual([]);
  });

  it('one failing version does not stop the others; the run fails at the end with the report, and the next run finishes the job', async () => {
    const { deps } = await freshDeps();
    const s = await governedGroup(deps, 'recfail');
    const job = await trainedJob(s.group, 'recfail-xgb-1', 0.91);
    const v1 = await register(s.group, job);
    const v2 = await register(s.group, job);
    const flaky: Deps = {
      ...deps,
      registry: {
        ...deps.registry,
        describeModelPackageDetail: async (arn) => {
          if (arn === v2) throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
          return deps.registry.describeModelPackageDetail(arn);
        },
      },
    };

    const error = await reconcile(flaky, {}).then(
      () => undefined,
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(IncompleteRun);
    const incomplete = error as IncompleteRun<ReconcileReport>;
    expect(incomplete.name).toBe('IncompleteRun');
    expect(incomplete.retryable).toBe(true);
    expect(incomplete.message).toBe(`reconcile incomplete: 1 failure(s): version ${v2}: ThrottlingException: Rate exceeded`);
    expect(incomplete.failures).toEqual([{ kind: 'version', owner: v2, error: 'ThrottlingException: Rate exceeded' }]);
    expect(incomplete.report.failures).toBe(incomplete.failures);
    expect(incomplete.report.totals.failures).toBe(1);
    expect(incomplete.report.groups[0]).toMatchObject({
      missing: [v2, v1],
      actions: [{ arn: v1, outcome: 'review-opened' }],
    });
    expect(await deps.store.getVersion({ group: s.group, version: 1 })).toMatchObject({ gateState: 'passed' });

    const retried = await reconcile(deps, {});
    expect(retried.groups[0]).toMatchObject({ missing: [v2], actions: [{ arn: v2, outcome: 'review-opened' }] });
  });

  it('reads each page of records with one BatchGetItem, and a group in step costs SageMaker only its listing', async () => {
    const { deps, table } = await freshDeps();
    const s = await governedGroup(deps, 'recbulk');
    const job = await recordedJob(deps, s.group, 'recbulk-xgb-1');
    for (let i = 0; i < 101; i++) await register(s.group, job);
    // The first run records and gates all 101 (their events were lost); none is confirmed first:
    // a version with no record goes to the gate whatever its status.
    sent = [];
    const first = await reconcile(deps, { modelPackageGroupName: s.group });
    expect(first.totals).toMatchObject({ registryVersions: 101, recorded: 0, missing: 101, actions: 101, failures: 0 });
    expect(commands()).not.toContain('BatchDescribeModelPackageCommand');
    const dynamo = countDynamo(table);
    sent = [];

    const report = await reconcile(deps, {});

    expect(report.groups).toEqual([
      { group: s.group, registryVersions: 101, recorded: 101, missing: [], unexplainedApprovals: [], statusDrift: [], stuck: [], actions: [] },
    ]);
    expect(commands()).toEqual(['ListModelPackagesCommand', 'ListModelPackagesCommand', 'ListEndpointsCommand']);
    // 1 Query (the governed groups) and one BatchGetItem per page: 100 keys, then 1. No GetItem.
    // Then the endpoints: SageMaker lists none, so no record is read; 1 Query of the serving index.
    expect(dynamo.ops).toEqual(['Query', 'BatchGetItem', 'BatchGetItem', 'Query']);
    expect(dynamo.batchGetKeys).toEqual([100, 1]);

    // A listing that calls all 101 Approved (older than the registry, which has them pending, as
    // recorded): 100 confirmed at once, then the last one; none is described or changed.
    const listedApproved: Deps = {
      ...deps,
      registry: {
        ...deps.registry,
        listModelPackages: async (args) => {
          const page = await deps.registry.listModelPackages(args);
          return { ...page, items: page.items.map((i) => ({ ...i, status: 'Approved' as const })) };
        },
      },
    };
    sent = [];
    const stale = await reconcile(listedApproved, { modelPackageGroupName: s.group });
    expect(stale.groups[0]).toMatchObject({ recorded: 101, unexplainedApprovals: [], actions: [] });
    const batches = sent.filter((c) => c.command === 'BatchDescribeModelPackageCommand').map((c) => (c.input.ModelPackageArnList as string[]).length);
    expect(batches).toEqual([100, 1]);
    expect(commands().filter((c) => c !== 'ListModelPackagesCommand' && c !== 'BatchDescribeModelPackageCommand')).toEqual([]);
  });

  it('confirms the statuses of recorded versions that look out of step with one BatchDescribeModelPackage, then describes only those it acts on', async () => {
    const { deps } = await freshDeps();
    const s = await governedGroup(deps, 'recconf');
    const job = await recordedJob(deps, s.group, 'recconf-xgb-1');
    const [v1, v2, v3] = [await register(s.group, job), await register(s.group, job), await register(s.group, job)];
    for (const arn of [v1, v2, v3]) await handleModelPackageChange(deps, await deps.registry.describeModelPackageDetail(arn ?? ''));
    await console_.send(new UpdateModelPackageCommand({ ModelPackageArn: v1, ModelApprovalStatus: 'Approved' }));
    await console_.send(new UpdateModelPackageCommand({ ModelPackageArn: v2, ModelApprovalStatus: 'Rejected' }));
    const v4 = await register(s.group, job); // never seen by modelgate
    sent = [];

    const report = await reconcile(deps, { modelPackageGroupName: s.group });

    expect(report.groups[0]).toMatchObject({
      registryVersions: 4,
      recorded: 3,
      missing: [v4],
      unexplainedApprovals: [v1],
      statusDrift: [{ arn: v2, registry: 'Rejected', recorded: 'PendingManualApproval' }],
    });
    expect(report.groups[0]?.actions).toEqual([
      { arn: v4, outcome: 'review-opened' },
      { arn: v2, outcome: 'recorded' },
      { arn: v1, outcome: 'approval-reverted', then: ['recorded'] },
    ]);
    // The two recorded versions out of step, confirmed in one request, in listing order, before
    // anything is described; v3 (in step) is never described.
    const batch = sent.filter((c) => c.command === 'BatchDescribeModelPackageCommand').map((c) => c.input);
    expect(batch).toEqual([{ ModelPackageArnList: [v2, v1] }]);
    expect(commands().indexOf('BatchDescribeModelPackageCommand')).toBeLessThan(commands().indexOf('DescribeModelPackageCommand'));
    const describedArns = sent.filter((c) => c.command === 'DescribeModelPackageCommand').map((c) => c.input.ModelPackageName);
    expect(new Set(describedArns)).toEqual(new Set([v4, v2, v1]));
    expect(await status(v1)).toBe('PendingManualApproval');
  });

  it('leaves alone a version whose drift is gone by the time it is confirmed (a listing older than the registry)', async () => {
    const { deps, table } = await freshDeps();
    const s = await governedGroup(deps, 'recgone');
    const job = await recordedJob(deps, s.group, 'recgone-xgb-1');
    const v1 = await register(s.group, job);
    await handleModelPackageChange(deps, await deps.registry.describeModelPackageDetail(v1));
    await console_.send(new UpdateModelPackageCommand({ ModelPackageArn: v1, ModelApprovalStatus: 'Approved' }));
    // The listing is taken now (Approved), and the approval is withdrawn before reconcile acts.
    const listed = await deps.registry.listModelPackages({ group: s.group });
    await console_.send(new UpdateModelPackageCommand({ ModelPackageArn: v1, ModelApprovalStatus: 'PendingManualApproval' }));
    const stale: Deps = { ...deps, registry: { ...deps.registry, listModelPackages: async () => listed } };
    const before = await deps.store.getVersion({ group: s.group, version: 1 });
    const audited = await auditCounts(deps, table, s.group);
    sns.resetHistory();
    sent = [];

    const report = await reconcile(stale, { modelPackageGroupName: s.group });

    expect(report.groups[0]).toEqual({ group: s.group, registryVersions: 1, recorded: 1, missing: [], unexplainedApprovals: [], statusDrift: [], stuck: [], actions: [] });
    expect(sent).toEqual([{ command: 'BatchDescribeModelPackageCommand', input: { ModelPackageArnList: [v1] } }]);
    expect(await deps.store.getVersion({ group: s.group, version: 1 })).toEqual(before);
    expect(await auditCounts(deps, table, s.group)).toEqual(audited);
    expect(published()).toEqual([]);
  });

  it('a version that BatchDescribeModelPackage answers with an error is reported and not acted on; the others are', async () => {
    const { deps } = await freshDeps();
    const s = await governedGroup(deps, 'recgone2');
    const job = await recordedJob(deps, s.group, 'recgone2-xgb-1');
    const v1 = await register(s.group, job);
    await handleModelPackageChange(deps, await deps.registry.describeModelPackageDetail(v1));
    await console_.send(new UpdateModelPackageCommand({ ModelPackageArn: v1, ModelApprovalStatus: 'Approved' }));
    // Version 9: recorded as Rejected, listed as Approved, and gone from the registry when confirmed.
    const v9 = await recordRejected(deps, s.group, 9);
    const listing: Deps = {
      ...deps,
      registry: {
        ...deps.registry,
        listModelPackages: async (args) => {
          const page = await deps.registry.listModelPackages(args);
          return { ...page, items: [...page.items, { arn: v9, version: 9, status: 'Approved', createdAt: Date.parse('2026-11-27T09:00:00Z') }] };
        },
      },
    };
    sent = [];

    const error = await reconcile(listing, { modelPackageGroupName: s.group }).then(
      () => undefined,
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(IncompleteRun);
    const { report } = error as IncompleteRun<ReconcileReport>;
    expect(report.groups[0]).toMatchObject({
      unexplainedApprovals: [v1],
      actions: [{ arn: v1, outcome: 'approval-reverted', then: ['recorded'] }],
    });
    expect(report.failures).toEqual([{ kind: 'version', owner: v9, error: `BatchDescribeModelPackage: ValidationException: ModelPackage ${v9} does not exist.` }]);
    expect(sent.filter((c) => c.command === 'BatchDescribeModelPackageCommand').map((c) => c.input)).toEqual([{ ModelPackageArnList: [v1, v9] }]);
    expect(sent.filter((c) => c.command === 'DescribeModelPackageCommand').map((c) => c.input.ModelPackageName)).not.toContain(v9);
    expect(await deps.store.getVersion({ group: s.group, version: 9 })).toMatchObject({ status: 'Rejected' });
  });

  it('when the confirmation itself fails, the listing stands and the versions are still reconciled', async () => {
    const { deps } = await freshDeps();
    const s = await governedGroup(deps, 'recnoconf');
    const job = await recordedJob(deps, s.group, 'recnoconf-xgb-1');
    const v1 = await register(s.group, job);
    await handleModelPackageChange(deps, await deps.registry.describeModelPackageDetail(v1));
    await console_.send(new UpdateModelPackageCommand({ ModelPackageArn: v1, ModelApprovalStatus: 'Approved' }));
    const throttled: Deps = {
      ...deps,
      registry: {
        ...deps.registry,
        batchDescribeModelPackages: async () => {
          throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
        },
      },
    };

    const report = await reconcile(throttled, { modelPackageGroupName: s.group });

    expect(report.groups[0]).toMatchObject({ unexplainedApprovals: [v1], actions: [{ arn: v1, outcome: 'approval-reverted', then: ['recorded'] }] });
    expect(await status(v1)).toBe('PendingManualApproval');
  });
});

describe('store.getVersions', () => {
  it('answers one entry per key, in the keys\' order (undefined where nothing is recorded), 100 keys a BatchGetItem', async () => {
    const { deps, table } = await freshDeps();
    const group = 'getversions-detector';
    const recorded = [1, 2, 4, 150];
    for (const v of recorded) await recordRejected(deps, group, v);
    const dynamo = countDynamo(table);

    const few = await deps.store.getVersions([4, 3, 1, 2].map((version) => ({ group, version })));
    expect(few.map((v) => v?.version)).toEqual([4, undefined, 1, 2]);
    expect(few[0]).toMatchObject({ arn: `arn:aws:sagemaker:${REGION}:${ACCOUNT}:model-package/${group}/4`, status: 'Rejected', rev: 1 });
    expect(few[0]).not.toHaveProperty('PK');
    expect(dynamo.batchGetKeys).toEqual([4]);

    dynamo.reset();
    const many = await deps.store.getVersions(Array.from({ length: 250 }, (_, i) => ({ group: group.toUpperCase(), version: i + 1 })));
    expect(many).toHaveLength(250);
    expect(many.flatMap((v, i) => (v ? [i + 1] : []))).toEqual(recorded);
    expect(dynamo.ops).toEqual(['BatchGetItem', 'BatchGetItem', 'BatchGetItem']);
    expect(dynamo.batchGetKeys).toEqual([100, 100, 50]);

    dynamo.reset();
    expect(await deps.store.getVersions([])).toEqual([]);
    expect(dynamo.ops).toEqual([]);
  });
});
