import * as z from '../schemas/zod.js';
import { REVIEW_LINKS_SCOPE, auditEntries, groupScope, type AuditEvent } from '../domain/audit.js';
import { EFFECT_LEASE_MS, type SideEffect } from '../domain/effects.js';
import { ModelgateError, NotFound, SideEffectFailed } from '../domain/errors.js';
import { parsePayload } from '../domain/payload.js';
import { nextFreshLinkWindow, reissueLink as planReissue, reissueRefusal, type ReissueRefusal, type ReviewWithFreshLinks } from '../domain/links.js';
import { openReview } from '../domain/review.js';
import { verifyReviewToken, type VerifiedClaims } from '../domain/token.js';
import type { ModelVersion } from '../domain/version.js';
import type { Deps, ReviewContext } from '../ports.js';
import { renderNewLinkRequested, renderRefusal } from '../web/pages.js';
import type { RefusalModel } from '../web/views.js';
import { logger } from '../logger.js';
import { carryOut } from './effects.js';
import { isBound, type HtmlResult } from './review.js';
import { untilCommitted } from './retry.js';

/**
 * Links that can be replaced: a reviewer's "send me a new link" on the review page, and the
 * operators' `reissueLink` and `reopenReview`. Each change is one transaction (the review, the
 * new and the revoked link, the version with the message as a pending effect, the audit entry),
 * conditional on the revs read; the message is then sent through `carryOut`, which signs the token.
 */

/**
 * An operator's request that the state of the review or version does not allow (a decided version,
 * a review still open, a reviewer who already voted). Nothing was written; repeating it does not
 * help, so it is not retried. `reason` is a stable code; the message says it in words.
 */
export class ReviewChangeRefused extends ModelgateError {
  readonly status = 409;
  readonly retryable = false;
  constructor(
    readonly reason: 'no-review' | 'review-open' | 'review-closed' | 'review-expired' | 'decided' | 'not-gated' | 'not-pending' | 'not-a-reviewer' | 'already-voted',
    message: string,
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------------------------------------
// "Send me a new link" (the review page's POST with intent=new-link)
// ---------------------------------------------------------------------------------------------

/**
 * A reviewer asks for a new link. The token's signature must verify, but it may have expired:
 * that is when people ask. A token that cannot be trusted, or whose claims do not match the link,
 * sends nothing and gets the same page as a link that was sent. The new link goes to the link's
 * own reviewer, the only address involved (the request carries none). At most
 * FRESH_LINKS_PER_WINDOW per reviewer per review per 24 h; the count is on the review item.
 */
export async function requestFreshLink(deps: Deps, token: string): Promise<HtmlResult> {
  const now = deps.clock.now();
  // Verified as of time 0, which every expiry follows: the signature and the key are checked, and
  // an expired link still says which link it is. Whether the review is still open is decided below.
  const verdict = verifyReviewToken(token, await deps.keys.keyRing(), 0);
  if (!verdict.ok) {
    await auditRefusal(deps, REVIEW_LINKS_SCOPE, { kind: 'refused', intent: 'new-link', reason: verdict.reason }, 'review-links', 'unknown');
    return renderNewLinkRequested(deps.organisation);
  }
  const { claims } = verdict;
  const group = groupOf(claims.modelPackageArn);
  const scope = groupScope(group);

  const sent = await untilCommitted<{ answer: HtmlResult; effects?: { key: { group: string; version: number }; effects: SideEffect[] } }>(async () => {
    const ctx = await deps.store.loadReviewContext({ linkId: claims.linkId, group, version: claims.version, reviewId: claims.reviewId });
    if (!bound(ctx, claims)) {
      await auditRefusal(deps, scope, { kind: 'refused', intent: 'new-link', reason: 'claims do not match the link', linkId: claims.linkId }, claims.modelPackageArn, ctx.link?.reviewer ?? 'unknown');
      return { result: 'committed', value: { answer: renderNewLinkRequested(deps.organisation) } };
    }
    const reviewer = ctx.link.reviewer;
    const refuse = async (detail: Record<string, unknown>, page: RefusalModel) => {
      await auditRefusal(deps, scope, { intent: 'new-link', linkId: claims.linkId, ...detail }, claims.modelPackageArn, reviewer);
      return { result: 'committed' as const, value: { answer: renderRefusal(page, deps.organisation) } };
    };
    const target = await targetReview(deps, ctx, reviewer, now);
    const refusal = reissueRefusal(target.review, reviewer, target.policy, now);
    if (refusal) return refuse({ ...refusalDetail(refusal), reviewId: target.review.id }, refusalPage(refusal, reviewer));

    const { rev: reviewRev, ...review } = target.review;
    const window = nextFreshLinkWindow(review, reviewer, now);
    if (!window) return refuse({ kind: 'rate-limited', reviewId: review.id }, { kind: 'rate-limited' });

    const { rev: versionRev, ...version } = target.version;
    const planned = planReissue({ review, reviewer, version, now, newId: deps.newId, window });
    const event: AuditEvent = {
      action: 'review.link-reissued',
      subject: review.modelPackageArn,
      actor: reviewer,
      detail: {
        reviewId: review.id,
        reviewer,
        requestedBy: 'reviewer',
        // The link the request came with: on an expired review that an operator reopened, it is the old review's.
        fromLinkId: claims.linkId,
        linkId: planned.link.id,
        revokedLinkId: planned.revokedLinkId ?? null,
        requestsInWindow: window.count,
      },
    };
    const result = await commitReissue(deps, planned, reviewRev, version, versionRev, event, reviewer, now);
    return { result, value: { answer: renderNewLinkRequested(deps.organisation), effects: { key: { group: review.group, version: review.version }, effects: [planned.message] } } };
  });
  if (sent.effects) await sendPending(deps, sent.effects.key, sent.effects.effects, { reviewId: claims.reviewId, modelPackageArn: claims.modelPackageArn });
  return sent.answer;
}

/**
 * The review a new link is for: the token's own review; or, when that one expired and an
 * operator has since reopened the version (reopenReview), the version's current review, read
 * with the version again (a second round, only in that case).
 */
async function targetReview(
  deps: Deps,
  ctx: Bound,
  reviewer: string,
  now: number,
): Promise<{ review: ReviewWithFreshLinks & { rev: number }; version: ModelVersion & { rev: number }; policy: ReviewContext['policy'] }> {
  const own = { review: ctx.review, version: ctx.version, policy: ctx.policy };
  if (reissueRefusal(ctx.review, reviewer, ctx.policy, now)?.kind !== 'expired') return own;
  const current = ctx.version.review;
  if (!current || current.id === ctx.review.id || current.status !== 'Open') return own;
  const next = await deps.store.loadReviewContext({ group: ctx.review.group, version: ctx.review.version, reviewId: current.id });
  return next.review && next.version ? { review: next.review, version: next.version, policy: next.policy } : own;
}

// ---------------------------------------------------------------------------------------------
// Operators: reissueLink, reopenReview
// ---------------------------------------------------------------------------------------------

const MODEL_PACKAGE_ARN = /* @__PURE__ */ z.schema(() => z
  .string()
  .check(
    z.regex(/^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package\/[^/]+\/\d+$/, 'must be a versioned model package ARN'),
    z.describe('a versioned model package ARN (arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>)'),
  ));
const ChangedBy = /* @__PURE__ */ z.schema(() => z.string().check(z.minLength(1), z.maxLength(256), z.describe('who asks for the change (an IAM principal ARN or a name)')));

const ReissueRequestSchema = /* @__PURE__ */ z.schema(() => z.strictObject({
  modelPackageArn: MODEL_PACKAGE_ARN,
  reviewer: z.email().check(z.describe('the reviewer\'s email address')),
  changedBy: ChangedBy,
  reason: z.optional(z.string().check(z.maxLength(1024))),
}));

const ReopenRequestSchema = /* @__PURE__ */ z.schema(() => z.strictObject({
  modelPackageArn: MODEL_PACKAGE_ARN,
  changedBy: ChangedBy,
  reason: z.optional(z.string().check(z.maxLength(1024))),
}));

export interface ReissueLinkResult {
  outcome: 'reissued';
  modelPackageArn: string;
  reviewId: string;
  reviewer: string;
  linkId: string;
  /** The reviewer's link until now, revoked in the same transaction. */
  revokedLinkId?: string;
  expiresAt: string;
  /** The message could not be sent yet: it stays pending and the hourly sweep sends it. */
  effectsPending?: boolean;
}

/**
 * Operator: sends a reviewer a new link to the version's open review and revokes their current
 * one (a lost or forwarded mail). Not rate-limited, and not counted against the reviewer's own
 * requests; audited with the operator (`changedBy`) as the actor.
 */
export async function reissueLink(deps: Deps, payload: unknown): Promise<ReissueLinkResult> {
  const data = parsePayload(ReissueRequestSchema, payload, 'reissueLink request');
  const req = { ...data, reviewer: data.reviewer.toLowerCase() };
  const key = versionKey(req.modelPackageArn);
  const done = await untilCommitted<{ result: ReissueLinkResult; effects: SideEffect[] }>(async () => {
    const version = await deps.store.getVersion(key);
    if (!version || version.arn !== req.modelPackageArn) throw new NotFound(`modelgate has no record of ${req.modelPackageArn}`);
    if (!version.review) throw new ReviewChangeRefused('no-review', `${req.modelPackageArn} has no review: a review opens when a version passes its gate`);
    const ctx = await deps.store.loadReviewContext({ ...key, reviewId: version.review.id });
    if (!ctx.review || !ctx.version) throw new NotFound(`the review ${version.review.id} of ${req.modelPackageArn} is not recorded`);
    const now = deps.clock.now();
    const refusal = reissueRefusal(ctx.review, req.reviewer, ctx.policy, now);
    if (refusal) throw operatorRefusal(refusal, req.reviewer, req.modelPackageArn);
    const { rev: reviewRev, ...review } = ctx.review as ReviewWithFreshLinks & { rev: number };
    const { rev: versionRev, ...current } = ctx.version;
    const planned = planReissue({ review, reviewer: req.reviewer, version: current, now, newId: deps.newId });
    const event: AuditEvent = {
      action: 'review.link-reissued',
      subject: review.modelPackageArn,
      actor: req.changedBy,
      detail: {
        reviewId: review.id,
        reviewer: req.reviewer,
        requestedBy: 'operator',
        linkId: planned.link.id,
        revokedLinkId: planned.revokedLinkId ?? null,
        reason: req.reason ?? null,
      },
    };
    const result = await commitReissue(deps, planned, reviewRev, current, versionRev, event, req.changedBy, now);
    return {
      result,
      value: {
        result: {
          outcome: 'reissued',
          modelPackageArn: review.modelPackageArn,
          reviewId: review.id,
          reviewer: req.reviewer,
          linkId: planned.link.id,
          ...(planned.revokedLinkId ? { revokedLinkId: planned.revokedLinkId } : {}),
          expiresAt: review.expiresAt,
        },
        effects: [planned.message],
      },
    };
  });
  const pending = await sendPending(deps, key, done.effects, { reviewId: done.result.reviewId, modelPackageArn: done.result.modelPackageArn });
  return { ...done.result, ...(pending ? { effectsPending: true } : {}) };
}

export interface ReopenReviewResult {
  outcome: 'reopened';
  modelPackageArn: string;
  previousReviewId: string;
  reviewId: string;
  policyVersion: number;
  reviewers: string[];
  requiredApprovals: number;
  expiresAt: string;
  effectsPending?: boolean;
}

/**
 * Operator: opens a new review for a version whose latest review expired, under the group's
 * CURRENT policy (its reviewers, quorum, lifetime and reminders), and mails each reviewer a link.
 * Only for a version that passed its gate, has no decision, and is still PendingManualApproval
 * in the registry as last observed. The gate is not evaluated again: the version passed it (the
 * messages name the policy version it passed under; the review records the one it opens under).
 */
export async function reopenReview(deps: Deps, payload: unknown): Promise<ReopenReviewResult> {
  const req = parsePayload(ReopenRequestSchema, payload, 'reopenReview request');
  const key = versionKey(req.modelPackageArn);
  const done = await untilCommitted<{ result: ReopenReviewResult; effects: SideEffect[] }>(async () => {
    const found = await deps.store.getVersion(key);
    if (!found || found.arn !== req.modelPackageArn) throw new NotFound(`modelgate has no record of ${req.modelPackageArn}`);
    const arn = req.modelPackageArn;
    if (found.decision) throw new ReviewChangeRefused('decided', `${arn} was decided (${found.decision.outcome}, decision ${found.decision.id}): a decided version is not reviewed again`);
    if (found.gateState !== 'passed' || !found.gate?.passed) {
      throw new ReviewChangeRefused('not-gated', `${arn} has not passed its gate (gate state: ${found.gateState ?? 'never gated'}): only a version that passed opens a review`);
    }
    if (!found.review) throw new ReviewChangeRefused('no-review', `${arn} has no review to reopen`);
    const ctx = await deps.store.loadReviewContext({ ...key, reviewId: found.review.id });
    if (!ctx.review || !ctx.version) throw new NotFound(`the review ${found.review.id} of ${arn} is not recorded`);
    const { rev: versionRev, ...version } = ctx.version;
    const previous = ctx.review;
    const now = deps.clock.now();
    if (previous.status === 'Open') {
      throw new ReviewChangeRefused(
        'review-open',
        now < Date.parse(previous.expiresAt)
          ? `the review ${previous.id} of ${arn} is still open, until ${previous.expiresAt}`
          : `the review ${previous.id} of ${arn} ended at ${previous.expiresAt}, but the hourly sweep has not closed it yet: run sweepReviews, then reopen`,
      );
    }
    if (previous.status !== 'Expired') throw new ReviewChangeRefused('review-closed', `the review ${previous.id} of ${arn} is ${previous.status}, not Expired`);
    // Checked on the version read with the review (one round later than `found`).
    if (version.decision) throw new ReviewChangeRefused('decided', `${arn} was decided (${version.decision.outcome})`);
    if (version.status !== 'PendingManualApproval') {
      throw new ReviewChangeRefused('not-pending', `${arn} is ${version.status} in the registry, not PendingManualApproval`);
    }
    if (!version.gate) throw new ReviewChangeRefused('not-gated', `${arn} has no gate result`);
    const policy = ctx.policy;
    if (!policy) throw new NotFound(`no policy for model package group ${version.group}: put one first`);

    const opened = openReview({ version, policy, gate: version.gate, now, newId: deps.newId });
    const next: ModelVersion = {
      ...version,
      review: { id: opened.review.id, status: 'Open' },
      pendingEffects: { ...version.pendingEffects, ...pendingOf(opened.messages, now) },
    };
    const audit = auditEntries(
      groupScope(version.group),
      [
        {
          action: 'review.reopened',
          subject: arn,
          actor: req.changedBy,
          detail: {
            previousReviewId: previous.id,
            reviewId: opened.review.id,
            policyVersion: policy.version,
            reviewers: opened.review.reviewers,
            requiredApprovals: opened.review.requiredApprovals,
            expiresAt: opened.review.expiresAt,
            reason: req.reason ?? null,
          },
        },
      ],
      now,
      deps.newId,
    );
    const committed = await deps.store.commitVersionChange({ version: next, expectedRev: versionRev, audit, review: { review: opened.review, links: opened.links } });
    return {
      result: committed === 'committed' ? 'committed' : 'conflict',
      value: {
        result: {
          outcome: 'reopened',
          modelPackageArn: arn,
          previousReviewId: previous.id,
          reviewId: opened.review.id,
          policyVersion: policy.version,
          reviewers: opened.review.reviewers,
          requiredApprovals: opened.review.requiredApprovals,
          expiresAt: opened.review.expiresAt,
        },
        effects: opened.messages,
      },
    };
  });
  const pending = await sendPending(deps, key, done.effects, { reviewId: done.result.reviewId, modelPackageArn: done.result.modelPackageArn });
  return { ...done.result, ...(pending ? { effectsPending: true } : {}) };
}

// ---------------------------------------------------------------------------------------------
// Shared
// ---------------------------------------------------------------------------------------------

type Bound = ReviewContext & { link: NonNullable<ReviewContext['link']>; review: ReviewWithFreshLinks & { rev: number }; version: ModelVersion & { rev: number } };

/** The same binding the review page checks (usecases/review.ts `isBound`): the records are the ones the token was signed for. */
function bound(ctx: ReviewContext, claims: VerifiedClaims): ctx is Bound {
  return isBound(ctx, claims);
}

/** One transaction: the review (links, count), the new link, the revoked one, the version with the message pending, the audit entry. */
async function commitReissue(
  deps: Deps,
  planned: ReturnType<typeof planReissue>,
  reviewRev: number,
  version: ModelVersion,
  versionRev: number,
  event: AuditEvent,
  by: string,
  now: number,
) {
  return deps.store.commitReviewerMembership({
    review: planned.review,
    expectedReviewRev: reviewRev,
    addLinks: [planned.link],
    ...(planned.revokedLinkId ? { revokeLink: { id: planned.revokedLinkId, at: new Date(now).toISOString(), by } } : {}),
    version: { version: { ...version, pendingEffects: { ...version.pendingEffects, ...pendingOf([planned.message], now) } }, expectedRev: versionRev },
    audit: auditEntries(groupScope(planned.review.group), [event], now, deps.newId),
  });
}

function pendingOf(effects: SideEffect[], now: number) {
  return Object.fromEntries(effects.map((e) => [e.id, { effect: e, claimedUntil: now + EFFECT_LEASE_MS, attempts: 1, since: now }]));
}

/** Carries out the committed messages; one that fails stays pending (the sweep sends it). Returns whether any is pending. */
async function sendPending(deps: Deps, key: { group: string; version: number }, effects: SideEffect[], ids: { reviewId: string; modelPackageArn: string }): Promise<boolean> {
  try {
    await carryOut(deps, key, effects);
    return false;
  } catch (e) {
    if (!(e instanceof SideEffectFailed)) throw e;
    logger.warn('new review link: message pending', ids);
    return true;
  }
}

function refusalDetail(r: ReissueRefusal): Record<string, unknown> {
  switch (r.kind) {
    case 'closed':
      return { kind: 'closed', status: r.status };
    case 'expired':
      return { kind: 'expired', expiresAt: r.expiresAt };
    case 'revoked':
      return { kind: 'revoked' };
    case 'used':
      return { kind: 'used', usedAt: r.at };
  }
}

function refusalPage(r: ReissueRefusal, reviewer: string): RefusalModel {
  switch (r.kind) {
    case 'closed':
      return { kind: 'closed', status: r.status };
    case 'expired':
      return { kind: 'review-expired', at: r.expiresAt };
    case 'revoked':
      return { kind: 'revoked' };
    case 'used':
      return { kind: 'used', by: reviewer, at: r.at, status: r.decision };
  }
}

function operatorRefusal(r: ReissueRefusal, reviewer: string, arn: string): ReviewChangeRefused {
  switch (r.kind) {
    case 'closed':
      return new ReviewChangeRefused('review-closed', `the review of ${arn} is ${r.status}: no link to reissue`);
    case 'expired':
      return new ReviewChangeRefused('review-expired', `the review of ${arn} expired at ${r.expiresAt}: use reopenReview`);
    case 'revoked':
      return new ReviewChangeRefused('not-a-reviewer', `${reviewer} is not a reviewer of ${arn} (the review or the group's current policy does not name them)`);
    case 'used':
      return new ReviewChangeRefused('already-voted', `${reviewer} already voted on ${arn} (${r.decision}, at ${r.at})`);
  }
}

/** Records a refusal without the token: one new item, which nothing else writes. */
async function auditRefusal(deps: Deps, scope: string, detail: Record<string, unknown>, subject: string, actor: string): Promise<void> {
  const result = await deps.store.appendAudit(auditEntries(scope, [{ action: 'review.refused', subject, actor, detail }], deps.clock.now(), deps.newId));
  if (result === 'conflict') throw new Error('the refusal could not be audited');
  logger.warn('new review link refused', { scope, subject, kind: detail.kind, reason: detail.reason });
}

/** The group named by a model package ARN (`…:model-package/<group>/<version>`). */
function groupOf(modelPackageArn: string): string {
  return /:model-package\/([^/]+)\/\d+$/.exec(modelPackageArn)?.[1] ?? '';
}

function versionKey(arn: string): { group: string; version: number } {
  const [group, version] = arn.split('/').slice(-2);
  return { group: group ?? '', version: Number(version) };
}
