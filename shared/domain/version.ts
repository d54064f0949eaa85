import type { ApprovalStatus, ModelPackageDetail } from '../schemas/events.js';
import { stageSection, type GateResult, type PolicyVersion, type StageSection } from './policy.js';
import type { PendingEffect } from './effects.js';
import type { Decision } from './review.js';

/** A model package version as modelgate records it. */
export interface ModelVersion {
  arn: string;
  group: string;
  version: number;
  /** The registry's approval status as last observed. */
  status: ApprovalStatus;
  /** The registry's LastModifiedTime of that observation (ms): the ordering key. */
  lastModified: number;
  createdAt: number;
  description?: string;
  artifactUri?: string;
  image?: string;
  imageDigest?: string;
  generatedBy?: string;
  customerMetadata: Record<string, string>;
  report?: { uri: string; digest?: string };
  /** The training job, once linked through the artifact URI. */
  job?: { name: string; arn: string };
  gateState?: 'awaiting-job' | 'passed' | 'failed';
  /** When the gate first found no training job to link (ISO time); only while `gateState` is awaiting-job. */
  awaitingSince?: string;
  gate?: GateResult & { evaluatedAt: string };
  review?: { id: string; status: string };
  /** Who registered the version (DescribeModelPackage CreatedBy) and who trained it, for separation of duties. */
  registeredBy?: string;
  trainedBy?: string;
  /** A decision recorded by modelgate that explains an `Approved` (or `Rejected`) in the registry. */
  decision?: Decision;
  /** The registry's ModelLifeCycle as last observed (absent: the version has none). */
  lifeCycle?: LifeCycle;
  /**
   * The governance of each lifecycle stage the policy has a section for, kept like the
   * version-level one: its gate, its review and the decision that explains `<stage>/<approvedStatus>`.
   */
  stages?: Record<string, StageGovernance>;
  pendingEffects: Record<string, PendingEffect>;
  /**
   * The endpoints' production variants that serve this version (`<endpoint>/<variant>`), kept by
   * the deployment recorder (usecases/deployments.ts): stored as a string set.
   */
  servedBy?: string[];
}

/** A version's ModelLifeCycle: `Stage`, `StageStatus` and `StageDescription`. */
export interface LifeCycle {
  stage: string;
  status: string;
  description?: string;
}

/** One stage's gate, review and decision for one version. */
export interface StageGovernance {
  gateState?: 'passed' | 'failed';
  gate?: GateResult & { evaluatedAt: string };
  review?: { id: string; status: string };
  decision?: Decision;
}

/** What one model package event says about the version. */
export type VersionObservation = Omit<
  ModelVersion,
  'job' | 'gateState' | 'awaitingSince' | 'gate' | 'review' | 'decision' | 'pendingEffects' | 'registeredBy' | 'trainedBy' | 'servedBy' | 'stages'
>;

export function observeVersion(d: ModelPackageDetail): VersionObservation {
  const container = d.InferenceSpecification?.Containers.find((c) => c.ModelDataUrl) ?? d.InferenceSpecification?.Containers[0];
  const stats = d.ModelMetrics?.ModelQuality?.Statistics;
  return {
    arn: d.ModelPackageArn,
    group: d.ModelPackageGroupName,
    version: d.ModelPackageVersion,
    status: d.ModelApprovalStatus,
    // A registration event may carry only CreationTime.
    lastModified: d.LastModifiedTime ?? d.CreationTime,
    createdAt: d.CreationTime,
    ...(d.ModelPackageDescription ? { description: d.ModelPackageDescription } : {}),
    ...(container?.ModelDataUrl ? { artifactUri: container.ModelDataUrl } : {}),
    ...(container?.Image ? { image: container.Image } : {}),
    ...(container?.ImageDigest ? { imageDigest: container.ImageDigest } : {}),
    ...(d.MetadataProperties?.GeneratedBy ? { generatedBy: d.MetadataProperties.GeneratedBy } : {}),
    customerMetadata: d.CustomerMetadataProperties ?? {},
    ...(stats ? { report: { uri: stats.S3Uri, ...(stats.ContentDigest ? { digest: stats.ContentDigest } : {}) } } : {}),
    ...(d.ModelLifeCycle
      ? {
          lifeCycle: {
            stage: d.ModelLifeCycle.Stage,
            status: d.ModelLifeCycle.StageStatus,
            ...(d.ModelLifeCycle.StageDescription ? { description: d.ModelLifeCycle.StageDescription } : {}),
          },
        }
      : {}),
  };
}

/**
 * The state that freshness compares: the approval status and, when there is one, the lifecycle
 * stage and its status (a stage change is a change of state at the same approval status). Stage
 * names and statuses hold no space or slash, so the key is unambiguous.
 */
export function observedState(v: { status?: string; lifeCycle?: Pick<LifeCycle, 'stage' | 'status'> | undefined }): string {
  return v.lifeCycle ? `${v.status ?? ''} ${v.lifeCycle.stage}/${v.lifeCycle.status}` : (v.status ?? '');
}

export type Freshness = 'new' | 'newer' | 'duplicate' | 'stale' | 'tie';

/**
 * Idempotency and ordering key: ARN + LastModifiedTime + status. The same state under a new event
 * id is a duplicate; an older state never overwrites a newer one. Two different statuses with the
 * same LastModifiedTime (events carry whole seconds) are a `tie`, which the caller settles by
 * asking the registry which one is current.
 */
export function freshness(
  current: { lastModified: number; status?: string } | undefined,
  observed: { lastModified: number; status?: string },
): Freshness {
  if (!current) return 'new';
  if (observed.lastModified > current.lastModified) return 'newer';
  if (observed.lastModified < current.lastModified) return 'stale';
  return observed.status === current.status ? 'duplicate' : 'tie';
}

/** What the gate does with an observation that is new or newer. */
export type VersionAction =
  | { kind: 'gate' }
  | { kind: 'record' }
  | { kind: 'revert-approval'; target: ApprovalStatus; fallback?: ApprovalStatus };

export function actionFor(current: ModelVersion | undefined, observed: VersionObservation): VersionAction {
  switch (observed.status) {
    case 'PendingManualApproval':
      // A version is gated once. One waiting for its job is gated when the job's event arrives.
      return current?.gateState === undefined ? { kind: 'gate' } : { kind: 'record' };
    case 'Approved':
      if (current?.decision?.outcome === 'Approved') return { kind: 'record' };
      // A version that failed its gate, or that its reviewers rejected, never goes back to pending.
      return current?.gateState === 'failed' || current?.decision?.outcome === 'Rejected'
        ? { kind: 'revert-approval', target: 'Rejected' }
        : { kind: 'revert-approval', target: 'PendingManualApproval', fallback: 'Rejected' };
    case 'Rejected':
      return { kind: 'record' };
  }
}

/** What the gate does about the version's lifecycle stage, once its approval status needs only recording. */
export type StageAction =
  | { kind: 'gate-stage'; stage: string; section: StageSection }
  | { kind: 'revert-stage'; stage: string; section: StageSection; target: string };

/**
 * A promotion request (`<stage>/<pendingStatus>`) for a stage the policy governs and that this
 * version has not been gated for yet is gated; `<stage>/<approvedStatus>` that no recorded
 * modelgate decision for that stage explains is reverted: to `rejectedStatus` when the stage's
 * gate failed or its reviewers rejected it, else to `pendingStatus` (back to its review). A stage
 * the policy has no section for, and any other status, is only recorded (undefined).
 */
export function stageActionFor(
  current: ModelVersion | undefined,
  observed: Pick<VersionObservation, 'lifeCycle'>,
  policy: Pick<PolicyVersion, 'stages'> | undefined,
): StageAction | undefined {
  const lc = observed.lifeCycle;
  if (!lc) return undefined;
  const section = stageSection(policy, lc.stage);
  if (!section) return undefined;
  const governed = stageOf(current, lc.stage);
  if (lc.status === section.pendingStatus) {
    // A stage is gated once per version, like the version itself; a request whose review expired
    // undecided may be made again (the expiry notice says how).
    const again = governed?.review?.status === 'Expired' && governed.decision === undefined;
    return governed?.gateState === undefined || again ? { kind: 'gate-stage', stage: lc.stage, section } : undefined;
  }
  if (lc.status === section.approvedStatus) {
    if (governed?.decision?.outcome === 'Approved') return undefined;
    const refused = governed?.gateState === 'failed' || governed?.decision?.outcome === 'Rejected';
    return { kind: 'revert-stage', stage: lc.stage, section, target: refused ? section.rejectedStatus : section.pendingStatus };
  }
  return undefined;
}

/** A version's governance of one stage (own keys only: `constructor` is a legal stage name). */
export function stageOf(version: Pick<ModelVersion, 'stages'> | undefined, stage: string): StageGovernance | undefined {
  const stages = version?.stages;
  return stages && Object.hasOwn(stages, stage) ? stages[stage] : undefined;
}
