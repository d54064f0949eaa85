import { auditClock, auditLog, checkpointBucket, checkpointSigner } from '#shared/audit-wiring.js';
import { lambdaHandler } from '#shared/handler.js';
import { verifyAuditTrail } from '#shared/usecases/audit-trail.js';

/** Auditor: `serverless invoke -f verifyAuditTrail --path events/verify-audit-trail.json` (`{"full": true}`: every checkpoint). */
export const handler = lambdaHandler('verifyAuditTrail', { subject: 'verifyAuditTrail request' }, async (payload: unknown) =>
  verifyAuditTrail({ log: auditLog(), bucket: checkpointBucket(), signer: checkpointSigner(), clock: auditClock }, payload),
);
