/**
 * The SageMaker adapter's answers that the event path parses: DescribeTrainingJob (no tags, an
 * empty artifact for a job that did not complete, a malformed answer as a typed error) and
 * ListTags (every page). Assertions read `mock.commandCalls(...)` (see adapters.test.ts).
 */
import { DescribeTrainingJobCommand, ListTagsCommand, SageMakerClient, type DescribeTrainingJobCommandOutput } from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import { ValidationError } from '../../shared/domain/errors.js';
import { sageMakerRegistry } from '../../shared/aws/sagemaker.js';

const JOB = 'fraud-xgb-2026-11-27-09-14-05-412';
const JOB_ARN = `arn:aws:sagemaker:us-east-1:123456789012:training-job/${JOB}`;
const ARTIFACT = `s3://acme-ml-artifacts-123456789012/fraud-detector/training/${JOB}/output/model.tar.gz`;
const TRAINER = 'arn:aws:sagemaker:us-east-1:123456789012:user-profile/d-xxxx/ml-lead';

const client = new SageMakerClient({ region: 'us-east-1' });
const sm = mockClient(client);
const registry = sageMakerRegistry(client);
beforeEach(() => sm.reset());

function answer(overrides: Record<string, unknown> = {}): DescribeTrainingJobCommandOutput {
  return {
    $metadata: {},
    TrainingJobName: JOB,
    TrainingJobArn: JOB_ARN,
    TrainingJobStatus: 'Completed',
    SecondaryStatus: 'Completed',
    ModelArtifacts: { S3ModelArtifacts: ARTIFACT },
    AlgorithmSpecification: { TrainingImage: '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1', TrainingInputMode: 'File' },
    RoleArn: 'arn:aws:iam::123456789012:role/service-role/AmazonSageMaker-ExecutionRole-fraud',
    OutputDataConfig: { S3OutputPath: 's3://acme-ml-artifacts-123456789012/fraud-detector/training' },
    ResourceConfig: { InstanceType: 'ml.m5.xlarge', InstanceCount: 1, VolumeSizeInGB: 30 },
    StoppingCondition: { MaxRuntimeInSeconds: 3600 },
    CreationTime: new Date('2026-11-27T09:14:12.000Z'),
    TrainingEndTime: new Date('2026-11-27T09:41:37.000Z'),
    LastModifiedTime: new Date('2026-11-27T09:41:37.500Z'),
    ...overrides,
  } as DescribeTrainingJobCommandOutput;
}

describe('describeTrainingJob', () => {
  it.each(['InProgress', 'Stopping', 'Stopped', 'Failed'] as const)('a job %s with S3ModelArtifacts "" has no artifact (no throw)', async (status) => {
    sm.on(DescribeTrainingJobCommand).resolves(answer({ TrainingJobStatus: status, ModelArtifacts: { S3ModelArtifacts: '' }, TrainingEndTime: undefined }));

    const out = await registry.describeTrainingJob(JOB);

    expect(out?.detail.TrainingJobStatus).toBe(status);
    expect(out?.detail.ModelArtifacts?.S3ModelArtifacts).toBeUndefined();
  });

  it('a Completed job with S3ModelArtifacts "" is a ValidationError naming the answer and the field', async () => {
    sm.on(DescribeTrainingJobCommand).resolves(answer({ ModelArtifacts: { S3ModelArtifacts: '' } }));

    const error = await registry.describeTrainingJob(JOB).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).subject).toBe(`DescribeTrainingJob answer for ${JOB}`);
    expect((error as ValidationError).problems).toEqual(['ModelArtifacts.S3ModelArtifacts: a Completed job must name its model artifact (an s3:// URI)']);
  });

  it('a malformed answer is a ValidationError naming each field, never a raw ZodError', async () => {
    sm.on(DescribeTrainingJobCommand).resolves(answer({ TrainingJobStatus: 'Exploded', TrainingJobArn: 'not-an-arn', LastModifiedTime: undefined, CreationTime: undefined }));

    const error = await registry.describeTrainingJob(JOB).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).subject).toBe(`DescribeTrainingJob answer for ${JOB}`);
    expect((error as ValidationError).problems.map((p) => p.split(':')[0]).sort()).toEqual(['LastModifiedTime', 'TrainingJobArn', 'TrainingJobStatus']);
  });

  it('trusts no Tags in the answer: DescribeTrainingJob has none, ListTags has them', async () => {
    sm.on(DescribeTrainingJobCommand).resolves(answer({ Tags: { 'sagemaker:user-profile-arn': 'arn:aws:sagemaker:us-east-1:123456789012:user-profile/d-xxxx/someone-else' } }));

    const out = await registry.describeTrainingJob(JOB);

    expect(out?.detail.Tags).toBeUndefined();
    expect(sm.commandCalls(ListTagsCommand)).toHaveLength(0);
  });
});

describe('listTags', () => {
  it('reads every page, 100 at a time, and sends each request as it was', async () => {
    sm.on(ListTagsCommand, { ResourceArn: JOB_ARN, NextToken: undefined })
      .resolves({ Tags: [{ Key: 'team', Value: 'fraud-ml' }], NextToken: 'page-2' })
      .on(ListTagsCommand, { ResourceArn: JOB_ARN, NextToken: 'page-2' })
      .resolves({ Tags: [{ Key: 'sagemaker:user-profile-arn', Value: TRAINER }, { Key: 'empty', Value: '' }] });

    const tags = await registry.listTags(JOB_ARN);

    expect(tags).toEqual({ team: 'fraud-ml', 'sagemaker:user-profile-arn': TRAINER, empty: '' });
    expect(sm.commandCalls(ListTagsCommand).map((c) => c.args[0].input)).toEqual([
      { ResourceArn: JOB_ARN, MaxResults: 100 },
      { ResourceArn: JOB_ARN, MaxResults: 100, NextToken: 'page-2' },
    ]);
  });

  it('keeps a tag or a final metric named like an Object.prototype member as an own entry', async () => {
    sm.on(ListTagsCommand).resolves({ Tags: [{ Key: '__proto__', Value: 'p' }, { Key: 'constructor', Value: 'c' }] });
    sm.on(DescribeTrainingJobCommand).resolves(answer({ FinalMetricDataList: [{ MetricName: '__proto__', Value: 0.5 }, { MetricName: 'toString', Value: 0.25 }] }));

    const tags = await registry.listTags(JOB_ARN);
    const described = await registry.describeTrainingJob(JOB);

    expect(Object.entries(tags)).toEqual([['__proto__', 'p'], ['constructor', 'c']]);
    expect(Object.getPrototypeOf(tags)).toBe(Object.prototype);
    expect(Object.entries(described?.metrics ?? {})).toEqual([['__proto__', 0.5], ['toString', 0.25]]);
  });

  it('a job without tags has none', async () => {
    sm.on(ListTagsCommand).resolves({});
    expect(await registry.listTags(JOB_ARN)).toEqual({});
  });

  it('stops when SageMaker repeats a NextToken instead of asking forever', async () => {
    sm.on(ListTagsCommand).resolves({ Tags: [{ Key: 'team', Value: 'fraud-ml' }], NextToken: 'same' });
    expect(await registry.listTags(JOB_ARN)).toEqual({ team: 'fraud-ml' });
    expect(sm.commandCalls(ListTagsCommand)).toHaveLength(2);
  });

  it('a malformed answer is a ValidationError naming the answer and the field', async () => {
    sm.on(ListTagsCommand).resolves({ Tags: [{ Key: 'team' }] } as never);

    const error = await registry.listTags(JOB_ARN).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).subject).toBe(`ListTags answer for ${JOB_ARN}`);
    expect((error as ValidationError).problems).toEqual([expect.stringMatching(/^Tags\.0\.Value: /)]);
  });

  it('rethrows ThrottlingException so that the invocation is retried', async () => {
    sm.on(ListTagsCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await expect(registry.listTags(JOB_ARN)).rejects.toMatchObject({ name: 'ThrottlingException' });
  });
});
