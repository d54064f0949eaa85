import type { AwsClientStub } from 'aws-sdk-client-mock';
import { DescribeTrainingJobCommand, type SageMakerClient } from '@aws-sdk/client-sagemaker';
import type { Deps } from '../../shared/ports.js';
import { ModelPackageStateChangeSchema, TrainingJobStateChangeSchema } from '../../shared/schemas/events.js';
import { recordTrainingJob } from '../../shared/usecases/training.js';
import type { story } from './story.js';

/**
 * A second version of the sample story, to compare with the version in production (issue 10):
 * its own training job (another learning rate, a new hyperparameter, December's training data,
 * lower metrics) and a new image digest, registered later.
 */
export const TRAIN = 's3://acme-ml-datasets-123456789012/fraud/transactions/2026-11-01/train/';
export const TRAIN_DEC = 's3://acme-ml-datasets-123456789012/fraud/transactions/2026-12-01/train/';
export const DIGEST_V1 = 'sha256:8c1a2f5e0b7d4c3a9e6f1d2b5a8c7e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d';
export const DIGEST_V2 = 'sha256:1111111111111111111111111111111111111111111111111111111111111111';

type Story = ReturnType<typeof story>;

/** The sample registration event of v1 with changes (as raw JSON, then parsed as the gate gets it). */
export function packageEvent(s: Story, change: (detail: Record<string, unknown>) => void) {
  const raw = structuredClone(s.raw('model-package-pending.json')) as { detail: Record<string, unknown> };
  change(raw.detail);
  return ModelPackageStateChangeSchema.parse(raw).detail;
}

/** v2: its own job's artifact, a new image digest, registered later. */
export function asVersion2(s: Story, d: Record<string, unknown>): void {
  const v1Job = s.job('training-job-completed.json').TrainingJobName;
  Object.assign(d, JSON.parse(JSON.stringify(d).replaceAll(v1Job, `${v1Job}-v2`).replaceAll(DIGEST_V1, DIGEST_V2)));
  d['ModelPackageVersion'] = 2;
  d['ModelPackageArn'] = s.arn(2);
  d['CreationTime'] = '2026-11-27T11:31:15Z';
  d['LastModifiedTime'] = '2026-11-27T11:31:15Z';
}

/** v2's training job, recorded through the recorder (DescribeTrainingJob, mocked, gives the final metrics). */
export async function recordVersion2Job(deps: Deps, sm: AwsClientStub<SageMakerClient>, s: Story): Promise<void> {
  const raw = structuredClone(s.raw('training-job-completed.json')) as { detail: Record<string, unknown> };
  const v1Job = String(raw.detail['TrainingJobName']);
  const detail = JSON.parse(JSON.stringify(raw.detail).replaceAll(v1Job, `${v1Job}-v2`).replaceAll(TRAIN, TRAIN_DEC)) as Record<string, unknown>;
  detail['HyperParameters'] = { ...(detail['HyperParameters'] as object), eta: '0.1', subsample: '0.8' };
  const parsed = TrainingJobStateChangeSchema.parse({ ...raw, detail }).detail;
  const date = (v: unknown) => new Date(Number(v));
  sm.on(DescribeTrainingJobCommand, { TrainingJobName: `${v1Job}-v2` }).resolves({
    ...detail,
    CreationTime: date(detail['CreationTime']),
    TrainingEndTime: date(detail['TrainingEndTime']),
    LastModifiedTime: date(detail['LastModifiedTime']),
    TrainingStartTime: date(detail['TrainingStartTime']),
    FinalMetricDataList: [
      { MetricName: 'validation:auc', Value: 0.894, Timestamp: new Date() },
      { MetricName: 'validation:logloss', Value: 0.25, Timestamp: new Date() },
    ],
  } as never);
  await recordTrainingJob(deps, parsed);
}
