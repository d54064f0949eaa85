import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logger } from '#shared/logger.js';
import { typedErrors } from '#shared/middleware.js';
import { putPolicy } from '#shared/usecases/policies.js';
import { productionDeps } from '#shared/wiring.js';

/** Operator: `serverless invoke -f putPolicy --path events/policy-fraud-detector.json`. */
export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true, logEvent: false }))
  .use(typedErrors('policy'))
  .handler(async (payload: unknown) => putPolicy(productionDeps(), payload));
