import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logger } from '#shared/logger.js';
import { typedErrors } from '#shared/middleware.js';
import { getAuditTrail } from '#shared/usecases/audit-trail.js';
import { productionDeps } from '#shared/wiring.js';

/** Operator: `serverless invoke -f getAuditTrail --path events/get-audit-trail.json`. */
export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true, logEvent: false }))
  .use(typedErrors('getAuditTrail request'))
  .handler(async (payload: unknown) => getAuditTrail(productionDeps(), payload));
