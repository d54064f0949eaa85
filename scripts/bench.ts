/**
 * `npm run bench`: replays the sample story (scripts/story.ts) against a fresh DynamoDB Local and
 * prints, per event, the DynamoDB round trips (reads, writes) and the capacity DynamoDB reports
 * (ReturnConsumedCapacity: TOTAL), then the size of each function's deployment package.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { REPO_ROOT, assertJava, createTable, startDynamoDbLocal } from './dynamodb-local.js';
import { LOCAL_ENV, STORY, fakeContext, loadHandlers, sampleEvent } from './story.js';

const READS = new Set(['GetCommand', 'BatchGetCommand', 'QueryCommand', 'GetItemCommand', 'BatchGetItemCommand']);
type Capacity = { CapacityUnits?: number; ReadCapacityUnits?: number; WriteCapacityUnits?: number };

assertJava();
const db = await startDynamoDbLocal({});
const table = `bench-${Date.now().toString(36)}`;
Object.assign(process.env, LOCAL_ENV, { AWS_ENDPOINT_URL_DYNAMODB: db.endpoint, TABLE_NAME: table, POWERTOOLS_LOG_LEVEL: 'SILENT' });
const admin = new DynamoDBClient({});
await createTable(admin, table);
admin.destroy();

const handlers = await loadHandlers();
// The handlers' own client (one per cold start): count what they send, and ask for capacity.
const { clients } = await import('../shared/aws/clients.js');
let trips = { reads: 0, writes: 0, rcu: 0, wcu: 0 };
clients.dynamo().middlewareStack.add(
  (next, context) => async (args) => {
    (args.input as { ReturnConsumedCapacity?: string }).ReturnConsumedCapacity = 'TOTAL';
    const out = await next(args);
    const read = READS.has(context.commandName ?? '');
    if (read) trips.reads++;
    else trips.writes++;
    const consumed = (out.output as { ConsumedCapacity?: Capacity | Capacity[] }).ConsumedCapacity;
    for (const c of [consumed ?? []].flat()) {
      if (read) trips.rcu += c.ReadCapacityUnits ?? c.CapacityUnits ?? 0;
      else trips.wcu += c.WriteCapacityUnits ?? c.CapacityUnits ?? 0;
    }
    return out;
  },
  { step: 'initialize', name: 'benchRoundTrips' },
);

console.log('DynamoDB round trips and consumed capacity per event (sample story, DynamoDB Local)\n');
console.log(`${'event'.padEnd(46)} ${'outcome'.padEnd(18)} reads writes    RCU    WCU      ms`);
for (const step of STORY) {
  trips = { reads: 0, writes: 0, rcu: 0, wcu: 0 };
  const t0 = performance.now();
  let outcome: string;
  try {
    outcome = ((await handlers[step.fn](sampleEvent(step.file), fakeContext(step.fn))) as { outcome?: string }).outcome ?? 'ok';
  } catch (e) {
    outcome = (e as Error).name;
  }
  const ms = performance.now() - t0;
  console.log(
    `${step.what.padEnd(46)} ${outcome.padEnd(18)} ${String(trips.reads).padStart(5)} ${String(trips.writes).padStart(6)} ${trips.rcu.toFixed(1).padStart(6)} ${trips.wcu.toFixed(1).padStart(6)} ${ms.toFixed(1).padStart(7)}`,
  );
}
await db.stop();

// Package sizes: what `serverless package` puts in .serverless/ (built here if it is missing).
const dir = join(REPO_ROOT, '.serverless');
if (!existsSync(dir) || !readdirSync(dir).some((f) => f.endsWith('.zip'))) {
  console.log('\nPackaging (npx serverless package --stage dev) to measure the bundles…');
  execFileSync('npx', ['serverless', 'package', '--stage', 'dev'], { cwd: REPO_ROOT, stdio: 'ignore', env: { ...process.env, SLS_TELEMETRY_DISABLED: '1' } });
}
console.log('\nDeployment package per function (.serverless/*.zip)');
for (const f of readdirSync(dir).filter((f) => f.endsWith('.zip')).sort()) {
  console.log(`  ${f.padEnd(36)} ${(statSync(join(dir, f)).size / 1024).toFixed(1).padStart(8)} KiB`);
}
process.exit(0);
