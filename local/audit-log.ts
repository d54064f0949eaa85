import { randomUUID } from 'node:crypto';
import { DescribeTableCommand, DynamoDBClient, UpdateTableCommand } from '@aws-sdk/client-dynamodb';
import { tableDefinition } from '../scripts/dynamodb-local.js';
import { invokeFunction } from './lambda.js';
import { startStreamPoller } from './streams.js';

/**
 * The audit log's two event sources in the local stack, as serverless.yml defines them on AWS:
 *
 * - the table's stream → `sequenceAuditLog`: Lambda's event source mapping is DynamoDB Local's
 *   stream, read by local/streams.ts (the same filter, new audit entries only, 100 a batch, from
 *   the stream's start); each batch is invoked through serverless-offline's Lambda endpoint, like
 *   every other event of the local stack, and a batch that fails is delivered again;
 * - the `checkpointSchedule` rule → `checkpointAuditLog`: the local stack runs no EventBridge
 *   schedule, so a timer sends the function a Scheduled Event every `checkpointIntervalMs`.
 *
 * The sequencer's catch-up schedule is not run here: locally the stream delivers every entry (a
 * failed batch is retried until it passes), and an operator can still invoke the catch-up with
 * `serverless invoke local --stage local -f sequenceAuditLog --path events/sequence-audit-log.json`.
 */
export interface AuditLogWiringOptions {
  lambdaUrl: string;
  /** DynamoDB Local's endpoint (it serves the Streams API too). */
  dynamodbEndpoint: string;
  table: string;
  stage: string;
  region: string;
  account: string;
  checkpointIntervalMs: number;
  /** Where the wiring reports what it does (one line each). Default console.log. */
  log?: (line: string) => void;
}

export interface AuditLogWiring {
  /** The line for the stack's ready banner. */
  summary: string;
  stop(): Promise<void>;
}

export async function startAuditLogWiring(options: AuditLogWiringOptions): Promise<AuditLogWiring> {
  const { lambdaUrl, dynamodbEndpoint, table, stage, region, account, checkpointIntervalMs } = options;
  const log = options.log ?? ((line: string) => console.log(line));
  const sequencer = `modelgate-${stage}-sequenceAuditLog`;
  const checkpointer = `modelgate-${stage}-checkpointAuditLog`;

  const enabled = await ensureTableStream(dynamodbEndpoint, table, region);
  if (enabled) log(`  DynamoDB Local: the stream of ${table} was off (a table from before the audit log); it is on now`);

  // A failure is printed once, not on every retry (the poller retries twice a second).
  let lastFailure: string | undefined;
  const poller = startStreamPoller({
    endpoint: dynamodbEndpoint,
    table,
    region,
    intervalMs: 500,
    async onRecords(event) {
      const { ok, result } = await invokeFunction(lambdaUrl, sequencer, event);
      if (!ok) throw new Error(`sequenceAuditLog failed: ${JSON.stringify(result)}`);
      lastFailure = undefined;
      log(`  stream ${event.Records.length} new audit entr${event.Records.length === 1 ? 'y' : 'ies'} → sequenceAuditLog: ${JSON.stringify(result)}`);
    },
    onError(error) {
      const message = error instanceof Error ? error.message : String(error);
      if (message !== lastFailure) console.error(`  stream → sequenceAuditLog FAILED (retried until it passes): ${message}`);
      lastFailure = message;
    },
  });

  // One run at a time: the next is timed from the end of the last, as a slow run must not pile up.
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  const ruleName = `modelgate-${stage}-checkpoint-audit-log`;
  const checkpoint = async (): Promise<void> => {
    const event = {
      'version': '0',
      'id': randomUUID(),
      'detail-type': 'Scheduled Event',
      'source': 'aws.events',
      account,
      'time': new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region,
      'resources': [`arn:aws:events:${region}:${account}:rule/${ruleName}`],
      'detail': {},
    };
    const { ok, result } = await invokeFunction(lambdaUrl, checkpointer, event);
    if (!ok) {
      console.error(`  schedule → checkpointAuditLog: FAILED ${JSON.stringify(result)}`);
      return;
    }
    // "No growth" every few minutes is not news; a new checkpoint is.
    const made = result as { made?: boolean; checkpoint?: { logSize: number; rootHash: string }; objectKey?: string };
    if (made.made && made.checkpoint) {
      log(`  schedule → checkpointAuditLog: checkpoint of ${made.checkpoint.logSize} entries, root ${made.checkpoint.rootHash} (${made.objectKey ?? ''})`);
    }
  };
  const schedule = () => {
    timer = setTimeout(() => {
      running = checkpoint()
        .catch((e: unknown) => console.error(`  schedule → checkpointAuditLog: FAILED ${(e as Error).message}`))
        .finally(() => {
          running = undefined;
          if (!stopped) schedule();
        });
    }, checkpointIntervalMs);
  };
  schedule();

  return {
    summary: `stream → sequenceAuditLog (new audit entries); checkpointAuditLog every ${duration(checkpointIntervalMs)} (MODELGATE_CHECKPOINT_INTERVAL_MS)`,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await Promise.allSettled([running, poller.stop()]);
    },
  };
}

/**
 * Turns on the table's stream when it is off: a table kept in the data folder from before the
 * audit log has none (createTable leaves an existing table as it is). Returns whether it did.
 */
export async function ensureTableStream(endpoint: string, table: string, region: string): Promise<boolean> {
  const client = new DynamoDBClient({ endpoint, region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: table }));
    if (Table?.StreamSpecification?.StreamEnabled) return false;
    const { StreamSpecification } = tableDefinition(table);
    if (!StreamSpecification) throw new Error(`serverless.yml gives the table ${table} no StreamSpecification: the sequencer has no stream to read`);
    await client.send(new UpdateTableCommand({ TableName: table, StreamSpecification }));
    for (const deadline = Date.now() + 30_000; ; ) {
      const { Table: t } = await client.send(new DescribeTableCommand({ TableName: table }));
      if (t?.TableStatus === 'ACTIVE' && t.LatestStreamArn) return true;
      if (Date.now() > deadline) throw new Error(`the stream of ${table} is not on after 30 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    client.destroy();
  }
}

const duration = (ms: number): string =>
  ms % 60_000 === 0 ? `${ms / 60_000} min` : ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
