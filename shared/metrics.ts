import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/**
 * One Metrics instance per process: CloudWatch embedded metric format (EMF) on stdout, namespace
 * `modelgate`, dimensions `service` and `stage` only (no high-cardinality dimension: a model
 * package ARN or a reviewer goes in the logs and traces, never in a dimension).
 */
export const metrics = new Metrics({
  namespace: 'modelgate',
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'modelgate',
  defaultDimensions: { stage: process.env.STAGE ?? 'local' },
});

export { MetricUnit };

/**
 * What a function's result says, as metrics. Called by the handler with the use case's result,
 * once per invocation. (Filled in per function: see the recorders below.)
 */
export function recordResult(functionName: string, result: unknown): void {
  void functionName;
  void result;
}

/** A refused (ModelgateError) or failed invocation, by kind. */
export function recordRefusal(functionName: string, error: unknown): void {
  void functionName;
  void error;
}
