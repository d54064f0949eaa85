/**
 * The SageMaker stand-in (local/sagemaker), driven by the real `@aws-sdk/client-sagemaker`,
 * pointed at it through the standard AWS_ENDPOINT_URL_SAGEMAKER (never an explicit `endpoint`).
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import {
  BatchDescribeModelPackageCommand,
  ConflictException,
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  CreateModelPackageCommand,
  CreateModelPackageGroupCommand,
  CreateTrainingJobCommand,
  DeleteEndpointCommand,
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  DescribeModelCommand,
  DescribeModelPackageCommand,
  DescribeTrainingJobCommand,
  ListEndpointsCommand,
  ListModelPackagesCommand,
  ListTagsCommand,
  SageMakerClient,
  SageMakerServiceException,
  UpdateEndpointCommand,
  UpdateModelPackageCommand,
  type CreateModelPackageInput,
  type CreateTrainingJobRequest,
  type ProductionVariant,
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

// ---------------------------------------------------------------------------------------------
// Hosting: models, endpoint configurations, endpoints (issue 11)

const EXECUTION_ROLE = `arn:aws:iam::${ACCOUNT}:role/service-role/AmazonSageMaker-ExecutionRole-fraud`;
const XGBOOST = '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1';
const XGBOOST_DIGEST = 'sha256:8c1a2f5e0b7d4c3a9e6f1d2b5a8c7e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d';
const CHALLENGER_IMAGE = `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/fraud-lightgbm@sha256:0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0`;
const arnOf = (resource: string) => `arn:aws:sagemaker:${REGION}:${ACCOUNT}:${resource}`;

let hostingCounter = 0;

/**
 * A registered version and two models (one from the version, one from an image), named uniquely
 * per test: `<prefix>-<n>-champion`, `<prefix>-<n>-challenger`.
 */
async function twoModels(prefix = 'fraud') {
  const n = ++hostingCounter;
  const group = await newGroup();
  const { ModelPackageArn = '' } = await sm.send(new CreateModelPackageCommand(packageInput(group)));
  const champion = `${prefix}-${n}-champion`;
  const challenger = `${prefix}-${n}-challenger`;
  await sm.send(new CreateModelCommand({ ModelName: champion, PrimaryContainer: { ModelPackageName: ModelPackageArn }, ExecutionRoleArn: EXECUTION_ROLE }));
  await sm.send(
    new CreateModelCommand({
      ModelName: challenger,
      Containers: [{ Image: CHALLENGER_IMAGE, ModelDataUrl: `s3://acme-ml-artifacts-${ACCOUNT}/fraud-detector/training/lgbm-7/output/model.tar.gz` }],
      ExecutionRoleArn: EXECUTION_ROLE,
    }),
  );
  return { n, group, modelPackageArn: ModelPackageArn, champion, challenger };
}

const twoVariants = (champion: string, challenger: string): ProductionVariant[] => [
  { VariantName: 'champion', ModelName: champion, InitialInstanceCount: 2, InstanceType: 'ml.m5.xlarge', InitialVariantWeight: 0.9 },
  { VariantName: 'challenger', ModelName: challenger, InitialInstanceCount: 1, InstanceType: 'ml.m5.large', InitialVariantWeight: 0.1 },
];

/** The whole state, to show that a refused request changed nothing. */
const stateNow = async (): Promise<unknown> => (await fetch(`${standIn.url}/_local/state`)).json();

describe('hosting: models, endpoint configurations and endpoints through the real SDK', () => {
  it('a model from a version → a configuration with two variants → an endpoint: Describe* answers and the IN_SERVICE event', async () => {
    const { n, modelPackageArn, champion, challenger } = await twoModels();

    const model = await sm.send(new DescribeModelCommand({ ModelName: champion }));
    expect(model).toEqual({
      $metadata: expect.anything(),
      ModelName: champion,
      ModelArn: arnOf(`model/${champion}`),
      PrimaryContainer: { ModelPackageName: modelPackageArn },
      ExecutionRoleArn: EXECUTION_ROLE,
      CreationTime: expect.any(Date),
      EnableNetworkIsolation: false,
    });
    const other = await sm.send(new DescribeModelCommand({ ModelName: challenger }));
    expect(other.Containers).toEqual([
      { Image: CHALLENGER_IMAGE, ModelDataUrl: `s3://acme-ml-artifacts-${ACCOUNT}/fraud-detector/training/lgbm-7/output/model.tar.gz` },
    ]);
    expect(other.PrimaryContainer).toBeUndefined();

    const configName = `fraud-${n}-config-a`;
    const { EndpointConfigArn } = await sm.send(
      new CreateEndpointConfigCommand({ EndpointConfigName: configName, ProductionVariants: twoVariants(champion, challenger) }),
    );
    expect(EndpointConfigArn).toBe(arnOf(`endpoint-config/${configName}`));
    const config = await sm.send(new DescribeEndpointConfigCommand({ EndpointConfigName: configName }));
    expect(config).toEqual({
      $metadata: expect.anything(),
      EndpointConfigName: configName,
      EndpointConfigArn,
      ProductionVariants: twoVariants(champion, challenger),
      CreationTime: expect.any(Date),
    });

    const endpointName = `Fraud-Scoring-${n}`; // mixed case: the ARN lower-cases it
    const from = (await eventsSince(0)).length;
    const before = Date.now();
    const { EndpointArn } = await sm.send(
      new CreateEndpointCommand({ EndpointName: endpointName, EndpointConfigName: configName, Tags: [{ Key: 'team', Value: 'fraud-ml' }] }),
    );
    expect(EndpointArn).toBe(arnOf(`endpoint/fraud-scoring-${n}`));

    const d = await sm.send(new DescribeEndpointCommand({ EndpointName: endpointName }));
    expect(d).toEqual({
      $metadata: expect.anything(),
      EndpointName: endpointName,
      EndpointArn,
      EndpointConfigName: configName,
      ProductionVariants: [
        {
          VariantName: 'champion',
          // The version's image; its digest comes from the version's InferenceSpecification.
          DeployedImages: [{ SpecifiedImage: XGBOOST, ResolvedImage: `683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost@${XGBOOST_DIGEST}`, ResolutionTime: expect.any(Date) }],
          CurrentWeight: 0.9,
          DesiredWeight: 0.9,
          CurrentInstanceCount: 2,
          DesiredInstanceCount: 2,
        },
        {
          VariantName: 'challenger',
          DeployedImages: [{ SpecifiedImage: CHALLENGER_IMAGE, ResolvedImage: CHALLENGER_IMAGE, ResolutionTime: expect.any(Date) }],
          CurrentWeight: 0.1,
          DesiredWeight: 0.1,
          CurrentInstanceCount: 1,
          DesiredInstanceCount: 1,
        },
      ],
      EndpointStatus: 'InService',
      CreationTime: expect.any(Date),
      LastModifiedTime: expect.any(Date),
    });
    expect(d.CreationTime?.getTime()).toBeGreaterThanOrEqual(before);

    const [event, ...more] = await eventsSince(from);
    expect(more).toHaveLength(0);
    expect(event).toEqual({
      version: '0',
      id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
      'detail-type': 'SageMaker Endpoint State Change',
      source: 'aws.sagemaker',
      account: ACCOUNT,
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      region: REGION,
      resources: [EndpointArn],
      detail: {
        EndpointName: endpointName,
        EndpointArn,
        EndpointConfigName: configName,
        ProductionVariants: [
          { VariantName: 'champion', CurrentWeight: 0.9, DesiredWeight: 0.9, CurrentInstanceCount: 2, DesiredInstanceCount: 2 },
          { VariantName: 'challenger', CurrentWeight: 0.1, DesiredWeight: 0.1, CurrentInstanceCount: 1, DesiredInstanceCount: 1 },
        ],
        EndpointStatus: 'IN_SERVICE', // the event's spelling; DescribeEndpoint says InService
        CreationTime: d.CreationTime?.getTime(), // epoch milliseconds, as numbers
        LastModifiedTime: d.LastModifiedTime?.getTime(),
        Tags: { team: 'fraud-ml' },
      },
    });

    // The endpoint's tags, as for training jobs: ListTags, not DescribeEndpoint.
    const tags = await sm.send(new ListTagsCommand({ ResourceArn: EndpointArn }));
    expect(tags.Tags).toEqual([{ Key: 'team', Value: 'fraud-ml' }]);
  });

  it('UpdateEndpoint to another configuration: a second IN_SERVICE event, later; the old configuration may go', async () => {
    const { n, champion, challenger } = await twoModels();
    const [a, b] = [`fraud-${n}-config-a`, `fraud-${n}-config-b`];
    await sm.send(new CreateEndpointConfigCommand({ EndpointConfigName: a, ProductionVariants: twoVariants(champion, challenger).slice(0, 1) }));
    await sm.send(new CreateEndpointConfigCommand({ EndpointConfigName: b, ProductionVariants: twoVariants(champion, challenger) }));
    const endpointName = `fraud-scoring-${n}`;
    const from = (await eventsSince(0)).length;
    await sm.send(new CreateEndpointCommand({ EndpointName: endpointName, EndpointConfigName: a }));
    const created = await sm.send(new DescribeEndpointCommand({ EndpointName: endpointName }));
    expect(created.ProductionVariants?.map((v) => v.VariantName)).toEqual(['champion']);

    const out = await sm.send(new UpdateEndpointCommand({ EndpointName: endpointName, EndpointConfigName: b }));
    expect(out.EndpointArn).toBe(created.EndpointArn);
    const updated = await sm.send(new DescribeEndpointCommand({ EndpointName: endpointName }));
    expect(updated).toMatchObject({ EndpointConfigName: b, EndpointStatus: 'InService', CreationTime: created.CreationTime });
    expect(updated.ProductionVariants?.map((v) => v.VariantName)).toEqual(['champion', 'challenger']);
    expect(updated.LastModifiedTime?.getTime()).toBeGreaterThan(created.LastModifiedTime?.getTime() ?? Infinity);

    const [first, second, ...more] = await eventsSince(from);
    expect(more).toHaveLength(0);
    expect(first?.detail).toMatchObject({ EndpointConfigName: a, EndpointStatus: 'IN_SERVICE' });
    expect(second?.detail).toMatchObject({ EndpointConfigName: b, EndpointStatus: 'IN_SERVICE', CreationTime: first?.detail['CreationTime'] });
    expect(second?.detail['LastModifiedTime']).toBe(updated.LastModifiedTime?.getTime());
    expect(second?.detail['LastModifiedTime'] as number).toBeGreaterThan(first?.detail['LastModifiedTime'] as number);
    expect((second?.detail['ProductionVariants'] as unknown[]).length).toBe(2);

    // SageMaker lets a configuration and a model go while an endpoint runs them: the endpoint keeps what it deployed.
    await sm.send(new DeleteEndpointConfigCommand({ EndpointConfigName: a }));
    await sm.send(new DeleteModelCommand({ ModelName: challenger }));
    const still = await sm.send(new DescribeEndpointCommand({ EndpointName: endpointName }));
    expect(still.ProductionVariants).toEqual(updated.ProductionVariants);
    const gone = await failure(sm.send(new DescribeEndpointConfigCommand({ EndpointConfigName: a })));
    expect(gone.message).toBe(`Could not find endpoint configuration "${arnOf(`endpoint-config/${a}`)}".`);
    const noModel = await failure(sm.send(new DescribeModelCommand({ ModelName: challenger })));
    expect(noModel.message).toBe(`Could not find model "${arnOf(`model/${challenger}`)}".`);
    // ...but the configuration that names the deleted model can no longer be deployed.
    const redeploy = await failure(sm.send(new UpdateEndpointCommand({ EndpointName: endpointName, EndpointConfigName: b })));
    expect(redeploy.name).toBe('ValidationException');
    expect(redeploy.message).toBe(`Could not find model "${arnOf(`model/${challenger}`)}".`);
  });

  it('DeleteEndpoint emits DELETING, and then the endpoint is gone', async () => {
    const { n, champion, challenger } = await twoModels();
    const configName = `fraud-${n}-config`;
    await sm.send(new CreateEndpointConfigCommand({ EndpointConfigName: configName, ProductionVariants: twoVariants(champion, challenger) }));
    const endpointName = `fraud-scoring-${n}`;
    const { EndpointArn = '' } = await sm.send(new CreateEndpointCommand({ EndpointName: endpointName, EndpointConfigName: configName }));
    const live = await sm.send(new DescribeEndpointCommand({ EndpointName: endpointName }));
    const from = (await eventsSince(0)).length;

    await sm.send(new DeleteEndpointCommand({ EndpointName: endpointName }));
    const [event, ...more] = await eventsSince(from);
    expect(more).toHaveLength(0);
    expect(event).toMatchObject({ 'detail-type': 'SageMaker Endpoint State Change', resources: [EndpointArn] });
    expect(event?.detail).toMatchObject({ EndpointName: endpointName, EndpointArn, EndpointConfigName: configName, EndpointStatus: 'DELETING' });
    expect(event?.detail['LastModifiedTime'] as number).toBeGreaterThan(live.LastModifiedTime?.getTime() ?? Infinity);

    const e = await failure(sm.send(new DescribeEndpointCommand({ EndpointName: endpointName })));
    expect(e).toBeInstanceOf(SageMakerServiceException);
    expect(e.name).toBe('ValidationException');
    expect(e.message).toBe(`Could not find endpoint "${EndpointArn}".`);
    expect((await failure(sm.send(new DeleteEndpointCommand({ EndpointName: endpointName })))).message).toBe(`Could not find endpoint "${EndpointArn}".`);
    expect((await failure(sm.send(new UpdateEndpointCommand({ EndpointName: endpointName, EndpointConfigName: configName })))).name).toBe('ValidationException');
    const listed = await sm.send(new ListEndpointsCommand({ NameContains: endpointName }));
    expect(listed.Endpoints).toEqual([]);
    expect(await eventsSince(from + 1)).toHaveLength(0);

    // The name is free again; the new endpoint (the same ARN) comes after the DELETING event, never before it.
    await sm.send(new CreateEndpointCommand({ EndpointName: endpointName, EndpointConfigName: configName }));
    const again = await sm.send(new DescribeEndpointCommand({ EndpointName: endpointName }));
    expect(again.EndpointStatus).toBe('InService');
    expect(again.CreationTime?.getTime()).toBeGreaterThan(event?.detail['LastModifiedTime'] as number);
    const [recreated] = await eventsSince(from + 1);
    expect(recreated?.detail).toMatchObject({ EndpointArn, EndpointStatus: 'IN_SERVICE', LastModifiedTime: again.LastModifiedTime?.getTime() });
  });

  it('ListEndpoints pages with MaxResults and NextToken, sorts, and filters by StatusEquals and NameContains', async () => {
    const { n, champion, challenger } = await twoModels();
    const configName = `fraud-${n}-config`;
    await sm.send(new CreateEndpointConfigCommand({ EndpointConfigName: configName, ProductionVariants: twoVariants(champion, challenger) }));
    const prefix = `listed-${n}`;
    const names = [`${prefix}-b`, `${prefix}-c`, `${prefix}-a`];
    for (const name of names) await sm.send(new CreateEndpointCommand({ EndpointName: name, EndpointConfigName: configName }));
    await sm.send(new CreateEndpointCommand({ EndpointName: `other-${n}`, EndpointConfigName: configName })); // not listed

    const pages: string[][] = [];
    let NextToken: string | undefined;
    do {
      const page = await sm.send(new ListEndpointsCommand({ NameContains: prefix, SortBy: 'Name', SortOrder: 'Ascending', MaxResults: 2, NextToken }));
      pages.push((page.Endpoints ?? []).map((e) => e.EndpointName ?? ''));
      for (const e of page.Endpoints ?? []) {
        expect(e).toEqual({
          EndpointName: e.EndpointName,
          EndpointArn: arnOf(`endpoint/${e.EndpointName}`),
          CreationTime: expect.any(Date),
          LastModifiedTime: expect.any(Date),
          EndpointStatus: 'InService',
        });
      }
      NextToken = page.NextToken;
    } while (NextToken && pages.length < 10);
    expect(pages).toEqual([[`${prefix}-a`, `${prefix}-b`], [`${prefix}-c`]]);

    // The default order: newest first.
    const newest = await sm.send(new ListEndpointsCommand({ NameContains: prefix }));
    expect(newest.Endpoints?.map((e) => e.EndpointName)).toEqual([...names].reverse());

    const inService = await sm.send(new ListEndpointsCommand({ NameContains: prefix, StatusEquals: 'InService' }));
    expect(inService.Endpoints).toHaveLength(3);
    const creating = await sm.send(new ListEndpointsCommand({ NameContains: prefix, StatusEquals: 'Creating' }));
    expect(creating.Endpoints).toEqual([]);

    const first = await sm.send(new ListEndpointsCommand({ NameContains: prefix, MaxResults: 1 }));
    const mixed = await failure(sm.send(new ListEndpointsCommand({ NameContains: prefix, SortBy: 'Name', NextToken: first.NextToken })));
    expect(mixed.message).toBe('Invalid pagination token.');
    const badStatus = await failure(sm.send(new ListEndpointsCommand({ StatusEquals: 'Running' as unknown as 'InService' })));
    expect(badStatus.message).toMatch(/^1 validation error detected: Value 'Running' at 'statusEquals' failed to satisfy constraint: Member must satisfy enum value set/);
  });

  it('refuses bad input with a ValidationException that names the field, and changes nothing', async () => {
    const { n, champion, challenger } = await twoModels();
    const configName = `fraud-${n}-config`;
    await sm.send(new CreateEndpointConfigCommand({ EndpointConfigName: configName, ProductionVariants: twoVariants(champion, challenger) }));
    await sm.send(new CreateEndpointCommand({ EndpointName: `fraud-scoring-${n}`, EndpointConfigName: configName }));
    const before = await stateNow();
    const from = (await eventsSince(0)).length;

    const refusals: Array<[Promise<unknown>, string | RegExp]> = [
      // Missing names.
      [
        sm.send(new CreateModelCommand({ PrimaryContainer: { Image: XGBOOST } } as unknown as { ModelName: string })),
        "1 validation error detected: Value null at 'modelName' failed to satisfy constraint: Member must not be null",
      ],
      [
        sm.send(new CreateEndpointCommand({ EndpointName: `fraud-scoring-${n}-x` } as unknown as { EndpointName: string; EndpointConfigName: string })),
        "1 validation error detected: Value null at 'endpointConfigName' failed to satisfy constraint: Member must not be null",
      ],
      [
        sm.send(new CreateEndpointConfigCommand({ EndpointConfigName: `${configName}-x`, ProductionVariants: [{ ModelName: champion, InitialInstanceCount: 1, InstanceType: 'ml.m5.large' } as ProductionVariant] })),
        "1 validation error detected: Value null at 'productionVariants.1.member.variantName' failed to satisfy constraint: Member must not be null",
      ],
      [sm.send(new DescribeEndpointCommand({} as { EndpointName: string })), /at 'endpointName' failed to satisfy constraint: Member must not be null$/],
      // A name SageMaker's pattern refuses.
      [sm.send(new CreateModelCommand({ ModelName: 'fraud_model', PrimaryContainer: { Image: XGBOOST } })), /^1 validation error detected: Value 'fraud_model' at 'modelName' failed to satisfy constraint: Member must satisfy regular expression pattern/],
      // A model package that does not exist, a container with neither image nor package.
      [
        sm.send(new CreateModelCommand({ ModelName: `fraud-${n}-ghost`, PrimaryContainer: { ModelPackageName: arnOf('model-package/no-such-group/3') } })),
        `ModelPackage ${arnOf('model-package/no-such-group/3')} does not exist.`,
      ],
      [
        sm.send(new CreateModelCommand({ ModelName: `fraud-${n}-ghost`, Containers: [{ Image: XGBOOST }, { Environment: { A: 'b' } }] })),
        /containers\.2\.member: give an image \(containers\.2\.member\.image\) or a model package \(containers\.2\.member\.modelPackageName\)/,
      ],
      // An unknown model in a configuration (the second variant), and an instance-based variant without instances.
      [
        sm.send(new CreateEndpointConfigCommand({ EndpointConfigName: `${configName}-x`, ProductionVariants: twoVariants(champion, `fraud-${n}-nobody`) })),
        `Could not find model "${arnOf(`model/fraud-${n}-nobody`)}".`,
      ],
      [
        sm.send(new CreateEndpointConfigCommand({ EndpointConfigName: `${configName}-x`, ProductionVariants: [{ VariantName: 'v', ModelName: champion, InstanceType: 'ml.m5.large' }] })),
        "1 validation error detected: Value null at 'productionVariants.1.member.initialInstanceCount' failed to satisfy constraint: Member must not be null",
      ],
      [
        sm.send(new CreateEndpointConfigCommand({ EndpointConfigName: `${configName}-x`, ProductionVariants: [] })),
        /at 'productionVariants' failed to satisfy constraint: Member must have length greater than or equal to 1$/,
      ],
      // Unknown configuration and endpoint.
      [
        sm.send(new CreateEndpointCommand({ EndpointName: `fraud-scoring-${n}-x`, EndpointConfigName: `${configName}-none` })),
        `Could not find endpoint configuration "${arnOf(`endpoint-config/${configName}-none`)}".`,
      ],
      [
        sm.send(new UpdateEndpointCommand({ EndpointName: `fraud-scoring-${n}-none`, EndpointConfigName: configName })),
        `Could not find endpoint "${arnOf(`endpoint/fraud-scoring-${n}-none`)}".`,
      ],
      // Duplicates, whatever the case of the name.
      [
        sm.send(new CreateModelCommand({ ModelName: champion.toUpperCase(), PrimaryContainer: { Image: XGBOOST } })),
        `Cannot create already existing model "${arnOf(`model/${champion}`)}".`,
      ],
      [
        sm.send(new CreateEndpointConfigCommand({ EndpointConfigName: configName, ProductionVariants: twoVariants(champion, challenger) })),
        `Cannot create already existing endpoint configuration "${arnOf(`endpoint-config/${configName}`)}".`,
      ],
      [
        sm.send(new CreateEndpointCommand({ EndpointName: `FRAUD-SCORING-${n}`, EndpointConfigName: configName })),
        `Cannot create already existing endpoint "${arnOf(`endpoint/fraud-scoring-${n}`)}".`,
      ],
    ];
    for (const [call, message] of refusals) {
      const e = await failure(call);
      expect(e.name).toBe('ValidationException');
      expect(e.$metadata?.httpStatusCode).toBe(400);
      if (typeof message === 'string') expect(e.message).toBe(message);
      else expect(e.message).toMatch(message);
    }
    expect(await stateNow()).toEqual(before);
    expect(await eventsSince(from)).toHaveLength(0);
  });
});

describe('BatchDescribeModelPackage', () => {
  it('answers known ARNs with their summaries and unknown ones in the error map', async () => {
    const group = await newGroup();
    const first = await sm.send(new CreateModelPackageCommand(packageInput(group)));
    const second = await sm.send(new CreateModelPackageCommand({ ModelPackageGroupName: group }));
    await sm.send(new UpdateModelPackageCommand({ ModelPackageArn: second.ModelPackageArn, ModelApprovalStatus: 'Approved' }));
    const unknown = arnOf(`model-package/${group}/9`);
    const described = await sm.send(new DescribeModelPackageCommand({ ModelPackageName: first.ModelPackageArn }));

    const out = await sm.send(new BatchDescribeModelPackageCommand({ ModelPackageArnList: [first.ModelPackageArn ?? '', second.ModelPackageArn ?? '', unknown] }));
    expect(out.ModelPackageSummaries).toEqual({
      [first.ModelPackageArn ?? '']: {
        ModelPackageGroupName: group,
        ModelPackageVersion: 1,
        ModelPackageArn: first.ModelPackageArn,
        ModelPackageDescription: packageInput(group).ModelPackageDescription,
        CreationTime: described.CreationTime,
        InferenceSpecification: packageInput(group).InferenceSpecification,
        ModelPackageStatus: 'Completed',
        ModelApprovalStatus: 'PendingManualApproval',
        ModelPackageRegistrationType: 'Registered',
      },
      [second.ModelPackageArn ?? '']: {
        ModelPackageGroupName: group,
        ModelPackageVersion: 2,
        ModelPackageArn: second.ModelPackageArn,
        CreationTime: expect.any(Date),
        ModelPackageStatus: 'Completed',
        ModelApprovalStatus: 'Approved',
        ModelPackageRegistrationType: 'Registered',
      },
    });
    expect(out.BatchDescribeModelPackageErrorMap).toEqual({
      [unknown]: { ErrorCode: 'ValidationException', ErrorResponse: `ModelPackage ${unknown} does not exist.` },
    });
  });

  it('refuses more than 100 ARNs, none, and an ARN that is not a model package ARN', async () => {
    const group = await newGroup();
    const { ModelPackageArn = '' } = await sm.send(new CreateModelPackageCommand({ ModelPackageGroupName: group }));
    const many = Array.from({ length: 101 }, (_, i) => (i === 0 ? ModelPackageArn : arnOf(`model-package/${group}/${i + 1}`)));
    const tooMany = await failure(sm.send(new BatchDescribeModelPackageCommand({ ModelPackageArnList: many })));
    expect(tooMany.name).toBe('ValidationException');
    expect(tooMany.message).toMatch(/at 'modelPackageArnList' failed to satisfy constraint: Member must have length less than or equal to 100$/);
    // 100 is allowed.
    const hundred = await sm.send(new BatchDescribeModelPackageCommand({ ModelPackageArnList: many.slice(0, 100) }));
    expect(Object.keys(hundred.ModelPackageSummaries ?? {})).toEqual([ModelPackageArn]);
    expect(Object.keys(hundred.BatchDescribeModelPackageErrorMap ?? {})).toHaveLength(99);

    const none = await failure(sm.send(new BatchDescribeModelPackageCommand({ ModelPackageArnList: [] })));
    expect(none.message).toBe("1 validation error detected: Value '[]' at 'modelPackageArnList' failed to satisfy constraint: Member must have length greater than or equal to 1");
    const missing = await failure(sm.send(new BatchDescribeModelPackageCommand({} as { ModelPackageArnList: string[] })));
    expect(missing.message).toBe("1 validation error detected: Value null at 'modelPackageArnList' failed to satisfy constraint: Member must not be null");
    const notAnArn = await failure(sm.send(new BatchDescribeModelPackageCommand({ ModelPackageArnList: [ModelPackageArn, `${group}/1`] })));
    expect(notAnArn.message).toMatch(new RegExp(`^1 validation error detected: Value '${group}/1' at 'modelPackageArnList.2.member' failed to satisfy constraint: Member must satisfy regular expression pattern`));
  });
});

describe('ModelLifeCycle on model packages', () => {
  it('is set on CreateModelPackage, changed alone by UpdateModelPackage, returned by Describe and List, and carried by the event', async () => {
    const group = await newGroup();
    const from = (await eventsSince(0)).length;
    const { ModelPackageArn = '' } = await sm.send(
      new CreateModelPackageCommand({ ...packageInput(group), ModelLifeCycle: { Stage: 'Development', StageStatus: 'In-Progress', StageDescription: 'offline evaluation' } }),
    );
    const created = await sm.send(new DescribeModelPackageCommand({ ModelPackageName: ModelPackageArn }));
    expect(created.ModelLifeCycle).toEqual({ Stage: 'Development', StageStatus: 'In-Progress', StageDescription: 'offline evaluation' });

    const out = await bob.send(new UpdateModelPackageCommand({ ModelPackageArn, ModelLifeCycle: { Stage: 'Staging', StageStatus: 'Approved' } }));
    expect(out.ModelPackageArn).toBe(ModelPackageArn);
    const updated = await sm.send(new DescribeModelPackageCommand({ ModelPackageName: ModelPackageArn }));
    expect(updated.ModelLifeCycle).toEqual({ Stage: 'Staging', StageStatus: 'Approved' }); // replaced as a whole
    expect(updated.ModelApprovalStatus).toBe('PendingManualApproval'); // nothing else changed
    expect(updated.LastModifiedTime?.getTime()).toBeGreaterThan(created.LastModifiedTime?.getTime() ?? Infinity);
    expect(updated.LastModifiedBy?.IamIdentity?.Arn).toBe(roleArn(BOB));

    const listed = await sm.send(new ListModelPackagesCommand({ ModelPackageGroupName: group }));
    expect(listed.ModelPackageSummaryList?.[0]?.ModelLifeCycle).toEqual({ Stage: 'Staging', StageStatus: 'Approved' });

    const [onCreate, onUpdate, ...more] = await eventsSince(from);
    expect(more).toHaveLength(0);
    expect(onCreate?.detail['ModelLifeCycle']).toEqual({ Stage: 'Development', StageStatus: 'In-Progress', StageDescription: 'offline evaluation' });
    expect(onCreate?.detail).not.toHaveProperty('UpdatedModelPackageFields');
    expect(onUpdate).toMatchObject({ 'detail-type': 'SageMaker Model Package State Change', resources: [ModelPackageArn] });
    expect(onUpdate?.detail).toMatchObject({
      ModelPackageArn,
      ModelApprovalStatus: 'PendingManualApproval',
      ModelLifeCycle: { Stage: 'Staging', StageStatus: 'Approved' },
      UpdatedModelPackageFields: ['ModelLifeCycle'],
      LastModifiedTime: updated.LastModifiedTime?.toISOString(),
    });
    // modelgate's own schema still reads the event.
    expect(ModelPackageStateChangeSchema.parse(onUpdate).detail.LastModifiedTime).toBe(updated.LastModifiedTime?.getTime());

    // A package without one has none anywhere.
    const plain = await sm.send(new CreateModelPackageCommand({ ModelPackageGroupName: group }));
    expect((await sm.send(new DescribeModelPackageCommand({ ModelPackageName: plain.ModelPackageArn }))).ModelLifeCycle).toBeUndefined();
    const [plainEvent] = await eventsSince(from + 2);
    expect(plainEvent?.detail).not.toHaveProperty('ModelLifeCycle');
  });

  it('refuses a Stage or StageStatus outside the pattern, a missing StageStatus, and a long StageDescription; nothing changes', async () => {
    const group = await newGroup();
    const { ModelPackageArn = '' } = await sm.send(new CreateModelPackageCommand({ ModelPackageGroupName: group, ModelLifeCycle: { Stage: 'Development', StageStatus: 'Approved' } }));
    const before = await stateNow();
    const from = (await eventsSince(0)).length;
    const cases: Array<[Record<string, unknown>, RegExp | string]> = [
      [{ Stage: 'Staging_1', StageStatus: 'Approved' }, /^1 validation error detected: Value 'Staging_1' at 'modelLifeCycle.stage' failed to satisfy constraint: Member must satisfy regular expression pattern: \^\[a-zA-Z0-9\]\(-\*\[a-zA-Z0-9\]\)\{0,62\}\$$/],
      [{ Stage: 'Staging', StageStatus: '-Approved' }, /at 'modelLifeCycle.stageStatus' failed to satisfy constraint: Member must satisfy regular expression pattern/],
      [{ Stage: 'x'.repeat(64), StageStatus: 'Approved' }, /at 'modelLifeCycle.stage' failed to satisfy constraint: Member must have length less than or equal to 63$/],
      [{ Stage: 'Staging' }, "1 validation error detected: Value null at 'modelLifeCycle.stageStatus' failed to satisfy constraint: Member must not be null"],
      [{ Stage: 'Staging', StageStatus: 'Approved', StageDescription: 'd'.repeat(1025) }, /at 'modelLifeCycle.stageDescription' failed to satisfy constraint: Member must have length less than or equal to 1024$/],
    ];
    for (const [lifeCycle, message] of cases) {
      for (const call of [
        sm.send(new UpdateModelPackageCommand({ ModelPackageArn, ModelLifeCycle: lifeCycle as { Stage: string; StageStatus: string } })),
        sm.send(new CreateModelPackageCommand({ ModelPackageGroupName: group, ModelLifeCycle: lifeCycle as { Stage: string; StageStatus: string } })),
      ]) {
        const e = await failure(call);
        expect(e.name).toBe('ValidationException');
        if (typeof message === 'string') expect(e.message).toBe(message);
        else expect(e.message).toMatch(message);
      }
    }
    expect(await stateNow()).toEqual(before);
    expect(await eventsSince(from)).toHaveLength(0);
    expect((await sm.send(new DescribeModelPackageCommand({ ModelPackageName: ModelPackageArn }))).ModelLifeCycle).toEqual({ Stage: 'Development', StageStatus: 'Approved' });
  });
});

describe('hosting state in the state file', () => {
  it('keeps models, configurations and endpoints across a restart, and reads a state file written before them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sagemaker-standin-hosting-'));
    const stateFile = join(dir, 'state.json');
    try {
      const first = await startSageMakerStandIn({ stateFile });
      clientsFor(first.url);
      await sm.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: 'persisted-hosting' }));
      const { ModelPackageArn } = await sm.send(new CreateModelPackageCommand(packageInput('persisted-hosting')));
      await sm.send(new CreateModelCommand({ ModelName: 'kept-model', PrimaryContainer: { ModelPackageName: ModelPackageArn } }));
      await sm.send(new CreateEndpointConfigCommand({ EndpointConfigName: 'kept-config', ProductionVariants: [{ VariantName: 'all', ModelName: 'kept-model', InitialInstanceCount: 1, InstanceType: 'ml.m5.large' }] }));
      await sm.send(new CreateEndpointCommand({ EndpointName: 'kept-endpoint', EndpointConfigName: 'kept-config' }));
      const endpoint = await sm.send(new DescribeEndpointCommand({ EndpointName: 'kept-endpoint' }));
      const model = await sm.send(new DescribeModelCommand({ ModelName: 'kept-model' }));
      await first.close();

      const second = await startSageMakerStandIn({ stateFile });
      clientsFor(second.url);
      try {
        expect(await sm.send(new DescribeEndpointCommand({ EndpointName: 'kept-endpoint' }))).toEqual({ ...endpoint, $metadata: expect.anything() });
        expect(await sm.send(new DescribeModelCommand({ ModelName: 'kept-model' }))).toEqual({ ...model, $metadata: expect.anything() });
        expect((await sm.send(new DescribeEndpointConfigCommand({ EndpointConfigName: 'kept-config' }))).ProductionVariants).toHaveLength(1);
        const dup = await failure(sm.send(new CreateEndpointCommand({ EndpointName: 'kept-endpoint', EndpointConfigName: 'kept-config' })));
        expect(dup.message).toMatch(/^Cannot create already existing endpoint/);
      } finally {
        await second.close();
      }

      // A state file from before hosting (no models, endpointConfigs or endpoints) still loads.
      const oldDir = join(dir, 'old');
      mkdirSync(oldDir);
      const oldFile = join(oldDir, 'state.json');
      const { models: _m, endpointConfigs: _c, endpoints: _e, ...older } = JSON.parse(readFileSync(stateFile, 'utf8')) as Record<string, unknown>;
      writeFileSync(oldFile, JSON.stringify(older));
      const third = await startSageMakerStandIn({ stateFile: oldFile });
      clientsFor(third.url);
      try {
        expect((await sm.send(new DescribeModelPackageCommand({ ModelPackageName: ModelPackageArn }))).ModelPackageVersion).toBe(1);
        expect((await failure(sm.send(new DescribeModelCommand({ ModelName: 'kept-model' })))).name).toBe('ValidationException');
        await sm.send(new CreateModelCommand({ ModelName: 'kept-model', PrimaryContainer: { ModelPackageName: ModelPackageArn } }));
      } finally {
        await third.close();
      }
      expect(JSON.parse(readFileSync(oldFile, 'utf8'))).toMatchObject({ models: { 'kept-model': { name: 'kept-model' } }, endpointConfigs: {}, endpoints: {} });
    } finally {
      clientsFor(standIn.url);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
