// The hourly sweep's report against DynamoDB Local (SageMaker, SNS and S3 mocked): a clean run
// returns it; a run where anything failed names each failure, does everything else, and throws
// IncompleteRun with the whole report (so that `serverless invoke` exits non-zero and the
// function's Errors alarm fires).
import { mockClient } from 'aws-sdk-client-mock';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { S3Client } from '@aws-sdk/client-s3';
import { SideEffectFailed } from '../../shared/domain/errors.js';
import type { Deps } from '../../shared/ports.js';
import { handleModelPackageChange } from '../../shared/usecases/gate.js';
import { putPolicy } from '../../shared/usecases/policies.js';
import { IncompleteRun } from '../../shared/usecases/runs.js';
import { sweepReviews, type SweepReport } from '../../shared/usecases/sweep.js';
import { recordTrainingJob } from '../../shared/usecases/training.js';
import { newTable, type TestTable } from '../support/dynamo.js';
import { openSampleReview, resetMocks, story, testDeps } from '../support/story.js';
import { DescribeTrainingJobCommand } from '@aws-sdk/client-sagemaker';

const sm = mockClient(SageMakerClient);
const sns = mockClient(SNSClient);
const s3 = mockClient(S3Client);

const T0 = Date.parse('2026-11-27T12:00:00Z');
const HOUR = 3_600_000;
let table: TestTable;
let clock: { now: number };
let deps: Deps;

beforeEach(async () => {
  resetMocks(sm, sns, s3);
  // A table per test: the sweep reads every open review and pending effect of its table.
  table = await newTable('sweepfail');
  clock = { now: T0 };
  deps = testDeps(table.client, table.tableName, clock);
});
afterEach(() => table.drop());

const snsDown = () => sns.on(PublishCommand).rejects(Object.assign(new Error('Service is unavailable'), { name: 'InternalErrorException' }));

async function failure(run: Promise<unknown>): Promise<IncompleteRun<SweepReport>> {
  const outcome = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(outcome).toBeInstanceOf(IncompleteRun);
  return outcome as IncompleteRun<SweepReport>;
}

describe('sweepReviews: its report and its failures', () => {
  it('a clean run returns its report: reminders sent, a review expiring without its quorum listed, nothing pending', async () => {
    const { s } = await openSampleReview(deps, { sm, sns }, 'sweepclean');
    const arn = s.arn(1);
    // 50 hours in: reminders are due (24 h), and the 72-hour review expires within a day with 0 of 2 approvals.
    clock.now = T0 + 50 * HOUR;

    const report = await sweepReviews(deps);

    const review = await deps.store.getVersion({ group: s.group, version: 1 });
    expect(report).toEqual({
      openReviews: 1,
      reminded: 2,
      expired: 0,
      expiringWithoutQuorum: [{ reviewId: review?.review?.id, modelPackageArn: arn, expiresAt: new Date(T0 + 72 * HOUR).toISOString(), approvals: 0, requiredApprovals: 2 }],
      resumedEffects: 0,
      pendingEffects: 0,
      awaitingJob: 0,
      regated: 0,
      failures: [],
    });
    expect(sns.commandCalls(PublishCommand)).toHaveLength(2);
  });

  it('names each side effect that fails again, goes on, throws IncompleteRun with the report; the next run carries them out and returns', async () => {
    const s = story('sweepsns');
    sm.on(DescribeTrainingJobCommand).resolves(s.describe('training-job-completed.json', { 'validation:auc': 0.912 }) as never);
    await putPolicy(deps, s.policy());
    await recordTrainingJob(deps, s.job('training-job-completed.json'));
    snsDown();
    // The gate commits the review, then both reviewers' messages fail: they stay pending.
    await expect(handleModelPackageChange(deps, s.version('model-package-pending.json'))).rejects.toThrow(SideEffectFailed);
    const pending = Object.keys((await deps.store.getVersion({ group: s.group, version: 1 }))?.pendingEffects ?? {}).sort();
    expect(pending).toHaveLength(2);

    clock.now = T0 + 30 * 60_000;
    const error = await failure(sweepReviews(deps));

    const failures = pending.map((effect) => ({ kind: 'side-effect', owner: s.arn(1), effect, effectKind: 'notify', error: 'InternalErrorException: Service is unavailable' }));
    expect(error.failures).toEqual(failures);
    expect(error.report).toEqual({
      openReviews: 1,
      reminded: 0,
      expired: 0,
      expiringWithoutQuorum: [],
      resumedEffects: 0,
      pendingEffects: 2,
      oldestPendingEffect: { owner: s.arn(1), effect: pending[0], since: new Date(T0).toISOString(), ageSeconds: 1800 },
      awaitingJob: 0,
      regated: 0,
      failures,
    });
    expect(error.message).toBe(
      `sweep incomplete: 2 failure(s): ${pending.map((id) => `side-effect ${s.arn(1)} ${id}: InternalErrorException: Service is unavailable`).join('; ')}`,
    );
    expect(error.retryable).toBe(true);
    // Nothing in the report or the message is a token or a signed link.
    expect(JSON.stringify(error.report) + error.message).not.toMatch(/reviews\/[A-Za-z0-9_-]{20,}/);
    // Tried (the gate's attempt and the sweep's), released, still pending with the last error.
    const after = (await deps.store.getVersion({ group: s.group, version: 1 }))?.pendingEffects ?? {};
    expect(Object.values(after).map((p) => ({ attempts: p.attempts, claimedUntil: p.claimedUntil, since: p.since, lastError: p.lastError }))).toEqual(
      pending.map(() => ({ attempts: 3, claimedUntil: 0, since: T0, lastError: 'InternalErrorException: Service is unavailable' })),
    );

    sns.on(PublishCommand).resolves({ MessageId: 'm-2' });
    clock.now = T0 + 90 * 60_000;
    const next = await sweepReviews(deps);

    expect(next).toMatchObject({ resumedEffects: 2, pendingEffects: 0, failures: [] });
    expect(next.oldestPendingEffect).toBeUndefined();
    expect((await deps.store.getVersion({ group: s.group, version: 1 }))?.pendingEffects).toEqual({});
  });

  it('a review it cannot remind is named with its review (once, though the pending pass tries again), and the other reviews are still swept', async () => {
    const first = await openSampleReview(deps, { sm, sns }, 'sweeprev1');
    const second = await openSampleReview(deps, { sm, sns }, 'sweeprev2');
    clock.now = T0 + 25 * HOUR;
    // Only the first group's reviewers' messages fail.
    sns.on(PublishCommand).callsFake((input: { Subject?: string; Message?: string }) => {
      if (`${input.Subject ?? ''} ${input.Message ?? ''}`.includes(first.s.group)) throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottledException' });
      return { MessageId: 'm-3' };
    });

    const error = await failure(sweepReviews(deps));

    const reviewId = (await deps.store.getVersion({ group: first.s.group, version: 1 }))?.review?.id;
    expect(error.report).toMatchObject({ openReviews: 2, reminded: 2, pendingEffects: 2 });
    expect(error.failures.map((f) => ({ kind: f.kind, owner: f.owner, reviewId: f.reviewId, effectKind: f.effectKind, error: f.error }))).toEqual([
      { kind: 'side-effect', owner: first.s.arn(1), reviewId, effectKind: 'notify', error: 'ThrottledException: Rate exceeded' },
      { kind: 'side-effect', owner: first.s.arn(1), reviewId, effectKind: 'notify', error: 'ThrottledException: Rate exceeded' },
    ]);
    expect(error.failures.map((f) => f.effect)).toEqual([expect.stringMatching(/^remind:/), expect.stringMatching(/^remind:/)]);
    expect(second.s.group).not.toBe(first.s.group);
  });
});
