import { mockClient } from 'aws-sdk-client-mock';
import {
  CreateModelCardCommand,
  DescribeModelCardCommand,
  DescribeTrainingJobCommand,
  ResourceNotFound,
  SageMakerClient,
  UpdateModelCardCommand,
} from '@aws-sdk/client-sagemaker';
import { SNSClient } from '@aws-sdk/client-sns';
import { S3Client } from '@aws-sdk/client-s3';
import { NotFound, ValidationError } from '../../shared/domain/errors.js';
import { ModelCardSchema } from '../../shared/domain/model-card.js';
import type { Deps } from '../../shared/ports.js';
import { handleModelPackageChange } from '../../shared/usecases/gate.js';
import { exportModelCard } from '../../shared/usecases/model-card.js';
import { putPolicy } from '../../shared/usecases/policies.js';
import { submitVote } from '../../shared/usecases/review.js';
import { recordTrainingJob } from '../../shared/usecases/training.js';
import { sequenceAll, subjectEntries } from '../support/audit-log.js';
import { newTable, type TestTable } from '../support/dynamo.js';
import { openSampleReview, resetMocks, story, testDeps } from '../support/story.js';

const sm = mockClient(SageMakerClient);
const sns = mockClient(SNSClient);
const s3 = mockClient(S3Client);
const RISK = 'risk-officer@acme-bank.example';
const LEAD = 'ml-lead@acme-bank.example';

let table: TestTable;
const clock = { now: Date.parse('2026-11-27T12:00:00Z') };
let deps: Deps;

beforeAll(async () => {
  table = await newTable('modelcard');
  // Real adapters (sageMakerModelCards among them) over mocked SDK clients.
  deps = testDeps(table.client, table.tableName, clock);
});
afterAll(() => table.drop());
beforeEach(() => {
  clock.now = Date.parse('2026-11-27T12:00:00Z');
  resetMocks(sm, sns, s3);
});

/** A group whose version 1 passed its gate and was approved by its reviewers, through the use cases. */
async function approvedVersion(prefix: string, policy: Record<string, unknown> = {}) {
  const { s, tokens } = await openSampleReview(deps, { sm, sns }, prefix, policy);
  clock.now += 3_600_000;
  expect((await submitVote(deps, tokens[RISK] ?? '', { decision: 'approve', comment: 'metrics and lineage | check out' })).status).toBe(200);
  if ((policy['requiredApprovals'] ?? 2) === 2) {
    clock.now += 3_600_000;
    expect((await submitVote(deps, tokens[LEAD] ?? '', { decision: 'approve' })).status).toBe(200);
  }
  sm.resetHistory();
  sns.resetHistory();
  return s;
}

const cardCommands = () => [
  ...sm.commandCalls(DescribeModelCardCommand),
  ...sm.commandCalls(CreateModelCardCommand),
  ...sm.commandCalls(UpdateModelCardCommand),
];

describe('exportModelCard', () => {
  it('shows the decision with both approvers and the comment, the metrics at decision time, the policy version and the log indexes of its audit entries', async () => {
    const s = await approvedVersion('card');
    await sequenceAll(table);
    clock.now = Date.parse('2026-12-01T08:00:00Z');

    const out = await exportModelCard(deps, { modelPackageArn: s.arn(1) });

    const card = ModelCardSchema.parse(out.card);
    expect(card.generatedAt).toBe('2026-12-01T08:00:00.000Z');
    expect(card.model).toMatchObject({ group: s.group, version: 1, arn: s.arn(1), status: 'PendingManualApproval' });
    expect(card.intendedUse).toBe('card-not-present fraud scoring');
    expect(card.decision).toMatchObject({ outcome: 'Approved', approvers: [RISK, LEAD], policyVersion: 1 });
    expect(card.reviews[0]?.votes.map((v) => [v.reviewer, v.decision, v.comment])).toEqual([
      [RISK, 'approve', 'metrics and lineage | check out'],
      [LEAD, 'approve', undefined],
    ]);
    expect(card.evaluation?.policyVersion).toBe(1);
    expect(card.evaluation?.results.map((r) => [`${r.source}:${r.metric}`, r.comparison, r.threshold, r.actual, r.passed])).toEqual([
      ['trainingJob:validation:auc', '>=', 0.85, 0.912, true],
      ['evaluationReport:binary_classification_metrics.auc', '>=', 0.85, expect.any(Number), true],
      ['customerMetadata:fairness_review', '==', 1, 1, true],
    ]);
    // The version's own entries (by subject), each with its place in the Merkle log.
    const entries = await subjectEntries(deps, s.arn(1));
    expect(entries.map((e) => e.action)).toEqual(expect.arrayContaining(['version.gate-passed', 'review.opened', 'review.vote', 'review.decided']));
    const logIndexes = entries.map((e) => e.logIndex);
    expect(logIndexes.every((i) => typeof i === 'number')).toBe(true);
    expect(card.audit).toEqual({ versionEntries: entries.length, logIndexes });

    expect(out.markdown).toContain(`## Metrics against policy version 1`);
    expect(out.markdown).toContain('| trainingJob:validation:auc | >= 0.85 | 0.912 | pass |');
    expect(out.markdown).toContain(`| ${RISK} | approve | metrics and lineage \\| check out |`);
    expect(out.markdown).toContain(`- Approvers: ${RISK}, ${LEAD}`);
    expect(out.markdown).toContain(`| Entries about this version | ${entries.length} |\n| Their log indexes | ${logIndexes.join(', ')} |`);
    // By default nothing goes to SageMaker.
    expect(out.pushed).toBeUndefined();
    expect(cardCommands()).toHaveLength(0);
  });

  it('with one approval required, the card names the one approver', async () => {
    const s = await approvedVersion('single', { requiredApprovals: 1 });
    const { card } = await exportModelCard(deps, { modelPackageGroupName: s.group, version: 1, format: 'json' });
    expect(card?.decision?.approvers).toEqual([RISK]);
  });

  it('pushes to SageMaker: creates the card when DescribeModelCard finds none, updates it the next time', async () => {
    const s = await approvedVersion('push');
    sm.on(DescribeModelCardCommand).rejectsOnce(new ResourceNotFound({ message: 'Model card push-detector-v1 does not exist.', $metadata: {} }));
    sm.on(CreateModelCardCommand).resolves({ ModelCardArn: 'arn:aws:sagemaker:us-east-1:123456789012:model-card/push-detector-v1' });
    sm.on(UpdateModelCardCommand).resolves({ ModelCardArn: 'arn:aws:sagemaker:us-east-1:123456789012:model-card/push-detector-v1' });

    const first = await exportModelCard(deps, { modelPackageArn: s.arn(1), pushToSageMaker: true });

    expect(first.pushed).toEqual({ name: 'push-detector-v1', status: 'Approved', outcome: 'created' });
    expect(sm.commandCalls(DescribeModelCardCommand).map((c) => c.args[0].input)).toEqual([{ ModelCardName: 'push-detector-v1' }]);
    const created = sm.commandCalls(CreateModelCardCommand).map((c) => c.args[0].input);
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({ ModelCardName: 'push-detector-v1', ModelCardStatus: 'Approved' });
    const content = JSON.parse(created[0]?.Content ?? '') as Record<string, Record<string, unknown>>;
    expect(content['model_overview']).toMatchObject({ model_version: 1, model_description: 'XGBoost fraud model, Nov-01 transactions snapshot' });
    expect(content['intended_uses']).toEqual({ intended_uses: 'card-not-present fraud scoring' });
    expect(content['training_details']?.['training_job_details']).toMatchObject({
      training_arn: expect.stringContaining(':training-job/push-xgb-'),
      training_metrics: [{ name: 'validation:auc', value: 0.912 }],
    });
    expect(content['additional_information']?.['custom_details']).toMatchObject({
      modelgate_policy_version: '1',
      modelgate_approvers: `${RISK}, ${LEAD}`,
      modelgate_audit_entries: String((await subjectEntries(deps, s.arn(1))).length),
      // Nothing sequenced this version's entries yet (the sequencer runs after the commit).
      modelgate_audit_log_indexes: 'not sequenced yet',
    });
    expect(sm.commandCalls(UpdateModelCardCommand)).toHaveLength(0);

    sm.resetHistory();
    sm.on(DescribeModelCardCommand).resolves({ ModelCardName: 'push-detector-v1', ModelCardStatus: 'Approved' } as never);

    const second = await exportModelCard(deps, { modelPackageArn: s.arn(1), pushToSageMaker: true, format: 'markdown' });

    expect(second.pushed).toEqual({ name: 'push-detector-v1', status: 'Approved', outcome: 'updated' });
    expect(second.card).toBeUndefined();
    expect(second.markdown).toContain('# Model card: push-detector version 1');
    expect(sm.commandCalls(CreateModelCardCommand)).toHaveLength(0);
    // UpdateModelCard cannot change content and status in one call: the content, then the status.
    const updated = sm.commandCalls(UpdateModelCardCommand).map((c) => c.args[0].input);
    expect(updated).toEqual([
      { ModelCardName: 'push-detector-v1', Content: created[0]?.Content },
      { ModelCardName: 'push-detector-v1', ModelCardStatus: 'Approved' },
    ]);
    expect(JSON.parse(updated[0]?.Content ?? '')).toMatchObject({ model_overview: { model_version: 1 } });
  });

  it('an update sends only what changed, each as its own call, so a repeat of either is harmless', async () => {
    const s = await approvedVersion('twocalls');
    sm.on(DescribeModelCardCommand).rejectsOnce(new ResourceNotFound({ message: 'Model card twocalls-detector-v1 does not exist.', $metadata: {} }));
    sm.on(CreateModelCardCommand).resolves({ ModelCardArn: 'arn:aws:sagemaker:us-east-1:123456789012:model-card/twocalls-detector-v1' });
    await exportModelCard(deps, { modelPackageArn: s.arn(1), pushToSageMaker: true, format: 'json' });
    const content = sm.commandCalls(CreateModelCardCommand)[0]?.args[0].input.Content ?? '';
    const name = 'twocalls-detector-v1';

    // The content went through and the status call failed (a throttle that outlasted the SDK's
    // retries): the invocation fails, and its repeat sends only the status.
    sm.reset();
    sm.on(DescribeModelCardCommand).resolves({ ModelCardName: name, Content: 'older content', ModelCardStatus: 'PendingReview' } as never);
    sm.on(UpdateModelCardCommand, { ModelCardName: name, Content: content }).resolves({});
    sm.on(UpdateModelCardCommand, { ModelCardName: name, ModelCardStatus: 'Approved' }).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await expect(exportModelCard(deps, { modelPackageArn: s.arn(1), pushToSageMaker: true })).rejects.toThrow(/SageMaker model card twocalls-detector-v1: ThrottlingException/);
    expect(sm.commandCalls(UpdateModelCardCommand).map((c) => c.args[0].input)).toEqual([
      { ModelCardName: name, Content: content },
      { ModelCardName: name, ModelCardStatus: 'Approved' },
    ]);

    sm.reset();
    sm.on(DescribeModelCardCommand).resolves({ ModelCardName: name, Content: content, ModelCardStatus: 'PendingReview' } as never);
    sm.on(UpdateModelCardCommand).resolves({});
    const repeat = await exportModelCard(deps, { modelPackageArn: s.arn(1), pushToSageMaker: true });
    expect(repeat.pushed).toEqual({ name, status: 'Approved', outcome: 'updated' });
    expect(sm.commandCalls(UpdateModelCardCommand).map((c) => c.args[0].input)).toEqual([{ ModelCardName: name, ModelCardStatus: 'Approved' }]);

    // Nothing changed since: nothing is sent but the DescribeModelCard.
    sm.reset();
    sm.on(DescribeModelCardCommand).resolves({ ModelCardName: name, Content: content, ModelCardStatus: 'Approved' } as never);
    await exportModelCard(deps, { modelPackageArn: s.arn(1), pushToSageMaker: true });
    expect(sm.commandCalls(UpdateModelCardCommand)).toHaveLength(0);
    expect(sm.commandCalls(DescribeModelCardCommand)).toHaveLength(1);
  });

  it('a card created by another invocation in between (ConflictException) is updated with two calls', async () => {
    const s = await approvedVersion('conflict');
    const name = 'conflict-detector-v1';
    sm.on(DescribeModelCardCommand).rejects(new ResourceNotFound({ message: `Model card ${name} does not exist.`, $metadata: {} }));
    sm.on(CreateModelCardCommand).rejects(Object.assign(new Error('exists'), { name: 'ConflictException' }));
    sm.on(UpdateModelCardCommand).resolves({});

    const out = await exportModelCard(deps, { modelPackageArn: s.arn(1), pushToSageMaker: true });

    expect(out.pushed?.outcome).toBe('updated');
    const content = sm.commandCalls(CreateModelCardCommand)[0]?.args[0].input.Content;
    expect(sm.commandCalls(UpdateModelCardCommand).map((c) => c.args[0].input)).toEqual([
      { ModelCardName: name, Content: content },
      { ModelCardName: name, ModelCardStatus: 'Approved' },
    ]);
  });

  it('a version with 100 long hyperparameters and an empty one is pushed within SageMaker\'s limits, saying what was shortened', async () => {
    const s = story('longhp');
    const event = s.raw('training-job-completed.json') as { detail: Record<string, unknown> };
    const hyperparameters = { ...Object.fromEntries(Array.from({ length: 99 }, (_, i) => [`hp_${String(i).padStart(2, '0')}`, `${'x'.repeat(1200)}😀`])), empty: '' };
    sm.on(DescribeTrainingJobCommand).resolves({ ...s.describe('training-job-completed.json', { 'validation:auc': 0.912 }), HyperParameters: hyperparameters } as never);
    await putPolicy(deps, s.policy({ rules: [{ metric: 'validation:auc', source: 'trainingJob', comparison: '>=', threshold: 0.85 }] }));
    await recordTrainingJob(deps, { ...s.job('training-job-completed.json'), HyperParameters: { ...(event.detail['HyperParameters'] as object), ...hyperparameters } });
    await handleModelPackageChange(deps, s.version('model-package-pending.json'));
    sm.on(DescribeModelCardCommand).rejects(new ResourceNotFound({ message: 'not found', $metadata: {} }));
    sm.on(CreateModelCardCommand).resolves({});

    await exportModelCard(deps, { modelPackageArn: s.arn(1), pushToSageMaker: true });

    const sentContent = sm.commandCalls(CreateModelCardCommand)[0]?.args[0].input.Content ?? '';
    expect(sentContent.length).toBeLessThanOrEqual(100_000);
    expect(sentContent).not.toMatch(/[\uD800-\uDFFF]/u);
    const parsed = JSON.parse(sentContent) as { training_details: { training_job_details: { hyper_parameters: Array<{ name: string; value: string }> } }; additional_information: { custom_details: Record<string, string> } };
    const hps = parsed.training_details.training_job_details.hyper_parameters;
    expect(hps.find((h) => h.name === 'empty')).toBeUndefined();
    expect(hps.every((h) => h.value.length >= 1 && h.value.length <= 255)).toBe(true);
    expect(parsed.additional_information.custom_details['modelgate_shortened']).toMatch(/cut to 255 characters: .*hp_00.*left out \(empty name or value, which the model card schema does not allow\): empty/);
  });

  it('a version still under review is pushed as PendingReview', async () => {
    const s = story('pending');
    sm.on(DescribeTrainingJobCommand).resolves(s.describe('training-job-completed.json', { 'validation:auc': 0.912 }) as never);
    await putPolicy(deps, s.policy());
    await recordTrainingJob(deps, s.job('training-job-completed.json'));
    await handleModelPackageChange(deps, s.version('model-package-pending.json'));
    sm.resetHistory();
    sm.on(DescribeModelCardCommand).rejects(new ResourceNotFound({ message: 'not found', $metadata: {} }));
    sm.on(CreateModelCardCommand).resolves({ ModelCardArn: 'arn:aws:sagemaker:us-east-1:123456789012:model-card/pending-detector-v1' });

    const out = await exportModelCard(deps, { modelPackageArn: s.arn(1), pushToSageMaker: true });

    expect(out.pushed).toEqual({ name: 'pending-detector-v1', status: 'PendingReview', outcome: 'created' });
    expect(out.markdown).toContain('No decision has been recorded.');
  });

  it('refuses a bad payload with a ValidationError naming each problem, and sends nothing', async () => {
    const error = (await exportModelCard(deps, {
      modelPackageArn: 'arn:aws:s3:::bucket',
      pushToSageMaker: 'yes',
      format: 'pdf',
      extra: 1,
    }).catch((e: unknown) => e)) as ValidationError;

    expect(error).toBeInstanceOf(ValidationError);
    const problems = error.problems.join('\n');
    expect(problems).toContain('modelPackageArn:');
    expect(problems).toContain('pushToSageMaker:');
    expect(problems).toContain('format:');
    expect(problems).toContain('extra');
    await expect(exportModelCard(deps, { modelPackageGroupName: 'fraud-detector', version: 0 })).rejects.toBeInstanceOf(ValidationError);
    await expect(exportModelCard(deps, 'fraud-detector')).rejects.toBeInstanceOf(ValidationError);
    expect(cardCommands()).toHaveLength(0);
  });

  it('an unknown version is NotFound, and nothing is sent', async () => {
    await expect(
      exportModelCard(deps, { modelPackageGroupName: 'nothing-here', version: 1, pushToSageMaker: true }),
    ).rejects.toBeInstanceOf(NotFound);
    expect(cardCommands()).toHaveLength(0);
  });
});
