import { parse } from '@aws-lambda-powertools/parser';
import * as z from '#shared/schemas/zod.js';
import type { AuditLogDeps } from '#shared/audit-log-ports.js';
import { dynamoClient } from '#shared/aws/clients/dynamo.js';
import { config } from '#shared/config.js';
import { lambdaHandler } from '#shared/handler.js';
import { logger } from '#shared/logger.js';
import { DynamoDBStreamChange, DynamoDBStreamRecord, EventBridgeEnvelope } from '#shared/schemas/envelopes.js';
import { auditLogStore } from '#shared/store/audit-log-store.js';
import { keys } from '#shared/store/keys.js';
import { sequenceEntries, sequencePending } from '#shared/usecases/sequencer.js';

/**
 * The audit log's sequencer (shared/usecases/sequencer.ts), reserved concurrency 1:
 * - the table's stream, filtered to the INSERT of an audit entry: sequences those entries;
 * - the catch-up schedule (an EventBridge Scheduled Event): sequences the entries still in the
 *   unsequenced index that are older than a minute (or `detail.olderThanMs`, for an operator's
 *   `serverless invoke -f sequenceAuditLog --path events/sequence-audit-log.json`).
 *
 * The stream records' images stay marshalled (envelopes.ts's change record, the shape of
 * Powertools' base change record, not the one that unmarshalls): only the keys and `type` are read
 * here, and the entries themselves are read again, consistently, before they are hashed. The
 * envelopes are zod/mini's, and Powertools' `parse` takes them as Standard Schemas.
 */

const S = z.object({ S: z.string().check(z.minLength(1)) });

const StreamRecord = z
  .extend(DynamoDBStreamRecord, {
    dynamodb: z.extend(DynamoDBStreamChange, { Keys: z.object({ PK: S, SK: S }) }),
  })
  .check(
    z.superRefine((record, ctx) => {
      // An audit entry's INSERT must name an audit entry's key: anything else is not ours to sequence.
      if (!isAuditEntryInsert(record)) return;
      const { PK, SK } = record.dynamodb.Keys;
      if (!PK.S.startsWith(keys.auditScope(''))) ctx.addIssue({ code: 'custom', path: ['dynamodb', 'Keys', 'PK', 'S'], message: 'not an audit entry key (AUDIT#<scope>)' });
      if (!SK.S.startsWith(keys.auditEntryPrefix)) ctx.addIssue({ code: 'custom', path: ['dynamodb', 'Keys', 'SK', 'S'], message: `not an audit entry key (${keys.auditEntryPrefix}<at>#<id>)` });
    }),
  );
type StreamRecord = z.infer<typeof StreamRecord>;

export const SequencerStreamEvent = z.object({ Records: z.array(StreamRecord) });

export const SequencerScheduleEvent = z.extend(EventBridgeEnvelope, {
  source: z.literal('aws.events'),
  'detail-type': z.literal('Scheduled Event'),
  detail: z.optional(z.object({ olderThanMs: z.optional(z.int().check(z.gte(0))) })),
});

/** What the event source's filter lets through (serverless.yml); checked again here, defensively. */
function isAuditEntryInsert(record: { eventName: string; dynamodb: { NewImage?: Record<string, unknown> | undefined } }): boolean {
  const type = record.dynamodb.NewImage?.['type'] as { S?: unknown } | undefined;
  return record.eventName === 'INSERT' && type?.S === 'AuditEntry';
}

let deps: AuditLogDeps | undefined;
/** Only the document client and the log's store: this function reads and writes nothing else. */
const sequencerDeps = (): AuditLogDeps =>
  (deps ??= { log: auditLogStore({ client: dynamoClient(), table: config().TABLE_NAME }), clock: { now: () => Date.now() } });

export const handler = lambdaHandler('sequenceAuditLog', { subject: 'audit log sequencer event' }, async (payload: unknown) => {
  if (typeof payload === 'object' && payload !== null && 'Records' in payload) {
    const event = parse(payload, undefined, SequencerStreamEvent);
    const inserts = event.Records.filter(isAuditEntryInsert);
    const ignored = event.Records.length - inserts.length;
    if (ignored > 0) logger.info('stream records that are not new audit entries ignored', { ignored });
    const report = await sequenceEntries(
      sequencerDeps(),
      inserts.map((r: StreamRecord) => ({ PK: r.dynamodb.Keys.PK.S, SK: r.dynamodb.Keys.SK.S })),
    );
    return { ...report, ignored };
  }
  const event = parse(payload, undefined, SequencerScheduleEvent);
  return sequencePending(sequencerDeps(), event.detail?.olderThanMs === undefined ? {} : { olderThanMs: event.detail.olderThanMs });
});
