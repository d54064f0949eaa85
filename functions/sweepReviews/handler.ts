import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logger } from '#shared/logger.js';
import { typedErrors } from '#shared/middleware.js';
import { sweepReviews } from '#shared/usecases/sweep.js';
import { productionDeps } from '#shared/wiring.js';

/** EventBridge schedule, hourly: reminders, expiry, and side effects left pending. */
export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true, logEvent: false }))
  .use(typedErrors('sweep'))
  .handler(async () => sweepReviews(productionDeps()));
