import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logger } from '#shared/logger.js';
import { typedErrors } from '#shared/middleware.js';
import { getAuditTrail } from '#shared/usecases/audit-trail.js';
import { auditLog } from '#shared/audit-wiring.js';
import { productionDeps } from '#shared/wiring.js';

/** Operator and auditor: `serverless invoke -f getAuditTrail --path events/get-audit-trail.json` (add `"proofs": true` for inclusion proofs). */
export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true, logEvent: false }))
  .use(typedErrors('getAuditTrail request'))
  .handler(async (payload: unknown) => getAuditTrail({ store: productionDeps().store, log: auditLog() }, payload));
