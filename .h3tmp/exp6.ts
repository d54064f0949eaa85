import { DynamoDBClient, PutItemCommand, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { startDynamoDbLocal, createTable } from '../scripts/dynamodb-local.js';
process.env.AWS_ACCESS_KEY_ID='x'; process.env.AWS_SECRET_ACCESS_KEY='x'; process.env.AWS_REGION='us-east-1';
const h = await startDynamoDbLocal({});
try {
  const client = new DynamoDBClient({ endpoint: h.endpoint });
  await createTable(client, 'tab1');
  for (const n of ['1e+21', '1.5e-7', '-9007199254740992', '3.4028234663852886e+38', '5e-324', '1e+125', '1e+126', '1.7976931348623157e+308', '1e-130', '1e-131', '0.1', '-0']) {
    try { await client.send(new PutItemCommand({ TableName: 'tab1', Item: { PK: { S: 'a' }, SK: { S: n }, x: { N: n } } }));
      const g = await client.send(new GetItemCommand({ TableName: 'tab1', Key: { PK: { S: 'a' }, SK: { S: n } } }));
      console.log(n, 'ok ->', g.Item?.x?.N, Number(g.Item?.x?.N) === Number(n)); } catch (e) { console.log(n, (e as Error).message.slice(0, 100)); }
  }
} finally { await h.stop(); }
