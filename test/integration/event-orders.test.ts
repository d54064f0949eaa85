// The event path in every order EventBridge may deliver it (at least once, in any order): the
// trainer's Studio user reaches separation of duties whichever of the job and the version comes
// first; jobs that end without an artifact are recorded; a waiting version is always gated in the
// end (the job event's retry, the hourly sweep) or reported (reconcile); a refused event writes nothing.
import { mockClient } from 'aws-sdk-client-mock';
import {
  DescribeModelPackageCommand,
  DescribeTrainingJobCommand,
  ListModelPackagesCommand,
  ListTagsCommand,
  SageMakerClient,
  SageMakerServiceException,
} from '@aws-sdk/client-sagemaker';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { TRAINING_SCOPE, groupScope } from '../../shared/domain/audit.js';
import { ValidationError } from '../../shared/domain/errors.js';
import type { Deps } from '../../shared/ports.js';
import { TrainingJobStateChangeSchema, type TrainingJobDetail } from '../../shared/schemas/events.js';
import { handleModelPackageChange } from '../../shared/usecases/gate.js';
import { putPolicy } from '../../shared/usecases/policies.js';
import { reconcile } from '../../shared/usecases/reconcile.js';
import { submitVote } from '../../shared/usecases/review.js';
import { sweepReviews, type SweepReport } from '../../shared/usecases/sweep.js';
import { IncompleteRun } from '../../shared/usecases/runs.js';
import { recordTrainingJob } from '../../shared/usecases/training.js';
import { addedEntries, countEntries, logVerifies, scopeEntries } from '../support/audit-log.js';
import { newTable, type TestTable } from '../support/dynamo.js';
import { resetMocks, reviewTokens, story, testDeps } from '../support/story.js';

const sm = mockClient(SageMakerClient);
const sns = mockClient(SNSClient);
const s3 = mockClient(S3Client);

const GOOD = { 'validation:auc': 0.912 };
const RISK = 'risk-officer@acme-bank.example';
const LEAD = 'ml-lead@acme-bank.example';
/** The Studio user who trained the job: ml-lead, one of the group's reviewers (isSamePerson: the local part). */
const TRAINER = 'arn:aws:sagemaker:us-east-1:123456789012:user-profile/d-xxxx/ml-lead';
const EVENT_TAGS = { team: 'fraud-ml', 'cost-center': 'cc-4711' };
const JOB_FILE = 'training-job-completed.json';
const VERSION_FILE = 'model-package-pending.json';
const START = Date.parse('2026-11-27T12:00:00Z');

let table: TestTable;
const clock = { now: START };
let deps: Deps;

beforeAll(async () => {
  table = await newTable('orders');
  deps = testDeps(table.client, table.tableName, clock);
});
afterAll(() => table.drop());
beforeEach(() => {
  clock.now = START;
  resetMocks(sm, sns, s3);
});

const jobName = (prefix: string) => `${prefix}-xgb-2026-11-27-09-14-05-412`;
const jobArn = (prefix: string) => `arn:aws:sagemaker:us-east-1:123456789012:training-job/${jobName(prefix)}`;
const artifactOf = (prefix: string) => `s3://acme-ml-artifacts-123456789012/${prefix}-detector/training/${jobName(prefix)}/output/model.tar.gz`;
const tagList = (tags: Record<string, string>) => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
const published = () => sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
const inputs = <T extends { input: unknown }>(calls: Array<{ args: [T] }>) => calls.map((c) => c.args[0].input);

/** The job's own event: the same detail as DescribeTrainingJob, with the tags only the event carries. */
function jobEvent(s: ReturnType<typeof story>, tags: Record<string, string>): TrainingJobDetail {
  return { ...s.job(JOB_FILE), Tags: tags };
}

function throttling(): SageMakerServiceException {
  return new SageMakerServiceException({ name: 'ThrottlingException', $fault: 'client', $metadata: {}, message: 'Rate exceeded' });
}

/** Every item of the table, for "nothing was written" (tests only; the code never scans). */
async function everything() {
  const out = await table.doc.send(new ScanCommand({ TableName: table.tableName, ConsistentRead: true }));
  return (out.Items ?? []).sort((a, b) => `${String(a.PK)}|${String(a.SK)}`.localeCompare(`${String(b.PK)}|${String(b.SK)}`));
}

/** The trainer approves with their own link: refused (separation of duties), and the refusal audited. */
async function expectTrainerRefused(s: ReturnType<typeof story>, tokens: Record<string, string>) {
  const before = await scopeEntries(deps, groupScope(s.group));
  const page = await submitVote(deps, tokens[LEAD] ?? '', { decision: 'approve' });
  expect(page.status).toBe(403);
  expect(page.body).toMatch(/Separation of duties/);
  const entries = await scopeEntries(deps, groupScope(s.group));
  expect(addedEntries(before, entries)).toEqual([
    expect.objectContaining({ action: 'review.refused', subject: s.arn(1), actor: LEAD, detail: expect.objectContaining({ kind: 'self-approval', method: 'POST' }) }),
  ]);
  expect(JSON.stringify(entries)).not.toContain(tokens[LEAD]);
  const v = await deps.store.getVersion({ group: s.group, version: 1 });
  expect(v).toMatchObject({ trainedBy: TRAINER, review: { status: 'Open' } });
  expect(v?.decision).toBeUndefined();
}

describe('separation of duties whichever of the job and the version arrives first', () => {
  it('job event first: the version opens its review with trainedBy from the tag, and the trainer may not approve', async () => {
    const s = story('sodjob');
    await putPolicy(deps, s.policy());
    sm.on(DescribeTrainingJobCommand).resolves(s.describe(JOB_FILE, GOOD) as never);

    expect((await recordTrainingJob(deps, jobEvent(s, { ...EVENT_TAGS, 'sagemaker:user-profile-arn': TRAINER }))).outcome).toBe('recorded');
    const result = await handleModelPackageChange(deps, s.version(VERSION_FILE));

    expect(result.outcome).toBe('review-opened');
    expect(sm.commandCalls(ListTagsCommand)).toHaveLength(0); // the event carried the tags
    await expectTrainerRefused(s, reviewTokens(published()));
  });

  it('version first: DescribeTrainingJob and ListTags record the job with its trainer; the late event (older LastModifiedTime) adds nothing; the trainer may not approve', async () => {
    const s = story('sodver');
    await putPolicy(deps, s.policy());
    // DescribeTrainingJob can report a LastModifiedTime newer than the one the event carries.
    sm.on(DescribeTrainingJobCommand).resolves({ ...(s.describe(JOB_FILE, GOOD) as object), LastModifiedTime: new Date(1795772497000 + 60_000) } as never);
    sm.on(ListTagsCommand).resolves({ Tags: tagList({ ...EVENT_TAGS, 'sagemaker:user-profile-arn': TRAINER }) });

    const result = await handleModelPackageChange(deps, s.version(VERSION_FILE));

    expect(result.outcome).toBe('review-opened');
    expect(inputs(sm.commandCalls(DescribeTrainingJobCommand))).toEqual([{ TrainingJobName: jobName('sodver') }]);
    expect(inputs(sm.commandCalls(ListTagsCommand))).toEqual([{ ResourceArn: jobArn('sodver'), MaxResults: 100 }]);
    expect(await deps.store.getTrainingJob(jobName('sodver'))).toMatchObject({ trainedBy: TRAINER, tags: { ...EVENT_TAGS, 'sagemaker:user-profile-arn': TRAINER } });
    expect((await deps.store.getArtifact(artifactOf('sodver')))?.producer?.trainedBy).toBe(TRAINER);
    const tokens = reviewTokens(published());

    const before = await everything();
    const late = await recordTrainingJob(deps, jobEvent(s, { ...EVENT_TAGS, 'sagemaker:user-profile-arn': TRAINER }));
    expect(late).toEqual({ outcome: 'stale', job: jobName('sodver'), gatedWaiting: 0 });
    expect(await everything()).toEqual(before);

    await expectTrainerRefused(s, tokens);
  });

  it('a record made without the tag is enriched by the late event: audited, the artifact and the linked version get trainedBy, and the trainer may not approve; the same event again writes nothing', async () => {
    const s = story('enrich');
    await putPolicy(deps, s.policy());
    sm.on(DescribeTrainingJobCommand).resolves({ ...(s.describe(JOB_FILE, GOOD) as object), LastModifiedTime: new Date(1795772497000 + 60_000) } as never);
    // The tag is not there yet when the version is gated (ListTags answers none).
    sm.on(ListTagsCommand).resolves({ Tags: [] });
    expect((await handleModelPackageChange(deps, s.version(VERSION_FILE))).outcome).toBe('review-opened');
    expect((await deps.store.getVersion({ group: s.group, version: 1 }))?.trainedBy).toBeUndefined();
    const tokens = reviewTokens(published());
    const jobRevBefore = (await deps.store.getTrainingJob(jobName('enrich')))?.rev ?? 0;
    sm.resetHistory();

    const event = jobEvent(s, { ...EVENT_TAGS, 'sagemaker:user-profile-arn': TRAINER });
    const enriched = await recordTrainingJob(deps, event);

    expect(enriched).toEqual({ outcome: 'enriched', job: jobName('enrich'), gatedWaiting: 0 });
    expect(sm.calls()).toHaveLength(0); // the event's facts; no SageMaker call
    const job = await deps.store.getTrainingJob(jobName('enrich'));
    expect(job).toMatchObject({
      trainedBy: TRAINER,
      tags: { ...EVENT_TAGS, 'sagemaker:user-profile-arn': TRAINER },
      metrics: GOOD, // kept: the event has none
      lastModified: 1795772497000 + 60_000, // the record's state is kept
      rev: jobRevBefore + 1,
    });
    expect((await deps.store.getArtifact(artifactOf('enrich')))?.producer).toMatchObject({ name: jobName('enrich'), trainedBy: TRAINER, metrics: GOOD });
    const training = await scopeEntries(deps, TRAINING_SCOPE);
    const entry = training.filter((e) => e.subject === jobArn('enrich')).at(-1);
    expect(entry).toMatchObject({
      action: 'training-job.enriched',
      actor: 'sagemaker',
      detail: {
        status: 'Completed',
        lastModified: 1795772497000,
        recordedLastModified: 1795772497000 + 60_000,
        added: { tags: ['team', 'cost-center', 'sagemaker:user-profile-arn'], hyperparameters: [], datasets: [], fields: ['trainedBy'] },
        trainedBy: TRAINER,
        versionsGivenTrainedBy: [s.arn(1)],
      },
    });
    expect(await logVerifies(table)).toMatchObject({ ok: true });

    await expectTrainerRefused(s, tokens);

    // The same event again (another event id): it adds nothing now, so nothing is written (stale:
    // the record keeps DescribeTrainingJob's newer LastModifiedTime).
    const before = await everything();
    expect(await recordTrainingJob(deps, event)).toEqual({ outcome: 'stale', job: jobName('enrich'), gatedWaiting: 0 });
    expect(await everything()).toEqual(before);
  });

  it("a trainer's approve that was read before the enrichment and commits after it is checked again and refused", async () => {
    const s = story('race');
    await putPolicy(deps, s.policy());
    sm.on(DescribeTrainingJobCommand).resolves({ ...(s.describe(JOB_FILE, GOOD) as object), LastModifiedTime: new Date(1795772497000 + 60_000) } as never);
    sm.on(ListTagsCommand).resolves({ Tags: [] });
    expect((await handleModelPackageChange(deps, s.version(VERSION_FILE))).outcome).toBe('review-opened');
    const tokens = reviewTokens(published());
    // The late job event with the trainer's tag commits between the vote's read and its commit.
    let raced = false;
    const racing: Deps = {
      ...deps,
      store: {
        ...deps.store,
        commitVote: async (change) => {
          if (!raced) {
            raced = true;
            expect((await recordTrainingJob(deps, jobEvent(s, { ...EVENT_TAGS, 'sagemaker:user-profile-arn': TRAINER }))).outcome).toBe('enriched');
          }
          return deps.store.commitVote(change);
        },
      },
    };

    const page = await submitVote(racing, tokens[LEAD] ?? '', { decision: 'approve' });

    expect(raced).toBe(true);
    expect(page.status).toBe(403);
    expect(page.body).toMatch(/Separation of duties/);
    const review = await deps.store.getReview({ group: s.group, version: 1, reviewId: (await deps.store.getVersion({ group: s.group, version: 1 }))?.review?.id ?? '' });
    expect(review?.votes).toEqual({});
  });

  it('a record made without the tag, then the job event with a newer LastModifiedTime: recorded again, and the linked version gets trainedBy', async () => {
    const s = story('newer');
    await putPolicy(deps, s.policy());
    // DescribeTrainingJob answered before SageMaker's last update to the job.
    sm.on(DescribeTrainingJobCommand).resolves({ ...(s.describe(JOB_FILE, GOOD) as object), LastModifiedTime: new Date(1795772497000 - 5_000) } as never);
    sm.on(ListTagsCommand).resolves({ Tags: tagList(EVENT_TAGS) });
    expect((await handleModelPackageChange(deps, s.version(VERSION_FILE))).outcome).toBe('review-opened');
    const tokens = reviewTokens(published());

    const result = await recordTrainingJob(deps, jobEvent(s, { ...EVENT_TAGS, 'sagemaker:user-profile-arn': TRAINER }));

    expect(result).toEqual({ outcome: 'recorded', job: jobName('newer'), gatedWaiting: 0 });
    expect(await deps.store.getTrainingJob(jobName('newer'))).toMatchObject({ lastModified: 1795772497000, trainedBy: TRAINER, metrics: GOOD });
    const entry = (await scopeEntries(deps, TRAINING_SCOPE)).filter((e) => e.subject === jobArn('newer')).at(-1);
    expect(entry).toMatchObject({ action: 'training-job.recorded', detail: { trainedBy: TRAINER, versionsGivenTrainedBy: [s.arn(1)] } });
    await expectTrainerRefused(s, tokens);
  });

  it('the enrichment fills only what the record lacks: datasets, image and hyperparameters, and the linked version gets an edge to the new dataset', async () => {
    const s = story('enrich2');
    await putPolicy(deps, s.policy());
    const described = s.describe(JOB_FILE, GOOD) as Record<string, unknown>;
    // An answer that lacks the validation channel, the image and one hyperparameter.
    sm.on(DescribeTrainingJobCommand).resolves({
      ...described,
      InputDataConfig: (described.InputDataConfig as Array<{ ChannelName: string }>).filter((c) => c.ChannelName === 'train'),
      AlgorithmSpecification: { TrainingInputMode: 'File' },
      HyperParameters: { max_depth: '6', eta: '0.3' },
    } as never);
    sm.on(ListTagsCommand).resolves({ Tags: tagList({ 'sagemaker:user-profile-arn': TRAINER }) });
    expect((await handleModelPackageChange(deps, s.version(VERSION_FILE))).outcome).toBe('review-opened');

    expect((await recordTrainingJob(deps, jobEvent(s, EVENT_TAGS))).outcome).toBe('enriched');
    // The same event again: a duplicate (the same LastModifiedTime), and nothing is written.
    const before = await everything();
    expect((await recordTrainingJob(deps, jobEvent(s, EVENT_TAGS))).outcome).toBe('duplicate');
    expect(await everything()).toEqual(before);

    const job = await deps.store.getTrainingJob(jobName('enrich2'));
    expect(job?.datasets.map((d) => d.channel)).toEqual(['train', 'validation']);
    expect(job?.image).toBe('683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1');
    // eta was recorded: it stays; the others are added.
    expect(job?.hyperparameters).toEqual({ max_depth: '6', eta: '0.3', objective: 'binary:logistic', num_round: '200', eval_metric: 'auc' });
    expect(job?.trainedBy).toBe(TRAINER);
    const impact = await deps.store.datasetImpact({ bucket: 'acme-ml-datasets-123456789012', keyPrefix: 'fraud/transactions/2026-11-01/validation/', limit: 100 });
    expect(impact.items.filter((i) => i.kind === 'modelVersion' && i.modelPackageArn === s.arn(1))).toHaveLength(1);
    const entry = (await scopeEntries(deps, TRAINING_SCOPE)).filter((e) => e.subject === jobArn('enrich2')).at(-1);
    expect(entry).toMatchObject({
      action: 'training-job.enriched',
      detail: {
        added: {
          tags: ['team', 'cost-center'],
          hyperparameters: ['objective', 'num_round', 'eval_metric'],
          datasets: ['s3://acme-ml-datasets-123456789012/fraud/transactions/2026-11-01/validation/'],
          fields: ['image'],
        },
        versionsGivenTrainedBy: [],
      },
    });
  });
});

describe('jobs that end without an artifact', () => {
  it.each([
    ['Failed', 'an empty S3ModelArtifacts', { S3ModelArtifacts: '' }],
    ['Failed', 'no ModelArtifacts', undefined],
    ['Stopped', 'an empty S3ModelArtifacts', { S3ModelArtifacts: '' }],
    ['Stopped', 'no ModelArtifacts', undefined],
  ] as const)('a %s job with %s is recorded with no artifact, and audited', async (status, _what, artifacts) => {
    const s = story(`noart-${status.toLowerCase()}-${artifacts ? 'empty' : 'absent'}`);
    const raw = s.raw('training-job-failed.json') as { detail: Record<string, unknown> };
    raw.detail.TrainingJobStatus = status;
    if (artifacts) raw.detail.ModelArtifacts = artifacts;
    else delete raw.detail.ModelArtifacts;
    const detail = TrainingJobStateChangeSchema.parse(raw).detail;

    const result = await recordTrainingJob(deps, detail);

    expect(result).toEqual({ outcome: 'recorded', job: detail.TrainingJobName, gatedWaiting: 0 });
    const job = await deps.store.getTrainingJob(detail.TrainingJobName);
    expect(job).toMatchObject({ status, metrics: {} });
    expect(job?.artifactUri).toBeUndefined();
    const entry = (await scopeEntries(deps, TRAINING_SCOPE)).filter((e) => e.subject === detail.TrainingJobArn);
    expect(entry).toEqual([expect.objectContaining({ action: 'training-job.recorded', detail: expect.objectContaining({ status, metrics: {} }) })]);
    expect(entry[0]?.detail).not.toHaveProperty('artifactUri');
    expect(sm.calls()).toHaveLength(0);
  });

  it('a version whose job SageMaker reports InProgress with S3ModelArtifacts "" waits (awaiting-job, listed in the sparse index), and nothing throws', async () => {
    const s = story('inprog');
    await putPolicy(deps, s.policy());
    sm.on(DescribeTrainingJobCommand).resolves({
      ...(s.describe(JOB_FILE, {}) as object),
      TrainingJobStatus: 'InProgress',
      TrainingEndTime: undefined,
      ModelArtifacts: { S3ModelArtifacts: '' },
    } as never);

    const result = await handleModelPackageChange(deps, s.version(VERSION_FILE));

    expect(result.outcome).toBe('awaiting-job');
    const v = await deps.store.getVersion({ group: s.group, version: 1 });
    expect(v).toMatchObject({ gateState: 'awaiting-job', awaitingSince: new Date(START).toISOString() });
    expect(v?.job).toBeUndefined();
    expect(await deps.store.getTrainingJob(jobName('inprog'))).toBeUndefined();
    expect(await deps.store.getArtifact(artifactOf('inprog'))).toMatchObject({ waiting: [s.arn(1)], consumers: [] });
    expect(sm.commandCalls(ListTagsCommand)).toHaveLength(0);
    expect(published()).toEqual([]);
    const listed = await deps.store.listVersionsAwaitingJob({ limit: 100 });
    expect(listed.items.map((i) => i.arn)).toContain(s.arn(1));
  });
});

describe('a waiting version is gated in the end', () => {
  /** A version that waits (its job still InProgress), then the job completes. */
  async function waitingVersion(d: Deps, prefix: string) {
    const s = story(prefix);
    await putPolicy(d, s.policy());
    // (Default answers replaced, no *Once: sinon's onCall counts restart with resetHistory.)
    sm.on(DescribeTrainingJobCommand).resolves({ ...(s.describe(JOB_FILE, {}) as object), TrainingJobStatus: 'InProgress', ModelArtifacts: undefined } as never);
    expect((await handleModelPackageChange(d, s.version(VERSION_FILE))).outcome).toBe('awaiting-job');
    sm.on(DescribeTrainingJobCommand).resolves(s.describe(JOB_FILE, GOOD) as never);
    sm.on(ListTagsCommand).resolves({ Tags: tagList({ ...EVENT_TAGS, 'sagemaker:user-profile-arn': TRAINER }) });
    sm.resetHistory();
    return s;
  }

  /** The job's event is recorded, but DescribeModelPackage is throttled while it gates the waiting version. */
  async function gateFailsOnce(d: Deps, s: ReturnType<typeof story>) {
    let calls = 0;
    sm.on(DescribeModelPackageCommand).callsFake(() => {
      if (calls++ === 0) throw throttling();
      return { CreatedBy: { IamIdentity: { Arn: 'arn:aws:sts::123456789012:assumed-role/SageMakerPipelineRole/train' } } };
    });
    await expect(recordTrainingJob(d, jobEvent(s, { ...EVENT_TAGS, 'sagemaker:user-profile-arn': TRAINER }))).rejects.toMatchObject({ name: 'ThrottlingException' });
    expect(await d.store.getTrainingJob(jobName(s.group.replace(/-detector$/, '')))).toMatchObject({ status: 'Completed' });
    expect((await d.store.getVersion({ group: s.group, version: 1 }))?.gateState).toBe('awaiting-job');
    expect(published()).toEqual([]);
  }

  async function expectGated(d: Deps, s: ReturnType<typeof story>) {
    const v = await d.store.getVersion({ group: s.group, version: 1 });
    expect(v).toMatchObject({ gateState: 'passed', review: { status: 'Open' }, trainedBy: TRAINER, job: { name: jobName(s.group.replace(/-detector$/, '')) } });
    expect(v?.awaitingSince).toBeUndefined();
    expect(await d.store.getArtifact(v?.artifactUri ?? '')).toMatchObject({ waiting: [], consumers: [s.arn(1)] });
    expect(published().map((p) => p.MessageAttributes?.reviewer?.StringValue)).toEqual([RISK, LEAD]);
    expect((await d.store.listVersionsAwaitingJob({ limit: 100 })).items.map((i) => i.arn)).not.toContain(s.arn(1));
  }

  it("the job event's retry (a duplicate) gates the version whose gate was throttled", async () => {
    const s = await waitingVersion(deps, 'retrygate');
    await gateFailsOnce(deps, s);

    const retry = await recordTrainingJob(deps, jobEvent(s, { ...EVENT_TAGS, 'sagemaker:user-profile-arn': TRAINER }));

    expect(retry).toEqual({ outcome: 'duplicate', job: jobName('retrygate'), gatedWaiting: 1 });
    expect(inputs(sm.commandCalls(DescribeModelPackageCommand))).toEqual([{ ModelPackageName: s.arn(1) }, { ModelPackageName: s.arn(1) }]);
    expect(inputs(sm.commandCalls(DescribeTrainingJobCommand))).toEqual([{ TrainingJobName: jobName('retrygate') }]); // the metrics, once
    expect(inputs(s3.commandCalls(GetObjectCommand))).toEqual([
      { Bucket: 'acme-ml-artifacts-123456789012', Key: `retrygate-detector/evaluation/${jobName('retrygate')}/evaluation.json` },
      { Bucket: 'acme-ml-artifacts-123456789012', Key: `retrygate-detector/evaluation/${jobName('retrygate')}/evaluation.json` },
    ]);
    await expectGated(deps, s);
  });

  it("a waiting version whose gate meets a malformed SageMaker answer does not refuse the job's event: the job is recorded, the version keeps waiting", async () => {
    const s = story('malformed');
    await putPolicy(deps, s.policy());
    sm.on(DescribeTrainingJobCommand).resolves({ ...(s.describe(JOB_FILE, {}) as object), TrainingJobStatus: 'InProgress', ModelArtifacts: undefined } as never);
    expect((await handleModelPackageChange(deps, s.version(VERSION_FILE))).outcome).toBe('awaiting-job');
    // A newer state of the version names another artifact (another job's path); it is recorded, still waiting.
    const other = `s3://acme-ml-artifacts-123456789012/malformed-detector/training/malformed-other-job/output/model.tar.gz`;
    const moved = s.version(VERSION_FILE);
    const container = moved.InferenceSpecification?.Containers[0];
    if (container) container.ModelDataUrl = other;
    expect((await handleModelPackageChange(deps, { ...moved, LastModifiedTime: (moved.LastModifiedTime ?? 0) + 1000 })).outcome).toBe('recorded');
    // SageMaker's answer for that other job is malformed: a ValidationError, which a retry would not change.
    sm.on(DescribeTrainingJobCommand, { TrainingJobName: 'malformed-other-job' }).resolves({ TrainingJobName: 'malformed-other-job', TrainingJobStatus: 'Exploded' } as never);
    sm.on(DescribeTrainingJobCommand, { TrainingJobName: jobName('malformed') }).resolves(s.describe(JOB_FILE, GOOD) as never);

    const result = await recordTrainingJob(deps, jobEvent(s, EVENT_TAGS));

    expect(result).toEqual({ outcome: 'recorded', job: jobName('malformed'), gatedWaiting: 0 });
    expect(inputs(sm.commandCalls(DescribeTrainingJobCommand)).slice(-2)).toEqual([{ TrainingJobName: jobName('malformed') }, { TrainingJobName: 'malformed-other-job' }]);
    expect(await deps.store.getTrainingJob(jobName('malformed'))).toMatchObject({ status: 'Completed' });
    expect(await deps.store.getVersion({ group: s.group, version: 1 })).toMatchObject({ gateState: 'awaiting-job', artifactUri: other });
    expect(published()).toEqual([]);
  });

  describe('the hourly sweep (a table of its own: it reads every waiting version)', () => {
    let own: TestTable;
    let d: Deps;
    beforeEach(async () => {
      own = await newTable('sweepwait');
      d = testDeps(own.client, own.tableName, clock);
    });
    afterEach(() => own.drop());

    it('gates the version whose gate failed after its job was recorded, from the sparse awaiting-job index', async () => {
      const s = await waitingVersion(d, 'sweepgate');
      await gateFailsOnce(d, s);
      sm.resetHistory();
      clock.now = START + 3_600_000;

      const report = await sweepReviews(d);

      expect(report).toMatchObject({ awaitingJob: 1, regated: 1, failures: [] });
      // The job is recorded: no DescribeTrainingJob, no ListTags; the gate's own calls.
      expect(inputs(sm.commandCalls(DescribeModelPackageCommand))).toEqual([{ ModelPackageName: s.arn(1) }]);
      expect(sm.commandCalls(DescribeTrainingJobCommand)).toHaveLength(0);
      expect(sm.commandCalls(ListTagsCommand)).toHaveLength(0);
      await expectGated(d, s);
      expect(await sweepReviews(d)).toMatchObject({ awaitingJob: 0, regated: 0 });
    });

    it('gates a version whose job SageMaker now confirms (no event yet), recording the job with its tags in the same transaction', async () => {
      const s = await waitingVersion(d, 'sweeplayout');

      const report = await sweepReviews(d);

      expect(report).toMatchObject({ awaitingJob: 1, regated: 1, failures: [] });
      expect(inputs(sm.commandCalls(DescribeTrainingJobCommand))).toEqual([{ TrainingJobName: jobName('sweeplayout') }]);
      expect(inputs(sm.commandCalls(ListTagsCommand))).toEqual([{ ResourceArn: jobArn('sweeplayout'), MaxResults: 100 }]);
      expect(inputs(sm.commandCalls(DescribeModelPackageCommand))).toEqual([{ ModelPackageName: s.arn(1) }]);
      await expectGated(d, s);
      expect(await d.store.getTrainingJob(jobName('sweeplayout'))).toMatchObject({ status: 'Completed', trainedBy: TRAINER, metrics: GOOD });
      const recorded = (await scopeEntries(d, TRAINING_SCOPE)).filter((e) => e.subject === jobArn('sweeplayout'));
      expect(recorded).toEqual([expect.objectContaining({ action: 'training-job.recorded', detail: expect.objectContaining({ source: 'DescribeTrainingJob', trainedBy: TRAINER }) })]);
      // The job's event, later: the same state.
      expect((await recordTrainingJob(d, jobEvent(s, { ...EVENT_TAGS, 'sagemaker:user-profile-arn': TRAINER }))).outcome).toBe('duplicate');
    });

    it('leaves a version whose job is still running as it is: nothing written, no audit entry every hour', async () => {
      const s = story('sweepstill');
      await putPolicy(d, s.policy());
      const running = { ...(s.describe(JOB_FILE, {}) as object), TrainingJobStatus: 'InProgress', ModelArtifacts: { S3ModelArtifacts: '' } };
      sm.on(DescribeTrainingJobCommand).resolves(running as never);
      expect((await handleModelPackageChange(d, s.version(VERSION_FILE))).outcome).toBe('awaiting-job');
      const before = await d.store.getVersion({ group: s.group, version: 1 });
      const entriesBefore = (await scopeEntries(d, groupScope(s.group))).length;
      const tableEntriesBefore = await countEntries(own);
      sm.resetHistory();

      clock.now = START + 3_600_000;
      const first = await sweepReviews(d);
      clock.now = START + 2 * 3_600_000;
      const second = await sweepReviews(d);

      expect([first, second]).toEqual([
        expect.objectContaining({ awaitingJob: 1, regated: 0, failures: [] }),
        expect.objectContaining({ awaitingJob: 1, regated: 0, failures: [] }),
      ]);
      expect(inputs(sm.commandCalls(DescribeTrainingJobCommand))).toEqual([{ TrainingJobName: jobName('sweepstill') }, { TrainingJobName: jobName('sweepstill') }]);
      expect(await d.store.getVersion({ group: s.group, version: 1 })).toEqual(before);
      expect(await scopeEntries(d, groupScope(s.group))).toHaveLength(entriesBefore);
      expect(await countEntries(own)).toBe(tableEntriesBefore);
      expect(published()).toEqual([]);
    });

    it('names a waiting version whose gate fails again, goes on, and fails the run with the report', async () => {
      const s = await waitingVersion(d, 'sweepfail');
      sm.on(DescribeModelPackageCommand).rejects(throttling());

      const error = await sweepReviews(d).then(
        () => undefined,
        (e: unknown) => e,
      );

      expect(error).toBeInstanceOf(IncompleteRun);
      const { report, message } = error as IncompleteRun<SweepReport>;
      expect(message).toBe(`sweep incomplete: 1 failure(s): regate ${s.arn(1)}: ThrottlingException: Rate exceeded`);
      expect(report).toMatchObject({ awaitingJob: 1, regated: 0, failures: [{ kind: 'regate', owner: s.arn(1), error: 'ThrottlingException: Rate exceeded' }] });
      // Refused before its commit: the job confirmed through the artifact path is not recorded either.
      expect(await d.store.getTrainingJob(jobName('sweepfail'))).toBeUndefined();
      expect((await d.store.getVersion({ group: s.group, version: 1 }))?.gateState).toBe('awaiting-job');
    });
  });

  it('reconcile reports a version stuck awaiting its job, with its age', async () => {
    const s = story('stuck');
    await putPolicy(deps, s.policy());
    sm.on(DescribeTrainingJobCommand).resolves({ ...(s.describe(JOB_FILE, {}) as object), TrainingJobStatus: 'InProgress', ModelArtifacts: undefined } as never);
    expect((await handleModelPackageChange(deps, s.version(VERSION_FILE))).outcome).toBe('awaiting-job');
    sm.on(ListModelPackagesCommand).resolves({
      ModelPackageSummaryList: [
        { ModelPackageArn: s.arn(1), ModelPackageVersion: 1, ModelPackageGroupName: s.group, ModelApprovalStatus: 'PendingManualApproval', CreationTime: new Date('2026-11-27T09:44:02Z'), ModelPackageStatus: 'Completed' },
      ],
    });
    clock.now = START + 30 * 3_600_000 + 1_800_000;

    const report = await reconcile(deps, { modelPackageGroupName: s.group });

    expect(report.groups[0]).toMatchObject({
      group: s.group,
      recorded: 1,
      stuck: [{ arn: s.arn(1), awaitingSince: new Date(START).toISOString(), ageHours: 30.5, artifactUri: artifactOf('stuck') }],
      actions: [],
    });
    expect(report.totals.stuck).toBe(1);
  });
});

describe('a refused event writes nothing', () => {
  it('a version refused at its commit leaves no job, no artifact node and no audit entry behind (the job came through the artifact path)', async () => {
    const s = story('refused');
    await putPolicy(deps, s.policy());
    sm.on(DescribeTrainingJobCommand).resolves(s.describe(JOB_FILE, GOOD) as never);
    sm.on(ListTagsCommand).resolves({ Tags: tagList({ 'sagemaker:user-profile-arn': TRAINER }) });
    const refusing: Deps = {
      ...deps,
      store: {
        ...deps.store,
        commitVersionChange: async () => {
          throw new ValidationError('model version', ['the item would exceed 400 KB']);
        },
      },
    };
    const before = await everything();

    const error = await handleModelPackageChange(refusing, s.version(VERSION_FILE)).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ValidationError);
    expect(inputs(sm.commandCalls(DescribeTrainingJobCommand))).toEqual([{ TrainingJobName: jobName('refused') }]); // the job was described
    expect(await deps.store.getTrainingJob(jobName('refused'))).toBeUndefined();
    expect(await deps.store.getArtifact(artifactOf('refused'))).toBeUndefined();
    expect(await everything()).toEqual(before);
    expect(published()).toEqual([]);
  });
});
