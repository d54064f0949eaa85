import type { AuditLogStore, CheckpointBucket, CheckpointSigner, ExportSink } from './audit-log-ports.js';
import { s3CheckpointBucket } from './aws/checkpoint-bucket.js';
import { dynamoClient } from './aws/clients/dynamo.js';
import { kmsClient } from './aws/clients/kms.js';
import { s3Client } from './aws/clients/s3.js';
import { folderExportSink, s3ExportSink } from './aws/export-sink.js';
import { kmsCheckpointSigner } from './aws/kms.js';
import { localCheckpointSigner } from './aws/local-checkpoint-signer.js';
import { config, requiredSetting } from './config.js';
import type { Clock } from './ports.js';
import { auditLogStore } from './store/audit-log-store.js';

/**
 * The production wiring of the audit log's functions (the checkpoint, proof, verification and
 * export functions). Each piece is built on first use and kept for the cold start, so a function
 * builds only what it uses: the checkpoint function never builds an export sink, and a function
 * that only reads the log never builds a KMS client. A setting a piece needs is checked when the
 * piece is built, and its absence fails with the variable's name (config.ts `requiredSetting`).
 *
 * Stage `local` has no KMS and no second bucket: the signer is a local key file
 * (CHECKPOINT_KEY_FILE) and exports go to a folder (AUDIT_EXPORT_DIR). Every other stage uses
 * KMS (CHECKPOINT_KEY_ID) and S3 (AUDIT_EXPORT_BUCKET), and never falls back to a local key.
 */
let log: AuditLogStore | undefined;
let signer: CheckpointSigner | undefined;
let bucket: CheckpointBucket | undefined;

const isLocal = (): boolean => config().STAGE === 'local';

export const auditClock: Clock = { now: () => Date.now() };

export function auditLog(): AuditLogStore {
  return (log ??= auditLogStore({ client: dynamoClient(), table: config().TABLE_NAME }));
}

export function checkpointSigner(): CheckpointSigner {
  return (signer ??= isLocal()
    ? localCheckpointSigner(requiredSetting('CHECKPOINT_KEY_FILE'))
    : kmsCheckpointSigner(kmsClient(), requiredSetting('CHECKPOINT_KEY_ID')));
}

export function checkpointBucket(): CheckpointBucket {
  return (bucket ??= s3CheckpointBucket(s3Client(), requiredSetting('AUDIT_BUCKET')));
}

/** A sink for one export under `prefix` (an S3 prefix, or locally a subfolder); not cached. */
export function exportSink(prefix: string): ExportSink {
  if (isLocal()) return folderExportSink(requiredSetting('AUDIT_EXPORT_DIR'), prefix);
  return s3ExportSink(s3Client(), requiredSetting('AUDIT_EXPORT_BUCKET'), prefix);
}
