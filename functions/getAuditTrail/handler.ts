import type { AuditLogStore } from '#shared/audit-log-ports.js';
import { dynamoClient } from '#shared/aws/clients/dynamo.js';
import { config } from '#shared/config.js';
import { lambdaHandler } from '#shared/handler.js';
import { auditLogStore } from '#shared/store/audit-log-store.js';
import { getAuditTrail } from '#shared/usecases/audit-trail.js';
import { storePort } from '#shared/wire/store.js';

let log: AuditLogStore | undefined;
/**
 * The log's store over the table, built here rather than taken from shared/audit-wiring.ts, whose
 * module also holds the checkpoint signer and bucket: this function reads the table only, and
 * its bundle holds no KMS or S3 client.
 */
const auditLog = (): AuditLogStore => (log ??= auditLogStore({ client: dynamoClient(), table: config().TABLE_NAME }));

/** Operator and auditor: `serverless invoke -f getAuditTrail --path events/get-audit-trail.json` (add `"proofs": true` for inclusion proofs). */
export const handler = lambdaHandler('getAuditTrail', { subject: 'getAuditTrail request' }, async (payload: unknown) =>
  getAuditTrail({ store: storePort(), log: auditLog() }, payload),
);
