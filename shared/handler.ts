import middy, { type MiddlewareObj } from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { Context } from 'aws-lambda';
import type * as z from './schemas/zod.js';
import { logger } from './logger.js';
import { metrics, recordColdStart, recordRefusal, recordResult } from './metrics.js';
import { typedErrors } from './middleware.js';
import { tracer } from './tracer.js';

/** An X-Ray annotation value must be short; a model package ARN is (SageMaker caps it at 2048, real ones are ~100). */
const ARN = /^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package\/[^\s]{1,200}$/;

/**
 * The model package an invocation is about, when its event names one: a gate event's
 * `detail.ModelPackageArn`, an operator payload's `modelPackageArn`. Only a well-formed ARN is
 * annotated (the payload is untrusted input).
 */
export function modelPackageArnOf(event: unknown): string | undefined {
  if (typeof event !== 'object' || event === null) return undefined;
  const detail = (event as { detail?: unknown }).detail;
  const candidate =
    typeof detail === 'object' && detail !== null && 'ModelPackageArn' in detail
      ? (detail as { ModelPackageArn?: unknown }).ModelPackageArn
      : (event as { modelPackageArn?: unknown }).modelPackageArn;
  return typeof candidate === 'string' && ARN.test(candidate) ? candidate : undefined;
}

/**
 * Powertools' logMetrics (the EMF flush after each invocation), with modelgate's own ColdStart
 * metric (recordColdStart: dimensions service and stage only; Powertools' captureColdStartMetric
 * would add function_name), except that an invocation that recorded no metric flushes nothing:
 * publishStoredMetrics would print a plain-text "No application metrics to publish" warning, a
 * line that is not JSON. What the flush would have cleared (dimensions, metadata) is cleared.
 */
function flushMetrics(): MiddlewareObj {
  const inner = logMetrics(metrics);
  const flush = (request: middy.Request): void => {
    if (metrics.hasStoredMetrics()) return void inner.after?.(request);
    metrics.clearDimensions();
    metrics.clearMetadata();
  };
  return {
    before: (request) => {
      inner.before?.(request);
      recordColdStart();
    },
    after: flush,
    onError: flush,
  };
}

/** After the use case: its result as metrics; on an error (already typed by typedErrors), the refusal. */
function recordOutcome(functionName: string): MiddlewareObj {
  return {
    after: (request) => recordResult(functionName, request.response),
    onError: (request) => recordRefusal(functionName, request.error),
  };
}

export interface HandlerOptions<TEvent> {
  /** What typedErrors calls bad input ("getPolicy request", "model package state change event"). */
  subject: string;
  /** The event's schema (Powertools parser): the use case gets the parsed event, bad input a ValidationError. */
  schema?: z.core.$ZodType<TEvent>;
}

/**
 * Every function's handler, one shape: the use case wrapped, outermost first, in
 * - the tracer (captureLambdaHandler: the invocation's subsegment, ColdStart and Service
 *   annotations, the error; never the response, which may carry a page with a signed link),
 * - the metrics (Powertools logMetrics and modelgate's ColdStart metric: EMF flushed after each
 *   invocation that recorded any, see flushMetrics),
 * - the logger's Lambda context (never the event: logEvent false whatever the environment says),
 * - recordResult / recordRefusal (shared/metrics.ts), then typedErrors (ParseError to a
 *   ValidationError that names each field, one log line per failure), then the parser, if any.
 * middy runs `onError` innermost first, so the recorder sees the typed error.
 *
 * `functionName` is the function's key in serverless.yml (metrics name it).
 */
export function lambdaHandler<TEvent = unknown, TResult = unknown>(
  functionName: string,
  options: HandlerOptions<TEvent>,
  handle: (event: TEvent, context: Context) => Promise<TResult>,
) {
  const base = middy<TEvent, TResult>()
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .use(flushMetrics())
    // logEvent: false whatever POWERTOOLS_LOGGER_LOG_EVENT says: events may hold customer
    // metadata, and the review route's path carries the token.
    .use(injectLambdaContext(logger, { resetKeys: true, logEvent: false }))
    .use(recordOutcome(functionName))
    .use(typedErrors(options.subject));
  const parsed = options.schema ? base.use(parser({ schema: options.schema }) as unknown as MiddlewareObj<TEvent, TResult>) : base;
  return parsed.handler(async (event: TEvent, context: Context) => {
    const arn = modelPackageArnOf(event);
    if (arn) tracer.putAnnotation('modelPackageArn', arn);
    return handle(event, context);
  });
}
