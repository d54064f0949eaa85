// The metrics as CloudWatch receives them: one gate story (a training job, then a passing model
// package version) against DynamoDB Local, each result through recordResult, published by
// Powertools (EMF on stdout), and refusals through recordRefusal. The EMF JSON is read back from
// stdout and checked: names, units, namespace, and the dimensions service and stage only.
import { jest } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import { DescribeTrainingJobCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SNSClient } from '@aws-sdk/client-sns';
import { S3Client } from '@aws-sdk/client-s3';
import { newTable, type TestTable } from '../support/dynamo.js';
import { resetMocks, story, testDeps } from '../support/story.js';

// What Lambda's environment gives every function (serverless.yml provider.environment), before
// the Metrics instance reads it: the module is imported below, after these.
process.env.POWERTOOLS_SERVICE_NAME = 'modelgate';
process.env.STAGE = 'test';
delete process.env.POWERTOOLS_METRICS_DISABLED;
delete process.env.POWERTOOLS_DEV;

const { metrics, recordResult, recordRefusal, recordVote, METRICS } = await import('../../shared/metrics.js');
const { handleModelPackageChange } = await import('../../shared/usecases/gate.js');
const { putPolicy } = await import('../../shared/usecases/policies.js');
const { recordTrainingJob } = await import('../../shared/usecases/training.js');
const { IncompleteRun } = await import('../../shared/usecases/runs.js');
const { SideEffectFailed, ValidationError } = await import('../../shared/domain/errors.js');

const sm = mockClient(SageMakerClient);
const sns = mockClient(SNSClient);
const s3 = mockClient(S3Client);

interface Emf {
  _aws: { Timestamp: number; CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string; Unit: string }> }> };
  [key: string]: unknown;
}

let table: TestTable;
const clock = { now: Date.parse('2026-11-27T12:00:00Z') };

beforeAll(async () => {
  table = await newTable('metrics');
});
afterAll(() => table.drop());
beforeEach(() => resetMocks(sm, sns, s3));

/** Publishes what is stored (as the middleware does at the end of an invocation) and returns the EMF documents written to stdout. */
function publish(): Emf[] {
  const written: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  try {
    metrics.publishStoredMetrics();
  } finally {
    spy.mockRestore();
  }
  return written
    .flatMap((w) => w.split('\n'))
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as Emf);
}

/** One EMF document's metrics: name → [unit, value]; and it checks the namespace and dimensions. */
function metricsOf(docs: Emf[]): Record<string, [string, unknown]> {
  expect(docs).toHaveLength(1);
  const doc = docs[0] as Emf;
  expect(doc._aws.CloudWatchMetrics).toHaveLength(1);
  const [directive] = doc._aws.CloudWatchMetrics;
  expect(directive?.Namespace).toBe('modelgate');
  expect(directive?.Dimensions.map((set) => [...set].sort())).toEqual([['service', 'stage']]);
  expect({ service: doc.service, stage: doc.stage }).toEqual({ service: 'modelgate', stage: 'test' });
  // Nothing else at the top level but the metrics' values.
  const names = (directive?.Metrics ?? []).map((m) => m.Name);
  expect(Object.keys(doc).sort()).toEqual(['_aws', 'service', 'stage', ...names].sort());
  return Object.fromEntries((directive?.Metrics ?? []).map((m) => [m.Name, [m.Unit, doc[m.Name]]]));
}

describe('metrics (Powertools EMF)', () => {
  it('a gate story: the job recorded, then the version passing its gate opens a review', async () => {
    const deps = testDeps(table.client, table.tableName, clock);
    const s = story('metricsgate');
    sm.on(DescribeTrainingJobCommand).resolves(s.describe('training-job-completed.json', { 'validation:auc': 0.912 }) as never);
    await putPolicy(deps, s.policy());

    recordResult('onTrainingJobStateChange', await recordTrainingJob(deps, s.job('training-job-completed.json')));
    expect(metricsOf(publish())).toEqual({ TrainingJobsRecorded: ['Count', 1] });

    const gated = await handleModelPackageChange(deps, s.version('model-package-pending.json'));
    expect(gated.outcome).toBe('review-opened');
    recordResult('onModelPackageStateChange', gated);
    expect(metricsOf(publish())).toEqual({ GateOutcomeReviewOpened: ['Count', 1], ReviewsOpened: ['Count', 1] });

    // The same event again: a duplicate, counted as such, and no review opened.
    recordResult('onModelPackageStateChange', await handleModelPackageChange(deps, s.version('model-package-pending.json')));
    expect(metricsOf(publish())).toEqual({ GateOutcomeDuplicate: ['Count', 1] });
  });

  it('refusals by kind: a ModelgateError by its name, a failed side effect with its effects, anything else as unexpected', () => {
    recordRefusal('getLineage', new ValidationError('getLineage request', ['(root): give modelPackageArn']));
    expect(metricsOf(publish())).toEqual({ RefusalValidationError: ['Count', 1] });

    const effects = [
      { id: 'notify:a', kind: 'notify', error: 'InternalErrorException: down' },
      { id: 'notify:b', kind: 'notify', error: 'InternalErrorException: down' },
    ];
    recordRefusal('onModelPackageStateChange', new SideEffectFailed('2 side effect(s) failed and stay pending: notify:a, notify:b', { effects }));
    expect(metricsOf(publish())).toEqual({ RefusalSideEffectFailed: ['Count', 1], SideEffectsFailed: ['Count', 2] });

    recordRefusal('getPolicy', Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }));
    expect(metricsOf(publish())).toEqual({ UnexpectedErrors: ['Count', 1] });
  });

  it('a sweep that failed on some items publishes its report too, with the refusal', () => {
    const report = {
      openReviews: 3,
      reminded: 1,
      expired: 0,
      expiringWithoutQuorum: [{ reviewId: 'r1', modelPackageArn: 'arn:aws:sagemaker:us-east-1:123456789012:model-package/g/1', expiresAt: '2026-11-28T12:00:00.000Z', approvals: 0, requiredApprovals: 2 }],
      resumedEffects: 2,
      pendingEffects: 1,
      oldestPendingEffect: { owner: 'arn:aws:sagemaker:us-east-1:123456789012:model-package/g/2', effect: 'notify:x', since: '2026-11-27T10:00:00.000Z', ageSeconds: 7200 },
      awaitingJob: 0,
      regated: 0,
      failures: [{ kind: 'side-effect' as const, owner: 'arn:aws:sagemaker:us-east-1:123456789012:model-package/g/2', effect: 'notify:x', effectKind: 'notify', error: 'InternalErrorException: down' }],
    };

    recordRefusal('sweepReviews', new IncompleteRun('sweep', report));

    expect(metricsOf(publish())).toEqual({
      RefusalIncompleteRun: ['Count', 1],
      ReviewRemindersSent: ['Count', 1],
      ReviewsExpired: ['Count', 0],
      ReviewsExpiringWithoutQuorum: ['Count', 1],
      VersionsRegated: ['Count', 0],
      SideEffectsResumed: ['Count', 2],
      SideEffectsPending: ['Count', 1],
      SideEffectOldestPendingAge: ['Seconds', 7200],
      SideEffectsFailed: ['Count', 1],
      SweepFailures: ['Count', 1],
    });
  });

  it('votes and decisions; a function with no recorder publishes nothing of its own', () => {
    recordVote('approve', 'Approved');
    expect(metricsOf(publish())).toEqual({ VotesApprove: ['Count', 1], DecisionsApproved: ['Count', 1] });
    recordResult('getPolicy', { policy: {} });
    expect(publish()).toEqual([]);
  });

  it('every name it can publish is in METRICS, with a unit the alarms and the README use', () => {
    for (const [name, spec] of Object.entries(METRICS)) {
      expect(name).toMatch(/^[A-Z][A-Za-z]+$/);
      expect(['Count', 'Seconds']).toContain(spec.unit);
    }
  });
});

describe('the handler factory (shared/handler.ts)', () => {
  const context = { functionName: 'modelgate-test-getPolicy', awsRequestId: 'req-1', invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:modelgate-test-getPolicy', memoryLimitInMB: '512', functionVersion: '$LATEST', getRemainingTimeInMillis: () => 1000 } as unknown as import('aws-lambda').Context;

  async function invoke(handler: (event: unknown, context: import('aws-lambda').Context) => Promise<unknown>, event: unknown): Promise<Emf[]> {
    const written: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    try {
      await handler(event, context).catch(() => undefined);
    } finally {
      spy.mockRestore();
    }
    return written.flatMap((w) => w.split('\n')).filter((line) => line.includes('"_aws"')).map((line) => JSON.parse(line) as Emf);
  }

  it('counts ColdStart once per process, with the dimensions service and stage only, then a refusal by kind', async () => {
    const { lambdaHandler } = await import('../../shared/handler.js');
    const handler = lambdaHandler('getPolicy', { subject: 'getPolicy request' }, async (event: unknown) => {
      if ((event as { fail?: boolean }).fail) throw new ValidationError('getPolicy request', ['modelPackageGroupName: required']);
      return { ok: true };
    });

    expect(metricsOf(await invoke(handler, {}))).toEqual({ ColdStart: ['Count', 1] });
    // Warm: no ColdStart, and an invocation that recorded nothing writes no EMF line at all.
    expect(await invoke(handler, {})).toEqual([]);
    expect(metricsOf(await invoke(handler, { fail: true }))).toEqual({ RefusalValidationError: ['Count', 1] });
  });
});
