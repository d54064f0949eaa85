import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { GateOutcome } from './usecases/gate.js';
import type { TrainingOutcome } from './usecases/training.js';
import type { EndpointReport } from './usecases/deployments.js';
import type { SweepReport } from './usecases/sweep.js';
import type { ReconcileReport } from './usecases/reconcile.js';
import type { SequencingReport } from './usecases/sequencer.js';
import type { CheckpointResult } from './usecases/checkpoint.js';

/**
 * One Metrics instance per process: CloudWatch embedded metric format (EMF) on stdout, namespace
 * `modelgate`, dimensions `service` and `stage` only (no high-cardinality dimension: a model
 * package ARN or a reviewer goes in the logs and traces, never in a dimension). So a kind (a gate
 * outcome, a refusal) is part of the metric's name, from the closed list in `METRICS`.
 */
export const metrics = new Metrics({
  namespace: 'modelgate',
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'modelgate',
  defaultDimensions: { stage: process.env.STAGE ?? 'local' },
});

export { MetricUnit };

type Unit = typeof MetricUnit.Count | typeof MetricUnit.Seconds;

export interface MetricSpec {
  unit: Unit;
  /** The functions that publish it. */
  by: readonly string[];
  /** What one datapoint means. */
  means: string;
}

const count = (by: readonly string[], means: string): MetricSpec => ({ unit: MetricUnit.Count, by, means });
const seconds = (by: readonly string[], means: string): MetricSpec => ({ unit: MetricUnit.Seconds, by, means });

const GATE = ['onModelPackageStateChange', 'reconcile'];

/**
 * Every metric modelgate publishes, by name: the alarms in
 * serverless.yml and the README's table use these names. Counts are per invocation; ages are in
 * seconds at the time the function looked.
 */
export const METRICS = {
  // The gate: one datapoint per observation of a model package version, named by its outcome.
  GateOutcomeRecorded: count(GATE, 'a version state recorded (nothing to gate or revert)'),
  GateOutcomeDuplicate: count(GATE, 'an observation already recorded (a redelivery)'),
  GateOutcomeStale: count(GATE, 'an observation older than the record (ignored)'),
  GateOutcomeRevoked: count(GATE, 'a revocation (datasetImpact --revoke) observed through the gate; datasetImpact itself publishes none'),
  GateOutcomeAwaitingJob: count(GATE, 'a version that waits for its training job to be recorded'),
  GateOutcomeRejected: count(GATE, 'a version that failed its gate and was rejected'),
  GateOutcomeReviewOpened: count(GATE, 'a version that passed its gate: a review opened'),
  GateOutcomeApprovalReverted: count(GATE, 'an approval with no modelgate decision behind it, reverted'),
  GateOutcomeStageRejected: count(GATE, 'a lifecycle stage promotion that failed its gate'),
  GateOutcomeStageReviewOpened: count(GATE, 'a lifecycle stage promotion that passed its gate: a review opened'),
  GateOutcomeStageApprovalReverted: count(GATE, 'a stage approval with no modelgate decision behind it, reverted'),
  ReviewsOpened: count([...GATE, 'reopenReview'], 'a review opened (a version, a stage, or reopened by an operator)'),
  ApprovalsReverted: count(GATE, 'an unexplained approval (version or stage) reverted'),
  // Training jobs and deployments.
  TrainingJobsRecorded: count(['onTrainingJobStateChange'], 'a training job recorded or enriched'),
  VersionsGatedAfterJob: count(['onTrainingJobStateChange'], 'versions that waited for this job, gated now'),
  UnapprovedDeployments: count(['onEndpointStateChange'], 'endpoint variants found serving a version modelgate has not approved'),
  // Reviews.
  VotesApprove: count(['review'], 'a reviewer voted approve'),
  VotesReject: count(['review'], 'a reviewer voted reject'),
  DecisionsApproved: count(['review'], 'a vote that reached the quorum: the review decided Approved'),
  DecisionsRejected: count(['review'], 'a vote that decided the review Rejected'),
  // The hourly sweep (every run publishes each of these, 0 included).
  ReviewRemindersSent: count(['sweepReviews'], 'reminders sent to reviewers who have not voted'),
  ReviewsExpired: count(['sweepReviews'], 'reviews expired unvoted'),
  ReviewsExpiringWithoutQuorum: count(['sweepReviews'], 'open reviews expiring within 24 hours with fewer approvals than their quorum'),
  VersionsRegated: count(['sweepReviews'], 'versions that waited for their job, gated by the sweep'),
  SideEffectsResumed: count(['sweepReviews'], 'pending side effects the sweep carried out'),
  SideEffectsPending: count(['sweepReviews'], 'side effects still pending after the sweep'),
  SideEffectOldestPendingAge: seconds(['sweepReviews'], 'age of the oldest side effect still pending after the sweep (0: none)'),
  SideEffectsFailed: count(['any'], 'side effects (SNS, UpdateModelPackage) that failed and stay pending (a sweep\'s or reconcile\'s, or a SideEffectFailed refusal\'s)'),
  SweepFailures: count(['sweepReviews'], 'items the sweep failed at (the run then fails: IncompleteRun)'),
  // Daily reconciliation (every run publishes each of these, 0 included).
  ReconcileMissingVersions: count(['reconcile'], 'versions in the registry that modelgate never recorded (a missed event)'),
  ReconcileUnexplainedApprovals: count(['reconcile'], 'versions Approved in the registry with no modelgate decision'),
  ReconcileStatusDrift: count(['reconcile'], 'other recorded versions whose registry status differs'),
  ReconcileEndpointDrift: count(['reconcile'], 'endpoints missing, outdated or gone in the record'),
  ReconcileDrift: count(['reconcile'], 'the sum of the four above: everything the events did not tell'),
  ReconcileStuckVersions: count(['reconcile'], 'versions still waiting for their training job'),
  ReconcileFailures: count(['reconcile'], 'items reconcile failed at (the run then fails: IncompleteRun)'),
  // The audit log.
  AuditEntriesSequenced: count(['sequenceAuditLog'], 'audit entries placed in the Merkle log'),
  AuditSequencerLag: seconds(['sequenceAuditLog'], 'how long the oldest entry an invocation placed waited outside the log'),
  AuditUnsequencedAge: seconds(['sequenceAuditLog'], 'age of the oldest entry not yet in the log, when the 5-minute catch-up starts (0: none)'),
  AuditUncheckpointedAge: seconds(['checkpointAuditLog'], 'time since the latest checkpoint when the log has grown past it (0: it has not)'),
  AuditCheckpointsSigned: count(['checkpointAuditLog'], 'checkpoints signed and written'),
  // Refusals and failures, by kind (the ModelgateError's name); one datapoint per failed invocation.
  RefusalValidationError: count(['any'], 'bad input: an event or payload that does not match its schema'),
  RefusalNotFound: count(['any'], 'a request naming something modelgate has no record of'),
  RefusalConflict: count(['any'], 'a concurrent writer kept winning'),
  RefusalSideEffectFailed: count(['any'], 'a committed change whose side effect failed (it stays pending)'),
  RefusalReviewChangeRefused: count(['reissueLink', 'reopenReview'], 'an operator change to a review that its state refuses'),
  RefusalIncompleteRun: count(['sweepReviews', 'reconcile'], 'a scheduled run that did what it could and failed on some items'),
  RefusalCheckpointRefused: count(['checkpointAuditLog'], 'the log and its checkpoints disagree: needs a person'),
  RefusalCheckpointKeyRefused: count(['checkpointAuditLog', 'verifyAuditTrail', 'exportAuditTrail'], 'KMS refused the checkpoint key'),
  RefusalOther: count(['any'], 'another ModelgateError'),
  UnexpectedErrors: count(['any'], 'an error that is not a ModelgateError (a bug, or an SDK error nothing mapped)'),
  // Not Powertools' own ColdStart metric, which adds a function_name dimension: per function,
  // Lambda's REPORT lines say which invocation had an Init Duration (README "Logs Insights queries").
  ColdStart: count(['any'], 'the first invocation in a new execution environment (a cold start)'),
} as const satisfies Record<string, MetricSpec>;

export type MetricName = keyof typeof METRICS;

const add = (name: MetricName, value = 1): void => {
  metrics.addMetric(name, METRICS[name].unit, value);
};

const GATE_OUTCOME_METRIC: Record<GateOutcome, MetricName> = {
  recorded: 'GateOutcomeRecorded',
  duplicate: 'GateOutcomeDuplicate',
  stale: 'GateOutcomeStale',
  revoked: 'GateOutcomeRevoked',
  'awaiting-job': 'GateOutcomeAwaitingJob',
  rejected: 'GateOutcomeRejected',
  'review-opened': 'GateOutcomeReviewOpened',
  'approval-reverted': 'GateOutcomeApprovalReverted',
  'stage-rejected': 'GateOutcomeStageRejected',
  'stage-review-opened': 'GateOutcomeStageReviewOpened',
  'stage-approval-reverted': 'GateOutcomeStageApprovalReverted',
};

function recordGateOutcome(outcome: GateOutcome): void {
  const name = GATE_OUTCOME_METRIC[outcome] as MetricName | undefined;
  if (!name) return;
  add(name);
  if (outcome === 'review-opened' || outcome === 'stage-review-opened') add('ReviewsOpened');
  if (outcome === 'approval-reverted' || outcome === 'stage-approval-reverted') add('ApprovalsReverted');
}

/** The recorders, by function name: each reads its use case's result (the types below). */
const RECORDERS: Record<string, (result: never) => void> = {
  onModelPackageStateChange: (r: { outcome: GateOutcome }) => recordGateOutcome(r.outcome),
  onTrainingJobStateChange: (r: TrainingOutcome) => {
    if (r.outcome === 'recorded' || r.outcome === 'enriched') add('TrainingJobsRecorded');
    if (r.gatedWaiting > 0) add('VersionsGatedAfterJob', r.gatedWaiting);
  },
  onEndpointStateChange: (r: EndpointReport) => {
    if (r.unapproved.length > 0) add('UnapprovedDeployments', r.unapproved.length);
  },
  reopenReview: () => add('ReviewsOpened'),
  sweepReviews: (r: SweepReport) => {
    add('ReviewRemindersSent', r.reminded);
    add('ReviewsExpired', r.expired);
    add('ReviewsExpiringWithoutQuorum', r.expiringWithoutQuorum.length);
    add('VersionsRegated', r.regated);
    add('SideEffectsResumed', r.resumedEffects);
    add('SideEffectsPending', r.pendingEffects);
    add('SideEffectOldestPendingAge', r.oldestPendingEffect?.ageSeconds ?? 0);
    add('SideEffectsFailed', r.failures.filter((f) => f.kind === 'side-effect').length);
    add('SweepFailures', r.failures.length);
  },
  reconcile: (r: ReconcileReport) => {
    const endpointDrift = r.endpoints ? r.endpoints.missing.length + r.endpoints.outdated.length + r.endpoints.gone.length : 0;
    add('ReconcileMissingVersions', r.totals.missing);
    add('ReconcileUnexplainedApprovals', r.totals.unexplainedApprovals);
    add('ReconcileStatusDrift', r.totals.statusDrift);
    add('ReconcileEndpointDrift', endpointDrift);
    add('ReconcileDrift', r.totals.missing + r.totals.unexplainedApprovals + r.totals.statusDrift + endpointDrift);
    add('ReconcileStuckVersions', r.totals.stuck);
    add('ReconcileFailures', r.failures.length);
    const sideEffects = r.failures.filter((f) => f.kind === 'side-effect').length;
    if (sideEffects > 0) add('SideEffectsFailed', sideEffects);
    // Reconcile acts through the gate: its outcomes count as the gate's.
    for (const action of r.groups.flatMap((g) => g.actions)) for (const outcome of [action.outcome, ...(action.then ?? [])]) recordGateOutcome(outcome);
  },
  sequenceAuditLog: (r: SequencingReport) => {
    if (r.sequenced > 0) add('AuditEntriesSequenced', r.sequenced);
    if (r.lagSeconds !== undefined) add('AuditSequencerLag', r.lagSeconds);
  },
  checkpointAuditLog: (r: CheckpointResult) => {
    if (r.made) add('AuditCheckpointsSigned');
  },
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/**
 * What a function's result says, as metrics. Called by the handler with the use case's result,
 * once per invocation; the middleware publishes them (logMetrics). A function with no recorder
 * (the read-only operator functions) publishes only its cold start and refusals.
 */
export function recordResult(functionName: string, result: unknown): void {
  const recorder = RECORDERS[functionName] as ((r: unknown) => void) | undefined;
  if (recorder && isObject(result)) recorder(result);
}

const REFUSALS = new Set<string>(Object.keys(METRICS).filter((n) => n.startsWith('Refusal') && n !== 'RefusalOther'));

/**
 * A refused (ModelgateError) or failed invocation, by kind: `Refusal<ErrorName>` for the known
 * ModelgateErrors, `RefusalOther` for another one, `UnexpectedErrors` for anything else. A
 * side effect that failed counts its effects; a scheduled run that failed on some items
 * (IncompleteRun) also publishes its report's metrics, as a run that succeeded does.
 */
export function recordRefusal(functionName: string, error: unknown): void {
  const name = error instanceof Error ? error.name : '';
  if (!isModelgateError(error)) {
    add('UnexpectedErrors');
    return;
  }
  const metric = `Refusal${name}`;
  add(REFUSALS.has(metric) ? (metric as MetricName) : 'RefusalOther');
  if (name === 'SideEffectFailed') {
    const effects = (error as { effects?: readonly unknown[] }).effects;
    add('SideEffectsFailed', effects && effects.length > 0 ? effects.length : 1);
  }
  if (name === 'IncompleteRun') recordResult(functionName, (error as { report?: unknown }).report);
}

/**
 * Whether the error is a ModelgateError, by its shape (`status` and `retryable`, which every
 * ModelgateError carries), so that this module imports no error classes (nor what they import).
 */
function isModelgateError(e: unknown): e is Error & { status: number; retryable: boolean } {
  return e instanceof Error && typeof (e as { status?: unknown }).status === 'number' && typeof (e as { retryable?: unknown }).retryable === 'boolean';
}

/** A vote, from the review page (shared/usecases/review.ts): the vote, and the decision when it decided. */
export function recordVote(decision: 'approve' | 'reject', decided?: 'Approved' | 'Rejected'): void {
  add(decision === 'approve' ? 'VotesApprove' : 'VotesReject');
  if (decided) add(decided === 'Approved' ? 'DecisionsApproved' : 'DecisionsRejected');
}

/**
 * The audit window, published by the audit functions as soon as they have read it (before
 * anything can fail, so that a failing run still reports it): `unsequenced` by the sequencer's
 * catch-up run, `uncheckpointed` by the checkpoint run.
 */
export function recordAuditWindow(window: 'unsequenced' | 'uncheckpointed', ageSeconds: number): void {
  add(window === 'unsequenced' ? 'AuditUnsequencedAge' : 'AuditUncheckpointedAge', ageSeconds);
}

let warm = false;

/** The first invocation in this process counts one ColdStart (dimensions service and stage, like every other metric). */
export function recordColdStart(): void {
  if (warm) return;
  warm = true;
  add('ColdStart');
}
