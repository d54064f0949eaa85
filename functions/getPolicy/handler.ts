import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logger } from '#shared/logger.js';
import { typedErrors } from '#shared/middleware.js';
import { getPolicy } from '#shared/usecases/policies.js';
import { productionDeps } from '#shared/wiring.js';

/** Operator: `serverless invoke -f getPolicy --data '{"modelPackageGroupName":"fraud-detector"}'`. */
export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true, logEvent: false }))
  .use(typedErrors('getPolicy request'))
  .handler(async (payload: unknown) => getPolicy(productionDeps(), payload));
