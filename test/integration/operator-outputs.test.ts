/**
 * What every operator function returns (issue 12, item 6): one JSON document with ISO 8601 times,
 * no internal fields, its keys in a documented order, and, for `{}`, an error that says what was
 * expected. One story is written through the use cases against DynamoDB Local (SageMaker and SNS
 * mocked, the checkpoint bucket in the local S3 stand-in, a local signing key): a review opened,
 * a link reissued, a reviewer added and removed, the review decided; a second review expired and
 * reopened; an endpoint serving a version in review; the log sequenced and checkpointed. Each
 * function's real answer is then walked (usecases/views.ts says what a view is).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import { PublishCommand, SNSClient, SubscribeCommand, UnsubscribeCommand } from '@aws-sdk/client-sns';
import { S3Client } from '@aws-sdk/client-s3';
import { CreateModelCardCommand, DescribeModelCardCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { startS3StandIn, type S3StandIn } from '../../local/s3/server.js';
import type { CheckpointSigner } from '../../shared/audit-log-ports.js';
import { s3CheckpointBucket } from '../../shared/aws/checkpoint-bucket.js';
import { folderExportSink } from '../../shared/aws/export-sink.js';
import { localCheckpointSigner } from '../../shared/aws/local-checkpoint-signer.js';
import { s3Reports } from '../../shared/aws/s3.js';
import { ValidationError } from '../../shared/domain/errors.js';
import type { Deps } from '../../shared/ports.js';
import { SERVING_ENDPOINTS, keys } from '../../shared/store/keys.js';
import { exportAuditTrail, getAuditTrail, verifyAuditTrail, type AuditVerifyDeps } from '../../shared/usecases/audit-trail.js';
import { makeCheckpoint } from '../../shared/usecases/checkpoint.js';
import { listUnapprovedDeployments } from '../../shared/usecases/deployments.js';
import { datasetImpact } from '../../shared/usecases/impact.js';
import { getLineage } from '../../shared/usecases/lineage.js';
import { reissueLink, reopenReview } from '../../shared/usecases/links.js';
import { exportModelCard } from '../../shared/usecases/model-card.js';
import { listPendingReviews } from '../../shared/usecases/pending.js';
import { getPolicy, putPolicy } from '../../shared/usecases/policies.js';
import { submitVote } from '../../shared/usecases/review.js';
import { addReviewer, removeReviewer } from '../../shared/usecases/reviewers.js';
import { sweepReviews } from '../../shared/usecases/sweep.js';
import { logStore, sequenceAll } from '../support/audit-log.js';
import { newTable, type TestTable } from '../support/dynamo.js';
import { openSampleReview, resetMocks, reviewTokens, testDeps, TOPICS } from '../support/story.js';

const sm = mockClient(SageMakerClient);
const sns = mockClient(SNSClient);
// The evaluation reports' client is mocked on its own instance: the checkpoint bucket's real S3Client reaches the stand-in.
const reportsClient = new S3Client({ region: 'us-east-1' });
const reports = mockClient(reportsClient);

const T0 = Date.parse('2026-11-27T12:00:00Z');
const HOUR = 3_600_000;
const ADMIN = 'arn:aws:sts::123456789012:assumed-role/PlatformAdmin/asmith';
const RISK = 'risk-officer@acme-bank.example';
const LEAD = 'ml-lead@acme-bank.example';
const NEW = 'model-risk@acme-bank.example';
const DATASET = 's3://acme-ml-datasets-123456789012/fraud/transactions/2026-11-01/';
const BUCKET = 'operator-outputs';

let table: TestTable;
let deps: Deps;
let s3: S3StandIn;
let s3Client: S3Client;
let dir: string;
const clock = { now: T0 };

/** Every operator function's answer (and its mocked side effects), written once by `beforeAll`. */
const out: Record<string, unknown> = {};
let storedEntry: Record<string, unknown> | undefined;

const published = () => sns.commandCalls(PublishCommand).map((c) => c.args[0].input);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'modelgate-operator-outputs-'));
  s3 = await startS3StandIn({ directory: join(dir, 's3'), buckets: [BUCKET] });
  s3Client = new S3Client({ endpoint: s3.url, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  table = await newTable('operator-outputs');
  deps = { ...testDeps(table.client, table.tableName, clock), reports: s3Reports(reportsClient) };
  // resetMocks wants a stub for the reports: the instance mock answers like the class mock would.
  resetMocks(sm, sns, reports as never);
  sns.on(SubscribeCommand).callsFake((input: { Endpoint: string }) => ({ SubscriptionArn: `${TOPICS.reviewers}:${input.Endpoint.split('@')[0]}-0b1c` }));
  sns.on(UnsubscribeCommand).resolves({});
  sm.on(DescribeModelCardCommand).rejects(Object.assign(new Error('not found'), { name: 'ResourceNotFound' }));
  sm.on(CreateModelCardCommand).resolves({ ModelCardArn: 'arn:aws:sagemaker:us-east-1:123456789012:model-card/outa-detector-v1' });

  // A: a review opened, one vote, a link reissued, a reviewer added and removed, then decided.
  const { s: a, tokens } = await openSampleReview(deps, { sm, sns }, 'outa');
  await submitVote(deps, tokens[LEAD] ?? '', { decision: 'approve', comment: 'validated on the holdout' });
  out.reissueLink = await reissueLink(deps, { modelPackageArn: a.arn(1), reviewer: RISK, changedBy: ADMIN, reason: 'INC-4471' });
  const reissued = reviewTokens(published())[RISK] ?? '';
  out.listPendingReviews = await listPendingReviews(deps, {});
  out.addReviewer = await addReviewer(deps, { modelPackageGroupName: a.group, reviewer: NEW, changedBy: ADMIN, reason: 'MRM-2291' });
  out.removeReviewer = await removeReviewer(deps, { modelPackageGroupName: a.group, reviewer: NEW, changedBy: ADMIN, reason: 'MRM-2292' });
  out.putPolicy = await putPolicy(deps, a.policy({ reminderAfterHours: 12, changedBy: ADMIN, reason: 'MRM-2293' }));
  clock.now = T0 + HOUR;
  await submitVote(deps, reissued, { decision: 'approve' });

  // B: its review expires unvoted and is reopened.
  const { s: b } = await openSampleReview(deps, { sm, sns }, 'outb');
  clock.now = T0 + 80 * HOUR;
  await sweepReviews(deps);
  out.reopenReview = await reopenReview(deps, { modelPackageArn: b.arn(1), changedBy: ADMIN, reason: 'MRM-2304' });

  // An endpoint in service that serves B's version, which is in review (recorded as the recorder records it).
  await table.doc.send(
    new PutCommand({
      TableName: table.tableName,
      Item: {
        ...keys.endpoint('outb-prod'),
        GSI1PK: SERVING_ENDPOINTS,
        GSI1SK: 'outb-prod',
        type: 'Endpoint',
        name: 'outb-prod',
        arn: 'arn:aws:sagemaker:us-east-1:123456789012:endpoint/outb-prod',
        status: 'InService',
        configName: 'outb-prod-config-1',
        createdAt: T0 + 81 * HOUR,
        lastModified: T0 + 82 * HOUR,
        served: [{ variant: 'AllTraffic', model: 'outb-m1', modelPackageArn: b.arn(1), group: b.group, version: 1 }],
        pendingEffects: {},
        rev: 1,
      },
    }),
  );
  out.listUnapprovedDeployments = await listUnapprovedDeployments(deps, { all: true });
  out.datasetImpact = await datasetImpact(deps, { s3Uri: DATASET, revoke: true, dryRun: true, reason: 'label leakage', changedBy: ADMIN });
  out.getLineage = await getLineage(deps, { modelPackageArn: a.arn(1) });
  out.exportModelCard = await exportModelCard(deps, { modelPackageArn: a.arn(1), pushToSageMaker: true });
  out.getPolicy = await getPolicy(deps, { modelPackageGroupName: a.group });
  out.getPolicyAll = await getPolicy(deps, { modelPackageGroupName: a.group, version: 'all' });

  // The log: sequenced, checkpointed, then read, verified and exported.
  await sequenceAll(table);
  const signer = localCheckpointSigner(join(dir, 'keys', 'checkpoint-key.pem'));
  const bucket = s3CheckpointBucket(s3Client, BUCKET);
  const audit = { log: logStore(table), bucket, signer, clock: { now: () => clock.now } };
  clock.now = T0 + 83 * HOUR;
  await makeCheckpoint(audit, {});
  out.getAuditTrail = await getAuditTrail({ store: deps.store, log: logStore(table) }, { modelPackageGroupName: a.group, proofs: true, limit: 500 });
  out.verifyAuditTrail = await verifyAuditTrail(audit, { full: true });
  out.exportAuditTrail = await exportAuditTrail({ ...audit, sink: folderExportSink(join(dir, 'export')) }, {});

  const first = (out.getAuditTrail as { items: Array<Record<string, unknown>> }).items[0];
  const item = await table.doc.send(new GetCommand({ TableName: table.tableName, Key: keys.auditEntry(String(first?.scope), String(first?.at), Number(first?.position), String(first?.id)) }));
  storedEntry = item.Item;
}, 120_000);

afterAll(async () => {
  await table.drop();
  s3Client.destroy();
  reportsClient.destroy();
  await s3.close();
  rmSync(dir, { recursive: true, force: true });
});

type Path = Array<string | number>;

/** An audit entry's `detail` is evidence, shown as stored (usecases/views.ts): the walks skip it. */
const isAuditEntry = (o: Record<string, unknown>): boolean => 'action' in o && 'actor' in o && 'detail' in o && 'scope' in o;

function walk(value: unknown, visit: (key: string, v: unknown, path: Path) => void, path: Path = []): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => walk(v, visit, [...path, i]));
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const o = value as Record<string, unknown>;
  for (const [k, v] of Object.entries(o)) {
    if (k === 'detail' && isAuditEntry(o)) continue;
    visit(k, v, [...path, k]);
    walk(v, visit, [...path, k]);
  }
}

const TIME_KEY = /(At|Time|time|Since|since|[Ee]xpires|[Mm]odified|[Ee]nded|[Cc]reated)$/;
/** Epoch milliseconds of the years 2001–2286: no count or size in these documents comes near. */
const looksLikeEpochMs = (n: number): boolean => n >= 1e12 && n < 1e13;

function epochTimes(doc: unknown): string[] {
  const found: string[] = [];
  walk(doc, (k, v, path) => {
    if (typeof v === 'number' && (TIME_KEY.test(k) || looksLikeEpochMs(v))) found.push(`${path.join('.')}=${v}`);
  });
  return found;
}

const INTERNAL = /^(rev|pk|sk|gsi\d*(pk|sk)?|type|ttl|pendingEffects|claimedUntil|remindedAt|links)$/i;

function internalFields(doc: unknown): string[] {
  const found: string[] = [];
  walk(doc, (k, _v, path) => {
    if (INTERNAL.test(k)) found.push(path.join('.'));
  });
  return found;
}

/**
 * Each function's document, the keys of its top level, and one nested object with its keys, in
 * the order the README documents ("Operators and auditors").
 */
const CASES: Array<[name: string, top: string[], nested: [(doc: never) => unknown, string[]]]> = [
  [
    'getLineage',
    ['modelPackage', 'trainingJob', 'datasets', 'image', 'gate', 'reviews', 'decision', 'endpoints', 'audit', 'cost'],
    [(d: { modelPackage: unknown }) => d.modelPackage, ['arn', 'group', 'version', 'status', 'createdAt', 'lastModified', 'description', 'artifactUri', 'image', 'imageDigest', 'pipelineExecution', 'registeredBy', 'report', 'customerMetadata']],
  ],
  ['datasetImpact', ['s3Uri', 'trainingJobs', 'modelVersions', 'endpoints', 'revocation'], [(d: { modelVersions: unknown[] }) => d.modelVersions[0], ['modelPackageArn', 'group', 'version', 'status', 'job', 'channel', 'uri', 'endpoints']]],
  ['listPendingReviews', ['items'], [(d: { items: unknown[] }) => d.items[0], ['modelPackageArn', 'group', 'version', 'reviewId', 'openedAt', 'expiresAt', 'approvals', 'requiredApprovals', 'waitingFor']]],
  [
    'getPolicy',
    ['policy'],
    [(d: { policy: unknown }) => d.policy, ['modelPackageGroupName', 'version', 'createdAt', 'changedBy', 'reason', 'rules', 'reviewers', 'requiredApprovals', 'allowSelfApproval', 'reviewLifetimeHours', 'reminderAfterHours']],
  ],
  ['getPolicyAll', ['versions'], [(d: { versions: Array<{ rules: unknown[] }> }) => d.versions[0]?.rules[0], ['metric', 'source', 'comparison', 'threshold']]],
  ['putPolicy', ['outcome', 'policy', 'openReviews'], [(d: { policy: unknown }) => d.policy, ['modelPackageGroupName', 'version', 'createdAt', 'changedBy', 'reason', 'rules', 'reviewers', 'requiredApprovals', 'allowSelfApproval', 'reviewLifetimeHours', 'reminderAfterHours']]],
  ['addReviewer', ['outcome', 'policy', 'subscriptionArn', 'openReviews'], [(d: { openReviews: unknown[] }) => d.openReviews[0], ['reviewId', 'modelPackageArn', 'change', 'linkSent', 'quorumReachable']]],
  ['removeReviewer', ['outcome', 'policy', 'subscriptionArn', 'unsubscribed', 'openReviews'], [(d: { openReviews: unknown[] }) => d.openReviews[0], ['reviewId', 'modelPackageArn', 'change', 'linkRevoked', 'voteKept', 'quorumReachable']]],
  ['reissueLink', ['outcome', 'modelPackageArn', 'reviewId', 'reviewer', 'linkId', 'revokedLinkId', 'expiresAt'], [(d: unknown) => d, ['outcome', 'modelPackageArn', 'reviewId', 'reviewer', 'linkId', 'revokedLinkId', 'expiresAt']]],
  ['reopenReview', ['outcome', 'modelPackageArn', 'previousReviewId', 'reviewId', 'policyVersion', 'reviewers', 'requiredApprovals', 'expiresAt'], [(d: unknown) => d, ['outcome', 'modelPackageArn', 'previousReviewId', 'reviewId', 'policyVersion', 'reviewers', 'requiredApprovals', 'expiresAt']]],
  ['getAuditTrail', ['scope', 'items', 'checkpoint'], [(d: { items: unknown[] }) => d.items[0], ['id', 'position', 'logIndex', 'at', 'scope', 'action', 'subject', 'actor', 'detail', 'proof']]],
  ['verifyAuditTrail', ['verified', 'logSize', 'rootHash', 'checkpoint', 'checkpointsChecked', 'window'], [(d: { checkpoint: { checkpoint: unknown } }) => d.checkpoint.checkpoint, ['logSize', 'rootHash', 'time', 'keyId']]],
  ['exportAuditTrail', ['location', 'entries', 'checkpoints', 'logSize'], [(d: unknown) => d, ['location', 'entries', 'checkpoints', 'logSize']]],
  [
    'listUnapprovedDeployments',
    ['deployments', 'requests'],
    [(d: { deployments: unknown[] }) => d.deployments[0], ['endpoint', 'endpointArn', 'variant', 'model', 'modelPackageArn', 'group', 'version', 'reason', 'why', 'action', 'servingSince']],
  ],
  ['exportModelCard', ['card', 'markdown', 'pushed'], [(d: { pushed: unknown }) => d.pushed, ['name', 'status', 'outcome']]],
];

describe.each(CASES)('%s answers one deliberate document', (name, top, [nested, nestedKeys]) => {
  const doc = () => out[name];

  it('is JSON: it survives JSON.stringify and parse unchanged', () => {
    expect(doc()).toBeDefined();
    expect(JSON.parse(JSON.stringify(doc()))).toEqual(doc());
  });

  it('holds no epoch-millisecond time: every time is an ISO 8601 string', () => {
    expect(epochTimes(doc())).toEqual([]);
  });

  it('holds no internal field (rev, key attributes, TTLs, pending effects, link ids)', () => {
    expect(internalFields(doc())).toEqual([]);
  });

  it('has its keys in the documented order, at the top and one level down', () => {
    expect(Object.keys(doc() as object)).toEqual(top);
    expect(Object.keys(nested(doc() as never) as object)).toEqual(nestedKeys);
  });
});

describe('the times are ISO 8601 where they used to be epoch milliseconds', () => {
  const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

  it("getLineage: the version's and the training job's times", () => {
    const doc = out.getLineage as { modelPackage: Record<string, unknown>; trainingJob: Record<string, unknown> };
    expect(doc.modelPackage.createdAt).toMatch(ISO);
    expect(doc.modelPackage.lastModified).toMatch(ISO);
    expect(doc.trainingJob.lastModified).toMatch(ISO);
    expect(doc.trainingJob.createdAt).toMatch(ISO);
    expect(doc.trainingJob.endedAt).toMatch(ISO);
    expect(Object.keys(doc.trainingJob)).toEqual(['name', 'arn', 'status', 'createdAt', 'endedAt', 'lastModified', 'image', 'roleArn', 'artifactUri', 'datasets', 'hyperparameters', 'metrics', 'tags']);
  });

  it('listUnapprovedDeployments: servingSince is the endpoint record time', () => {
    const doc = out.listUnapprovedDeployments as { deployments: Array<Record<string, unknown>> };
    expect(doc.deployments.map((d) => [d.endpoint, d.reason, d.servingSince])).toEqual([['outb-prod', 'in-review', new Date(T0 + 82 * HOUR).toISOString()]]);
  });
});

describe('customer maps come in sorted key order, whatever order DynamoDB gives them', () => {
  it("getLineage's hyperparameters, metrics, tags and votes", () => {
    const doc = out.getLineage as { trainingJob: Record<string, Record<string, unknown>>; reviews: Array<{ votes: Record<string, unknown> }> };
    for (const map of [doc.trainingJob.hyperparameters, doc.trainingJob.metrics, doc.trainingJob.tags, doc.reviews[0]?.votes]) {
      const k = Object.keys(map ?? {});
      expect(k.length).toBeGreaterThan(0);
      expect(k).toEqual([...k].sort());
    }
  });
});

describe('audit entries are shown as stored', () => {
  it("getAuditTrail's entry holds the stored item's values, nothing more (its key attributes aside), and the log still verifies", () => {
    const [first] = (out.getAuditTrail as { items: Array<Record<string, unknown>> }).items;
    const { proof, ...shown } = first ?? {};
    const { PK: _pk, SK: _sk, GSI1PK: _g1, GSI1SK: _g1s, type: _t, ...stored } = storedEntry ?? {};
    expect(shown).toEqual(stored);
    expect(proof).toMatchObject({ logIndex: stored.logIndex, path: expect.any(Array) });
    expect(out.verifyAuditTrail).toMatchObject({ verified: true });
  });

  it("an entry's detail comes in RFC 8785 key order (sorted), the order its leaf is hashed in", () => {
    const entries = (out.getLineage as { audit: { entries: Array<{ detail: Record<string, unknown> }> } }).audit.entries;
    expect(entries.length).toBeGreaterThan(3);
    for (const e of entries) expect(Object.keys(e.detail)).toEqual(Object.keys(e.detail).sort());
  });
});

describe('{} says what each operator function expected', () => {
  const problemsOf = async (call: Promise<unknown>): Promise<readonly string[]> => {
    const error = await call.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).problems;
  };
  const auditDeps = (): AuditVerifyDeps & { sink: ReturnType<typeof folderExportSink>; signer: CheckpointSigner } => ({
    log: logStore(table),
    bucket: s3CheckpointBucket(s3Client, BUCKET),
    signer: localCheckpointSigner(join(dir, 'keys', 'checkpoint-key.pem')),
    clock: { now: () => clock.now },
    sink: folderExportSink(join(dir, 'never')),
  });

  it.each<[string, (payload: unknown) => Promise<unknown>, string[]]>([
    ['getLineage', (p) => getLineage(deps, p), ['(root): give modelPackageArn, or modelPackageGroupName and version']],
    ['exportModelCard', (p) => exportModelCard(deps, p), ['(root): give modelPackageArn, or modelPackageGroupName and version']],
    ['datasetImpact', (p) => datasetImpact(deps, p), ['s3Uri: required: an s3:// URI or prefix (s3://bucket/path/)']],
    ['getPolicy', (p) => getPolicy(deps, p), ['modelPackageGroupName: required: a model package group name']],
    [
      'putPolicy',
      (p) => putPolicy(deps, p),
      [
        'modelPackageGroupName: required: a model package group name',
        'rules: required: an array of metric rules ({ metric, source, comparison, threshold })',
        "reviewers: required: an array of the reviewers' email addresses",
        'requiredApprovals: required: the number of distinct approvals a version needs',
        'changedBy: required: who makes the change (an IAM principal ARN or a name)',
      ],
    ],
    [
      'addReviewer',
      (p) => addReviewer(deps, p),
      ['modelPackageGroupName: required: a model package group name', "reviewer: required: the reviewer's email address", 'changedBy: required: who makes the change (an IAM principal ARN or a name)'],
    ],
    [
      'removeReviewer',
      (p) => removeReviewer(deps, p),
      ['modelPackageGroupName: required: a model package group name', "reviewer: required: the reviewer's email address", 'changedBy: required: who makes the change (an IAM principal ARN or a name)'],
    ],
    [
      'reissueLink',
      (p) => reissueLink(deps, p),
      [
        'modelPackageArn: required: a versioned model package ARN (arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>)',
        "reviewer: required: the reviewer's email address",
        'changedBy: required: who asks for the change (an IAM principal ARN or a name)',
      ],
    ],
    [
      'reopenReview',
      (p) => reopenReview(deps, p),
      ['modelPackageArn: required: a versioned model package ARN (arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>)', 'changedBy: required: who asks for the change (an IAM principal ARN or a name)'],
    ],
    ['getAuditTrail', (p) => getAuditTrail({ store: deps.store }, p), ['(root): give one of modelPackageArn, modelPackageGroupName or scope (training-jobs or review-links)']],
  ])('%s({}) names each field it needs and what it holds', async (_name, call, expected) => {
    expect(await problemsOf(call({}))).toEqual(expected);
  });

  // These take `{}` (every field optional): a wrong type is the error case.
  it.each<[string, (payload: unknown) => Promise<unknown>, unknown, string[]]>([
    ['listPendingReviews', (p) => listPendingReviews(deps, p), { limit: '10' }, ['limit: must be a number, not a string']],
    ['listUnapprovedDeployments', (p) => listUnapprovedDeployments(deps, p), { all: 'yes' }, ['all: must be a boolean, not a string']],
    ['verifyAuditTrail', (p) => verifyAuditTrail(auditDeps(), p), { full: 1 }, ['full: must be a boolean, not a number']],
    ['exportAuditTrail', (p) => exportAuditTrail(auditDeps(), p), { full: true }, ['(root): unknown field "full": this request takes no fields ({})']],
  ])('%s with a wrong field names it and what it expected', async (_name, call, payload, expected) => {
    expect(await problemsOf(call(payload))).toEqual(expected);
  });

  it.each<[string, (payload: unknown) => Promise<unknown>, unknown, string[]]>([
    ['getLineage', (p) => getLineage(deps, p), { modelPackageGroupName: 'fraud-detector', version: '3' }, ['version: must be a version number (1, 2, …), not a string']],
    ['getPolicy', (p) => getPolicy(deps, p), { modelPackageGroupName: 'fraud-detector', version: 'latest' }, ['version: must be a number or "all"']],
    ['datasetImpact', (p) => datasetImpact(deps, p), { s3Uri: DATASET, dryRun: 'true' }, ['dryRun: must be a boolean, not a string']],
    ['getAuditTrail', (p) => getAuditTrail({ store: deps.store }, p), { modelPackageGroupName: 'fraud-detector', group: 'x' }, ['(root): unknown field "group": the fields are modelPackageGroupName, from, to, limit, cursor, proofs']],
    ['addReviewer', (p) => addReviewer(deps, p), [], ['(root): the payload must be a JSON object, not an array']],
  ])('%s with a wrong type or field says what was expected', async (_name, call, payload, expected) => {
    expect(await problemsOf(call(payload))).toEqual(expected);
  });
});
