import { startDynamoDbLocal, createTable } from './dynamodb-local.ts';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../shared/aws/clients.ts';
import { auditLogStore } from '../shared/store/audit-log-store.ts';
import { sequenceEntries } from '../shared/usecases/sequencer.ts';
import { keys, gsi } from '../shared/store/keys.ts';
import { logger } from '../shared/logger.ts';
logger.setLogLevel('SILENT');
const h = await startDynamoDbLocal({});
try {
  const c = new DynamoDBClient({ endpoint: h.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'l', secretAccessKey: 'l' } });
  const doc = documentClient(c);
  let t = Date.now();
  await createTable(c, 'bench-table');
  console.log('createTable ms', Date.now() - t);
  const N = Number(process.env.N ?? 1000);
  const items = Array.from({ length: N }, (_, i) => {
    const at = new Date(Date.parse('2026-11-27T12:00:00Z') + i).toISOString();
    const id = `id${i}`;
    return { ...keys.auditEntry('group:g', at, 0, id), ...gsi.auditOf('s', at, 0, id), ...gsi.unsequenced(at, 0, id), type: 'AuditEntry', id, scope: 'group:g', at, position: 0, action: 'a', subject: 's', actor: 'x', detail: { i } };
  });
  t = Date.now();
  for (let i = 0; i < N; i += 25) await doc.send(new BatchWriteCommand({ RequestItems: { 'bench-table': items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) } }));
  console.log('write ms', Date.now() - t);
  const raw = auditLogStore({ client: doc, table: 'bench-table' });
  const times: Record<string, number> = {};
  const log = Object.fromEntries(Object.entries(raw).map(([k, f]) => [k, async (...a: unknown[]) => { const t0 = Date.now(); try { return await (f as (...x: unknown[]) => unknown)(...a); } finally { times[k] = (times[k] ?? 0) + Date.now() - t0; } }])) as typeof raw;
  const deps = { log, clock: { now: () => Date.now() } };
  t = Date.now();
  // as the stream would: batches of 100
  for (let i = 0; i < N; i += 100) await sequenceEntries(deps, items.slice(i, i + 100).map(({ PK, SK }) => ({ PK, SK })));
  const ms = Date.now() - t;
  console.log(times);
  console.log(`sequenced ${N} in ${ms} ms: ${(N / (ms / 1000)).toFixed(0)} entries/s`, (await log.readHead()).size);
} finally { await h.stop(); }
