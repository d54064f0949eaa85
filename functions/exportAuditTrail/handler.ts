import { auditClock, auditLog, checkpointBucket, checkpointSigner, exportSink } from '#shared/audit-wiring.js';
import { lambdaHandler } from '#shared/handler.js';
import { logger } from '#shared/logger.js';
import { exportAuditTrail } from '#shared/usecases/audit-trail.js';

/**
 * Auditor: `serverless invoke -f exportAuditTrail --data '{}'`: the log, its checkpoints and the
 * public key under `exports/<time>/` of the export bucket (stage local: a folder), for
 * `npm run audit:verify -- <folder>`.
 */
export const handler = lambdaHandler('exportAuditTrail', { subject: 'exportAuditTrail request' }, async (payload: unknown) => {
  const prefix = `exports/${new Date(auditClock.now()).toISOString().replaceAll(':', '-')}`;
  const report = await exportAuditTrail(
    { log: auditLog(), bucket: checkpointBucket(), signer: checkpointSigner(), clock: auditClock, sink: exportSink(prefix) },
    payload,
  );
  logger.info('audit trail exported', { location: report.location, entries: report.entries, checkpoints: report.checkpoints });
  return report;
});
