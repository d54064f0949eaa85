import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { startDynamoDbLocal, createTable } from '../scripts/dynamodb-local.js';
process.env.AWS_ACCESS_KEY_ID='x'; process.env.AWS_SECRET_ACCESS_KEY='x'; process.env.AWS_REGION='us-east-1';
const h = await startDynamoDbLocal({});
try {
  const client = new DynamoDBClient({ endpoint: h.endpoint });
  await createTable(client, 'tab1');
  for (const Item of [
    { PK: { S: 'a' }, SK: { S: 'b' }, m: { M: { '': { S: 'x' } } } },
    { PK: { S: 'a' }, SK: { S: 'b' }, '': { S: 'x' } },
    { PK: { S: 'a' }, SK: { S: 'b' }, m: { M: { ['k'.repeat(70000)]: { S: 'x' } } } },
    { PK: { S: 'a' }, SK: { S: 'b' }, ss: { SS: ['a', 'a'] } },
  ]) {
    try { await client.send(new PutItemCommand({ TableName: 'tab1', Item: Item as never })); console.log('ok'); } catch (e) { console.log((e as Error).message.slice(0, 150)); }
  }
} finally { await h.stop(); }
