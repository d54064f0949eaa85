import { DynamoDBClient, PutItemCommand, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import { startDynamoDbLocal, createTable } from '../scripts/dynamodb-local.js';
process.env.AWS_ACCESS_KEY_ID='x'; process.env.AWS_SECRET_ACCESS_KEY='x'; process.env.AWS_REGION='us-east-1';
const h = await startDynamoDbLocal({});
try {
  const client = new DynamoDBClient({ endpoint: h.endpoint });
  await createTable(client, 'tab1');
  const M: Record<string, unknown> = {};
  for (const k of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) Object.defineProperty(M, k, { value: { S: 'v-' + k }, enumerable: true, writable: true, configurable: true });
  await client.send(new PutItemCommand({ TableName: 'tab1', Item: { PK: { S: 'a' }, SK: { S: 'b' }, tags: { M: M as never } } }));
  const out = await client.send(new GetItemCommand({ TableName: 'tab1', Key: { PK: { S: 'a' }, SK: { S: 'b' } } }));
  const tags = out.Item?.tags?.M as Record<string, unknown>;
  console.log('low-level get keys', Object.keys(tags), Object.getOwnPropertyDescriptor(tags, '__proto__'), Object.getPrototypeOf(tags));
  const doc = DynamoDBDocumentClient.from(client);
  const g = await doc.send(new GetCommand({ TableName: 'tab1', Key: { PK: 'a', SK: 'b' } }));
  console.log('doc get keys', Object.keys(g.Item!.tags), Object.getPrototypeOf(g.Item!.tags));
} finally { await h.stop(); }
