/**
 * `npm start`: modelgate's main job on one machine, on its embedded default (DynamoDB Local).
 * Starts DynamoDB Local (data kept in .local/dynamodb), creates the stage-local table from
 * serverless.yml, replays the sample story through the real handlers, prints what happened, and
 * keeps DynamoDB Local up for `serverless invoke local --stage local` until Ctrl-C.
 * `npm start -- --fresh` starts from an empty table; `-- --no-replay` skips the story.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { REPO_ROOT, assertJava, createTable, portIsFree, startDynamoDbLocal } from './dynamodb-local.js';
import { LOCAL_ENV, STORY, fakeContext, loadHandlers, sampleEvent, tableNameFor } from './story.js';

const PORT = Number(process.env.MODELGATE_DYNAMODB_PORT ?? 8000);
// --fresh: start from an empty table; --no-replay: do not replay the sample story.
const fresh = process.argv.includes('--fresh');
const replay = !process.argv.includes('--no-replay');
const started = Date.now();

try {
  assertJava();
} catch (e) {
  console.error((e as Error).message);
  process.exit(1);
}
if (!(await portIsFree(PORT))) {
  console.error(`Port ${PORT} is taken: is \`npm start\` already running? Stop it (Ctrl-C), or set MODELGATE_DYNAMODB_PORT.`);
  process.exit(1);
}

const dataDir = join(REPO_ROOT, '.local', 'dynamodb');
if (fresh) rmSync(dataDir, { recursive: true, force: true });
mkdirSync(dataDir, { recursive: true });
const db = await startDynamoDbLocal({ port: PORT, dataDir });
const table = tableNameFor('local');
Object.assign(process.env, LOCAL_ENV, { AWS_ENDPOINT_URL_DYNAMODB: db.endpoint, TABLE_NAME: table, POWERTOOLS_LOG_LEVEL: 'WARN' });
const client = new DynamoDBClient({});
await createTable(client, table);
client.destroy();
console.log(`DynamoDB Local   ${db.endpoint}  (data in .local/dynamodb, table ${table}), ready in ${Date.now() - started} ms\n`);

const handlers = await loadHandlers();
if (replay) console.log('Replaying the sample story (events/) through the handlers (a second run shows every event as a repeat):');
for (const step of replay ? STORY : []) {
  try {
    const result = (await handlers[step.fn](sampleEvent(step.file), fakeContext(step.fn))) as { outcome?: string };
    console.log(`  ${step.what.padEnd(46)} → ${result.outcome ?? 'ok'}`);
  } catch (e) {
    console.log(`  ${step.what.padEnd(46)} → ${(e as Error).name}: ${(e as Error).message}`);
  }
}

const env = `AWS_ENDPOINT_URL_DYNAMODB=${db.endpoint} AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local`;
console.log(`
Running. In another terminal, invoke a function against this table, for example:
  ${env} npx serverless invoke local --stage local -f onModelPackageStateChange --path events/model-package-pending.json
  ${env} npx serverless invoke local --stage local -f getPolicy --path events/get-policy.json
Ctrl-C stops DynamoDB Local.`);

const stop = async () => {
  await db.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
setInterval(() => undefined, 1 << 30);
