import type { AuditEvent } from './audit.js';
import type { Notify, PendingEffect } from './effects.js';
import type { PolicyVersion } from './policy.js';
import type { ModelVersion } from './version.js';

/**
 * Deployments: which endpoints (and production variants) serve which model package versions, and
 * whether modelgate approved each. Pure: the recorder (usecases/deployments.ts) reads SageMaker
 * and the table, this decides what to record and whom to tell.
 */

/** SageMaker's endpoint statuses as DescribeEndpoint spells them, plus `Deleted` (SageMaker no longer knows it). */
export type EndpointStatus =
  | 'OutOfService'
  | 'Creating'
  | 'Updating'
  | 'SystemUpdating'
  | 'RollingBack'
  | 'InService'
  | 'Deleting'
  | 'Failed'
  | 'UpdateRollbackFailed'
  | 'Deleted';

const STATUSES: readonly EndpointStatus[] = ['OutOfService', 'Creating', 'Updating', 'SystemUpdating', 'RollingBack', 'InService', 'Deleting', 'Failed', 'UpdateRollbackFailed', 'Deleted'];

/**
 * The event spells a status `IN_SERVICE`, DescribeEndpoint `InService`: both read as `InService`
 * (compared without case and underscores). undefined for a spelling SageMaker does not document.
 */
export function endpointStatus(raw: string): EndpointStatus | undefined {
  const folded = raw.replaceAll('_', '').toLowerCase();
  return STATUSES.find((s) => s.toLowerCase() === folded);
}

/**
 * Statuses in which the endpoint's variants take traffic. While it updates (or rolls back) the
 * variants that DescribeEndpoint names still serve; a deleting, failed or out-of-service endpoint
 * serves nothing.
 */
const SERVING: ReadonlySet<EndpointStatus> = new Set(['InService', 'Updating', 'SystemUpdating', 'RollingBack', 'UpdateRollbackFailed']);
export const isServing = (s: EndpointStatus): boolean => SERVING.has(s);

/** One container of one production variant: the model it runs and the version that model was created from. */
export interface ServedModel {
  variant: string;
  model: string;
  /** `Containers[].ModelPackageName` (or `PrimaryContainer`'s), when the model was created from a model package. */
  modelPackageArn?: string;
  /** The version's table key, when `modelPackageArn` is a versioned model package ARN. */
  group?: string;
  version?: number;
}

/** An endpoint as SageMaker describes it, resolved to the versions it serves. */
export interface EndpointObservation {
  name: string;
  arn: string;
  status: EndpointStatus;
  configName?: string;
  /** DescribeEndpoint's LastModifiedTime (ms), or the event's for a deleted endpoint: the ordering key. */
  lastModified: number;
  createdAt?: number;
  /** Empty unless the endpoint is serving. */
  served: ServedModel[];
}

/** An endpoint as modelgate records it. */
export interface EndpointRecord extends EndpointObservation {
  /** Notices not yet sent: the same claim-and-settle as a version's effects (domain/effects.ts). */
  pendingEffects: Record<string, PendingEffect>;
  deletedAt?: string;
}

export type UnapprovedReason =
  | 'not-from-registry'
  | 'unknown-version'
  | 'never-gated'
  | 'awaiting-job'
  | 'in-review'
  | 'rejected'
  | 'revoked'
  | 'unexplained-approval'
  | 'not-approved';

export type Verdict = { approved: true } | { approved: false; reason: UnapprovedReason; why: string };

/**
 * Whether modelgate approved what a variant serves: only a version whose registry status is
 * Approved and that a modelgate decision approved (its review, and nothing revoked since) is.
 */
export function deploymentVerdict(served: Pick<ServedModel, 'modelPackageArn' | 'group' | 'version'>, version: ModelVersion | undefined): Verdict {
  const no = (reason: UnapprovedReason, why: string): Verdict => ({ approved: false, reason, why });
  if (!served.modelPackageArn) return no('not-from-registry', 'the model was not created from a model package version');
  if (served.version === undefined) return no('unknown-version', `${served.modelPackageArn} is not a versioned model package ARN`);
  if (!version) return no('unknown-version', 'modelgate has no record of this version');
  const decision = version.decision;
  if (decision?.outcome === 'Rejected') {
    return decision.revokedFor
      ? no('revoked', `its approval was revoked by ${decision.rejectedBy ?? 'an operator'} (derived from ${decision.revokedFor})`)
      : no('rejected', `its reviewers rejected it${decision.rejectedBy ? ` (${decision.rejectedBy})` : ''}`);
  }
  if (decision?.outcome === 'Approved') {
    return version.status === 'Approved' ? { approved: true } : no('not-approved', `the registry says ${version.status}`);
  }
  if (version.status === 'Approved') return no('unexplained-approval', 'it was set to Approved outside modelgate (no modelgate decision)');
  switch (version.gateState) {
    case 'failed':
      return no('rejected', `it failed its group's policy (v${version.gate?.policyVersion ?? 0})`);
    case 'awaiting-job':
      return no('awaiting-job', 'it is waiting for its training job and was never gated');
    case 'passed':
      return no('in-review', 'its review has not decided');
    default:
      return no('never-gated', `modelgate never gated it (status ${version.status})`);
  }
}

/** The key of a served version's deployment: `<endpoint>/<variant>` (both SageMaker names, no `/`). */
export const deploymentKey = (endpoint: string, variant: string): string => `${endpoint}/${variant}`;

export function parseDeploymentKey(key: string): { endpoint: string; variant: string } {
  const at = key.indexOf('/');
  return { endpoint: key.slice(0, at), variant: key.slice(at + 1) };
}

const versionArn = (s: ServedModel): string | undefined => (s.version === undefined ? undefined : s.modelPackageArn);
const sameServed = (a: ServedModel, b: ServedModel): boolean => a.variant === b.variant && a.model === b.model && a.modelPackageArn === b.modelPackageArn;

export interface UnapprovedDeployment {
  served: ServedModel;
  verdict: Extract<Verdict, { approved: false }>;
}

/** What an endpoint observation changes: the record, the versions' deployment keys, audit and notices. */
export interface EndpointPlan {
  record: EndpointRecord;
  /** Versions now served by a variant they were not served by: add `<endpoint>/<variant>` to their `servedBy`. */
  serve: Array<{ group: string; version: number; key: string }>;
  /** Versions no longer served by a variant: remove the key. */
  unserve: Array<{ group: string; version: number; key: string }>;
  unapproved: UnapprovedDeployment[];
  /** Endpoint-level entries (scope `deployments`). */
  audit: AuditEvent[];
  /** Per-version entries, in the version's group scope (so they are in its lineage). */
  versionAudit: Array<{ group: string; event: AuditEvent }>;
  notices: Notify[];
}

export const DEPLOYMENTS_SCOPE = 'deployments';

/**
 * Plans the record of a fresh observation (the caller has checked it is newer than the record).
 * A variant that serves what it served before is not told again: repeats and re-deliveries send
 * no second notice. A revocation after deployment is told by the revocation (usecases/impact.ts).
 */
export function planEndpoint(args: {
  current: EndpointRecord | undefined;
  observed: EndpointObservation;
  /** The recorded versions that the observation serves, by lower-cased ARN. */
  versions: ReadonlyMap<string, ModelVersion>;
  now: number;
}): EndpointPlan {
  const { current, observed, versions, now } = args;
  const previously = current && isServing(current.status) ? current.served : [];
  const serving = isServing(observed.status) ? observed.served : [];
  const keyed = (list: ServedModel[]) =>
    new Map(
      list.flatMap((s) => (versionArn(s) && s.group ? [[`${deploymentKey(observed.name, s.variant)}|${s.group.toLowerCase()}|${s.version}`, s] as const] : [])),
    );
  const before = keyed(previously);
  const after = keyed(serving);
  const serve = [...after].filter(([k]) => !before.has(k)).map(([, s]) => ({ group: s.group ?? '', version: s.version ?? 0, key: deploymentKey(observed.name, s.variant) }));
  const unserve = [...before].filter(([k]) => !after.has(k)).map(([, s]) => ({ group: s.group ?? '', version: s.version ?? 0, key: deploymentKey(observed.name, s.variant) }));
  const fresh = serving.filter((s) => !previously.some((p) => sameServed(p, s)));
  const unapproved = fresh.flatMap((served): UnapprovedDeployment[] => {
    const verdict = deploymentVerdict(served, served.modelPackageArn ? versions.get(served.modelPackageArn.toLowerCase()) : undefined);
    return verdict.approved ? [] : [{ served, verdict }];
  });
  const deleted = observed.status === 'Deleted' || observed.status === 'Deleting';
  const record: EndpointRecord = {
    ...observed,
    served: serving,
    pendingEffects: { ...(current?.pendingEffects ?? {}) },
    ...(deleted ? { deletedAt: current?.deletedAt ?? new Date(now).toISOString() } : {}),
  };
  const summary = serving.map((s) => ({ variant: s.variant, model: s.model, modelPackageArn: s.modelPackageArn ?? null }));
  const audit: AuditEvent[] = [
    deleted
      ? { action: 'deployment.deleted', subject: observed.arn, actor: 'sagemaker', detail: { endpoint: observed.name, lastModified: observed.lastModified, previouslyServed: previously.length } }
      : {
          action: current ? 'deployment.changed' : 'deployment.recorded',
          subject: observed.arn,
          actor: 'sagemaker',
          detail: { endpoint: observed.name, status: observed.status, endpointConfig: observed.configName ?? null, lastModified: observed.lastModified, served: summary },
        },
  ];
  const versionAudit = unapproved.map(({ served, verdict }) => ({
    group: served.group ?? '',
    event: unapprovedEvent(observed, served, verdict),
  }));
  const notices = unapproved.length > 0 ? [unapprovedNotice(observed, unapproved)] : [];
  return { record, serve, unserve, unapproved, audit, versionAudit, notices };
}

export function unapprovedEvent(endpoint: Pick<EndpointObservation, 'name' | 'arn'>, served: ServedModel, verdict: Extract<Verdict, { approved: false }>): AuditEvent {
  return {
    action: 'deployment.unapproved',
    subject: served.modelPackageArn && served.version !== undefined ? served.modelPackageArn : endpoint.arn,
    actor: 'modelgate',
    detail: {
      endpoint: endpoint.name,
      endpointArn: endpoint.arn,
      variant: served.variant,
      model: served.model,
      modelPackageArn: served.modelPackageArn ?? null,
      reason: verdict.reason,
      why: verdict.why,
    },
  };
}

/** One governance notice per endpoint change, naming each unapproved variant, its version and why. */
export function unapprovedNotice(endpoint: Pick<EndpointObservation, 'name' | 'arn' | 'lastModified'>, list: UnapprovedDeployment[], cause = 'serves'): Notify {
  const groups = [...new Set(list.map((u) => u.served.group).filter((g): g is string => !!g))];
  return {
    kind: 'notify',
    id: `deployment-notice:${endpoint.name}:${endpoint.lastModified}`,
    topic: 'governance',
    subject: `Unapproved deployment: ${endpoint.name}`.slice(0, 99),
    message: [
      `Endpoint ${endpoint.name} (${endpoint.arn}) ${cause} a model version that modelgate has not approved:`,
      ...list.map((u) => `  - variant ${u.served.variant}: ${u.served.modelPackageArn ?? `model ${u.served.model} (no model package)`}: ${u.verdict.reason}: ${u.verdict.why}`),
    ].join('\n'),
    attributes: { event: 'deployment-unapproved', endpoint: endpoint.name, ...(groups.length === 1 && groups[0] ? { group: groups[0] } : {}) },
  };
}

/** Whether a policy asks for an operator follow-up of its group's unapproved deployments. */
export const wantsFollowUp = (policy: PolicyVersion | undefined): boolean => policy?.unapprovedDeployments === 'follow-up';
