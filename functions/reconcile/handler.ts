import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logger } from '#shared/logger.js';
import { typedErrors } from '#shared/middleware.js';
import { reconcile } from '#shared/usecases/reconcile.js';
import { productionDeps } from '#shared/wiring.js';

/**
 * Operator: `serverless invoke -f reconcile --data '{"modelPackageGroupName":"fraud-detector","dryRun":true}'`.
 * Also the daily EventBridge schedule, whose Scheduled Event reconciles every governed group.
 */
export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true, logEvent: false }))
  .use(typedErrors('reconcile request'))
  .handler(async (payload: unknown) => reconcile(productionDeps(), payload));
