import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { startDynamoDbLocal, createTable } from '../scripts/dynamodb-local.js';
import { itemBytes, toAttributeMap } from '../shared/store/attributes.js';
process.env.AWS_ACCESS_KEY_ID='x'; process.env.AWS_SECRET_ACCESS_KEY='x'; process.env.AWS_REGION='us-east-1';
const h = await startDynamoDbLocal({});
try {
  const client = new DynamoDBClient({ endpoint: h.endpoint });
  await createTable(client, 'tab1');
  const tryPut = async (item: Record<string, unknown>) => {
    const av = toAttributeMap(item);
    try { await client.send(new PutItemCommand({ TableName: 'tab1', Item: av })); return { ok: true, est: itemBytes(av) }; }
    catch (e) { return { ok: false, est: itemBytes(av), err: (e as Error).message.slice(0, 80) }; }
  };
  const L = 400 * 1024;
  for (const delta of [-2, -1, 0, 1, 2]) {
    const base = { PK: 'a', SK: 'b' };
    const n = L - (2 + 1 + 2 + 1) - 1 /*'x'*/ + delta;
    console.log('string', delta, await tryPut({ ...base, x: 'y'.repeat(n) }));
  }
  // map with many small entries
  for (const k of [20000, 30000, 40000]) {
    const m: Record<string, string> = {}; for (let i = 0; i < k; i++) m['k' + i] = 'v';
    console.log('map', k, await tryPut({ PK: 'a', SK: 'b', m }));
  }
  for (const k of [20000, 30000, 40000]) {
    const l = Array.from({ length: k }, (_, i) => i * 1.123456789);
    console.log('list of numbers', k, await tryPut({ PK: 'a', SK: 'b', l }));
  }
  for (const k of [60000, 80000, 100000]) {
    const l = Array.from({ length: k }, () => true);
    console.log('list of bools', k, await tryPut({ PK: 'a', SK: 'b', l }));
  }
  for (const k of [90000, 100000, 140000]) {
    console.log('emoji', k, await tryPut({ PK: 'a', SK: 'b', e: '😀'.repeat(k) }));
  }
} finally { await h.stop(); }
