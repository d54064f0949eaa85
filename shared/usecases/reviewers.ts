import * as z from '../schemas/zod.js';
import { auditEntries, groupScope, type AuditEvent } from '../domain/audit.js';
import { EFFECT_LEASE_MS, type SideEffect } from '../domain/effects.js';
import { NotFound, SideEffectFailed } from '../domain/errors.js';
import { parsePayload } from '../domain/payload.js';
import { GroupNameSchema, nextPolicyVersion, parsePolicyInput, type PolicyVersion } from '../domain/policy.js';
import { addReviewerToReview, removeReviewerFromReview, type ReviewLink, type ReviewRequest } from '../domain/review.js';
import type { Deps, ReviewerMembershipChange } from '../ports.js';
import { logger } from '../logger.js';
import { carryOut } from './effects.js';
import { untilCommitted } from './retry.js';
import { ordered, policyView } from './views.js';

const RequestSchema = /* @__PURE__ */ z.schema(() => z.strictObject({
  modelPackageGroupName: GroupNameSchema,
  reviewer: z.email().check(z.describe('the reviewer\'s email address')),
  /** Optional: the approvals needed after the change (removing a reviewer may require lowering it). */
  requiredApprovals: z.optional(z.int().check(z.gte(1))),
  changedBy: z.string().check(z.minLength(1), z.maxLength(256), z.describe('who makes the change (an IAM principal ARN or a name)')),
  reason: z.optional(z.string().check(z.maxLength(1024))),
}));
type Request = z.infer<typeof RequestSchema>;

export interface ReviewerResult {
  outcome: 'created' | 'unchanged';
  policy: PolicyVersion;
  subscriptionArn?: string;
  /** Whether the SNS subscription was removed (the reviewer reviews no other group). */
  unsubscribed?: boolean;
  /** The group's open reviews that the change reached. */
  openReviews: OpenReviewChange[];
}

/** What a reviewer change did to one open review. */
export interface OpenReviewChange {
  reviewId: string;
  modelPackageArn: string;
  /** `added`: a link of their own was sent (`linkSent`); `removed`: their unused link revoked, or their vote kept. */
  change: 'added' | 'removed';
  linkSent?: boolean;
  linkRevoked?: boolean;
  voteKept?: boolean;
  /** Approvals cast + reviewers who may still vote >= approvals needed. */
  quorumReachable: boolean;
  /** A message that could not be sent yet: it stays pending and the hourly sweep sends it. */
  effectsPending?: boolean;
}

function parse(payload: unknown, subject: string): Request {
  const data = parsePayload(RequestSchema, payload, subject);
  return { ...data, reviewer: data.reviewer.toLowerCase() };
}

/** addReviewer's and removeReviewer's answer, in a fixed order (usecases/views.ts). */
function resultView(r: ReviewerResult): ReviewerResult {
  return {
    outcome: r.outcome,
    policy: policyView(r.policy) as unknown as PolicyVersion,
    ...(r.subscriptionArn ? { subscriptionArn: r.subscriptionArn } : {}),
    ...(r.unsubscribed !== undefined ? { unsubscribed: r.unsubscribed } : {}),
    openReviews: r.openReviews.map(openReviewChangeView),
  };
}

/** One open review's change, in a fixed order. */
export const openReviewChangeView = (c: OpenReviewChange): OpenReviewChange =>
  ordered(c, ['reviewId', 'modelPackageArn', 'change', 'linkSent', 'linkRevoked', 'voteKept', 'quorumReachable', 'effectsPending']) as unknown as OpenReviewChange;

/**
 * Operator: adds a reviewer to a group's policy (a new policy version, audited) and subscribes
 * the address to the reviewers topic with a filter policy on `reviewer`. The subscription comes
 * first: it is harmless on its own (no message names the reviewer until the policy does), and SNS
 * returns the existing subscription when it is repeated. Then each of the group's open reviews
 * lists them and sends them a link of their own.
 */
export async function addReviewer(deps: Deps, payload: unknown): Promise<ReviewerResult> {
  const req = parse(payload, 'addReviewer request');
  const subscriptionArn = await deps.subscriptions.subscribe(req.reviewer);
  const result = await changeReviewers(deps, req, (reviewers) => [...new Set([...reviewers, req.reviewer])], subscriptionArn);
  return resultView({ ...result, openReviews: await updateOpenReviews(deps, req, 'add') });
}

/**
 * Operator: removes a reviewer from a group's policy (a new policy version, audited). Then each of
 * the group's open reviews stops listing them (no reminder, no vote) and revokes their unused
 * link; a vote they cast stays. The SNS subscription is removed only when the reviewer reviews no
 * other group, and last: when updating a review fails, the call can simply be repeated.
 */
export async function removeReviewer(deps: Deps, payload: unknown): Promise<ReviewerResult> {
  const req = parse(payload, 'removeReviewer request');
  const result = await changeReviewers(deps, req, (reviewers) => reviewers.filter((r) => r !== req.reviewer));
  const openReviews = await updateOpenReviews(deps, req, 'remove');
  if (result.outcome === 'created' && result.subscriptionArn && result.unsubscribed) {
    await deps.subscriptions.unsubscribe(result.subscriptionArn);
  }
  return resultView({ ...result, openReviews });
}

/**
 * Brings the group's open reviews in line with the change, one transaction per review (its link,
 * the review, the version's pending messages, the audit entry), conditional on the revs read and
 * retried on conflict. This runs after the policy commit, and also when the policy was already
 * `unchanged`: a repeated call finishes what an interrupted one started, and does nothing twice
 * (a review that already lists, or no longer lists, the reviewer is left alone).
 */
export async function updateOpenReviews(
  deps: Deps,
  req: Pick<Request, 'modelPackageGroupName' | 'reviewer' | 'changedBy'>,
  change: 'add' | 'remove',
  /**
   * Which reviews: the versions' own (undefined: the policy's reviewers changed), or one lifecycle
   * stage's (its section's reviewers changed). A stage review's reviewers are its section's only.
   */
  stage?: string,
): Promise<OpenReviewChange[]> {
  const group = req.modelPackageGroupName;
  const changes: OpenReviewChange[] = [];
  for (const listed of await deps.store.listOpenReviewsOfGroup(group)) {
    if (listed.stage !== stage) continue;
    const key = { group: listed.group, version: listed.version };
    const touched = await untilCommitted<{ summary: OpenReviewChange; effects: SideEffect[] } | undefined>(async () => {
      // The index is a hint: the review itself is read (consistently) with the version and the head.
      const ctx = await deps.store.loadReviewContext({ ...key, reviewId: listed.id });
      if (!ctx.review || !ctx.version || ctx.review.status !== 'Open' || ctx.review.stage !== stage) return { result: 'committed', value: undefined };
      const { rev: reviewRev, ...review } = ctx.review;
      const { rev: versionRev, ...version } = ctx.version;
      const now = deps.clock.now();
      const planned = change === 'add' ? planAdd(deps, req, review, version, now) : planRemove(req, review, now);
      if (!planned) return { result: 'committed', value: undefined };
      const { effects } = planned;
      const result = await deps.store.commitReviewerMembership({
        ...planned.change,
        expectedReviewRev: reviewRev,
        ...(effects.length
          ? {
              version: {
                version: {
                  ...version,
                  pendingEffects: { ...version.pendingEffects, ...Object.fromEntries(effects.map((e) => [e.id, { effect: e, claimedUntil: now + EFFECT_LEASE_MS, attempts: 1, since: now }])) },
                },
                expectedRev: versionRev,
              },
            }
          : {}),
        audit: auditEntries(groupScope(review.group), [planned.event], now, deps.newId),
      });
      return { result, value: { summary: planned.summary, effects } };
    });
    if (!touched) continue;
    if (touched.effects.length > 0) {
      try {
        await carryOut(deps, key, touched.effects);
      } catch (e) {
        // Committed and pending: the hourly sweep sends it. The other reviews still get their change.
        if (!(e instanceof SideEffectFailed)) throw e;
        logger.warn('reviewer change: message pending', { reviewId: listed.id, modelPackageArn: listed.modelPackageArn });
        touched.summary.effectsPending = true;
      }
    }
    changes.push(touched.summary);
  }
  return changes;
}

type Planned = {
  change: Pick<ReviewerMembershipChange, 'review' | 'addLinks' | 'revokeLink'>;
  event: AuditEvent;
  effects: SideEffect[];
  summary: OpenReviewChange;
};

function planAdd(deps: Deps, req: Pick<Request, 'reviewer' | 'changedBy'>, review: ReviewRequest, version: Parameters<typeof addReviewerToReview>[0]['version'], now: number): Planned | undefined {
  const added = addReviewerToReview({ review, reviewer: req.reviewer, version, now, newId: deps.newId });
  if (!added) return undefined;
  const links: ReviewLink[] = added.link ? [added.link] : [];
  return {
    change: { review: added.review, addLinks: links },
    event: {
      action: 'review.reviewer-added',
      subject: review.modelPackageArn,
      actor: req.changedBy,
      detail: { reviewId: review.id, reviewer: req.reviewer, linkId: added.link?.id ?? null, voteKept: !added.link },
    },
    effects: added.message ? [added.message] : [],
    summary: { reviewId: review.id, modelPackageArn: review.modelPackageArn, change: 'added', linkSent: added.link !== undefined, quorumReachable: true },
  };
}

function planRemove(req: Pick<Request, 'reviewer' | 'changedBy'>, review: ReviewRequest, now: number): Planned | undefined {
  const removed = removeReviewerFromReview({ review, reviewer: req.reviewer, now });
  if (!removed) return undefined;
  const { quorum } = removed;
  return {
    change: {
      review: removed.review,
      ...(removed.revokedLinkId ? { revokeLink: { id: removed.revokedLinkId, at: new Date(now).toISOString(), by: req.changedBy } } : {}),
    },
    event: {
      action: 'review.reviewer-removed',
      subject: review.modelPackageArn,
      actor: req.changedBy,
      detail: {
        reviewId: review.id,
        reviewer: req.reviewer,
        revokedLinkId: removed.revokedLinkId ?? null,
        voteKept: removed.voteKept,
        approvals: quorum.approvals,
        requiredApprovals: quorum.requiredApprovals,
        canStillVote: quorum.canStillVote,
        quorumReachable: quorum.reachable,
      },
    },
    effects: removed.notice ? [removed.notice] : [],
    summary: {
      reviewId: review.id,
      modelPackageArn: review.modelPackageArn,
      change: 'removed',
      linkRevoked: removed.revokedLinkId !== undefined,
      voteKept: removed.voteKept,
      quorumReachable: quorum.reachable,
    },
  };
}

async function changeReviewers(
  deps: Pick<Deps, 'store' | 'clock' | 'newId'>,
  req: Request,
  change: (reviewers: string[]) => string[],
  subscriptionArn?: string,
): Promise<Omit<ReviewerResult, 'openReviews'>> {
  const group = req.modelPackageGroupName;
  return untilCommitted<Omit<ReviewerResult, 'openReviews'>>(async () => {
    const ctx = await deps.store.loadReviewerContext(group, req.reviewer);
    const current = ctx.policy;
    if (!current) throw new NotFound(`no policy for model package group ${group}: put one first`);
    const reviewers = change(current.reviewers);
    const { version: _v, createdAt: _c, changedBy: _b, reason: _r, ...content } = current;
    const input = parsePolicyInput({
      ...content,
      reviewers,
      requiredApprovals: req.requiredApprovals ?? current.requiredApprovals,
      changedBy: req.changedBy,
      ...(req.reason ? { reason: req.reason } : {}),
    });
    const now = deps.clock.now();
    const next = nextPolicyVersion(input, current, now);
    if (next === 'unchanged') return { result: 'committed', value: { outcome: 'unchanged', policy: current } };
    const adding = reviewers.includes(req.reviewer);
    const groups = new Set(ctx.reviewer?.groups ?? []);
    if (adding) groups.add(group.toLowerCase());
    else groups.delete(group.toLowerCase());
    const arn = subscriptionArn ?? ctx.reviewer?.subscriptionArn;
    const audit = auditEntries(
      groupScope(group),
      [
        {
          action: adding ? 'policy.reviewer-added' : 'policy.reviewer-removed',
          subject: `model-package-group/${group}`,
          actor: req.changedBy,
          detail: { reviewer: req.reviewer, version: next.version, previousVersion: current.version, requiredApprovals: next.requiredApprovals },
        },
      ],
      now,
      deps.newId,
    );
    const result = await deps.store.commitPolicy({
      policy: next,
      audit,
      reviewer: {
        reviewer: { email: req.reviewer, groups: [...groups].sort(), ...(arn ? { subscriptionArn: arn } : {}) },
        expectedRev: ctx.reviewer?.rev ?? 0,
      },
    });
    return {
      result,
      value: { outcome: 'created', policy: next, ...(arn ? { subscriptionArn: arn } : {}), ...(adding ? {} : { unsubscribed: groups.size === 0 }) },
    };
  });
}
