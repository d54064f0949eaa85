/**
 * A fresh governance table per test file (or per test) on the DynamoDB Local that
 * global-setup.ts started. The table comes from serverless.yml's GovernanceTable definition.
 *
 *   const t = await newTable('store');
 *   afterAll(() => t.drop());
 */
import { randomBytes } from 'node:crypto';
import { DeleteTableCommand, DynamoDBClient, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createTable } from '../../scripts/dynamodb-local.js';

export interface TestTable {
  tableName: string;
  /** Default-config client: the SDK itself reads AWS_ENDPOINT_URL_DYNAMODB. */
  client: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  /** Deletes the table and destroys both clients. */
  drop(): Promise<void>;
}

/** The endpoint that global-setup published; refuses anything but a local one. */
export function localEndpoint(): string {
  const endpoint = process.env['AWS_ENDPOINT_URL_DYNAMODB'];
  if (!endpoint) {
    throw new Error(
      'AWS_ENDPOINT_URL_DYNAMODB is not set: run tests through jest (its globalSetup starts DynamoDB Local), e.g. `npm test`.',
    );
  }
  const host = new URL(endpoint).hostname;
  if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host)) {
    throw new Error(`refusing to create test tables on a non-local endpoint: ${endpoint}`);
  }
  return endpoint;
}

/**
 * `stream: true` keeps serverless.yml's stream (NEW_IMAGE) on the table, for the tests that read it.
 * Without it the table has no stream: DynamoDB Local slows down for every table while tables with
 * streams accumulate over a run (`npx tsx scripts/measure-streams.ts [streams]`: 22–26 ms a
 * 10-item transaction on a fresh instance; after 30 stream-less tables, 12.5–13.9 ms on a table
 * without a stream and 30–46 ms on one with; with 30 stream tables before, 300 transactions did
 * not finish in 15 minutes). The fuzz test took 712 s in `.ci/run` with streams on every table.
 */
export async function newTable(prefix = 'test', options: { stream?: boolean } = {}): Promise<TestTable> {
  localEndpoint();
  const tableName = `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  const client = new DynamoDBClient({});
  const doc = DynamoDBDocumentClient.from(client);
  await createTable(client, tableName, undefined, { stream: options.stream ?? false });
  return {
    tableName,
    client,
    doc,
    async drop() {
      try {
        await client.send(new DeleteTableCommand({ TableName: tableName }));
      } catch (error) {
        if (!(error instanceof ResourceNotFoundException)) throw error;
      } finally {
        doc.destroy();
        client.destroy();
      }
    },
  };
}
