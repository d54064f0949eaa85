import { mockClient } from 'aws-sdk-client-mock';
import { DescribeTrainingJobCommand, ListTagsCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SNSClient } from '@aws-sdk/client-sns';
import { S3Client } from '@aws-sdk/client-s3';
import { TRAINING_SCOPE, groupScope } from '../../shared/domain/audit.js';
import type { ContextCommit, Deps, JobContext, VersionContext } from '../../shared/ports.js';
import { handleModelPackageChange } from '../../shared/usecases/gate.js';
import { putPolicy } from '../../shared/usecases/policies.js';
import { recordTrainingJob } from '../../shared/usecases/training.js';
import { scopeEntries } from '../support/audit-log.js';
import { newTable, type TestTable } from '../support/dynamo.js';
import { resetMocks, story, testDeps } from '../support/story.js';

/**
 * Issue 9 (contention): a commit that loses a race gets the items it lost on back from the
 * cancelled transaction (ReturnValuesOnConditionCheckFailure), and the retry decides on them
 * without reading the context again: a conflict costs the cancelled transaction, not also a read.
 * The races are the ones the contention bench measured most: a registration and its own job's
 * event, each recording the job, and a registration and its repeat under a new event id.
 */
const sm = mockClient(SageMakerClient);
const sns = mockClient(SNSClient);
const s3 = mockClient(S3Client);

const JOB = 'training-job-completed.json';
const VERSION = 'model-package-pending.json';
const EVENT_TAGS = [
  { Key: 'team', Value: 'fraud-ml' },
  { Key: 'cost-center', Value: 'cc-4711' },
];

let table: TestTable;
const clock = { now: Date.parse('2026-12-01T12:00:00Z') };
let deps: Deps;
/** Every DynamoDB command sent since the last `sent.length = 0`. */
const sent: string[] = [];

beforeAll(async () => {
  table = await newTable('findings');
  table.client.middlewareStack.add(
    (next, context) => async (args) => {
      sent.push(context.commandName ?? '?');
      return next(args);
    },
    { step: 'initialize', name: 'countRequests' },
  );
  deps = testDeps(table.client, table.tableName, clock);
});
afterAll(() => table.drop());
beforeEach(() => resetMocks(sm, sns, s3));

/**
 * The deps with a store whose context reads are counted and whose first commit of `kind` lets
 * `rival` commit first (the race, made certain), recording what each commit answered.
 */
function racing(kind: 'version' | 'job', rival: () => Promise<unknown>) {
  const loads: string[] = [];
  const answers: Array<ContextCommit<VersionContext> | ContextCommit<JobContext>> = [];
  let raced = false;
  const store = Object.create(deps.store) as Deps['store'];
  store.loadVersionContext = (key) => {
    loads.push('version');
    return deps.store.loadVersionContext(key);
  };
  store.loadJobContext = (key) => {
    loads.push('job');
    return deps.store.loadJobContext(key);
  };
  const beforeCommit = async () => {
    if (raced) return;
    raced = true;
    await rival();
    sent.length = 0;
  };
  if (kind === 'version') {
    store.commitVersionChange = async (change) => {
      await beforeCommit();
      const answer = await deps.store.commitVersionChange(change);
      answers.push(answer);
      return answer;
    };
  } else {
    store.commitJobChange = async (change) => {
      await beforeCommit();
      const answer = await deps.store.commitJobChange(change);
      answers.push(answer);
      return answer;
    };
  }
  return { deps: { ...deps, store } as Deps, loads, answers };
}

test("a registration that loses to its own job's event: the cancelled commit returns the artifact node with its producer, and the retry commits without reading again", async () => {
  const s = story('cf1');
  const jobName = 'cf1-xgb-2026-11-27-09-14-05-412';
  await putPolicy(deps, s.policy());
  sm.on(DescribeTrainingJobCommand).resolves(s.describe(JOB, { 'validation:auc': 0.912 }) as never);
  sm.on(ListTagsCommand).resolves({ Tags: EVENT_TAGS });
  // The gate confirms the job with DescribeTrainingJob (no artifact node yet); the job's event commits first.
  const race = racing('version', () => recordTrainingJob(deps, s.job(JOB)));

  const result = await handleModelPackageChange(race.deps, s.version(VERSION));

  expect(result.outcome).toBe('review-opened');
  expect(race.answers).toHaveLength(2);
  expect(race.answers[0]).toMatchObject({ conflict: true, current: { artifact: { producer: { name: jobName }, waiting: [], consumers: [] } } });
  expect(race.answers[1]).toBe('committed');
  expect(race.loads).toEqual(['version']);
  // After the rival's commit: the cancelled transaction, the retry's, the settle of its effects; no read of the table.
  expect(sent.filter((c) => c === 'BatchGetItemCommand' || c === 'GetItemCommand')).toEqual([]);
  expect(sent.filter((c) => c === 'TransactWriteItemsCommand')).toHaveLength(2);
  // The job is recorded once, from its event; the gate's record of it (from DescribeTrainingJob) was cancelled with its commit.
  const jobEntries = (await scopeEntries(deps, TRAINING_SCOPE)).filter((e) => e.subject.endsWith(`/${jobName}`));
  expect(jobEntries.map((e) => [e.action, e.detail['source']])).toEqual([['training-job.recorded', undefined]]);
  const artifact = await deps.store.getArtifact(`s3://acme-ml-artifacts-123456789012/cf1-detector/training/${jobName}/output/model.tar.gz`);
  expect(artifact).toMatchObject({ producer: { name: jobName }, consumers: [s.arn(1)], waiting: [] });
});

test('a job event that loses to a registration that recorded the job from DescribeTrainingJob: the cancelled commit returns the job, and the retry finds a duplicate with no read', async () => {
  const s = story('cf2');
  const jobName = 'cf2-xgb-2026-11-27-09-14-05-412';
  await putPolicy(deps, s.policy());
  sm.on(DescribeTrainingJobCommand).resolves(s.describe(JOB, { 'validation:auc': 0.912 }) as never);
  sm.on(ListTagsCommand).resolves({ Tags: EVENT_TAGS });
  const race = racing('job', () => handleModelPackageChange(deps, s.version(VERSION)));

  const result = await recordTrainingJob(race.deps, s.job(JOB));

  expect(result).toEqual({ outcome: 'duplicate', job: jobName, gatedWaiting: 0 });
  expect(race.answers).toEqual([
    { conflict: true, current: { job: expect.objectContaining({ name: jobName, rev: 1 }), artifact: expect.objectContaining({ producer: expect.objectContaining({ name: jobName }), consumers: [s.arn(1)] }) } },
  ]);
  expect(race.loads).toEqual(['job']);
  expect(sent).toEqual(['TransactWriteItemsCommand']); // the cancelled one, and nothing after it
  const jobEntries = (await scopeEntries(deps, TRAINING_SCOPE)).filter((e) => e.subject.endsWith(`/${jobName}`));
  expect(jobEntries.map((e) => [e.action, e.detail['source']])).toEqual([['training-job.recorded', 'DescribeTrainingJob']]);
});

test('a registration and its repeat under a new event id at once: the loser gets the version back and finds a duplicate, with one review opened', async () => {
  const s = story('cf3');
  await putPolicy(deps, s.policy());
  sm.on(DescribeTrainingJobCommand).resolves(s.describe(JOB, { 'validation:auc': 0.912 }) as never);
  await recordTrainingJob(deps, s.job(JOB));
  const race = racing('version', () => handleModelPackageChange(deps, s.version(VERSION)));

  const result = await handleModelPackageChange(race.deps, s.version(VERSION));

  expect(result.outcome).toBe('duplicate');
  expect(race.answers).toEqual([{ conflict: true, current: { version: expect.objectContaining({ arn: s.arn(1), gateState: 'passed', review: expect.objectContaining({ status: 'Open' }), rev: 2 }) } }]);
  expect(race.loads).toEqual(['version']);
  expect(sent).toEqual(['TransactWriteItemsCommand']); // the cancelled one, and nothing after it
  const entries = await scopeEntries(deps, groupScope(s.group));
  expect(entries.filter((e) => e.action === 'review.opened')).toHaveLength(1);
});

test('a conflict that names none of the context items (a stand-in answer) reads the context again', async () => {
  const s = story('cf4');
  await putPolicy(deps, s.policy());
  sm.on(DescribeTrainingJobCommand).resolves(s.describe(JOB, { 'validation:auc': 0.912 }) as never);
  await recordTrainingJob(deps, s.job(JOB));
  const loads: string[] = [];
  let conflicts = 1;
  const store = Object.create(deps.store) as Deps['store'];
  store.loadVersionContext = (key) => {
    loads.push('version');
    return deps.store.loadVersionContext(key);
  };
  store.commitVersionChange = async (change) => (conflicts-- > 0 ? { conflict: true } : deps.store.commitVersionChange(change));

  const result = await handleModelPackageChange({ ...deps, store }, s.version(VERSION));

  expect(result.outcome).toBe('review-opened');
  expect(loads).toEqual(['version', 'version']);
});

test('a version whose customer metadata has a `__proto__` key loses a race: the SDK cannot read the returned item, the transaction is sent again without it, and the retry reads again', async () => {
  const s = story('cf5');
  await putPolicy(deps, s.policy());
  sm.on(DescribeTrainingJobCommand).resolves(s.describe(JOB, { 'validation:auc': 0.912 }) as never);
  await recordTrainingJob(deps, s.job(JOB));
  const hostile = () => {
    const v = s.version(VERSION);
    return { ...v, CustomerMetadataProperties: Object.fromEntries([...Object.entries(v.CustomerMetadataProperties ?? {}), ['__proto__', 'x']]) };
  };
  const race = racing('version', () => handleModelPackageChange(deps, hostile()));

  const result = await handleModelPackageChange(race.deps, hostile());

  expect(result.outcome).toBe('duplicate');
  expect(race.answers).toEqual([{ conflict: true }]);
  expect(race.loads).toEqual(['version', 'version']);
  // The cancelled transaction, the same one again without asking for the items, the read.
  expect(sent).toEqual(['TransactWriteItemsCommand', 'TransactWriteItemsCommand', 'BatchGetItemCommand']);
  const stored = await deps.store.getVersion({ group: s.group, version: 1 });
  expect(Object.hasOwn(stored?.customerMetadata ?? {}, '__proto__')).toBe(true);
});
