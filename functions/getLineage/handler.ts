import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logger } from '#shared/logger.js';
import { typedErrors } from '#shared/middleware.js';
import { getLineage } from '#shared/usecases/lineage.js';
import { productionDeps } from '#shared/wiring.js';

/** Operator: `serverless invoke -f getLineage --path events/get-lineage.json`. */
export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true, logEvent: false }))
  .use(typedErrors('getLineage request'))
  .handler(async (payload: unknown) => getLineage(productionDeps(), payload));
