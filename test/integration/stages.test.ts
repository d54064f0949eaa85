/**
 * Lifecycle stages (README, "Lifecycle stages"), against DynamoDB Local with SageMaker and SNS
 * mocked: a promotion request `<stage>/<pendingStatus>` is gated by the stage's rules and reviewed
 * by the stage's reviewers; its decision sets the stage's status; `<stage>/<approvedStatus>` that
 * no decision explains is reverted. The version's approval status is left alone throughout.
 */
import middy from '@middy/core';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import { mockClient } from 'aws-sdk-client-mock';
import { DescribeModelPackageCommand, SageMakerClient, UpdateModelPackageCommand } from '@aws-sdk/client-sagemaker';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { S3Client } from '@aws-sdk/client-s3';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { groupScope } from '../../shared/domain/audit.js';
import { ValidationError } from '../../shared/domain/errors.js';
import { typedErrors } from '../../shared/middleware.js';
import type { Deps } from '../../shared/ports.js';
import { ModelPackageStateChangeSchema, type ModelPackageDetail } from '../../shared/schemas/events.js';
import { handleModelPackageChange } from '../../shared/usecases/gate.js';
import { showReview, submitVote } from '../../shared/usecases/review.js';
import { sweepReviews } from '../../shared/usecases/sweep.js';
import { logVerifies, scopeEntries } from '../support/audit-log.js';
import { newTable, type TestTable } from '../support/dynamo.js';
import { TOPICS, openSampleReview, resetMocks, reviewTokens, story, testDeps } from '../support/story.js';

const sm = mockClient(SageMakerClient);
const sns = mockClient(SNSClient);
const s3 = mockClient(S3Client);
const RISK = 'risk-officer@acme-bank.example';
const LEAD = 'ml-lead@acme-bank.example';
const CHIEF = 'chief-risk@acme-bank.example';
const CONSOLE_USER = 'arn:aws:sts::123456789012:assumed-role/DataScientist/jdoe';

let table: TestTable;
const clock = { now: Date.parse('2026-11-27T12:00:00Z') };
let deps: Deps;

beforeAll(async () => {
  table = await newTable('stages');
  deps = testDeps(table.client, table.tableName, clock);
});
afterAll(() => table.drop());
beforeEach(() => {
  clock.now = Date.parse('2026-11-27T12:00:00Z');
  resetMocks(sm, sns, s3);
});

/** Two governed stages: PreProduction (the sample's auc 0.912 passes) and Production (needs 0.95). */
const STAGES = {
  PreProduction: {
    rules: [{ metric: 'validation:auc', source: 'trainingJob', comparison: '>=', threshold: 0.9 }],
    reviewers: [CHIEF, LEAD],
    requiredApprovals: 2,
    reviewLifetimeHours: 48,
  },
  Production: {
    rules: [
      { metric: 'validation:auc', source: 'trainingJob', comparison: '>=', threshold: 0.95 },
      { metric: 'binary_classification_metrics.auc', source: 'evaluationReport', comparison: '>=', threshold: 0.9 },
    ],
    reviewers: [CHIEF],
    requiredApprovals: 1,
  },
};

/** A group whose version 1 passed its own gate (its review is open), with the stages above. */
const openVersion = (prefix: string, policy: Record<string, unknown> = {}) => openSampleReview(deps, { sm, sns }, prefix, { stages: STAGES, ...policy });

/**
 * The version's event after a ModelLifeCycle change (seconds after the registration), through the
 * event's schema; a new event id each time, as EventBridge delivers a repeat.
 */
let eventNo = 0;
function lifeCycleEvent(s: ReturnType<typeof story>, lifeCycle: Record<string, unknown> | undefined, at: string, file = 'model-package-stage-promotion.json'): ModelPackageDetail {
  const raw = s.raw(file) as { id: string; detail: Record<string, unknown> };
  const detail: Record<string, unknown> = { ...raw.detail, LastModifiedTime: at };
  if (lifeCycle === undefined) delete detail.ModelLifeCycle;
  else detail.ModelLifeCycle = lifeCycle;
  return ModelPackageStateChangeSchema.parse({ ...raw, id: `00000000-0000-4000-8000-${String(++eventNo).padStart(12, '0')}`, detail }).detail;
}

const updates = () => sm.commandCalls(UpdateModelPackageCommand).map((c) => c.args[0].input);
const published = () => sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
const CLIENT_TOKEN = expect.stringMatching(/^[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}$/);

async function actions(group: string) {
  return (await scopeEntries(deps, groupScope(group))).map((e) => e.action);
}

async function entriesOf(group: string, action: string) {
  return (await scopeEntries(deps, groupScope(group))).filter((e) => e.action === action);
}

async function groupItems(group: string) {
  const out = await table.doc.send(
    new QueryCommand({ TableName: table.tableName, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': `GROUP#${group}` } }),
  );
  return out.Items ?? [];
}

describe('a stage promotion is gated by its stage\'s rules', () => {
  it('rejects a promotion that fails the stage\'s rules, setting <stage>/Rejected with the reasons, and leaves the approval status alone', async () => {
    const { s } = await openVersion('stg-fail');
    const before = await deps.store.getVersion({ group: s.group, version: 1 });

    const result = await handleModelPackageChange(deps, lifeCycleEvent(s, { Stage: 'Production', StageStatus: 'PendingApproval' }, '2026-11-27T11:05:31Z'));

    expect(result.outcome).toBe('stage-rejected');
    expect(updates()).toEqual([
      {
        ModelPackageArn: s.arn(1),
        ModelLifeCycle: {
          Stage: 'Production',
          StageStatus: 'Rejected',
          StageDescription: 'modelgate: promotion to Production rejected by policy v1: trainingJob:validation:auc >= 0.95: actual 0.912',
        },
        ClientToken: CLIENT_TOKEN,
      },
    ]);
    const notices = published();
    expect(notices).toHaveLength(1);
    expect(notices[0]?.TopicArn).toBe(TOPICS.governance);
    expect(notices[0]?.Message).toContain('to stage Production and set it to Production/Rejected');
    expect(notices[0]?.Message).toContain('trainingJob:validation:auc >= 0.95: actual 0.912');
    const version = await deps.store.getVersion({ group: s.group, version: 1 });
    expect(version?.stages?.['Production']).toMatchObject({ gateState: 'failed', gate: { passed: false, policyVersion: 1 } });
    expect(version?.stages?.['Production']?.gate?.results.map((r) => [r.rule.metric, r.actual, r.passed])).toEqual([
      ['validation:auc', 0.912, false],
      ['binary_classification_metrics.auc', 0.907, true],
    ]);
    // The approval status and the version's own review are untouched.
    expect(version?.status).toBe('PendingManualApproval');
    expect(version?.review).toEqual(before?.review);
    expect(version?.decision).toBeUndefined();
    expect(version?.lifeCycle).toEqual({ stage: 'Production', status: 'PendingApproval' });
    const [failed] = await entriesOf(s.group, 'stage.gate-failed');
    expect(failed?.detail).toMatchObject({ stage: 'Production', setTo: 'Rejected', policyVersion: 1, failures: ['trainingJob:validation:auc >= 0.95: actual 0.912'] });
    expect(version?.pendingEffects).toEqual({});

    // The Production/Rejected event that follows is recorded; the stage is not gated again.
    const after = await handleModelPackageChange(deps, lifeCycleEvent(s, { Stage: 'Production', StageStatus: 'Rejected' }, '2026-11-27T11:05:33Z'));
    expect(after.outcome).toBe('recorded');
    const again = await handleModelPackageChange(deps, lifeCycleEvent(s, { Stage: 'Production', StageStatus: 'PendingApproval' }, '2026-11-27T11:09:00Z'));
    expect(again.outcome).toBe('recorded');
    expect(updates()).toHaveLength(1);
    expect(await logVerifies(table)).toMatchObject({ ok: true });
  });

  it('a stage the policy has no section for is recorded, not gated', async () => {
    const { s } = await openVersion('stg-free');

    const result = await handleModelPackageChange(deps, lifeCycleEvent(s, { Stage: 'QA', StageStatus: 'Approved' }, '2026-11-27T11:05:31Z'));

    expect(result.outcome).toBe('recorded');
    expect(updates()).toEqual([]);
    expect(published()).toEqual([]);
    const version = await deps.store.getVersion({ group: s.group, version: 1 });
    expect(version?.lifeCycle).toEqual({ stage: 'QA', status: 'Approved' });
    expect(version?.stages).toBeUndefined();
    const [changed] = await entriesOf(s.group, 'version.stage-changed');
    expect(changed?.detail).toMatchObject({ status: 'PendingManualApproval', lifeCycle: { stage: 'QA', status: 'Approved' } });
  });

  it('a group whose policy has no stages records every stage change', async () => {
    const { s } = await openSampleReview(deps, { sm, sns }, 'stg-none');

    const result = await handleModelPackageChange(deps, lifeCycleEvent(s, { Stage: 'PreProduction', StageStatus: 'Approved' }, '2026-11-27T11:05:31Z'));

    expect(result.outcome).toBe('recorded');
    expect(updates()).toEqual([]);
    expect((await deps.store.getVersion({ group: s.group, version: 1 }))?.lifeCycle).toEqual({ stage: 'PreProduction', status: 'Approved' });
  });
});

describe('a stage promotion is reviewed and decided', () => {
  it('opens a review with the stage\'s reviewers; votes to quorum set <stage>/Approved exactly once', async () => {
    const { s, tokens: versionTokens } = await openVersion('stg-pass');

    const result = await handleModelPackageChange(deps, s.version('model-package-stage-promotion.json'));

    expect(result.outcome).toBe('stage-review-opened');
    expect(updates()).toEqual([]);
    const messages = published();
    // The stage's reviewers, not the policy's: the chief risk officer and the ML lead.
    expect(messages.map((m) => [m.TopicArn, m.MessageAttributes?.reviewer?.StringValue])).toEqual([
      [TOPICS.reviewers, CHIEF],
      [TOPICS.reviewers, LEAD],
    ]);
    expect(messages[0]?.Subject).toBe(`Review requested: ${s.group} v1 to stage PreProduction`);
    expect(messages[0]?.Message).toContain(`The promotion of model version ${s.group} v1 to stage PreProduction passed the stage's rules in its policy (version 1)`);
    expect(messages[0]?.Message).toContain('  trainingJob:validation:auc = 0.912 (>= 0.9) pass');
    const version = await deps.store.getVersion({ group: s.group, version: 1 });
    const stageReviewId = version?.stages?.['PreProduction']?.review?.id ?? '';
    expect(version?.stages?.['PreProduction']).toMatchObject({ gateState: 'passed', review: { status: 'Open' } });
    expect(stageReviewId).not.toBe(version?.review?.id);
    const review = await deps.store.getReview({ group: s.group, version: 1, reviewId: stageReviewId });
    expect(review).toMatchObject({
      stage: 'PreProduction',
      stageStatuses: { pending: 'PendingApproval', approved: 'Approved', rejected: 'Rejected' },
      reviewers: [CHIEF, LEAD],
      requiredApprovals: 2,
      expiresAt: '2026-11-29T12:00:00.000Z', // the stage's reviewLifetimeHours: 48
      status: 'Open',
    });
    const opened = (await entriesOf(s.group, 'review.opened')).map((e) => e.detail);
    expect(opened).toEqual([
      expect.not.objectContaining({ stage: expect.anything() }),
      expect.objectContaining({ reviewId: stageReviewId, stage: 'PreProduction', reviewers: [CHIEF, LEAD], requiredApprovals: 2 }),
    ]);
    expect((await entriesOf(s.group, 'stage.gate-passed'))[0]?.detail).toMatchObject({ stage: 'PreProduction', requested: 'PendingApproval', policyVersion: 1 });

    // The page names the stage and shows the stage's rules.
    const tokens = reviewTokens(messages);
    const page = await showReview(deps, tokens[CHIEF] ?? '');
    expect(page.status).toBe(200);
    expect(page.body).toContain('promotion to stage PreProduction</h1>');
    expect(page.body).toContain('Approve sets it to PreProduction/Approved, Reject to PreProduction/Rejected');
    expect(page.body).toContain('PreProduction/PendingApproval');
    expect(page.body).toContain('The 1 metric rule passes.');
    // A reviewer of the version only is not on the stage's review.
    expect(tokens[RISK]).toBeUndefined();

    sns.resetHistory();
    const first = await submitVote(deps, tokens[CHIEF] ?? '', { decision: 'approve', comment: 'shadow metrics fine' });
    expect(first.status).toBe(200);
    expect(first.body).toContain('1 of 2 approvals');
    expect(updates()).toEqual([]);

    const second = await submitVote(deps, tokens[LEAD] ?? '', { decision: 'approve' });

    expect(second.status).toBe(200);
    expect(second.body).toContain('is now <strong>PreProduction/Approved</strong> in the model registry');
    const decided = await deps.store.getVersion({ group: s.group, version: 1 });
    const decision = decided?.stages?.['PreProduction']?.decision;
    expect(decision).toMatchObject({ outcome: 'Approved', approvers: [CHIEF, LEAD], policyVersion: 1 });
    expect(updates()).toEqual([
      {
        ModelPackageArn: s.arn(1),
        ModelLifeCycle: {
          Stage: 'PreProduction',
          StageStatus: 'Approved',
          StageDescription: `modelgate decision ${decision?.id} on stage PreProduction: approved by ${CHIEF}, ${LEAD} (policy v1, review ${stageReviewId})`,
        },
        ClientToken: CLIENT_TOKEN,
      },
    ]);
    // The version's own approval is still its own review's to decide.
    expect(decided?.decision).toBeUndefined();
    expect(decided?.review).toEqual(version?.review);
    expect(decided?.stages?.['PreProduction']?.review).toEqual({ id: stageReviewId, status: 'Approved' });
    expect(decided?.pendingEffects).toEqual({});
    expect((await entriesOf(s.group, 'review.decided'))[0]?.detail).toMatchObject({ reviewId: stageReviewId, stage: 'PreProduction', setTo: 'Approved', outcome: 'Approved' });

    // The PreProduction/Approved event that follows is explained by the decision: recorded, once.
    const approved = await handleModelPackageChange(deps, lifeCycleEvent(s, { Stage: 'PreProduction', StageStatus: 'Approved' }, '2026-11-27T12:00:02Z'));
    expect(approved.outcome).toBe('recorded');
    expect(await handleModelPackageChange(deps, lifeCycleEvent(s, { Stage: 'PreProduction', StageStatus: 'Approved' }, '2026-11-27T12:00:02Z'))).toMatchObject({ outcome: 'duplicate' });
    expect(updates()).toHaveLength(1);

    // The version's own review still works, and decides the approval status only.
    await submitVote(deps, versionTokens[RISK] ?? '', { decision: 'approve' });
    await submitVote(deps, versionTokens[LEAD] ?? '', { decision: 'approve' });
    expect(updates()[1]).toMatchObject({ ModelPackageArn: s.arn(1), ModelApprovalStatus: 'Approved' });
    expect(updates()[1]?.ModelLifeCycle).toBeUndefined();
    expect(await logVerifies(table)).toMatchObject({ ok: true });
  });

  it('a Reject sets <stage>/Rejected, and a later unexplained <stage>/Approved is reverted to Rejected', async () => {
    const { s } = await openVersion('stg-reject');
    await handleModelPackageChange(deps, s.version('model-package-stage-promotion.json'));
    const tokens = reviewTokens(published());
    sm.resetHistory();

    const rejected = await submitVote(deps, tokens[LEAD] ?? '', { decision: 'reject', comment: 'shadow traffic\nshows drift' });

    expect(rejected.status).toBe(200);
    const decision = (await deps.store.getVersion({ group: s.group, version: 1 }))?.stages?.['PreProduction']?.decision;
    expect(decision).toMatchObject({ outcome: 'Rejected', rejectedBy: LEAD });
    // StageDescription is one line (the API's pattern is .{0,1024}).
    expect(updates()).toEqual([
      {
        ModelPackageArn: s.arn(1),
        ModelLifeCycle: {
          Stage: 'PreProduction',
          StageStatus: 'Rejected',
          StageDescription: `modelgate decision ${decision?.id} on stage PreProduction: rejected by ${LEAD}: shadow traffic shows drift (policy v1, review ${(await deps.store.getVersion({ group: s.group, version: 1 }))?.stages?.['PreProduction']?.review?.id})`,
        },
        ClientToken: CLIENT_TOKEN,
      },
    ]);

    sm.on(DescribeModelPackageCommand).resolves({ LastModifiedBy: { IamIdentity: { Arn: CONSOLE_USER } } });
    const forced = await handleModelPackageChange(deps, lifeCycleEvent(s, { Stage: 'PreProduction', StageStatus: 'Approved' }, '2026-11-27T12:30:00Z'));

    expect(forced.outcome).toBe('stage-approval-reverted');
    expect(updates()[1]).toEqual({
      ModelPackageArn: s.arn(1),
      ModelLifeCycle: { Stage: 'PreProduction', StageStatus: 'Rejected', StageDescription: expect.stringContaining(`reverted PreProduction/Approved set by ${CONSOLE_USER}`) },
      ClientToken: CLIENT_TOKEN,
    });
  });

  it('refuses a registrant\'s approval of their own stage promotion (separation of duties), per stage', async () => {
    // The version was registered by the chief risk officer's own session.
    resetMocks(sm, sns, s3, `arn:aws:sts::123456789012:assumed-role/DataScientist/${CHIEF}`);
    const { s } = await openVersion('stg-sod');
    await handleModelPackageChange(deps, s.version('model-package-stage-promotion.json'));
    const tokens = reviewTokens(published());
    const before = await groupItems(s.group);

    const vote = await submitVote(deps, tokens[CHIEF] ?? '', { decision: 'approve' });

    expect(vote.status).toBe(403);
    expect(vote.body).toContain('Separation of duties: the person who registered or trained a model version may not approve it.');
    expect(await groupItems(s.group)).toEqual(before);
    expect(updates()).toEqual([]);
    const [refusal] = await entriesOf(s.group, 'review.refused');
    expect(refusal).toMatchObject({ actor: CHIEF, detail: { kind: 'self-approval' } });
    // Their review page disables Approve, and the other stage reviewer may still approve.
    expect((await showReview(deps, tokens[CHIEF] ?? '')).body).toContain('its policy does not allow self-approval');
    expect((await submitVote(deps, tokens[LEAD] ?? '', { decision: 'approve' })).status).toBe(200);
  });

  it('a stage review expires with its own notice, and a new request for the stage is gated again', async () => {
    const { s } = await openVersion('stg-expire');
    await handleModelPackageChange(deps, s.version('model-package-stage-promotion.json'));
    const stageReviewId = (await deps.store.getVersion({ group: s.group, version: 1 }))?.stages?.['PreProduction']?.review?.id;
    sns.resetHistory();

    // Past the stage's 48 hours, before the version's own 72.
    clock.now = Date.parse('2026-11-29T13:00:00Z');
    await sweepReviews(deps);

    const version = await deps.store.getVersion({ group: s.group, version: 1 });
    expect(version?.stages?.['PreProduction']?.review).toEqual({ id: stageReviewId, status: 'Expired' });
    expect(version?.review?.status).toBe('Open');
    const expiry = published().find((m) => m.MessageAttributes?.event?.StringValue === 'review-expired');
    expect(expiry?.Message).toContain('The stage stays PreProduction/PendingApproval in the registry');

    sns.resetHistory();
    const again = await handleModelPackageChange(deps, lifeCycleEvent(s, { Stage: 'PreProduction', StageStatus: 'PendingApproval' }, '2026-11-29T13:05:00Z'));
    expect(again.outcome).toBe('stage-review-opened');
    expect(published().map((m) => m.MessageAttributes?.reviewer?.StringValue)).toEqual([CHIEF, LEAD]);
  });
});

describe('an unexplained stage approval', () => {
  it('is reverted to <stage>/PendingApproval with the exact command, a notice and an audit entry naming who set it', async () => {
    const { s } = await openVersion('stg-revert');
    sm.on(DescribeModelPackageCommand).resolves({ LastModifiedBy: { IamIdentity: { Arn: CONSOLE_USER } } });
    const event = lifeCycleEvent(s, { Stage: 'Production', StageStatus: 'Approved' }, '2026-11-27T11:05:31Z');

    const result = await handleModelPackageChange(deps, event);

    expect(result.outcome).toBe('stage-approval-reverted');
    expect(updates()).toEqual([
      {
        ModelPackageArn: s.arn(1),
        ModelLifeCycle: {
          Stage: 'Production',
          StageStatus: 'PendingApproval',
          StageDescription: `modelgate: reverted Production/Approved set by ${CONSOLE_USER}, which no modelgate decision explains; stage approvals go through modelgate's review.`,
        },
        ClientToken: CLIENT_TOKEN,
      },
    ]);
    const notices = published();
    expect(notices.map((n) => [n.TopicArn, n.MessageAttributes?.event?.StringValue])).toEqual([[TOPICS.governance, 'stage-approval-reverted']]);
    expect(notices[0]?.Message).toContain(`${CONSOLE_USER} set ${s.arn(1)} to Production/Approved outside modelgate.`);
    const [reverted] = await entriesOf(s.group, 'stage-approval.reverted');
    expect(reverted).toMatchObject({ actor: CONSOLE_USER, detail: { stage: 'Production', observed: 'Approved', revertTo: 'PendingApproval' } });
    expect((await deps.store.getVersion({ group: s.group, version: 1 }))?.status).toBe('PendingManualApproval');

    // The same event again (a new event id): nothing more.
    const repeat = await handleModelPackageChange(deps, lifeCycleEvent(s, { Stage: 'Production', StageStatus: 'Approved' }, '2026-11-27T11:05:31Z'));
    expect(repeat.outcome).toBe('duplicate');
    // An older event after the newer one: stale, nothing written.
    const writtenBefore = await groupItems(s.group);
    const older = await handleModelPackageChange(deps, lifeCycleEvent(s, { Stage: 'Development', StageStatus: 'InProgress' }, '2026-11-27T10:30:00Z'));
    expect(older.outcome).toBe('stale');
    expect(await groupItems(s.group)).toEqual(writtenBefore);
    expect(updates()).toHaveLength(1);
    expect(published()).toHaveLength(1);
    expect(await actions(s.group)).toEqual(expect.arrayContaining(['stage-approval.reverted']));

    // The revert's own event (Production/PendingApproval) asks for the promotion: it is gated (and fails, 0.912 < 0.95).
    const back = await handleModelPackageChange(deps, lifeCycleEvent(s, { Stage: 'Production', StageStatus: 'PendingApproval' }, '2026-11-27T11:05:32Z'));
    expect(back.outcome).toBe('stage-rejected');
  });

  it('a stage change in the same second as the recorded one is settled by the registry (DescribeModelPackage)', async () => {
    const { s } = await openVersion('stg-tie');
    await handleModelPackageChange(deps, lifeCycleEvent(s, { Stage: 'QA', StageStatus: 'InProgress' }, '2026-11-27T11:05:31Z'));
    sm.on(DescribeModelPackageCommand).resolves({ ModelApprovalStatus: 'PendingManualApproval', ModelLifeCycle: { Stage: 'QA', StageStatus: 'OnHold' } });

    const tie = await handleModelPackageChange(deps, lifeCycleEvent(s, { Stage: 'QA', StageStatus: 'OnHold' }, '2026-11-27T11:05:31Z'));
    expect(tie.outcome).toBe('recorded');
    const loser = await handleModelPackageChange(deps, lifeCycleEvent(s, { Stage: 'QA', StageStatus: 'Approved' }, '2026-11-27T11:05:31Z'));
    expect(loser.outcome).toBe('stale');
    expect((await deps.store.getVersion({ group: s.group, version: 1 }))?.lifeCycle).toEqual({ stage: 'QA', status: 'OnHold' });
  });
});

describe('a bad ModelLifeCycle', () => {
  // The handler's own parse path (functions/onModelPackageStateChange/handler.ts) over the test's deps.
  const handler = middy()
    .use(typedErrors('model package state change event'))
    .use(parser({ schema: ModelPackageStateChangeSchema }))
    .handler(async (event) => handleModelPackageChange(deps, event.detail));

  it.each<[string, unknown, RegExp]>([
    ['a stage with a space', { Stage: 'Pre Production', StageStatus: 'PendingApproval' }, /^detail\.ModelLifeCycle\.Stage: must be 1–63 letters/],
    ['a stage of 64 characters', { Stage: 'S'.repeat(64), StageStatus: 'PendingApproval' }, /^detail\.ModelLifeCycle\.Stage: /],
    ['a status with a leading hyphen', { Stage: 'Production', StageStatus: '-Approved' }, /^detail\.ModelLifeCycle\.StageStatus: /],
    ['a markup status', { Stage: 'Production', StageStatus: '<script>' }, /^detail\.ModelLifeCycle\.StageStatus: /],
    ['no status', { Stage: 'Production' }, /^detail\.ModelLifeCycle\.StageStatus: /],
    ['a description of 1025 characters', { Stage: 'Production', StageStatus: 'PendingApproval', StageDescription: 'd'.repeat(1025) }, /^detail\.ModelLifeCycle\.StageDescription: is 1025 characters/],
    ['a lifecycle that is a string', 'Production/Approved', /^detail\.ModelLifeCycle: /],
  ])('%s is a ValidationError naming the field, and nothing is written', async (_what, lifeCycle, expected) => {
    const s = story(`stg-bad-${++eventNo}`);
    const raw = s.raw('model-package-stage-promotion.json') as { detail: Record<string, unknown> };

    const error = await handler({ ...raw, detail: { ...raw.detail, ModelLifeCycle: lifeCycle } } as never, {} as never).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).problems).toEqual([expect.stringMatching(expected)]);
    expect(await groupItems(s.group)).toEqual([]);
    expect(updates()).toEqual([]);
    expect(published()).toEqual([]);
  });
});
