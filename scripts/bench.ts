/**
 * `npm run bench`: replays the sample story (scripts/story.ts) against a fresh DynamoDB Local (and
 * the local SageMaker, SNS and S3 stand-ins) and prints, per event, the DynamoDB round trips (reads, writes) and the capacity DynamoDB reports
 * (ReturnConsumedCapacity: TOTAL), then the size of each function's deployment package.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateModelPackageCommand, CreateModelPackageGroupCommand, CreateTrainingJobCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { startSageMakerStandIn } from '../local/sagemaker/server.js';
import { startSnsStandIn } from '../local/sns/server.js';
import { startS3StandIn } from '../local/s3/server.js';
import { sampleBuckets, seedSampleReports } from '../local/seed.js';
import { REPO_ROOT, assertJava, createTable, startDynamoDbLocal } from './dynamodb-local.js';
import { LOCAL_ENV, STORY, fakeContext, loadHandlers, sampleEvent } from './story.js';
import type { ReviewRequest } from '../shared/domain/review.js';

/** The review bench opens REVIEWS reviews on versions FIRST_BENCH_VERSION… of the sample group. */
const REVIEWS = 60;
const FIRST_BENCH_VERSION = 4;
const READS = new Set(['GetCommand', 'BatchGetCommand', 'QueryCommand', 'GetItemCommand', 'BatchGetItemCommand']);
type Capacity = { CapacityUnits?: number; ReadCapacityUnits?: number; WriteCapacityUnits?: number };

assertJava();
const db = await startDynamoDbLocal({});
const table = `bench-${Date.now().toString(36)}`;
// SageMaker, SNS and S3 are the local stand-ins (in this process), reached the standard way.
const scratch = mkdtempSync(join(tmpdir(), 'modelgate-bench-'));
const sagemakerStandIn = await startSageMakerStandIn({ account: '123456789012' });
const snsStandIn = await startSnsStandIn({ account: '123456789012', topics: ['modelgate-local-reviewers', 'modelgate-local-governance'], print: () => undefined });
const s3StandIn = await startS3StandIn({ directory: join(scratch, 's3'), buckets: sampleBuckets() });
Object.assign(process.env, LOCAL_ENV, {
  AWS_ENDPOINT_URL_DYNAMODB: db.endpoint,
  AWS_ENDPOINT_URL_SAGEMAKER: sagemakerStandIn.url,
  AWS_ENDPOINT_URL_SNS: snsStandIn.url,
  AWS_ENDPOINT_URL_S3: s3StandIn.url,
  TABLE_NAME: table,
  POWERTOOLS_LOG_LEVEL: 'SILENT',
});
const admin = new DynamoDBClient({});
await createTable(admin, table);
admin.destroy();
await seedStandIns(REVIEWS + 3);

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
await benchReviews();
{
  // A client of its own for the scale bench, counting requests by command.
  const { DynamoDBDocumentClient } = await import('@aws-sdk/lib-dynamodb');
  const counts = new Map<string, number>();
  const scaleClient = new DynamoDBClient({});
  scaleClient.middlewareStack.add(
    (next, context) => async (args) => {
      counts.set(context.commandName ?? '?', (counts.get(context.commandName ?? '?') ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'benchScaleCounter' },
  );
  // Imported here, after the environment is set: the use cases' logger reads its level on load.
  const { benchScale } = await import('./bench-scale.js');
  await benchScale(DynamoDBDocumentClient.from(scaleClient, { marshallOptions: { removeUndefinedValues: true } }), table, counts);
}
await Promise.all([db.stop(), sagemakerStandIn.close(), snsStandIn.close(), s3StandIn.close()]);
rmSync(scratch, { recursive: true, force: true });

/**
 * What SageMaker and S3 know in the sample story: the sample training jobs (completed with their
 * final metrics), the group's versions 1…n (so DescribeModelPackage answers), the evaluation report.
 */
async function seedStandIns(versions: number): Promise<void> {
  const sm = new SageMakerClient({});
  const local = (op: string, body: unknown) =>
    fetch(sagemakerStandIn.url, { method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `ModelgateLocal.${op}` }, body: JSON.stringify(body) });
  const dir = join(REPO_ROOT, 'events', 'local-aws', 'training-jobs');
  for (const file of readdirSync(dir)) {
    const job = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<string, unknown> & { TrainingJobName: string; TrainingJobStatus: string; FinalMetricDataList: Array<{ MetricName: string; Value: number }>; FailureReason?: string };
    const { TrainingJobName, AlgorithmSpecification, RoleArn, InputDataConfig, OutputDataConfig, ResourceConfig, StoppingCondition, HyperParameters } = job;
    // The job's tags, as SageMaker keeps them (ListTags answers them; DescribeTrainingJob does not).
    const Tags = Object.entries((job.Tags ?? {}) as Record<string, string>).map(([Key, Value]) => ({ Key, Value }));
    await sm.send(
      new CreateTrainingJobCommand({ TrainingJobName, AlgorithmSpecification, RoleArn, InputDataConfig, OutputDataConfig, ResourceConfig, StoppingCondition, HyperParameters, Tags } as never),
    );
    if (job.TrainingJobStatus === 'Completed') await local('CompleteTrainingJob', { TrainingJobName: job.TrainingJobName, FinalMetricDataList: job.FinalMetricDataList });
    else await local('FailTrainingJob', { TrainingJobName: job.TrainingJobName, FailureReason: job.FailureReason ?? 'failed' });
  }
  await sm.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: 'fraud-detector' }));
  const pending = sampleEvent('model-package-pending.json') as { detail: { InferenceSpecification: never } };
  for (let v = 1; v <= versions; v++) {
    await sm.send(new CreateModelPackageCommand({ ModelPackageGroupName: 'fraud-detector', InferenceSpecification: pending.detail.InferenceSpecification }));
  }
  await sagemakerStandIn.drain();
  sm.destroy();
  await seedSampleReports();
}

/**
 * The review page: opens REVIEWS reviews (versions FIRST_BENCH_VERSION… of the sample group, gated
 * against the sample job), then times the review handler for GET, for a POST that records a vote,
 * and for a POST that decides (quorum met: one UpdateModelPackage to the SageMaker stand-in), and
 * counts the DynamoDB round trips of each POST.
 */
async function benchReviews(): Promise<void> {
  const { handler: review } = (await import('../functions/review/handler.js')) as {
    handler: (e: unknown, c: unknown) => Promise<{ statusCode?: number }>;
  };
  const { LOCAL_KEY_RING } = await import('../shared/aws/signing-keys.js');
  const { signReviewToken } = await import('../shared/domain/token.js');
  const { productionDeps } = await import('../shared/wiring.js');
  const pending = sampleEvent('model-package-pending.json') as { id: string; detail: Record<string, unknown> };
  for (let v = FIRST_BENCH_VERSION; v < FIRST_BENCH_VERSION + REVIEWS; v++) {
    const arn = String(pending.detail.ModelPackageArn).replace(/\/1$/, `/${v}`);
    const event = { ...pending, id: `bench-${v}`, resources: [arn], detail: { ...pending.detail, ModelPackageVersion: v, ModelPackageArn: arn } };
    await handlers.onModelPackageStateChange(event, fakeContext('onModelPackageStateChange'));
  }
  const store = productionDeps().store;
  const reviews: ReviewRequest[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listOpenReviews({ limit: 100, ...(cursor ? { cursor } : {}) });
    reviews.push(...page.items.filter((r) => r.version >= FIRST_BENCH_VERSION));
    cursor = page.cursor;
  } while (cursor);
  const tokenFor = (r: (typeof reviews)[number], reviewer: string) =>
    signReviewToken(
      { linkId: r.links[reviewer] ?? '', reviewId: r.id, modelPackageArn: r.modelPackageArn, version: r.version, reviewer, expiresAt: Math.floor(Date.parse(r.expiresAt) / 1000) },
      LOCAL_KEY_RING.current,
    );
  const request = (method: 'GET' | 'POST', token: string, body?: string) => ({
    version: '2.0',
    routeKey: `${method} /reviews/{token}`,
    rawPath: `/reviews/${token}`,
    rawQueryString: '',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    pathParameters: { token },
    requestContext: { http: { method, path: `/reviews/${token}`, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bench' } },
    isBase64Encoded: false,
    ...(body ? { body } : {}),
  });
  const measure = async (label: string, calls: Array<() => Promise<{ statusCode?: number }>>) => {
    const times: number[] = [];
    const perCall: Array<{ reads: number; writes: number }> = [];
    for (const call of calls) {
      trips = { reads: 0, writes: 0, rcu: 0, wcu: 0 };
      const t0 = performance.now();
      const res = await call();
      times.push(performance.now() - t0);
      perCall.push({ reads: trips.reads, writes: trips.writes });
      if (res.statusCode !== 200) throw new Error(`${label}: status ${res.statusCode}`);
    }
    times.sort((a, b) => a - b);
    const pct = (p: number) => times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))] ?? 0;
    const maxTrips = Math.max(...perCall.map((t) => t.reads + t.writes));
    const typical = perCall[Math.floor(perCall.length / 2)] ?? { reads: 0, writes: 0 };
    console.log(
      `${label.padEnd(30)} ${String(times.length).padStart(4)} ${pct(50).toFixed(1).padStart(7)} ${pct(95).toFixed(1).padStart(7)}   ${typical.reads} + ${typical.writes} (max ${maxTrips})`,
    );
  };
  const [first, second] = ['risk-officer@acme-bank.example', 'ml-lead@acme-bank.example'];
  console.log(`\nReview handler on DynamoDB Local (${reviews.length} reviews; round trips = reads + writes)\n`);
  console.log(`${'request'.padEnd(30)} ${'n'.padStart(4)} ${'p50 ms'.padStart(7)} ${'p95 ms'.padStart(7)}   DynamoDB round trips`);
  await measure('GET (page)', reviews.flatMap((r) => [0, 1].map(() => () => review(request('GET', tokenFor(r, first ?? '')), fakeContext('review')))));
  await measure('POST approve (vote recorded)', reviews.map((r) => () => review(request('POST', tokenFor(r, first ?? ''), 'decision=approve&comment=ok'), fakeContext('review'))));
  await measure('POST approve (quorum: decides)', reviews.map((r) => () => review(request('POST', tokenFor(r, second ?? ''), 'decision=approve'), fakeContext('review'))));
}

// Package sizes: what `serverless package` puts in .serverless/ (built here if it is missing).
const dir = join(REPO_ROOT, '.serverless');
if (!existsSync(dir) || !readdirSync(dir).some((f) => f.endsWith('.zip'))) {
  console.log('\nPackaging (npx serverless package --stage dev) to measure the bundles…');
  execFileSync('npx', ['serverless', 'package', '--stage', 'dev', '--param=organisationName=Acme Bank model risk', '--param=organisationContact=model-risk@acme-bank.example'], { cwd: REPO_ROOT, stdio: 'ignore', env: { ...process.env, SLS_TELEMETRY_DISABLED: '1' } });
}
console.log('\nDeployment package per function (.serverless/*.zip)');
for (const f of readdirSync(dir).filter((f) => f.endsWith('.zip')).sort()) {
  console.log(`  ${f.padEnd(36)} ${(statSync(join(dir, f)).size / 1024).toFixed(1).padStart(8)} KiB`);
}
process.exit(0);
