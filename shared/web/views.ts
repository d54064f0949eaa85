/**
 * What the review pages show: plain data, built by the review use case from the table, rendered by
 * `pages.ts`. Every string here may come from a model package (names, descriptions, metadata) and
 * is escaped when rendered.
 */
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
  group: string;
  version: number;
  modelPackageArn: string;
  description?: string;
  registeredBy?: string;
  trainedBy?: string;
  /** The registry's status as last recorded. */
  approvalStatus: string;
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
  decision: 'approve' | 'reject';
  /** `recorded`: the vote counts, the review stays open; `approved` / `rejected`: this vote decided. */
  outcome: 'recorded' | 'approved' | 'rejected';
  approvals: number;
  requiredApprovals: number;
  decisionId?: string;
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
  | 'bad-request'; // 400: e.g. a Reject without a comment

export interface RefusalModel {
  kind: RefusalKind;
  /** For `used`: who used the link and when. For `closed`: the review's status. For `bad-request`: what is wrong. */
  by?: string;
  at?: string;
  status?: string;
  message?: string;
}
