import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logger } from '#shared/logger.js';
import { typedErrors } from '#shared/middleware.js';
import { reopenReview } from '#shared/usecases/links.js';
import { productionDeps } from '#shared/wiring.js';

/** Operator: `serverless invoke -f reopenReview --path events/reopen-review.json`. */
export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true, logEvent: false }))
  .use(typedErrors('reopenReview request'))
  .handler(async (payload: unknown) => reopenReview(productionDeps(), payload));
