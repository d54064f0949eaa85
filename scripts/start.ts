/**
 * `npm start`: modelgate's main job on one machine, on its embedded default (DynamoDB Local).
 * Starts DynamoDB Local (data kept in .local/dynamodb), creates the stage-local table from
 * serverless.yml, replays the sample story through the real handlers, prints what happened, and
 * serves the review page (the real review handler) on port 3000 with a link for every open
 * review, and keeps both up for `serverless invoke local --stage local` until Ctrl-C.
 * `npm start -- --fresh` starts from an empty table; `-- --no-replay` skips the story.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { REPO_ROOT, assertJava, createTable, portIsFree, startDynamoDbLocal } from './dynamodb-local.js';
import { LOCAL_ENV, STORY, fakeContext, loadHandlers, sampleEvent, tableNameFor } from './story.js';
import { startReviewServer, type ReviewHandler } from './review-server.js';

const PORT = Number(process.env.MODELGATE_DYNAMODB_PORT ?? 8000);
const REVIEW_PORT = Number(process.env.MODELGATE_REVIEW_PORT ?? 3000);
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
for (const [port, variable] of [[PORT, 'MODELGATE_DYNAMODB_PORT'], [REVIEW_PORT, 'MODELGATE_REVIEW_PORT']] as const) {
  if (!(await portIsFree(port))) {
    console.error(`Port ${port} is taken: is \`npm start\` already running? Stop it (Ctrl-C), or set ${variable}.`);
    process.exit(1);
  }
}

const dataDir = join(REPO_ROOT, '.local', 'dynamodb');
if (fresh) rmSync(dataDir, { recursive: true, force: true });
mkdirSync(dataDir, { recursive: true });
const db = await startDynamoDbLocal({ port: PORT, dataDir });
const table = tableNameFor('local');
Object.assign(process.env, LOCAL_ENV, {
  AWS_ENDPOINT_URL_DYNAMODB: db.endpoint,
  TABLE_NAME: table,
  REVIEW_BASE_URL: `http://localhost:${REVIEW_PORT}`,
  POWERTOOLS_LOG_LEVEL: 'WARN',
});
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

// The review page, served by the real review handler (stage local signs with its public key).
const { handler: review } = (await import('../functions/review/handler.js')) as { handler: ReviewHandler };
const server = await startReviewServer({ port: REVIEW_PORT, handler: review });
console.log(`\nReview page      ${server.url}/reviews/<token>`);
const links = await openReviewLinks();
if (links.length > 0) {
  console.log('Open reviews, one personal link per reviewer (open one in a browser, then Approve or Reject):');
  for (const l of links) console.log(`  ${l.group} v${l.version}  ${l.reviewer.padEnd(32)} ${server.url}/reviews/${l.token}`);
}

const env = `AWS_ENDPOINT_URL_DYNAMODB=${db.endpoint} AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local`;
console.log(`
Running. In another terminal, invoke a function against this table, for example:
  ${env} npx serverless invoke local --stage local -f listPendingReviews --path events/list-pending-reviews.json
  ${env} npx serverless invoke local --stage local -f getPolicy --path events/get-policy.json
Ctrl-C stops DynamoDB Local and the review page.`);

/** Every open review's links, signed as the gate signs them when it sends the messages. */
async function openReviewLinks() {
  const { productionDeps } = await import('../shared/wiring.js');
  const { signReviewToken } = await import('../shared/domain/token.js');
  const { linkClaims } = await import('../shared/domain/review.js');
  const deps = productionDeps();
  const ring = await deps.keys.keyRing();
  const out: Array<{ group: string; version: number; reviewer: string; token: string }> = [];
  let cursor: string | undefined;
  do {
    const page = await deps.store.listOpenReviews({ limit: 100, ...(cursor ? { cursor } : {}) });
    for (const r of page.items) {
      for (const reviewer of r.reviewers) {
        if (r.votes[reviewer]) continue;
        const link = { id: r.links[reviewer] ?? '', reviewId: r.id, modelPackageArn: r.modelPackageArn, version: r.version, reviewer, expiresAt: r.expiresAt };
        out.push({ group: r.group, version: r.version, reviewer, token: signReviewToken(linkClaims(link), ring.current) });
      }
    }
    cursor = page.cursor;
  } while (cursor);
  return out;
}

const stop = async () => {
  await server.close();
  await db.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
setInterval(() => undefined, 1 << 30);
