/**
 * Issue 8, defect 4: a reviewer added to or removed from a group reaches the group's open reviews.
 * A removed reviewer's unused link is revoked (403, audited, no vote) and they get no reminder;
 * a vote they cast stays. An added reviewer gets a link of their own, through the committed
 * effects. A removal that leaves the quorum out of reach tells governance; the review stays open.
 */
import { mockClient } from 'aws-sdk-client-mock';
import { DescribeModelPackageCommand, SageMakerClient, UpdateModelPackageCommand } from '@aws-sdk/client-sagemaker';
import { PublishCommand, SNSClient, SubscribeCommand, UnsubscribeCommand } from '@aws-sdk/client-sns';
import { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { groupScope } from '../../shared/domain/audit.js';
import { verifyReviewToken } from '../../shared/domain/token.js';
import type { Deps } from '../../shared/ports.js';
import { listPendingReviews } from '../../shared/usecases/pending.js';
import { putPolicy } from '../../shared/usecases/policies.js';
import { addReviewer, removeReviewer } from '../../shared/usecases/reviewers.js';
import { showReview, submitVote } from '../../shared/usecases/review.js';
import { sweepReviews } from '../../shared/usecases/sweep.js';
import { addedEntries, logVerifies, scopeEntries } from '../support/audit-log.js';
import { newTable, type TestTable } from '../support/dynamo.js';
import { TEST_KEY_RING, TOPICS, openSampleReview, resetMocks, reviewTokens, testDeps } from '../support/story.js';

const sm = mockClient(SageMakerClient);
const sns = mockClient(SNSClient);
const s3 = mockClient(S3Client);
const ADMIN = 'arn:aws:sts::123456789012:assumed-role/PlatformAdmin/asmith';
const RISK = 'risk-officer@acme-bank.example';
const LEAD = 'ml-lead@acme-bank.example';
const CHIEF = 'chief-risk@acme-bank.example';
const NEW = 'model-risk@acme-bank.example';
const T0 = Date.parse('2026-11-27T12:00:00Z');
const HOUR = 3_600_000;

let table: TestTable;
const clock = { now: T0 };
let deps: Deps;

/** DynamoDB requests sent while `recording` is on (every client on table.client shares its stack). */
const sent: Array<{ command: string; index?: string }> = [];
let recording = false;
function recordCommands(client: DynamoDBClient): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (recording) sent.push({ command: String(context.commandName), ...((args.input as { IndexName?: string }).IndexName ? { index: (args.input as { IndexName: string }).IndexName } : {}) });
      return next(args);
    },
    { step: 'initialize', name: 'recordCommandsForTest' },
  );
}

beforeAll(async () => {
  table = await newTable('reviewer-changes');
  recordCommands(table.client);
  deps = testDeps(table.client, table.tableName, clock);
});
afterAll(() => table.drop());
beforeEach(() => {
  clock.now = T0;
  sent.length = 0;
  recording = false;
  resetMocks(sm, sns, s3);
  sm.on(DescribeModelPackageCommand).resolves({});
  sns.on(SubscribeCommand).callsFake((input: { Endpoint: string }) => ({ SubscriptionArn: `${TOPICS.reviewers}:${input.Endpoint.split('@')[0]}-0b1c` }));
  sns.on(UnsubscribeCommand).resolves({});
});

const three = { reviewers: [RISK, LEAD, CHIEF], requiredApprovals: 2 };
const published = () => sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
const updates = () => sm.commandCalls(UpdateModelPackageCommand).map((c) => c.args[0].input);
const linkIdOf = (token: string) => {
  const v = verifyReviewToken(token, TEST_KEY_RING, 0);
  if (!v.ok) throw new Error(`the token does not verify: ${v.reason}`);
  return v.claims.linkId;
};
const reviewOf = async (group: string) => {
  const version = await deps.store.getVersion({ group, version: 1 });
  const review = await deps.store.getReview({ group, version: 1, reviewId: version?.review?.id ?? '' });
  if (!review) throw new Error('no review');
  return review;
};
/** The group's audit entries, oldest first. */
const chain = (group: string) => scopeEntries(deps, groupScope(group));

describe('removeReviewer reaches the open reviews', () => {
  it("revokes the removed reviewer's unused link: 403, audited, no vote, no registry update", async () => {
    const { s, tokens } = await openSampleReview(deps, { sm, sns }, 'rmlink', three);
    await submitVote(deps, tokens[RISK] ?? '', { decision: 'approve' });
    sm.resetHistory();
    sns.resetHistory();

    const removed = await removeReviewer(deps, { modelPackageGroupName: s.group, reviewer: LEAD, changedBy: ADMIN, reason: 'left the team' });

    expect(removed.openReviews).toEqual([
      expect.objectContaining({ change: 'removed', linkRevoked: true, voteKept: false, quorumReachable: true, modelPackageArn: s.arn(1) }),
    ]);
    const before = await reviewOf(s.group);
    expect(before.reviewers).toEqual([RISK, CHIEF]);
    expect(before.status).toBe('Open');
    const link = await deps.store.getReviewLink(linkIdOf(tokens[LEAD] ?? ''));
    expect(link).toMatchObject({ reviewer: LEAD, revokedBy: ADMIN });
    expect(link?.revokedAt).toBeDefined();
    expect(link?.usedAt).toBeUndefined();

    const post = await submitVote(deps, tokens[LEAD] ?? '', { decision: 'approve' });
    const get = await showReview(deps, tokens[LEAD] ?? '');

    expect(post.status).toBe(403);
    expect(post.body).toContain('data-kind="revoked"');
    expect(get.status).toBe(403);
    expect(sm.calls()).toHaveLength(0); // no UpdateModelPackage, nothing else either
    expect(sns.calls()).toHaveLength(0); // the quorum is still reachable: no notice
    const after = await reviewOf(s.group);
    expect(Object.keys(after.votes)).toEqual([RISK]);
    expect(after.status).toBe('Open');
    expect((await deps.store.getReviewLink(linkIdOf(tokens[LEAD] ?? '')))?.usedAt).toBeUndefined();
    const audit = await chain(s.group);
    expect(audit.filter((e) => e.action === 'review.reviewer-removed')).toEqual([
      expect.objectContaining({ subject: s.arn(1), actor: ADMIN, detail: expect.objectContaining({ reviewer: LEAD, revokedLinkId: linkIdOf(tokens[LEAD] ?? ''), quorumReachable: true }) }),
    ]);
    const refused = audit.filter((e) => e.action === 'review.refused');
    expect(refused.map((e) => [e.actor, e.detail.kind, e.detail.method])).toEqual([
      [LEAD, 'revoked', 'POST'],
      [LEAD, 'revoked', 'GET'],
    ]);
    expect(JSON.stringify(audit)).not.toContain(tokens[LEAD]?.split('.')[3]);
    expect(await logVerifies(table)).toMatchObject({ ok: true });

    // The reviewers who remain still decide: the second approval comes from CHIEF.
    const decided = await submitVote(deps, tokens[CHIEF] ?? '', { decision: 'approve' });
    expect(decided.status).toBe(200);
    expect(updates()).toEqual([expect.objectContaining({ ModelPackageArn: s.arn(1), ModelApprovalStatus: 'Approved' })]);
    expect((await reviewOf(s.group)).decision?.approvers).toEqual([RISK, CHIEF]);
  });

  it('keeps a vote the removed reviewer already cast, and it counts', async () => {
    const { s, tokens } = await openSampleReview(deps, { sm, sns }, 'rmvoted', three);
    await submitVote(deps, tokens[RISK] ?? '', { decision: 'approve', comment: 'fine' });

    const removed = await removeReviewer(deps, { modelPackageGroupName: s.group, reviewer: RISK, changedBy: ADMIN });

    expect(removed.openReviews).toEqual([expect.objectContaining({ change: 'removed', linkRevoked: false, voteKept: true, quorumReachable: true })]);
    const review = await reviewOf(s.group);
    expect(review.reviewers).toEqual([LEAD, CHIEF]);
    expect(review.votes[RISK]).toMatchObject({ decision: 'approve', comment: 'fine' });
    const link = await deps.store.getReviewLink(linkIdOf(tokens[RISK] ?? ''));
    expect(link?.usedAt).toBeDefined();
    expect(link?.revokedAt).toBeUndefined();

    expect((await submitVote(deps, tokens[LEAD] ?? '', { decision: 'approve' })).status).toBe(200);
    expect((await reviewOf(s.group)).decision).toMatchObject({ outcome: 'Approved', approvers: [RISK, LEAD] });
    expect(updates()).toHaveLength(1);
  });

  it('tells governance when the quorum can no longer be met, and leaves the review open', async () => {
    // Two reviewers, two approvals; the removal lowers the policy to one, but the open review
    // keeps the two approvals it was opened with, and only one reviewer is left to give them.
    const { s } = await openSampleReview(deps, { sm, sns }, 'rmquorum');
    const auditBefore = await chain(s.group);

    const removed = await removeReviewer(deps, { modelPackageGroupName: s.group, reviewer: LEAD, requiredApprovals: 1, changedBy: ADMIN });

    expect(removed.openReviews).toEqual([expect.objectContaining({ change: 'removed', quorumReachable: false })]);
    expect(published()).toEqual([
      expect.objectContaining({
        TopicArn: TOPICS.governance,
        Subject: `Review cannot reach its quorum: ${s.group} v1`,
        MessageAttributes: { event: { DataType: 'String', StringValue: 'review-quorum-unreachable' }, group: { DataType: 'String', StringValue: s.group } },
      }),
    ]);
    expect(published()[0]?.Message).toContain('0 of 2 approvals and 1 reviewer(s) who may still vote (risk-officer@acme-bank.example)');
    expect(sm.commandCalls(UpdateModelPackageCommand)).toHaveLength(0);
    const review = await reviewOf(s.group);
    expect(review.status).toBe('Open');
    expect(review.requiredApprovals).toBe(2);
    expect((await deps.store.getVersion({ group: s.group, version: 1 }))?.pendingEffects).toEqual({});
    expect((await listPendingReviews(deps, {})).items.map((r) => r.reviewId)).toContain(review.id);
    // What the removal audited (by id, not as the last entry: see addedEntries).
    expect(addedEntries(auditBefore, await chain(s.group)).at(-1)).toMatchObject({
      action: 'review.reviewer-removed',
      detail: { quorumReachable: false, approvals: 0, requiredApprovals: 2, canStillVote: [RISK] },
    });
  });

  it('a removal racing the removed reviewer’s own vote: either the vote counts and stays, or the link is revoked and it does not; never both', async () => {
    for (let i = 0; i < 3; i++) {
      const { s, tokens } = await openSampleReview(deps, { sm, sns }, `rmrace${i}`, three);
      const [vote] = await Promise.all([
        submitVote(deps, tokens[LEAD] ?? '', { decision: 'approve' }),
        removeReviewer(deps, { modelPackageGroupName: s.group, reviewer: LEAD, changedBy: ADMIN }),
      ]);
      const review = await reviewOf(s.group);
      const link = await deps.store.getReviewLink(linkIdOf(tokens[LEAD] ?? ''));
      expect(review.reviewers).toEqual([RISK, CHIEF]);
      expect(review.status).toBe('Open');
      if (vote.status === 200) {
        expect(review.votes[LEAD]).toMatchObject({ decision: 'approve' });
        expect(link?.usedAt).toBeDefined();
        expect(link?.revokedAt).toBeUndefined();
      } else {
        expect(vote.status).toBe(403);
        expect(review.votes[LEAD]).toBeUndefined();
        expect(link?.usedAt).toBeUndefined();
        expect(link?.revokedAt).toBeDefined();
      }
      // The change and the vote both wrote their entries: each is in the log once, unforked.
      expect(await logVerifies(table)).toMatchObject({ ok: true });
    }
  });

  it("finds the group's open reviews with one Query of its index: no Scan, closed reviews not read", async () => {
    const { s, tokens } = await openSampleReview(deps, { sm, sns }, 'rmindex', three);
    const open = await reviewOf(s.group);
    const item = await table.doc.send(new GetCommand({ TableName: table.tableName, Key: { PK: `GROUP#${s.group}`, SK: `REVIEW#0000000001#${open.id}` } }));
    expect(item.Item).toMatchObject({ GSI1PK: `OPENREVIEWS#${s.group}`, GSI1SK: `${open.openedAt}#${open.id}` });

    recording = true;
    await removeReviewer(deps, { modelPackageGroupName: s.group, reviewer: CHIEF, changedBy: ADMIN });
    recording = false;

    expect(sent.map((c) => c.command)).not.toContain('ScanCommand');
    expect(sent.filter((c) => c.command === 'QueryCommand')).toEqual([{ command: 'QueryCommand', index: 'GSI1' }]);
    expect(sent.filter((c) => c.command === 'TransactWriteItemsCommand')).toHaveLength(2); // the policy; the one review

    // Once closed, the review leaves the index, and a later change does not touch it.
    await submitVote(deps, tokens[RISK] ?? '', { decision: 'reject', comment: 'the dataset card is missing' });
    const closed = await table.doc.send(new GetCommand({ TableName: table.tableName, Key: { PK: `GROUP#${s.group}`, SK: `REVIEW#0000000001#${open.id}` } }));
    expect(closed.Item?.GSI1PK).toBeUndefined();
    expect(await deps.store.listOpenReviewsOfGroup(s.group)).toEqual([]);
    const rev = closed.Item?.rev;
    const again = await removeReviewer(deps, { modelPackageGroupName: s.group, reviewer: LEAD, requiredApprovals: 1, changedBy: ADMIN });
    expect(again.openReviews).toEqual([]);
    expect((await table.doc.send(new GetCommand({ TableName: table.tableName, Key: { PK: `GROUP#${s.group}`, SK: `REVIEW#0000000001#${open.id}` } }))).Item?.rev).toBe(rev);
  });
});

describe('addReviewer reaches the open reviews', () => {
  it('sends the new reviewer a link of their own, through the committed effects, and the link works', async () => {
    const { s } = await openSampleReview(deps, { sm, sns }, 'addlink');
    const auditBefore = await chain(s.group);

    const added = await addReviewer(deps, { modelPackageGroupName: s.group, reviewer: NEW, changedBy: ADMIN, reason: 'MRM-2291' });

    expect(added.openReviews).toEqual([expect.objectContaining({ change: 'added', linkSent: true, modelPackageArn: s.arn(1) })]);
    expect(sns.commandCalls(SubscribeCommand)).toHaveLength(1);
    const messages = published();
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({
      TopicArn: TOPICS.reviewers,
      Subject: `Review requested: ${s.group} v1`,
      MessageAttributes: { reviewer: { DataType: 'String', StringValue: NEW }, event: { DataType: 'String', StringValue: 'review-requested' } },
    });
    const token = reviewTokens(messages)[NEW] ?? '';
    expect(token).not.toBe('');
    const review = await reviewOf(s.group);
    expect(review.reviewers).toEqual([RISK, LEAD, NEW]);
    expect(review.links[NEW]).toBe(linkIdOf(token));
    expect(await deps.store.getReviewLink(linkIdOf(token))).toMatchObject({ reviewer: NEW, reviewId: review.id, expiresAt: review.expiresAt });
    // Committed as a pending effect on the version, then carried out and settled.
    expect((await deps.store.getVersion({ group: s.group, version: 1 }))?.pendingEffects).toEqual({});
    expect(addedEntries(auditBefore, await chain(s.group)).at(-1)).toMatchObject({
      action: 'review.reviewer-added',
      subject: s.arn(1),
      actor: ADMIN,
      detail: { reviewer: NEW, linkId: linkIdOf(token) },
    });

    expect((await showReview(deps, token)).status).toBe(200);
    const vote = await submitVote(deps, token, { decision: 'approve' });
    expect(vote.status).toBe(200);
    expect((await reviewOf(s.group)).votes[NEW]).toMatchObject({ decision: 'approve' });

    // Adding them again changes nothing and sends nothing.
    sns.resetHistory();
    const again = await addReviewer(deps, { modelPackageGroupName: s.group, reviewer: NEW, changedBy: ADMIN });
    expect(again).toMatchObject({ outcome: 'unchanged', openReviews: [] });
    expect(published()).toHaveLength(0);
  });

  it('a reviewer removed and added again gets a new link; the revoked one stays refused', async () => {
    const { s, tokens } = await openSampleReview(deps, { sm, sns }, 'readd', three);
    await removeReviewer(deps, { modelPackageGroupName: s.group, reviewer: LEAD, changedBy: ADMIN });
    sns.resetHistory();

    await addReviewer(deps, { modelPackageGroupName: s.group, reviewer: LEAD, changedBy: ADMIN });

    const fresh = reviewTokens(published())[LEAD] ?? '';
    expect(linkIdOf(fresh)).not.toBe(linkIdOf(tokens[LEAD] ?? ''));
    expect((await submitVote(deps, tokens[LEAD] ?? '', { decision: 'approve' })).status).toBe(403);
    expect((await submitVote(deps, fresh, { decision: 'approve' })).status).toBe(200);
    expect(Object.keys((await reviewOf(s.group)).votes)).toEqual([LEAD]);
  });
});

describe('the sweep after a reviewer change', () => {
  // The sweep works across all groups: a table of its own.
  let own: TestTable;
  let local: Deps;
  beforeEach(async () => {
    own = await newTable('reviewer-sweep');
    local = testDeps(own.client, own.tableName, clock);
  });
  afterEach(() => own.drop());

  it('sends no reminder to a removed reviewer, and reminds an added one a period after their link', async () => {
    const { s } = await openSampleReview(local, { sm, sns }, 'rmsweep', three);
    await removeReviewer(local, { modelPackageGroupName: s.group, reviewer: LEAD, changedBy: ADMIN });
    clock.now = T0 + 2 * HOUR;
    await addReviewer(local, { modelPackageGroupName: s.group, reviewer: NEW, changedBy: ADMIN });
    sns.resetHistory();

    clock.now = T0 + 24 * HOUR;
    const report = await sweepReviews(local);

    expect(report).toMatchObject({ reminded: 2, failures: [] });
    const reminded = published().map((m) => m.MessageAttributes?.reviewer?.StringValue);
    expect(reminded.sort()).toEqual([CHIEF, RISK].sort());

    sns.resetHistory();
    clock.now = T0 + 26 * HOUR;
    await sweepReviews(local);
    expect(published().map((m) => m.MessageAttributes?.reviewer?.StringValue)).toEqual([NEW]);
  });
});

describe('putPolicy that drops a reviewer', () => {
  it("revokes the dropped reviewer's unused link like removeReviewer: 403, audited, no vote, no reminder", async () => {
    const { s, tokens } = await openSampleReview(deps, { sm, sns }, 'putdrop', three);
    const auditBefore = await chain(s.group);

    const changed = await putPolicy(deps, s.policy({ ...three, reviewers: [RISK, CHIEF], changedBy: ADMIN, reason: 'ml-lead moved teams' }));

    expect(changed.outcome).toBe('created');
    expect(changed.openReviews).toEqual([expect.objectContaining({ change: 'removed', linkRevoked: true, modelPackageArn: s.arn(1) })]);
    const post = await submitVote(deps, tokens[LEAD] ?? '', { decision: 'approve' });
    expect(post.status).toBe(403);
    expect(post.body).toContain('data-kind="revoked"');
    expect((await reviewOf(s.group)).votes).toEqual({});
    expect(updates()).toEqual([]);
    const actions = addedEntries(auditBefore, await chain(s.group)).map((e) => e.action);
    expect(actions).toEqual(['policy.changed', 'review.reviewer-removed', 'review.refused']);

    clock.now = T0 + 25 * HOUR;
    await sweepReviews(deps);
    expect(published().filter((m) => m.Subject?.includes(s.group)).map((m) => m.MessageAttributes?.reviewer?.StringValue).sort()).toEqual([CHIEF, RISK]);
  });

  it('refuses the link at once, even where the open review still lists the reviewer', async () => {
    const { s, tokens } = await openSampleReview(deps, { sm, sns }, 'putfirst', three);
    // The policy changes, but its open reviews are not reached (an interrupted call): the policy decides.
    const policyOnly = { ...deps, store: { ...deps.store, listOpenReviewsOfGroup: async () => [] } };
    await putPolicy(policyOnly, s.policy({ ...three, reviewers: [RISK, CHIEF], changedBy: ADMIN }));
    expect((await reviewOf(s.group)).reviewers).toEqual([RISK, LEAD, CHIEF]);

    const post = await submitVote(deps, tokens[LEAD] ?? '', { decision: 'approve' });

    expect(post.status).toBe(403);
    expect((await reviewOf(s.group)).votes).toEqual({});
    clock.now = T0 + 25 * HOUR;
    await sweepReviews(deps);
    expect(published().filter((m) => m.Subject?.includes(s.group)).map((m) => m.MessageAttributes?.reviewer?.StringValue).sort()).toEqual([CHIEF, RISK]);
  });
});
