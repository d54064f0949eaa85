import type { ApprovalStatus, ModelPackageDetail } from '../schemas/events.js';
import type { GateResult } from './policy.js';
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
  pendingEffects: Record<string, PendingEffect>;
  /**
   * The endpoints' production variants that serve this version (`<endpoint>/<variant>`), kept by
   * the deployment recorder (usecases/deployments.ts): stored as a string set.
   */
  servedBy?: string[];
}

/** What one model package event says about the version. */
export type VersionObservation = Omit<
  ModelVersion,
  'job' | 'gateState' | 'awaitingSince' | 'gate' | 'review' | 'decision' | 'pendingEffects' | 'registeredBy' | 'trainedBy' | 'servedBy'
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
  };
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
