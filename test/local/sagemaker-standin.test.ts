/**
 * The SageMaker stand-in (local/sagemaker), driven by the real `@aws-sdk/client-sagemaker`,
 * pointed at it through the standard AWS_ENDPOINT_URL_SAGEMAKER (never an explicit `endpoint`).
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import {
  ConflictException,
  CreateModelPackageCommand,
  CreateModelPackageGroupCommand,
  CreateTrainingJobCommand,
  DescribeModelPackageCommand,
  DescribeTrainingJobCommand,
  ListModelPackagesCommand,
  ListTagsCommand,
  SageMakerClient,
  SageMakerServiceException,
  UpdateModelPackageCommand,
  type CreateModelPackageInput,
  type CreateTrainingJobRequest,
} from '@aws-sdk/client-sagemaker';
import { ModelPackageStateChangeSchema, TrainingJobStateChangeSchema } from '../../shared/schemas/events.js';
import { sageMakerRegistry } from '../../shared/aws/sagemaker.js';
import { startSageMakerStandIn, type EventBridgeEvent, type SageMakerStandIn } from '../../local/sagemaker/server.js';
import { callStandIn, completeTrainingJob, failTrainingJob } from '../../local/sagemaker/seed.js';

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const ALICE = 'AKIDLOCALALICE'; // the default credentials (environment)
const BOB = 'AKIDLOCALBOB'; // a second caller, with explicit credentials

const ENV_KEYS = ['AWS_ENDPOINT_URL_SAGEMAKER', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'] as const;
const savedEnv = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));

let standIn: SageMakerStandIn;
let events: EventBridgeEvent[];
let sm: SageMakerClient;
let bob: SageMakerClient;

/** Points the SDK at `url` the standard way, and makes fresh clients (they read the variable when created). */
function clientsFor(url: string): void {
  process.env.AWS_ENDPOINT_URL_SAGEMAKER = url;
  sm?.destroy();
  bob?.destroy();
  sm = new SageMakerClient({});
  bob = new SageMakerClient({ credentials: { accessKeyId: BOB, secretAccessKey: 'local' } });
}

beforeAll(async () => {
  process.env.AWS_REGION = REGION;
  process.env.AWS_ACCESS_KEY_ID = ALICE;
  process.env.AWS_SECRET_ACCESS_KEY = 'local';
  delete process.env.AWS_SESSION_TOKEN;
  events = [];
  standIn = await startSageMakerStandIn({ onEvent: async (e) => void events.push(e) });
  clientsFor(standIn.url);
});

afterAll(async () => {
  sm.destroy();
  bob.destroy();
  await standIn.close();
  for (const k of ENV_KEYS) {
    if (savedEnv[k] === undefined) delete process.env[k];
    else process.env[k] = savedEnv[k];
  }
});

afterEach(() => jest.restoreAllMocks());

let groupCounter = 0;
/** A fresh group per test, so that tests do not see each other's versions. */
async function newGroup(client = sm): Promise<string> {
  const name = `fraud-detector-${++groupCounter}`;
  await client.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: name, ModelPackageGroupDescription: 'fraud models' }));
  return name;
}

const artifact = (job: string) => `s3://acme-ml-artifacts-${ACCOUNT}/fraud-detector/training/${job}/output/model.tar.gz`;

const packageInput = (group: string, job = 'fraud-xgb-1'): CreateModelPackageInput => ({
  ModelPackageGroupName: group,
  ModelPackageDescription: 'XGBoost fraud model, <b>Nov-01</b> snapshot',
  InferenceSpecification: {
    Containers: [
      {
        Image: '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1',
        ImageDigest: 'sha256:8c1a2f5e0b7d4c3a9e6f1d2b5a8c7e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d',
        ModelDataUrl: artifact(job),
      },
    ],
    SupportedContentTypes: ['text/csv'],
    SupportedResponseMIMETypes: ['text/csv'],
  },
  ModelMetrics: {
    ModelQuality: {
      Statistics: {
        ContentType: 'application/json',
        S3Uri: `s3://acme-ml-artifacts-${ACCOUNT}/fraud-detector/evaluation/${job}/evaluation.json`,
        ContentDigest: 'sha256:c08281aec4324ae5e52820ffe239e89fa3a08435de59cc7b8bb1d4930949ad11',
      },
    },
  },
  MetadataProperties: { GeneratedBy: `arn:aws:sagemaker:${REGION}:${ACCOUNT}:pipeline/fraud-detector-train/execution/7qk2m4x9z1pd` },
  CustomerMetadataProperties: { intended_use: 'card-not-present fraud scoring', fairness_review: '1' },
});

const trainingInput = (name: string): CreateTrainingJobRequest => ({
  TrainingJobName: name,
  AlgorithmSpecification: { TrainingImage: '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1', TrainingInputMode: 'File' },
  RoleArn: `arn:aws:iam::${ACCOUNT}:role/service-role/AmazonSageMaker-ExecutionRole-fraud`,
  InputDataConfig: [
    {
      ChannelName: 'train',
      DataSource: {
        S3DataSource: {
          S3DataType: 'S3Prefix',
          S3Uri: `s3://acme-ml-datasets-${ACCOUNT}/fraud/transactions/2026-11-01/train/`,
          S3DataDistributionType: 'FullyReplicated',
        },
      },
      ContentType: 'text/csv',
    },
  ],
  OutputDataConfig: { S3OutputPath: `s3://acme-ml-artifacts-${ACCOUNT}/fraud-detector/training/` },
  ResourceConfig: { InstanceType: 'ml.m5.xlarge', InstanceCount: 1, VolumeSizeInGB: 30 },
  StoppingCondition: { MaxRuntimeInSeconds: 3600 },
  HyperParameters: { max_depth: '6', eta: '0.2', objective: 'binary:logistic' },
  Tags: [
    { Key: 'team', Value: 'fraud-ml' },
    { Key: 'cost-center', Value: 'cc-4711' },
  ],
});

/** The events delivered since `from` (after draining the queue). */
async function eventsSince(from: number): Promise<EventBridgeEvent[]> {
  await standIn.drain();
  return events.slice(from);
}

/** What the SDK threw. */
async function failure(p: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected the call to fail');
}

const roleArn = (akid: string) => `arn:aws:sts::${ACCOUNT}:assumed-role/local/${akid}`;

describe('model packages through the real SDK', () => {
  it('CreateModelPackageGroup + CreateModelPackage → DescribeModelPackage round trip, with Dates', async () => {
    const group = await newGroup();
    const before = Date.now();
    const { ModelPackageArn } = await sm.send(new CreateModelPackageCommand(packageInput(group)));
    const after = Date.now();
    expect(ModelPackageArn).toBe(`arn:aws:sagemaker:${REGION}:${ACCOUNT}:model-package/${group}/1`);

    const d = await sm.send(new DescribeModelPackageCommand({ ModelPackageName: ModelPackageArn }));
    expect(d).toMatchObject({
      ModelPackageGroupName: group,
      ModelPackageVersion: 1,
      ModelPackageArn,
      ModelPackageDescription: 'XGBoost fraud model, <b>Nov-01</b> snapshot',
      ModelPackageStatus: 'Completed',
      ModelApprovalStatus: 'PendingManualApproval',
      InferenceSpecification: packageInput(group).InferenceSpecification,
      ModelMetrics: packageInput(group).ModelMetrics,
      MetadataProperties: packageInput(group).MetadataProperties,
      CustomerMetadataProperties: packageInput(group).CustomerMetadataProperties,
      CreatedBy: { IamIdentity: { Arn: roleArn(ALICE) } },
      LastModifiedBy: { IamIdentity: { Arn: roleArn(ALICE) } },
    });
    // Epoch seconds on the wire, Dates in the SDK, to the millisecond.
    expect(d.CreationTime).toBeInstanceOf(Date);
    expect(d.LastModifiedTime).toBeInstanceOf(Date);
    expect(d.CreationTime?.getTime()).toBeGreaterThanOrEqual(before);
    expect(d.CreationTime?.getTime()).toBeLessThanOrEqual(after);
    expect(d.LastModifiedTime?.getTime()).toBe(d.CreationTime?.getTime());

    // `group/version` names the same package.
    const byName = await sm.send(new DescribeModelPackageCommand({ ModelPackageName: `${group}/1` }));
    expect(byName.ModelPackageArn).toBe(ModelPackageArn);
  });

  it('emits a "SageMaker Model Package State Change" that modelgate’s schema parses', async () => {
    const group = await newGroup();
    const from = events.length;
    const { ModelPackageArn } = await sm.send(new CreateModelPackageCommand(packageInput(group)));
    const d = await sm.send(new DescribeModelPackageCommand({ ModelPackageName: ModelPackageArn }));
    const [event, ...more] = await eventsSince(from);
    expect(more).toHaveLength(0);
    expect(event).toMatchObject({
      version: '0',
      'detail-type': 'SageMaker Model Package State Change',
      source: 'aws.sagemaker',
      account: ACCOUNT,
      region: REGION,
      resources: [ModelPackageArn],
      detail: {
        ModelPackageGroupName: group,
        ModelPackageVersion: 1,
        ModelPackageArn,
        ModelApprovalStatus: 'PendingManualApproval',
        ModelPackageStatus: 'Completed',
        InferenceSpecification: packageInput(group).InferenceSpecification,
        CustomerMetadataProperties: packageInput(group).CustomerMetadataProperties,
      },
    });
    expect(event?.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(event?.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(event?.detail['CreationTime']).toBe(d.CreationTime?.toISOString());
    // No caller in the event: that is DescribeModelPackage's job.
    expect(event?.detail).not.toHaveProperty('CreatedBy');
    expect(event?.detail).not.toHaveProperty('LastModifiedBy');

    const parsed = ModelPackageStateChangeSchema.parse(event);
    expect(parsed.detail.ModelPackageVersion).toBe(1);
    expect(parsed.detail.CreationTime).toBe(d.CreationTime?.getTime());
    expect(parsed.detail.ModelMetrics?.ModelQuality?.Statistics?.S3Uri).toMatch(/evaluation\.json$/);
  });

  it('UpdateModelPackage changes the status, records who, and emits', async () => {
    const group = await newGroup();
    const { ModelPackageArn } = await sm.send(new CreateModelPackageCommand(packageInput(group)));
    const created = await sm.send(new DescribeModelPackageCommand({ ModelPackageName: ModelPackageArn }));
    const from = (await eventsSince(0)).length;

    const out = await bob.send(
      new UpdateModelPackageCommand({ ModelPackageArn, ModelApprovalStatus: 'Approved', ApprovalDescription: 'quorum met (2/2)' }),
    );
    expect(out.ModelPackageArn).toBe(ModelPackageArn);

    const d = await sm.send(new DescribeModelPackageCommand({ ModelPackageName: ModelPackageArn }));
    expect(d.ModelApprovalStatus).toBe('Approved');
    expect(d.ApprovalDescription).toBe('quorum met (2/2)');
    expect(d.CreatedBy?.IamIdentity?.Arn).toBe(roleArn(ALICE));
    expect(d.LastModifiedBy?.IamIdentity?.Arn).toBe(roleArn(BOB));
    expect(d.LastModifiedTime?.getTime()).toBeGreaterThan(created.LastModifiedTime?.getTime() ?? Infinity);
    expect(d.CreationTime).toEqual(created.CreationTime);

    const changes = await eventsSince(from);
    expect(changes).toHaveLength(1);
    const parsed = ModelPackageStateChangeSchema.parse(changes[0]);
    expect(parsed.detail.ModelApprovalStatus).toBe('Approved');
    expect(parsed.detail.ApprovalDescription).toBe('quorum met (2/2)');
    expect(parsed.detail.LastModifiedTime).toBe(d.LastModifiedTime?.getTime());
  });

  it('the same ClientToken twice: one change, one event, the same answer', async () => {
    const group = await newGroup();
    const { ModelPackageArn } = await sm.send(new CreateModelPackageCommand(packageInput(group)));
    const from = (await eventsSince(0)).length;
    const update = { ModelPackageArn, ModelApprovalStatus: 'Rejected' as const, ApprovalDescription: 'AUC 0.80 < 0.85', ClientToken: 'decision-42' };

    const first = await sm.send(new UpdateModelPackageCommand(update));
    const afterFirst = await sm.send(new DescribeModelPackageCommand({ ModelPackageName: ModelPackageArn }));
    const second = await bob.send(new UpdateModelPackageCommand(update));
    const afterSecond = await sm.send(new DescribeModelPackageCommand({ ModelPackageName: ModelPackageArn }));

    expect(second.ModelPackageArn).toBe(first.ModelPackageArn);
    expect(afterSecond.LastModifiedTime).toEqual(afterFirst.LastModifiedTime);
    expect(afterSecond.LastModifiedBy?.IamIdentity?.Arn).toBe(roleArn(ALICE)); // Bob's repeat changed nothing
    expect(await eventsSince(from)).toHaveLength(1);
  });

  it('the same ClientToken with other parameters: ConflictException, nothing changes', async () => {
    const group = await newGroup();
    const { ModelPackageArn } = await sm.send(new CreateModelPackageCommand(packageInput(group)));
    await sm.send(new UpdateModelPackageCommand({ ModelPackageArn, ModelApprovalStatus: 'Approved', ClientToken: 'token-1' }));
    const from = (await eventsSince(0)).length;

    const e = await failure(sm.send(new UpdateModelPackageCommand({ ModelPackageArn, ModelApprovalStatus: 'Rejected', ClientToken: 'token-1' })));
    expect(e).toBeInstanceOf(ConflictException);
    expect(e.name).toBe('ConflictException');
    expect(e.message).toBe(`ClientToken token-1 was already used for UpdateModelPackage on ${ModelPackageArn} with different parameters.`);
    expect(e.$metadata?.httpStatusCode).toBe(400);

    const d = await sm.send(new DescribeModelPackageCommand({ ModelPackageName: ModelPackageArn }));
    expect(d.ModelApprovalStatus).toBe('Approved');
    expect(await eventsSince(from)).toHaveLength(0);
  });

  it('a status outside Approved | Rejected | PendingManualApproval: ValidationException', async () => {
    const group = await newGroup();
    const { ModelPackageArn } = await sm.send(new CreateModelPackageCommand(packageInput(group)));
    const e = await failure(
      sm.send(new UpdateModelPackageCommand({ ModelPackageArn, ModelApprovalStatus: 'Approve' as unknown as 'Approved' })),
    );
    // SageMaker's model does not declare ValidationException: the SDK throws its base class, named after __type.
    expect(e).toBeInstanceOf(SageMakerServiceException);
    expect(e.name).toBe('ValidationException');
    expect(e.message).toBe(
      "1 validation error detected: Value 'Approve' at 'modelApprovalStatus' failed to satisfy constraint: " +
        'Member must satisfy enum value set: [Approved, Rejected, PendingManualApproval]',
    );
    const d = await sm.send(new DescribeModelPackageCommand({ ModelPackageName: ModelPackageArn }));
    expect(d.ModelApprovalStatus).toBe('PendingManualApproval');
  });

  it('an unknown ARN: ValidationException from Describe and from Update', async () => {
    const arn = `arn:aws:sagemaker:${REGION}:${ACCOUNT}:model-package/no-such-group/7`;
    const described = await failure(sm.send(new DescribeModelPackageCommand({ ModelPackageName: arn })));
    expect(described.name).toBe('ValidationException');
    expect(described.message).toBe(`ModelPackage ${arn} does not exist.`);
    const updated = await failure(sm.send(new UpdateModelPackageCommand({ ModelPackageArn: arn, ModelApprovalStatus: 'Approved' })));
    expect(updated.name).toBe('ValidationException');
    expect(updated.message).toBe(`ModelPackage ${arn} does not exist.`);
  });

  it('CreateModelPackage: unknown group and duplicate group are ValidationExceptions', async () => {
    const missing = await failure(sm.send(new CreateModelPackageCommand(packageInput('no-such-group'))));
    expect(missing.name).toBe('ValidationException');
    expect(missing.message).toBe('ModelPackageGroup no-such-group does not exist.');
    const group = await newGroup();
    const dup = await failure(sm.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: group })));
    expect(dup.name).toBe('ValidationException');
    expect(dup.message).toBe(`Model Package Group already exists: arn:aws:sagemaker:${REGION}:${ACCOUNT}:model-package-group/${group}`);
  });

  it('CreateModelPackage: concurrent calls get distinct versions; a repeated ClientToken registers once', async () => {
    const group = await newGroup();
    const from = (await eventsSince(0)).length;
    const arns = await Promise.all(
      Array.from({ length: 6 }, (_, i) => sm.send(new CreateModelPackageCommand(packageInput(group, `job-${i}`))).then((o) => o.ModelPackageArn)),
    );
    expect(new Set(arns).size).toBe(6);
    expect(arns.map((a) => Number(a?.split('/').pop())).sort()).toEqual([1, 2, 3, 4, 5, 6]);

    const once = { ...packageInput(group, 'job-x'), ClientToken: 'register-job-x' };
    const first = await sm.send(new CreateModelPackageCommand(once));
    const again = await sm.send(new CreateModelPackageCommand(once));
    expect(again.ModelPackageArn).toBe(first.ModelPackageArn);
    expect(await eventsSince(from)).toHaveLength(7);
    const other = await failure(sm.send(new CreateModelPackageCommand({ ...once, ModelPackageDescription: 'another' })));
    expect(other.name).toBe('ConflictException');
  });

  it('ListModelPackages: Versioned, Descending, MaxResults 2 pages through 5 versions newest first', async () => {
    const group = await newGroup();
    const arns: string[] = [];
    for (let i = 0; i < 5; i++) arns.push((await sm.send(new CreateModelPackageCommand(packageInput(group, `job-${i}`)))).ModelPackageArn ?? '');
    await newGroup().then((other) => sm.send(new CreateModelPackageCommand(packageInput(other)))); // not listed

    const pages: Array<Array<number | undefined>> = [];
    let NextToken: string | undefined;
    do {
      const page = await sm.send(
        new ListModelPackagesCommand({
          ModelPackageGroupName: group,
          ModelPackageType: 'Versioned',
          SortBy: 'CreationTime',
          SortOrder: 'Descending',
          MaxResults: 2,
          NextToken,
        }),
      );
      pages.push((page.ModelPackageSummaryList ?? []).map((s) => s.ModelPackageVersion));
      for (const s of page.ModelPackageSummaryList ?? []) {
        expect(s).toMatchObject({ ModelPackageGroupName: group, ModelPackageStatus: 'Completed', ModelApprovalStatus: 'PendingManualApproval' });
        expect(s.ModelPackageArn).toBe(arns[(s.ModelPackageVersion ?? 0) - 1]);
        expect(s.CreationTime).toBeInstanceOf(Date);
        expect(s).not.toHaveProperty('ModelPackageName'); // as SageMaker: versioned summaries carry none
      }
      NextToken = page.NextToken;
    } while (NextToken && pages.length < 10);
    expect(pages).toEqual([[5, 4], [3, 2], [1]]);
  });

  it('ListModelPackages: approval filter, CreationTime window, and a token from another query is refused', async () => {
    const group = await newGroup();
    const made = [];
    for (let i = 0; i < 3; i++) made.push(await sm.send(new CreateModelPackageCommand(packageInput(group, `job-${i}`))));
    await sm.send(new UpdateModelPackageCommand({ ModelPackageArn: made[1]?.ModelPackageArn, ModelApprovalStatus: 'Approved' }));
    const approved = await sm.send(new ListModelPackagesCommand({ ModelPackageGroupName: group, ModelApprovalStatus: 'Approved' }));
    expect(approved.ModelPackageSummaryList?.map((s) => s.ModelPackageVersion)).toEqual([2]);

    const v2 = await sm.send(new DescribeModelPackageCommand({ ModelPackageName: `${group}/2` }));
    const later = await sm.send(new ListModelPackagesCommand({ ModelPackageGroupName: group, CreationTimeAfter: v2.CreationTime }));
    expect(later.ModelPackageSummaryList?.map((s) => s.ModelPackageVersion)).toEqual([3]);

    const first = await sm.send(new ListModelPackagesCommand({ ModelPackageGroupName: group, MaxResults: 1 }));
    expect(first.NextToken).toEqual(expect.any(String));
    const e = await failure(sm.send(new ListModelPackagesCommand({ ModelPackageGroupName: group, SortOrder: 'Descending', NextToken: first.NextToken })));
    expect(e.name).toBe('ValidationException');
    const tooMany = await failure(sm.send(new ListModelPackagesCommand({ ModelPackageGroupName: group, MaxResults: 101 })));
    expect(tooMany.message).toMatch(/at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 100/);
  });
});

describe('training jobs', () => {
  it('DescribeTrainingJob of an unknown job: ValidationException "Requested resource not found."', async () => {
    const e = await failure(sm.send(new DescribeTrainingJobCommand({ TrainingJobName: 'never-ran' })));
    expect(e).toBeInstanceOf(SageMakerServiceException);
    expect(e.name).toBe('ValidationException');
    expect(e.message).toBe('Requested resource not found.');
  });

  it('CreateTrainingJob + CompleteTrainingJob: metrics and artifact in Describe, neither metrics nor Dates in the event', async () => {
    const name = 'fraud-xgb-2026-11-27-13-40-18-077';
    const from = events.length;
    const { TrainingJobArn } = await sm.send(new CreateTrainingJobCommand(trainingInput(name)));
    expect(TrainingJobArn).toBe(`arn:aws:sagemaker:${REGION}:${ACCOUNT}:training-job/${name}`);
    const running = await sm.send(new DescribeTrainingJobCommand({ TrainingJobName: name }));
    expect(running).toMatchObject({ TrainingJobStatus: 'InProgress', SecondaryStatus: 'Starting' });
    expect(running.ModelArtifacts).toBeUndefined();
    expect(running.FinalMetricDataList).toBeUndefined();

    await completeTrainingJob(standIn.url, {
      TrainingJobName: name,
      FinalMetricDataList: [
        { MetricName: 'validation:auc', Value: 0.912 },
        { MetricName: 'train:auc', Value: 0.942 },
      ],
    });
    const d = await sm.send(new DescribeTrainingJobCommand({ TrainingJobName: name }));
    expect(d).toMatchObject({
      TrainingJobName: name,
      TrainingJobArn,
      TrainingJobStatus: 'Completed',
      SecondaryStatus: 'Completed',
      HyperParameters: trainingInput(name).HyperParameters,
      AlgorithmSpecification: trainingInput(name).AlgorithmSpecification,
      RoleArn: trainingInput(name).RoleArn,
      InputDataConfig: trainingInput(name).InputDataConfig,
      OutputDataConfig: trainingInput(name).OutputDataConfig,
      ModelArtifacts: { S3ModelArtifacts: artifact(name) }, // the trailing slash of S3OutputPath is not doubled
    });
    expect(d.FinalMetricDataList?.map(({ MetricName, Value }) => ({ MetricName, Value }))).toEqual([
      { MetricName: 'validation:auc', Value: 0.912 },
      { MetricName: 'train:auc', Value: 0.942 },
    ]);
    expect(d.FinalMetricDataList?.[0]?.Timestamp).toEqual(d.TrainingEndTime);
    for (const t of [d.CreationTime, d.TrainingStartTime, d.TrainingEndTime, d.LastModifiedTime]) expect(t).toBeInstanceOf(Date);
    expect(d.TrainingEndTime?.getTime()).toBeGreaterThan(d.CreationTime?.getTime() ?? Infinity);

    const [inProgress, completed, ...more] = await eventsSince(from);
    expect(more).toHaveLength(0);
    expect(TrainingJobStateChangeSchema.parse(inProgress).detail.TrainingJobStatus).toBe('InProgress');
    expect(completed?.resources).toEqual([TrainingJobArn]);
    const detail = completed?.detail ?? {};
    expect(detail).not.toHaveProperty('FinalMetricDataList');
    expect(detail['Tags']).toEqual({ team: 'fraud-ml', 'cost-center': 'cc-4711' });
    expect(detail['ModelArtifacts']).toEqual({ S3ModelArtifacts: artifact(name) });
    for (const k of ['CreationTime', 'TrainingStartTime', 'TrainingEndTime', 'LastModifiedTime']) expect(detail[k]).toMatch(/^\d{13}$/);
    expect(detail['TrainingEndTime']).toBe(String(d.TrainingEndTime?.getTime()));
    const parsed = TrainingJobStateChangeSchema.parse(completed);
    expect(parsed.detail.TrainingJobStatus).toBe('Completed');
    expect(parsed.detail.LastModifiedTime).toBe(d.LastModifiedTime?.getTime());

    const again = await failure(completeTrainingJob(standIn.url, { TrainingJobName: name }));
    expect(again.name).toBe('ValidationException');
  });

  it('FailTrainingJob: Failed with the reason, and an event', async () => {
    const name = 'fraud-xgb-2026-11-27-08-01-33-250';
    await sm.send(new CreateTrainingJobCommand(trainingInput(name)));
    const from = events.length;
    await failTrainingJob(standIn.url, { TrainingJobName: name, FailureReason: 'AlgorithmError: label must be in [0,1]' });
    const d = await sm.send(new DescribeTrainingJobCommand({ TrainingJobName: name }));
    expect(d).toMatchObject({ TrainingJobStatus: 'Failed', SecondaryStatus: 'Failed', FailureReason: 'AlgorithmError: label must be in [0,1]' });
    expect(d.ModelArtifacts).toBeUndefined();
    const [event] = await eventsSince(from);
    const parsed = TrainingJobStateChangeSchema.parse(event);
    expect(parsed.detail).toMatchObject({ TrainingJobStatus: 'Failed', FailureReason: 'AlgorithmError: label must be in [0,1]' });
  });

  it('CreateTrainingJob with a name already used: ValidationException', async () => {
    await sm.send(new CreateTrainingJobCommand(trainingInput('twice')));
    const e = await failure(sm.send(new CreateTrainingJobCommand(trainingInput('twice'))));
    expect(e.name).toBe('ValidationException');
    expect(e.message).toMatch(/a training job with this name already exists/);
  });
});

describe('modelgate’s own SageMaker adapter (shared/aws/sagemaker.ts) against the stand-in', () => {
  it('describes a training job with its metrics, a model package with its people, and sets the status', async () => {
    const registry = sageMakerRegistry(sm);
    const name = 'fraud-xgb-adapter';
    await sm.send(new CreateTrainingJobCommand(trainingInput(name)));
    await completeTrainingJob(standIn.url, { TrainingJobName: name, FinalMetricDataList: [{ MetricName: 'validation:auc', Value: 0.9 }] });
    const job = await registry.describeTrainingJob(name);
    expect(job?.metrics).toEqual({ 'validation:auc': 0.9 });
    expect(job?.detail.ModelArtifacts?.S3ModelArtifacts).toBe(artifact(name));
    expect(await registry.describeTrainingJob('never-ran')).toBeUndefined();

    const group = await newGroup();
    const { ModelPackageArn = '' } = await sm.send(new CreateModelPackageCommand(packageInput(group, name)));
    await expect(
      registry.setApprovalStatus({ modelPackageArn: ModelPackageArn, status: 'Rejected', description: 'policy v3: AUC', clientToken: 'abc-1' }),
    ).resolves.toBe('updated');
    await expect(registry.describeModelPackage(ModelPackageArn)).resolves.toEqual({
      createdBy: roleArn(ALICE),
      lastModifiedBy: roleArn(ALICE),
      status: 'Rejected',
    });
  });

  it("lists a training job's tags (ListTags, every page), which DescribeTrainingJob does not carry", async () => {
    const registry = sageMakerRegistry(sm);
    const name = 'fraud-xgb-tags';
    const many = Array.from({ length: 50 }, (_, i) => ({ Key: `k${String(i).padStart(2, '0')}`, Value: `v${i}` }));
    const tags = [...many.slice(0, 48), { Key: 'sagemaker:user-profile-arn', Value: `arn:aws:sagemaker:${REGION}:${ACCOUNT}:user-profile/d-xxxx/ml-lead` }, { Key: 'team', Value: 'fraud-ml' }];
    const { TrainingJobArn = '' } = await sm.send(new CreateTrainingJobCommand({ ...trainingInput(name), Tags: tags }));
    await completeTrainingJob(standIn.url, { TrainingJobName: name, FinalMetricDataList: [{ MetricName: 'validation:auc', Value: 0.9 }] });

    expect((await sm.send(new DescribeTrainingJobCommand({ TrainingJobName: name })) as unknown as Record<string, unknown>)['Tags']).toBeUndefined();
    const first = await sm.send(new ListTagsCommand({ ResourceArn: TrainingJobArn, MaxResults: 50 }));
    expect(first.Tags).toHaveLength(50);
    expect(first.NextToken).toBeUndefined();
    const paged = await sm.send(new ListTagsCommand({ ResourceArn: TrainingJobArn, MaxResults: 50, NextToken: '49' }));
    expect(paged.Tags).toEqual([{ Key: 'team', Value: 'fraud-ml' }]);
    expect(await registry.listTags(TrainingJobArn)).toEqual(Object.fromEntries(tags.map((t) => [t.Key, t.Value])));
    expect((await failure(sm.send(new ListTagsCommand({ ResourceArn: `arn:aws:sagemaker:${REGION}:${ACCOUNT}:training-job/never-ran` })))).name).toBe('ValidationException');
  });
});

describe('the wire and the server', () => {
  it('answers errors as awsJson1_1 does: 400, __type, message, x-amzn-ErrorType', async () => {
    const res = await fetch(`${standIn.url}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'SageMaker.DescribeTrainingJob' },
      body: JSON.stringify({ TrainingJobName: 'never-ran' }),
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/x-amz-json-1.1');
    expect(res.headers.get('x-amzn-errortype')).toBe('ValidationException');
    expect(await res.json()).toEqual({ __type: 'ValidationException', message: 'Requested resource not found.' });

    const unknown = await failure(callStandIn(standIn.url, 'SageMaker.DeleteModelPackage', {}));
    expect(unknown.name).toBe('UnknownOperationException');
  });

  it('timestamps on the wire are epoch seconds (numbers)', async () => {
    const group = await newGroup();
    const { ModelPackageArn } = await callStandIn(standIn.url, 'SageMaker.CreateModelPackage', { ModelPackageGroupName: group });
    const raw = await callStandIn(standIn.url, 'SageMaker.DescribeModelPackage', { ModelPackageName: ModelPackageArn });
    expect(typeof raw['CreationTime']).toBe('number');
    expect(Math.abs((raw['CreationTime'] as number) - Date.now() / 1000)).toBeLessThan(60);
  });

  it('GET /_local/state shows the whole state', async () => {
    const group = await newGroup();
    await sm.send(new CreateModelPackageCommand(packageInput(group)));
    const state = (await (await fetch(`${standIn.url}/_local/state`)).json()) as { groups: Record<string, unknown>; packages: Record<string, unknown> };
    expect(state.groups[group]).toMatchObject({ name: group, lastVersion: 1 });
    expect(state.packages[`arn:aws:sagemaker:${REGION}:${ACCOUNT}:model-package/${group}/1`]).toMatchObject({ approvalStatus: 'PendingManualApproval' });
  });

  it('delivers events in order, one at a time, without holding up the answers; a failed delivery is logged', async () => {
    const delivered: string[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    let running = 0;
    let maxRunning = 0;
    const errors = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const slow = await startSageMakerStandIn({
      onEvent: async (e) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await gate;
        running--;
        delivered.push(String(e.detail['ModelPackageVersion']));
        if (e.detail['ModelPackageVersion'] === 2) throw new Error('the consumer is down');
      },
    });
    try {
      const group = 'ordered';
      await callStandIn(slow.url, 'SageMaker.CreateModelPackageGroup', { ModelPackageGroupName: group });
      for (let i = 0; i < 3; i++) await callStandIn(slow.url, 'SageMaker.CreateModelPackage', { ModelPackageGroupName: group });
      expect(delivered).toEqual([]); // all three answers came back while the first delivery waits
      release();
      await slow.drain();
      expect(delivered).toEqual(['1', '2', '3']);
      expect(maxRunning).toBe(1);
      const logged = errors.mock.calls.map((c) => String(c[0])).join('\n');
      expect(logged).toMatch(/delivery of event [0-9a-f-]{36} .*model-package\/ordered\/2\) failed/);
      // The server goes on after a failed delivery.
      await callStandIn(slow.url, 'SageMaker.DescribeModelPackage', { ModelPackageName: 'ordered/3' });
    } finally {
      await slow.close();
    }
  });

  it('keeps its state across a restart with stateFile (versions, tokens), written atomically', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sagemaker-standin-'));
    const stateFile = join(dir, 'nested', 'state.json');
    const seen: EventBridgeEvent[] = [];
    try {
      const first = await startSageMakerStandIn({ stateFile, onEvent: async (e) => void seen.push(e) });
      clientsFor(first.url);
      await sm.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: 'persisted' }));
      const { ModelPackageArn } = await sm.send(new CreateModelPackageCommand(packageInput('persisted')));
      await sm.send(new UpdateModelPackageCommand({ ModelPackageArn, ModelApprovalStatus: 'Approved', ClientToken: 'kept' }));
      await sm.send(new CreateTrainingJobCommand(trainingInput('persisted-job')));
      const before = await sm.send(new DescribeModelPackageCommand({ ModelPackageName: ModelPackageArn }));
      await first.close();
      expect(JSON.parse(readFileSync(stateFile, 'utf8'))).toMatchObject({ formatVersion: 1, region: REGION, account: ACCOUNT });
      expect(readdirSync(join(dir, 'nested'))).toEqual(['state.json']); // no temporary file left behind

      const second = await startSageMakerStandIn({ stateFile, onEvent: async (e) => void seen.push(e) });
      clientsFor(second.url);
      try {
        const after = await sm.send(new DescribeModelPackageCommand({ ModelPackageName: ModelPackageArn }));
        expect(after).toEqual({ ...before, $metadata: expect.anything() });
        const count = seen.length;
        await sm.send(new UpdateModelPackageCommand({ ModelPackageArn, ModelApprovalStatus: 'Approved', ClientToken: 'kept' }));
        await second.drain();
        expect(seen).toHaveLength(count); // the token survived the restart
        const next = await sm.send(new CreateModelPackageCommand(packageInput('persisted')));
        expect(next.ModelPackageArn).toMatch(/model-package\/persisted\/2$/);
        const job = await sm.send(new DescribeTrainingJobCommand({ TrainingJobName: 'persisted-job' }));
        expect(job.TrainingJobStatus).toBe('InProgress');
      } finally {
        await second.close();
      }
    } finally {
      clientsFor(standIn.url);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('close() frees the port', async () => {
    const first = await startSageMakerStandIn({});
    clientsFor(first.url);
    await sm.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: 'keep-alive' })); // leaves a kept-alive socket
    await first.close();
    const again = await startSageMakerStandIn({ port: first.port });
    try {
      expect(again.port).toBe(first.port);
      clientsFor(again.url);
      await sm.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: 'keep-alive' })); // a fresh, empty registry
    } finally {
      clientsFor(standIn.url);
      await again.close();
    }
  });
});
