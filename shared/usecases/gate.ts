import { TRAINING_SCOPE, auditEntries, groupScope, type AuditEvent } from '../domain/audit.js';
import { EFFECT_LEASE_MS, clientToken, fitDescription, fitStageDescription, type PendingEffect, type SideEffect } from '../domain/effects.js';
import { jobNameFromArtifactUri, producerSummary, trainingJobFromDetail, type ProducerSummary, type TrainingJob } from '../domain/lineage.js';
import { describeFailures, evaluatePolicy, needsSource, type GateResult, type GatheredMetrics, type PolicyVersion, type StageSection } from '../domain/policy.js';
import { readReport } from '../domain/report.js';
import { openReview } from '../domain/review.js';
import {
  actionFor,
  freshness,
  observeVersion,
  observedState,
  stageActionFor,
  stageOf,
  type ModelVersion,
  type StageGovernance,
  type VersionObservation,
} from '../domain/version.js';
import type { Deps, VersionChange, VersionContext } from '../ports.js';
import type { ModelPackageDetail } from '../schemas/events.js';
import { logger } from '../logger.js';
import { carryOut, resumePending } from './effects.js';
import { withReadCache } from './read-cache.js';
import { untilCommittedOn } from './retry.js';
import { jobRecordedEvent } from './training.js';

export type GateOutcome =
  | 'revoked'
  | 'stale'
  | 'duplicate'
  | 'recorded'
  | 'awaiting-job'
  | 'rejected'
  | 'review-opened'
  | 'approval-reverted'
  | 'stage-rejected'
  | 'stage-review-opened'
  | 'stage-approval-reverted';

/** A change planned from what was read: the write, its outcome and the effects it commits. */
export interface Plan {
  outcome: GateOutcome;
  change: Omit<VersionChange, 'audit' | 'expectedRev'>;
  audit: AuditEvent[];
  effects: SideEffect[];
}

/** The model-version gate: one model package state change event. */
export async function handleModelPackageChange(invocation: Deps, detail: ModelPackageDetail): Promise<{ outcome: GateOutcome; modelPackageArn: string }> {
  const deps = withReadCache(invocation);
  const observed = observeVersion(detail);
  const outcome = await decideAndCommit(deps, observed, async (ctx) => {
    // The state compared is the approval status and the lifecycle stage with its status.
    let fresh = freshness(
      ctx.version && { lastModified: ctx.version.lastModified, status: observedState(ctx.version) },
      { lastModified: observed.lastModified, status: observedState(observed) },
    );
    if (fresh === 'tie') {
      // Same LastModifiedTime, another state: the registry says which one is current.
      const current = await deps.registry.describeModelPackage(observed.arn);
      fresh = observedState(current) === observedState(observed) ? 'newer' : 'stale';
    }
    if (fresh === 'stale' || fresh === 'duplicate') return fresh;
    const base = mergeObservation(ctx.version, observed);
    const action = actionFor(ctx.version, observed);
    switch (action.kind) {
      case 'record': {
        // The approval status needs nothing: the lifecycle stage may (a promotion, an unexplained stage approval).
        const stageAction = stageActionFor(ctx.version, observed, ctx.policy);
        if (stageAction?.kind === 'gate-stage' && ctx.policy) return stageGatePlan(deps, ctx, ctx.policy, base, stageAction.stage, stageAction.section);
        if (stageAction?.kind === 'revert-stage') return stageRevertPlan(deps, base, stageAction.stage, stageAction.section, stageAction.target);
        return recordPlan(base, ctx.version);
      }
      case 'gate':
        return gatePlan(deps, ctx, base);
      case 'revert-approval':
        return revertPlan(deps, base, action.target, action.fallback);
    }
  });
  logger.info('model package processed', { modelPackageArn: observed.arn, status: observed.status, outcome });
  return { outcome, modelPackageArn: observed.arn };
}

/** The table key of a versioned model package ARN (its group as the ARN spells it: lowercase). */
export function versionKeyOf(modelPackageArn: string): { group: string; version: number } | undefined {
  const m = /:model-package\/([^/]+)\/(\d+)$/.exec(modelPackageArn);
  return m?.[1] && m[2] ? { group: m[1], version: Number(m[2]) } : undefined;
}

/**
 * Gates a version that was waiting for its training job: when the job's event arrives (every
 * delivery of it), and from the hourly sweep. A version whose job is still not recorded nor
 * confirmable stays as it is, and nothing is written ('duplicate'). Only a version that is still
 * PendingManualApproval in the registry is gated.
 */
export async function gateWaitingVersion(invocation: Deps, modelPackageArn: string): Promise<GateOutcome> {
  const deps = withReadCache(invocation);
  const key = versionKeyOf(modelPackageArn);
  if (!key) throw new Error(`not a versioned model package ARN: ${modelPackageArn}`);
  const current = await deps.store.getVersion(key);
  if (!isWaiting(current)) return 'duplicate';
  return decideAndCommit(deps, current, async (ctx) => {
    if (!isWaiting(ctx.version)) return 'duplicate';
    const p = await gatePlan(deps, ctx, stripRev(ctx.version));
    // Still no job: the version's record and its audit entry already say why it waits.
    return p.outcome === 'awaiting-job' ? 'duplicate' : p;
  });
}

const isWaiting = <V extends ModelVersion>(v: V | undefined): v is V => v?.gateState === 'awaiting-job' && v.status === 'PendingManualApproval';

/**
 * Read (one BatchGetItem) → plan → commit (one transaction) → carry out the effects → settle
 * them (one UpdateItem). A conflict re-plans on what the cancelled transaction returned (or reads
 * again when it returned nothing: see `untilCommittedOn`); a duplicate resumes whatever an earlier
 * invocation left pending.
 */
export async function decideAndCommit(
  deps: Deps,
  observed: Pick<VersionObservation, 'group' | 'version' | 'artifactUri'>,
  plan: (ctx: VersionContext) => Promise<Plan | 'stale' | 'duplicate'>,
): Promise<GateOutcome> {
  const key = { group: observed.group, version: observed.version };
  const load = () => deps.store.loadVersionContext({ ...key, ...(observed.artifactUri ? { artifactUri: observed.artifactUri } : {}) });
  const committed = await untilCommittedOn<VersionContext, { p: Plan | 'stale' | 'duplicate'; ctx: VersionContext }>(load, async (ctx) => {
    const p = await plan(ctx);
    if (p === 'stale' || p === 'duplicate') return { result: 'committed' as const, value: { p, ctx } };
    const now = deps.clock.now();
    const pending: Record<string, PendingEffect> = { ...(ctx.version?.pendingEffects ?? {}) };
    for (const effect of p.effects) pending[effect.id] = { effect, claimedUntil: now + EFFECT_LEASE_MS, attempts: 1, since: now };
    const result = await deps.store.commitVersionChange({
      ...p.change,
      version: { ...p.change.version, pendingEffects: pending },
      expectedRev: ctx.version?.rev ?? 0,
      audit: auditEntries(groupScope(key.group), p.audit, now, deps.newId),
    });
    return { result, value: { p, ctx } };
  });
  const { p, ctx } = committed;
  if (p === 'duplicate') {
    if (ctx.version) await resumePending(deps, stripRev(ctx.version));
    return 'duplicate';
  }
  if (p === 'stale') return 'stale';
  if (p.effects.length > 0) await carryOut(deps, key, p.effects);
  // Effects an earlier invocation left pending (its lease has run out) ride along with this change.
  const now = deps.clock.now();
  const leftOver = Object.entries(ctx.version?.pendingEffects ?? {}).filter(([, e]) => e.claimedUntil < now);
  if (leftOver.length > 0) await resumePending(deps, { ...p.change.version, pendingEffects: Object.fromEntries(leftOver) });
  return p.outcome;
}

function stripRev(v: ModelVersion & { rev: number }): ModelVersion {
  const { rev: _rev, ...rest } = v;
  return rest;
}

/** The observation over what was recorded: facts from the event, governance state kept. */
function mergeObservation(current: ModelVersion | undefined, observed: VersionObservation): ModelVersion {
  // The lifecycle is as observed: an event without one says the version has none.
  const { lifeCycle: _recorded, ...kept }: Partial<ModelVersion> = current ?? {};
  return {
    pendingEffects: {},
    ...kept,
    ...observed,
  };
}

function recordPlan(version: ModelVersion, current: ModelVersion | undefined): Plan {
  const previous = current?.status;
  // Only the lifecycle stage changed: said so, with both.
  const stageOnly = current !== undefined && previous === version.status && observedState(current) !== observedState(version);
  return {
    outcome: 'recorded',
    change: { version },
    audit: [
      {
        action: previous === undefined ? 'version.recorded' : stageOnly ? 'version.stage-changed' : 'version.status-changed',
        subject: version.arn,
        actor: 'sagemaker',
        detail: {
          status: version.status,
          ...(previous ? { previous } : {}),
          lastModified: version.lastModified,
          ...(version.lifeCycle ? { lifeCycle: { stage: version.lifeCycle.stage, status: version.lifeCycle.status } } : {}),
          ...(stageOnly && current.lifeCycle ? { previousLifeCycle: { stage: current.lifeCycle.stage, status: current.lifeCycle.status } } : {}),
        },
      },
    ],
    effects: [],
  };
}

async function gatePlan(deps: Deps, ctx: VersionContext, version: ModelVersion): Promise<Plan> {
  const evaluatedAt = new Date(deps.clock.now()).toISOString();
  const policy = ctx.policy;
  if (!policy) {
    // Fail closed: no policy, no approval.
    return rejectPlan(version, { passed: false, policyVersion: 0, results: [] }, ['no policy for this model package group'], evaluatedAt);
  }
  if (!version.artifactUri) {
    return rejectPlan(version, { passed: false, policyVersion: policy.version, results: [] }, ['the version names no model artifact (ModelDataUrl), so its training job cannot be linked'], evaluatedAt);
  }
  // The job's event came first (the artifact node names its producer), or SageMaker confirms the
  // job that the artifact's path names: then it is recorded with this version, in one transaction.
  const confirmed = ctx.artifact?.producer ? undefined : await jobFromLayout(deps, version.artifactUri);
  const producer = ctx.artifact?.producer ?? (confirmed ? producerSummary(confirmed) : undefined);
  if (!producer) {
    // Unlinked: the version waits, unapproved, for its training job's event (or the sweep).
    const linked: ModelVersion = { ...version, gateState: 'awaiting-job', awaitingSince: version.awaitingSince ?? evaluatedAt };
    return {
      outcome: 'awaiting-job',
      change: { version: linked, awaitArtifact: { uri: version.artifactUri, expectedRev: ctx.artifact?.rev ?? 0 } },
      audit: [
        {
          action: 'version.awaiting-training-job',
          subject: version.arn,
          actor: 'sagemaker',
          detail: { status: version.status, artifactUri: version.artifactUri },
        },
      ],
      effects: [],
    };
  }
  const withJob: ModelVersion = {
    ...settled(version),
    job: { name: producer.name, arn: producer.arn },
    ...(producer.trainedBy ? { trainedBy: producer.trainedBy } : {}),
  };
  const recordJob = confirmed ? await recordConfirmedJob(deps, ctx, confirmed) : {};
  const metrics = await gatherMetrics(deps, policy, withJob, producer);
  const gate = evaluatePolicy(policy, metrics);
  if (!gate.passed) {
    const rejected = rejectPlan(withJob, gate, describeFailures(gate), evaluatedAt, producer);
    return { ...rejected, change: { ...rejected.change, ...recordJob } };
  }

  // Separation of duties needs to know who registered the version; the event does not say.
  const { createdBy } = await deps.registry.describeModelPackage(version.arn);
  const opened = openReview({ version: withJob, policy, gate, now: deps.clock.now(), newId: deps.newId });
  const passed: ModelVersion = {
    ...withJob,
    ...(createdBy ? { registeredBy: createdBy } : {}),
    gateState: 'passed',
    gate: { ...gate, evaluatedAt },
    review: { id: opened.review.id, status: 'Open' },
  };
  return {
    outcome: 'review-opened',
    change: { version: passed, review: opened, linkArtifact: { uri: version.artifactUri, datasets: producer.datasets, job: producer.name }, ...recordJob },
    audit: [
      {
        action: 'version.gate-passed',
        subject: version.arn,
        actor: 'modelgate',
        detail: { policyVersion: gate.policyVersion, results: summarise(gate), trainingJob: producer.arn },
      },
      {
        action: 'review.opened',
        subject: version.arn,
        actor: 'modelgate',
        detail: { reviewId: opened.review.id, reviewers: opened.review.reviewers, requiredApprovals: opened.review.requiredApprovals, expiresAt: opened.review.expiresAt },
      },
    ],
    effects: opened.messages,
  };
}

/** A version that leaves awaiting-job no longer says since when it waited. */
function settled(version: ModelVersion): ModelVersion {
  const { awaitingSince: _since, ...rest } = version;
  return rest;
}

function rejectPlan(version: ModelVersion, gate: GateResult, failures: string[], evaluatedAt: string, producer?: ProducerSummary): Plan {
  const rejected: ModelVersion = { ...settled(version), gateState: 'failed', gate: { ...gate, evaluatedAt } };
  const link = version.job && version.artifactUri && producer ? { linkArtifact: { uri: version.artifactUri, datasets: producer.datasets, job: producer.name } } : {};
  const description = fitDescription(`modelgate: rejected by policy v${gate.policyVersion}: ${failures.join('; ')}`);
  return {
    outcome: 'rejected',
    change: { version: rejected, ...link },
    audit: [
      {
        action: 'version.gate-failed',
        subject: version.arn,
        actor: 'modelgate',
        detail: { policyVersion: gate.policyVersion, failures, results: summarise(gate) },
      },
    ],
    effects: [
      {
        kind: 'setApprovalStatus',
        id: 'gate:reject',
        modelPackageArn: version.arn,
        status: 'Rejected',
        description,
        clientToken: clientToken(version.arn, 'gate-reject', version.lastModified),
      },
      {
        kind: 'notify',
        id: 'gate:notice',
        topic: 'governance',
        subject: `Rejected: ${version.group} v${version.version}`.slice(0, 99),
        message: [
          `modelgate rejected ${version.arn}.`,
          `Policy version: ${gate.policyVersion || 'none'}`,
          'Failed rules:',
          ...failures.map((f) => `  - ${f}`),
        ].join('\n'),
        attributes: { event: 'version-rejected', group: version.group },
      },
    ],
  };
}

async function revertPlan(deps: Deps, version: ModelVersion, target: ModelVersion['status'], fallback?: ModelVersion['status']): Promise<Plan> {
  const who = await deps.registry.describeModelPackage(version.arn);
  const actor = who.lastModifiedBy ?? 'unknown';
  const description = fitDescription(
    `modelgate: reverted an approval by ${actor} that no modelgate decision explains; approvals go through modelgate's review.`,
  );
  return {
    outcome: 'approval-reverted',
    change: { version },
    audit: [
      {
        action: 'approval.reverted',
        subject: version.arn,
        actor,
        detail: { observed: 'Approved', lastModified: version.lastModified, revertTo: target, ...(fallback ? { fallback } : {}) },
      },
    ],
    effects: [
      {
        kind: 'setApprovalStatus',
        id: `revert:${version.lastModified}`,
        modelPackageArn: version.arn,
        status: target,
        ...(fallback ? { fallbackStatus: fallback } : {}),
        description,
        clientToken: clientToken(version.arn, 'revert', version.lastModified),
      },
      {
        kind: 'notify',
        id: `revert-notice:${version.lastModified}`,
        topic: 'governance',
        subject: `Approval reverted: ${version.group} v${version.version}`.slice(0, 99),
        message: [
          `${actor} set ${version.arn} to Approved outside modelgate.`,
          `No recorded modelgate decision explains it, so modelgate set it back to ${target}${fallback ? ` (or ${fallback} if SageMaker refuses that)` : ''}.`,
        ].join('\n'),
        attributes: { event: 'approval-reverted', group: version.group },
      },
    ],
  };
}

/** The version with one stage's governance replaced. */
function withStage(version: ModelVersion, stage: string, governance: StageGovernance): ModelVersion {
  return { ...version, stages: { ...(version.stages ?? {}), [stage]: governance } };
}

/**
 * A promotion request (`<stage>/<pendingStatus>`) for a stage the policy governs: the stage's rules
 * are evaluated on the same metrics as the version's gate (the training job's, the evaluation
 * report, customer metadata). It fails closed: no training job recorded for the artifact, no metric.
 * Failing sets `<stage>/<rejectedStatus>`; passing opens the stage's review.
 */
async function stageGatePlan(deps: Deps, ctx: VersionContext, policy: PolicyVersion, version: ModelVersion, stage: string, section: StageSection): Promise<Plan> {
  const evaluatedAt = new Date(deps.clock.now()).toISOString();
  const rules = { rules: section.rules, version: policy.version };
  const producer = ctx.artifact?.producer;
  if (!producer) {
    const gate: GateResult = { passed: false, policyVersion: policy.version, results: [] };
    return stageRejectPlan(version, stage, section, gate, ['no training job is recorded for the version\'s model artifact, so its metrics cannot be read'], evaluatedAt);
  }
  const metrics = await gatherMetrics(deps, rules, version, producer);
  const gate = evaluatePolicy(rules, metrics);
  if (!gate.passed) return stageRejectPlan(version, stage, section, gate, describeFailures(gate), evaluatedAt);

  // Separation of duties, as for an approval: who registered the version (asked once) and who trained it.
  const registeredBy = version.registeredBy ?? (await deps.registry.describeModelPackage(version.arn)).createdBy;
  const trainedBy = version.trainedBy ?? producer.trainedBy;
  const who: ModelVersion = { ...version, ...(registeredBy ? { registeredBy } : {}), ...(trainedBy ? { trainedBy } : {}) };
  const opened = openReview({ version: who, policy, gate, now: deps.clock.now(), newId: deps.newId, stage: { name: stage, section } });
  const passed = withStage(who, stage, { gateState: 'passed', gate: { ...gate, evaluatedAt }, review: { id: opened.review.id, status: 'Open' } });
  return {
    outcome: 'stage-review-opened',
    change: { version: passed, review: opened },
    audit: [
      {
        action: 'stage.gate-passed',
        subject: version.arn,
        actor: 'modelgate',
        detail: { stage, requested: section.pendingStatus, policyVersion: gate.policyVersion, results: summarise(gate), trainingJob: producer.arn },
      },
      {
        action: 'review.opened',
        subject: version.arn,
        actor: 'modelgate',
        detail: { reviewId: opened.review.id, stage, reviewers: opened.review.reviewers, requiredApprovals: opened.review.requiredApprovals, expiresAt: opened.review.expiresAt },
      },
    ],
    effects: opened.messages,
  };
}

function stageRejectPlan(version: ModelVersion, stage: string, section: StageSection, gate: GateResult, failures: string[], evaluatedAt: string): Plan {
  const rejected = withStage(version, stage, { ...stageOf(version, stage), gateState: 'failed', gate: { ...gate, evaluatedAt } });
  return {
    outcome: 'stage-rejected',
    change: { version: rejected },
    audit: [
      {
        action: 'stage.gate-failed',
        subject: version.arn,
        actor: 'modelgate',
        detail: { stage, requested: section.pendingStatus, setTo: section.rejectedStatus, policyVersion: gate.policyVersion, failures, results: summarise(gate) },
      },
    ],
    effects: [
      {
        kind: 'setStageStatus',
        id: `stage-gate:reject:${stage}`,
        modelPackageArn: version.arn,
        stage,
        status: section.rejectedStatus,
        description: fitStageDescription(`modelgate: promotion to ${stage} rejected by policy v${gate.policyVersion}: ${failures.join('; ')}`),
        clientToken: clientToken(version.arn, 'stage-gate-reject', stage, version.lastModified),
      },
      {
        kind: 'notify',
        id: `stage-gate:notice:${stage}`,
        topic: 'governance',
        subject: `Stage promotion rejected: ${version.group} v${version.version} to ${stage}`.slice(0, 99),
        message: [
          `modelgate rejected the promotion of ${version.arn} to stage ${stage} and set it to ${stage}/${section.rejectedStatus}.`,
          `Policy version: ${gate.policyVersion}`,
          'Failed rules:',
          ...failures.map((f) => `  - ${f}`),
        ].join('\n'),
        attributes: { event: 'stage-rejected', group: version.group },
      },
    ],
  };
}

/**
 * `<stage>/<approvedStatus>` that no recorded modelgate decision for the stage explains (someone
 * used the console or the API), reverted like an unexplained approval, naming who set it.
 */
async function stageRevertPlan(deps: Deps, version: ModelVersion, stage: string, section: StageSection, target: string): Promise<Plan> {
  const who = await deps.registry.describeModelPackage(version.arn);
  const actor = who.lastModifiedBy ?? 'unknown';
  const description = fitStageDescription(
    `modelgate: reverted ${stage}/${section.approvedStatus} set by ${actor}, which no modelgate decision explains; stage approvals go through modelgate's review.`,
  );
  return {
    outcome: 'stage-approval-reverted',
    change: { version },
    audit: [
      {
        action: 'stage-approval.reverted',
        subject: version.arn,
        actor,
        detail: { stage, observed: section.approvedStatus, lastModified: version.lastModified, revertTo: target },
      },
    ],
    effects: [
      {
        kind: 'setStageStatus',
        id: `stage-revert:${stage}:${version.lastModified}`,
        modelPackageArn: version.arn,
        stage,
        status: target,
        description,
        clientToken: clientToken(version.arn, 'stage-revert', stage, version.lastModified),
      },
      {
        kind: 'notify',
        id: `stage-revert-notice:${stage}:${version.lastModified}`,
        topic: 'governance',
        subject: `Stage approval reverted: ${version.group} v${version.version} ${stage}`.slice(0, 99),
        message: [
          `${actor} set ${version.arn} to ${stage}/${section.approvedStatus} outside modelgate.`,
          `No recorded modelgate decision for stage ${stage} explains it, so modelgate set it back to ${stage}/${target}.`,
        ].join('\n'),
        attributes: { event: 'stage-approval-reverted', group: version.group },
      },
    ],
  };
}

/**
 * The job that the artifact's path names, when SageMaker confirms it (Completed, same artifact) and
 * its event has not arrived. DescribeTrainingJob has no tags, so they are read with ListTags: the
 * Studio user who trained the job is one (separation of duties).
 */
async function jobFromLayout(deps: Deps, artifactUri: string): Promise<TrainingJob | undefined> {
  const jobName = jobNameFromArtifactUri(artifactUri);
  if (!jobName) return undefined;
  const described = await deps.registry.describeTrainingJob(jobName);
  if (!described || described.detail.TrainingJobStatus !== 'Completed') return undefined;
  if (described.detail.ModelArtifacts?.S3ModelArtifacts !== artifactUri) return undefined;
  const tags = await deps.registry.listTags(described.detail.TrainingJobArn);
  return trainingJobFromDetail({ ...described.detail, Tags: tags }, described.metrics);
}

/**
 * The confirmed job's record, committed with the version (VersionChange.recordJob): a version
 * refused later in the plan or at its commit leaves no job, no artifact node and no audit entry.
 */
async function recordConfirmedJob(deps: Deps, ctx: VersionContext, job: TrainingJob): Promise<Pick<VersionChange, 'recordJob'>> {
  const audit = auditEntries(TRAINING_SCOPE, [jobRecordedEvent(job, 'DescribeTrainingJob')], deps.clock.now(), deps.newId);
  return { recordJob: { job, audit, artifactExpectedRev: ctx.artifact?.rev ?? 0 } };
}

async function gatherMetrics(
  deps: Deps,
  policy: Pick<PolicyVersion, 'rules'>,
  version: ModelVersion,
  producer: ProducerSummary,
): Promise<GatheredMetrics> {
  let evaluationReport: GatheredMetrics['evaluationReport'];
  if (needsSource(policy, 'evaluationReport') && version.report) {
    const read = await deps.reports.read(version.report.uri);
    evaluationReport = 'unreadable' in read ? read : readReport(read.body, version.report.digest);
  }
  return { trainingJob: producer.metrics, evaluationReport, customerMetadata: version.customerMetadata };
}

function summarise(gate: GateResult) {
  return gate.results.map((r) => ({
    metric: `${r.rule.source}:${r.rule.metric}`,
    comparison: r.rule.comparison,
    threshold: r.rule.threshold,
    actual: r.actual ?? null,
    passed: r.passed,
    ...(r.problem ? { problem: r.problem } : {}),
  }));
}
