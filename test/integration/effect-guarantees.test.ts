/**
 * The delivery guarantees that the README states (issue 8, item 13), pinned against DynamoDB Local:
 * - UpdateModelPackage: a repeat always carries the same ClientToken, so SageMaker applies it once;
 * - SNS messages: at least once. An invocation that dies after Publish and before it marks the
 *   effect done leaves it pending; nothing resends it while its lease (60 s) runs; after the
 *   lease the next invocation for that version (a retry, a newer event, the sweep) sends it again,
 *   once, with the same link.
 */
import { mockClient } from 'aws-sdk-client-mock';
import { DescribeTrainingJobCommand, SageMakerClient, UpdateModelPackageCommand } from '@aws-sdk/client-sagemaker';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { S3Client } from '@aws-sdk/client-s3';
import { EFFECT_LEASE_MS } from '../../shared/domain/effects.js';
import { verifyReviewToken } from '../../shared/domain/token.js';
import type { Deps, GovernanceStore } from '../../shared/ports.js';
import { handleModelPackageChange } from '../../shared/usecases/gate.js';
import { putPolicy } from '../../shared/usecases/policies.js';
import { recordTrainingJob } from '../../shared/usecases/training.js';
import { sweepReviews } from '../../shared/usecases/sweep.js';
import { newTable, type TestTable } from '../support/dynamo.js';
import { TEST_KEY_RING, resetMocks, reviewTokens, story, testDeps } from '../support/story.js';

const sm = mockClient(SageMakerClient);
const sns = mockClient(SNSClient);
const s3 = mockClient(S3Client);
const START = Date.parse('2026-11-27T12:00:00Z');

let table: TestTable;
const clock = { now: START };

beforeAll(async () => {
  table = await newTable('guarantees');
});
afterAll(() => table.drop());
beforeEach(() => {
  clock.now = START;
  resetMocks(sm, sns, s3);
});

/** Deps whose store "dies" (throws) at the first settle, as a function killed after its side effects. */
function crashingAtFirstSettle(): Deps {
  const deps = testDeps(table.client, table.tableName, clock);
  let crashed = false;
  const store: GovernanceStore = {
    ...deps.store,
    settleEffects: async (...args) => {
      if (!crashed) {
        crashed = true;
        throw new Error('the function was killed before it marked its side effects done');
      }
      return deps.store.settleEffects(...args);
    },
  };
  return { ...deps, store };
}

const linkIds = (messages: ReadonlyArray<{ Message?: string; MessageAttributes?: Record<string, { StringValue?: string }> }>) =>
  Object.fromEntries(
    Object.entries(reviewTokens(messages)).map(([reviewer, token]) => {
      const v = verifyReviewToken(token, TEST_KEY_RING, 0);
      return [reviewer, v.ok ? v.claims.linkId : `unverified: ${v.reason}`];
    }),
  );

describe('side effects after a crash between carrying them out and marking them done', () => {
  it('sends each reviewer message again only after the lease, once, with the same link (at least once)', async () => {
    const deps = crashingAtFirstSettle();
    const s = story('alo');
    sm.on(DescribeTrainingJobCommand).resolves(s.describe('training-job-completed.json', { 'validation:auc': 0.912 }) as never);
    await putPolicy(deps, s.policy());
    await recordTrainingJob(deps, s.job('training-job-completed.json'));
    const event = s.version('model-package-pending.json');

    await expect(handleModelPackageChange(deps, event)).rejects.toThrow('killed');
    const first = sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
    expect(first).toHaveLength(2);

    // Lambda's retry within the lease: the effects are still claimed, so nothing is sent again.
    clock.now = START + EFFECT_LEASE_MS - 1;
    expect((await handleModelPackageChange(deps, event)).outcome).toBe('duplicate');
    expect(sns.commandCalls(PublishCommand)).toHaveLength(2);

    // After the lease: the next invocation for this version sends each message once more.
    clock.now = START + EFFECT_LEASE_MS + 1;
    expect((await handleModelPackageChange(deps, event)).outcome).toBe('duplicate');
    const all = sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
    expect(all).toHaveLength(4);
    expect(linkIds(all.slice(2))).toEqual(linkIds(first));

    // Marked done this time: neither a later retry nor the sweep sends anything.
    clock.now = START + 3 * EFFECT_LEASE_MS;
    expect((await handleModelPackageChange(deps, event)).outcome).toBe('duplicate');
    await sweepReviews(deps);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(4);
    const version = await deps.store.getVersion({ group: s.group, version: 1 });
    expect(version?.pendingEffects).toEqual({});
  });

  it('repeats UpdateModelPackage with the same ClientToken, so SageMaker applies it once', async () => {
    const deps = crashingAtFirstSettle();
    const s = story('once');
    sm.on(DescribeTrainingJobCommand).resolves(s.describe('training-job-completed-low-auc.json', { 'validation:auc': 0.801 }) as never);
    await putPolicy(deps, s.policy());
    await recordTrainingJob(deps, s.job('training-job-completed-low-auc.json'));
    const event = s.version('model-package-pending-low-auc.json');

    await expect(handleModelPackageChange(deps, event)).rejects.toThrow('killed');
    clock.now = START + EFFECT_LEASE_MS + 1;
    await sweepReviews(deps);

    const updates = sm.commandCalls(UpdateModelPackageCommand).map((c) => c.args[0].input);
    expect(updates).toHaveLength(2);
    expect(updates[0]?.ModelApprovalStatus).toBe('Rejected');
    expect(updates[1]).toEqual(updates[0]);
    expect(updates[0]?.ClientToken).toMatch(/^[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}$/);
    expect((await deps.store.getVersion({ group: s.group, version: 2 }))?.pendingEffects).toEqual({});
  });
});
