/**
 * `npm run bench`, part 4: `reconcile` at scale (issue 11, "the number of SageMaker and DynamoDB
 * calls grows as versions / 100, not as versions").
 *
 * One governed group of 10,000, 1,000 and 100 versions, each in a fresh table on DynamoDB Local,
 * every version recorded (written straight into the table in the store's shape, 25 items a
 * BatchWriteItem; not timed) and in step with the registry. SageMaker is the real adapter
 * (shared/aws/sagemaker.ts) over a SageMakerClient mocked with aws-sdk-client-mock, answering
 * from an in-memory registry; its calls are counted by command. DynamoDB requests are counted by a
 * middleware on the store's client. The 10,000 are reconciled twice more: with 1% of the versions
 * out of step (rejected in the console behind modelgate's back, one every 100 versions), and once
 * more after that, when nothing is left to do.
 *
 * What to expect, for n listed versions, m of them never recorded and d recorded but out of step:
 *   ListModelPackages          ⌈n/100⌉ (100 a page)
 *   BatchDescribeModelPackage  ⌈d/100⌉ (the d statuses confirmed, 100 at a time)
 *   DescribeModelPackage       m + d, one per version acted on (the gate needs its full detail:
 *                              LastModifiedTime, metrics), one more after each revert or rejection
 *   DynamoDB                   1 Query (the governed groups) + ⌈n/100⌉ BatchGetItem (each page's records)
 *                              + 1 Query (the recorded serving endpoints: none here; ListEndpoints lists none),
 *                              and for each version acted on the gate's 1 BatchGetItem + 1 TransactWriteItems
 *
 * One line per run, e.g. (measured on DynamoDB Local; the time varies with the machine's load):
 *
 *   reconcile 10000 versions: 100 ListModelPackages, 0 BatchDescribeModelPackage, 0 DescribeModelPackage, 102 DynamoDB requests (2 Query + 100 BatchGetItem), 3.1 s
 *   reconcile 10000 versions, 100 (1%) out of step: 100 ListModelPackages, 1 BatchDescribeModelPackage, 100 DescribeModelPackage, 302 DynamoDB requests (2 Query + 200 BatchGetItem + 100 TransactWriteItems), 5.7 s
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { seedItems } from './seed-table.js';
import {
  BatchDescribeModelPackageCommand,
  ListEndpointsCommand,
  DescribeModelPackageCommand,
  ListModelPackagesCommand,
  SageMakerClient,
  type ModelApprovalStatus,
} from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, assertJava, createTable, startDynamoDbLocal } from './dynamodb-local.js';

const SIZES = [10_000, 1_000, 100] as const;
/** One version in this many is out of step in the drift run (1%). */
const DRIFT_EVERY = 100;
const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const PAGE = 100;
const SAGEMAKER_COMMANDS = ['ListModelPackages', 'BatchDescribeModelPackage', 'DescribeModelPackage'] as const;
const T0 = Date.parse('2026-11-27T12:00:00Z');
const CONSOLE_USER = `arn:aws:sts::${ACCOUNT}:assumed-role/DataScientist/console-bob`;

/** What the mocked SageMaker knows about one version. */
interface RegistryVersion {
  arn: string;
  group: string;
  version: number;
  status: ModelApprovalStatus;
  createdAt: number;
  lastModified: number;
}

assertJava();
const db = await startDynamoDbLocal({});
Object.assign(process.env, {
  AWS_ENDPOINT_URL_DYNAMODB: db.endpoint,
  AWS_REGION: REGION,
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
});
try {
  // Imported now: the use cases' logger reads its level when it loads.
  const { documentClient } = await import('../shared/aws/clients.js');
  const { sageMakerRegistry } = await import('../shared/aws/sagemaker.js');
  const { dynamoStore } = await import('../shared/store/dynamo-store.js');
  const { keys } = await import('../shared/store/keys.js');
  const { putPolicy } = await import('../shared/usecases/policies.js');
  const { reconcile } = await import('../shared/usecases/reconcile.js');
  type Deps = import('../shared/ports.js').Deps;

  // DynamoDB: every request the store sends, by operation.
  const dynamoCounts = new Map<string, number>();
  const base = new DynamoDBClient({});
  base.middlewareStack.add(
    (next, context) => async (args) => {
      const op = operationName(context.commandName ?? '?');
      dynamoCounts.set(op, (dynamoCounts.get(op) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'benchReconcileCounter' },
  );
  const doc = documentClient(base);

  // SageMaker: the real adapter over a mocked client that answers from `registry`.
  const sm = new SageMakerClient({ region: REGION });
  const smMock = mockClient(sm);
  let registry: RegistryVersion[] = [];
  let byArn = new Map<string, RegistryVersion>();
  smMock.on(ListModelPackagesCommand).callsFake((input: { NextToken?: string; MaxResults?: number }) => {
    const start = Number(input.NextToken ?? 0);
    const end = start + (input.MaxResults ?? PAGE);
    return {
      ModelPackageSummaryList: registry.slice(start, end).map((v) => ({
        ModelPackageGroupName: v.group,
        ModelPackageVersion: v.version,
        ModelPackageArn: v.arn,
        CreationTime: new Date(v.createdAt),
        ModelPackageStatus: 'Completed',
        ModelApprovalStatus: v.status,
      })),
      ...(end < registry.length ? { NextToken: String(end) } : {}),
    };
  });
  smMock.on(BatchDescribeModelPackageCommand).callsFake((input: { ModelPackageArnList: string[] }) => ({
    ModelPackageSummaries: Object.fromEntries(
      input.ModelPackageArnList.flatMap((arn) => {
        const v = byArn.get(arn);
        return v
          ? [[arn, { ModelPackageGroupName: v.group, ModelPackageVersion: v.version, ModelPackageArn: arn, CreationTime: new Date(v.createdAt), InferenceSpecification: { Containers: [{ Image: image() }] }, ModelPackageStatus: 'Completed', ModelApprovalStatus: v.status }]]
          : [];
      }),
    ),
  }));
  // The daily run reconciles the endpoints too: none is in service here (ListEndpoints, one call).
  smMock.on(ListEndpointsCommand).resolves({ Endpoints: [] });
  smMock.on(DescribeModelPackageCommand).callsFake((input: { ModelPackageName: string }) => {
    const v = byArn.get(input.ModelPackageName);
    if (!v) throw Object.assign(new Error(`Model package ${input.ModelPackageName} not found.`), { name: 'ValidationException' });
    return {
      ModelPackageGroupName: v.group,
      ModelPackageVersion: v.version,
      ModelPackageArn: v.arn,
      ModelPackageStatus: 'Completed',
      ModelApprovalStatus: v.status,
      CreationTime: new Date(v.createdAt),
      LastModifiedTime: new Date(v.lastModified),
      InferenceSpecification: { Containers: [{ Image: image(), ModelDataUrl: artifact(v.group, v.version) }] },
      CustomerMetadataProperties: { fairness_review: '1' },
      LastModifiedBy: { IamIdentity: { Arn: CONSOLE_USER } },
    };
  });

  const admin = new DynamoDBClient({});
  const deps = (table: string): Deps => ({
    store: dynamoStore({ client: doc, table }),
    registry: sageMakerRegistry(sm),
    keys: { keyRing: async () => unused('keys') },
    subscriptions: { subscribe: async () => unused('subscriptions'), unsubscribe: async () => unused('subscriptions') },
    modelCards: { upsert: async () => unused('modelCards') },
    notifier: { publish: async () => unused('notifier') },
    reports: { read: async () => unused('reports') },
    clock: { now: () => T0 + 86_400_000 },
    newId: (() => {
      let n = 0;
      return () => `bench-${++n}`;
    })(),
    reviewBaseUrl: 'https://reviews.example',
    organisation: { name: 'Acme Bank model risk', contact: 'model-risk@acme-bank.example' },
  });

  /** A fresh table with one governed group of `size` versions, recorded and in step; returns its deps. */
  const governedGroup = async (size: number): Promise<{ deps: Deps; seconds: number }> => {
    const t = performance.now();
    const table = `bench-reconcile-${size}-${Date.now().toString(36)}`;
    await createTable(admin, table);
    const group = `reconcile-bench-${size}`;
    const d = deps(table);
    const policy = JSON.parse(readFileSync(join(REPO_ROOT, 'events', 'policy-fraud-detector.json'), 'utf8')) as Record<string, unknown>;
    await putPolicy(d, { ...policy, modelPackageGroupName: group });
    // The registry lists newest first.
    registry = [];
    for (let v = size; v >= 1; v--) {
      registry.push({
        arn: `arn:aws:sagemaker:${REGION}:${ACCOUNT}:model-package/${group}/${v}`,
        group,
        version: v,
        // One in ten was rejected by its gate; the others wait for their review.
        status: v % 10 === 0 ? 'Rejected' : 'PendingManualApproval',
        createdAt: T0 + v * 1000,
        lastModified: T0 + v * 1000 + 500,
      });
    }
    byArn = new Map(registry.map((v) => [v.arn, v]));
    await seedItems(doc, table, registry.map((v) => versionItem(v, keys)));
    return { deps: d, seconds: (performance.now() - t) / 1000 };
  };

  const run = async (label: string, d: Deps) => {
    dynamoCounts.clear();
    smMock.resetHistory();
    const t = performance.now();
    const report = await reconcile(d, {});
    const seconds = (performance.now() - t) / 1000;
    const sagemaker = SAGEMAKER_COMMANDS.map((c) => `${smMock.calls().filter((call) => commandOf(call.args[0]) === c).length} ${c}`).join(', ');
    const total = [...dynamoCounts.values()].reduce((a, b) => a + b, 0);
    const breakdown = [...dynamoCounts.entries()].map(([op, n]) => `${n} ${op}`).join(' + ');
    console.log(`reconcile ${label}: ${sagemaker}, ${total} DynamoDB requests (${breakdown}), ${seconds.toFixed(1)} s`);
    return report;
  };

  console.log('reconcile at scale (DynamoDB Local; SageMaker: the adapter over aws-sdk-client-mock)\n');
  for (const size of SIZES) {
    const { deps: d, seconds } = await governedGroup(size);
    console.log(`  (${size} versions seeded in ${seconds.toFixed(1)} s, not measured)`);
    expectNoDrift(await run(`${size} versions`, d), size);
    if (size !== SIZES[0]) continue;
    // The same group with 1% of its versions rejected in the console behind modelgate's back
    // (their events lost): versions 1, 101, 201, … (all PendingManualApproval until then).
    const drifted = registry.filter((v) => v.version % DRIFT_EVERY === 1);
    for (const v of drifted) {
      v.status = 'Rejected';
      v.lastModified += 60_000;
    }
    const report = await run(`${size} versions, ${drifted.length} (${(drifted.length / size) * 100}%) out of step`, d);
    if (report.totals.statusDrift !== drifted.length || report.totals.actions !== drifted.length || report.totals.failures !== 0) {
      throw new Error(`expected ${drifted.length} drifted versions recorded, got ${JSON.stringify(report.totals)}`);
    }
    // Everything recorded now: the next run finds nothing to do.
    expectNoDrift(await run(`${size} versions, the run after`, d), size);
  }
  admin.destroy();
  base.destroy();
} finally {
  await db.stop();
}

function expectNoDrift(report: { totals: { registryVersions: number; recorded: number; actions: number; failures: number } }, size: number): void {
  const t = report.totals;
  if (t.registryVersions !== size || t.recorded !== size || t.actions !== 0 || t.failures !== 0) {
    throw new Error(`expected ${size} versions in step, got ${JSON.stringify(t)}`);
  }
}

/** `BatchGetCommand` (lib-dynamodb) and `BatchGetItemCommand` are one DynamoDB operation: BatchGetItem. */
function operationName(commandName: string): string {
  const name = commandName.replace(/Command$/, '');
  const documentNames: Record<string, string> = { BatchGet: 'BatchGetItem', BatchWrite: 'BatchWriteItem', Get: 'GetItem', Put: 'PutItem', Update: 'UpdateItem', Delete: 'DeleteItem', TransactWrite: 'TransactWriteItems', TransactGet: 'TransactGetItems' };
  return documentNames[name] ?? name;
}

function commandOf(command: unknown): string {
  return (command as { constructor: { name: string } }).constructor.name.replace(/Command$/, '');
}

function image(): string {
  return '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1';
}

function artifact(group: string, version: number): string {
  return `s3://acme-ml-artifacts-${ACCOUNT}/${group}/training/bench-xgb-${version}/output/model.tar.gz`;
}

function unused(what: string): never {
  throw new Error(`the reconcile bench does not expect a call to ${what}`);
}

/** A version as the store writes it (dynamo-store.ts `versionItem`): recorded, gated, with its status as the registry has it. */
function versionItem(v: RegistryVersion, k: typeof import('../shared/store/keys.js').keys): Record<string, unknown> {
  return {
    ...k.version(v.group, v.version),
    type: 'ModelVersion',
    arn: v.arn,
    group: v.group,
    version: v.version,
    status: v.status,
    lastModified: v.lastModified,
    createdAt: v.createdAt,
    artifactUri: artifact(v.group, v.version),
    image: image(),
    customerMetadata: { fairness_review: '1' },
    job: { name: `bench-xgb-${v.version}`, arn: `arn:aws:sagemaker:${REGION}:${ACCOUNT}:training-job/bench-xgb-${v.version}` },
    gateState: v.status === 'Rejected' ? 'failed' : 'passed',
    pendingEffects: {},
    rev: 1,
    // Neither Approved nor awaiting its job, no effects pending: in none of the sparse indexes.
  };
}

