/**
 * The AWS adapters against aws-sdk-client-mock. Assertions read `mock.commandCalls(...)`:
 * aws-sdk-client-mock-jest's ESM build imports its own copy of `expect`, so its matchers do not
 * reach the `expect` of a jest ESM test.
 */
import { Readable } from 'node:stream';
import { GetObjectCommand, NoSuchKey, S3Client, S3ServiceException, type GetObjectCommandOutput } from '@aws-sdk/client-s3';
import {
  DescribeModelPackageCommand,
  DescribeTrainingJobCommand,
  SageMakerClient,
  SageMakerServiceException,
  UpdateModelPackageCommand,
  type DescribeTrainingJobCommandOutput,
} from '@aws-sdk/client-sagemaker';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { s3Reports } from '../../shared/aws/s3.js';
import { sageMakerRegistry } from '../../shared/aws/sagemaker.js';
import { snsNotifier } from '../../shared/aws/sns.js';
import { without } from './fixtures.js';

const JOB = 'fraud-xgb-2026-11-27-09-14-05-412';
const JOB_ARN = `arn:aws:sagemaker:us-east-1:123456789012:training-job/${JOB}`;
const PACKAGE_ARN = 'arn:aws:sagemaker:us-east-1:123456789012:model-package/fraud-detector/1';
const ARTIFACT = `s3://acme-ml-artifacts-123456789012/fraud-detector/training/${JOB}/output/model.tar.gz`;

function sageMakerError(name: string, message: string): SageMakerServiceException {
  return new SageMakerServiceException({ name, message, $fault: 'client', $metadata: { httpStatusCode: 400 } });
}

function s3Error(name: string, message: string, httpStatusCode = 403): S3ServiceException {
  return new S3ServiceException({ name, message, $fault: 'client', $metadata: { httpStatusCode } });
}

/**
 * A GetObject Body over a real Readable, with the SDK's stream mixin methods. `@smithy/util-stream`
 * (and its `sdkStreamMixin`) is not a top-level package in this install, so the mixin is built here.
 */
function streamBody(bytes: Uint8Array): NonNullable<GetObjectCommandOutput['Body']> {
  const stream = Readable.from([Buffer.from(bytes)]);
  const collect = async (): Promise<Uint8Array> => {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
    return new Uint8Array(Buffer.concat(chunks));
  };
  return Object.assign(stream, {
    transformToByteArray: collect,
    transformToString: async (encoding?: string) => Buffer.from(await collect()).toString((encoding ?? 'utf8') as BufferEncoding),
    transformToWebStream: () => {
      throw new Error('not used by the adapter');
    },
  }) as unknown as NonNullable<GetObjectCommandOutput['Body']>;
}

describe('sageMakerRegistry', () => {
  const client = new SageMakerClient({ region: 'us-east-1' });
  const sm = mockClient(client);
  const registry = sageMakerRegistry(client);

  beforeEach(() => sm.reset());
  afterAll(() => sm.restore());

  const describeOutput = (): Partial<DescribeTrainingJobCommandOutput> => ({
    TrainingJobName: JOB,
    TrainingJobArn: JOB_ARN,
    TrainingJobStatus: 'Completed',
    SecondaryStatus: 'Completed',
    HyperParameters: { eta: '0.2', max_depth: '6' },
    AlgorithmSpecification: {
      TrainingImage: '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1',
      TrainingInputMode: 'File',
    },
    RoleArn: 'arn:aws:iam::123456789012:role/service-role/AmazonSageMaker-ExecutionRole-fraud',
    InputDataConfig: [
      {
        ChannelName: 'train',
        DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: 's3://acme-ml-datasets-123456789012/fraud/train/' } },
      },
    ],
    OutputDataConfig: { S3OutputPath: 's3://acme-ml-artifacts-123456789012/fraud-detector/training' },
    ModelArtifacts: { S3ModelArtifacts: ARTIFACT },
    CreationTime: new Date('2026-11-27T09:14:12.000Z'),
    TrainingStartTime: new Date('2026-11-27T09:15:12.000Z'),
    TrainingEndTime: new Date('2026-11-27T09:41:37.000Z'),
    LastModifiedTime: new Date('2026-11-27T09:41:37.500Z'),
    FinalMetricDataList: [
      { MetricName: 'validation:auc', Value: 0.913, Timestamp: new Date('2026-11-27T09:41:00Z') },
      { MetricName: 'train:auc', Value: 0.957, Timestamp: new Date('2026-11-27T09:41:00Z') },
      { MetricName: 'validation:logloss', Value: Number.NaN, Timestamp: new Date('2026-11-27T09:41:00Z') },
    ],
  });

  describe('describeTrainingJob', () => {
    it('asks for the job by name', async () => {
      sm.on(DescribeTrainingJobCommand).resolves(describeOutput());
      await registry.describeTrainingJob(JOB);
      const calls = sm.commandCalls(DescribeTrainingJobCommand);
      expect(calls).toHaveLength(1);
      expect(calls[0]?.args[0].input).toEqual({ TrainingJobName: JOB });
    });

    it('maps FinalMetricDataList to a metrics record, skipping values that are not finite', async () => {
      sm.on(DescribeTrainingJobCommand).resolves(describeOutput());
      const out = await registry.describeTrainingJob(JOB);
      expect(out?.metrics).toEqual({ 'validation:auc': 0.913, 'train:auc': 0.957 });
    });

    it('turns the Date fields into epoch milliseconds', async () => {
      sm.on(DescribeTrainingJobCommand).resolves(describeOutput());
      const out = await registry.describeTrainingJob(JOB);
      expect(out?.detail.CreationTime).toBe(Date.parse('2026-11-27T09:14:12.000Z'));
      expect(out?.detail.TrainingEndTime).toBe(Date.parse('2026-11-27T09:41:37.000Z'));
      expect(out?.detail.LastModifiedTime).toBe(Date.parse('2026-11-27T09:41:37.500Z'));
    });

    it('returns the detail in the event’s shape', async () => {
      sm.on(DescribeTrainingJobCommand).resolves(describeOutput());
      const out = await registry.describeTrainingJob(JOB);
      expect(out?.detail).toMatchObject({
        TrainingJobName: JOB,
        TrainingJobArn: JOB_ARN,
        TrainingJobStatus: 'Completed',
        ModelArtifacts: { S3ModelArtifacts: ARTIFACT },
        InputDataConfig: [{ ChannelName: 'train', DataSource: { S3DataSource: { S3Uri: 's3://acme-ml-datasets-123456789012/fraud/train/' } } }],
      });
    });

    it('uses CreationTime as LastModifiedTime when SageMaker gives none', async () => {
      const rest = without(describeOutput(), 'LastModifiedTime');
      sm.on(DescribeTrainingJobCommand).resolves(rest);
      const out = await registry.describeTrainingJob(JOB);
      expect(out?.detail.LastModifiedTime).toBe(Date.parse('2026-11-27T09:14:12.000Z'));
    });

    it('returns no metrics for a job without FinalMetricDataList', async () => {
      const rest = without(describeOutput(), 'FinalMetricDataList');
      sm.on(DescribeTrainingJobCommand).resolves(rest);
      expect((await registry.describeTrainingJob(JOB))?.metrics).toEqual({});
    });

    it('returns undefined for a job SageMaker does not know (ValidationException "Requested resource not found")', async () => {
      sm.on(DescribeTrainingJobCommand).rejects(sageMakerError('ValidationException', 'Requested resource not found.'));
      await expect(registry.describeTrainingJob('no-such-job')).resolves.toBeUndefined();
    });

    it('returns undefined for ResourceNotFound', async () => {
      sm.on(DescribeTrainingJobCommand).rejects(sageMakerError('ResourceNotFound', 'Training job no-such-job does not exist.'));
      await expect(registry.describeTrainingJob('no-such-job')).resolves.toBeUndefined();
    });

    it('rethrows ThrottlingException so that the invocation is retried', async () => {
      sm.on(DescribeTrainingJobCommand).rejects(sageMakerError('ThrottlingException', 'Rate exceeded'));
      await expect(registry.describeTrainingJob(JOB)).rejects.toMatchObject({ name: 'ThrottlingException' });
    });

    it('rethrows a ValidationException that is not about a missing job', async () => {
      sm.on(DescribeTrainingJobCommand).rejects(sageMakerError('ValidationException', '1 validation error detected: TrainingJobName'));
      await expect(registry.describeTrainingJob('bad name')).rejects.toMatchObject({ name: 'ValidationException' });
    });
  });

  describe('setApprovalStatus', () => {
    const args = {
      modelPackageArn: PACKAGE_ARN,
      status: 'Rejected' as const,
      description: 'trainingJob:validation:auc >= 0.85: actual 0.81',
      clientToken: '3f1c2a9e-5b7d-4e0f-8a6c-1d2e3f4a5b6c',
    };

    it('sends exactly the ARN, status, description and client token', async () => {
      sm.on(UpdateModelPackageCommand).resolves({ ModelPackageArn: PACKAGE_ARN });
      await expect(registry.setApprovalStatus(args)).resolves.toBe('updated');
      const calls = sm.commandCalls(UpdateModelPackageCommand);
      expect(calls).toHaveLength(1);
      expect(calls[0]?.args[0].input).toEqual({
        ModelPackageArn: PACKAGE_ARN,
        ModelApprovalStatus: 'Rejected',
        ApprovalDescription: 'trainingJob:validation:auc >= 0.85: actual 0.81',
        ClientToken: '3f1c2a9e-5b7d-4e0f-8a6c-1d2e3f4a5b6c',
      });
    });

    it('returns refused when SageMaker refuses the status with a ValidationException', async () => {
      sm.on(UpdateModelPackageCommand).rejects(
        sageMakerError('ValidationException', 'Cannot update ModelApprovalStatus from Approved to PendingManualApproval'),
      );
      await expect(registry.setApprovalStatus({ ...args, status: 'PendingManualApproval' })).resolves.toBe('refused');
    });

    it('rethrows a ValidationException about a missing model package', async () => {
      sm.on(UpdateModelPackageCommand).rejects(sageMakerError('ValidationException', 'Model package could not be found.'));
      await expect(registry.setApprovalStatus(args)).rejects.toMatchObject({ name: 'ValidationException' });
    });

    it('rethrows a ConflictException and a ThrottlingException', async () => {
      sm.on(UpdateModelPackageCommand)
        .rejectsOnce(sageMakerError('ConflictException', 'conflict'))
        .rejectsOnce(sageMakerError('ThrottlingException', 'Rate exceeded'));
      await expect(registry.setApprovalStatus(args)).rejects.toMatchObject({ name: 'ConflictException' });
      await expect(registry.setApprovalStatus(args)).rejects.toMatchObject({ name: 'ThrottlingException' });
    });
  });

  describe('describeModelPackage', () => {
    it('asks for the package by ARN', async () => {
      sm.on(DescribeModelPackageCommand).resolves({});
      await registry.describeModelPackage(PACKAGE_ARN);
      expect(sm.commandCalls(DescribeModelPackageCommand)[0]?.args[0].input).toEqual({ ModelPackageName: PACKAGE_ARN });
    });

    it('prefers the IAM identity ARN over the Studio user profile', async () => {
      sm.on(DescribeModelPackageCommand).resolves({
        CreatedBy: {
          IamIdentity: { Arn: 'arn:aws:sts::123456789012:assumed-role/SageMakerPipelines/exec-7qk2m4x9z1pd' },
          UserProfileName: 'pipeline-user',
        },
        LastModifiedBy: {
          IamIdentity: { Arn: 'arn:aws:sts::123456789012:assumed-role/DataScientist/jdoe' },
          UserProfileName: 'jdoe',
        },
      });
      await expect(registry.describeModelPackage(PACKAGE_ARN)).resolves.toEqual({
        createdBy: 'arn:aws:sts::123456789012:assumed-role/SageMakerPipelines/exec-7qk2m4x9z1pd',
        lastModifiedBy: 'arn:aws:sts::123456789012:assumed-role/DataScientist/jdoe',
      });
    });

    it('falls back to the Studio user profile name', async () => {
      sm.on(DescribeModelPackageCommand).resolves({
        CreatedBy: { UserProfileName: 'asmith', UserProfileArn: 'arn:aws:sagemaker:us-east-1:123456789012:user-profile/d-abc/asmith' },
        LastModifiedBy: { UserProfileName: 'jdoe' },
      });
      await expect(registry.describeModelPackage(PACKAGE_ARN)).resolves.toEqual({ createdBy: 'asmith', lastModifiedBy: 'jdoe' });
    });

    it('returns neither when SageMaker names nobody', async () => {
      sm.on(DescribeModelPackageCommand).resolves({ ModelPackageArn: PACKAGE_ARN });
      await expect(registry.describeModelPackage(PACKAGE_ARN)).resolves.toEqual({});
    });
  });
});

describe('snsNotifier', () => {
  const client = new SNSClient({ region: 'us-east-1' });
  const sns = mockClient(client);
  const topics = {
    reviewers: 'arn:aws:sns:us-east-1:123456789012:modelgate-dev-reviewers',
    governance: 'arn:aws:sns:us-east-1:123456789012:modelgate-dev-governance',
  };
  const notifier = snsNotifier(client, topics);

  beforeEach(() => {
    sns.reset();
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  });
  afterAll(() => sns.restore());

  it('publishes a reviewer’s message to the reviewers topic with a reviewer attribute for the filter policy', async () => {
    await notifier.publish({
      topic: 'reviewers',
      subject: 'Review requested: fraud-detector v1',
      message: 'Model version fraud-detector v1 passed its policy',
      attributes: { reviewer: 'risk-officer@acme-bank.example', event: 'review-requested' },
    });
    const calls = sns.commandCalls(PublishCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toEqual({
      TopicArn: topics.reviewers,
      Subject: 'Review requested: fraud-detector v1',
      Message: 'Model version fraud-detector v1 passed its policy',
      MessageAttributes: {
        reviewer: { DataType: 'String', StringValue: 'risk-officer@acme-bank.example' },
        event: { DataType: 'String', StringValue: 'review-requested' },
      },
    });
  });

  it('publishes governance messages to the governance topic', async () => {
    await notifier.publish({ topic: 'governance', subject: 'Approval reverted', message: 'reverted', attributes: {} });
    const input = sns.commandCalls(PublishCommand)[0]?.args[0].input;
    expect(input?.TopicArn).toBe(topics.governance);
    expect(input?.MessageAttributes).toEqual({});
  });

  it('lets a failed publish throw, so that the effect is retried', async () => {
    sns.on(PublishCommand).rejects(new Error('socket hang up'));
    await expect(notifier.publish({ topic: 'reviewers', subject: 's', message: 'm', attributes: {} })).rejects.toThrow('socket hang up');
  });
});

describe('s3Reports', () => {
  const client = new S3Client({ region: 'us-east-1' });
  const s3 = mockClient(client);
  const reports = s3Reports(client);
  const URI = 's3://acme-ml-artifacts-123456789012/fraud-detector/evaluation/fraud-xgb-2026-11-27-09-14-05-412/evaluation.json';

  beforeEach(() => s3.reset());
  afterAll(() => s3.restore());

  it('returns the bytes of the report and reads it from the right bucket and key', async () => {
    const bytes = new TextEncoder().encode('{"binary_classification_metrics":{"auc":{"value":0.91}}}');
    s3.on(GetObjectCommand).resolves({ Body: streamBody(bytes), ContentLength: bytes.length });
    const out = await reports.read(URI);
    expect(out).toEqual({ body: bytes });
    expect(s3.commandCalls(GetObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: 'acme-ml-artifacts-123456789012',
      Key: 'fraud-detector/evaluation/fraud-xgb-2026-11-27-09-14-05-412/evaluation.json',
    });
  });

  it('is unreadable for NoSuchKey, naming the error and the URI', async () => {
    s3.on(GetObjectCommand).rejects(new NoSuchKey({ message: 'The specified key does not exist.', $metadata: { httpStatusCode: 404 } }));
    await expect(reports.read(URI)).resolves.toEqual({ unreadable: `NoSuchKey reading ${URI}` });
  });

  it('is unreadable for AccessDenied', async () => {
    s3.on(GetObjectCommand).rejects(s3Error('AccessDenied', 'Access Denied'));
    await expect(reports.read(URI)).resolves.toEqual({ unreadable: `AccessDenied reading ${URI}` });
  });

  it.each(['SlowDown', 'InternalError', 'ServiceUnavailable'])('rethrows %s so that the gate is retried', async (name) => {
    s3.on(GetObjectCommand).rejects(s3Error(name, 'try again', 503));
    await expect(reports.read(URI)).rejects.toMatchObject({ name });
  });

  it('refuses a report larger than 5 MiB without reading it', async () => {
    s3.on(GetObjectCommand).resolves({ Body: streamBody(new Uint8Array(1)), ContentLength: 5 * 1024 * 1024 + 1 });
    await expect(reports.read(URI)).resolves.toEqual({ unreadable: `larger than ${5 * 1024 * 1024} bytes` });
  });

  it('is unreadable when S3 returns no body', async () => {
    s3.on(GetObjectCommand).resolves({});
    await expect(reports.read(URI)).resolves.toEqual({ unreadable: 'empty body' });
  });
});
