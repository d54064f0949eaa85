import * as z from '../schemas/zod.js';
import { auditEntries, groupScope } from '../domain/audit.js';
import {
  DEPLOYMENTS_SCOPE,
  deploymentVerdict,
  endpointStatus,
  planEndpoint,
  wantsFollowUp,
  type EndpointObservation,
  type EndpointPlan,
  type EndpointRecord,
  type ServedModel,
  type UnapprovedReason,
} from '../domain/deployment.js';
import { EFFECT_LEASE_MS, type PendingEffect } from '../domain/effects.js';
import { ValidationError } from '../domain/errors.js';
import { parsePayload } from '../domain/payload.js';
import { iso } from '../domain/time.js';
import { freshness } from '../domain/version.js';
import type { ModelVersion } from '../domain/version.js';
import type { AuditAppend, Deps, EndpointContext } from '../ports.js';
import type { EndpointDetail } from '../schemas/events.js';
import { logger } from '../logger.js';
import { carryOut, resumeOwned } from './effects.js';
import { withReadCache } from './read-cache.js';
import { untilCommitted } from './retry.js';

export type EndpointOutcome = 'recorded' | 'deleted' | 'duplicate' | 'stale';

export interface EndpointReport {
  outcome: EndpointOutcome;
  endpoint: string;
  status: string;
  /** Variants that serve a version modelgate has not approved, told in this change. */
  unapproved: Array<{ variant: string; modelPackageArn: string | null; reason: UnapprovedReason }>;
}

/**
 * The deployment recorder: one "SageMaker Endpoint State Change" event. The event names no model,
 * so SageMaker is asked what the endpoint serves now (DescribeEndpoint → DescribeEndpointConfig →
 * DescribeModel); that answer, keyed on the endpoint and its LastModifiedTime, is what is recorded.
 * An old or repeated event therefore records nothing new: SageMaker describes the same state,
 * which is a duplicate (or older than what another invocation recorded: stale).
 */
export async function handleEndpointChange(invocation: Deps, detail: EndpointDetail): Promise<EndpointReport> {
  const deps = withReadCache(invocation);
  if (!endpointStatus(detail.EndpointStatus)) {
    throw new ValidationError('endpoint state change event', [`detail.EndpointStatus: ${JSON.stringify(detail.EndpointStatus.slice(0, 40))} is not a status SageMaker documents`]);
  }
  const described = await deps.registry.describeEndpoint(detail.EndpointName);
  type Attempt = { fresh: 'newer' | 'duplicate' | 'stale'; ctx: EndpointContext; plan?: EndpointPlan };
  const report = await untilCommitted<Attempt>(async () => {
    const ctx = await loadContext(deps, detail.EndpointName, described);
    const observed = described ?? deletedObservation(detail, ctx.endpoint);
    const current = ctx.endpoint;
    const fresh = compare(current, observed);
    if (fresh !== 'newer') return { result: 'committed' as const, value: { fresh, ctx } };
    const versions = new Map(ctx.versions.map((v) => [v.arn.toLowerCase(), stripRev(v)] as const));
    const now = deps.clock.now();
    const plan = planEndpoint({ current, observed, versions, now });
    const pending: Record<string, PendingEffect> = { ...plan.record.pendingEffects };
    for (const n of plan.notices) pending[n.id] = { effect: n, claimedUntil: now + EFFECT_LEASE_MS, attempts: 1, since: now };
    const recorded = new Set(ctx.versions.map((v) => `${v.group.toLowerCase()}|${v.version}`));
    const isRecorded = (v: { group: string; version: number }) => recorded.has(`${v.group.toLowerCase()}|${v.version}`);
    const audit: AuditAppend = [
      ...auditEntries(DEPLOYMENTS_SCOPE, plan.audit, now, deps.newId),
      ...plan.versionAudit.flatMap(({ group, event }) => auditEntries(group ? groupScope(group) : DEPLOYMENTS_SCOPE, [event], now, deps.newId)),
    ];
    const result = await deps.store.commitEndpointChange({
      record: { ...plan.record, pendingEffects: pending },
      expectedRev: current?.rev ?? 0,
      serve: plan.serve.filter(isRecorded),
      unserve: plan.unserve.filter(isRecorded),
      audit,
    });
    return { result, value: { fresh, ctx, plan } };
  });
  const { fresh, ctx, plan } = report;
  const name = described?.name ?? detail.EndpointName;
  if (!plan) {
    // A repeat: whatever an earlier invocation left unsent goes now.
    if (ctx.endpoint) await resumeOwned(deps, { endpoint: name }, ctx.endpoint.pendingEffects);
    const outcome = fresh === 'stale' ? 'stale' : 'duplicate';
    logger.info('endpoint processed', { endpoint: name, outcome });
    return { outcome, endpoint: name, status: ctx.endpoint?.status ?? 'unknown', unapproved: [] };
  }
  if (plan.notices.length > 0) await carryOut(deps, { endpoint: name }, plan.notices);
  const outcome: EndpointOutcome = plan.record.deletedAt ? 'deleted' : 'recorded';
  const unapproved = plan.unapproved.map((u) => ({ variant: u.served.variant, modelPackageArn: u.served.modelPackageArn ?? null, reason: u.verdict.reason }));
  logger.info('endpoint processed', { endpoint: name, status: plan.record.status, outcome, unapproved: unapproved.length });
  return { outcome, endpoint: name, status: plan.record.status, unapproved };
}

/**
 * One BatchGetItem: the endpoint's record and the versions it serves now.
 * When the record names versions the endpoint no longer serves, a second one reads those (a
 * version's `servedBy` is only updated when the version is recorded).
 */
async function loadContext(deps: Deps, name: string, described: EndpointObservation | undefined): Promise<EndpointContext> {
  const served = described?.served ?? [];
  const versions = served.flatMap((s) => (s.group && s.version !== undefined ? [{ group: s.group, version: s.version }] : []));
  const ctx = await deps.store.loadEndpointContext({ name, versions });
  const known = new Set(versions.map((v) => `${v.group.toLowerCase()}|${v.version}`));
  const before = (ctx.endpoint?.served ?? []).flatMap((s) => (s.group && s.version !== undefined && !known.has(`${s.group.toLowerCase()}|${s.version}`) ? [{ group: s.group, version: s.version }] : []));
  if (before.length === 0) return ctx;
  const more = await deps.store.loadEndpointContext({ name, versions: before });
  return { ...ctx, versions: [...ctx.versions, ...more.versions] };
}

/** SageMaker no longer knows the endpoint: it is deleted, as of the event (or of the record, if later). */
function deletedObservation(detail: EndpointDetail, current: EndpointRecord | undefined): EndpointObservation {
  return {
    name: current?.name ?? detail.EndpointName,
    arn: current?.arn ?? detail.EndpointArn,
    status: 'Deleted',
    ...(detail.EndpointConfigName ? { configName: detail.EndpointConfigName } : {}),
    lastModified: Math.max(detail.LastModifiedTime ?? 0, current?.lastModified ?? 0),
    ...(current?.createdAt !== undefined ? { createdAt: current.createdAt } : detail.CreationTime !== undefined ? { createdAt: detail.CreationTime } : {}),
    served: [],
  };
}

/**
 * The gate's ordering rule on the endpoint's LastModifiedTime. What SageMaker describes is its
 * current state, so a description with the record's time but another status or other models is
 * newer (a deletion need not move LastModifiedTime); the same time and the same state is a duplicate.
 */
function compare(current: EndpointRecord | undefined, observed: EndpointObservation): 'newer' | 'duplicate' | 'stale' {
  // Deleted is deleted, whatever time a late event carries.
  if (current?.status === 'Deleted' && observed.status === 'Deleted') return 'duplicate';
  const f = freshness(current, observed);
  if (f === 'new' || f === 'newer') return 'newer';
  if (f === 'stale') return 'stale';
  if (!current) return 'newer';
  const same = f === 'duplicate' && servedKey(current.served) === servedKey(observed.served) && current.configName === observed.configName;
  return same ? 'duplicate' : 'newer';
}

/** What a list of served models says, independent of the order DynamoDB gives a map's keys back in. */
const servedKey = (served: readonly ServedModel[]): string => JSON.stringify(served.map((s) => [s.variant, s.model, s.modelPackageArn ?? null]));

function stripRev(v: ModelVersion & { rev: number }): ModelVersion {
  const { rev: _rev, ...rest } = v;
  return rest;
}

const ListRequestSchema = /* @__PURE__ */ z.schema(() => z.strictObject({
  limit: z._default(z.int().check(z.gte(1), z.lte(100)), 50),
  cursor: z.optional(z.string().check(z.minLength(1), z.maxLength(4096))),
  /** Also the unapproved deployments of groups whose policy only notifies (and of no group). */
  all: z._default(z.boolean(), false),
}));

export interface UnapprovedDeploymentRow {
  endpoint: string;
  endpointArn: string;
  variant: string;
  model: string;
  modelPackageArn: string | null;
  group: string | null;
  version: number | null;
  reason: UnapprovedReason;
  why: string;
  /** The group policy's `unapprovedDeployments` (`notify` when it names none or there is no policy). */
  action: 'notify' | 'follow-up';
  /** The endpoint's LastModifiedTime as recorded (ISO 8601): since when it serves what it serves now. */
  servingSince: string;
}

/**
 * Operator: the endpoints in service whose variants serve a version that modelgate has not
 * approved, judged now (a revocation since the deployment counts), a page of endpoints at a time:
 * one Query of the sparse serving-endpoints index and one BatchGetItem for their versions and
 * policies, whatever the table's size. By default only the groups whose policy asks for an
 * operator follow-up (`unapprovedDeployments: follow-up`); `all: true` lists every one.
 */
export async function listUnapprovedDeployments(deps: Pick<Deps, 'store'>, payload: unknown): Promise<{ deployments: UnapprovedDeploymentRow[]; cursor?: string; requests: number }> {
  const { limit, cursor, all } = parsePayload(ListRequestSchema, payload ?? {}, 'listUnapprovedDeployments request');
  const page = await deps.store.listServingEndpoints({ limit, ...(cursor ? { cursor } : {}) });
  const versions = new Map(page.versions.map((v) => [v.arn.toLowerCase(), v] as const));
  const policies = new Map(page.policies.map((p) => [p.modelPackageGroupName.toLowerCase(), p] as const));
  const deployments = page.endpoints.flatMap((e) =>
    e.served.flatMap((s): UnapprovedDeploymentRow[] => {
      const verdict = deploymentVerdict(s, s.modelPackageArn ? versions.get(s.modelPackageArn.toLowerCase()) : undefined);
      if (verdict.approved) return [];
      const action = wantsFollowUp(s.group ? policies.get(s.group.toLowerCase()) : undefined) ? 'follow-up' : 'notify';
      if (!all && action !== 'follow-up') return [];
      return [
        {
          endpoint: e.name,
          endpointArn: e.arn,
          variant: s.variant,
          model: s.model,
          modelPackageArn: s.modelPackageArn ?? null,
          group: s.group ?? null,
          version: s.version ?? null,
          reason: verdict.reason,
          why: verdict.why,
          action,
          servingSince: iso(e.lastModified),
        },
      ];
    }),
  );
  return { deployments, ...(page.cursor ? { cursor: page.cursor } : {}), requests: page.requests };
}
