import { mockClient } from 'aws-sdk-client-mock';
import { DescribeModelPackageCommand, DescribeTrainingJobCommand, ListTagsCommand, SageMakerClient, UpdateModelPackageCommand } from '@aws-sdk/client-sagemaker';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Deps } from '../../shared/ports.js';
import { handleModelPackageChange } from '../../shared/usecases/gate.js';
import { putPolicy } from '../../shared/usecases/policies.js';
import { recordTrainingJob } from '../../shared/usecases/training.js';
import { newTable, type TestTable } from '../support/dynamo.js';
import { resetMocks, story, testDeps } from '../support/story.js';

/**
 * Issue 9: a commit that conflicts is planned again from a fresh read of the table, but the AWS
 * answers of the same invocation are not asked for again (shared/usecases/read-cache.ts).
 */
const sm = mockClient(SageMakerClient);
const sns = mockClient(SNSClient);
const s3 = mockClient(S3Client);

let table: TestTable;
const clock = { now: Date.parse('2026-12-01T12:00:00Z') };
let deps: Deps;

beforeAll(async () => {
  table = await newTable('readcache');
  deps = testDeps(table.client, table.tableName, clock);
});
afterAll(() => table.drop());
beforeEach(() => resetMocks(sm, sns, s3));

/** The same deps, whose first `n` version commits answer a conflict (naming nothing, so the gate reads again) without writing. */
function conflicting(n: number): Deps & { conflicts: () => number } {
  let left = n;
  let seen = 0;
  const store = Object.create(deps.store) as Deps['store'];
  store.commitVersionChange = async (change) => {
    if (left > 0) {
      left--;
      seen++;
      return { conflict: true };
    }
    return deps.store.commitVersionChange(change);
  };
  return Object.assign({ ...deps, store }, { conflicts: () => seen });
}

test('a gate whose commit conflicts twice asks SageMaker and S3 once each, and still opens its review', async () => {
  const s = story('rc1');
  sm.on(DescribeTrainingJobCommand).resolves(s.describe('training-job-completed.json', { 'validation:auc': 0.912 }) as never);
  await putPolicy(deps, s.policy());
  await recordTrainingJob(deps, s.job('training-job-completed.json'));
  sm.resetHistory();
  s3.resetHistory();
  const d = conflicting(2);
  const result = await handleModelPackageChange(d, s.version('model-package-pending.json'));
  expect(d.conflicts()).toBe(2);
  expect(result.outcome).toBe('review-opened');
  // The plan ran three times; DescribeModelPackage (who registered it) and the report once.
  expect(sm.commandCalls(DescribeModelPackageCommand)).toHaveLength(1);
  expect(s3.commandCalls(GetObjectCommand)).toHaveLength(1);
  expect(sns.commandCalls(PublishCommand).length).toBeGreaterThan(0);
});

test('a version that arrives before its job: DescribeTrainingJob and ListTags once each across two conflicts', async () => {
  const s = story('rc2');
  await putPolicy(deps, s.policy());
  sm.on(DescribeTrainingJobCommand).resolves(s.describe('training-job-completed.json', { 'validation:auc': 0.912 }) as never);
  sm.on(ListTagsCommand).resolves({ Tags: [] });
  sm.resetHistory();
  const d = conflicting(2);
  const result = await handleModelPackageChange(d, s.version('model-package-pending.json'));
  expect(d.conflicts()).toBe(2);
  expect(result.outcome).toBe('review-opened');
  expect(sm.commandCalls(DescribeTrainingJobCommand)).toHaveLength(1);
  expect(sm.commandCalls(ListTagsCommand)).toHaveLength(1);
});

test('a failed AWS read is not kept: the retry asks again', async () => {
  const s = story('rc3');
  sm.on(DescribeTrainingJobCommand).resolves(s.describe('training-job-completed.json', { 'validation:auc': 0.912 }) as never);
  await putPolicy(deps, s.policy());
  await recordTrainingJob(deps, s.job('training-job-completed.json'));
  sm.resetHistory();
  sm.on(DescribeModelPackageCommand)
    .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: {} }))
    .resolves({ CreatedBy: { IamIdentity: { Arn: 'arn:aws:sts::123456789012:assumed-role/SageMakerPipelineRole/x' } } });
  // The first invocation fails on the throttled read; the next one (Lambda's retry) asks again.
  await expect(handleModelPackageChange(deps, s.version('model-package-pending.json'))).rejects.toThrow();
  const result = await handleModelPackageChange(deps, s.version('model-package-pending.json'));
  expect(result.outcome).toBe('review-opened');
  expect(sm.commandCalls(DescribeModelPackageCommand).length).toBeGreaterThanOrEqual(2);
  expect(sm.commandCalls(UpdateModelPackageCommand)).toHaveLength(0);
});
