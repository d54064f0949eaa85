import { REVIEW_LINKS_SCOPE, auditEntries, groupScope, type AuditEvent } from '../domain/audit.js';
import { EFFECT_LEASE_MS } from '../domain/effects.js';
import { SideEffectFailed } from '../domain/errors.js';
import { castVote, decisionEffect, type ReviewLink, type ReviewRequest } from '../domain/review.js';
import { reviewerHash, verifyReviewToken, type VerifiedClaims } from '../domain/token.js';
import type { ModelVersion } from '../domain/version.js';
import type { Deps, ReviewContext } from '../ports.js';
import type { RefusalModel, ReviewPageModel } from '../web/views.js';
import { renderConfirmation, renderRefusal, renderReviewPage } from '../web/pages.js';
import { logger } from '../logger.js';
import { carryOut } from './effects.js';
import { untilCommitted } from './retry.js';

/** An HTML answer: the status and the page. Headers are the handler's business. */
export interface HtmlResult {
  status: number;
  body: string;
}


type Authorized = { claims: VerifiedClaims; ctx: ReviewContext & { link: ReviewLink; review: ReviewRequest & { rev: number }; version: ModelVersion & { rev: number } } };

/**
 * Verifies the token, reads the link, the review and the version (one BatchGetItem), and checks
 * that they are what the token was signed for, that the link is unused and the review open.
 * Every refusal is audited (never with the token) and answered with its own page.
 */
async function authorize(deps: Deps, token: string, method: 'GET' | 'POST'): Promise<Authorized | HtmlResult> {
  const now = deps.clock.now();
  const verdict = verifyReviewToken(token, await deps.keys.keyRing(), Math.floor(now / 1000));
  if (!verdict.ok) {
    const kind = verdict.reason === 'expired' ? 'expired' : 'refused';
    await auditRefusal(deps, REVIEW_LINKS_SCOPE, { kind, reason: verdict.reason, method }, 'review-links', 'unknown');
    return refusal({ kind });
  }
  const { claims } = verdict;
  const group = groupOf(claims.modelPackageArn);
  const ctx = await deps.store.loadReviewContext({ linkId: claims.linkId, group, version: claims.version, reviewId: claims.reviewId });
  const { link, review, version } = ctx;
  const scope = groupScope(group);
  const bound =
    link !== undefined &&
    review !== undefined &&
    version !== undefined &&
    link.reviewId === claims.reviewId &&
    link.modelPackageArn === claims.modelPackageArn &&
    link.version === claims.version &&
    reviewerHash(link.reviewer) === claims.reviewerHash &&
    Math.floor(Date.parse(link.expiresAt) / 1000) === claims.expiresAt &&
    review.modelPackageArn === claims.modelPackageArn &&
    review.version === claims.version &&
    version.arn === claims.modelPackageArn;
  if (!bound) {
    // A valid signature over claims that do not match the records: a link for another version.
    await auditRefusal(deps, scope, { kind: 'refused', reason: 'claims do not match the link', method, linkId: claims.linkId }, claims.modelPackageArn, link?.reviewer ?? 'unknown');
    return refusal({ kind: 'refused' });
  }
  // Removed from the review: the link is revoked. Defensively, an unused link whose reviewer the
  // review or the group's current policy no longer names decides nothing either (a policy change
  // that dropped them takes effect at once, even before its open reviews were updated).
  const dropped = !review.reviewers.includes(link.reviewer) || (ctx.policy !== undefined && !ctx.policy.reviewers.includes(link.reviewer));
  if (link.revokedAt || (!link.usedAt && dropped)) {
    await auditRefusal(deps, scope, { kind: 'revoked', method, linkId: link.id, revokedAt: link.revokedAt ?? null }, review.modelPackageArn, link.reviewer);
    return refusal({ kind: 'revoked' });
  }
  if (link.usedAt) {
    await auditRefusal(deps, scope, { kind: 'used', method, linkId: link.id, usedAt: link.usedAt }, review.modelPackageArn, link.reviewer);
    return refusal({ kind: 'used', by: link.reviewer, at: link.usedAt, ...(link.vote ? { status: link.vote.decision } : {}) });
  }
  if (review.status !== 'Open') {
    await auditRefusal(deps, scope, { kind: 'closed', method, linkId: link.id, status: review.status }, review.modelPackageArn, link.reviewer);
    return refusal({ kind: 'closed', status: review.status });
  }
  return { claims, ctx: { ...ctx, link, review, version } };
}

/** GET: the evidence on one page. Changes nothing (refusals are audited). */
export async function showReview(deps: Deps, token: string): Promise<HtmlResult> {
  const auth = await authorize(deps, token, 'GET');
  if ('status' in auth) return auth;
  const { link, review, version } = auth.ctx;
  const job = version.job ? await deps.store.getTrainingJob(version.job.name) : undefined;
  const body = renderReviewPage(pageModel(review, link, version, job));
  // The review id, never the token: Logs Insights finds one review's requests by it.
  logger.info('review page shown', { reviewId: review.id, modelPackageArn: review.modelPackageArn });
  return { status: 200, body };
}

/** The group named by a model package ARN (`…:model-package/<group>/<version>`). */
function groupOf(modelPackageArn: string): string {
  return /:model-package\/([^/]+)\/\d+$/.exec(modelPackageArn)?.[1] ?? '';
}

/**
 * A POST that another site's page sent (see `shared/web/request.ts`): refused before anything is
 * read or decided, and audited. A token that verifies names the scope (its group's, with the link
 * id); otherwise the refusal goes to the `review-links` scope. The sender is not the reviewer, so
 * the actor is `unknown`.
 */
export async function refuseCrossSite(deps: Deps, token: string, reason: string): Promise<HtmlResult> {
  const verdict = verifyReviewToken(token, await deps.keys.keyRing(), Math.floor(deps.clock.now() / 1000));
  const detail = { kind: 'cross-site', method: 'POST', reason };
  if (verdict.ok) {
    const { modelPackageArn, linkId } = verdict.claims;
    await auditRefusal(deps, groupScope(groupOf(modelPackageArn)), { ...detail, linkId }, modelPackageArn, 'unknown');
  } else {
    await auditRefusal(deps, REVIEW_LINKS_SCOPE, { ...detail, token: verdict.reason }, 'review-links', 'unknown');
  }
  return refusal({ kind: 'cross-site' });
}

export interface VoteForm {
  decision?: string;
  comment?: string;
}

/**
 * POST: the vote. The link is consumed, the vote recorded and, when it decides, the version's
 * decision and its registry update committed, all in one transaction; then UpdateModelPackage is
 * sent once, with its ClientToken. Round trips: one read, one transaction, one settle.
 */
export async function submitVote(deps: Deps, token: string, form: VoteForm): Promise<HtmlResult> {
  return untilCommitted<HtmlResult>(async () => {
    const auth = await authorize(deps, token, 'POST');
    if ('status' in auth) return { result: 'committed', value: auth };
    const { link, review, version } = auth.ctx;
    const decision = form.decision === 'approve' || form.decision === 'reject' ? form.decision : undefined;
    const now = deps.clock.now();
    const outcome = decision
      ? castVote({ review, link, vote: { decision, ...(form.comment ? { comment: form.comment } : {}) }, version, now, newId: deps.newId })
      : ({ kind: 'refused', refusal: 'bad-request', message: 'Choose Approve or Reject.' } as const);
    if (outcome.kind === 'refused') {
      await auditRefusal(deps, groupScope(review.group), { kind: outcome.refusal, method: 'POST', linkId: link.id, reason: outcome.message }, review.modelPackageArn, link.reviewer);
      return { result: 'committed', value: refusal({ kind: outcome.refusal, message: outcome.message }) };
    }
    const events: AuditEvent[] = [
      {
        action: 'review.vote',
        subject: review.modelPackageArn,
        actor: link.reviewer,
        detail: { reviewId: review.id, decision: outcome.link.vote?.decision ?? null, comment: outcome.link.vote?.comment ?? null },
      },
    ];
    let decided: { version: ModelVersion; expectedRev: number } | undefined;
    let effect;
    if (outcome.decision) {
      effect = decisionEffect(outcome.review, outcome.decision);
      events.push({
        action: 'review.decided',
        subject: review.modelPackageArn,
        actor: 'modelgate',
        detail: { reviewId: review.id, decisionId: outcome.decision.id, outcome: outcome.decision.outcome, approvers: outcome.decision.approvers, policyVersion: outcome.decision.policyVersion },
      });
      const { rev, ...current } = version;
      decided = {
        expectedRev: rev,
        version: {
          ...current,
          decision: outcome.decision,
          review: { id: review.id, status: outcome.decision.outcome },
          pendingEffects: { ...current.pendingEffects, [effect.id]: { effect, claimedUntil: now + EFFECT_LEASE_MS, attempts: 1 } },
        },
      };
    }
    const result = await deps.store.commitVote({
      link: outcome.link,
      review: outcome.review,
      expectedReviewRev: review.rev,
      ...(decided ? { version: decided } : {}),
      checkedVersionRev: version.rev,
      audit: auditEntries(groupScope(review.group), events, now, deps.newId),
    });
    if (result === 'conflict') return { result, value: { status: 500, body: '' } };
    logger.info('review vote recorded', { modelPackageArn: review.modelPackageArn, reviewId: review.id, outcome: outcome.kind });
    if (effect) {
      try {
        await carryOut(deps, { group: review.group, version: review.version }, [effect]);
      } catch (e) {
        // The decision is committed and its registry update stays pending: the hourly sweep
        // carries it out (same ClientToken). The reviewer's vote counted either way.
        if (!(e instanceof SideEffectFailed)) throw e;
        logger.warn('registry update after a decision is pending', { modelPackageArn: review.modelPackageArn, decisionId: outcome.decision?.id });
      }
    }
    const approvals = Object.values(outcome.review.votes).filter((v) => v.decision === 'approve').length;
    return {
      result,
      value: {
        status: 200,
        body: renderConfirmation({
          group: review.group,
          version: review.version,
          decision: outcome.link.vote?.decision ?? 'approve',
          outcome: outcome.kind,
          approvals,
          requiredApprovals: review.requiredApprovals,
          ...(outcome.decision ? { decisionId: outcome.decision.id } : {}),
        }),
      },
    };
  });
}

function refusal(m: RefusalModel): HtmlResult {
  return renderRefusal(m);
}

/** Records a refusal in the audit trail, without the token: one new item, which nothing else writes. */
async function auditRefusal(deps: Deps, scope: string, detail: Record<string, unknown>, subject: string, actor: string): Promise<void> {
  const result = await deps.store.appendAudit(auditEntries(scope, [{ action: 'review.refused', subject, actor, detail }], deps.clock.now(), deps.newId));
  // A new random id cannot collide; a conflict here means the table refused the Put itself.
  if (result === 'conflict') throw new Error('the refusal could not be audited');
  logger.warn('review link refused', { scope, subject, kind: detail.kind, reason: detail.reason });
}

function pageModel(
  review: ReviewRequest,
  link: ReviewLink,
  version: ModelVersion,
  job: Awaited<ReturnType<Deps['store']['getTrainingJob']>>,
): ReviewPageModel {
  const selfApproval =
    !review.allowSelfApproval &&
    castVote({ review, link, vote: { decision: 'approve' }, version, now: 0, newId: () => '' }).kind === 'refused';
  return {
    group: version.group,
    version: version.version,
    modelPackageArn: version.arn,
    ...(version.description ? { description: version.description } : {}),
    ...(version.registeredBy ? { registeredBy: version.registeredBy } : {}),
    ...(version.trainedBy ? { trainedBy: version.trainedBy } : {}),
    approvalStatus: version.status,
    metrics: (version.gate?.results ?? []).map((r) => ({
      name: `${r.rule.source}:${r.rule.metric}`,
      comparison: r.rule.comparison,
      threshold: r.rule.threshold,
      actual: r.actual ?? null,
      passed: r.passed,
      ...(r.problem ? { problem: r.problem } : {}),
    })),
    lineage: {
      ...(version.job ? { trainingJob: version.job } : {}),
      datasets: job?.datasets ?? [],
      ...(version.image ? { image: version.image } : {}),
      ...(version.imageDigest ? { imageDigest: version.imageDigest } : {}),
      ...(job ? { hyperparameters: job.hyperparameters } : {}),
    },
    customerMetadata: version.customerMetadata,
    policyVersion: review.policyVersion,
    requiredApprovals: review.requiredApprovals,
    votes: Object.entries(review.votes).map(([reviewer, v]) => ({ reviewer, ...v })),
    reviewer: link.reviewer,
    expiresAt: link.expiresAt,
    canApprove: !selfApproval,
    ...(selfApproval ? { approveBlockedReason: 'You registered or trained this version; its policy does not allow self-approval.' } : {}),
  };
}
