import type { AuditEntry } from './domain/audit.js';
import type { ArtifactNode, DatasetInput, TrainingJob } from './domain/lineage.js';
import type { PolicyVersion } from './domain/policy.js';
import type { ReviewLink, ReviewRequest } from './domain/review.js';
import type { KeyRing } from './domain/token.js';
import type { LifeCycle, ModelVersion } from './domain/version.js';
import type { Organisation } from './domain/organisation.js';
import type { EndpointObservation, EndpointRecord } from './domain/deployment.js';
import type { ApprovalStatus, ModelPackageDetail, TrainingJobDetail } from './schemas/events.js';

/**
 * The ports the use cases hold. Adapters implement them: `shared/store` for DynamoDB, `shared/aws`
 * for SageMaker, SNS and S3. Unit tests swap them.
 */

/**
 * The audit entries of a change, committed in its transaction as new items (no shared head: see
 * domain/audit.ts); the sequencer places them in the Merkle log afterwards.
 */
export type AuditAppend = AuditEntry[];

/** Everything the gate needs about one version, read in one round trip. */
export interface VersionContext {
  version?: ModelVersion & { rev: number };
  policy?: PolicyVersion;
  artifact?: ArtifactNode & { rev: number };
}

export interface VersionChange {
  version: ModelVersion;
  /** The `rev` read; 0 when the version was not recorded yet. */
  expectedRev: number;
  audit: AuditAppend;
  review?: { review: ReviewRequest; links: ReviewLink[] };
  /** Waiting for its training job: added to the artifact node, which must still have no producer. */
  awaitArtifact?: { uri: string; expectedRev: number };
  /** Linked to its training job through this artifact (and so derived from the job's datasets). */
  linkArtifact?: { uri: string; datasets: DatasetInput[]; job: string };
  /**
   * A job confirmed through the artifact path (DescribeTrainingJob + ListTags) before its own event:
   * recorded in the same transaction as the version, so a refused version leaves no job behind.
   * Needs `linkArtifact`: the artifact node gets its producer and this consumer in one update.
   */
  recordJob?: { job: TrainingJob; audit: AuditAppend; artifactExpectedRev: number };
}

export interface JobContext {
  job?: TrainingJob & { rev: number };
  artifact?: ArtifactNode & { rev: number };
}

export interface JobChange {
  job: TrainingJob;
  expectedRev: number;
  /** Sets the artifact node's producer; conditional on the node's `rev`, so no waiting version is missed. */
  artifact?: { uri: string; expectedRev: number };
  audit: AuditAppend;
  /**
   * An enrichment (a later event carried facts the record lacked): versions already linked to the
   * job's artifact get `trainedBy` when they lack it, and an edge for each dataset added, each
   * conditional on the version's `rev`.
   */
  linkedVersions?: Array<{ group: string; version: number; arn: string; expectedRev: number; trainedBy?: string; datasets: DatasetInput[] }>;
}

export type CommitResult = 'committed' | 'conflict';

/** Whose pending effects: a version's (the gate, reviews, revocations) or an endpoint's (its deployment notices). */
export type EffectOwner = { group: string; version: number } | { endpoint: string };

/** Everything the deployment recorder needs about one endpoint, read in one round trip. */
export interface EndpointContext {
  endpoint?: EndpointRecord & { rev: number };
  /** The recorded versions among those asked for. */
  versions: Array<ModelVersion & { rev: number }>;
}

export interface EndpointChange {
  record: EndpointRecord;
  /** The `rev` read; 0 when the endpoint was not recorded yet. */
  expectedRev: number;
  /** Recorded versions whose `servedBy` gains or loses `<endpoint>/<variant>` (their rev moves on). */
  serve: Array<{ group: string; version: number; key: string }>;
  unserve: Array<{ group: string; version: number; key: string }>;
  audit: AuditAppend;
}

/** One page of the endpoints that serve, with the versions they serve (listUnapprovedDeployments). */
export interface ServingEndpoints {
  endpoints: EndpointRecord[];
  versions: ModelVersion[];
  policies: PolicyVersion[];
  cursor?: string;
  /** DynamoDB requests this page cost. */
  requests: number;
}

/**
 * The commit of a change decided on a context (a version's, a job's). A conflict carries, when
 * DynamoDB said it, the current state of the context's items whose condition failed (`null`: the
 * item is not there), so that the retry decides again without reading them again. Without
 * `current` (a cancellation reason that came without its item, or only items outside the
 * context failed), the retry reads the context again.
 */
export type ContextCommit<C> = 'committed' | { conflict: true; current?: Refreshed<C> };
export type Refreshed<C> = { [K in keyof C]?: NonNullable<C[K]> | null };

/** A reviewer's one subscription on the reviewers topic, shared by every group they review. */
export interface Reviewer {
  email: string;
  groups: string[];
  subscriptionArn?: string;
}

export interface ReviewerChange {
  reviewer: Reviewer;
  /** The `rev` read; 0 when the reviewer had no record. */
  expectedRev: number;
}

/** Everything a review page or a vote needs, read in one round trip. */
export interface ReviewContext {
  link?: ReviewLink;
  review?: ReviewRequest & { rev: number };
  version?: ModelVersion & { rev: number };
  /** The group's current policy: a reviewer it no longer names decides nothing, whatever a review lists. */
  policy?: PolicyVersion;
}

/** A vote: the link consumed once, the review updated, and, when it decides, the version too. */
export interface VoteChange {
  link: ReviewLink;
  review: ReviewRequest;
  expectedReviewRev: number;
  /** Present when the vote decides: the version with its decision and the registry update to carry out. */
  version?: { version: ModelVersion; expectedRev: number };
  /**
   * The `rev` of the version that the vote was checked against (who registered and trained it):
   * a vote that does not decide still commits only if the version did not change meanwhile.
   */
  checkedVersionRev: number;
  audit: AuditAppend;
}

/**
 * A reviewer added to or removed from an open review (addReviewer, removeReviewer): the review,
 * its new or revoked link, and the version when the change sends messages (as pending effects).
 */
export interface ReviewerMembershipChange {
  review: ReviewRequest;
  expectedReviewRev: number;
  /** The added reviewer's new link. */
  addLinks?: ReviewLink[];
  /** The removed reviewer's link; it must still be unused (a vote already cast stays). */
  revokeLink?: { id: string; at: string; by: string };
  /** Present when there are effects: the version with them pending. */
  version?: { version: ModelVersion; expectedRev: number };
  audit: AuditAppend;
}

/** A change to an open review made by the hourly sweep (a reminder, or expiry), with the version's effects. */
export interface SweepChange {
  review: ReviewRequest;
  expectedReviewRev: number;
  version: ModelVersion;
  expectedVersionRev: number;
  audit: AuditAppend;
}

export type DerivedFromDataset =
  | { kind: 'trainingJob'; uri: string; channel: string; job: string; jobArn: string }
  | {
      kind: 'modelVersion';
      uri: string;
      channel: string;
      job: string;
      modelPackageArn: string;
      group: string;
      version: number;
      status?: ApprovalStatus;
      decision?: ModelVersion['decision'];
      /** The endpoints' variants that serve it (`<endpoint>/<variant>`). */
      servedBy?: string[];
    };

export interface LineageItems {
  version: ModelVersion;
  job?: TrainingJob;
  reviews: ReviewRequest[];
  audit: AuditEntry[];
  /** DynamoDB requests made, and in how many sequential rounds. */
  requests: number;
  rounds: number;
}

export interface Page<T> {
  items: T[];
  /** Opaque; pass it back to get the next page. Absent on the last page. */
  cursor?: string;
}

export interface GovernanceStore {
  loadVersionContext(key: { group: string; version: number; artifactUri?: string }): Promise<VersionContext>;
  commitVersionChange(change: VersionChange): Promise<ContextCommit<VersionContext>>;
  loadJobContext(key: { jobName: string; artifactUri?: string }): Promise<JobContext>;
  commitJobChange(change: JobChange): Promise<ContextCommit<JobContext>>;
  /** Claims effects whose lease has run out; returns false when another invocation holds one. */
  claimEffects(key: EffectOwner, ids: string[], now: number, until: number): Promise<boolean>;
  settleEffects(
    key: EffectOwner,
    done: string[],
    failed: Array<{ id: string; error: string }>,
  ): Promise<void>;
  getPolicy(group: string): Promise<PolicyVersion | undefined>;
  /** The current policy. */
  loadPolicyContext(group: string): Promise<{ policy?: PolicyVersion }>;
  listPolicyVersions(group: string): Promise<PolicyVersion[]>;
  commitPolicy(change: { policy: PolicyVersion; audit: AuditAppend; reviewer?: ReviewerChange }): Promise<CommitResult>;
  /** The current policy and one reviewer's subscription record, in one round trip. */
  loadReviewerContext(group: string, reviewer: string): Promise<{ policy?: PolicyVersion; reviewer?: Reviewer & { rev: number } }>;
  getTrainingJob(name: string): Promise<(TrainingJob & { rev: number }) | undefined>;
  getVersion(key: { group: string; version: number }): Promise<(ModelVersion & { rev: number }) | undefined>;
  /**
   * Many versions at once (consistent BatchGetItem, 100 keys a request: a page of ListModelPackages
   * is one request). One entry per key, in the keys' order; undefined where nothing is recorded.
   */
  getVersions(keys: ReadonlyArray<{ group: string; version: number }>): Promise<Array<(ModelVersion & { rev: number }) | undefined>>;
  getArtifact(uri: string): Promise<(ArtifactNode & { rev: number }) | undefined>;
  getReview(key: { group: string; version: number; reviewId: string }): Promise<ReviewRequest | undefined>;
  getReviewLink(id: string): Promise<ReviewLink | undefined>;
  loadReviewContext(key: { linkId?: string; group: string; version: number; reviewId: string }): Promise<ReviewContext>;
  commitVote(change: VoteChange): Promise<CommitResult>;
  commitSweep(change: SweepChange): Promise<CommitResult>;
  /** One open review's reviewer change, in one transaction conditional on the revs read. */
  commitReviewerMembership(change: ReviewerMembershipChange): Promise<CommitResult>;
  /** One group's open reviews, oldest first (a sparse index: closed reviews are not read). */
  listOpenReviewsOfGroup(group: string): Promise<ReviewRequest[]>;
  /** Appends entries that record no other change (refusals). */
  appendAudit(audit: AuditAppend): Promise<CommitResult>;
  /** Open reviews across all groups, oldest first (the sparse index). */
  listOpenReviews(page: { limit: number; cursor?: string }): Promise<Page<ReviewRequest>>;
  /** A version and everything around it: its job and dataset edges, reviews, audit entries (two rounds of requests). */
  loadLineage(key: { group: string; version: number }): Promise<LineageItems | undefined>;
  /** One page of a scope's entries (or one subject's), oldest first, within [from, to] (ISO times). */
  auditTrail(args: { scope: string; subject?: string; from?: string; to?: string; limit: number; cursor?: string }): Promise<Page<AuditEntry>>;
  /** One page of what was derived from a dataset (an S3 URI or prefix): jobs, and versions with their status. */
  datasetImpact(args: { bucket: string; keyPrefix: string; limit: number; cursor?: string }): Promise<Page<DerivedFromDataset>>;
  /** Every group that has a policy (the governed groups), from the sparse policy index. */
  listGovernedGroups(): Promise<string[]>;
  /** Versions that have side effects pending (a sparse index; a hint: entries may be already settled). */
  listVersionsWithPendingEffects(page: { limit: number; cursor?: string }): Promise<Page<ModelVersion & { rev: number }>>;
  /** Versions waiting for their training job (`gateState` awaiting-job; a sparse index), oldest registration first. */
  listVersionsAwaitingJob(page: { limit: number; cursor?: string }): Promise<Page<ModelVersion & { rev: number }>>;
  /**
   * The version in production: the group's newest version whose observed status is Approved
   * (a sparse index, one Query with Limit 1), with its training job (one GetItem). `except`: a
   * version to leave out (the one under review), in which case the next newest is read.
   */
  newestApprovedVersion(group: string, options?: { except?: number }): Promise<{ version: ModelVersion; job?: TrainingJob } | undefined>;
  /** One BatchGetItem: the endpoint's record and the recorded versions among `versions`. */
  loadEndpointContext(key: { name: string; versions: Array<{ group: string; version: number }> }): Promise<EndpointContext>;
  /** The endpoint's record and its versions' `servedBy`, in one transaction conditional on the endpoint's rev. */
  commitEndpointChange(change: EndpointChange): Promise<CommitResult>;
  /**
   * The endpoints that serve (a sparse index), a page at a time, with their versions and policies
   * (one Query, one BatchGetItem per 100 keys); `endpointsOnly`: the Query alone.
   */
  listServingEndpoints(page: { limit: number; cursor?: string; endpointsOnly?: boolean }): Promise<ServingEndpoints>;
  getEndpoint(name: string): Promise<(EndpointRecord & { rev: number }) | undefined>;
  /** Endpoints with notices pending (a sparse index; a hint: they may be settled meanwhile). */
  listEndpointsWithPendingEffects(page: { limit: number; cursor?: string }): Promise<Page<EndpointRecord>>;
  /** The records of these endpoints (BatchGetItem, 100 keys a request); the unrecorded are left out. */
  getEndpoints(names: readonly string[]): Promise<EndpointRecord[]>;
}

/** SageMaker, as the gate needs it. */
export interface Registry {
  /** undefined when SageMaker does not know the job. The answer carries no tags: see `listTags`. */
  describeTrainingJob(name: string): Promise<{ detail: TrainingJobDetail; metrics: Record<string, number> } | undefined>;
  /** A resource's tags (ListTags, every page), e.g. a training job's `sagemaker:user-profile-arn`. */
  listTags(arn: string): Promise<Record<string, string>>;
  /** Who created and who last changed the version (IAM identity or Studio user), its current status and lifecycle stage. */
  describeModelPackage(arn: string): Promise<{ createdBy?: string; lastModifiedBy?: string; status?: ApprovalStatus; lifeCycle?: LifeCycle }>;
  /** One page of a group's versioned packages, newest first (ListModelPackages). */
  listModelPackages(args: { group: string; nextToken?: string }): Promise<{ items: ModelPackageSummary[]; nextToken?: string }>;
  /** A version as its EventBridge event would describe it (from DescribeModelPackage), for reconciliation. */
  describeModelPackageDetail(arn: string): Promise<ModelPackageDetail>;
  /**
   * Many versions' summaries (BatchDescribeModelPackage, 100 ARNs a request): status and identity
   * only, no LastModifiedTime, metrics or metadata (see ModelPackageBrief). `failed`: the ARNs
   * SageMaker answered with an error (its BatchDescribeModelPackageErrorMap).
   */
  batchDescribeModelPackages(arns: readonly string[]): Promise<{ found: ModelPackageBrief[]; failed: Array<{ arn: string; errorCode: string; errorResponse: string }> }>;
  /**
   * An endpoint resolved to what it serves: DescribeEndpoint, DescribeEndpointConfig (the production
   * variants' models), DescribeModel (each model's containers' `ModelPackageName`). undefined when
   * SageMaker does not know the endpoint (deleted).
   */
  describeEndpoint(name: string): Promise<EndpointObservation | undefined>;
  /** One page of the endpoints in service (ListEndpoints StatusEquals InService), for reconciliation. */
  listEndpoints(args: { nextToken?: string }): Promise<{ items: Array<{ name: string; arn: string; lastModified: number }>; nextToken?: string }>;
  /** `refused` when SageMaker rejects the status with a ValidationException. */
  setApprovalStatus(args: {
    modelPackageArn: string;
    status: ApprovalStatus;
    description: string;
    clientToken: string;
  }): Promise<'updated' | 'refused'>;
  /** UpdateModelPackage `ModelLifeCycle` with a ClientToken. Stage statuses are free-form, so there is no fallback. */
  setStageStatus(args: {
    modelPackageArn: string;
    stage: string;
    status: string;
    description: string;
    clientToken: string;
  }): Promise<void>;
}

export interface Notifier {
  publish(args: { topic: 'reviewers' | 'governance'; subject: string; message: string; attributes: Record<string, string> }): Promise<void>;
}

export interface ModelPackageSummary {
  arn: string;
  version: number;
  status: ApprovalStatus;
  createdAt: number;
}

/**
 * A version as BatchDescribeModelPackage summarises it. The summary has no LastModifiedTime,
 * ModelMetrics, CustomerMetadataProperties or LastModifiedBy, so it can confirm a status but not
 * stand in for DescribeModelPackage where the gate acts on a version.
 */
export interface ModelPackageBrief extends ModelPackageSummary {
  group: string;
  /** ModelPackageStatus: Pending, InProgress, Completed, Failed or Deleting. */
  packageStatus: string;
}

/** SageMaker Model Cards, for `exportModelCard` with `pushToSageMaker: true`. */
export interface ModelCards {
  /** Creates the card, or updates it when it exists; returns which. */
  upsert(args: { name: string; content: string; status: 'Draft' | 'PendingReview' | 'Approved' | 'Archived' }): Promise<'created' | 'updated'>;
}

/** The reviewers topic's subscriptions, each with a filter policy on the `reviewer` attribute. */
export interface Subscriptions {
  /** Subscribes the address (idempotent in SNS) and returns the subscription ARN. */
  subscribe(email: string): Promise<string>;
  unsubscribe(subscriptionArn: string): Promise<void>;
}

/** Evaluation reports in S3. `unreadable` for a report that does not exist or cannot be read. */
export interface ReportReader {
  read(uri: string): Promise<{ body: Uint8Array } | { unreadable: string }>;
}

export interface Clock {
  now(): number;
}

/** The review links' signing keys (SSM Parameter Store through Powertools parameters, cached). */
export interface SigningKeys {
  keyRing(): Promise<KeyRing>;
}

/** A sign-in begun: where to send the browser, and what its callback must match. */
export interface SignInStart {
  url: string;
  state: string;
  nonce: string;
  codeVerifier: string;
}

/** Who signed in, from a checked ID token. `identity`: the configured claim (verified), lower-cased. */
export interface SignedIn {
  issuer: string;
  subject: string;
  identity?: string;
  /** Epoch seconds. */
  authTime: number;
}

/** The organisation's OpenID provider (shared/aws/oidc.ts). */
export interface SignInProvider {
  /**
   * The origin of the provider's authorization endpoint. The sign-in step's form posts to the page
   * and is redirected there, and browsers check every redirect of a form against the page's CSP
   * `form-action`, so that page allows this origin too.
   */
  authorizationOrigin(): Promise<string>;
  start(p: { loginHint: string; maxAgeSeconds: number }): Promise<SignInStart>;
  complete(callbackUrl: string, checks: { state: string; nonce: string; codeVerifier: string; maxAgeSeconds: number }): Promise<SignedIn>;
}

/** `reviewAuth: oidc`: the provider, and the key ring that seals the sign-in and session cookies. */
export interface SignInDeps {
  provider: SignInProvider;
  sessionKeys: SigningKeys;
}

export interface Deps {
  /** Present when the stage's `reviewAuth` is `oidc`: then the link alone cannot vote. */
  signIn?: SignInDeps;
  store: GovernanceStore;
  keys: SigningKeys;
  subscriptions: Subscriptions;
  modelCards: ModelCards;
  registry: Registry;
  notifier: Notifier;
  reports: ReportReader;
  clock: Clock;
  newId: () => string;
  reviewBaseUrl: string;
  /** Named on every review page and at the end of every message (shared/domain/organisation.ts). */
  organisation: Organisation;
}
