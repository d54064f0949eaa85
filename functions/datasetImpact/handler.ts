import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logger } from '#shared/logger.js';
import { typedErrors } from '#shared/middleware.js';
import { datasetImpact } from '#shared/usecases/impact.js';
import { productionDeps } from '#shared/wiring.js';

/** Operator: `serverless invoke -f datasetImpact --path events/dataset-impact.json`. */
export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true, logEvent: false }))
  .use(typedErrors('datasetImpact request'))
  .handler(async (payload: unknown) => datasetImpact(productionDeps(), payload));
