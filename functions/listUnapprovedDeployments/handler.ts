import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logger } from '#shared/logger.js';
import { typedErrors } from '#shared/middleware.js';
import { listUnapprovedDeployments } from '#shared/usecases/deployments.js';
import { productionDeps } from '#shared/wiring.js';

/** Operator: `serverless invoke -f listUnapprovedDeployments --data '{"all":true}'`. */
export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true, logEvent: false }))
  .use(typedErrors('listUnapprovedDeployments request'))
  .handler(async (payload: unknown) => listUnapprovedDeployments(productionDeps(), payload));
