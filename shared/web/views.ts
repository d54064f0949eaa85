/**
 * What the review pages show: plain data, built by the review use case from the table, rendered by
 * `pages.ts`. Every string here may come from a model package (names, descriptions, metadata) and
 * is escaped when rendered.
 */
import type { ProductionComparison } from '../domain/evidence.js';
import type { ResolvedIdentity } from '../domain/identity.js';

export type { ProductionComparison, ResolvedIdentity };
export interface MetricRow {
  /** `trainingJob:validation:auc` */
  name: string;
  comparison: string;
  threshold: number;
  actual: number | null;
  passed: boolean;
  problem?: string;
}

export interface VoteRow {
  reviewer: string;
  decision: 'approve' | 'reject';
  comment?: string;
  at: string;
}

export interface ReviewPageModel {
  /** reviewAuth oidc: who signed in, as the identity provider said (the identity claim and the issuer). */
  signedInAs?: { identity: string; issuer: string };
  group: string;
  version: number;
  modelPackageArn: string;
  description?: string;
  /** The raw principals, as SageMaker gave them (shown when `registrant` / `trainer` are absent). */
  registeredBy?: string;
  trainedBy?: string;
  /** Who registered and who trained it, as the policy's identity map knows them. */
  registrant?: ResolvedIdentity;
  trainer?: ResolvedIdentity;
  /** How separation of duties is judged: the policy's identity map, or (no map) a heuristic on names. */
  selfApprovalCheck?: 'identity-map' | 'name-heuristic';
  /** The version under review against the group's newest Approved version. */
  production?: ProductionComparison;
  /** The registry's status as last recorded. */
  approvalStatus: string;
  /**
   * A lifecycle stage promotion's review: the stage, what the decision sets, and the version's
   * ModelLifeCycle as last recorded. The metrics are then the stage's rules.
   */
  stage?: { name: string; approvedStatus: string; rejectedStatus: string; current?: string };
  metrics: MetricRow[];
  lineage: {
    trainingJob?: { name: string; arn: string };
    datasets: Array<{ channel: string; uri: string }>;
    image?: string;
    imageDigest?: string;
    hyperparameters?: Record<string, string>;
  };
  customerMetadata: Record<string, string>;
  policyVersion: number;
  requiredApprovals: number;
  votes: VoteRow[];
  /** The reviewer this link belongs to. */
  reviewer: string;
  expiresAt: string;
  /** False when separation of duties forbids this reviewer to approve (they may still reject). */
  canApprove: boolean;
  /** Why `canApprove` is false, shown next to the disabled Approve button. */
  approveBlockedReason?: string;
}

export interface ConfirmationModel {
  group: string;
  version: number;
  /** A stage review: the stage and the status its decision set. */
  stage?: { name: string; approvedStatus: string; rejectedStatus: string };
  decision: 'approve' | 'reject';
  /** `recorded`: the vote counts, the review stays open; `approved` / `rejected`: this vote decided. */
  outcome: 'recorded' | 'approved' | 'rejected';
  approvals: number;
  requiredApprovals: number;
  decisionId?: string;
  /** The comment as recorded with the vote (an invisible one is not recorded). */
  comment?: string;
  /** When the vote was recorded (ISO time). */
  at?: string;
}

export type RefusalKind =
  | 'expired' // 410
  | 'used' // 409: already decided, by whom and when
  | 'refused' // 403: forged, tampered, or for another version
  | 'closed' // 409: the review is no longer open
  | 'self-approval' // 403: separation of duties
  | 'revoked' // 403: the reviewer was removed from the review; their link no longer decides
  | 'cross-site' // 403: a POST sent by another site's page (cross-site request forgery)
  | 'method-not-allowed' // 405: only GET and POST
  | 'bad-request' // 400: e.g. a Reject without a comment
  | 'rate-limited' // 429: "send me a new link" asked for too often
  | 'review-expired' // 410: a new link was asked for, but the review itself expired (only an operator can reopen it)
  | 'sign-in-required' // 401: reviewAuth oidc, and no sign-in that may vote on this link
  | 'wrong-identity' // 403: signed in, but not as the reviewer the link was sent to
  | 'sign-in-failed'; // 400: the identity provider's answer did not check out (replayed, forged, expired)

export interface RefusalModel {
  kind: RefusalKind;
  /**
   * For `used`: who used the link and when. For `closed`: the review's status. For `bad-request`:
   * what is wrong. For `review-expired`: when the review expired (`at`).
   */
  by?: string;
  at?: string;
  status?: string;
  message?: string;
}

/** reviewAuth oidc: the step before the evidence. Names the reviewer the link was sent to, nothing else. */
export interface SignInModel {
  group: string;
  version: number;
  reviewer: string;
  /** Why a sign-in is asked for again: an earlier one is too old, or was for another link. */
  again?: 'too-old' | 'other-link';
}
