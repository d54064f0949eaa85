import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { auditClock, auditLog, checkpointBucket, checkpointSigner } from '#shared/audit-wiring.js';
import { logger } from '#shared/logger.js';
import { typedErrors } from '#shared/middleware.js';
import { verifyAuditTrail } from '#shared/usecases/audit-trail.js';

/** Auditor: `serverless invoke -f verifyAuditTrail --path events/verify-audit-trail.json` (`{"full": true}`: every checkpoint). */
export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true, logEvent: false }))
  .use(typedErrors('verifyAuditTrail request'))
  .handler(async (payload: unknown) =>
    verifyAuditTrail({ log: auditLog(), bucket: checkpointBucket(), signer: checkpointSigner(), clock: auditClock }, payload),
  );
