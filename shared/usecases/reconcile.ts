import { z } from 'zod';
import { ModelgateError, ValidationError, assertIsError, describeIssues } from '../domain/errors.js';
import { GroupNameSchema } from '../domain/policy.js';
import type { Deps, ModelPackageSummary } from '../ports.js';
import type { ApprovalStatus, ModelPackageDetail } from '../schemas/events.js';
import type { ModelVersion } from '../domain/version.js';
import { logger } from '../logger.js';
import { handleModelPackageChange, type GateOutcome } from './gate.js';

/**
 * Reconciliation with the registry: finds what the events did not tell modelgate (a missed event,
 * an approval made while an event was lost) and feeds the registry's current state of each such
 * version to the gate, the one path for any observed state. Nothing is written around the gate.
 */

const ReconcileRequestSchema = z.strictObject({
  /** One group; default: every governed group (every group with a policy). */
  modelPackageGroupName: GroupNameSchema.optional(),
  /** Report only: no SageMaker call but List, no write. */
  dryRun: z.boolean().optional(),
});
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
  /** Versions (or the listing) that failed; the others were still reconciled. */
  errors: Array<{ arn?: string; error: string }>;
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
    errors: number;
  };
  dryRun: boolean;
}

/** Some versions could not be reconciled; the report says which. Retried (the schedule's async retry). */
export class ReconcileIncomplete extends ModelgateError {
  readonly status = 502;
  readonly retryable = true;
  constructor(readonly report: ReconcileReport) {
    super(
      `reconciliation incomplete: ${report.totals.errors} error(s): ` +
        report.groups
          .flatMap((g) => g.errors.map((e) => `${e.arn ?? g.group}: ${e.error}`))
          .join('; '),
    );
  }
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

export async function reconcile(deps: Deps, payload: unknown): Promise<ReconcileReport> {
  const request = parseReconcileRequest(payload);
  const dryRun = request.dryRun ?? false;
  const groups = request.modelPackageGroupName ? [request.modelPackageGroupName] : await deps.store.listGovernedGroups();
  const reports: GroupReport[] = [];
  for (const group of groups) reports.push(await reconcileGroup(deps, group, dryRun));
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
      errors: sum((g) => g.errors.length),
    },
    dryRun,
  };
  logger.info('reconciled with the registry', { totals: report.totals, dryRun });
  if (report.totals.errors > 0) throw new ReconcileIncomplete(report);
  return report;
}

async function reconcileGroup(deps: Deps, group: string, dryRun: boolean): Promise<GroupReport> {
  const report: GroupReport = {
    group,
    registryVersions: 0,
    recorded: 0,
    missing: [],
    unexplainedApprovals: [],
    statusDrift: [],
    stuck: [],
    actions: [],
    errors: [],
  };
  let nextToken: string | undefined;
  do {
    let page: { items: ModelPackageSummary[]; nextToken?: string };
    try {
      page = await deps.registry.listModelPackages({ group, ...(nextToken ? { nextToken } : {}) });
    } catch (e) {
      assertIsError(e);
      logger.error('listing the registry failed', { group, error: e.name, errorMessage: e.message });
      report.errors.push({ error: `ListModelPackages: ${e.name}: ${e.message}` });
      return report;
    }
    for (const summary of page.items) {
      report.registryVersions++;
      try {
        await reconcileVersion(deps, group, summary, dryRun, report);
      } catch (e) {
        assertIsError(e);
        logger.error('reconciling a version failed', { modelPackageArn: summary.arn, error: e.name, errorMessage: e.message });
        report.errors.push({ arn: summary.arn, error: `${e.name}: ${e.message}` });
      }
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return report;
}

async function reconcileVersion(deps: Deps, group: string, summary: ModelPackageSummary, dryRun: boolean, report: GroupReport): Promise<void> {
  const recorded = await deps.store.getVersion({ group, version: summary.version });
  if (recorded) report.recorded++;
  if (recorded?.gateState === 'awaiting-job') report.stuck.push(stuckVersion(recorded, deps.clock.now()));
  if (!recorded) {
    report.missing.push(summary.arn);
  } else if (summary.status === 'Approved' && recorded.decision?.outcome !== 'Approved') {
    report.unexplainedApprovals.push(summary.arn);
  } else if (summary.status !== recorded.status) {
    report.statusDrift.push({ arn: summary.arn, registry: summary.status, recorded: recorded.status });
  } else {
    return; // in step
  }
  if (dryRun) return;
  report.actions.push(await observe(deps, summary.arn));
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
 * Hands the registry's current state of a version to the gate. When the gate's own effects change
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
