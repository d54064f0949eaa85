import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import {
  DescribeModelPackageCommand,
  DescribeTrainingJobCommand,
  ListTagsCommand,
  SageMakerClient,
  SageMakerServiceException,
  UpdateModelPackageCommand,
} from '@aws-sdk/client-sagemaker';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetObjectCommand, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { TRAINING_SCOPE, groupScope } from '../../shared/domain/audit.js';
import { SideEffectFailed } from '../../shared/domain/errors.js';
import type { Deps } from '../../shared/ports.js';
import { ModelPackageStateChangeSchema } from '../../shared/schemas/events.js';
import { handleModelPackageChange } from '../../shared/usecases/gate.js';
import { putPolicy } from '../../shared/usecases/policies.js';
import { recordTrainingJob } from '../../shared/usecases/training.js';
import { logVerifies, scopeEntries } from '../support/audit-log.js';
import { newTable, type TestTable } from '../support/dynamo.js';
import { EVENTS_DIR, REVIEW_BASE_URL, TEST_KEY_RING, TOPICS, SAMPLE_REPORT, s3Body, story, testDeps } from '../support/story.js';
import { verifyReviewToken } from '../../shared/domain/token.js';

const sm = mockClient(SageMakerClient);
const sns = mockClient(SNSClient);
const s3 = mockClient(S3Client);

const REPORT = SAMPLE_REPORT;
const GOOD = { 'validation:auc': 0.912, 'train:auc': 0.942 };
const LOW = { 'validation:auc': 0.801, 'train:auc': 0.831 };

let table: TestTable;
const clock = { now: Date.parse('2026-11-27T12:00:00Z') };
let deps: Deps;

beforeAll(async () => {
  table = await newTable('gate');
  deps = testDeps(table.client, table.tableName, clock);
});
afterAll(() => table.drop());
beforeEach(() => {
  sm.reset();
  sns.reset();
  s3.reset();
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  sm.on(UpdateModelPackageCommand).resolves({ ModelPackageArn: 'arn' });
  sm.on(DescribeModelPackageCommand).resolves({});
  s3.on(GetObjectCommand).resolves({ Body: s3Body(REPORT), ContentLength: REPORT.length });
});

/** Sets up a group with the sample policy and its completed training job. */
async function groupWithJob(prefix: string, jobFile = 'training-job-completed.json', metrics: Record<string, number> = GOOD) {
  const s = story(prefix);
  sm.on(DescribeTrainingJobCommand).resolves(s.describe(jobFile, metrics) as never);
  await putPolicy(deps, s.policy());
  await recordTrainingJob(deps, s.job(jobFile));
  return s;
}

const updates = () => sm.commandCalls(UpdateModelPackageCommand).map((c) => c.args[0].input);
const published = () => sns.commandCalls(PublishCommand).map((c) => c.args[0].input);

/** The group's audit entries, oldest first. */
async function auditTrail(group: string) {
  return { entries: await scopeEntries(deps, groupScope(group)) };
}

async function itemsOf(pk: string) {
  const out = await table.doc.send(
    new QueryCommand({ TableName: table.tableName, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': pk } }),
  );
  return out.Items ?? [];
}

describe('training recorder', () => {
  it('records lineage from a completed job: job, datasets, image, hyperparameters, metrics and artifact', async () => {
    const s = story('lin');
    sm.on(DescribeTrainingJobCommand).resolves(s.describe('training-job-completed.json', GOOD) as never);
    const detail = s.job('training-job-completed.json');

    const result = await recordTrainingJob(deps, detail);

    expect(result).toEqual({ outcome: 'recorded', job: detail.TrainingJobName, gatedWaiting: 0 });
    expect(sm.commandCalls(DescribeTrainingJobCommand).map((c) => c.args[0].input)).toEqual([{ TrainingJobName: detail.TrainingJobName }]);
    const job = await deps.store.getTrainingJob(detail.TrainingJobName);
    expect(job).toMatchObject({
      status: 'Completed',
      image: '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1',
      hyperparameters: { max_depth: '6', eta: '0.2', objective: 'binary:logistic', num_round: '200', eval_metric: 'auc' },
      metrics: GOOD,
      artifactUri: `s3://acme-ml-artifacts-123456789012/lin-detector/training/${detail.TrainingJobName}/output/model.tar.gz`,
      datasets: [
        { channel: 'train', uri: 's3://acme-ml-datasets-123456789012/fraud/transactions/2026-11-01/train/' },
        { channel: 'validation', uri: 's3://acme-ml-datasets-123456789012/fraud/transactions/2026-11-01/validation/' },
      ],
    });
    // Edges: dataset → job (by bucket and key prefix, GSI1), job → artifact (the artifact node's producer).
    const byDataset = await table.doc.send(
      new QueryCommand({
        TableName: table.tableName,
        IndexName: 'GSI1',
        KeyConditionExpression: 'GSI1PK = :pk AND begins_with(GSI1SK, :prefix)',
        ExpressionAttributeValues: { ':pk': 'DATASET#acme-ml-datasets-123456789012', ':prefix': 'fraud/transactions/2026-11-01/' },
      }),
    );
    expect(byDataset.Items?.filter((i) => i.job === detail.TrainingJobName).map((i) => i.channel).sort()).toEqual(['train', 'validation']);
    const artifact = await deps.store.getArtifact(job?.artifactUri ?? '');
    expect(artifact?.producer).toMatchObject({ name: detail.TrainingJobName, metrics: GOOD });
  });

  it('records a failed job with its reason and no artifact, without asking SageMaker for metrics', async () => {
    const s = story('failed');
    const detail = s.job('training-job-failed.json');

    await recordTrainingJob(deps, detail);

    const job = await deps.store.getTrainingJob(detail.TrainingJobName);
    expect(job?.status).toBe('Failed');
    expect(job?.failureReason).toMatch(/^AlgorithmError: framework error/);
    expect(job?.artifactUri).toBeUndefined();
    expect(job?.metrics).toEqual({});
    expect(sm.commandCalls(DescribeTrainingJobCommand)).toHaveLength(0);
  });
});

describe('model version gate', () => {
  it('opens a review for a passing version, with one message per reviewer routed by a reviewer attribute', async () => {
    const s = await groupWithJob('pass');

    const result = await handleModelPackageChange(deps, s.version('model-package-pending.json'));

    expect(result.outcome).toBe('review-opened');
    const version = await deps.store.getVersion({ group: s.group, version: 1 });
    expect(version?.gateState).toBe('passed');
    expect(version?.job?.name).toBe('pass-xgb-2026-11-27-09-14-05-412');
    expect(version?.pendingEffects).toEqual({});
    expect(version?.gate?.results.map((r) => [r.rule.metric, r.actual, r.passed])).toEqual([
      ['validation:auc', 0.912, true],
      ['binary_classification_metrics.auc', 0.907, true],
      ['fairness_review', 1, true],
    ]);
    const messages = published();
    expect(messages).toHaveLength(2);
    expect(messages.map((m) => m.TopicArn)).toEqual([TOPICS.reviewers, TOPICS.reviewers]);
    expect(messages.map((m) => m.MessageAttributes?.reviewer)).toEqual([
      { DataType: 'String', StringValue: 'risk-officer@acme-bank.example' },
      { DataType: 'String', StringValue: 'ml-lead@acme-bank.example' },
    ]);
    // Each reviewer's message carries their own signed link, whose id and expiry are stored.
    for (const m of messages) {
      const token = new RegExp(`${REVIEW_BASE_URL}/reviews/(\\S+)`).exec(m.Message ?? '')?.[1] ?? '';
      const verified = verifyReviewToken(token, TEST_KEY_RING, Math.floor(clock.now / 1000));
      if (!verified.ok) throw new Error(`the link does not verify: ${verified.reason}`);
      const link = await deps.store.getReviewLink(verified.claims.linkId);
      expect(link?.reviewer).toBe(m.MessageAttributes?.reviewer?.StringValue);
      expect(link?.modelPackageArn).toBe(s.arn(1));
      expect(link?.expiresAt).toBe('2026-11-30T12:00:00.000Z'); // reviewLifetimeHours 72
    }
    expect(updates()).toEqual([]);
    const review = await deps.store.getReview({ group: s.group, version: 1, reviewId: version?.review?.id ?? '' });
    expect(review).toMatchObject({ status: 'Open', policyVersion: 1, requiredApprovals: 2 });
  });

  it('rejects a version whose auc is below the policy threshold, naming the failed rule with its actual value', async () => {
    const s = await groupWithJob('low', 'training-job-completed-low-auc.json', LOW);

    const result = await handleModelPackageChange(deps, s.version('model-package-pending-low-auc.json'));

    expect(result.outcome).toBe('rejected');
    const [update, ...more] = updates();
    expect(more).toHaveLength(0);
    expect(update).toEqual({
      ModelPackageArn: s.arn(2),
      ModelApprovalStatus: 'Rejected',
      ApprovalDescription:
        'modelgate: rejected by policy v1: trainingJob:validation:auc >= 0.85: actual 0.801; evaluationReport:binary_classification_metrics.auc >= 0.85: the version has no evaluation report',
      ClientToken: expect.stringMatching(/^[a-f0-9-]{36}$/),
    });
    const notices = published();
    expect(notices).toHaveLength(1);
    expect(notices[0]?.TopicArn).toBe(TOPICS.governance);
    expect(notices[0]?.Message).toContain('trainingJob:validation:auc >= 0.85: actual 0.801');
  });

  describe('fails closed', () => {
    it('rejects every version of a group that has no policy', async () => {
      const s = story('nopolicy');
      sm.on(DescribeTrainingJobCommand).resolves(s.describe('training-job-completed.json', GOOD) as never);
      await recordTrainingJob(deps, s.job('training-job-completed.json'));

      const result = await handleModelPackageChange(deps, s.version('model-package-pending.json'));

      expect(result.outcome).toBe('rejected');
      expect(updates()).toEqual([expect.objectContaining({ ModelApprovalStatus: 'Rejected', ApprovalDescription: expect.stringContaining('no policy for this model package group') })]);
      expect(published().filter((m) => m.TopicArn === TOPICS.reviewers)).toHaveLength(0);
    });

    it('rejects a version when a metric the policy names is missing', async () => {
      const s = await groupWithJob('missing', 'training-job-completed.json', { 'train:auc': 0.95 });

      await handleModelPackageChange(deps, s.version('model-package-pending.json'));

      expect(updates()[0]?.ApprovalDescription).toContain('trainingJob:validation:auc >= 0.85: metric missing from the training job');
    });

    it('rejects a version whose evaluation report does not match its ContentDigest', async () => {
      const s = await groupWithJob('digest');
      s3.on(GetObjectCommand).resolves({ Body: s3Body(REPORT.replace('0.907', '0.997')) });

      await handleModelPackageChange(deps, s.version('model-package-pending.json'));

      const description = updates()[0]?.ApprovalDescription ?? '';
      expect(description).toContain('evaluationReport:binary_classification_metrics.auc >= 0.85: evaluation report unreadable: ContentDigest mismatch');
      expect(s3.commandCalls(GetObjectCommand)[0]?.args[0].input).toEqual({
        Bucket: 'acme-ml-artifacts-123456789012',
        Key: 'digest-detector/evaluation/digest-xgb-2026-11-27-09-14-05-412/evaluation.json',
      });
    });

    it('rejects a version whose evaluation report does not exist', async () => {
      const s = await groupWithJob('noreport');
      s3.on(GetObjectCommand).rejects(new NoSuchKey({ message: 'The specified key does not exist.', $metadata: {} }));

      await handleModelPackageChange(deps, s.version('model-package-pending.json'));

      expect(updates()[0]?.ApprovalDescription).toContain('evaluation report unreadable: NoSuchKey');
    });
  });

  describe('links a version to its training job in either order', () => {
    it('job first, then version', async () => {
      const s = await groupWithJob('jobfirst');
      await handleModelPackageChange(deps, s.version('model-package-pending.json'));
      const v = await deps.store.getVersion({ group: s.group, version: 1 });
      expect(v?.job?.arn).toBe('arn:aws:sagemaker:us-east-1:123456789012:training-job/jobfirst-xgb-2026-11-27-09-14-05-412');
      const artifact = await deps.store.getArtifact(v?.artifactUri ?? '');
      expect(artifact?.consumers).toEqual([s.arn(1)]);
    });

    it('version first: it waits unapproved while the job is still running, and is gated when the job event arrives', async () => {
      const s = story('verfirst');
      await putPolicy(deps, s.policy());
      // The artifact path names the job, but SageMaker still reports it InProgress.
      sm.on(DescribeTrainingJobCommand).resolvesOnce({
        ...(s.describe('training-job-completed.json', {}) as object),
        TrainingJobStatus: 'InProgress',
        ModelArtifacts: undefined,
      } as never);

      const first = await handleModelPackageChange(deps, s.version('model-package-pending.json'));

      expect(first.outcome).toBe('awaiting-job');
      expect((await deps.store.getVersion({ group: s.group, version: 1 }))?.gateState).toBe('awaiting-job');
      expect(published()).toHaveLength(0);
      expect(updates()).toHaveLength(0);

      sm.on(DescribeTrainingJobCommand).resolves(s.describe('training-job-completed.json', GOOD) as never);
      const job = await recordTrainingJob(deps, s.job('training-job-completed.json'));

      expect(job.gatedWaiting).toBe(1);
      const v = await deps.store.getVersion({ group: s.group, version: 1 });
      expect(v?.gateState).toBe('passed');
      expect(v?.job?.name).toBe('verfirst-xgb-2026-11-27-09-14-05-412');
      expect(published()).toHaveLength(2);
      const artifact = await deps.store.getArtifact(v?.artifactUri ?? '');
      expect(artifact).toMatchObject({ waiting: [], consumers: [s.arn(1)] });
    });

    it('version first, group name in mixed case: SageMaker lowercases it in the ARN, and the waiting version is still found', async () => {
      const s = story('mixedcase');
      const group = 'MixedCase-detector';
      await putPolicy(deps, s.policy({ modelPackageGroupName: group }));
      sm.on(DescribeTrainingJobCommand).resolvesOnce({
        ...(s.describe('training-job-completed.json', {}) as object),
        TrainingJobStatus: 'InProgress',
        ModelArtifacts: undefined,
      } as never);
      const detail = { ...s.version('model-package-pending.json'), ModelPackageGroupName: group };
      expect(detail.ModelPackageArn).toBe(s.arn(1)); // lowercase

      expect((await handleModelPackageChange(deps, detail)).outcome).toBe('awaiting-job');
      sm.on(DescribeTrainingJobCommand).resolves(s.describe('training-job-completed.json', GOOD) as never);
      const job = await recordTrainingJob(deps, s.job('training-job-completed.json'));

      expect(job.gatedWaiting).toBe(1);
      const v = await deps.store.getVersion({ group, version: 1 });
      expect(v).toMatchObject({ group, gateState: 'passed' });
      expect(published()).toHaveLength(2);
    });

    it('version first: when SageMaker already reports the job Completed, links it at once through the artifact layout', async () => {
      const s = story('layout');
      await putPolicy(deps, s.policy());
      sm.on(DescribeTrainingJobCommand).resolves(s.describe('training-job-completed.json', GOOD) as never);
      // DescribeTrainingJob has no tags; ListTags answers with the ones the job's event carries.
      sm.on(ListTagsCommand).resolves({ Tags: [{ Key: 'team', Value: 'fraud-ml' }, { Key: 'cost-center', Value: 'cc-4711' }] });

      const result = await handleModelPackageChange(deps, s.version('model-package-pending.json'));

      expect(result.outcome).toBe('review-opened');
      expect(await deps.store.getTrainingJob('layout-xgb-2026-11-27-09-14-05-412')).toMatchObject({ status: 'Completed', metrics: GOOD });
      // The job's own event, arriving later, is the same state: nothing more happens.
      const late = await recordTrainingJob(deps, s.job('training-job-completed.json'));
      expect(late.outcome).toBe('duplicate');
      expect(published()).toHaveLength(2);
    });
  });

  describe('an Approved that no decision explains', () => {
    it('is reverted to PendingManualApproval, with a governance notice and an audit entry naming who approved', async () => {
      const s = await groupWithJob('console');
      await handleModelPackageChange(deps, s.version('model-package-pending.json'));
      sns.resetHistory();
      sm.on(DescribeModelPackageCommand).resolves({
        LastModifiedBy: { IamIdentity: { Arn: 'arn:aws:sts::123456789012:assumed-role/DataScientist/jdoe' } },
      } as never);

      const result = await handleModelPackageChange(deps, s.version('model-package-approved-in-console.json'));

      expect(result.outcome).toBe('approval-reverted');
      expect(updates()).toEqual([
        {
          ModelPackageArn: s.arn(1),
          ModelApprovalStatus: 'PendingManualApproval',
          ApprovalDescription: expect.stringContaining('arn:aws:sts::123456789012:assumed-role/DataScientist/jdoe'),
          ClientToken: expect.stringMatching(/^[a-f0-9-]{36}$/),
        },
      ]);
      expect(published().map((m) => m.TopicArn)).toEqual([TOPICS.governance]);
      const { entries } = await auditTrail(s.group);
      // Found by action, not as the last entry: this test's clock stands still, and entries of two
      // changes with the same `at` sort by their position in their change before their id.
      expect(entries.filter((e) => e.action === 'approval.reverted')).toEqual([
        expect.objectContaining({ actor: 'arn:aws:sts::123456789012:assumed-role/DataScientist/jdoe', subject: s.arn(1) }),
      ]);
    });

    it('falls back to Rejected when SageMaker refuses PendingManualApproval', async () => {
      const s = await groupWithJob('fallback');
      await handleModelPackageChange(deps, s.version('model-package-pending.json'));
      sm.on(DescribeModelPackageCommand).resolves({});
      sm.on(UpdateModelPackageCommand, { ModelApprovalStatus: 'PendingManualApproval' }).rejects(
        new SageMakerServiceException({ name: 'ValidationException', $fault: 'client', $metadata: {}, message: 'Cannot transition from Approved to PendingManualApproval' }),
      );

      await handleModelPackageChange(deps, s.version('model-package-approved-in-console.json'));

      expect(updates().map((u) => u.ModelApprovalStatus)).toEqual(['PendingManualApproval', 'Rejected']);
      const [first, second] = updates();
      expect(second?.ClientToken).not.toBe(first?.ClientToken);
      expect((await deps.store.getVersion({ group: s.group, version: 1 }))?.pendingEffects).toEqual({});
    });

    it('is kept when a recorded modelgate decision explains it', async () => {
      const s = await groupWithJob('explained');
      await handleModelPackageChange(deps, s.version('model-package-pending.json'));
      // The review flow records its decision on the version before it calls UpdateModelPackage.
      await table.doc.send(
        new UpdateCommand({
          TableName: table.tableName,
          Key: { PK: `GROUP#${s.group}`, SK: 'VERSION#0000000001' },
          UpdateExpression: 'SET decision = :d, rev = rev + :one',
          ExpressionAttributeValues: { ':d': { id: 'dec-1', outcome: 'Approved', at: '2026-11-27T10:12:40Z' }, ':one': 1 },
        }),
      );

      const result = await handleModelPackageChange(deps, s.version('model-package-approved-in-console.json'));

      expect(result.outcome).toBe('recorded');
      expect(updates()).toHaveLength(0);
      expect((await deps.store.getVersion({ group: s.group, version: 1 }))?.status).toBe('Approved');
    });
  });

  it('gives one record, one set of messages and one registry call for five deliveries of one state change under two event ids', async () => {
    const s = await groupWithJob('repeat', 'training-job-completed-low-auc.json', LOW);
    const a = s.raw('model-package-pending-low-auc.json') as { id: string; detail: unknown };
    const b = { ...a, id: '11111111-2222-4333-8444-555555555555' };
    const deliveries = [a, b, a, b, a].map((e) => ModelPackageStateChangeSchema.parse(e).detail);
    const auditBefore = (await auditTrail(s.group)).entries.length;

    // Two arrive together (EventBridge at-least-once), three later (Lambda retries).
    const together = await Promise.all(deliveries.slice(0, 2).map((d) => handleModelPackageChange(deps, d)));
    const later = [];
    for (const d of deliveries.slice(2)) later.push(await handleModelPackageChange(deps, d));

    expect([...together, ...later].map((r) => r.outcome).sort()).toEqual(['duplicate', 'duplicate', 'duplicate', 'duplicate', 'rejected']);
    expect(updates()).toHaveLength(1);
    expect(published()).toHaveLength(1);
    const { entries } = await auditTrail(s.group);
    expect(entries.length - auditBefore).toBe(1);
    expect(await itemsOf(`GROUP#${s.group}`)).toEqual(
      expect.arrayContaining([expect.objectContaining({ SK: 'VERSION#0000000002', status: 'PendingManualApproval', gateState: 'failed' })]),
    );
  });

  it('never lets an older event overwrite newer state', async () => {
    const s = await groupWithJob('order', 'training-job-completed-low-auc.json', LOW);
    await handleModelPackageChange(deps, s.version('model-package-out-of-order-newer.json'));
    const before = await deps.store.getVersion({ group: s.group, version: 2 });
    const auditBefore = (await auditTrail(s.group)).entries.length;

    const result = await handleModelPackageChange(deps, s.version('model-package-out-of-order-older.json'));

    expect(result.outcome).toBe('stale');
    expect(await deps.store.getVersion({ group: s.group, version: 2 })).toEqual(before);
    expect(before?.status).toBe('Rejected');
    expect((await auditTrail(s.group)).entries).toHaveLength(auditBefore);
    expect(updates()).toHaveLength(0);
    expect(published()).toHaveLength(0);
  });

  it('settles two statuses with the same LastModifiedTime by asking the registry which one is current', async () => {
    const s = await groupWithJob('tie', 'training-job-completed-low-auc.json', LOW);
    const pending = s.version('model-package-out-of-order-older.json');
    await handleModelPackageChange(deps, pending);
    // SageMaker's events carry whole seconds: the gate's own Rejected lands in the same second.
    const rejected = { ...s.version('model-package-out-of-order-newer.json'), LastModifiedTime: pending.LastModifiedTime };
    sm.on(DescribeModelPackageCommand).resolves({ ModelApprovalStatus: 'Rejected' });

    const first = await handleModelPackageChange(deps, rejected);
    const redelivered = await handleModelPackageChange(deps, pending);

    expect([first.outcome, redelivered.outcome]).toEqual(['recorded', 'stale']);
    expect(sm.commandCalls(DescribeModelPackageCommand)).toHaveLength(2);
    expect((await deps.store.getVersion({ group: s.group, version: 2 }))?.status).toBe('Rejected');
    expect(updates()).toHaveLength(1); // the gate's own rejection, once
  });

  it("asks SageMaker for a job's metrics once: a repeated training event costs no DescribeTrainingJob", async () => {
    const s = story('jobrepeat');
    sm.on(DescribeTrainingJobCommand).resolves(s.describe('training-job-completed.json', GOOD) as never);

    const outcomes = [];
    for (let i = 0; i < 3; i++) outcomes.push((await recordTrainingJob(deps, s.job('training-job-completed.json'))).outcome);

    expect(outcomes).toEqual(['recorded', 'duplicate', 'duplicate']);
    expect(sm.commandCalls(DescribeTrainingJobCommand)).toHaveLength(1);
  });

  it('carries out effects left pending by an earlier invocation when a newer event arrives', async () => {
    const s = await groupWithJob('leftover', 'training-job-completed-low-auc.json', LOW);
    sns.on(PublishCommand).rejectsOnce(new Error('SNS unavailable'));
    await expect(handleModelPackageChange(deps, s.version('model-package-out-of-order-older.json'))).rejects.toBeInstanceOf(SideEffectFailed);
    expect(published()).toHaveLength(1);

    await handleModelPackageChange(deps, s.version('model-package-out-of-order-newer.json'));

    expect(published().map((m) => m.TopicArn)).toEqual([TOPICS.governance, TOPICS.governance]);
    expect((await deps.store.getVersion({ group: s.group, version: 2 }))?.pendingEffects).toEqual({});
  });

  it('keeps a side effect that failed after the commit pending, and a retry carries it out once', async () => {
    const s = await groupWithJob('retry');
    sns.on(PublishCommand).rejectsOnce(new Error('SNS unavailable')).resolves({ MessageId: 'm-2' });

    await expect(handleModelPackageChange(deps, s.version('model-package-pending.json'))).rejects.toBeInstanceOf(SideEffectFailed);

    const pending = (await deps.store.getVersion({ group: s.group, version: 1 }))?.pendingEffects ?? {};
    expect(Object.keys(pending)).toHaveLength(1);
    expect(Object.values(pending)[0]).toMatchObject({ attempts: 2, claimedUntil: 0, lastError: 'Error: SNS unavailable' });
    const failedFor = Object.values(pending)[0]?.effect;
    expect(published()).toHaveLength(2); // one failed, one delivered

    // Lambda's retry delivers the same event again.
    const retry = await handleModelPackageChange(deps, s.version('model-package-pending.json'));

    expect(retry.outcome).toBe('duplicate');
    const calls = published();
    expect(calls).toHaveLength(3);
    expect(calls[2]?.MessageAttributes?.reviewer?.StringValue).toBe(failedFor?.kind === 'notify' ? failedFor.attributes.reviewer : 'n/a');
    expect((await deps.store.getVersion({ group: s.group, version: 1 }))?.pendingEffects).toEqual({});
    // A further repeat sends nothing.
    await handleModelPackageChange(deps, s.version('model-package-pending.json'));
    expect(published()).toHaveLength(3);
  });

  it('appends an audit entry for every change, and the log verifies', async () => {
    const s = await groupWithJob('audit', 'training-job-completed-low-auc.json', LOW);
    await handleModelPackageChange(deps, s.version('model-package-out-of-order-older.json'));
    await handleModelPackageChange(deps, s.version('model-package-out-of-order-newer.json'));

    const { entries } = await auditTrail(s.group);

    expect(entries.map((e) => e.action)).toEqual(['policy.changed', 'version.gate-failed', 'version.status-changed']);
    const training = await scopeEntries(deps, TRAINING_SCOPE);
    expect(training.some((e) => e.action === 'training-job.recorded' && e.subject.endsWith('/audit-xgb-2026-11-27-11-02-47-903'))).toBe(true);
    // Every entry of the table (this test's and the others') is in the log, and each leaf matches its entry.
    expect(await logVerifies(table)).toMatchObject({ ok: true });
    expect((await scopeEntries(deps, groupScope(s.group))).map((e) => e.logIndex)).toEqual([expect.any(Number), expect.any(Number), expect.any(Number)]);
  });
});

it('the sample report matches the digest in the sample event', () => {
  const event = JSON.parse(readFileSync(join(EVENTS_DIR, 'model-package-pending.json'), 'utf8'));
  const digest = event.detail.ModelMetrics.ModelQuality.Statistics.ContentDigest;
  expect(digest).toBe(`sha256:${createHash('sha256').update(REPORT).digest('hex')}`);
});
