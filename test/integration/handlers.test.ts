import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { DescribeTrainingJobCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { NotFound, ValidationError } from '../../shared/domain/errors.js';
import { newTable, type TestTable } from '../support/dynamo.js';
import { EVENTS_DIR, TOPICS, story } from '../support/story.js';

/** The real handlers, wired by `productionDeps()` from the environment, on a table of their own. */
const sm = mockClient(SageMakerClient);
const sns = mockClient(SNSClient);
let table: TestTable;
type Handler = (event: unknown, context: Context) => Promise<unknown>;
let handlers: Record<'training' | 'modelPackage' | 'putPolicy' | 'getPolicy', Handler>;

const context = {
  functionName: 'modelgate-test-fn',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:modelgate-test-fn',
  memoryLimitInMB: '512',
  awsRequestId: 'c0ffee00-0000-4000-8000-000000000001',
  getRemainingTimeInMillis: () => 30_000,
} as unknown as Context;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the tests break events on purpose
type Mutable = any;
const sample = (file: string): Record<string, unknown> => JSON.parse(readFileSync(join(EVENTS_DIR, file), 'utf8'));

async function itemCount(): Promise<number> {
  const out = await table.doc.send(new ScanCommand({ TableName: table.tableName, Select: 'COUNT' }));
  return out.Count ?? 0;
}

beforeAll(async () => {
  table = await newTable('handlers');
  Object.assign(process.env, {
    TABLE_NAME: table.tableName,
    REVIEWERS_TOPIC_ARN: TOPICS.reviewers,
    GOVERNANCE_TOPIC_ARN: TOPICS.governance,
    REVIEW_BASE_URL: 'https://modelgate.acme-bank.example',
    // Every page and message names the organisation (serverless.yml's stage local defaults).
    ORGANISATION_NAME: 'Acme Bank model risk',
    ORGANISATION_CONTACT: 'model-risk@acme-bank.example',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  });
  const load = async (name: string) => ((await import(`../../functions/${name}/handler.js`)) as { handler: Handler }).handler;
  handlers = {
    training: await load('onTrainingJobStateChange'),
    modelPackage: await load('onModelPackageStateChange'),
    putPolicy: await load('putPolicy'),
    getPolicy: await load('getPolicy'),
  };
});
afterAll(() => table.drop());
beforeEach(() => {
  sm.reset();
  sns.reset();
});

describe('malformed input fails with a typed error and writes nothing', () => {
  it.each([
    ['a training event without its job ARN', 'training', 'training-job-completed.json', (e: Mutable): void => { delete e.detail.TrainingJobArn; }, 'detail.TrainingJobArn'],
    ['a training event whose dataset is not an S3 URI', 'training', 'training-job-completed.json', (e: Mutable): void => { e.detail.InputDataConfig[0].DataSource.S3DataSource.S3Uri = 'S3Uri'; }, 'detail.InputDataConfig.0.DataSource.S3DataSource.S3Uri'],
    ['a training event with a timestamp that is not one', 'training', 'training-job-completed.json', (e: Mutable): void => { e.detail.LastModifiedTime = 'yesterday'; }, 'detail.LastModifiedTime'],
    ['a Completed training event with an empty artifact', 'training', 'training-job-completed.json', (e: Mutable): void => { e.detail.ModelArtifacts.S3ModelArtifacts = ''; }, 'detail.ModelArtifacts.S3ModelArtifacts'],
    ['a model package event of another detail-type', 'modelPackage', 'model-package-pending.json', (e: Mutable): void => { e['detail-type'] = 'SageMaker Endpoint State Change'; }, 'detail-type'],
    ['a model package event without an approval status', 'modelPackage', 'model-package-pending.json', (e: Mutable): void => { delete e.detail.ModelApprovalStatus; }, 'detail.ModelApprovalStatus'],
    ['a model package event whose ARN names another version', 'modelPackage', 'model-package-pending.json', (e: Mutable): void => { e.detail.ModelPackageVersion = 7; }, 'detail.ModelPackageArn'],
  ] as const)('%s', async (_name, fn, file, mutate, path) => {
    const event = sample(file);
    mutate(event);

    const error = await handlers[fn](event, context).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).problems.some((p) => p.startsWith(`${path}:`))).toBe(true);
    expect(await itemCount()).toBe(0);
    expect(sm.calls()).toHaveLength(0);
    expect(sns.calls()).toHaveLength(0);
  });
});

describe('operator functions', () => {
  it('putPolicy refuses a bad policy, naming each problem, and writes nothing', async () => {
    const error = (await handlers.putPolicy(sample('policy-invalid.json'), context).catch((e: unknown) => e)) as ValidationError;

    expect(error).toBeInstanceOf(ValidationError);
    expect(error.problems.map((p) => p.split(':')[0])).toEqual(
      expect.arrayContaining(['modelPackageGroupName', 'rules.0.comparison', 'rules.0.threshold', 'reviewers.0']),
    );
    expect(await itemCount()).toBe(0);
  });

  it('getPolicy says that a group without a policy has none (and so approves nothing)', async () => {
    await expect(handlers.getPolicy({ modelPackageGroupName: 'fraud-detector' }, context)).rejects.toBeInstanceOf(NotFound);
  });

  it('putPolicy versions every change; getPolicy returns the current one and every earlier version', async () => {
    const policy = sample('policy-fraud-detector.json');

    const first = await handlers.putPolicy(policy, context);
    const same = await handlers.putPolicy({ ...policy, reason: 'no change' }, context);
    const changed = await handlers.putPolicy({ ...policy, requiredApprovals: 1, reason: 'one approver during the freeze' }, context);

    expect(first).toMatchObject({ outcome: 'created', policy: { version: 1, requiredApprovals: 2 } });
    expect(same).toMatchObject({ outcome: 'unchanged', policy: { version: 1 } });
    expect(changed).toMatchObject({ outcome: 'created', policy: { version: 2, requiredApprovals: 1, reason: 'one approver during the freeze' } });
    expect(await handlers.getPolicy(sample('get-policy.json'), context)).toMatchObject({ policy: { version: 2 } });
    const all = (await handlers.getPolicy(sample('get-policy-all-versions.json'), context)) as { versions: Array<{ version: number }> };
    expect(all.versions.map((v) => v.version)).toEqual([2, 1]);
    await expect(handlers.getPolicy({ modelPackageGroupName: 'fraud-detector', version: 9 }, context)).rejects.toBeInstanceOf(NotFound);
    await expect(handlers.getPolicy({ group: 'fraud-detector' }, context)).rejects.toBeInstanceOf(ValidationError);
  });

  it('the training handler records a sample event end to end', async () => {
    const event = sample('training-job-completed.json');
    sm.on(DescribeTrainingJobCommand).resolves(story('fraud').describe('training-job-completed.json', { 'validation:auc': 0.912 }) as never);
    sns.on(PublishCommand).resolves({});

    const result = await handlers.training(event, context);

    expect(result).toEqual({ outcome: 'recorded', job: 'fraud-xgb-2026-11-27-09-14-05-412', gatedWaiting: 0 });
  });
});
