/**
 * Seeding the stand-in from code (tests, the demo): the `ModelgateLocal.*` operations, which no
 * SageMaker client can send. Same framing as SageMaker's own operations.
 *
 *   await completeTrainingJob(sm.url, { TrainingJobName: 'job-1', FinalMetricDataList: [{ MetricName: 'validation:auc', Value: 0.91 }] });
 */
import { CONTENT_TYPE } from './protocol.js';

export interface MetricInput {
  MetricName: string;
  Value: number;
}

/** An error answer; `name` is SageMaker's error code (`__type`). */
export class StandInError extends Error {
  constructor(
    name: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = name;
  }
}

/** POSTs one operation (`SageMaker.X` or `ModelgateLocal.X`) and returns the parsed answer. */
export async function callStandIn(url: string, target: string, input: object): Promise<Record<string, unknown>> {
  const res = await fetch(`${url}/`, {
    method: 'POST',
    headers: { 'content-type': CONTENT_TYPE, 'x-amz-target': target },
    body: JSON.stringify(input),
  });
  const body = (await res.json()) as Record<string, unknown>;
  if (!res.ok) {
    throw new StandInError(String(body['__type'] ?? 'UnknownError'), String(body['message'] ?? body['Message'] ?? ''), res.status);
  }
  return body;
}

export const completeTrainingJob = (url: string, input: { TrainingJobName: string; FinalMetricDataList?: MetricInput[] }) =>
  callStandIn(url, 'ModelgateLocal.CompleteTrainingJob', input);

export const failTrainingJob = (url: string, input: { TrainingJobName: string; FailureReason: string }) =>
  callStandIn(url, 'ModelgateLocal.FailTrainingJob', input);
