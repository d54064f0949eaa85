import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logger } from '#shared/logger.js';
import { typedErrors } from '#shared/middleware.js';
import { removeReviewer } from '#shared/usecases/reviewers.js';
import { productionDeps } from '#shared/wiring.js';

/** Operator: `serverless invoke -f removeReviewer --path events/remove-reviewer.json`. */
export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true, logEvent: false }))
  .use(typedErrors('removeReviewer request'))
  .handler(async (payload: unknown) => removeReviewer(productionDeps(), payload));
