/**
 * `npm start`: the whole governance loop on one machine, with no AWS account.
 *
 *   DynamoDB Local            the table, created from serverless.yml; data in .local/dynamodb
 *   SageMaker stand-in        SageMaker's JSON protocol; emits EventBridge events; .local/sagemaker
 *   S3 stand-in               evaluation reports; .local/s3
 *   SNS stand-in              prints each message (review links included) and keeps it in .local/outbox
 *   OpenID provider           the organisation's IdP stand-in (oidc-provider): the demo's reviewers sign in by email
 *   serverless-offline        the HTTP API (review page) and the Lambda endpoint for every function
 *
 * modelgate runs unchanged: the standard AWS_ENDPOINT_URL_<SERVICE> variables point its SDK
 * clients at the stand-ins. Ctrl-C stops everything.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { REPO_ROOT, assertJava, createTable, portIsFree, startDynamoDbLocal } from '../scripts/dynamodb-local.js';
import { startSageMakerStandIn } from './sagemaker/server.js';
import { startSnsStandIn } from './sns/server.js';
import { startLocalOidcProvider } from './oidc/provider.js';
import { startS3StandIn } from './s3/server.js';
import { matches, rulesFromServerlessYml } from './eventbridge.js';
import { invokeFunction } from './lambda.js';
import { startAuditLogWiring } from './audit-log.js';
import { sampleBuckets, seedSampleReports } from './seed.js';
import { localConfig } from './config.js';

const started = performance.now();
const cfg = localConfig();
const fresh = process.argv.includes('--fresh');

try {
  assertJava();
} catch (e) {
  console.error((e as Error).message);
  process.exit(1);
}

// One stack at a time: a live pid file or a taken port means another `npm start` runs.
const pidFile = join(cfg.dir, 'stack.pid');
if (existsSync(pidFile)) {
  const pid = Number(readFileSync(pidFile, 'utf8'));
  if (pid && isAlive(pid)) {
    console.error(`modelgate's local stack is already running (pid ${pid}). Stop it with Ctrl-C in its terminal, or \`kill ${pid}\`.`);
    process.exit(1);
  }
}
for (const [name, port] of Object.entries(cfg.ports)) {
  if (!(await portIsFree(port))) {
    console.error(`Port ${port} (${name}) is taken: is the local stack already running? Stop it, or free the port.`);
    process.exit(1);
  }
}
if (fresh) rmSync(cfg.dir, { recursive: true, force: true });
mkdirSync(cfg.dir, { recursive: true });
writeFileSync(pidFile, String(process.pid));

const stops: Array<() => Promise<void>> = [];
let stopping = false;
async function stopAll(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    // All at once: a slow stop (Java) must not keep another one (serverless-offline) waiting.
    const results = await Promise.allSettled(stops.map((stop) => stop()));
    for (const r of results) if (r.status === 'rejected') console.error('stop failed:', (r.reason as Error).message);
    rmSync(pidFile, { force: true });
  }
  process.exit(code);
}
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

try {
  // serverless-offline bundles every function first (the slowest part): it starts while the rest does.
  const offlineReady = startOffline();
  mkdirSync(join(cfg.dir, 'dynamodb'), { recursive: true });
  // Java starts while serverless-offline bundles every function: on a busy machine that takes
  // longer than the tests' 20 s default.
  const db = await startDynamoDbLocal({ port: cfg.ports.dynamodb, dataDir: join(cfg.dir, 'dynamodb'), timeoutMs: 90_000 });
  stops.push(() => db.stop());
  Object.assign(process.env, cfg.awsEnv);
  const ddb = new DynamoDBClient({});
  await createTable(ddb, cfg.table);
  ddb.destroy();

  const s3 = await startS3StandIn({ port: cfg.ports.s3, directory: join(cfg.dir, 's3'), buckets: [...sampleBuckets(), cfg.auditBucket] });
  stops.push(() => s3.close());
  await seedSampleReports();

  const sns = await startSnsStandIn({
    port: cfg.ports.sns,
    outboxDir: join(cfg.dir, 'outbox'),
    account: cfg.account,
    region: cfg.region,
    topics: ['modelgate-local-reviewers', 'modelgate-local-governance'],
  });
  stops.push(() => sns.close());

  // The reviewers' identity provider; its keys and sessions live only as long as this process.
  const idp = await startLocalOidcProvider({ port: cfg.ports.oidc, users: cfg.oidc.users, clients: [cfg.oidc.client] });
  stops.push(() => idp.close());

  // serverless-offline serves the review page and every function's Lambda endpoint.
  await offlineReady;

  // The audit log: DynamoDB Local's stream feeds the sequencer (serverless-offline runs the schedules).
  const auditLog = await startAuditLogWiring({
    lambdaUrl: cfg.lambdaUrl,
    dynamodbEndpoint: cfg.awsEnv.AWS_ENDPOINT_URL_DYNAMODB,
    table: cfg.table,
    stage: 'local',
    region: cfg.region,
  });
  stops.push(() => auditLog.stop());

  // SageMaker's events reach the functions whose EventBridge rule matches, as on AWS.
  const rules = rulesFromServerlessYml(REPO_ROOT, 'local');
  const sagemaker = await startSageMakerStandIn({
    port: cfg.ports.sagemaker,
    stateFile: join(cfg.dir, 'sagemaker', 'state.json'),
    region: cfg.region,
    account: cfg.account,
    onEvent: async (event) => {
      for (const rule of rules.filter((r) => matches(r.pattern, event))) {
        const { ok, result } = await invokeFunction(cfg.lambdaUrl, rule.functionName, event);
        const summary = ok ? JSON.stringify(result) : `FAILED ${JSON.stringify(result)}`;
        console.log(`  event ${event['detail-type']} → ${rule.functionName.replace('modelgate-local-', '')}: ${summary}`);
      }
    },
  });
  stops.push(() => sagemaker.close());

  const readyMs = Math.round(performance.now() - started);
  console.log(`
modelgate local stack — ready in ${(readyMs / 1000).toFixed(1)} s
  DynamoDB Local        ${cfg.awsEnv.AWS_ENDPOINT_URL_DYNAMODB}   table ${cfg.table}
  SageMaker stand-in    ${cfg.awsEnv.AWS_ENDPOINT_URL_SAGEMAKER}   model registry + training jobs
  S3 stand-in           ${cfg.awsEnv.AWS_ENDPOINT_URL_S3}   buckets: ${[...sampleBuckets(), cfg.auditBucket].join(', ')}
  SNS stand-in          ${cfg.awsEnv.AWS_ENDPOINT_URL_SNS}   messages printed here and kept in ${relative(REPO_ROOT, join(cfg.dir, 'outbox'))}/
  OpenID provider       ${idp.issuer}   sign in as: ${cfg.oidc.users.map((u) => u.email).join(', ')} (no password; local only)
  review page           http://127.0.0.1:${cfg.ports.http}/reviews/<token>   (serverless-offline)
  functions             ${cfg.lambdaUrl}   (Lambda Invoke API, serverless-offline)
  audit log             ${auditLog.summary}
  data                  ${relative(REPO_ROOT, cfg.dir) || '.'}/

Next: in another terminal, \`npm run demo\`. It plays a story and prints each reviewer's link;
open one in a browser, sign in as the reviewer it names, and approve. Ctrl-C here stops everything.
`);
} catch (e) {
  console.error(`the local stack could not start: ${(e as Error).message}`);
  await stopAll(1);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function startOffline(): Promise<ChildProcess> {
  const bin = join(REPO_ROOT, 'node_modules', '.bin', 'serverless');
  // esbuild's work folder per data folder: two stacks (a developer's and the e2e test's) never share one.
  const workFolder = `.esbuild/stack-${createHash('sha256').update(cfg.dir).digest('hex').slice(0, 8)}`;
  const args = ['offline', '--stage', 'local', '--httpPort', String(cfg.ports.http), '--lambdaPort', String(cfg.ports.lambda), '--host', '127.0.0.1', `--param=bundleWorkFolder=${workFolder}`];
  const child = spawn(bin, args, {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      ...cfg.awsEnv,
      SLS_TELEMETRY_DISABLED: '1',
      SLS_NOTIFICATIONS_MODE: 'off',
      // serverless-offline 13 turns every cookie the review function sets (sign-in) into a 500;
      // local/offline-cookies.mjs says why and mends it in that process only.
      NODE_OPTIONS: [process.env.NODE_OPTIONS, `--import ${JSON.stringify(pathToFileURL(join(REPO_ROOT, 'local', 'offline-cookies.mjs')).href)}`].filter(Boolean).join(' '),
      MODELGATE_HTTP_PORT: String(cfg.ports.http),
      // serverless-offline passes the functions only AWS_* from this environment: serverless.yml's
      // stage local turns these into CHECKPOINT_KEY_FILE and AUDIT_EXPORT_DIR.
      MODELGATE_CHECKPOINT_KEY_FILE: cfg.checkpointKeyFile,
      MODELGATE_AUDIT_EXPORT_DIR: cfg.auditExportDir,
      // The review function's OpenID client at the local provider (serverless.yml's stage local
      // reads these as OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET).
      MODELGATE_OIDC_ISSUER: cfg.oidc.env.OIDC_ISSUER,
      MODELGATE_OIDC_CLIENT_ID: cfg.oidc.env.OIDC_CLIENT_ID,
      MODELGATE_OIDC_CLIENT_SECRET: cfg.oidc.env.OIDC_CLIENT_SECRET,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  stops.push(() => stopChild(child));
  // Last resort if this process ends without its stop (an uncaught error): no orphan keeps the ports.
  process.once('exit', () => child.kill('SIGKILL'));
  let output = '';
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serverless-offline did not start within 90 s:\n${output.slice(-4000)}`)), 90_000);
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      output += text;
      if (output.includes('Server ready')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serverless-offline exited (${code}) before it was ready:\n${output.slice(-4000)}`));
    });
  });
  await ready;
  // After start-up, pass the functions' own logs through (they are JSON lines; errors matter).
  child.stdout?.removeAllListeners('data');
  child.stderr?.removeAllListeners('data');
  child.stderr?.on('data', (c: Buffer) => process.stderr.write(c));
  return child;
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
