import type { Notify } from './effects.js';
import { reviewersFor, type PolicyVersion } from './policy.js';
import { reviewMessage, reviewedGate, type ReviewLink, type ReviewRequest } from './review.js';
import type { ModelVersion } from './version.js';

/**
 * Replacing a reviewer's link ("send me a new link", and the operators' reissueLink). Pure: the
 * use cases in usecases/links.ts read, decide here, and commit.
 *
 * A replacement is a new link on the same open review, with the review's expiry (a new link
 * never makes a review live longer: only an operator's reopenReview does that, with a new
 * review). The reviewer's current link is revoked in the same transaction, so at most one link
 * per reviewer per review can vote.
 */

/** At most this many links a reviewer may ask for, per review, per window. Operators are not counted. */
export const FRESH_LINKS_PER_WINDOW = 3;
export const FRESH_LINK_WINDOW_MS = 24 * 3_600_000;

/** How many fresh links a reviewer asked for on a review since `since` (kept on the review item, under its `rev`). */
export interface FreshLinkWindow {
  since: string;
  count: number;
}

/** A review as stored, with its per-reviewer counts of requested links (absent until the first request). */
export type ReviewWithFreshLinks = ReviewRequest & { freshLinks?: Record<string, FreshLinkWindow> };

/** Why this reviewer cannot get a new link on this review. */
export type ReissueRefusal =
  | { kind: 'closed'; status: string }
  | { kind: 'expired'; expiresAt: string }
  | { kind: 'revoked' }
  | { kind: 'used'; at: string; decision: 'approve' | 'reject' };

/**
 * Whether `reviewer` may get a new link on `review` now: the review is open and within its
 * lifetime (the sweep closes it hourly, so an open review can be past it), it lists the reviewer
 * and so does the group's current policy (as a vote requires), and they have not voted.
 */
export function reissueRefusal(review: ReviewRequest, reviewer: string, policy: Pick<PolicyVersion, 'reviewers' | 'stages'> | undefined, now: number): ReissueRefusal | undefined {
  if (review.status === 'Approved' || review.status === 'Rejected') return { kind: 'closed', status: review.status };
  if (review.status !== 'Open' || now >= Date.parse(review.expiresAt)) return { kind: 'expired', expiresAt: review.expiresAt };
  // A stage review's reviewers are the stage section's.
  if (!review.reviewers.includes(reviewer) || (policy !== undefined && !reviewersFor(policy, review.stage).includes(reviewer))) return { kind: 'revoked' };
  const vote = review.votes[reviewer];
  if (vote) return { kind: 'used', at: vote.at, decision: vote.decision };
  return undefined;
}

/**
 * The reviewer's count after one more request, or `undefined` when the window already holds
 * FRESH_LINKS_PER_WINDOW. A window starts at the first request after the previous one ended.
 */
export function nextFreshLinkWindow(review: ReviewWithFreshLinks, reviewer: string, now: number): FreshLinkWindow | undefined {
  const current = review.freshLinks?.[reviewer];
  if (!current || now - Date.parse(current.since) >= FRESH_LINK_WINDOW_MS) return { since: new Date(now).toISOString(), count: 1 };
  return current.count >= FRESH_LINKS_PER_WINDOW ? undefined : { since: current.since, count: current.count + 1 };
}

export interface ReissuedLink {
  review: ReviewWithFreshLinks;
  link: ReviewLink;
  /** The reviewer's link until now, revoked in the same transaction (it is unused: they have not voted). */
  revokedLinkId?: string;
  message: Notify;
}

/**
 * A new link for `reviewer` on an open review (check `reissueRefusal` first), and its message to
 * them alone (the SNS attribute `reviewer` routes it to their own subscription; the token is signed
 * when it is sent). `window`: the reviewer's new count, when they asked for it themselves.
 */
export function reissueLink(args: {
  review: ReviewWithFreshLinks;
  reviewer: string;
  version: Pick<ModelVersion, 'arn' | 'group' | 'version' | 'description' | 'job' | 'image' | 'imageDigest' | 'gate' | 'stages'>;
  now: number;
  newId: () => string;
  window?: FreshLinkWindow;
}): ReissuedLink {
  const { review, reviewer, version, now, window } = args;
  const link: ReviewLink = { id: args.newId(), reviewId: review.id, modelPackageArn: review.modelPackageArn, version: review.version, reviewer, expiresAt: review.expiresAt };
  const revokedLinkId = review.links[reviewer];
  const updated: ReviewWithFreshLinks = {
    ...review,
    links: { ...review.links, [reviewer]: link.id },
    // The new link goes out now: the next reminder is one period from now.
    remindedAt: { ...review.remindedAt, [reviewer]: new Date(now).toISOString() },
    ...(window ? { freshLinks: { ...review.freshLinks, [reviewer]: window } } : {}),
  };
  const gate = reviewedGate(version, review);
  const base = reviewMessage(version, gate, updated, link, 'review-requested');
  const message: Notify = {
    ...base,
    // The link id in the effect id: each replacement is its own message.
    id: `relink:${review.id}:${reviewer}:${link.id}`,
    subject: `New review link: ${version.group} v${version.version}`.slice(0, 99),
    message: [
      window ? 'Here is the new review link you asked for.' : 'An operator sent you a new review link.',
      'Any earlier link you were sent for this review no longer works.',
      '',
      base.message,
    ].join('\n'),
    attributes: { reviewer, event: 'review-link-reissued' },
  };
  return { review: updated, link, ...(revokedLinkId ? { revokedLinkId } : {}), message };
}
