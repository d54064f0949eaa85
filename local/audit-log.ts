import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeTableCommand, DynamoDBClient, UpdateTableCommand } from '@aws-sdk/client-dynamodb';
import { parse } from 'yaml';
import { REPO_ROOT, tableDefinition } from '../scripts/dynamodb-local.js';
import { invokeFunction } from './lambda.js';
import { startStreamPoller } from './streams.js';

/**
 * The audit log's event sources in the local stack, as serverless.yml defines them on AWS:
 *
 * - the table's stream → `sequenceAuditLog`: Lambda's event source mapping is DynamoDB Local's
 *   stream, read by local/streams.ts (the same filter, new audit entries only, 100 a batch, from
 *   the stream's start); each batch is invoked through serverless-offline's Lambda endpoint, like
 *   every other event of the local stack, and a batch that fails is delivered again;
 * - the schedules (the sequencer's catch-up, `checkpointSchedule` → `checkpointAuditLog`):
 *   serverless-offline runs serverless.yml's `schedule` events itself (as cron, at wall-clock
 *   minutes: `rate(5 minutes)` fires at :00, :05, …), so nothing here times them; `summary` names them.
 */
export interface AuditLogWiringOptions {
  lambdaUrl: string;
  /** DynamoDB Local's endpoint (it serves the Streams API too). */
  dynamodbEndpoint: string;
  table: string;
  stage: string;
  region: string;
  /** Where the wiring reports what it does (one line each). Default console.log. */
  log?: (line: string) => void;
}

export interface AuditLogWiring {
  /** The line for the stack's ready banner. */
  summary: string;
  stop(): Promise<void>;
}

export async function startAuditLogWiring(options: AuditLogWiringOptions): Promise<AuditLogWiring> {
  const { lambdaUrl, dynamodbEndpoint, table, stage, region } = options;
  const log = options.log ?? ((line: string) => console.log(line));
  const sequencer = `modelgate-${stage}-sequenceAuditLog`;

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

  const schedules = ['sequenceAuditLog', 'checkpointAuditLog'].map((fn) => `${fn} ${schedulesOf(fn, stage).join(', ') || '(no schedule)'}`);
  return {
    summary: `stream → sequenceAuditLog (new audit entries); schedules (serverless-offline): ${schedules.join('; ')}`,
    stop: () => poller.stop(),
  };
}

/** A function's schedule expressions in serverless.yml, `${param:…}` resolved for `stage`. */
export function schedulesOf(functionName: string, stage: string, serverlessYml = join(REPO_ROOT, 'serverless.yml')): string[] {
  const doc = parse(readFileSync(serverlessYml, 'utf8')) as {
    params?: Record<string, Record<string, unknown>>;
    functions: Record<string, { events?: Array<{ schedule?: string | { rate?: string | string[] } }> }>;
  };
  const param = (name: string): string => String(doc.params?.[stage]?.[name] ?? doc.params?.default?.[name] ?? `\${param:${name}}`);
  return (doc.functions[functionName]?.events ?? [])
    .flatMap((e) => (typeof e.schedule === 'string' ? [e.schedule] : e.schedule?.rate === undefined ? [] : [e.schedule.rate].flat()))
    .map((rate) => rate.replace(/\$\{param:([A-Za-z0-9]+)\}/g, (_, name: string) => param(name)));
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
