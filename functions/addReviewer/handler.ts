import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logger } from '#shared/logger.js';
import { typedErrors } from '#shared/middleware.js';
import { addReviewer } from '#shared/usecases/reviewers.js';
import { productionDeps } from '#shared/wiring.js';

/** Operator: `serverless invoke -f addReviewer --path events/add-reviewer.json`. */
export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true, logEvent: false }))
  .use(typedErrors('addReviewer request'))
  .handler(async (payload: unknown) => addReviewer(productionDeps(), payload));
