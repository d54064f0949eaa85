import { TRAINING_SCOPE, auditEntries, type AuditEvent } from '../domain/audit.js';
import { ModelgateError, assertIsError } from '../domain/errors.js';
import { enrichJob, trainingJobFromDetail, type ArtifactNode, type DatasetInput, type JobEnrichment, type TrainingJob } from '../domain/lineage.js';
import { freshness } from '../domain/version.js';
import type { ContextCommit, Deps, JobChange, JobContext } from '../ports.js';
import type { TrainingJobDetail } from '../schemas/events.js';
import { logger } from '../logger.js';
import { withReadCache } from './read-cache.js';
import { untilCommittedOn } from './retry.js';
import { gateWaitingVersion, versionKeyOf } from './gate.js';

export type JobOutcome = 'recorded' | 'enriched' | 'duplicate' | 'stale';
export type TrainingOutcome = { outcome: JobOutcome; job: string; gatedWaiting: number };

/**
 * The training recorder: the job, its datasets, image, hyperparameters, final metrics and artifact,
 * and the lineage edges between them, in one transaction with its audit entry. A later delivery
 * that carries facts the record lacks (the job was recorded from DescribeTrainingJob, which has no
 * tags) enriches it. Versions that wait for the job's artifact are gated afterwards, on every
 * delivery: a retry (a duplicate) gates a version whose gate failed after the job was committed.
 */
export async function recordTrainingJob(invocation: Deps, detail: TrainingJobDetail): Promise<TrainingOutcome> {
  // One DescribeTrainingJob per invocation, however often the commit is retried or how many waiting versions it gates.
  const deps = withReadCache(invocation);
  const job = trainingJobFromDetail(detail, {});
  // The event carries no FinalMetricDataList; DescribeTrainingJob does. Asked only for a job that
  // completed and is not recorded yet, so a repeated event costs no SageMaker call.
  const metrics =
    detail.TrainingJobStatus === 'Completed'
      ? async () => (await deps.registry.describeTrainingJob(detail.TrainingJobName))?.metrics ?? {}
      : undefined;
  const result = await commitJob(deps, job, metrics);
  let gatedWaiting = 0;
  const failures: Error[] = [];
  for (const arn of result.waiting) {
    // One version's failure does not keep the others waiting. A failure worth retrying (a throttled
    // call) fails the invocation afterwards: its retry, a duplicate, gates the version again. One that
    // a retry would not change (a malformed SageMaker answer) does not refuse this job's event, which
    // is recorded: the version keeps waiting, with its record saying so, and the hourly sweep retries.
    try {
      if ((await gateWaitingVersion(deps, arn)) !== 'duplicate') gatedWaiting++;
    } catch (e) {
      assertIsError(e);
      const retryable = !(e instanceof ModelgateError) || e.retryable;
      if (retryable) failures.push(e);
      logger.error('gating a waiting version failed', { modelPackageArn: arn, error: e.name, errorMessage: e.message, retryable });
    }
  }
  logger.info('training job processed', { trainingJobArn: job.arn, status: job.status, outcome: result.outcome, gatedWaiting, gateFailures: failures.length });
  if (failures[0]) throw failures[0];
  return { outcome: result.outcome, job: job.name, gatedWaiting };
}

/** The audit entry of a job recorded from its event, or (`source`) from DescribeTrainingJob and ListTags. */
export function jobRecordedEvent(job: TrainingJob, source?: string): AuditEvent {
  return {
    action: 'training-job.recorded',
    subject: job.arn,
    actor: 'sagemaker',
    detail: {
      status: job.status,
      lastModified: job.lastModified,
      datasets: job.datasets.map((d) => d.uri),
      ...(job.image ? { image: job.image } : {}),
      ...(job.artifactUri ? { artifactUri: job.artifactUri } : {}),
      metrics: job.metrics,
      ...(job.trainedBy ? { trainedBy: job.trainedBy } : {}),
      ...(job.failureReason ? { failureReason: job.failureReason } : {}),
      ...(source ? { source } : {}),
    },
  };
}

/**
 * Records a job from its event. `metrics` is called at most once, and only when the job's state is
 * new. A repeated or older state adds the facts the record lacks (see `enrichJob`), or is dropped.
 * `waiting`: the versions waiting for the job's artifact, once the job is recorded.
 */
export async function commitJob(
  deps: Deps,
  base: TrainingJob,
  metrics?: () => Promise<Record<string, number>>,
): Promise<{ outcome: JobOutcome; waiting: string[] }> {
  let fetched: Record<string, number> | undefined;
  const load = () => deps.store.loadJobContext({ jobName: base.name, ...(base.artifactUri ? { artifactUri: base.artifactUri } : {}) });
  // A conflict re-decides on what the cancelled transaction returned, or reads again (see untilCommittedOn).
  return untilCommittedOn<JobContext, { outcome: JobOutcome; waiting: string[] }>(load, async (ctx) => {
    const fresh = freshness(ctx.job, base);
    if (ctx.job && (fresh === 'duplicate' || fresh === 'stale' || fresh === 'tie')) {
      // A job's final states do not follow one another: a second final state at the same time is dropped.
      const { rev, ...recorded } = ctx.job;
      const artifact = recorded.artifactUri === base.artifactUri ? ctx.artifact : recorded.artifactUri ? await deps.store.getArtifact(recorded.artifactUri) : undefined;
      // Versions still waiting though the node names its producer: their gate failed after the job's commit.
      const waiting = artifact?.producer ? artifact.waiting : [];
      const enrichment = enrichJob(recorded, base);
      if (!enrichment) return { result: 'committed' as const, value: { outcome: fresh === 'duplicate' ? 'duplicate' : 'stale', waiting } };
      const result = await commitEnrichment(deps, ctx, rev, enrichment, base, artifact);
      return { result, value: { outcome: 'enriched' as const, waiting } };
    }
    if (metrics) fetched ??= await metrics();
    const job = fetched ? { ...base, metrics: fetched } : base;
    // A newer state of a job recorded before (from DescribeTrainingJob): versions already linked to
    // its artifact get what the new record adds, as in an enrichment.
    const known = new Set(ctx.job?.datasets.map((d) => d.channel) ?? []);
    const linkedVersions = ctx.job ? await linkedVersionsOf(deps, ctx.artifact, job, job.datasets.filter((d) => !known.has(d.channel))) : [];
    const event = jobRecordedEvent(job);
    if (linkedVersions.some((l) => l.trainedBy)) event.detail = { ...event.detail, versionsGivenTrainedBy: linkedVersions.filter((l) => l.trainedBy).map((l) => l.arn) };
    const result = await deps.store.commitJobChange({
      job,
      expectedRev: ctx.job?.rev ?? 0,
      ...(job.artifactUri ? { artifact: { uri: job.artifactUri, expectedRev: ctx.artifact?.rev ?? 0 } } : {}),
      audit: auditEntries(TRAINING_SCOPE, [event], deps.clock.now(), deps.newId),
      ...(linkedVersions.length ? { linkedVersions } : {}),
    });
    return { result, value: { outcome: 'recorded' as const, waiting: ctx.artifact?.waiting ?? [] } };
  });
}

/**
 * The versions linked to the job's artifact that need what the job's record now adds: `trainedBy`
 * (when they lack it) and an edge to each dataset added. Each is read for its `rev`.
 */
async function linkedVersionsOf(
  deps: Deps,
  artifact: (ArtifactNode & { rev: number }) | undefined,
  job: TrainingJob,
  addedDatasets: DatasetInput[],
): Promise<NonNullable<JobChange['linkedVersions']>> {
  const linked: NonNullable<JobChange['linkedVersions']> = [];
  if (artifact?.producer?.name !== job.name) return linked;
  for (const arn of artifact.consumers) {
    const key = versionKeyOf(arn);
    const v = key ? await deps.store.getVersion(key) : undefined;
    if (!v) continue;
    const trainedBy = job.trainedBy && !v.trainedBy ? job.trainedBy : undefined;
    if (!trainedBy && addedDatasets.length === 0) continue;
    linked.push({ group: v.group, version: v.version, arn: v.arn, expectedRev: v.rev, ...(trainedBy ? { trainedBy } : {}), datasets: addedDatasets });
  }
  return linked;
}

/**
 * The record with what a later observation added, in one transaction: the job, the artifact node's
 * producer summary (the gate reads the job's facts there), `trainedBy` on the versions already
 * linked to the artifact that lack it (separation of duties reads it on the version), their edges
 * to any dataset added, and the audit entry.
 */
async function commitEnrichment(
  deps: Deps,
  ctx: JobContext,
  expectedRev: number,
  { job, added }: JobEnrichment,
  observed: TrainingJob,
  artifact: (ArtifactNode & { rev: number }) | undefined,
): Promise<ContextCommit<JobContext>> {
  const produced = artifact?.producer?.name === job.name ? artifact : undefined;
  const linkedVersions = await linkedVersionsOf(deps, produced, job, added.datasets);
  const event: AuditEvent = {
    action: 'training-job.enriched',
    subject: job.arn,
    actor: 'sagemaker',
    detail: {
      status: observed.status,
      lastModified: observed.lastModified,
      recordedLastModified: job.lastModified,
      added: { tags: added.tags, hyperparameters: added.hyperparameters, datasets: added.datasets.map((d) => d.uri), fields: added.fields },
      ...(added.fields.includes('trainedBy') && job.trainedBy ? { trainedBy: job.trainedBy } : {}),
      versionsGivenTrainedBy: linkedVersions.filter((l) => l.trainedBy).map((l) => l.arn),
    },
  };
  const result = await deps.store.commitJobChange({
    job,
    expectedRev,
    ...(produced ? { artifact: { uri: produced.uri, expectedRev: produced.rev } } : {}),
    audit: auditEntries(TRAINING_SCOPE, [event], deps.clock.now(), deps.newId),
    linkedVersions,
  });
  // The context's artifact node is the observed artifact's: what the commit found on another node is not the context's.
  return result !== 'committed' && produced && produced.uri !== observed.artifactUri ? { conflict: true } : result;
}
