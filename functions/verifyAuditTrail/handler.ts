import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logger } from '#shared/logger.js';
import { typedErrors } from '#shared/middleware.js';
import { verifyAuditTrail } from '#shared/usecases/audit-trail.js';
import { productionDeps } from '#shared/wiring.js';

/** Operator: `serverless invoke -f verifyAuditTrail --path events/verify-audit-trail.json`. */
export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true, logEvent: false }))
  .use(typedErrors('verifyAuditTrail request'))
  .handler(async (payload: unknown) => verifyAuditTrail(productionDeps(), payload));
