import * as z from './zod.js';

/**
 * The AWS envelopes modelgate's functions receive, in zod/mini: an EventBridge event and a DynamoDB
 * Streams record. They have the shapes of Powertools Parser's `EventBridgeSchema` and
 * `DynamoDBStreamRecord` / `DynamoDBStreamChangeRecordBase` (the change record with its images
 * still marshalled), field for field. Powertools builds its schemas with zod's classic API, and
 * importing one puts all of classic zod (about 200 KiB minified, a method object per schema
 * built) into a bundle whose own schemas are zod/mini: that would undo the cold-start work of
 * issue 12. Powertools' parser middleware takes any Standard Schema, so these plug into it as
 * Powertools' own do.
 */
export const EventBridgeEnvelope = /* @__PURE__ */ z.schema(() => z.object({
  version: z.string(),
  id: z.string(),
  source: z.string(),
  account: z.string(),
  time: z.iso.datetime(),
  region: z.string(),
  resources: z.array(z.string()),
  'detail-type': z.string(),
  detail: z.unknown(),
  'replay-name': z.optional(z.string()),
}));

/** A DynamoDB Streams change record, its keys and images as DynamoDB sent them (marshalled). */
export const DynamoDBStreamChange = /* @__PURE__ */ z.schema(() => z.object({
  ApproximateCreationDateTime: z.optional(z.number()),
  Keys: z.record(z.string(), z.record(z.string(), z.any())),
  NewImage: z.optional(z.record(z.string(), z.any())),
  OldImage: z.optional(z.record(z.string(), z.any())),
  SequenceNumber: z.string(),
  SizeBytes: z.number(),
  StreamViewType: z.enum(['NEW_IMAGE', 'OLD_IMAGE', 'NEW_AND_OLD_IMAGES', 'KEYS_ONLY']),
}));

/** One record of a DynamoDB Streams event (Lambda's event source mapping). */
export const DynamoDBStreamRecord = /* @__PURE__ */ z.schema(() => z.object({
  eventID: z.string(),
  eventName: z.enum(['INSERT', 'MODIFY', 'REMOVE']),
  eventVersion: z.string(),
  eventSource: z.literal('aws:dynamodb'),
  awsRegion: z.string(),
  eventSourceARN: z.string(),
  dynamodb: DynamoDBStreamChange,
  userIdentity: z.optional(z.object({ type: z.enum(['Service']), principalId: z.literal('dynamodb.amazonaws.com') })),
}));
