import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamsRecord,
  type ShardIteratorType,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { matches } from './eventbridge.js';

/**
 * A poller for DynamoDB Local's stream: what Lambda's event source mapping does on AWS, for the
 * local stack and the tests. It follows the table's latest stream and its shards (new shards as
 * they appear, each from its start), reads each with GetRecords, and hands the records that pass
 * the filter to `onRecords` as a Lambda DynamoDB Streams event (the same record shape: epoch
 * seconds, marshalled images, binaries in base64, `eventSourceARN`), in batches of up to
 * `batchSize`. A batch whose `onRecords` fails is delivered again, before anything newer, on the
 * next round (Lambda retries a failed batch too).
 *
 *   const poller = startStreamPoller({ endpoint, table, onRecords: (event) => handler(event, context) });
 *   ...write...
 *   await poller.drain();   // every record written before this call has been delivered
 *   await poller.stop();
 */

/**
 * The sequencer's event source filter (serverless.yml `filterPatterns`): new audit entries only.
 * The sequencer's own updates of the entries (MODIFY) and the log's items do not pass it.
 */
export const AUDIT_ENTRY_INSERTS = { eventName: ['INSERT'], dynamodb: { NewImage: { type: { S: ['AuditEntry'] } } } } as const;

export interface StreamPollerOptions {
  /** DynamoDB Local's endpoint (it serves the Streams API too). */
  endpoint: string;
  table: string;
  onRecords(event: DynamoDBStreamEvent): Promise<unknown>;
  /** Pause between rounds of the background loop (ms). Default 250; 0 polls only on `drain()`. */
  intervalMs?: number;
  /** Where to start on the shards open when the poller starts. Default TRIM_HORIZON (every record kept). */
  startingPosition?: 'TRIM_HORIZON' | 'LATEST';
  /** A Lambda event filter pattern; `null` delivers every record. Default `AUDIT_ENTRY_INSERTS`. */
  filter?: Record<string, unknown> | null;
  /** Records per `onRecords` call. Default 100 (the sequencer's batch size). */
  batchSize?: number;
  /** A failure of the background loop (the batch is retried on the next round). Default: console.error. */
  onError?(error: unknown): void;
  region?: string;
}

export interface StreamPoller {
  /** Stops the background loop, waits for a round in progress, and closes the clients. */
  stop(): Promise<void>;
  /** Resolves once every record in the stream now has been read and, if it passes the filter, delivered; rejects if a delivery fails. */
  drain(): Promise<void>;
}

interface ShardState {
  id: string;
  iterator: string | undefined;
  /** The last record read, to resume after an expired iterator. */
  lastSequenceNumber?: string;
  /** Read but not yet delivered (a failed batch waits here). */
  pending: DynamoDBRecord[];
  /** The shard is closed and fully read. */
  done: boolean;
}

/** GetRecords reads at most 1,000 records a call. */
const GET_RECORDS_LIMIT = 1000;

export function startStreamPoller(options: StreamPollerOptions): StreamPoller {
  const {
    endpoint,
    table,
    onRecords,
    intervalMs = 250,
    startingPosition = 'TRIM_HORIZON',
    filter = AUDIT_ENTRY_INSERTS,
    batchSize = 100,
    onError = (e: unknown) => console.error('stream poller:', e),
  } = options;
  const clientConfig = {
    endpoint,
    region: options.region ?? process.env.AWS_REGION ?? 'us-east-1',
    // DynamoDB Local does not check credentials; these keep the SDK away from any real profile.
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
  const dynamodb = new DynamoDBClient(clientConfig);
  const streams = new DynamoDBStreamsClient(clientConfig);
  const shards = new Map<string, ShardState>();
  let streamArn: string | undefined;
  let firstDiscovery = true;

  const iteratorFor = async (shardId: string, type: ShardIteratorType, after?: string): Promise<string | undefined> => {
    const out = await streams.send(
      new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shardId, ShardIteratorType: type, ...(after ? { SequenceNumber: after } : {}) }),
    );
    return out.ShardIterator;
  };

  /** The stream's shards; a shard seen for the first time starts at its beginning (after the first look: `startingPosition`). */
  const discover = async (): Promise<void> => {
    if (!streamArn) {
      const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: table }));
      streamArn = Table?.LatestStreamArn;
      if (!streamArn) throw new Error(`table ${table} has no stream (serverless.yml StreamSpecification)`);
    }
    let exclusiveStart: string | undefined;
    do {
      const out = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn, ...(exclusiveStart ? { ExclusiveStartShardId: exclusiveStart } : {}) }));
      for (const shard of out.StreamDescription?.Shards ?? []) {
        const id = shard.ShardId;
        if (!id || shards.has(id)) continue;
        const type: ShardIteratorType = firstDiscovery ? startingPosition : 'TRIM_HORIZON';
        shards.set(id, { id, iterator: await iteratorFor(id, type), pending: [], done: false });
      }
      exclusiveStart = out.StreamDescription?.LastEvaluatedShardId;
    } while (exclusiveStart);
    firstDiscovery = false;
  };

  const deliver = async (shard: ShardState): Promise<void> => {
    while (shard.pending.length > 0) {
      const batch = shard.pending.slice(0, batchSize);
      await onRecords({ Records: batch });
      shard.pending.splice(0, batch.length);
    }
  };

  /** One round: every open shard read once. Returns how many records were read (delivered or not). */
  const round = async (): Promise<number> => {
    await discover();
    let read = 0;
    // Parents come before their children in DescribeStream's list, so a key's records keep their order.
    for (const shard of shards.values()) {
      await deliver(shard); // a batch that failed last round goes first
      if (shard.done) continue;
      let records: StreamsRecord[] = [];
      let nextIterator: string | undefined;
      try {
        const out = await streams.send(new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: GET_RECORDS_LIMIT }));
        records = out.Records ?? [];
        nextIterator = out.NextShardIterator;
      } catch (e) {
        if (!(e instanceof ExpiredIteratorException)) throw e;
        shard.iterator = await iteratorFor(shard.id, shard.lastSequenceNumber ? 'AFTER_SEQUENCE_NUMBER' : 'TRIM_HORIZON', shard.lastSequenceNumber);
        read += 1; // not caught up: go round again
        continue;
      }
      // Converted before the shard moves on: a record that fails here is read again next round.
      const converted = records.map((r) => lambdaRecord(r, streamArn as string));
      shard.pending.push(...converted.filter((record) => filter === null || matches(filter, record)));
      shard.iterator = nextIterator;
      if (!shard.iterator) shard.done = true;
      read += records.length;
      const last = records[records.length - 1]?.dynamodb?.SequenceNumber;
      if (last) shard.lastSequenceNumber = last;
      await deliver(shard);
    }
    return read;
  };

  // One round at a time, whoever asks (the background loop or drain).
  let running: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(work: () => Promise<T>): Promise<T> => {
    const next = running.then(work);
    running = next.catch(() => undefined);
    return next;
  };

  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const loop = async (): Promise<void> => {
    if (stopped) return;
    try {
      await exclusive(round);
    } catch (e) {
      if (!stopped) onError(e);
    }
    if (!stopped) timer = setTimeout(() => void loop(), intervalMs);
  };
  if (intervalMs > 0) timer = setTimeout(() => void loop(), 0);

  return {
    async drain() {
      for (;;) {
        const read = await exclusive(round);
        const undelivered = [...shards.values()].some((s) => s.pending.length > 0);
        if (read === 0 && !undelivered) return;
      }
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
      dynamodb.destroy();
      streams.destroy();
    },
  };
}

type Json = unknown;
type LambdaImage = NonNullable<NonNullable<DynamoDBRecord['dynamodb']>['Keys']>;

/** An attribute value as Lambda's JSON event carries it: binaries in base64, everything else as is. */
function jsonAttribute(value: Record<string, Json>): Record<string, Json> {
  const [type, v] = Object.entries(value)[0] ?? [];
  if (type === undefined) return value;
  if (type === 'B' && v instanceof Uint8Array) return { B: Buffer.from(v).toString('base64') };
  if (type === 'BS' && Array.isArray(v)) return { BS: v.map((b: Uint8Array) => Buffer.from(b).toString('base64')) };
  if (type === 'L' && Array.isArray(v)) return { L: v.map((e: Record<string, Json>) => jsonAttribute(e)) };
  if (type === 'M' && v && typeof v === 'object') return { M: jsonImage(v as Record<string, Record<string, Json>>) };
  return { [type]: v };
}

/**
 * An image (or a map's value) in Lambda's JSON form. The Streams client of the installed SDK
 * (3.1141) reads a map entry named `__proto__` as an own property whose value is undefined; such
 * an entry is left out here. The sequencer reads only the keys and `type` of a record, and reads
 * the entry itself again before hashing it, so nothing downstream depends on the image's maps.
 */
const jsonImage = (image: Record<string, Record<string, Json>> | undefined): Record<string, Json> | undefined =>
  image === undefined
    ? undefined
    : Object.fromEntries(
        Object.entries(image)
          .filter(([, v]) => typeof v === 'object' && v !== null)
          .map(([k, v]) => [k, jsonAttribute(v)]),
      );

/** A Streams API record in the shape Lambda delivers it (`Records[i]` of a DynamoDB Streams event). */
function lambdaRecord(r: StreamsRecord, streamArn: string): DynamoDBRecord {
  const d = r.dynamodb ?? {};
  const image = (i: unknown) => jsonImage(i as Record<string, Record<string, Json>> | undefined) as LambdaImage;
  return {
    eventID: r.eventID,
    eventName: r.eventName,
    eventVersion: r.eventVersion,
    eventSource: r.eventSource ?? 'aws:dynamodb',
    awsRegion: r.awsRegion,
    eventSourceARN: streamArn,
    dynamodb: {
      // Lambda gives epoch seconds; the SDK parsed the Streams API's into a Date.
      ...(d.ApproximateCreationDateTime ? { ApproximateCreationDateTime: Math.floor(d.ApproximateCreationDateTime.getTime() / 1000) } : {}),
      Keys: image(d.Keys),
      ...(d.NewImage ? { NewImage: image(d.NewImage) } : {}),
      ...(d.OldImage ? { OldImage: image(d.OldImage) } : {}),
      SequenceNumber: d.SequenceNumber,
      SizeBytes: d.SizeBytes,
      StreamViewType: d.StreamViewType,
    },
    ...(r.userIdentity ? { userIdentity: { type: r.userIdentity.Type, principalId: r.userIdentity.PrincipalId } } : {}),
  };
}
