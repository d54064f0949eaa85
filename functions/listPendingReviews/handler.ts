import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logger } from '#shared/logger.js';
import { typedErrors } from '#shared/middleware.js';
import { listPendingReviews } from '#shared/usecases/pending.js';
import { productionDeps } from '#shared/wiring.js';

/** Operator: `serverless invoke -f listPendingReviews --data '{"limit":25}'`. */
export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true, logEvent: false }))
  .use(typedErrors('listPendingReviews request'))
  .handler(async (payload: unknown) => listPendingReviews(productionDeps(), payload));
