import type { PolicyVersion } from './policy.js';
import type { GateResult } from './policy.js';
import type { Notify } from './effects.js';
import type { ModelVersion } from './version.js';

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
}

/** One reviewer's personal link. The id is unguessable; the signed format comes with the review page. */
export interface ReviewLink {
  id: string;
  reviewId: string;
  modelPackageArn: string;
  version: number;
  reviewer: string;
  expiresAt: string;
}

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
  reviewBaseUrl: string;
}): OpenedReview {
  const { version, policy, gate, now, newId } = args;
  const expiresAt = new Date(now + policy.reviewLifetimeHours * 3_600_000).toISOString();
  const review: ReviewRequest = {
    id: newId(),
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
  };
  const links = policy.reviewers.map(
    (reviewer): ReviewLink => ({
      id: newId(),
      reviewId: review.id,
      modelPackageArn: version.arn,
      version: version.version,
      reviewer,
      expiresAt,
    }),
  );
  const base = args.reviewBaseUrl.replace(/\/+$/, '');
  const messages = links.map(
    (link): Notify => ({
      kind: 'notify',
      id: `review:${review.id}:${link.reviewer}`,
      topic: 'reviewers',
      subject: `Review requested: ${version.group} v${version.version}`.slice(0, 99),
      message: reviewMessage(version, gate, review, `${base}/reviews/${link.id}`),
      attributes: { reviewer: link.reviewer, event: 'review-requested' },
    }),
  );
  return { review, links, messages };
}

function reviewMessage(version: ModelVersion, gate: GateResult, review: ReviewRequest, url: string): string {
  const lines = [
    `Model version ${version.group} v${version.version} passed its policy (version ${gate.policyVersion}) and needs your review.`,
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
    `Approvals needed: ${review.requiredApprovals}. The link is personal and expires ${review.expiresAt}.`,
    `Review: ${url}`,
  ];
  return lines.join('\n');
}
