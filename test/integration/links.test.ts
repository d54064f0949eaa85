/**
 * Issue 10, item 4: links that can be replaced. "Send me a new link" on the review page (from an
 * expired, a forged and a valid token; rate-limited), and the operators' reissueLink and
 * reopenReview. DynamoDB Local; SageMaker and SNS mocked, with the exact messages asserted.
 */
import { mockClient } from 'aws-sdk-client-mock';
import { DescribeModelPackageCommand, DescribeTrainingJobCommand, SageMakerClient, UpdateModelPackageCommand } from '@aws-sdk/client-sagemaker';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { S3Client } from '@aws-sdk/client-s3';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { REVIEW_LINKS_SCOPE, groupScope } from '../../shared/domain/audit.js';
import { NotFound, ValidationError } from '../../shared/domain/errors.js';
import { signReviewToken, verifyReviewToken } from '../../shared/domain/token.js';
import type { Deps } from '../../shared/ports.js';
import { handleModelPackageChange } from '../../shared/usecases/gate.js';
import { ReviewChangeRefused, reissueLink, reopenReview, requestFreshLink } from '../../shared/usecases/links.js';
import { putPolicy } from '../../shared/usecases/policies.js';
import { showReview, submitVote } from '../../shared/usecases/review.js';
import { sweepReviews } from '../../shared/usecases/sweep.js';
import { TRUST_LINE, renderNewLinkRequested } from '../support/pages.js';
import { logVerifies, scopeEntries } from '../support/audit-log.js';
import { newTable, type TestTable } from '../support/dynamo.js';
import { REVIEW_BASE_URL, TEST_KEY_RING, TOPICS, openSampleReview, resetMocks, reviewTokens, story, testDeps } from '../support/story.js';

const sm = mockClient(SageMakerClient);
const sns = mockClient(SNSClient);
const s3 = mockClient(S3Client);
const ADMIN = 'arn:aws:sts::123456789012:assumed-role/PlatformAdmin/asmith';
const RISK = 'risk-officer@acme-bank.example';
const LEAD = 'ml-lead@acme-bank.example';
const CHIEF = 'chief-risk@acme-bank.example';
const T0 = Date.parse('2026-11-27T12:00:00Z');
const HOUR = 3_600_000;

let table: TestTable;
const clock = { now: T0 };
let deps: Deps;

beforeAll(async () => {
  table = await newTable('links');
  deps = testDeps(table.client, table.tableName, clock);
});
afterAll(() => table.drop());
beforeEach(() => {
  clock.now = T0;
  resetMocks(sm, sns, s3);
  // Nobody is named as the registrant: separation of duties plays no part here.
  sm.on(DescribeModelPackageCommand).resolves({});
});

const published = () => sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
const claimsOf = (token: string) => {
  const v = verifyReviewToken(token, TEST_KEY_RING, 0);
  if (!v.ok) throw new Error(`the token does not verify: ${v.reason}`);
  return v.claims;
};
const tokenIn = (message: { Message?: string } | undefined) => new RegExp(`${REVIEW_BASE_URL}/reviews/(\\S+)`).exec(message?.Message ?? '')?.[1] ?? '';
const chain = (group: string) => scopeEntries(deps, groupScope(group));
const items = async () => (await table.doc.send(new ScanCommand({ TableName: table.tableName, ConsistentRead: true }))).Items ?? [];
const NEUTRAL = renderNewLinkRequested();

/** The one message a fresh link sends: to the reviewer's own subscription, with a new link. */
function expectFreshLinkMessage(message: ReturnType<typeof published>[number] | undefined, reviewer: string, group: string, asked: boolean) {
  expect(message).toMatchObject({
    TopicArn: TOPICS.reviewers,
    Subject: `New review link: ${group} v1`,
    MessageAttributes: { reviewer: { DataType: 'String', StringValue: reviewer }, event: { DataType: 'String', StringValue: 'review-link-reissued' } },
  });
  const lines = (message?.Message ?? '').split('\n');
  expect(lines[0]).toBe(asked ? 'Here is the new review link you asked for.' : 'An operator sent you a new review link.');
  expect(lines[1]).toBe('Any earlier link you were sent for this review no longer works.');
  expect(lines[3]).toBe(`Model version ${group} v1 passed its policy (version 1) and needs your review.`);
  // The link line, then the organisation's line that ends every message.
  expect(lines.at(-3)).toMatch(new RegExp(`^Review: ${REVIEW_BASE_URL}/reviews/v1\\.test-2026-11\\.`));
  expect(lines.slice(-2)).toEqual(['', TRUST_LINE]);
}

describe('send me a new link (the review page)', () => {
  it('mails a new link to the link’s own reviewer only; the old link is refused, the new one votes', async () => {
    const { s, tokens } = await openSampleReview(deps, { sm, sns }, 'fresh');
    const old = tokens[RISK] ?? '';

    const answer = await requestFreshLink(deps, old);

    expect(answer).toEqual(NEUTRAL);
    expect(answer.body).toContain('Check your email');
    const sent = published();
    expect(sent).toHaveLength(1);
    expectFreshLinkMessage(sent[0], RISK, s.group, true);
    const fresh = tokenIn(sent[0]);
    expect(fresh).not.toBe(old);
    const claims = claimsOf(fresh);
    expect(claims).toMatchObject({ reviewId: claimsOf(old).reviewId, modelPackageArn: s.arn(1), version: 1, expiresAt: claimsOf(old).expiresAt });

    const oldGet = await showReview(deps, old);
    const oldPost = await submitVote(deps, old, { decision: 'approve' });
    expect(oldGet.status).toBe(403);
    expect(oldPost.status).toBe(403);
    expect(oldPost.body).toContain('data-kind="revoked"');
    expect((await showReview(deps, fresh)).status).toBe(200);
    expect((await submitVote(deps, fresh, { decision: 'approve' })).status).toBe(200);

    const review = await deps.store.getReview({ group: s.group, version: 1, reviewId: claims.reviewId });
    expect(review?.links[RISK]).toBe(claims.linkId);
    expect(Object.keys(review?.votes ?? {})).toEqual([RISK]);
    expect(await deps.store.getReviewLink(claimsOf(old).linkId)).toMatchObject({ revokedBy: RISK, revokedAt: new Date(T0).toISOString() });
    const audit = await chain(s.group);
    expect(audit.filter((e) => e.action === 'review.link-reissued')).toEqual([
      expect.objectContaining({
        subject: s.arn(1),
        actor: RISK,
        detail: { reviewId: claims.reviewId, reviewer: RISK, requestedBy: 'reviewer', fromLinkId: claimsOf(old).linkId, linkId: claims.linkId, revokedLinkId: claimsOf(old).linkId, requestsInWindow: 1 },
      }),
    ]);
    const text = JSON.stringify(audit);
    for (const t of [old, fresh]) expect(text).not.toContain(t.split('.')[3]);
    expect(await logVerifies(table)).toMatchObject({ ok: true });
  });

  it('the expired and refused pages offer the button: a POST form to the page itself with intent=new-link', async () => {
    const { tokens } = await openSampleReview(deps, { sm, sns }, 'button');
    const forged = `${(tokens[RISK] ?? '').slice(0, -2)}AA`;
    clock.now = T0 + 73 * HOUR;
    const expired = await showReview(deps, tokens[RISK] ?? '');
    const refused = await showReview(deps, forged);
    for (const [page, status, kind] of [[expired, 410, 'expired'], [refused, 403, 'refused']] as const) {
      expect(page.status).toBe(status);
      expect(page.body).toContain(`data-kind="${kind}"`);
      expect(page.body).toContain('<form method="post" action="" data-testid="new-link-form">\n<input type="hidden" name="intent" value="new-link">');
      expect(page.body).toContain('>Send me a new link</button>');
    }
  });

  it('from an expired token: the review expired, so nothing is sent and the page says only an operator can reopen it', async () => {
    const { s, tokens } = await openSampleReview(deps, { sm, sns }, 'lapsed');
    clock.now = T0 + 73 * HOUR;
    expect((await sweepReviews(deps)).expired).toBeGreaterThanOrEqual(1);
    sns.resetHistory();
    const before = (await items()).length;

    const answer = await requestFreshLink(deps, tokens[RISK] ?? '');

    expect(answer.status).toBe(410);
    expect(answer.body).toContain('data-kind="review-expired"');
    expect(answer.body).toContain('Only an operator can reopen the review');
    expect(answer.body).toContain('2026-11-30 12:00 UTC');
    expect(published()).toEqual([]);
    expect((await items()).length).toBe(before + 1);
    const refusals = (await chain(s.group)).filter((e) => e.action === 'review.refused');
    expect(refusals.map((e) => [e.actor, e.detail.kind, e.detail.intent, e.detail.expiresAt])).toEqual([[RISK, 'expired', 'new-link', '2026-11-30T12:00:00.000Z']]);
  });

  it('from an expired token after an operator reopened the review: a new link to the reopened review, its first link revoked', async () => {
    const { s, tokens } = await openSampleReview(deps, { sm, sns }, 'relapse');
    clock.now = T0 + 73 * HOUR;
    await sweepReviews(deps);
    const reopened = await reopenReview(deps, { modelPackageArn: s.arn(1), changedBy: ADMIN });
    const reopenedTokens = reviewTokens(published());
    sns.resetHistory();
    clock.now += HOUR;

    const answer = await requestFreshLink(deps, tokens[RISK] ?? '');

    expect(answer).toEqual(NEUTRAL);
    const sent = published();
    expect(sent).toHaveLength(1);
    expectFreshLinkMessage(sent[0], RISK, s.group, true);
    const fresh = claimsOf(tokenIn(sent[0]));
    expect(fresh.reviewId).toBe(reopened.reviewId);
    expect(fresh.expiresAt).toBe(Math.floor(Date.parse(reopened.expiresAt) / 1000));
    expect((await showReview(deps, reopenedTokens[RISK] ?? '')).status).toBe(403);
    expect((await showReview(deps, tokenIn(sent[0]))).status).toBe(200);
    expect((await showReview(deps, tokens[RISK] ?? '')).status).toBe(410);
    const reissued = (await chain(s.group)).filter((e) => e.action === 'review.link-reissued');
    expect(reissued.map((e) => [e.actor, e.detail.reviewId, e.detail.fromLinkId, e.detail.revokedLinkId])).toEqual([
      [RISK, reopened.reviewId, claimsOf(tokens[RISK] ?? '').linkId, claimsOf(reopenedTokens[RISK] ?? '').linkId],
    ]);
  });

  it('from a forged, tampered or unknown-key token: the same page as a sent link, nothing sent, nothing written but the refusal', async () => {
    const { s, tokens } = await openSampleReview(deps, { sm, sns }, 'forged');
    const real = tokens[LEAD] ?? '';
    const claims = claimsOf(real);
    const [v, kid, payload, signature] = real.split('.') as [string, string, string, string];
    const tampered = `${v}.${kid}.${payload.slice(0, -1)}${payload.endsWith('A') ? 'B' : 'A'}.${signature}`;
    const badSignature = `${v}.${kid}.${payload}.${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BB' : 'AA'}`;
    const unknownKey = signReviewToken({ ...claims, reviewer: LEAD }, { kid: 'someone-else', secret: new Uint8Array(32).fill(9) });
    // A real signature over claims that name another reviewer: the records do not match it.
    const otherReviewer = signReviewToken({ ...claims, reviewer: 'mallory@evil.example' }, TEST_KEY_RING.current);
    const before = new Set((await items()).map((i) => `${String(i.PK)}|${String(i.SK)}`));

    const answers = [];
    for (const t of [tampered, badSignature, unknownKey, 'not-a-token', otherReviewer]) answers.push(await requestFreshLink(deps, t));

    for (const a of answers) expect(a).toEqual(NEUTRAL);
    expect(sns.calls()).toHaveLength(0);
    expect(sm.calls()).toHaveLength(0);
    const added = (await items()).filter((i) => !before.has(`${String(i.PK)}|${String(i.SK)}`));
    expect(added.map((i) => [i.type, i.action])).toEqual(Array.from({ length: 5 }, () => ['AuditEntry', 'review.refused']));
    const untrusted = await scopeEntries(deps, REVIEW_LINKS_SCOPE);
    expect(untrusted.filter((e) => e.detail.intent === 'new-link').map((e) => [e.actor, e.detail.kind, e.detail.reason])).toEqual([
      ['unknown', 'refused', 'bad-signature'],
      ['unknown', 'refused', 'bad-signature'],
      ['unknown', 'refused', 'unknown-key'],
      ['unknown', 'refused', 'malformed'],
    ]);
    expect((await chain(s.group)).filter((e) => e.action === 'review.refused').map((e) => [e.actor, e.detail.kind, e.detail.reason, e.detail.linkId])).toEqual([
      [LEAD, 'refused', 'claims do not match the link', claims.linkId],
    ]);
    expect(JSON.stringify(untrusted)).not.toContain(signature);
    // The link itself is untouched: it still works.
    expect((await showReview(deps, real)).status).toBe(200);
  });

  it('is rate-limited: 3 new links per reviewer per review per 24 h; the 4th answers 429, is audited and sends nothing; operators are not counted', async () => {
    const { s, tokens } = await openSampleReview(deps, { sm, sns }, 'limit');
    const old = tokens[RISK] ?? '';
    const answers = [];
    for (let i = 0; i < 3; i++) {
      clock.now = T0 + i * HOUR;
      answers.push(await requestFreshLink(deps, old));
    }
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(published().map((m) => m.MessageAttributes?.reviewer?.StringValue)).toEqual([RISK, RISK, RISK]);
    sns.resetHistory();
    const before = (await items()).length;

    clock.now = T0 + 23 * HOUR;
    const fourth = await requestFreshLink(deps, old);

    expect(fourth.status).toBe(429);
    expect(fourth.body).toContain('data-kind="rate-limited"');
    expect(fourth.body).toContain('Too many new links');
    expect(sns.calls()).toHaveLength(0);
    expect((await items()).length).toBe(before + 1);
    const audit = await chain(s.group);
    expect(audit.filter((e) => e.action === 'review.refused').map((e) => [e.actor, e.detail.kind, e.detail.intent])).toEqual([[RISK, 'rate-limited', 'new-link']]);
    expect(audit.filter((e) => e.action === 'review.link-reissued').map((e) => e.detail.requestsInWindow)).toEqual([1, 2, 3]);

    // An operator may still send one, and it does not count.
    const byOperator = await reissueLink(deps, { modelPackageArn: s.arn(1), reviewer: RISK, changedBy: ADMIN });
    expect(byOperator.outcome).toBe('reissued');
    expect((await requestFreshLink(deps, old)).status).toBe(429);

    // A day after the first request the window starts again.
    clock.now = T0 + 24 * HOUR;
    sns.resetHistory();
    expect((await requestFreshLink(deps, old)).status).toBe(200);
    expect(published()).toHaveLength(1);
  });

  it('sends nothing for a decided review (409 closed) or a reviewer who already voted (409 used)', async () => {
    const { s, tokens } = await openSampleReview(deps, { sm, sns }, 'decided');
    await submitVote(deps, tokens[RISK] ?? '', { decision: 'approve' });
    sns.resetHistory();
    const used = await requestFreshLink(deps, tokens[RISK] ?? '');
    expect(used.status).toBe(409);
    expect(used.body).toContain('data-kind="used"');
    await submitVote(deps, tokens[LEAD] ?? '', { decision: 'approve' });
    sns.resetHistory();
    const closed = await requestFreshLink(deps, tokens[LEAD] ?? '');
    expect(closed.status).toBe(409);
    expect(closed.body).toContain('its status is <strong data-testid="closed-status">Approved</strong>');
    expect(sns.calls()).toHaveLength(0);
    const refusals = (await chain(s.group)).filter((e) => e.action === 'review.refused' && e.detail.intent === 'new-link');
    expect(refusals.map((e) => [e.actor, e.detail.kind])).toEqual([
      [RISK, 'used'],
      [LEAD, 'closed'],
    ]);
  });
});

describe('reissueLink (operator)', () => {
  it('revokes the reviewer’s unused link and mails a new one to them only, audited with the operator as actor', async () => {
    const { s, tokens } = await openSampleReview(deps, { sm, sns }, 'reissue');
    const old = claimsOf(tokens[LEAD] ?? '');

    const result = await reissueLink(deps, { modelPackageArn: s.arn(1), reviewer: 'ML-Lead@acme-bank.example', changedBy: ADMIN, reason: 'INC-4471' });

    const sent = published();
    expect(sent).toHaveLength(1);
    expectFreshLinkMessage(sent[0], LEAD, s.group, false);
    const fresh = claimsOf(tokenIn(sent[0]));
    expect(result).toEqual({
      outcome: 'reissued',
      modelPackageArn: s.arn(1),
      reviewId: old.reviewId,
      reviewer: LEAD,
      linkId: fresh.linkId,
      revokedLinkId: old.linkId,
      expiresAt: '2026-11-30T12:00:00.000Z',
    });
    expect((await submitVote(deps, tokens[LEAD] ?? '', { decision: 'approve' })).status).toBe(403);
    expect((await submitVote(deps, tokenIn(sent[0]), { decision: 'approve' })).status).toBe(200);
    expect(await deps.store.getReviewLink(old.linkId)).toMatchObject({ revokedBy: ADMIN });
    const reissued = (await chain(s.group)).filter((e) => e.action === 'review.link-reissued');
    expect(reissued).toEqual([
      expect.objectContaining({
        actor: ADMIN,
        subject: s.arn(1),
        detail: { reviewId: old.reviewId, reviewer: LEAD, requestedBy: 'operator', linkId: fresh.linkId, revokedLinkId: old.linkId, reason: 'INC-4471' },
      }),
    ]);
    // Not counted against the reviewer's own requests.
    expect((await deps.store.getReview({ group: s.group, version: 1, reviewId: old.reviewId })) as unknown).not.toHaveProperty('freshLinks');
  });

  it('refuses, with a typed error and nothing written: a reviewer not on the review, one who voted, an unknown version, an expired review', async () => {
    const { s, tokens } = await openSampleReview(deps, { sm, sns }, 'reissueno');
    await submitVote(deps, tokens[RISK] ?? '', { decision: 'approve' });
    sns.resetHistory();
    const before = await items();
    const reasons = async (payload: Record<string, unknown>) => {
      const e = await reissueLink(deps, { changedBy: ADMIN, ...payload }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(ReviewChangeRefused);
      return (e as ReviewChangeRefused).reason;
    };
    expect(await reasons({ modelPackageArn: s.arn(1), reviewer: CHIEF })).toBe('not-a-reviewer');
    expect(await reasons({ modelPackageArn: s.arn(1), reviewer: RISK })).toBe('already-voted');
    await expect(reissueLink(deps, { modelPackageArn: s.arn(7), reviewer: LEAD, changedBy: ADMIN })).rejects.toBeInstanceOf(NotFound);
    clock.now = T0 + 73 * HOUR;
    expect(await reasons({ modelPackageArn: s.arn(1), reviewer: LEAD })).toBe('review-expired');
    expect(await items()).toEqual(before);
    expect(sns.calls()).toHaveLength(0);
  });
});

describe('reopenReview (operator)', () => {
  it('opens a new review for an expired one under the group’s current policy: its reviewers, quorum and lifetime; mails the links; audited', async () => {
    const { s, tokens } = await openSampleReview(deps, { sm, sns }, 'reopen');
    const first = claimsOf(tokens[RISK] ?? '').reviewId;
    clock.now = T0 + 73 * HOUR;
    await sweepReviews(deps);
    await putPolicy(deps, s.policy({ reviewers: [RISK, CHIEF], requiredApprovals: 1, reviewLifetimeHours: 48, reason: 'Chief risk officer reviews' }));
    sns.resetHistory();

    const result = await reopenReview(deps, { modelPackageArn: s.arn(1), changedBy: ADMIN, reason: 'MRM-2304' });

    expect(result).toEqual({
      outcome: 'reopened',
      modelPackageArn: s.arn(1),
      previousReviewId: first,
      reviewId: expect.any(String),
      policyVersion: 2,
      reviewers: [RISK, CHIEF],
      requiredApprovals: 1,
      expiresAt: '2026-12-02T13:00:00.000Z',
    });
    expect(result.reviewId).not.toBe(first);
    const sent = published();
    expect(sent.map((m) => [m.TopicArn, m.Subject, m.MessageAttributes?.reviewer?.StringValue, m.MessageAttributes?.event?.StringValue])).toEqual([
      [TOPICS.reviewers, `Review requested: ${s.group} v1`, RISK, 'review-requested'],
      [TOPICS.reviewers, `Review requested: ${s.group} v1`, CHIEF, 'review-requested'],
    ]);
    const fresh = reviewTokens(sent);
    expect(claimsOf(fresh[CHIEF] ?? '').reviewId).toBe(result.reviewId);
    expect(await deps.store.getVersion({ group: s.group, version: 1 })).toMatchObject({ status: 'PendingManualApproval', review: { id: result.reviewId, status: 'Open' }, pendingEffects: {} });
    expect(await deps.store.getReview({ group: s.group, version: 1, reviewId: result.reviewId })).toMatchObject({
      status: 'Open',
      policyVersion: 2,
      reviewers: [RISK, CHIEF],
      requiredApprovals: 1,
      openedAt: '2026-11-30T13:00:00.000Z',
      votes: {},
    });
    expect((await deps.store.getReview({ group: s.group, version: 1, reviewId: first }))?.status).toBe('Expired');
    const reopened = (await chain(s.group)).filter((e) => e.action === 'review.reopened');
    expect(reopened).toEqual([
      expect.objectContaining({
        actor: ADMIN,
        subject: s.arn(1),
        detail: { previousReviewId: first, reviewId: result.reviewId, policyVersion: 2, reviewers: [RISK, CHIEF], requiredApprovals: 1, expiresAt: '2026-12-02T13:00:00.000Z', reason: 'MRM-2304' },
      }),
    ]);

    // The old links stay expired; the new review decides under the current quorum (1).
    expect((await submitVote(deps, tokens[LEAD] ?? '', { decision: 'approve' })).status).toBe(410);
    expect((await submitVote(deps, fresh[CHIEF] ?? '', { decision: 'approve' })).status).toBe(200);
    expect(sm.commandCalls(UpdateModelPackageCommand).map((c) => [c.args[0].input.ModelPackageArn, c.args[0].input.ModelApprovalStatus])).toEqual([[s.arn(1), 'Approved']]);
    expect(await logVerifies(table)).toMatchObject({ ok: true });
  });

  it('refuses, with a typed error and nothing written: a review still open, a decided version, a version never gated, one that failed its gate', async () => {
    const refusal = async (arn: string) => {
      const before = await items();
      const e = await reopenReview(deps, { modelPackageArn: arn, changedBy: ADMIN }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(ReviewChangeRefused);
      expect(await items()).toEqual(before);
      return (e as ReviewChangeRefused).reason;
    };
    const open = await openSampleReview(deps, { sm, sns }, 'stillopen');
    expect(await refusal(open.s.arn(1))).toBe('review-open');
    // Past its lifetime but not yet closed by the sweep: still refused, and the message says to sweep first.
    clock.now = T0 + 73 * HOUR;
    const lapsed = (await reopenReview(deps, { modelPackageArn: open.s.arn(1), changedBy: ADMIN }).catch((x: unknown) => x)) as Error;
    expect(lapsed.message).toContain('the hourly sweep has not closed it yet');
    clock.now = T0;

    await submitVote(deps, open.tokens[RISK] ?? '', { decision: 'approve' });
    await submitVote(deps, open.tokens[LEAD] ?? '', { decision: 'approve' });
    clock.now = T0 + 73 * HOUR;
    await sweepReviews(deps);
    expect(await refusal(open.s.arn(1))).toBe('decided');

    clock.now = T0;
    const waiting = story('neverg');
    await putPolicy(deps, waiting.policy());
    sm.on(DescribeTrainingJobCommand).resolves({ ...(waiting.describe('training-job-completed.json', {}) as object), TrainingJobStatus: 'InProgress', TrainingEndTime: undefined, ModelArtifacts: { S3ModelArtifacts: '' } } as never);
    expect((await handleModelPackageChange(deps, waiting.version('model-package-pending.json'))).outcome).toBe('awaiting-job');
    expect(await refusal(waiting.arn(1))).toBe('not-gated');

    const low = story('lowgate');
    sm.on(DescribeTrainingJobCommand).resolves(low.describe('training-job-completed-low-auc.json', { 'validation:auc': 0.801 }) as never);
    await putPolicy(deps, low.policy());
    const { recordTrainingJob } = await import('../../shared/usecases/training.js');
    await recordTrainingJob(deps, low.job('training-job-completed-low-auc.json'));
    expect((await handleModelPackageChange(deps, low.version('model-package-pending-low-auc.json'))).outcome).toBe('rejected');
    expect(await refusal(low.arn(2))).toBe('not-gated');

    await expect(reopenReview(deps, { modelPackageArn: low.arn(9), changedBy: ADMIN })).rejects.toBeInstanceOf(NotFound);
  });
});

describe('bad payloads', () => {
  const GROUP_ARN = 'arn:aws:sagemaker:us-east-1:123456789012:model-package-group/fraud-detector';
  const UNVERSIONED = 'arn:aws:sagemaker:us-east-1:123456789012:model-package/fraud-detector';
  const V1 = 'arn:aws:sagemaker:us-east-1:123456789012:model-package/fraud-detector/1';
  const WRONG_ARN = 'modelPackageArn: must be a versioned model package ARN';
  const cases: Array<{ name: 'reissueLink' | 'reopenReview'; payload: Record<string, unknown>; fields: string[]; problem?: string }> = [
    { name: 'reissueLink', payload: {}, fields: ['modelPackageArn', 'reviewer', 'changedBy'] },
    { name: 'reopenReview', payload: {}, fields: ['modelPackageArn', 'changedBy'] },
    { name: 'reissueLink', payload: { modelPackageArn: GROUP_ARN, reviewer: RISK, changedBy: ADMIN }, fields: ['modelPackageArn'], problem: WRONG_ARN },
    { name: 'reopenReview', payload: { modelPackageArn: UNVERSIONED, changedBy: ADMIN }, fields: ['modelPackageArn'], problem: WRONG_ARN },
    { name: 'reissueLink', payload: { modelPackageArn: V1, reviewer: 'not-an-address', changedBy: ADMIN }, fields: ['reviewer'] },
    { name: 'reopenReview', payload: { modelPackageArn: V1, changedBy: ADMIN, extra: 1 }, fields: ['(root)'] },
  ];
  it.each(cases)('$name with $payload → ValidationError naming $fields, nothing written', async ({ name, payload, fields, problem }) => {
    const before = await items();
    const e = await (name === 'reissueLink' ? reissueLink : reopenReview)(deps, payload).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ValidationError);
    const error = e as ValidationError;
    expect(error.subject).toBe(`${name} request`);
    expect([...new Set(error.problems.map((p) => p.split(':')[0]))]).toEqual(fields);
    if (problem) expect(error.problems).toContain(problem);
    expect(await items()).toEqual(before);
    expect(sns.calls()).toHaveLength(0);
  });
});
