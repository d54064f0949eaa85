import { mockClient } from 'aws-sdk-client-mock';
import { DescribeModelPackageCommand, SageMakerClient, UpdateModelPackageCommand } from '@aws-sdk/client-sagemaker';
import { SNSClient } from '@aws-sdk/client-sns';
import { S3Client } from '@aws-sdk/client-s3';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { REVIEW_LINKS_SCOPE, groupScope } from '../../shared/domain/audit.js';
import { signReviewToken, verifyReviewToken } from '../../shared/domain/token.js';
import type { Deps } from '../../shared/ports.js';
import { handleModelPackageChange } from '../../shared/usecases/gate.js';
import { showReview, submitVote } from '../../shared/usecases/review.js';
import { logVerifies, scopeEntries } from '../support/audit-log.js';
import { newTable, type TestTable } from '../support/dynamo.js';
import { TEST_KEY_RING, openSampleReview, resetMocks, testDeps } from '../support/story.js';

const sm = mockClient(SageMakerClient);
const sns = mockClient(SNSClient);
const s3 = mockClient(S3Client);
const RISK = 'risk-officer@acme-bank.example';
const LEAD = 'ml-lead@acme-bank.example';
const CHIEF = 'chief-risk@acme-bank.example';

let table: TestTable;
const clock = { now: Date.parse('2026-11-27T12:00:00Z') };
let deps: Deps;

beforeAll(async () => {
  table = await newTable('review');
  deps = testDeps(table.client, table.tableName, clock);
});
afterAll(() => table.drop());
beforeEach(() => {
  clock.now = Date.parse('2026-11-27T12:00:00Z');
  resetMocks(sm, sns, s3);
});

const openReviewFor = (prefix: string, policy: Record<string, unknown> = {}) => openSampleReview(deps, { sm, sns }, prefix, policy);

/** Everything a review touches, to show that a request changed nothing. */
async function stateOf(group: string) {
  const items = await table.doc.send(
    new QueryCommand({ TableName: table.tableName, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': `GROUP#${group}` } }),
  );
  return items.Items;
}

async function linkStates(tokens: Record<string, string>) {
  return Promise.all(
    Object.values(tokens).map(async (t) => {
      const v = verifyReviewToken(t, TEST_KEY_RING, 0);
      return v.ok ? deps.store.getReviewLink(v.claims.linkId) : undefined;
    }),
  );
}

const updates = () => sm.commandCalls(UpdateModelPackageCommand).map((c) => c.args[0].input);

async function refusals(group: string) {
  const entries = await scopeEntries(deps, groupScope(group));
  return entries.filter((e) => e.action === 'review.refused');
}

describe('the review page', () => {
  it('GET shows the evidence and changes nothing, however often it is loaded', async () => {
    const { s, tokens } = await openReviewFor('get');
    const before = await stateOf(s.group);
    const linksBefore = await linkStates(tokens);

    const pages = [];
    for (let i = 0; i < 5; i++) pages.push(await showReview(deps, tokens[RISK] ?? ''));

    expect(pages.map((p) => p.status)).toEqual([200, 200, 200, 200, 200]);
    const body = pages[0]?.body ?? '';
    expect(body).toContain('get-detector');
    expect(body).toContain('validation:auc');
    expect(body).toContain('s3://acme-ml-datasets-123456789012/fraud/transactions/2026-11-01/train/');
    expect(body).toContain('sha256:8c1a2f5e0b7d4c3a9e6f1d2b5a8c7e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d');
    expect(body).not.toContain(tokens[RISK]);
    expect(await stateOf(s.group)).toEqual(before);
    expect(await linkStates(tokens)).toEqual(linksBefore);
    expect(updates()).toHaveLength(0);
  });

  it('a link signed with the previous key still opens the page', async () => {
    const { tokens } = await openReviewFor('rotate');
    const v = verifyReviewToken(tokens[LEAD] ?? '', TEST_KEY_RING, 0);
    if (!v.ok) throw new Error('token did not verify');
    const link = await deps.store.getReviewLink(v.claims.linkId);
    if (!link) throw new Error('no link');
    const old = signReviewToken(
      { linkId: link.id, reviewId: link.reviewId, modelPackageArn: link.modelPackageArn, version: link.version, reviewer: link.reviewer, expiresAt: v.claims.expiresAt },
      TEST_KEY_RING.previous ?? TEST_KEY_RING.current,
    );

    expect((await showReview(deps, old)).status).toBe(200);
  });
});

describe('votes and quorum', () => {
  it('approves once the quorum of distinct approvers is met, with one UpdateModelPackage naming the decision', async () => {
    const { s, tokens } = await openReviewFor('quorum');

    const first = await submitVote(deps, tokens[RISK] ?? '', { decision: 'approve', comment: 'metrics and lineage check out' });
    expect(first.status).toBe(200);
    expect(first.body).toContain('1 of 2');
    expect(updates()).toHaveLength(0);

    const second = await submitVote(deps, tokens[LEAD] ?? '', { decision: 'approve' });

    expect(second.status).toBe(200);
    const version = await deps.store.getVersion({ group: s.group, version: 1 });
    const decision = version?.decision;
    expect(decision).toMatchObject({ outcome: 'Approved', approvers: [RISK, LEAD], policyVersion: 1 });
    expect(updates()).toEqual([
      {
        ModelPackageArn: s.arn(1),
        ModelApprovalStatus: 'Approved',
        ApprovalDescription: `modelgate decision ${decision?.id}: approved by ${RISK}, ${LEAD} (policy v1, review ${version?.review?.id})`,
        ClientToken: expect.stringMatching(/^[a-f0-9-]{36}$/),
      },
    ]);
    expect(version?.pendingEffects).toEqual({});

    // The Approved event that follows is explained by the decision: the gate keeps it.
    const approved = { ...s.version('model-package-approved-in-console.json') };
    expect((await handleModelPackageChange(deps, approved)).outcome).toBe('recorded');
    expect(updates()).toHaveLength(1);
    const entries = await scopeEntries(deps, groupScope(s.group));
    expect(entries.map((e) => e.action)).toEqual(expect.arrayContaining(['review.vote', 'review.vote', 'review.decided']));
    expect(await logVerifies(table)).toMatchObject({ ok: true });
  });

  it('a single Reject ends the review at once, and needs a comment', async () => {
    const { s, tokens } = await openReviewFor('reject');
    const before = await stateOf(s.group);

    const noComment = await submitVote(deps, tokens[LEAD] ?? '', { decision: 'reject', comment: '   ' });
    expect(noComment.status).toBe(400);
    expect(await stateOf(s.group)).toEqual(before);

    const rejected = await submitVote(deps, tokens[LEAD] ?? '', { decision: 'reject', comment: 'validation set overlaps training' });

    expect(rejected.status).toBe(200);
    expect(updates()).toEqual([expect.objectContaining({ ModelApprovalStatus: 'Rejected', ApprovalDescription: expect.stringContaining('validation set overlaps training') })]);
    expect((await deps.store.getVersion({ group: s.group, version: 1 }))?.decision?.outcome).toBe('Rejected');
  });
});

describe('refusals: exact status, nothing changed, audited without the token', () => {
  async function expectRefused(prefix: string, act: (ctx: Awaited<ReturnType<typeof openReviewFor>>) => Promise<{ status: number; body: string }>, status: number, says: RegExp) {
    const ctx = await openReviewFor(prefix);
    const before = await stateOf(ctx.s.group);
    const linksBefore = await linkStates(ctx.tokens);
    const auditBefore = (await refusals(ctx.s.group)).length;
    const page = await act(ctx);
    expect(page.status).toBe(status);
    expect(page.body).toMatch(says);
    expect(await stateOf(ctx.s.group)).toEqual(before);
    expect(await linkStates(ctx.tokens)).toEqual(linksBefore);
    const audited = await refusals(ctx.s.group);
    const untrusted = await scopeEntries(deps, REVIEW_LINKS_SCOPE);
    expect(audited.length + untrusted.length).toBeGreaterThan(auditBefore);
    expect(JSON.stringify([audited, untrusted])).not.toContain(Object.values(ctx.tokens)[0]?.split('.')[3]);
    return { ctx, page };
  }

  it('expired: 410', async () => {
    const ctx = await openReviewFor('expired');
    clock.now = Date.parse('2026-11-30T12:00:00Z'); // exactly reviewLifetimeHours later
    const before = await stateOf(ctx.s.group);

    const page = await submitVote(deps, ctx.tokens[RISK] ?? '', { decision: 'approve' });

    expect(page.status).toBe(410);
    expect(page.body).toMatch(/expired/i);
    expect(await stateOf(ctx.s.group)).toEqual(before);
    const audit = await scopeEntries(deps, REVIEW_LINKS_SCOPE);
    expect(JSON.stringify(audit)).not.toContain(ctx.tokens[RISK]);
    expect(audit.at(-1)).toMatchObject({ action: 'review.refused', detail: { kind: 'expired', method: 'POST' } });
  });

  it('used: 409, saying by whom and when', async () => {
    const ctx = await openReviewFor('used');
    await submitVote(deps, ctx.tokens[RISK] ?? '', { decision: 'approve' });
    const before = await stateOf(ctx.s.group);

    const again = await submitVote(deps, ctx.tokens[RISK] ?? '', { decision: 'approve' });
    const view = await showReview(deps, ctx.tokens[RISK] ?? '');

    expect([again.status, view.status]).toEqual([409, 409]);
    expect(again.body).toContain(RISK);
    expect(again.body).toContain('2026-11-27T12:00:00.000Z');
    expect(await stateOf(ctx.s.group)).toEqual(before);
    const audited = await refusals(ctx.s.group);
    expect(audited.map((e) => e.detail.kind)).toEqual(['used', 'used']);
    expect(JSON.stringify(audited)).not.toContain(ctx.tokens[RISK]);
  });

  it('forged: 403', async () => {
    const { page } = await expectRefused('forged', async (ctx) => {
      const [v, kid, payload] = (ctx.tokens[RISK] ?? '').split('.');
      return submitVote(deps, `${v}.${kid}.${payload}.${'A'.repeat(43)}`, { decision: 'approve' });
    }, 403, /refused/i);
    expect(page.body).not.toMatch(/signature|forged|tamper/i);
  });

  it('tampered: 403', async () => {
    await expectRefused('tampered', async (ctx) => {
      const t = ctx.tokens[RISK] ?? '';
      const i = t.indexOf('.', 3) + 5; // a character inside the payload
      const tampered = t.slice(0, i) + (t[i] === 'A' ? 'B' : 'A') + t.slice(i + 1);
      return showReview(deps, tampered);
    }, 403, /refused/i);
  });

  it('a link for another version: 403', async () => {
    const { ctx } = await expectRefused('otherversion', async (c) => {
      const v = verifyReviewToken(c.tokens[RISK] ?? '', TEST_KEY_RING, 0);
      if (!v.ok) throw new Error('token did not verify');
      const link = await deps.store.getReviewLink(v.claims.linkId);
      // Validly signed, but it names version 2 with version 1's link.
      const forOther = signReviewToken(
        { linkId: v.claims.linkId, reviewId: v.claims.reviewId, modelPackageArn: c.s.arn(2), version: 2, reviewer: link?.reviewer ?? RISK, expiresAt: v.claims.expiresAt },
        TEST_KEY_RING.current,
      );
      return submitVote(deps, forOther, { decision: 'approve' });
    }, 403, /refused/i);
    expect((await refusals(ctx.s.group)).at(-1)).toMatchObject({ detail: { kind: 'refused', reason: 'claims do not match the link' } });
  });

  it('review already closed: 409', async () => {
    const ctx = await openReviewFor('closed');
    await submitVote(deps, ctx.tokens[LEAD] ?? '', { decision: 'reject', comment: 'not this one' });
    const before = await stateOf(ctx.s.group);
    sm.resetHistory();

    const page = await submitVote(deps, ctx.tokens[RISK] ?? '', { decision: 'approve' });

    expect(page.status).toBe(409);
    expect(page.body).toMatch(/closed/i);
    expect(page.body).toContain('Rejected');
    expect(await stateOf(ctx.s.group)).toEqual(before);
    expect(updates()).toHaveLength(0);
    expect((await refusals(ctx.s.group)).map((e) => e.detail.kind)).toEqual(['closed']);
  });
});

describe('separation of duties', () => {
  it('refuses an approval by whoever registered the version', async () => {
    sm.on(DescribeModelPackageCommand).resolves({ CreatedBy: { IamIdentity: { Arn: `arn:aws:sts::123456789012:assumed-role/DataScientist/${RISK}` } } });
    const ctx = await openReviewFor('selfreg');
    const before = await stateOf(ctx.s.group);

    const page = await submitVote(deps, ctx.tokens[RISK] ?? '', { decision: 'approve' });
    const view = await showReview(deps, ctx.tokens[RISK] ?? '');

    expect(page.status).toBe(403);
    expect(page.body).toMatch(/self-approval|separation of duties/i);
    expect(await stateOf(ctx.s.group)).toEqual(before);
    expect(view.body).toMatch(/<button[^>]*value="approve"[^>]*disabled|<button[^>]*disabled[^>]*value="approve"/);
    // They may still reject.
    expect((await submitVote(deps, ctx.tokens[RISK] ?? '', { decision: 'reject', comment: 'withdrawing my own model' })).status).toBe(200);
  });

  it('lets the registrant approve when the policy allows self-approval', async () => {
    sm.on(DescribeModelPackageCommand).resolves({ CreatedBy: { IamIdentity: { Arn: `arn:aws:sts::123456789012:assumed-role/DataScientist/${RISK}` } } });
    const ctx = await openReviewFor('selfok', { allowSelfApproval: true });

    expect((await submitVote(deps, ctx.tokens[RISK] ?? '', { decision: 'approve' })).status).toBe(200);
  });
});

describe('concurrency', () => {
  it('twenty parallel POSTs from two approvers and one rejecter give one outcome and at most one registry update', async () => {
    const ctx = await openReviewFor('race', { reviewers: [RISK, LEAD, CHIEF], requiredApprovals: 2 });
    const posts = Array.from({ length: 20 }, (_, i) => {
      const who = [RISK, LEAD, CHIEF][i % 3] ?? RISK;
      const form = who === CHIEF ? { decision: 'reject', comment: 'concerns about drift' } : { decision: 'approve' };
      return submitVote(deps, ctx.tokens[who] ?? '', form);
    });

    const pages = await Promise.all(posts);

    const ok = pages.filter((p) => p.status === 200).length;
    expect(pages.every((p) => p.status === 200 || p.status === 409)).toBe(true);
    const review = (await stateOf(ctx.s.group))?.find((i) => String(i.SK).startsWith('REVIEW#'));
    expect(['Approved', 'Rejected']).toContain(review?.status);
    const votes = Object.keys(review?.votes ?? {});
    expect(ok).toBe(votes.length); // no lost vote, no vote counted twice
    if (review?.status === 'Approved') expect(votes).toEqual(expect.arrayContaining([RISK, LEAD]));
    else expect(votes).toContain(CHIEF);
    expect(updates()).toHaveLength(1);
    expect(updates()[0]?.ModelApprovalStatus).toBe(review?.status);
    const version = await deps.store.getVersion({ group: ctx.s.group, version: 1 });
    expect(version?.decision?.outcome).toBe(review?.status);
  });
});
