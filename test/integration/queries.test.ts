import { mockClient } from 'aws-sdk-client-mock';
import { DescribeModelPackageCommand, DescribeTrainingJobCommand, SageMakerClient, UpdateModelPackageCommand } from '@aws-sdk/client-sagemaker';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { NotFound, ValidationError } from '../../shared/domain/errors.js';
import { groupScope } from '../../shared/domain/audit.js';
import type { Deps } from '../../shared/ports.js';
import { keys } from '../../shared/store/keys.js';
import { getAuditTrail, verifyAuditTrail } from '../../shared/usecases/audit-trail.js';
import { handleModelPackageChange } from '../../shared/usecases/gate.js';
import { datasetImpact } from '../../shared/usecases/impact.js';
import { getLineage } from '../../shared/usecases/lineage.js';
import { putPolicy } from '../../shared/usecases/policies.js';
import { submitVote } from '../../shared/usecases/review.js';
import { recordTrainingJob } from '../../shared/usecases/training.js';
import { logVerifies, scopeEntries } from '../support/audit-log.js';
import { newTable, type TestTable } from '../support/dynamo.js';
import { SAMPLE_REPORT, TOPICS, reviewTokens, s3Body, story, testDeps } from '../support/story.js';

const sm = mockClient(SageMakerClient);
const sns = mockClient(SNSClient);
const s3 = mockClient(S3Client);
const T0 = Date.parse('2026-11-27T12:00:00Z');
const clock = { now: T0 };
const DATASET = 's3://acme-ml-datasets-123456789012/fraud/transactions/2026-11-01/';
const RESPONDER = 'arn:aws:sts::123456789012:assumed-role/IncidentResponder/mkhan';
const JOBS = ['training-job-completed.json', 'training-job-completed-low-auc.json', 'training-job-completed-late.json'];
const AUC: Record<string, number> = { 'training-job-completed.json': 0.912, 'training-job-completed-low-auc.json': 0.801, 'training-job-completed-late.json': 0.894 };

let table: TestTable;
let deps: Deps;

beforeEach(async () => {
  clock.now = T0;
  sm.reset();
  sns.reset();
  s3.reset();
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  sm.on(UpdateModelPackageCommand).resolves({});
  sm.on(DescribeModelPackageCommand).resolves({});
  s3.on(GetObjectCommand).resolves({ Body: s3Body(SAMPLE_REPORT) });
  table = await newTable('queries');
  deps = testDeps(table.client, table.tableName, clock);
});
afterEach(() => table.drop());

/**
 * Three jobs on one dataset and five versions: v1 (job 1), v2 (job 2, auc 0.801: rejected), v3
 * (job 3), v4 (job 1), v5 (job 3). v1 and v3 are approved through their reviews; v4 and v5 wait.
 */
async function scenario() {
  const s = story('impact');
  const jobs = JOBS.map((f) => s.job(f));
  for (const [i, f] of JOBS.entries()) {
    sm.on(DescribeTrainingJobCommand, { TrainingJobName: jobs[i]?.TrainingJobName }).resolves(s.describe(f, { 'validation:auc': AUC[f] ?? 0 }) as never);
  }
  await putPolicy(deps, s.policy({ rules: [{ metric: 'validation:auc', source: 'trainingJob', comparison: '>=', threshold: 0.85 }], requiredApprovals: 1 }));
  for (const job of jobs) await recordTrainingJob(deps, job);
  const base = s.version('model-package-pending.json');
  const artifactOf = (i: number) => jobs[i]?.ModelArtifacts?.S3ModelArtifacts ?? '';
  const plan = [0, 1, 2, 0, 2];
  for (const [n, jobIndex] of plan.entries()) {
    const version = n + 1;
    clock.now = T0 + version * 60_000;
    sns.resetHistory();
    await handleModelPackageChange(deps, {
      ...base,
      ModelPackageVersion: version,
      ModelPackageArn: s.arn(version),
      CreationTime: clock.now,
      LastModifiedTime: clock.now,
      ModelMetrics: undefined,
      InferenceSpecification: { Containers: [{ Image: 'img', ImageDigest: 'sha256:abc', ModelDataUrl: artifactOf(jobIndex) }] },
    });
    if (version === 1 || version === 3) {
      const tokens = reviewTokens(sns.commandCalls(PublishCommand).map((c) => c.args[0].input));
      await submitVote(deps, tokens['risk-officer@acme-bank.example'] ?? '', { decision: 'approve' });
      await handleModelPackageChange(deps, { ...base, ModelPackageVersion: version, ModelPackageArn: s.arn(version), ModelApprovalStatus: 'Approved', CreationTime: clock.now, LastModifiedTime: clock.now + 1000, ModelMetrics: undefined, InferenceSpecification: { Containers: [{ ModelDataUrl: artifactOf(jobIndex) }] } });
    }
  }
  sm.resetHistory();
  sns.resetHistory();
  return s;
}

describe('datasetImpact', () => {
  it('lists every job and version derived from a dataset prefix, with each version status', async () => {
    const s = await scenario();

    const report = await datasetImpact(deps, { s3Uri: DATASET });

    expect(new Set(report.trainingJobs.map((j) => j.job))).toEqual(new Set(JOBS.map((f) => s.job(f).TrainingJobName)));
    const statuses = Object.fromEntries(report.modelVersions.map((v) => [v.version, v.status]));
    expect(statuses).toEqual({ 1: 'Approved', 2: 'PendingManualApproval', 3: 'Approved', 4: 'PendingManualApproval', 5: 'PendingManualApproval' });
    expect(report.modelVersions).toHaveLength(10); // five versions, two channels each
    expect((await datasetImpact(deps, { s3Uri: 's3://acme-ml-datasets-123456789012/fraud/transactions/2026-10-01/' })).modelVersions).toEqual([]);
  });

  it('pages with a cursor', async () => {
    await scenario();
    const first = await datasetImpact(deps, { s3Uri: DATASET, limit: 4 });
    const second = await datasetImpact(deps, { s3Uri: DATASET, limit: 4, cursor: first.cursor });
    expect(first.trainingJobs.length + first.modelVersions.length).toBe(4);
    expect(first.cursor).toBeDefined();
    expect(second.trainingJobs.length + second.modelVersions.length).toBe(4);
  });

  it('revokes exactly the two approved versions, once, through the normal path; a second run changes nothing', async () => {
    const s = await scenario();
    const payload = { s3Uri: DATASET, revoke: true, reason: 'consent withdrawn (DPO-311)', changedBy: RESPONDER };

    const dry = await datasetImpact(deps, { ...payload, dryRun: true });
    expect(dry.revocation?.revoked.sort()).toEqual([s.arn(1), s.arn(3)]);
    expect(sm.commandCalls(UpdateModelPackageCommand)).toHaveLength(0);

    const first = await datasetImpact(deps, payload);
    const second = await datasetImpact(deps, payload);

    expect(first.revocation?.revoked.sort()).toEqual([s.arn(1), s.arn(3)]);
    const updates = sm.commandCalls(UpdateModelPackageCommand).map((c) => c.args[0].input);
    expect(updates.map((u) => [u.ModelPackageArn, u.ModelApprovalStatus]).sort()).toEqual([
      [s.arn(1), 'Rejected'],
      [s.arn(3), 'Rejected'],
    ]);
    expect(updates[0]?.ApprovalDescription).toContain('consent withdrawn (DPO-311)');
    expect(sns.commandCalls(PublishCommand).map((c) => c.args[0].input.TopicArn)).toEqual([TOPICS.governance, TOPICS.governance]);
    const audit = await scopeEntries(deps, groupScope(s.group));
    expect(audit.filter((e) => e.action === 'version.revoked').map((e) => e.subject).sort()).toEqual([s.arn(1), s.arn(3)]);
    // The second run: the versions still read Approved (the Rejected events have not arrived), but their decisions say Rejected.
    expect(second.revocation).toMatchObject({ revoked: [], alreadyRevoked: expect.arrayContaining([s.arn(1), s.arn(3)]) });
    expect(sm.commandCalls(UpdateModelPackageCommand)).toHaveLength(2);
  });

  it.each([
    ['not an S3 URI', { s3Uri: 'acme-ml-datasets/fraud' }, 's3Uri'],
    ['a revocation without a reason', { s3Uri: DATASET, revoke: true, changedBy: RESPONDER }, 'reason'],
    ['an unknown field', { s3Uri: DATASET, everything: true }, '(root)'],
  ])('refuses %s, naming it', async (_what, payload, field) => {
    const error = (await datasetImpact(deps, payload).catch((e: unknown) => e)) as ValidationError;
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.problems.some((p) => p.startsWith(`${field}:`))).toBe(true);
  });
});

describe('getLineage', () => {
  it('returns the ancestors, gate results, reviews and decision of a version in one document, in two rounds', async () => {
    const s = await scenario();

    const doc = await getLineage(deps, { modelPackageArn: s.arn(1) });

    expect(doc.trainingJob?.name).toBe(s.job(JOBS[0] ?? '').TrainingJobName);
    expect(doc.trainingJob?.hyperparameters).toMatchObject({ max_depth: '6' });
    expect(doc.datasets.map((d) => d.channel)).toEqual(['train', 'validation']);
    expect(doc.image).toEqual({ uri: 'img', digest: 'sha256:abc' });
    expect(doc.modelPackage.pipelineExecution).toMatch(/:pipeline\/impact-detector-train\/execution\//);
    expect(doc.gate?.results.map((r) => [r.rule.metric, r.actual, r.passed])).toEqual([['validation:auc', 0.912, true]]);
    expect(doc.reviews).toHaveLength(1);
    expect(doc.reviews[0]?.votes['risk-officer@acme-bank.example']?.decision).toBe('approve');
    expect(doc.decision?.outcome).toBe('Approved');
    expect(doc.audit.entries.map((e) => e.action)).toEqual(['version.gate-passed', 'review.opened', 'review.vote', 'review.decided', 'version.status-changed']);
    // The same entries as the group's scope holds about the version (GSI1 against the table's own partition).
    expect(doc.audit).toEqual({ entries: (await scopeEntries(deps, groupScope(s.group))).filter((e) => e.subject === s.arn(1)) });
    // The version, then the job's partition, its reviews and its audit entries (no chain head any more).
    expect(doc.cost).toEqual({ requests: 4, rounds: 2 });
    expect(await getLineage(deps, { modelPackageGroupName: s.group, version: 1 })).toEqual(doc);
  });

  it('says when modelgate has no record, and refuses a bad reference', async () => {
    await expect(getLineage(deps, { modelPackageGroupName: 'nothing-here', version: 1 })).rejects.toBeInstanceOf(NotFound);
    await expect(getLineage(deps, { modelPackageArn: 'arn:aws:s3:::bucket' })).rejects.toBeInstanceOf(ValidationError);
    await expect(getLineage(deps, { modelPackageGroupName: 'g', version: 0 })).rejects.toBeInstanceOf(ValidationError);
  });
});

describe('getAuditTrail and verifyAuditTrail', () => {
  it('pages a group trail in order, filters a version trail and a time range', async () => {
    const s = await scenario();
    const all = await scopeEntries(deps, groupScope(s.group));

    const first = await getAuditTrail(deps, { modelPackageGroupName: s.group, limit: 3 });
    const second = await getAuditTrail(deps, { modelPackageGroupName: s.group, limit: 3, cursor: first.cursor });
    expect(first.scope).toBe(groupScope(s.group));
    expect([...first.items, ...second.items].map((e) => e.id)).toEqual(all.slice(0, 6).map((e) => e.id));

    const v2 = await getAuditTrail(deps, { modelPackageArn: s.arn(2) });
    expect(v2.items.map((e) => e.action)).toEqual(['version.gate-failed']);

    const late = await getAuditTrail(deps, { modelPackageGroupName: s.group, from: new Date(T0 + 4 * 60_000).toISOString(), limit: 500 });
    expect(late.items.map((e) => e.subject).every((sub) => sub === s.arn(4) || sub === s.arn(5))).toBe(true);
    expect(late.items.length).toBeGreaterThan(0);

    expect((await getAuditTrail(deps, { modelPackageGroupName: 'no-such-group' })).items).toEqual([]);
    await expect(getAuditTrail(deps, { modelPackageGroupName: s.group, from: '2026-12-01T00:00:00Z', to: '2026-11-01T00:00:00Z' })).rejects.toBeInstanceOf(ValidationError);
    await expect(getAuditTrail(deps, { group: s.group })).rejects.toBeInstanceOf(ValidationError);
  });

  it('the log verifies, and reports exactly the entry that was edited in the table', async () => {
    const s = await scenario();
    expect(await logVerifies(table)).toMatchObject({ ok: true, entries: (await scopeEntries(deps, groupScope(s.group))).length + JOBS.length });

    // Someone with table access edits a sequenced entry (a vote) in place.
    const vote = (await scopeEntries(deps, groupScope(s.group))).find((e) => e.action === 'review.vote');
    if (vote?.logIndex === undefined) throw new Error('no sequenced vote');
    await table.doc.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: keys.auditEntry(vote.scope, vote.at, vote.position, vote.id),
        UpdateExpression: 'SET actor = :a',
        ExpressionAttributeValues: { ':a': 'someone-else@acme-bank.example' },
      }),
    );

    expect(await logVerifies(table)).toEqual({
      ok: false,
      what: 'the entry does not match its leaf in the log',
      at: `entry ${vote.logIndex}`,
      entries: expect.any(Number),
      checkpoints: 0,
    });
  });

  it('an empty table is an empty log, and verifies', async () => {
    expect(await logVerifies(table)).toMatchObject({ ok: true, entries: 0 });
  });

  it('verifyAuditTrail refuses a bad payload with a ValidationError naming it, before it reads anything', async () => {
    const untouched = new Proxy({} as never, {
      get: (_target, name) => () => {
        throw new Error(`read ${String(name)} for a refused payload`);
      },
    });
    const verifyDeps = { log: untouched, bucket: untouched, signer: untouched, clock: { now: () => clock.now } };
    for (const [payload, field] of [
      [{ modelPackageGroupName: 'bad name!' }, '(root)'],
      [{ full: 'yes' }, 'full'],
    ] as const) {
      const error = (await verifyAuditTrail(verifyDeps, payload).catch((e: unknown) => e)) as ValidationError;
      expect(error).toBeInstanceOf(ValidationError);
      expect(error.problems.some((p) => p.startsWith(`${field}:`))).toBe(true);
    }
  });
});
