import type { GateResult, PolicyVersion, StageSection } from './policy.js';
import { clientToken, fitDescription, fitStageDescription, type Notify, type SetApprovalStatus, type SetStageStatus } from './effects.js';
import type { ModelVersion } from './version.js';
import { checkSelfApproval, isSamePersonByName } from './identity.js';
import type { IdentityMap } from './policy.js';

/** A request for human review of one version, opened when the version passes its gate. */
export interface ReviewRequest {
  id: string;
  modelPackageArn: string;
  group: string;
  version: number;
  status: 'Open' | 'Approved' | 'Rejected' | 'Expired';
  openedAt: string;
  expiresAt: string;
  policyVersion: number;
  requiredApprovals: number;
  allowSelfApproval: boolean;
  reminderAfterHours: number;
  reviewers: string[];
  /** Each reviewer's link id, so a reminder can send the same link again. */
  links: Record<string, string>;
  votes: Record<string, Vote>;
  /** When each reviewer was last reminded. */
  remindedAt: Record<string, string>;
  decision?: Decision;
  closedAt?: string;
  /**
   * A lifecycle stage promotion's review (README, "Lifecycle stages"): its decision sets the
   * stage's status, not the approval status. Absent: the version's own approval.
   */
  stage?: string;
  /** The stage's statuses when the review opened: what its decision sets, whatever the policy says later. */
  stageStatuses?: StageStatuses;
}

export interface StageStatuses {
  pending: string;
  approved: string;
  rejected: string;
}

export interface Vote {
  decision: 'approve' | 'reject';
  comment?: string;
  at: string;
  /** `reviewAuth: oidc`: who signed in to cast it (the ID token's issuer and subject, and when they authenticated, ISO). */
  signedIn?: VoterSignIn;
}

export interface VoterSignIn {
  issuer: string;
  subject: string;
  authTime: string;
}

/** What closed a review: recorded on the review and on the version before the registry is told. */
export interface Decision {
  id: string;
  outcome: 'Approved' | 'Rejected';
  at: string;
  approvers: string[];
  rejectedBy?: string;
  policyVersion: number;
  /** A revocation through `datasetImpact`: the dataset it was derived from (a rejection, not a review's). */
  revokedFor?: string;
}

/** One reviewer's personal link; the URL carries a signed token that names it (see token.ts). */
export interface ReviewLink {
  id: string;
  reviewId: string;
  modelPackageArn: string;
  version: number;
  reviewer: string;
  expiresAt: string;
  usedAt?: string;
  vote?: Vote;
  /** Set when the reviewer was removed before using the link: it no longer opens or decides anything. */
  revokedAt?: string;
  /** Who removed the reviewer (the operator's `changedBy`). */
  revokedBy?: string;
}

/** The claims a link's token is signed over. */
export const linkClaims = (link: ReviewLink) => ({
  linkId: link.id,
  reviewId: link.reviewId,
  modelPackageArn: link.modelPackageArn,
  version: link.version,
  reviewer: link.reviewer,
  expiresAt: Math.floor(Date.parse(link.expiresAt) / 1000),
});

/** Where a review message puts the reviewer's URL; the token is signed when the message is sent. */
export const REVIEW_URL_PLACEHOLDER = '{reviewUrl}';

export interface OpenedReview {
  review: ReviewRequest;
  links: ReviewLink[];
  messages: Notify[];
}

export function openReview(args: {
  version: ModelVersion;
  policy: PolicyVersion;
  gate: GateResult;
  now: number;
  newId: () => string;
  /** A stage promotion: the stage's section names the reviewers, the quorum and the lifetime. */
  stage?: { name: string; section: StageSection };
}): OpenedReview {
  const { version, gate, now, newId, stage } = args;
  // Separation of duties (allowSelfApproval) and the policy version are the policy's, for a stage too.
  const policy = stage ? { ...args.policy, ...pickReviewSettings(stage.section) } : args.policy;
  const expiresAt = new Date(now + policy.reviewLifetimeHours * 3_600_000).toISOString();
  const reviewId = newId();
  const links = policy.reviewers.map(
    (reviewer): ReviewLink => ({ id: newId(), reviewId, modelPackageArn: version.arn, version: version.version, reviewer, expiresAt }),
  );
  const review: ReviewRequest = {
    id: reviewId,
    modelPackageArn: version.arn,
    group: version.group,
    version: version.version,
    status: 'Open',
    openedAt: new Date(now).toISOString(),
    expiresAt,
    policyVersion: policy.version,
    requiredApprovals: policy.requiredApprovals,
    allowSelfApproval: policy.allowSelfApproval,
    reminderAfterHours: policy.reminderAfterHours,
    reviewers: policy.reviewers,
    links: Object.fromEntries(links.map((l) => [l.reviewer, l.id])),
    votes: {},
    remindedAt: {},
    ...(stage
      ? {
          stage: stage.name,
          stageStatuses: { pending: stage.section.pendingStatus, approved: stage.section.approvedStatus, rejected: stage.section.rejectedStatus },
        }
      : {}),
  };
  const messages = links.map((link) => reviewMessage(version, gate, review, link, 'review-requested'));
  return { review, links, messages };
}

function pickReviewSettings(s: StageSection): Pick<PolicyVersion, 'reviewers' | 'requiredApprovals' | 'reviewLifetimeHours' | 'reminderAfterHours'> {
  return { reviewers: s.reviewers, requiredApprovals: s.requiredApprovals, reviewLifetimeHours: s.reviewLifetimeHours, reminderAfterHours: s.reminderAfterHours };
}

/** The gate a review is about: the stage's for a stage review, else the version's (none recorded: an empty pass). */
export function reviewedGate(version: Pick<ModelVersion, 'gate' | 'stages'>, review: Pick<ReviewRequest, 'stage' | 'policyVersion'>): GateResult {
  const stages = version.stages;
  const gate = review.stage === undefined ? version.gate : stages && Object.hasOwn(stages, review.stage) ? stages[review.stage]?.gate : undefined;
  return gate ?? { passed: true, policyVersion: review.policyVersion, results: [] };
}

/** A reviewer's message: the model's facts and their personal link (signed when sent). */
export function reviewMessage(
  version: Pick<ModelVersion, 'arn' | 'group' | 'version' | 'description' | 'job' | 'image' | 'imageDigest'>,
  gate: GateResult,
  review: ReviewRequest,
  link: ReviewLink,
  event: 'review-requested' | 'review-reminder',
): Notify {
  const reminder = event === 'review-reminder';
  const what = review.stage ? `The promotion of model version ${version.group} v${version.version} to stage ${review.stage}` : `Model version ${version.group} v${version.version}`;
  const lines = [
    reminder
      ? `Reminder: ${review.stage ? `the promotion of ${version.group} v${version.version} to stage ${review.stage}` : `model version ${version.group} v${version.version}`} still waits for your review.`
      : `${what} passed ${review.stage ? `the stage's rules in its policy` : 'its policy'} (version ${gate.policyVersion}) and needs your review.`,
    ...(review.stage ? [`Stage: ${review.stage} (your decision sets it to ${review.stageStatuses?.approved ?? 'Approved'} or ${review.stageStatuses?.rejected ?? 'Rejected'})`] : []),
    '',
    `Model package: ${version.arn}`,
    ...(version.description ? [`Description: ${version.description}`] : []),
    ...(version.job ? [`Training job: ${version.job.arn}`] : []),
    ...(version.image ? [`Image: ${version.image}${version.imageDigest ? `@${version.imageDigest}` : ''}`] : []),
    '',
    'Metrics:',
    ...gate.results.map(
      (r) => `  ${r.rule.source}:${r.rule.metric} = ${r.actual ?? 'n/a'} (${r.rule.comparison} ${r.rule.threshold}) ${r.passed ? 'pass' : 'FAIL'}`,
    ),
    '',
    `Approvals needed: ${review.requiredApprovals}. The link is personal, works once, and expires ${review.expiresAt}.`,
    'Opening it changes nothing; you decide on the page.',
    `Review: ${REVIEW_URL_PLACEHOLDER}`,
  ];
  return {
    kind: 'notify',
    id: `${reminder ? 'remind' : 'review'}:${review.id}:${link.reviewer}${reminder ? `:${Object.keys(review.remindedAt).length}` : ''}`,
    topic: 'reviewers',
    subject: `${reminder ? 'Reminder: review' : 'Review requested'}: ${version.group} v${version.version}${review.stage ? ` to stage ${review.stage}` : ''}`.slice(0, 99),
    message: lines.join('\n'),
    attributes: { reviewer: link.reviewer, event },
    link: linkClaims(link),
  };
}

/**
 * Whether an identity (an IAM ARN, an STS session, a Studio user profile) is this reviewer, by the
 * name heuristic (see `isSamePersonByName` in identity.ts; `checkSelfApproval` uses the policy's
 * identity map when it has one).
 */
export const isSamePerson = isSamePersonByName;

export type VoteOutcome =
  | { kind: 'refused'; refusal: 'closed' | 'revoked' | 'self-approval' | 'bad-request'; message: string }
  | { kind: 'recorded' | 'approved' | 'rejected'; review: ReviewRequest; link: ReviewLink; decision?: Decision };

export const MAX_COMMENT = 2000;

/**
 * What shows nothing on its own: white space; control, format, surrogate, private-use and
 * unassigned code points (\p{C}: U+200B, U+200C, U+200D, U+2060, U+FEFF, bidi controls, tags…);
 * combining marks with nothing to combine with (\p{M}); the other default-ignorable code points
 * (variation selectors, U+034F…); and the blank fillers that fonts draw as nothing (Hangul fillers
 * U+115F, U+1160, U+3164, U+FFA0, and the Braille blank U+2800).
 */
const VISIBLE = /[^\p{White_Space}\p{C}\p{M}\p{Default_Ignorable_Code_Point}\u115F\u1160\u3164\uFFA0\u2800]/u;

/** Whether a text has at least one visible character: a comment that says something. */
export function hasVisibleText(text: string): boolean {
  return VISIBLE.test(text);
}

/**
 * The review state machine for one vote. A Reject needs a comment and ends the review at once;
 * Approvals from distinct reviewers count until the quorum closes it as Approved. Separation of
 * duties: whoever registered or trained the version may not approve it, unless the policy allows.
 */
export function castVote(args: {
  review: ReviewRequest;
  link: ReviewLink;
  vote: { decision: 'approve' | 'reject'; comment?: string; signedIn?: VoterSignIn };
  version: Pick<ModelVersion, 'registeredBy' | 'trainedBy'>;
  /** The group's current policy's identity map; without one, self-approval is judged by names. */
  identities?: IdentityMap | undefined;
  now: number;
  newId: () => string;
}): VoteOutcome {
  const { review, link, vote, version, now } = args;
  if (review.status !== 'Open') return { kind: 'refused', refusal: 'closed', message: `the review is ${review.status}` };
  if (!review.reviewers.includes(link.reviewer)) {
    return { kind: 'refused', refusal: 'revoked', message: 'You are no longer a reviewer of this version.' };
  }
  // A comment counts only when it shows something: a zero-width space or a Hangul filler does not
  // explain a rejection. An approval's invisible comment is dropped rather than stored.
  const text = vote.comment?.trim() ?? '';
  const comment = hasVisibleText(text) ? text : '';
  if (vote.decision === 'reject' && comment === '') {
    return { kind: 'refused', refusal: 'bad-request', message: 'A comment is required to reject.' };
  }
  if (comment.length > MAX_COMMENT) {
    return { kind: 'refused', refusal: 'bad-request', message: `The comment is longer than ${MAX_COMMENT} characters.` };
  }
  if (vote.decision === 'approve' && !review.allowSelfApproval) {
    const check = checkSelfApproval(link.reviewer, version, args.identities);
    if (check.selfApproval) {
      const how = check.method === 'identity-map' ? "by the policy's identity map" : 'by name';
      return { kind: 'refused', refusal: 'self-approval', message: `You ${check.role} this version (${how}), and its policy does not allow self-approval.` };
    }
  }
  const at = new Date(now).toISOString();
  const cast: Vote = { decision: vote.decision, ...(comment ? { comment } : {}), at, ...(vote.signedIn ? { signedIn: vote.signedIn } : {}) };
  const votes = { ...review.votes, [link.reviewer]: cast };
  const usedLink: ReviewLink = { ...link, usedAt: at, vote: cast };
  const approvers = Object.entries(votes)
    .filter(([, v]) => v.decision === 'approve')
    .map(([r]) => r);
  let decision: Decision | undefined;
  if (vote.decision === 'reject') {
    decision = { id: args.newId(), outcome: 'Rejected', at, approvers, rejectedBy: link.reviewer, policyVersion: review.policyVersion };
  } else if (approvers.length >= review.requiredApprovals) {
    decision = { id: args.newId(), outcome: 'Approved', at, approvers, policyVersion: review.policyVersion };
  }
  const updated: ReviewRequest = {
    ...review,
    votes,
    ...(decision ? { status: decision.outcome, decision, closedAt: at } : {}),
  };
  const kind = decision ? (decision.outcome === 'Approved' ? 'approved' : 'rejected') : 'recorded';
  return { kind, review: updated, link: usedLink, ...(decision ? { decision } : {}) };
}

/**
 * The registry update a decision causes, with its ClientToken and a description that explains it:
 * the approval status (ApprovalDescription), or for a stage review the stage's status (StageDescription).
 */
export function decisionEffect(review: ReviewRequest, decision: Decision): SetApprovalStatus | SetStageStatus {
  // With sign-in, each voter as the identity provider vouched for them: issuer, subject, auth_time.
  const signedIn = (reviewer: string) => {
    const s = review.votes[reviewer]?.signedIn;
    return s ? `${reviewer} [signed in at ${s.issuer} as ${s.subject}, ${s.authTime}]` : reviewer;
  };
  const who =
    decision.outcome === 'Approved'
      ? `approved by ${decision.approvers.map(signedIn).join(', ')}`
      : `rejected by ${decision.rejectedBy ? signedIn(decision.rejectedBy) : 'a reviewer'}: ${review.votes[decision.rejectedBy ?? '']?.comment ?? ''}`;
  if (review.stage !== undefined) {
    const statuses = review.stageStatuses ?? { pending: 'PendingApproval', approved: 'Approved', rejected: 'Rejected' };
    return {
      kind: 'setStageStatus',
      id: `decision:${decision.id}`,
      modelPackageArn: review.modelPackageArn,
      stage: review.stage,
      status: decision.outcome === 'Approved' ? statuses.approved : statuses.rejected,
      description: fitStageDescription(`modelgate decision ${decision.id} on stage ${review.stage}: ${who} (policy v${decision.policyVersion}, review ${review.id})`),
      clientToken: clientToken(review.modelPackageArn, 'stage-decision', review.stage, decision.id),
    };
  }
  return {
    kind: 'setApprovalStatus',
    id: `decision:${decision.id}`,
    modelPackageArn: review.modelPackageArn,
    status: decision.outcome,
    description: fitDescription(`modelgate decision ${decision.id}: ${who} (policy v${decision.policyVersion}, review ${review.id})`),
    clientToken: clientToken(review.modelPackageArn, 'decision', decision.id),
  };
}

/** Whether an open review can still reach its quorum with the reviewers who may still vote. */
export interface QuorumState {
  approvals: number;
  requiredApprovals: number;
  /** Listed reviewers who have not voted yet. */
  canStillVote: string[];
  reachable: boolean;
}

export function quorumState(review: ReviewRequest): QuorumState {
  const approvals = Object.values(review.votes).filter((v) => v.decision === 'approve').length;
  const canStillVote = review.reviewers.filter((r) => !review.votes[r]);
  return { approvals, requiredApprovals: review.requiredApprovals, canStillVote, reachable: approvals + canStillVote.length >= review.requiredApprovals };
}

/** A reviewer added to an open review: their own link and message, unless they already voted on it. */
export interface ReviewerAdded {
  review: ReviewRequest;
  link?: ReviewLink;
  message?: Notify;
}

/**
 * Adds a reviewer (added to the group's policy) to an open review. They get a link of their own
 * with the review's expiry, and its message (signed when sent). Someone removed after voting and
 * added again keeps their vote and gets no second link. `undefined`: nothing to change.
 */
export function addReviewerToReview(args: {
  review: ReviewRequest;
  reviewer: string;
  version: Pick<ModelVersion, 'arn' | 'group' | 'version' | 'description' | 'job' | 'image' | 'imageDigest' | 'gate' | 'stages'>;
  now: number;
  newId: () => string;
}): ReviewerAdded | undefined {
  const { review, reviewer, version, now } = args;
  if (review.status !== 'Open' || review.reviewers.includes(reviewer)) return undefined;
  const reviewers = [...review.reviewers, reviewer];
  if (review.votes[reviewer]) return { review: { ...review, reviewers } };
  const link: ReviewLink = {
    id: args.newId(),
    reviewId: review.id,
    modelPackageArn: review.modelPackageArn,
    version: review.version,
    reviewer,
    expiresAt: review.expiresAt,
  };
  const updated: ReviewRequest = {
    ...review,
    reviewers,
    links: { ...review.links, [reviewer]: link.id },
    // The link goes out now: the first reminder is due one period from now, not from the opening.
    remindedAt: { ...review.remindedAt, [reviewer]: new Date(now).toISOString() },
  };
  const gate = reviewedGate(version, review);
  // The link id in the effect id: a reviewer removed and added again gets a new message, not the old one's id.
  const message = { ...reviewMessage(version, gate, updated, link, 'review-requested'), id: `review:${review.id}:${reviewer}:${link.id}` };
  return { review: updated, link, message };
}

/** A reviewer removed from an open review: the link to revoke (when unused), the quorum left, and a notice when it is out of reach. */
export interface ReviewerRemoved {
  review: ReviewRequest;
  /** Their link, when they had not used it: revoked in the same transaction. */
  revokedLinkId?: string;
  /** Whether they had voted: a vote already cast stays and counts. */
  voteKept: boolean;
  quorum: QuorumState;
  /** To the governance topic when the quorum can no longer be met; the review stays open. */
  notice?: Notify;
}

/**
 * Removes a reviewer (removed from the group's policy) from an open review: they are no longer
 * listed (no reminder, no vote), their unused link is revoked, a vote they cast stays. The review
 * keeps the approvals it needs: when the reviewers left cannot reach them, it stays open (a Reject
 * still closes it, and it expires as any other) and governance is told. `undefined`: not listed.
 */
export function removeReviewerFromReview(args: { review: ReviewRequest; reviewer: string; now: number }): ReviewerRemoved | undefined {
  const { review, reviewer, now } = args;
  if (review.status !== 'Open' || !review.reviewers.includes(reviewer)) return undefined;
  const { [reviewer]: linkId, ...links } = review.links;
  const updated: ReviewRequest = { ...review, reviewers: review.reviewers.filter((r) => r !== reviewer), links };
  const voteKept = review.votes[reviewer] !== undefined;
  const quorum = quorumState(updated);
  const at = new Date(now).toISOString();
  const notice: Notify | undefined = quorum.reachable
    ? undefined
    : {
        kind: 'notify',
        id: `quorum-unreachable:${review.id}:${reviewer}:${at}`,
        topic: 'governance',
        subject: `Review cannot reach its quorum: ${review.group} v${review.version}`.slice(0, 99),
        message: [
          `${reviewer} was removed from the review of ${review.modelPackageArn}.`,
          `It has ${quorum.approvals} of ${quorum.requiredApprovals} approvals and ${quorum.canStillVote.length} reviewer(s) who may still vote${quorum.canStillVote.length ? ` (${quorum.canStillVote.join(', ')})` : ''}, so it can no longer be approved.`,
          `The review stays open: a Reject still ends it, addReviewer sends a new reviewer a link, and otherwise it expires at ${review.expiresAt}.`,
        ].join('\n'),
        attributes: { event: 'review-quorum-unreachable', group: review.group },
      };
  return { review: updated, ...(linkId && !voteKept ? { revokedLinkId: linkId } : {}), voteKept, quorum, ...(notice ? { notice } : {}) };
}
