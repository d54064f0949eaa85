/**
 * Why test tables have no stream (test/support/dynamo.ts): on one DynamoDB Local, 300
 * transactions of 10 Puts on a fresh table, then the same on 30 tables one after another (each
 * deleted after), then on one more table with a stream and one without.
 *
 *   npx tsx scripts/measure-streams.ts            # the 30 tables without streams (about 2 minutes)
 *   npx tsx scripts/measure-streams.ts streams    # the 30 tables with streams (did not finish in 15 minutes here)
 *
 * Not part of `npm run bench`: the second form takes too long.
 */
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { createTable, startDynamoDbLocal } from './dynamodb-local.js';

const withStreams = process.argv[2] === 'streams';
const db = await startDynamoDbLocal({});
process.env['AWS_ENDPOINT_URL_DYNAMODB'] = db.endpoint;
process.env['AWS_REGION'] ??= 'us-east-1';
process.env['AWS_ACCESS_KEY_ID'] ??= 'local';
process.env['AWS_SECRET_ACCESS_KEY'] ??= 'local';
const client = new DynamoDBClient({});
const doc = DynamoDBDocumentClient.from(client);

/** 300 transactions of 10 Puts; the mean time of one, in ms. */
async function load(table: string): Promise<string> {
  const t = performance.now();
  for (let i = 0; i < 300; i++) {
    await doc.send(
      new TransactWriteCommand({
        TransactItems: Array.from({ length: 10 }, (_, j) => ({ Put: { TableName: table, Item: { PK: `P${i}`, SK: `S${j}`, GSI1PK: `G${i % 7}`, GSI1SK: `x${i}-${j}`, v: 'y'.repeat(200) } } })),
      }),
    );
  }
  return ((performance.now() - t) / 300).toFixed(1);
}

try {
  await createTable(client, 'fresh');
  console.log(`fresh instance, table with a stream: ${await load('fresh')} ms a transaction`);
  for (let k = 0; k < 30; k++) {
    await createTable(client, `tbl${k}`, undefined, { stream: withStreams });
    await load(`tbl${k}`);
    await client.send(new DeleteTableCommand({ TableName: `tbl${k}` }));
  }
  await createTable(client, 'after-stream');
  console.log(`after 30 tables ${withStreams ? 'with' : 'without'} streams, table with a stream: ${await load('after-stream')} ms a transaction`);
  await createTable(client, 'after-plain', undefined, { stream: false });
  console.log(`after 30 tables ${withStreams ? 'with' : 'without'} streams, table without a stream: ${await load('after-plain')} ms a transaction`);
} finally {
  doc.destroy();
  client.destroy();
  await db.stop();
}
