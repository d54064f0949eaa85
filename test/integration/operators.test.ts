import { mockClient } from 'aws-sdk-client-mock';
import { DescribeModelPackageCommand, DescribeTrainingJobCommand, SageMakerClient, UpdateModelPackageCommand } from '@aws-sdk/client-sagemaker';
import { PublishCommand, SNSClient, SubscribeCommand, UnsubscribeCommand } from '@aws-sdk/client-sns';
import { S3Client } from '@aws-sdk/client-s3';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NotFound, ValidationError } from '../../shared/domain/errors.js';
import { groupScope } from '../../shared/domain/audit.js';
import { verifyReviewToken } from '../../shared/domain/token.js';
import type { Deps } from '../../shared/ports.js';
import { handleModelPackageChange } from '../../shared/usecases/gate.js';
import { listPendingReviews } from '../../shared/usecases/pending.js';
import { getPolicy, putPolicy } from '../../shared/usecases/policies.js';
import { addReviewer, removeReviewer } from '../../shared/usecases/reviewers.js';
import { submitVote } from '../../shared/usecases/review.js';
import { sweepReviews } from '../../shared/usecases/sweep.js';
import { recordTrainingJob } from '../../shared/usecases/training.js';
import { scopeEntries } from '../support/audit-log.js';
import { newTable, type TestTable } from '../support/dynamo.js';
import { EVENTS_DIR, REVIEW_BASE_URL, TEST_KEY_RING, TOPICS, openSampleReview, resetMocks, story, testDeps } from '../support/story.js';

const sm = mockClient(SageMakerClient);
const sns = mockClient(SNSClient);
const s3 = mockClient(S3Client);
const ADMIN = 'arn:aws:sts::123456789012:assumed-role/PlatformAdmin/asmith';
const NEW = 'model-risk@acme-bank.example';
const T0 = Date.parse('2026-11-27T12:00:00Z');
const HOUR = 3_600_000;

let table: TestTable;
const clock = { now: T0 };
let deps: Deps;

beforeAll(async () => {
  table = await newTable('operators');
  deps = testDeps(table.client, table.tableName, clock);
});
afterAll(() => table.drop());
beforeEach(() => {
  clock.now = T0;
  resetMocks(sm, sns, s3);
  sm.on(DescribeModelPackageCommand).resolves({});
  sns.on(SubscribeCommand).callsFake((input: { Endpoint: string }) => ({ SubscriptionArn: `${TOPICS.reviewers}:${input.Endpoint.split('@')[0]}-0b1c` }));
  sns.on(UnsubscribeCommand).resolves({});
});

const openReviewFor = (prefix: string) => openSampleReview(deps, { sm, sns }, prefix);

const published = () => sns.commandCalls(PublishCommand).map((c) => c.args[0].input);

describe('addReviewer and removeReviewer', () => {
  it('subscribes the reviewer with a filter policy on their address and records a new policy version', async () => {
    const s = story('addrev');
    await putPolicy(deps, s.policy());

    const result = await addReviewer(deps, { modelPackageGroupName: s.group, reviewer: NEW, changedBy: ADMIN, reason: 'MRM-2291' });

    expect(sns.commandCalls(SubscribeCommand).map((c) => c.args[0].input)).toEqual([
      {
        TopicArn: TOPICS.reviewers,
        Protocol: 'email',
        Endpoint: NEW,
        Attributes: { FilterPolicy: JSON.stringify({ reviewer: [NEW] }), FilterPolicyScope: 'MessageAttributes' },
        ReturnSubscriptionArn: true,
      },
    ]);
    expect(result).toMatchObject({ outcome: 'created', policy: { version: 2, reviewers: ['risk-officer@acme-bank.example', 'ml-lead@acme-bank.example', NEW] } });
    expect(await getPolicy(deps, { modelPackageGroupName: s.group })).toMatchObject({ policy: { version: 2 } });
    const audit = await scopeEntries(deps, groupScope(s.group));
    expect(audit.at(-1)).toMatchObject({ action: 'policy.reviewer-added', actor: ADMIN, detail: { reviewer: NEW, version: 2 } });
    // Adding them again changes nothing.
    expect((await addReviewer(deps, { modelPackageGroupName: s.group, reviewer: NEW, changedBy: ADMIN })).outcome).toBe('unchanged');
  });

  it('keeps the subscription while the reviewer still reviews another group, and removes it with the last one', async () => {
    // A reviewer of its own: the reviewer record spans groups, so other tests must not share it.
    const who = 'validation-team@acme-bank.example';
    const a = story('rema');
    const b = story('remb');
    await putPolicy(deps, a.policy());
    await putPolicy(deps, b.policy());
    await addReviewer(deps, { modelPackageGroupName: a.group, reviewer: who, changedBy: ADMIN });
    await addReviewer(deps, { modelPackageGroupName: b.group, reviewer: who, changedBy: ADMIN });

    const first = await removeReviewer(deps, { modelPackageGroupName: a.group, reviewer: who, changedBy: ADMIN });
    expect(first).toMatchObject({ outcome: 'created', unsubscribed: false });
    expect(sns.commandCalls(UnsubscribeCommand)).toHaveLength(0);

    const last = await removeReviewer(deps, { modelPackageGroupName: b.group, reviewer: who, changedBy: ADMIN });
    expect(last).toMatchObject({ outcome: 'created', unsubscribed: true });
    expect(sns.commandCalls(UnsubscribeCommand).map((c) => c.args[0].input)).toEqual([{ SubscriptionArn: `${TOPICS.reviewers}:validation-team-0b1c` }]);
  });

  it('refuses a removal that would leave fewer reviewers than the approvals needed, unless the payload lowers them', async () => {
    const s = story('remquorum');
    await putPolicy(deps, s.policy()); // 2 reviewers, 2 approvals

    const error = await removeReviewer(deps, { modelPackageGroupName: s.group, reviewer: 'ml-lead@acme-bank.example', changedBy: ADMIN }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).problems.join('\n')).toContain('requiredApprovals: needs 2 approvals but only 1 reviewers are named');
    expect(await getPolicy(deps, { modelPackageGroupName: s.group })).toMatchObject({ policy: { version: 1 } });

    const ok = await removeReviewer(deps, JSON.parse(readFileSync(join(EVENTS_DIR, 'remove-reviewer.json'), 'utf8').replace('fraud-detector', s.group)));
    expect(ok).toMatchObject({ outcome: 'created', policy: { version: 2, reviewers: ['risk-officer@acme-bank.example'], requiredApprovals: 1 } });
  });

  it.each([
    ['no group', { reviewer: NEW, changedBy: ADMIN }, 'modelPackageGroupName'],
    ['not an address', { modelPackageGroupName: 'fraud-detector', reviewer: 'model-risk', changedBy: ADMIN }, 'reviewer'],
    ['no author', { modelPackageGroupName: 'fraud-detector', reviewer: NEW }, 'changedBy'],
    ['an unknown field', { modelPackageGroupName: 'fraud-detector', reviewer: NEW, changedBy: ADMIN, role: 'admin' }, '(root)'],
  ])('refuses a payload with %s, naming the field, and subscribes no one', async (_what, payload, field) => {
    const error = (await addReviewer(deps, payload).catch((e: unknown) => e)) as ValidationError;
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.problems.some((p) => p.startsWith(`${field}:`))).toBe(true);
    expect(sns.commandCalls(SubscribeCommand)).toHaveLength(0);
  });

  it('refuses a group without a policy', async () => {
    await expect(addReviewer(deps, { modelPackageGroupName: 'no-such-group', reviewer: NEW, changedBy: ADMIN })).rejects.toBeInstanceOf(NotFound);
  });
});

describe('listPendingReviews', () => {
  it('lists open reviews across groups, oldest first, a page at a time', async () => {
    const t = await newTable('pending');
    const local = testDeps(t.client, t.tableName, clock);
    const groups = ['pa', 'pb', 'pc'];
    for (const [i, g] of groups.entries()) {
      clock.now = T0 + i * HOUR;
      const s = story(g);
      sm.on(DescribeTrainingJobCommand).resolves(s.describe('training-job-completed.json', { 'validation:auc': 0.912 }) as never);
      await putPolicy(local, s.policy());
      await recordTrainingJob(local, s.job('training-job-completed.json'));
      await handleModelPackageChange(local, s.version('model-package-pending.json'));
    }

    const first = await listPendingReviews(local, { limit: 2 });
    const second = await listPendingReviews(local, { limit: 2, cursor: first.cursor });

    expect(first.items.map((r) => r.group)).toEqual(['pa-detector', 'pb-detector']);
    expect(first.items[0]).toMatchObject({ version: 1, approvals: 0, requiredApprovals: 2, waitingFor: ['risk-officer@acme-bank.example', 'ml-lead@acme-bank.example'] });
    expect(second.items.map((r) => r.group)).toEqual(['pc-detector']);
    await expect(listPendingReviews(local, { limit: 0 })).rejects.toBeInstanceOf(ValidationError);
    await expect(listPendingReviews(local, { cursor: 'not-a-cursor' })).rejects.toBeInstanceOf(ValidationError);
    const empty = await newTable('pending-empty');
    expect(await listPendingReviews(testDeps(empty.client, empty.tableName, clock), {})).toEqual({ items: [] });
    await Promise.all([t.drop(), empty.drop()]);
  });
});

describe('sweepReviews', () => {
  // The sweep works across all groups: each test gets a table of its own.
  let own: TestTable;
  beforeEach(async () => {
    own = await newTable('sweep');
    deps = testDeps(own.client, own.tableName, clock);
  });
  afterEach(async () => {
    await own.drop();
    deps = testDeps(table.client, table.tableName, clock);
  });

  it('reminds reviewers who have not voted, once per period, with their own working link', async () => {
    const { s, tokens } = await openReviewFor('remind');
    await submitVote(deps, tokens['risk-officer@acme-bank.example'] ?? '', { decision: 'approve' });

    clock.now = T0 + 23 * HOUR;
    expect((await sweepReviews(deps)).reminded).toBe(0);
    clock.now = T0 + 24 * HOUR;
    const report = await sweepReviews(deps);
    const again = await sweepReviews(deps);

    expect(report).toMatchObject({ reminded: 1, expired: 0, failures: [] });
    expect(again.reminded).toBe(0);
    const reminders = published();
    expect(reminders).toHaveLength(1);
    expect(reminders[0]?.MessageAttributes?.reviewer?.StringValue).toBe('ml-lead@acme-bank.example');
    expect(reminders[0]?.Subject).toBe(`Reminder: review: ${s.group} v1`);
    const token = new RegExp(`${REVIEW_BASE_URL}/reviews/(\\S+)`).exec(reminders[0]?.Message ?? '')?.[1] ?? '';
    const reminded = verifyReviewToken(token, TEST_KEY_RING, Math.floor(clock.now / 1000));
    const original = verifyReviewToken(tokens['ml-lead@acme-bank.example'] ?? '', TEST_KEY_RING, 0);
    if (!reminded.ok || !original.ok) throw new Error('a link does not verify');
    expect(reminded.claims.linkId).toBe(original.claims.linkId);
  });

  it('expires a review past its lifetime: status Expired, a governance notice, the version left pending', async () => {
    const { s, tokens } = await openReviewFor('expire');
    clock.now = T0 + 72 * HOUR;

    const report = await sweepReviews(deps);

    expect(report.expired).toBe(1);
    const version = await deps.store.getVersion({ group: s.group, version: 1 });
    expect(version?.review?.status).toBe('Expired');
    expect(version?.status).toBe('PendingManualApproval');
    expect(sm.commandCalls(UpdateModelPackageCommand)).toHaveLength(0);
    expect(published().filter((m) => m.TopicArn === TOPICS.governance).map((m) => m.Subject)).toEqual([`Review expired: ${s.group} v1`]);
    expect((await listPendingReviews(deps, {})).items.map((r) => r.group)).not.toContain(s.group);
    const audit = await scopeEntries(deps, groupScope(s.group));
    expect(audit.at(-1)).toMatchObject({ action: 'review.expired' });
    // A vote after expiry is refused.
    expect((await submitVote(deps, tokens['ml-lead@acme-bank.example'] ?? '', { decision: 'approve' })).status).toBe(410);
  });

  it('carries out side effects that failed after their commit', async () => {
    const { s, tokens } = await openReviewFor('resume');
    sm.on(UpdateModelPackageCommand).rejectsOnce(new Error('ThrottlingException: Rate exceeded'));
    await submitVote(deps, tokens['risk-officer@acme-bank.example'] ?? '', { decision: 'approve' });
    await submitVote(deps, tokens['ml-lead@acme-bank.example'] ?? '', { decision: 'approve' }).catch(() => undefined);
    expect(Object.keys((await deps.store.getVersion({ group: s.group, version: 1 }))?.pendingEffects ?? {})).toHaveLength(1);

    const report = await sweepReviews(deps);

    expect(report.resumedEffects).toBe(1);
    const calls = sm.commandCalls(UpdateModelPackageCommand).map((c) => c.args[0].input);
    expect(calls).toHaveLength(2);
    expect(calls[1]).toEqual(calls[0]); // the same ClientToken: SageMaker applies it once
    expect((await deps.store.getVersion({ group: s.group, version: 1 }))?.pendingEffects).toEqual({});
    expect((await sweepReviews(deps)).resumedEffects).toBe(0);
  });
});
