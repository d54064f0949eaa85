import { auditClock, auditLog, checkpointBucket, checkpointSigner } from '#shared/audit-wiring.js';
import { lambdaHandler } from '#shared/handler.js';
import { logger } from '#shared/logger.js';
import { makeCheckpoint, parseCheckpointRequest } from '#shared/usecases/checkpoint.js';

/**
 * Signs a checkpoint of the audit log (shared/usecases/checkpoint.ts) and writes it to the
 * checkpoint bucket. The catch-up schedule's Scheduled Event, or an operator:
 * `serverless invoke -f checkpointAuditLog --path events/checkpoint-audit-log.json`.
 * The only function that may kms:Sign. What is logged names the checkpoint, never its signature.
 */
export const handler = lambdaHandler('checkpointAuditLog', { subject: 'checkpointAuditLog request' }, async (payload: unknown) => {
  // The request first: bad input is a ValidationError even where a setting is missing.
  const request = parseCheckpointRequest(payload);
  const result = await makeCheckpoint({ log: auditLog(), signer: checkpointSigner(), bucket: checkpointBucket(), clock: auditClock }, request);
  if (result.made) {
    const { logSize, rootHash, time, keyId } = result.checkpoint;
    logger.info('audit log checkpoint made', { logSize, rootHash, time, keyId, objectKey: result.objectKey, adopted: result.adopted ?? false });
  } else {
    logger.info('no audit log checkpoint made', { reason: result.reason, logSize: result.checkpoint?.logSize ?? 0 });
  }
  return result;
});
