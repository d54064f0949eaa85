import * as z from '../schemas/zod.js';
import { ValidationError, assertIsError, describeIssues } from '../domain/errors.js';
import { GroupNameSchema } from '../domain/policy.js';
import type { Deps, ModelPackageSummary } from '../ports.js';
import type { ApprovalStatus, ModelPackageDetail } from '../schemas/events.js';
import type { ModelVersion } from '../domain/version.js';
import { logger } from '../logger.js';
import { handleModelPackageChange, type GateOutcome } from './gate.js';
import { reconcileEndpoints, type EndpointsReport } from './reconcile-endpoints.js';
import { IncompleteRun, failuresOf, type RunFailure } from './runs.js';

/**
 * Reconciliation with the registry: finds what the events did not tell modelgate (a missed event,
 * an approval made while an event was lost) and feeds the registry's current state of each such
 * version to the gate, the one path for any observed state. Nothing is written around the gate.
 */

const ReconcileRequestSchema = /* @__PURE__ */ z.schema(() => z.strictObject({
  /** One group; default: every governed group (every group with a policy). */
  modelPackageGroupName: z.optional(GroupNameSchema),
  /** Report only: no SageMaker call but List, no write. */
  dryRun: z.optional(z.boolean()),
}));
export type ReconcileRequest = z.infer<typeof ReconcileRequestSchema>;

export interface ReconcileAction {
  arn: string;
  /** What the gate did with the registry's state. */
  outcome: GateOutcome;
  /** What the gate did with the states that its own registry update caused (a revert, a rejection). */
  then?: GateOutcome[];
}

export interface GroupReport {
  group: string;
  /** Versions the registry lists. */
  registryVersions: number;
  /** Of those, versions the table had recorded before this run. */
  recorded: number;
  /** Versions the table never saw (a missed event). */
  missing: string[];
  /** Recorded versions that the registry says are Approved with no modelgate decision behind it. */
  unexplainedApprovals: string[];
  /** Other recorded versions whose status in the registry differs from the record. */
  statusDrift: Array<{ arn: string; registry: ApprovalStatus; recorded: ApprovalStatus }>;
  /**
   * Recorded versions still waiting for their training job (ungated, unapproved), with how long
   * they have waited. The hourly sweep gates each one as soon as its job is recorded or confirmed.
   */
  stuck: StuckVersion[];
  /** Empty in a dry run. */
  actions: ReconcileAction[];
}

export interface StuckVersion {
  arn: string;
  /** When the gate first found no job to link (for a version recorded before that was kept: its registration). */
  awaitingSince: string;
  ageHours: number;
  artifactUri?: string;
}

export interface ReconcileReport {
  groups: GroupReport[];
  totals: {
    groups: number;
    registryVersions: number;
    recorded: number;
    missing: number;
    unexplainedApprovals: number;
    statusDrift: number;
    stuck: number;
    actions: number;
    failures: number;
  };
  /** Endpoints, when every governed group is reconciled (no `modelPackageGroupName`): see reconcile-endpoints.ts. */
  endpoints?: EndpointsReport;
  /**
   * Every version, listing or endpoint that failed, named (the others were still reconciled).
   * Any failure fails the run: `IncompleteRun` with this report, thrown at the end.
   */
  failures: RunFailure[];
  dryRun: boolean;
}

/** Outcomes whose side effects change the registry's status, which the gate then has to observe. */
const CHANGES_REGISTRY: ReadonlySet<GateOutcome> = new Set(['rejected', 'approval-reverted', 'stage-rejected', 'stage-approval-reverted']);
/** Revert → gate → reject → record is the longest chain of follow-ups. */
const MAX_FOLLOW_UPS = 4;

/** The request, from an operator's payload or the daily EventBridge schedule (which reconciles every governed group). */
export function parseReconcileRequest(payload: unknown): ReconcileRequest {
  if (isScheduledEvent(payload)) return {};
  const parsed = ReconcileRequestSchema.safeParse(payload ?? {});
  if (!parsed.success) throw new ValidationError('reconcile request', describeIssues(parsed.error.issues));
  return parsed.data;
}

function isScheduledEvent(payload: unknown): boolean {
  return (
    typeof payload === 'object' &&
    payload !== null &&
    (payload as Record<string, unknown>)['source'] === 'aws.events' &&
    (payload as Record<string, unknown>)['detail-type'] === 'Scheduled Event'
  );
}

/**
 * Reconciles every governed group (or the one named), then the endpoints. One item's failure does
 * not stop the others; when any failed, the run throws `IncompleteRun` with the whole report after
 * doing everything else. The daily schedule invokes it asynchronously: Lambda retries a failed run
 * once (serverless.yml `maximumRetryAttempts: 1`), which is safe: the gate and the deployment
 * recorder are idempotent (an observation already recorded is a duplicate), so a retry redoes only
 * what failed.
 */
export async function reconcile(deps: Deps, payload: unknown): Promise<ReconcileReport> {
  const request = parseReconcileRequest(payload);
  const dryRun = request.dryRun ?? false;
  const groups = request.modelPackageGroupName ? [request.modelPackageGroupName] : await deps.store.listGovernedGroups();
  const reports: GroupReport[] = [];
  const failures: RunFailure[] = [];
  for (const group of groups) reports.push(await reconcileGroup(deps, group, dryRun, failures));
  const endpoints = request.modelPackageGroupName ? undefined : await reconcileEndpoints(deps, dryRun, failures);
  const sum = (f: (g: GroupReport) => number) => reports.reduce((n, g) => n + f(g), 0);
  const report: ReconcileReport = {
    groups: reports,
    totals: {
      groups: reports.length,
      registryVersions: sum((g) => g.registryVersions),
      recorded: sum((g) => g.recorded),
      missing: sum((g) => g.missing.length),
      unexplainedApprovals: sum((g) => g.unexplainedApprovals.length),
      statusDrift: sum((g) => g.statusDrift.length),
      stuck: sum((g) => g.stuck.length),
      actions: sum((g) => g.actions.length),
      failures: failures.length,
    },
    ...(endpoints ? { endpoints } : {}),
    failures,
    dryRun,
  };
  logger.info('reconciled with the registry', {
    totals: report.totals,
    ...(endpoints ? { endpoints: { inService: endpoints.inService, missing: endpoints.missing.length, outdated: endpoints.outdated.length, gone: endpoints.gone.length, actions: endpoints.actions.length } } : {}),
    dryRun,
  });
  if (failures.length > 0) {
    // The whole list, for Logs Insights: the error's message names at most 10.
    logger.error('reconcile incomplete', { failures });
    throw new IncompleteRun('reconcile', report);
  }
  return report;
}

/** Recorded out-of-step versions confirmed by one BatchDescribeModelPackage (its limit: 100 ARNs). */
const CONFIRM_BATCH = 100;

/** A listed version that is not in step with its record (or has none), waiting to be confirmed and acted on. */
interface OutOfStep {
  summary: ModelPackageSummary;
  recorded?: ModelVersion & { rev: number };
}

/**
 * One group, page by page. Per ListModelPackages page (100 versions): one BatchGetItem for the
 * page's records (`store.getVersions`), so that the versions in step cost no other request. Out-of-
 * step versions are queued in listing order; once 100 recorded ones are queued (and at the end),
 * one BatchDescribeModelPackage confirms their current status, then each queued version that is
 * still out of step goes to the gate, in listing order. Calls per group of n versions, d of them
 * recorded and looking out of step: ⌈n/100⌉ ListModelPackages + ⌈n/100⌉ BatchGetItem +
 * ⌈d/100⌉ BatchDescribeModelPackage, and the gate's costs for each version acted on. (A queue of
 * versions with no record waits for the next confirmation: a summary each, no more.)
 */
async function reconcileGroup(deps: Deps, group: string, dryRun: boolean, failures: RunFailure[]): Promise<GroupReport> {
  const report: GroupReport = {
    group,
    registryVersions: 0,
    recorded: 0,
    missing: [],
    unexplainedApprovals: [],
    statusDrift: [],
    stuck: [],
    actions: [],
  };
  const queue: OutOfStep[] = [];
  let toConfirm = 0;
  const settleQueue = async () => {
    toConfirm = 0;
    await settle(deps, queue.splice(0), report, failures);
  };
  let nextToken: string | undefined;
  do {
    let page: { items: ModelPackageSummary[]; nextToken?: string };
    try {
      page = await deps.registry.listModelPackages({ group, ...(nextToken ? { nextToken } : {}) });
    } catch (e) {
      assertIsError(e);
      logger.error('listing the registry failed', { group, error: e.name, errorMessage: e.message });
      failures.push(...failuresOf('registry-listing', group, e));
      // What was listed before the failure is still reconciled.
      await settleQueue();
      return report;
    }
    report.registryVersions += page.items.length;
    let records: Array<(ModelVersion & { rev: number }) | undefined>;
    try {
      records = await deps.store.getVersions(page.items.map((s) => ({ group, version: s.version })));
    } catch (e) {
      assertIsError(e);
      logger.error('reading the records failed', { group, error: e.name, errorMessage: e.message });
      for (const s of page.items) failures.push(...failuresOf('records', s.arn, e));
      nextToken = page.nextToken;
      continue;
    }
    for (const [i, summary] of page.items.entries()) {
      const recorded = records[i];
      if (recorded) report.recorded++;
      if (recorded?.gateState === 'awaiting-job') report.stuck.push(stuckVersion(recorded, deps.clock.now()));
      if (!outOfStep(summary.status, recorded)) continue;
      if (dryRun) {
        // A dry run reports what the listing says, with no SageMaker call but the listing.
        classify(report, summary.arn, summary.status, recorded);
        continue;
      }
      queue.push({ summary, ...(recorded ? { recorded } : {}) });
      if (recorded && ++toConfirm >= CONFIRM_BATCH) await settleQueue();
    }
    nextToken = page.nextToken;
  } while (nextToken);
  await settleQueue();
  return report;
}

/** Whether a listed status needs the gate: no record, an Approved no decision explains, or another status than recorded. */
function outOfStep(status: ApprovalStatus, recorded: ModelVersion | undefined): boolean {
  return !recorded || (status === 'Approved' && recorded.decision?.outcome !== 'Approved') || status !== recorded.status;
}

/** Puts an out-of-step version in its place in the report. */
function classify(report: GroupReport, arn: string, status: ApprovalStatus, recorded: ModelVersion | undefined): void {
  if (!recorded) report.missing.push(arn);
  else if (status === 'Approved' && recorded.decision?.outcome !== 'Approved') report.unexplainedApprovals.push(arn);
  else report.statusDrift.push({ arn, registry: status, recorded: recorded.status });
}

/**
 * Confirms, then acts on, queued out-of-step versions (≤ 100 of them recorded), in listing order.
 *
 * BatchDescribeModelPackage answers the current approval status of up to 100 versions at once, but
 * its summary has no LastModifiedTime, ModelMetrics, CustomerMetadataProperties or LastModifiedBy:
 * the gate orders observations by LastModifiedTime and evaluates the metrics, so it cannot take a
 * summary. So the batch only confirms, for the recorded versions, that the listing's status still
 * holds (a listing of 10,000 versions is a snapshot 100 pages long): a version whose drift is gone
 * by then is left alone. Each version still out of step then costs one DescribeModelPackage, the
 * full detail the gate needs, in `observe`. Versions with no record are not confirmed: whatever
 * their status, the gate must see their full detail.
 */
async function settle(deps: Deps, batch: OutOfStep[], report: GroupReport, failures: RunFailure[]): Promise<void> {
  if (batch.length === 0) return;
  const toConfirm = batch.filter((v) => v.recorded).map((v) => v.summary.arn);
  const confirmed = new Map<string, ApprovalStatus>();
  const refused = new Map<string, string>();
  if (toConfirm.length > 0) {
    try {
      const { found, failed } = await deps.registry.batchDescribeModelPackages(toConfirm);
      for (const f of found) confirmed.set(f.arn, f.status);
      for (const f of failed) refused.set(f.arn, `BatchDescribeModelPackage: ${f.errorCode}: ${f.errorResponse}`);
    } catch (e) {
      // Without the confirmation, the listing's status stands (as before it existed): the gate's
      // own DescribeModelPackage reads the registry's current state in any case.
      assertIsError(e);
      logger.warn('confirming the statuses failed; acting on the listing', { versions: toConfirm.length, error: e.name, errorMessage: e.message });
    }
  }
  for (const { summary, recorded } of batch) {
    const refusal = refused.get(summary.arn);
    if (refusal) {
      logger.error('reconciling a version failed', { modelPackageArn: summary.arn, error: refusal });
      failures.push({ kind: 'version', owner: summary.arn, error: refusal });
      continue;
    }
    // A version the answer does not name keeps its listed status.
    const status = confirmed.get(summary.arn) ?? summary.status;
    if (!outOfStep(status, recorded)) {
      logger.info('drift gone before reconciliation acted', { modelPackageArn: summary.arn, listed: summary.status, status });
      continue;
    }
    classify(report, summary.arn, status, recorded);
    try {
      report.actions.push(await observe(deps, summary.arn));
    } catch (e) {
      assertIsError(e);
      logger.error('reconciling a version failed', { modelPackageArn: summary.arn, error: e.name, errorMessage: e.message });
      failures.push(...failuresOf('version', summary.arn, e));
    }
  }
}

function stuckVersion(v: ModelVersion, now: number): StuckVersion {
  const since = v.awaitingSince ? Date.parse(v.awaitingSince) : v.createdAt;
  return {
    arn: v.arn,
    awaitingSince: Number.isFinite(since) && Math.abs(since) <= 8.64e15 ? new Date(since).toISOString() : String(since),
    ageHours: Math.round(((now - since) / 3_600_000) * 10) / 10,
    ...(v.artifactUri ? { artifactUri: v.artifactUri } : {}),
  };
}

/**
 * Hands the registry's current state of a version to the gate: DescribeModelPackage per version
 * acted on, because the gate needs what only it carries (LastModifiedTime, the metrics, the
 * customer metadata; LastModifiedBy for an unexplained approval). When the gate's own effects change
 * the registry (a revert, a rejection), the new state is read and handed over too, as its event
 * would be: the record then matches the registry, and a second run finds nothing to do.
 */
async function observe(deps: Deps, arn: string): Promise<ReconcileAction> {
  let detail: ModelPackageDetail = await deps.registry.describeModelPackageDetail(arn);
  const { outcome } = await handleModelPackageChange(deps, detail);
  const then: GateOutcome[] = [];
  let last = outcome;
  while (CHANGES_REGISTRY.has(last) && then.length < MAX_FOLLOW_UPS) {
    const after = await deps.registry.describeModelPackageDetail(arn);
    if (
      after.ModelApprovalStatus === detail.ModelApprovalStatus &&
      after.LastModifiedTime === detail.LastModifiedTime &&
      after.ModelLifeCycle?.Stage === detail.ModelLifeCycle?.Stage &&
      after.ModelLifeCycle?.StageStatus === detail.ModelLifeCycle?.StageStatus
    ) break;
    detail = after;
    last = (await handleModelPackageChange(deps, detail)).outcome;
    then.push(last);
  }
  return { arn, outcome, ...(then.length ? { then } : {}) };
}
