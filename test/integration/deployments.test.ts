import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import {
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  DescribeModelCommand,
  DescribeModelPackageCommand,
  DescribeTrainingJobCommand,
  ListEndpointsCommand,
  ListModelPackagesCommand,
  SageMakerClient,
  SageMakerServiceException,
  UpdateModelPackageCommand,
} from '@aws-sdk/client-sagemaker';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { DEPLOYMENTS_SCOPE } from '../../shared/domain/deployment.js';
import { groupScope } from '../../shared/domain/audit.js';
import { ValidationError } from '../../shared/domain/errors.js';
import type { Deps } from '../../shared/ports.js';
import { EndpointStateChangeSchema, type EndpointDetail } from '../../shared/schemas/events.js';
import { SERVING_ENDPOINTS, keys } from '../../shared/store/keys.js';
import { handleEndpointChange, listUnapprovedDeployments } from '../../shared/usecases/deployments.js';
import { handleModelPackageChange } from '../../shared/usecases/gate.js';
import { datasetImpact } from '../../shared/usecases/impact.js';
import { getLineage } from '../../shared/usecases/lineage.js';
import { putPolicy } from '../../shared/usecases/policies.js';
import { reconcile } from '../../shared/usecases/reconcile.js';
import { sweepReviews } from '../../shared/usecases/sweep.js';
import { SideEffectFailed } from '../../shared/domain/errors.js';
import { PENDING_ENDPOINT_EFFECTS } from '../../shared/store/keys.js';
import { submitVote } from '../../shared/usecases/review.js';
import { recordTrainingJob } from '../../shared/usecases/training.js';
import { scopeEntries } from '../support/audit-log.js';
import { newTable, type TestTable } from '../support/dynamo.js';
import { EVENTS_DIR, SAMPLE_REPORT, TOPICS, TRUST_LINE, reviewTokens, s3Body, story, testDeps } from '../support/story.js';

const sm = mockClient(SageMakerClient);
const sns = mockClient(SNSClient);
const s3 = mockClient(S3Client);
const T0 = Date.parse('2026-11-27T12:00:00Z');
const clock = { now: T0 };
const DATASET = 's3://acme-ml-datasets-123456789012/fraud/transactions/2026-11-01/';
const RESPONDER = 'arn:aws:sts::123456789012:assumed-role/IncidentResponder/mkhan';
const JOBS = ['training-job-completed.json', 'training-job-completed-low-auc.json'];
const AUC: Record<string, number> = { 'training-job-completed.json': 0.912, 'training-job-completed-low-auc.json': 0.801 };
const ACCOUNT = 'arn:aws:sagemaker:us-east-1:123456789012';

let table: TestTable;
let deps: Deps;

// A table per test: the versions of every test derive from the same dataset, and a revocation reaches all of them.
beforeEach(async () => {
  table = await newTable('deployments');
  deps = testDeps(table.client, table.tableName, clock);
});
afterEach(() => table.drop());
beforeEach(() => {
  clock.now = T0;
  sm.reset();
  sns.reset();
  s3.reset();
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  sm.on(UpdateModelPackageCommand).resolves({});
  sm.on(DescribeModelPackageCommand).resolves({});
  s3.on(GetObjectCommand).resolves({ Body: s3Body(SAMPLE_REPORT) });
});

/**
 * A group with a policy and two jobs on one dataset, and four versions: v1 approved through its
 * review, v2 rejected by the policy (auc 0.801), v3 in review, v4 approved through its review.
 */
async function registry(prefix: string, policy: Record<string, unknown> = {}) {
  const s = story(prefix);
  const jobs = JOBS.map((f) => s.job(f));
  for (const [i, f] of JOBS.entries()) {
    sm.on(DescribeTrainingJobCommand, { TrainingJobName: jobs[i]?.TrainingJobName }).resolves(s.describe(f, { 'validation:auc': AUC[f] ?? 0 }) as never);
  }
  await putPolicy(deps, s.policy({ rules: [{ metric: 'validation:auc', source: 'trainingJob', comparison: '>=', threshold: 0.85 }], requiredApprovals: 1, ...policy }));
  for (const job of jobs) await recordTrainingJob(deps, job);
  const base = s.version('model-package-pending.json');
  const artifactOf = (i: number) => jobs[i]?.ModelArtifacts?.S3ModelArtifacts ?? '';
  for (const [n, jobIndex] of [0, 1, 0, 0].entries()) {
    const version = n + 1;
    clock.now = T0 + version * 60_000;
    sns.resetHistory();
    const detail = { ...base, ModelPackageVersion: version, ModelPackageArn: s.arn(version), CreationTime: clock.now, LastModifiedTime: clock.now, ModelMetrics: undefined, InferenceSpecification: { Containers: [{ Image: 'img', ImageDigest: 'sha256:abc', ModelDataUrl: artifactOf(jobIndex) }] } };
    await handleModelPackageChange(deps, detail);
    if (version === 1 || version === 4) {
      const tokens = reviewTokens(sns.commandCalls(PublishCommand).map((c) => c.args[0].input));
      await submitVote(deps, tokens['risk-officer@acme-bank.example'] ?? '', { decision: 'approve' });
      await handleModelPackageChange(deps, { ...detail, ModelApprovalStatus: 'Approved', LastModifiedTime: clock.now + 1000 });
    }
  }
  clock.now = T0 + 3_600_000;
  sm.resetHistory();
  sns.resetHistory();
  return s;
}

interface Variant {
  variant: string;
  model: string;
  /** A model package version ARN; none: a model made from an image and artifact only. */
  packageArn?: string;
}

/** What SageMaker describes for the endpoint now (DescribeEndpoint → DescribeEndpointConfig → DescribeModel). */
function sageMakerServes(name: string, variants: Variant[], lastModified: number, config = `${name}-config-${lastModified}`) {
  sm.on(DescribeEndpointCommand, { EndpointName: name }).resolves({
    EndpointName: name,
    EndpointArn: `${ACCOUNT}:endpoint/${name.toLowerCase()}`,
    EndpointConfigName: config,
    EndpointStatus: 'InService',
    CreationTime: new Date(T0),
    LastModifiedTime: new Date(lastModified),
    ProductionVariants: variants.map((v) => ({ VariantName: v.variant, CurrentWeight: 1, DesiredWeight: 1 })),
  });
  sm.on(DescribeEndpointConfigCommand, { EndpointConfigName: config }).resolves({
    EndpointConfigName: config,
    EndpointConfigArn: `${ACCOUNT}:endpoint-config/${config}`,
    CreationTime: new Date(lastModified),
    ProductionVariants: variants.map((v) => ({ VariantName: v.variant, ModelName: v.model })),
  });
  for (const v of variants) {
    sm.on(DescribeModelCommand, { ModelName: v.model }).resolves({
      ModelName: v.model,
      ModelArn: `${ACCOUNT}:model/${v.model}`,
      CreationTime: new Date(lastModified),
      PrimaryContainer: v.packageArn ? { ModelPackageName: v.packageArn } : { Image: 'img', ModelDataUrl: 's3://acme-ml-artifacts-123456789012/hand-made/model.tar.gz' },
    });
  }
}

function sageMakerForgot(name: string) {
  sm.on(DescribeEndpointCommand, { EndpointName: name }).rejects(
    new SageMakerServiceException({ name: 'ValidationException', $fault: 'client', $metadata: {}, message: `Could not find endpoint "${ACCOUNT}:endpoint/${name}".` }),
  );
}

/** The endpoint state change event (events/endpoint-in-service.json) for an endpoint, parsed as the handler parses it. */
function event(name: string, overrides: Partial<Record<string, unknown>> = {}): EndpointDetail {
  const raw = JSON.parse(readFileSync(join(EVENTS_DIR, 'endpoint-in-service.json'), 'utf8').replaceAll('fraud-detector-prod', name)) as { detail: Record<string, unknown> };
  return EndpointStateChangeSchema.parse({ ...raw, detail: { ...raw.detail, ...overrides } }).detail;
}

const published = () => sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
const version = (group: string, v: number) => deps.store.getVersion({ group, version: v });
const servedBy = async (group: string, v: number) => [...((await version(group, v))?.servedBy ?? [])].sort();

async function endpointItem(name: string) {
  const out = await table.doc.send(new QueryCommand({ TableName: table.tableName, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': keys.endpoint(name).PK } }));
  return out.Items?.[0];
}

describe('the deployment recorder', () => {
  it('an endpoint serving an approved version is recorded, with the version, and sends no notice', async () => {
    const s = await registry('dep-approved');
    sageMakerServes('dep-approved-prod', [{ variant: 'AllTraffic', model: 'dep-approved-m1', packageArn: s.arn(1) }], T0 + 7_200_000);

    const report = await handleEndpointChange(deps, event('dep-approved-prod'));

    expect(report).toEqual({ outcome: 'recorded', endpoint: 'dep-approved-prod', status: 'InService', unapproved: [] });
    expect(published()).toEqual([]);
    expect(await servedBy(s.group, 1)).toEqual(['dep-approved-prod/AllTraffic']);
    const item = await endpointItem('dep-approved-prod');
    expect(item).toMatchObject({
      type: 'Endpoint',
      status: 'InService',
      configName: `dep-approved-prod-config-${T0 + 7_200_000}`,
      lastModified: T0 + 7_200_000,
      served: [{ variant: 'AllTraffic', model: 'dep-approved-m1', modelPackageArn: s.arn(1), group: s.group, version: 1 }],
      GSI1PK: SERVING_ENDPOINTS,
      rev: 1,
    });
    const lineage = await getLineage(deps, { modelPackageArn: s.arn(1) });
    expect(lineage.endpoints).toEqual([{ endpoint: 'dep-approved-prod', variant: 'AllTraffic' }]);
    const entries = await scopeEntries(deps, DEPLOYMENTS_SCOPE);
    expect(entries.filter((e) => e.subject === `${ACCOUNT}:endpoint/dep-approved-prod`).map((e) => e.action)).toEqual(['deployment.recorded']);
    // Exactly the three Describe calls, in order; nothing is changed in SageMaker.
    expect(sm.calls().map((c) => c.args[0].constructor.name)).toEqual(['DescribeEndpointCommand', 'DescribeEndpointConfigCommand', 'DescribeModelCommand']);
  });

  it('an endpoint serving a rejected version gets a governance notice naming endpoint, variant, version and why, and an audit entry', async () => {
    const s = await registry('dep-rejected');
    sageMakerServes('dep-rejected-prod', [{ variant: 'AllTraffic', model: 'dep-rejected-m2', packageArn: s.arn(2) }], T0 + 7_200_000);

    const report = await handleEndpointChange(deps, event('dep-rejected-prod'));

    expect(report.unapproved).toEqual([{ variant: 'AllTraffic', modelPackageArn: s.arn(2), reason: 'rejected' }]);
    const notices = published();
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatchObject({
      TopicArn: TOPICS.governance,
      Subject: 'Unapproved deployment: dep-rejected-prod',
      MessageAttributes: {
        event: { DataType: 'String', StringValue: 'deployment-unapproved' },
        endpoint: { DataType: 'String', StringValue: 'dep-rejected-prod' },
        group: { DataType: 'String', StringValue: s.group },
      },
    });
    expect(notices[0]?.Message).toContain(`variant AllTraffic: ${s.arn(2)}: rejected: it failed its group's policy (v1)`);
    expect(notices[0]?.Message?.endsWith(TRUST_LINE)).toBe(true);
    const entries = (await scopeEntries(deps, groupScope(s.group))).filter((e) => e.action === 'deployment.unapproved');
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ subject: s.arn(2), actor: 'modelgate', detail: { endpoint: 'dep-rejected-prod', variant: 'AllTraffic', reason: 'rejected', modelPackageArn: s.arn(2) } });
    // The notice was sent: nothing stays pending on the endpoint.
    expect((await endpointItem('dep-rejected-prod'))?.pendingEffects).toEqual({});
  });

  it("a notice SNS refuses stays pending on the endpoint, in the sweep's index; Lambda's retry (a repeat) sends it, and so does the hourly sweep, once", async () => {
    const s = await registry('dep-pending');
    sageMakerServes('dep-pending-prod', [{ variant: 'AllTraffic', model: 'dep-pending-m2', packageArn: s.arn(2) }], T0 + 7_200_000);
    sns.on(PublishCommand).rejects(Object.assign(new Error('SNS is down'), { name: 'InternalErrorException' }));

    await expect(handleEndpointChange(deps, event('dep-pending-prod'))).rejects.toThrow(SideEffectFailed);

    const stuck = await endpointItem('dep-pending-prod');
    expect(Object.keys(stuck?.pendingEffects ?? {})).toEqual([`deployment-notice:dep-pending-prod:${T0 + 7_200_000}`]);
    expect(stuck).toMatchObject({ GSI2PK: PENDING_ENDPOINT_EFFECTS, GSI2SK: 'dep-pending-prod' });
    sns.reset();
    sns.on(PublishCommand).resolves({ MessageId: 'm-2' });
    // Lambda's retry is a repeat: the record is in step, and the notice's lease (released on failure) lets it go now.
    expect((await handleEndpointChange(deps, event('dep-pending-prod'))).outcome).toBe('duplicate');
    expect(published()).toHaveLength(1);
    expect((await endpointItem('dep-pending-prod'))?.GSI2PK).toBeUndefined();

    // Once more, with the sweep: the notice fails again, then the hourly sweep sends it.
    sageMakerServes('dep-pending-prod', [{ variant: 'AllTraffic', model: 'dep-pending-m3', packageArn: s.arn(3) }], T0 + 9_000_000);
    sns.reset();
    sns.on(PublishCommand).rejects(Object.assign(new Error('SNS is down'), { name: 'InternalErrorException' }));
    await expect(handleEndpointChange(deps, event('dep-pending-prod', { LastModifiedTime: T0 + 9_000_000 }))).rejects.toThrow(SideEffectFailed);
    sns.reset();
    sns.on(PublishCommand).resolves({ MessageId: 'm-3' });
    clock.now += 3_600_000;

    const swept = await sweepReviews(deps);

    expect(swept).toMatchObject({ resumedEffects: 1, failures: [] });
    expect(published().map((p) => p.Subject)).toEqual(['Unapproved deployment: dep-pending-prod']);
    expect(published()[0]?.Message).toContain(`variant AllTraffic: ${s.arn(3)}: in-review`);
    const settled = await endpointItem('dep-pending-prod');
    expect(settled?.pendingEffects).toEqual({});
    expect(settled?.GSI2PK).toBeUndefined();
    expect((await sweepReviews(deps)).resumedEffects).toBe(0);
  });

  it('two variants with different versions: each version names its variant; only the unapproved one is told', async () => {
    const s = await registry('dep-two');
    sageMakerServes(
      'dep-two-prod',
      [
        { variant: 'Champion', model: 'dep-two-m1', packageArn: s.arn(1) },
        { variant: 'Challenger', model: 'dep-two-m3', packageArn: s.arn(3) },
      ],
      T0 + 7_200_000,
    );

    const report = await handleEndpointChange(deps, event('dep-two-prod'));

    expect(report.unapproved).toEqual([{ variant: 'Challenger', modelPackageArn: s.arn(3), reason: 'in-review' }]);
    expect(await servedBy(s.group, 1)).toEqual(['dep-two-prod/Champion']);
    expect(await servedBy(s.group, 3)).toEqual(['dep-two-prod/Challenger']);
    expect(published()).toHaveLength(1);
    expect(published()[0]?.Message).toContain('variant Challenger');
    expect(published()[0]?.Message).not.toContain('variant Champion');
  });

  it('an update that swaps the version moves servedBy from the old version to the new one, and the change is audited', async () => {
    const s = await registry('dep-swap');
    sageMakerServes('dep-swap-prod', [{ variant: 'AllTraffic', model: 'dep-swap-m1', packageArn: s.arn(1) }], T0 + 7_200_000);
    await handleEndpointChange(deps, event('dep-swap-prod'));
    sageMakerServes('dep-swap-prod', [{ variant: 'AllTraffic', model: 'dep-swap-m4', packageArn: s.arn(4) }], T0 + 9_000_000);

    const report = await handleEndpointChange(deps, event('dep-swap-prod', { LastModifiedTime: T0 + 9_000_000 }));

    expect(report).toMatchObject({ outcome: 'recorded', unapproved: [] });
    expect(await servedBy(s.group, 1)).toEqual([]);
    expect(await servedBy(s.group, 4)).toEqual(['dep-swap-prod/AllTraffic']);
    expect((await endpointItem('dep-swap-prod'))?.rev).toBe(2);
    const actions = (await scopeEntries(deps, DEPLOYMENTS_SCOPE)).filter((e) => e.subject === `${ACCOUNT}:endpoint/dep-swap-prod`).map((e) => e.action);
    expect(actions).toEqual(['deployment.recorded', 'deployment.changed']);
    expect(published()).toEqual([]);
  });

  it('a deletion is recorded as deleted: the versions are no longer served and the endpoint leaves the serving index', async () => {
    const s = await registry('dep-delete');
    sageMakerServes('dep-delete-prod', [{ variant: 'AllTraffic', model: 'dep-delete-m1', packageArn: s.arn(1) }], T0 + 7_200_000);
    await handleEndpointChange(deps, event('dep-delete-prod'));
    sageMakerForgot('dep-delete-prod');

    const report = await handleEndpointChange(deps, event('dep-delete-prod', { EndpointStatus: 'DELETING', LastModifiedTime: T0 + 7_200_000 }));

    expect(report).toEqual({ outcome: 'deleted', endpoint: 'dep-delete-prod', status: 'Deleted', unapproved: [] });
    expect(await servedBy(s.group, 1)).toEqual([]);
    const item = await endpointItem('dep-delete-prod');
    expect(item).toMatchObject({ status: 'Deleted', served: [], deletedAt: new Date(clock.now).toISOString() });
    expect(item?.GSI1PK).toBeUndefined();
    expect((await getLineage(deps, { modelPackageArn: s.arn(1) })).endpoints).toEqual([]);
    // The same deletion delivered again, and a late IN_SERVICE event: SageMaker still knows no such endpoint.
    expect((await handleEndpointChange(deps, event('dep-delete-prod', { EndpointStatus: 'DELETING' }))).outcome).toBe('duplicate');
    expect((await handleEndpointChange(deps, event('dep-delete-prod'))).outcome).toBe('duplicate');
    expect((await endpointItem('dep-delete-prod'))?.rev).toBe(2);
  });

  it('repeated, re-sent (new event id), older-after-newer and concurrent deliveries make one record and one notice', async () => {
    const s = await registry('dep-repeat');
    sageMakerServes('dep-repeat-prod', [{ variant: 'AllTraffic', model: 'dep-repeat-m2', packageArn: s.arn(2) }], T0 + 7_200_000);
    const first = event('dep-repeat-prod');

    const concurrent = await Promise.all([first, first, { ...first }].map((d) => handleEndpointChange(deps, d)));
    expect(concurrent.map((r) => r.outcome).sort()).toEqual(['duplicate', 'duplicate', 'recorded']);
    const rev = (await endpointItem('dep-repeat-prod'))?.rev; // the record and the settling of its notice
    expect(rev).toBe(2);
    // An older event (its LastModifiedTime before the record's) and the InService spelling: SageMaker describes the same state.
    expect((await handleEndpointChange(deps, event('dep-repeat-prod', { EndpointStatus: 'InService', LastModifiedTime: T0 }))).outcome).toBe('duplicate');

    expect(published()).toHaveLength(1);
    expect((await endpointItem('dep-repeat-prod'))?.rev).toBe(rev);
    expect(await servedBy(s.group, 2)).toEqual(['dep-repeat-prod/AllTraffic']);
    expect((await scopeEntries(deps, groupScope(s.group))).filter((e) => e.action === 'deployment.unapproved')).toHaveLength(1);
  });

  it('a version never gated, one modelgate has no record of, and a model made from no model package are each unapproved, by name', async () => {
    const s = await registry('dep-unknown');
    const ungoverned = `${ACCOUNT}:model-package/dep-unknown-other/7`;
    sageMakerServes(
      'dep-unknown-prod',
      [
        { variant: 'A', model: 'dep-unknown-ma', packageArn: ungoverned },
        { variant: 'B', model: 'dep-unknown-mb' },
      ],
      T0 + 7_200_000,
    );

    const report = await handleEndpointChange(deps, event('dep-unknown-prod'));

    expect(report.unapproved).toEqual([
      { variant: 'A', modelPackageArn: ungoverned, reason: 'unknown-version' },
      { variant: 'B', modelPackageArn: null, reason: 'not-from-registry' },
    ]);
    expect(published()[0]?.Message).toContain('variant B: model dep-unknown-mb (no model package): not-from-registry');
    // Each entry in the scope of what it is about: the version's group, or the deployments scope for a model of no package.
    const unapproved = (entries: Awaited<ReturnType<typeof scopeEntries>>) => entries.filter((e) => e.action === 'deployment.unapproved' && e.detail.endpoint === 'dep-unknown-prod');
    expect(unapproved(await scopeEntries(deps, groupScope('dep-unknown-other'))).map((e) => [e.subject, e.detail.reason])).toEqual([[ungoverned, 'unknown-version']]);
    expect(unapproved(await scopeEntries(deps, DEPLOYMENTS_SCOPE)).map((e) => [e.subject, e.detail.reason])).toEqual([[`${ACCOUNT}:endpoint/dep-unknown-prod`, 'not-from-registry']]);
    expect(unapproved(await scopeEntries(deps, groupScope(s.group)))).toEqual([]);
  });

  it('a revocation names every endpoint that serves the revoked version; datasetImpact reaches the endpoints; the follow-up lists them', async () => {
    const s = await registry('dep-revoke', { unapprovedDeployments: 'follow-up' });
    sageMakerServes('dep-revoke-prod', [{ variant: 'AllTraffic', model: 'dep-revoke-m1', packageArn: s.arn(1) }], T0 + 7_200_000);
    sageMakerServes('dep-revoke-shadow', [{ variant: 'Shadow', model: 'dep-revoke-m1', packageArn: s.arn(1) }], T0 + 7_300_000);
    await handleEndpointChange(deps, event('dep-revoke-prod'));
    await handleEndpointChange(deps, event('dep-revoke-shadow'));
    expect(published()).toEqual([]);

    // The tests of this file share the table and the dataset: this group's versions and endpoints.
    const listing = await datasetImpact(deps, { s3Uri: DATASET });
    expect(listing.endpoints.filter((e) => e.startsWith('dep-revoke-')).sort()).toEqual(['dep-revoke-prod/AllTraffic', 'dep-revoke-shadow/Shadow']);
    expect(listing.modelVersions.filter((v) => v.group === s.group && v.version === 1).map((v) => v.endpoints)).toEqual([
      ['dep-revoke-prod/AllTraffic', 'dep-revoke-shadow/Shadow'],
      ['dep-revoke-prod/AllTraffic', 'dep-revoke-shadow/Shadow'],
    ]);
    const before = await listUnapprovedDeployments(deps, {});
    expect(before.deployments.filter((d) => d.group === s.group)).toEqual([]);

    const revoked = await datasetImpact(deps, { s3Uri: DATASET, revoke: true, reason: 'label leakage', changedBy: RESPONDER });

    expect(revoked.revocation?.revoked.filter((a) => a.includes(s.group)).sort()).toEqual([s.arn(1), s.arn(4)]);
    const notices = published().filter((p) => p.Subject?.startsWith('Unapproved deployment'));
    expect(notices.map((n) => n.Subject).sort()).toEqual(['Unapproved deployment: dep-revoke-prod', 'Unapproved deployment: dep-revoke-shadow']);
    expect(notices.find((n) => n.Subject?.endsWith('dep-revoke-prod'))?.Message).toContain(`now serves a model version that modelgate has not approved:\n  - variant AllTraffic: ${s.arn(1)}: revoked`);
    const entries = (await scopeEntries(deps, groupScope(s.group))).filter((e) => e.action === 'deployment.unapproved');
    expect(entries.map((e) => [e.subject, e.detail.endpoint, e.detail.reason])).toEqual([
      [s.arn(1), 'dep-revoke-prod', 'revoked'],
      [s.arn(1), 'dep-revoke-shadow', 'revoked'],
    ]);
    const after = await listUnapprovedDeployments(deps, {});
    expect(after.deployments.filter((d) => d.group === s.group).map((d) => [d.endpoint, d.variant, d.reason, d.action])).toEqual([
      ['dep-revoke-prod', 'AllTraffic', 'revoked', 'follow-up'],
      ['dep-revoke-shadow', 'Shadow', 'revoked', 'follow-up'],
    ]);
    expect(after.requests).toBe(2);
  });

  it('the same deployment in a group whose policy only notifies is listed only with all: true', async () => {
    const s = await registry('dep-notify');
    sageMakerServes('dep-notify-prod', [{ variant: 'AllTraffic', model: 'dep-notify-m2', packageArn: s.arn(2) }], T0 + 7_200_000);
    await handleEndpointChange(deps, event('dep-notify-prod'));

    expect((await listUnapprovedDeployments(deps, {})).deployments.filter((d) => d.group === s.group)).toEqual([]);
    const all = await listUnapprovedDeployments(deps, { all: true });
    expect(all.deployments.filter((d) => d.group === s.group)).toEqual([
      expect.objectContaining({ endpoint: 'dep-notify-prod', variant: 'AllTraffic', modelPackageArn: s.arn(2), version: 2, reason: 'rejected', action: 'notify' }),
    ]);
  });

  it('a gate that read the version before the recorder wrote servedBy plans again and keeps it', async () => {
    const s = await registry('dep-race');
    sageMakerServes('dep-race-prod', [{ variant: 'AllTraffic', model: 'dep-race-m3', packageArn: s.arn(3) }], T0 + 7_200_000);
    const base = s.version('model-package-pending.json');
    const v3 = await version(s.group, 3);
    // The registry's next state of v3 and the endpoint's event, at once.
    await Promise.all([
      handleModelPackageChange(deps, { ...base, ModelPackageVersion: 3, ModelPackageArn: s.arn(3), ModelApprovalStatus: 'Rejected', CreationTime: v3?.createdAt ?? T0, LastModifiedTime: (v3?.lastModified ?? T0) + 5000, ModelMetrics: undefined, InferenceSpecification: { Containers: [{ ModelDataUrl: v3?.artifactUri ?? '' }] } }),
      handleEndpointChange(deps, event('dep-race-prod')),
    ]);
    expect(await servedBy(s.group, 3)).toEqual(['dep-race-prod/AllTraffic']);
    expect((await version(s.group, 3))?.status).toBe('Rejected');
  });
});

describe('reconciling the endpoints', () => {
  const listed = (names: Array<[string, number]>) =>
    sm.on(ListEndpointsCommand).resolves({
      Endpoints: names.map(([name, at]) => ({ EndpointName: name, EndpointArn: `${ACCOUNT}:endpoint/${name}`, EndpointStatus: 'InService', CreationTime: new Date(T0), LastModifiedTime: new Date(at) })),
    });

  it('records an endpoint whose event was missed, an update whose event was lost and a deletion whose event was lost; a second run changes nothing', async () => {
    const s = await registry('dep-rec');
    // Recorded by its events: kept (in step), swapped later (its update's event lost), deleted later (its deletion's event lost).
    sageMakerServes('dep-rec-kept', [{ variant: 'AllTraffic', model: 'dep-rec-m1', packageArn: s.arn(1) }], T0 + 7_200_000);
    sageMakerServes('dep-rec-swapped', [{ variant: 'AllTraffic', model: 'dep-rec-m1', packageArn: s.arn(1) }], T0 + 7_200_000);
    sageMakerServes('dep-rec-deleted', [{ variant: 'AllTraffic', model: 'dep-rec-m4', packageArn: s.arn(4) }], T0 + 7_200_000);
    for (const name of ['dep-rec-kept', 'dep-rec-swapped', 'dep-rec-deleted']) await handleEndpointChange(deps, event(name));
    // What SageMaker says now.
    sageMakerServes('dep-rec-swapped', [{ variant: 'AllTraffic', model: 'dep-rec-m2', packageArn: s.arn(2) }], T0 + 9_000_000);
    sageMakerForgot('dep-rec-deleted');
    sageMakerServes('dep-rec-missed', [{ variant: 'AllTraffic', model: 'dep-rec-m3', packageArn: s.arn(3) }], T0 + 8_000_000);
    listed([['dep-rec-kept', T0 + 7_200_000], ['dep-rec-missed', T0 + 8_000_000], ['dep-rec-swapped', T0 + 9_000_000]]);
    // The group's versions are in step: only the endpoints have something to reconcile.
    const recorded = await deps.store.getVersions([1, 2, 3, 4].map((v) => ({ group: s.group, version: v })));
    sm.on(ListModelPackagesCommand).resolves({
      ModelPackageSummaryList: recorded.map((v) => ({ ModelPackageGroupName: s.group, ModelPackageVersion: v?.version, ModelPackageArn: v?.arn, ModelApprovalStatus: v?.status, CreationTime: new Date(v?.createdAt ?? T0), ModelPackageStatus: 'Completed' })),
    });
    sm.resetHistory();
    sns.resetHistory();

    const dry = await reconcile(deps, { dryRun: true });
    expect(dry.endpoints).toEqual({ inService: 3, inStep: 1, missing: ['dep-rec-missed'], outdated: ['dep-rec-swapped'], gone: ['dep-rec-deleted'], actions: [] });
    expect(sm.calls().map((c) => c.args[0].constructor.name).filter((n) => n.startsWith('DescribeEndpoint'))).toEqual([]);
    expect(published()).toEqual([]);

    const report = await reconcile(deps, {});

    expect(report.endpoints?.actions).toEqual([
      { endpoint: 'dep-rec-missed', outcome: 'recorded' },
      { endpoint: 'dep-rec-swapped', outcome: 'recorded' },
      { endpoint: 'dep-rec-deleted', outcome: 'deleted' },
    ]);
    expect(await servedBy(s.group, 1)).toEqual(['dep-rec-kept/AllTraffic']);
    expect(await servedBy(s.group, 2)).toEqual(['dep-rec-swapped/AllTraffic']);
    expect(await servedBy(s.group, 3)).toEqual(['dep-rec-missed/AllTraffic']);
    expect(await servedBy(s.group, 4)).toEqual([]);
    // The missed deployment of v3 (in review) and the swap to v2 (rejected) get their notices.
    expect(published().map((p) => p.Subject).sort()).toEqual(['Unapproved deployment: dep-rec-missed', 'Unapproved deployment: dep-rec-swapped']);

    const again = await reconcile(deps, {});
    expect(again.endpoints).toEqual({ inService: 3, inStep: 3, missing: [], outdated: [], gone: [], actions: [] });
  });
});

describe('bad endpoint events and requests', () => {
  it('an undocumented EndpointStatus is a ValidationError naming the field, and nothing is read or written', async () => {
    const detail = event('dep-bad-prod', { EndpointStatus: 'ON_FIRE' });
    await expect(handleEndpointChange(deps, detail)).rejects.toThrow(ValidationError);
    await expect(handleEndpointChange(deps, detail)).rejects.toThrow(/detail\.EndpointStatus/);
    expect(sm.calls()).toHaveLength(0);
    expect(await endpointItem('dep-bad-prod')).toBeUndefined();
  });

  it.each([
    ['EndpointName', { EndpointName: 'bad name; rm -rf' }],
    ['EndpointArn', { EndpointArn: 'arn:aws:s3:::not-an-endpoint' }],
    ['LastModifiedTime', { LastModifiedTime: 'yesterday' }],
  ])('a detail with a bad %s is refused by the schema, naming it', (field, overrides) => {
    const raw = JSON.parse(readFileSync(join(EVENTS_DIR, 'endpoint-in-service.json'), 'utf8')) as { detail: Record<string, unknown> };
    const parsed = EndpointStateChangeSchema.safeParse({ ...raw, detail: { ...raw.detail, ...overrides } });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => i.path.join('.'))).toContain(`detail.${field}`);
  });

  it.each([
    [{ limit: 0 }, 'limit'],
    [{ cursor: '' }, 'cursor'],
    [{ all: 'yes' }, 'all'],
    [{ group: 'x' }, 'group'],
  ])('listUnapprovedDeployments refuses %j, naming %s', async (payload, field) => {
    await expect(listUnapprovedDeployments(deps, payload)).rejects.toThrow(ValidationError);
    await expect(listUnapprovedDeployments(deps, payload)).rejects.toThrow(new RegExp(field));
  });
});
