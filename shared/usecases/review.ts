import { REVIEW_LINKS_SCOPE, auditEntries, groupScope, type AuditEvent } from '../domain/audit.js';
import { EFFECT_LEASE_MS } from '../domain/effects.js';
import { SideEffectFailed } from '../domain/errors.js';
import { castVote, decisionEffect, type ReviewLink, type ReviewRequest, type VoterSignIn } from '../domain/review.js';
import { reviewerHash, verifyReviewToken, type VerifiedClaims } from '../domain/token.js';
import type { ModelVersion } from '../domain/version.js';
import type { Deps, ReviewContext } from '../ports.js';
import type { RefusalModel, ReviewPageModel } from '../web/views.js';
import { renderConfirmation, renderRefusal, renderReviewPage } from '../web/pages.js';
import { compareWithProduction, evidenceOf } from '../domain/evidence.js';
import { checkSelfApproval, resolveIdentity } from '../domain/identity.js';
import { reviewersFor, type IdentityMap } from '../domain/policy.js';
import { stageOf } from '../domain/version.js';
import { logger } from '../logger.js';
import { carryOut } from './effects.js';
import { untilCommitted } from './retry.js';
import { recordVote } from '../metrics.js';

/** An HTML answer: the status and the page; a redirect's target and cookies to set, for the handler to send. */
export interface HtmlResult {
  status: number;
  body: string;
  location?: string;
  cookies?: string[];
  /** Origins the page's form may also be sent (or redirected) to, besides its own (CSP `form-action`). */
  formActions?: string[];
}

/**
 * `reviewAuth: oidc` (shared/usecases/sign-in.ts): after the link checks, whether the request's
 * session may see the evidence and vote. `refuse` answers instead (the sign-in step, or a refusal
 * already audited); otherwise the vote records who signed in, and `cookies` go with the answer.
 */
export type SignInGate = (auth: Authorized) => Promise<{ refuse: HtmlResult } | { signedIn: VoterSignIn & { identity: string }; cookies?: string[] }>;

export type Authorized = { claims: VerifiedClaims; ctx: ReviewContext & { link: ReviewLink; review: ReviewRequest & { rev: number }; version: ModelVersion & { rev: number } } };

/**
 * Verifies the token, reads the link, the review and the version (one BatchGetItem), and checks
 * that they are what the token was signed for, that the link is unused and the review open.
 * Every refusal is audited (never with the token) and answered with its own page.
 */
export async function authorize(deps: Deps, token: string, method: 'GET' | 'POST'): Promise<Authorized | HtmlResult> {
  const now = deps.clock.now();
  const verdict = verifyReviewToken(token, await deps.keys.keyRing(), Math.floor(now / 1000));
  if (!verdict.ok) {
    const kind = verdict.reason === 'expired' ? 'expired' : 'refused';
    await auditRefusal(deps, REVIEW_LINKS_SCOPE, { kind, reason: verdict.reason, method }, 'review-links', 'unknown');
    return refusal(deps, { kind });
  }
  const { claims } = verdict;
  const group = groupOf(claims.modelPackageArn);
  const ctx = await deps.store.loadReviewContext({ linkId: claims.linkId, group, version: claims.version, reviewId: claims.reviewId });
  const { link, review, version } = ctx;
  const scope = groupScope(group);
  if (!link || !review || !version || !isBound(ctx, claims)) {
    // A valid signature over claims that do not match the records: a link for another version.
    await auditRefusal(deps, scope, { kind: 'refused', reason: 'claims do not match the link', method, linkId: claims.linkId }, claims.modelPackageArn, link?.reviewer ?? 'unknown');
    return refusal(deps, { kind: 'refused' });
  }
  // Removed from the review: the link is revoked. Defensively, an unused link whose reviewer the
  // review or the group's current policy no longer names decides nothing either (a policy change
  // that dropped them takes effect at once, even before its open reviews were updated).
  // A stage review's reviewers are its stage section's (a policy that no longer governs the stage names none).
  const dropped = !review.reviewers.includes(link.reviewer) || (ctx.policy !== undefined && !reviewersFor(ctx.policy, review.stage).includes(link.reviewer));
  if (link.revokedAt || (!link.usedAt && dropped)) {
    await auditRefusal(deps, scope, { kind: 'revoked', method, linkId: link.id, revokedAt: link.revokedAt ?? null }, review.modelPackageArn, link.reviewer);
    return refusal(deps, { kind: 'revoked' });
  }
  if (link.usedAt) {
    await auditRefusal(deps, scope, { kind: 'used', method, linkId: link.id, usedAt: link.usedAt }, review.modelPackageArn, link.reviewer);
    return refusal(deps, { kind: 'used', by: link.reviewer, at: link.usedAt, ...(link.vote ? { status: link.vote.decision } : {}) });
  }
  if (review.status !== 'Open') {
    await auditRefusal(deps, scope, { kind: 'closed', method, linkId: link.id, status: review.status }, review.modelPackageArn, link.reviewer);
    return refusal(deps, { kind: 'closed', status: review.status });
  }
  return { claims, ctx: { ...ctx, link, review, version } };
}

/** Whether the link, the review and the version read are the ones the token was signed for. */
export function isBound(ctx: ReviewContext, claims: VerifiedClaims): boolean {
  const { link, review, version } = ctx;
  return (
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
    version.arn === claims.modelPackageArn
  );
}

/** GET: the evidence on one page. Changes nothing (refusals are audited). */
export async function showReview(deps: Deps, token: string, gate?: SignInGate): Promise<HtmlResult> {
  const auth = await authorize(deps, token, 'GET');
  if ('status' in auth) return auth;
  const signIn = gate ? await gate(auth) : undefined;
  if (signIn && 'refuse' in signIn) return signIn.refuse;
  const { link, review, version } = auth.ctx;
  // The version's job and the version in production (the group's newest Approved one), in parallel.
  const [job, production] = await Promise.all([
    version.job ? deps.store.getTrainingJob(version.job.name) : Promise.resolve(undefined),
    deps.store.newestApprovedVersion(version.group, { except: version.version }),
  ]);
  const model = pageModel(review, link, version, job, { identities: auth.ctx.policy?.identities, production });
  const signedInAs = signIn && 'signedIn' in signIn ? { signedInAs: { identity: signIn.signedIn.identity, issuer: signIn.signedIn.issuer } } : {};
  const body = renderReviewPage({ ...model, ...signedInAs }, deps.organisation);
  // The review id, never the token: Logs Insights finds one review's requests by it.
  logger.info('review page shown', { reviewId: review.id, modelPackageArn: review.modelPackageArn });
  return { status: 200, body };
}

/** The group named by a model package ARN (`…:model-package/<group>/<version>`). */
export function groupOf(modelPackageArn: string): string {
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
  return refusal(deps, { kind: 'cross-site' });
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
export async function submitVote(deps: Deps, token: string, form: VoteForm, gate?: SignInGate): Promise<HtmlResult> {
  return untilCommitted<HtmlResult>(async () => {
    const auth = await authorize(deps, token, 'POST');
    if ('status' in auth) return { result: 'committed', value: auth };
    const signIn = gate ? await gate(auth) : undefined;
    if (signIn && 'refuse' in signIn) return { result: 'committed', value: signIn.refuse };
    const voter = signIn?.signedIn;
    const { link, review, version } = auth.ctx;
    const decision = form.decision === 'approve' || form.decision === 'reject' ? form.decision : undefined;
    const now = deps.clock.now();
    const signedIn = voter ? { issuer: voter.issuer, subject: voter.subject, authTime: voter.authTime } : undefined;
    const outcome = decision
      ? castVote({
          review,
          link,
          vote: { decision, ...(form.comment ? { comment: form.comment } : {}), ...(signedIn ? { signedIn } : {}) },
          version,
          // Separation of duties by the policy's identity map when it has one (shared/domain/identity.ts).
          ...(auth.ctx.policy?.identities ? { identities: auth.ctx.policy.identities } : {}),
          now,
          newId: deps.newId,
        })
      : ({ kind: 'refused', refusal: 'bad-request', message: 'Choose Approve or Reject.' } as const);
    if (outcome.kind === 'refused') {
      await auditRefusal(deps, groupScope(review.group), { kind: outcome.refusal, method: 'POST', linkId: link.id, reason: outcome.message }, review.modelPackageArn, link.reviewer);
      return { result: 'committed', value: refusal(deps, { kind: outcome.refusal, message: outcome.message }) };
    }
    const events: AuditEvent[] = [
      {
        action: 'review.vote',
        subject: review.modelPackageArn,
        actor: link.reviewer,
        detail: {
          reviewId: review.id,
          ...(review.stage !== undefined ? { stage: review.stage } : {}),
          decision: outcome.link.vote?.decision ?? null,
          comment: outcome.link.vote?.comment ?? null,
          // reviewAuth oidc: who the identity provider said signed in, and when they authenticated.
          ...(voter ? { signedIn: { issuer: voter.issuer, subject: voter.subject, identity: voter.identity, authTime: voter.authTime } } : {}),
        },
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
        detail: {
          reviewId: review.id,
          decisionId: outcome.decision.id,
          outcome: outcome.decision.outcome,
          approvers: outcome.decision.approvers,
          policyVersion: outcome.decision.policyVersion,
          ...(effect.kind === 'setStageStatus' ? { stage: effect.stage, setTo: effect.status } : {}),
        },
      });
      const { rev, ...current } = version;
      const closed = { id: review.id, status: outcome.decision.outcome };
      // A stage review decides the stage: its decision explains `<stage>/<approvedStatus>`, and the
      // version's own decision and review are left as they are.
      const governance =
        review.stage === undefined
          ? { decision: outcome.decision, review: closed }
          : { stages: { ...(current.stages ?? {}), [review.stage]: { ...stageOf(current, review.stage), decision: outcome.decision, review: closed } } };
      decided = {
        expectedRev: rev,
        version: {
          ...current,
          ...governance,
          pendingEffects: { ...current.pendingEffects, [effect.id]: { effect, claimedUntil: now + EFFECT_LEASE_MS, attempts: 1, since: now } },
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
    // Counted here, once committed: the handler's answer is a page, which does not say.
    if (outcome.link.vote) recordVote(outcome.link.vote.decision, outcome.decision?.outcome);
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
        ...(signIn && 'cookies' in signIn && signIn.cookies ? { cookies: signIn.cookies } : {}),
        body: renderConfirmation({
          group: review.group,
          version: review.version,
          ...(review.stage !== undefined ? { stage: stageView(review) } : {}),
          decision: outcome.link.vote?.decision ?? 'approve',
          outcome: outcome.kind,
          approvals,
          requiredApprovals: review.requiredApprovals,
          ...(outcome.decision ? { decisionId: outcome.decision.id } : {}),
          ...(outcome.link.vote?.comment ? { comment: outcome.link.vote.comment } : {}),
          ...(outcome.link.vote ? { at: outcome.link.vote.at } : {}),
        }, deps.organisation),
      },
    };
  });
}

function refusal(deps: Pick<Deps, 'organisation'>, m: RefusalModel): HtmlResult {
  return renderRefusal(m, deps.organisation);
}

/** Records a refusal in the audit trail, without the token: one new item, which nothing else writes. */
export async function auditRefusal(deps: Deps, scope: string, detail: Record<string, unknown>, subject: string, actor: string): Promise<void> {
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
  context: {
    /** The group's current policy's identity map (the vote reads the same policy). */
    identities?: IdentityMap | undefined;
    production: Awaited<ReturnType<Deps['store']['newestApprovedVersion']>>;
  },
): ReviewPageModel {
  const { identities, production } = context;
  const check = review.allowSelfApproval ? undefined : checkSelfApproval(link.reviewer, version, identities);
  // The same check castVote makes, so the page disables Approve exactly when a vote would be refused.
  const selfApproval = check?.selfApproval === true;
  const trainerUnknown = version.job
    ? 'the training job carries no Studio user tag (sagemaker:user-profile-arn)'
    : 'no training job is linked to this version';
  return {
    group: version.group,
    version: version.version,
    modelPackageArn: version.arn,
    ...(version.description ? { description: version.description } : {}),
    ...(version.registeredBy ? { registeredBy: version.registeredBy } : {}),
    ...(version.trainedBy ? { trainedBy: version.trainedBy } : {}),
    registrant: resolveIdentity(version.registeredBy, identities, 'SageMaker did not say who registered it (DescribeModelPackage has no CreatedBy)'),
    trainer: resolveIdentity(version.trainedBy, identities, trainerUnknown),
    ...(check ? { selfApprovalCheck: check.method } : {}),
    production: compareWithProduction(evidenceOf(version, job), production ? evidenceOf(production.version, production.job) : undefined),
    approvalStatus: version.status,
    ...(review.stage !== undefined
      ? { stage: { ...stageView(review), ...(version.lifeCycle ? { current: `${version.lifeCycle.stage}/${version.lifeCycle.status}` } : {}) } }
      : {}),
    // A stage review shows the stage's gate; a version's review, the version's.
    metrics: ((review.stage !== undefined ? stageOf(version, review.stage)?.gate : version.gate)?.results ?? []).map((r) => ({
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
    ...(selfApproval
      ? {
          approveBlockedReason: `You ${check?.selfApproval === true ? check.role : 'registered or trained'} this version (${check?.method === 'identity-map' ? "by the policy's identity map" : 'by name'}); its policy does not allow self-approval.`,
        }
      : {}),
  };
}

/** A stage review's stage and the statuses its decision sets. */
function stageView(review: ReviewRequest): { name: string; approvedStatus: string; rejectedStatus: string } {
  return { name: review.stage ?? '', approvedStatus: review.stageStatuses?.approved ?? 'Approved', rejectedStatus: review.stageStatuses?.rejected ?? 'Rejected' };
}
