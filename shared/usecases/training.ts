import { appendToChain } from '../domain/audit.js';
import { trainingJobFromDetail, type TrainingJob } from '../domain/lineage.js';
import { freshness } from '../domain/version.js';
import type { Deps } from '../ports.js';
import type { TrainingJobDetail } from '../schemas/events.js';
import { logger } from '../logger.js';
import { untilCommitted } from './retry.js';
import { gateWaitingVersion } from './gate.js';

export type TrainingOutcome = { outcome: 'recorded' | 'duplicate' | 'stale'; job: string; gatedWaiting: number };

/**
 * The training recorder: the job, its datasets, image, hyperparameters, final metrics and artifact,
 * and the lineage edges between them, in one transaction with its audit entry. Versions that were
 * registered before this event and wait for the artifact are gated afterwards.
 */
export async function recordTrainingJob(deps: Deps, detail: TrainingJobDetail): Promise<TrainingOutcome> {
  const job = trainingJobFromDetail(detail, {});
  // The event carries no FinalMetricDataList; DescribeTrainingJob does. Asked only for a job that
  // completed and is not recorded yet, so a repeated event costs no SageMaker call.
  const metrics =
    detail.TrainingJobStatus === 'Completed'
      ? async () => (await deps.registry.describeTrainingJob(detail.TrainingJobName))?.metrics ?? {}
      : undefined;
  const result = await commitJob(deps, job, metrics);
  let gatedWaiting = 0;
  if (result.outcome === 'recorded') {
    for (const arn of result.waiting) {
      if ((await gateWaitingVersion(deps, arn)) !== 'duplicate') gatedWaiting++;
    }
  }
  logger.info('training job processed', { trainingJobArn: job.arn, status: job.status, outcome: result.outcome, gatedWaiting });
  return { outcome: result.outcome, job: job.name, gatedWaiting };
}

/**
 * Records a job (from its event, or from DescribeTrainingJob when a version came first). `metrics`
 * is called at most once, and only when the job's state is new.
 */
export async function commitJob(
  deps: Deps,
  base: TrainingJob,
  metrics?: () => Promise<Record<string, number>>,
): Promise<{ outcome: 'recorded' | 'duplicate' | 'stale'; waiting: string[] }> {
  let fetched: Record<string, number> | undefined;
  return untilCommitted<{ outcome: 'recorded' | 'duplicate' | 'stale'; waiting: string[] }>(async () => {
    const ctx = await deps.store.loadJobContext({ jobName: base.name, ...(base.artifactUri ? { artifactUri: base.artifactUri } : {}) });
    const fresh = freshness(ctx.job, base);
    if (fresh === 'duplicate' || fresh === 'stale' || fresh === 'tie') {
      // A job's final states do not follow one another: a second final state at the same time is dropped.
      return { result: 'committed' as const, value: { outcome: fresh === 'duplicate' ? 'duplicate' : 'stale', waiting: [] } };
    }
    if (metrics) fetched ??= await metrics();
    const job = fetched ? { ...base, metrics: fetched } : base;
    const audit = appendToChain(
      ctx.auditHead,
      [
        {
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
            ...(job.failureReason ? { failureReason: job.failureReason } : {}),
          },
        },
      ],
      deps.clock.now(),
    );
    const result = await deps.store.commitJobChange({
      job,
      expectedRev: ctx.job?.rev ?? 0,
      ...(job.artifactUri ? { artifact: { uri: job.artifactUri, expectedRev: ctx.artifact?.rev ?? 0 } } : {}),
      audit: { expectedHead: ctx.auditHead, entries: audit.entries },
    });
    return { result, value: { outcome: 'recorded' as const, waiting: ctx.artifact?.waiting ?? [] } };
  });
}
