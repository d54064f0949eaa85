import { auditLog } from '#shared/audit-wiring.js';
import { lambdaHandler } from '#shared/handler.js';
import { getAuditTrail } from '#shared/usecases/audit-trail.js';
import { storePort } from '#shared/wire/store.js';

/** Operator and auditor: `serverless invoke -f getAuditTrail --path events/get-audit-trail.json` (add `"proofs": true` for inclusion proofs). */
export const handler = lambdaHandler('getAuditTrail', { subject: 'getAuditTrail request' }, async (payload: unknown) =>
  getAuditTrail({ store: storePort(), log: auditLog() }, payload),
);
