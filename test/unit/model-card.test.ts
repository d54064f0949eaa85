import {
  MODEL_CARD_NAME,
  ModelCardSchema,
  NOT_STATED,
  SageMakerCardContentSchema,
  buildModelCard,
  escapeMarkdown,
  modelCardName,
  renderModelCardMarkdown,
  sageMakerCardStatus,
  toSageMakerContent,
} from '../../shared/domain/model-card.js';
import { ARN, GENERATED_AT, GROUP, JOB, LEAD, LOG_INDEXES, RISK, approvedLineage, undecidedLineage } from '../support/model-card-lineage.js';

describe('buildModelCard', () => {
  it('holds the facts, intended use, lineage, metrics at decision time, the decision and where its audit entries sit in the log', () => {
    const card = buildModelCard(approvedLineage(), { generatedAt: GENERATED_AT });

    expect(ModelCardSchema.safeParse(card).success).toBe(true);
    expect(card.model).toMatchObject({ group: GROUP, version: 1, arn: ARN, status: 'Approved', createdAt: '2026-11-27T09:44:02.000Z' });
    expect(card.intendedUse).toBe('card-not-present fraud scoring');
    expect(card.lineage.trainingJob?.name).toBe(JOB);
    expect(card.lineage.pipelineExecution).toContain('execution/7qk2m4x9z1pd');
    expect(card.evaluation?.results).toEqual([
      { source: 'trainingJob', metric: 'validation:auc', comparison: '>=', threshold: 0.85, actual: 0.912, passed: true },
      { source: 'evaluationReport', metric: 'binary_classification_metrics.auc', comparison: '>=', threshold: 0.85, actual: 0.905, passed: true },
    ]);
    expect(card.decision).toMatchObject({ outcome: 'Approved', approvers: [RISK, LEAD], policyVersion: 1 });
    // Votes in the order they were cast, with the comment.
    expect(card.reviews[0]?.votes).toEqual([
      { reviewer: RISK, decision: 'approve', comment: 'metrics and lineage check out', at: '2026-11-28T08:15:00.000Z' },
      { reviewer: LEAD, decision: 'approve', at: '2026-11-28T09:30:00.000Z' },
    ]);
    // Four entries about the version; the decision's is not sequenced yet, so it has no log index.
    expect(card.audit).toEqual({ versionEntries: 4, logIndexes: LOG_INDEXES });
  });

  it('renders stable Markdown (snapshot)', () => {
    const markdown = renderModelCardMarkdown(buildModelCard(approvedLineage(), { generatedAt: GENERATED_AT }));

    expect(markdown).toContain('| trainingJob:validation:auc | >= 0.85 | 0.912 | pass |');
    expect(markdown).toContain('metrics and lineage check out');
    expect(markdown).not.toMatch(/v1\.[\w-]+\.[\w-]+\.[\w-]+/); // no review-link token shape
    expect(markdown).toMatchSnapshot();
  });

  it('is the same card for the same lineage and generatedAt', () => {
    const a = buildModelCard(approvedLineage(), { generatedAt: GENERATED_AT });
    const b = buildModelCard(approvedLineage(), { generatedAt: GENERATED_AT });
    expect(renderModelCardMarkdown(a)).toBe(renderModelCardMarkdown(b));
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });

  it('a version with no decision and no intended use says so', () => {
    const card = buildModelCard(undecidedLineage(), { generatedAt: GENERATED_AT });
    const markdown = renderModelCardMarkdown(card);

    expect(ModelCardSchema.safeParse(card).success).toBe(true);
    expect(card.decision).toBeUndefined();
    expect(card.intendedUse).toBe(NOT_STATED);
    expect(markdown).toContain('## Intended use\n\nnot stated\n');
    expect(markdown).toContain('No decision has been recorded.');
    expect(markdown).toContain('No votes yet.');
    expect(sageMakerCardStatus(card)).toBe('PendingReview');
    expect(toSageMakerContent(card).intended_uses).toBeUndefined();
    expect(toSageMakerContent(card).additional_information.custom_details['modelgate_decision']).toBe('none recorded');
  });

  it('a version whose audit entries are not sequenced yet says so, in the card, the Markdown and the custom details', () => {
    const l = undecidedLineage();
    const unsequenced = { ...l, audit: { entries: l.audit.entries.map(({ logIndex: _i, ...e }) => e) } };
    const card = buildModelCard(unsequenced, { generatedAt: GENERATED_AT });

    expect(card.audit).toEqual({ versionEntries: 2, logIndexes: [] });
    expect(ModelCardSchema.safeParse(card).success).toBe(true);
    expect(renderModelCardMarkdown(card)).toContain('| Entries about this version | 2 |\n| Their log indexes | not sequenced yet |');
    expect(toSageMakerContent(card).additional_information.custom_details).toMatchObject({
      modelgate_audit_entries: '2',
      modelgate_audit_log_indexes: 'not sequenced yet',
    });
    // The undecided version's own entries: the gate's and the review's, both in the log.
    expect(buildModelCard(l, { generatedAt: GENERATED_AT }).audit).toEqual({ versionEntries: 2, logIndexes: [4, 5] });
  });

  it('a version with no job, no gate and no reviews still makes a valid card', () => {
    const { trainingJob: _t, gate: _g, decision: _d, image: _i, ...l } = undecidedLineage();
    const card = buildModelCard({ ...l, datasets: [], reviews: [] }, { generatedAt: GENERATED_AT });
    expect(ModelCardSchema.safeParse(card).success).toBe(true);
    expect(renderModelCardMarkdown(card)).toContain('The version has not been evaluated against a policy.');
    expect(sageMakerCardStatus(card)).toBe('Draft');
    expect(SageMakerCardContentSchema.safeParse(toSageMakerContent(card)).success).toBe(true);
  });
});

describe('ModelCardSchema', () => {
  const card = () => buildModelCard(approvedLineage(), { generatedAt: GENERATED_AT });

  it.each<[string, (c: Record<string, unknown>) => unknown]>([
    ['a missing model', ({ model: _m, ...c }) => c],
    ['an unknown field', (c) => ({ ...c, extra: 1 })],
    ['a version that is not a number', (c) => ({ ...c, model: { ...(c['model'] as object), version: '1' } })],
    ['an audit log index that is not a natural number', (c) => ({ ...c, audit: { ...(c['audit'] as object), logIndexes: [4, -1] } })],
    ['an audit section with the old chain head', (c) => ({ ...c, audit: { ...(c['audit'] as object), headHash: 'a'.repeat(64) } })],
    ['a generatedAt that is not a timestamp', (c) => ({ ...c, generatedAt: 'yesterday' })],
    ['an unknown decision outcome', (c) => ({ ...c, decision: { ...(c['decision'] as object), outcome: 'Maybe' } })],
  ])('refuses %s', (_what, breakIt) => {
    expect(ModelCardSchema.safeParse(breakIt(card() as unknown as Record<string, unknown>)).success).toBe(false);
  });
});

describe('Markdown escaping', () => {
  it('escapes pipes, backticks and newlines from the model package', () => {
    const l = approvedLineage();
    l.modelPackage.description = 'AUC | 0.91 `rm -rf`\n# injected heading\n| a | b |';
    l.modelPackage.customerMetadata = { intended_use: 'scoring <script>alert(1)</script> *now*' };
    const markdown = renderModelCardMarkdown(buildModelCard(l, { generatedAt: GENERATED_AT }));

    const row = markdown.split('\n').find((line) => line.startsWith('| Description |')) ?? '';
    expect(row).toBe('| Description | AUC \\| 0.91 \\`rm -rf\\`<br># injected heading<br>\\| a \\| b \\| |');
    // Exactly the two column separators and the two outer pipes are unescaped.
    expect(row.replace(/\\\|/g, '').split('|')).toHaveLength(4);
    expect(markdown).not.toMatch(/^# injected heading/m);
    expect(markdown).not.toContain('<script>');
    expect(markdown).toContain('scoring &lt;script>alert(1)&lt;/script> \\*now\\*');
  });

  it.each([
    ['a|b', 'a\\|b'],
    ['`x`', '\\`x\\`'],
    ['one\r\ntwo\nthree', 'one<br>two<br>three'],
    ['back\\slash', 'back\\\\slash'],
    ['[link](http://evil)', '\\[link\\](http://evil)'],
  ])('escapeMarkdown(%j) = %j', (input, expected) => {
    expect(escapeMarkdown(input)).toBe(expected);
  });
});

describe('SageMaker model card content', () => {
  it('uses the model card JSON schema and carries the governance record in custom_details', () => {
    const content = toSageMakerContent(buildModelCard(approvedLineage(), { generatedAt: GENERATED_AT }));

    expect(SageMakerCardContentSchema.safeParse(content).success).toBe(true);
    expect(content.model_overview).toEqual({
      model_description: 'XGBoost fraud model, Nov-01 transactions snapshot',
      model_version: 1,
      model_artifact: [`s3://acme-ml-artifacts-123456789012/fraud-detector/training/${JOB}/output/model.tar.gz`],
      inference_environment: {
        container_image: [
          '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1@sha256:8c1a2f5e0b7d4c3a9e6f1d2b5a8c7e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d',
        ],
      },
    });
    expect(content.intended_uses).toEqual({ intended_uses: 'card-not-present fraud scoring' });
    expect(content.training_details?.training_job_details.training_metrics).toEqual([
      { name: 'train:auc', value: 0.942 },
      { name: 'validation:auc', value: 0.912 },
    ]);
    expect(content.evaluation_details?.[0]?.metric_groups[0]?.metric_data).toEqual([
      { name: 'trainingJob:validation:auc', type: 'number', value: 0.912, notes: '>= 0.85: pass' },
      { name: 'evaluationReport:binary_classification_metrics.auc', type: 'number', value: 0.905, notes: '>= 0.85: pass' },
    ]);
    expect(content.additional_information.custom_details).toMatchObject({
      modelgate_policy_version: '1',
      modelgate_approvers: `${RISK}, ${LEAD}`,
      modelgate_review_comments: `${RISK} (approve): metrics and lineage check out`,
      modelgate_audit_entries: '4',
      modelgate_audit_log_indexes: '4, 5, 9',
    });
    expect(sageMakerCardStatus(buildModelCard(approvedLineage(), { generatedAt: GENERATED_AT }))).toBe('Approved');
  });

  it('a rejected version is a Draft card', () => {
    const l = approvedLineage();
    l.decision = { id: 'dec-2', outcome: 'Rejected', at: '2026-11-28T09:30:00.000Z', approvers: [], rejectedBy: RISK, policyVersion: 1 };
    expect(sageMakerCardStatus(buildModelCard(l, { generatedAt: GENERATED_AT }))).toBe('Draft');
  });

  it('names the card <group>-v<version>, within SageMaker’s pattern however long the group', () => {
    expect(modelCardName('Fraud-Detector', 12)).toBe('fraud-detector-v12');
    const long = `a${'-b'.repeat(31)}`; // 63 characters
    const other = `a${'-b'.repeat(30)}c`;
    for (const g of [long, other, 'x'.repeat(63)]) {
      const name = modelCardName(g, 123456);
      expect(name).toMatch(MODEL_CARD_NAME);
      expect(name.endsWith('-v123456')).toBe(true);
    }
    expect(modelCardName(long, 1)).not.toBe(modelCardName(other, 1));
  });
});
