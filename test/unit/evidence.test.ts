import { compareWithProduction, evidenceOf, gateVerdict, metricDifference, type Evidence } from '../../shared/domain/evidence.js';
import type { TrainingJob } from '../../shared/domain/lineage.js';
import type { ModelVersion } from '../../shared/domain/version.js';
import { renderConfirmation, renderReviewPage } from '../support/pages.js';
import type { ReviewPageModel } from '../../shared/web/views.js';

const ARN = (v: number) => `arn:aws:sagemaker:us-east-1:123456789012:model-package/fraud-detector/${v}`;
const TRAIN = 's3://acme-ml-datasets-123456789012/fraud/transactions/2026-11-01/train/';
const VALIDATION = 's3://acme-ml-datasets-123456789012/fraud/transactions/2026-11-01/validation/';
const TRAIN_DEC = 's3://acme-ml-datasets-123456789012/fraud/transactions/2026-12-01/train/';
const IMAGE = '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1';

function version(v: number, overrides: Partial<ModelVersion> = {}): ModelVersion {
  return {
    arn: ARN(v),
    group: 'fraud-detector',
    version: v,
    status: 'PendingManualApproval',
    lastModified: 0,
    createdAt: 0,
    customerMetadata: {},
    pendingEffects: {},
    image: IMAGE,
    imageDigest: 'sha256:aaaa',
    gate: {
      passed: true,
      policyVersion: 1,
      evaluatedAt: '2026-11-28T01:02:47.649Z',
      results: [
        { rule: { metric: 'validation:auc', source: 'trainingJob', comparison: '>=', threshold: 0.85 }, actual: 0.912, passed: true },
        { rule: { metric: 'binary_classification_metrics.auc', source: 'evaluationReport', comparison: '>=', threshold: 0.85 }, actual: 0.905, passed: true },
      ],
    },
    ...overrides,
  };
}

function job(overrides: Partial<TrainingJob> = {}): TrainingJob {
  return {
    name: 'fraud-xgb-1',
    arn: 'arn:aws:sagemaker:us-east-1:123456789012:training-job/fraud-xgb-1',
    status: 'Completed',
    lastModified: 0,
    image: IMAGE,
    hyperparameters: { eta: '0.2', max_depth: '6', num_round: '200', objective: 'binary:logistic' },
    datasets: [
      { channel: 'train', uri: TRAIN },
      { channel: 'validation', uri: VALIDATION },
    ],
    metrics: { 'train:auc': 0.942, 'validation:auc': 0.912, 'validation:logloss': 0.21 },
    tags: {},
    ...overrides,
  };
}

const production = (): Evidence =>
  evidenceOf(version(1, { status: 'Approved', decision: { id: 'd1', outcome: 'Approved', at: '2026-11-28T02:00:00.000Z', approvers: ['a@x.example'], policyVersion: 1 } }), job());

const underReview = (): Evidence =>
  evidenceOf(
    version(2, {
      imageDigest: 'sha256:bbbb',
      gate: {
        passed: true,
        policyVersion: 2,
        evaluatedAt: '2026-12-02T00:00:00.000Z',
        results: [
          { rule: { metric: 'validation:auc', source: 'trainingJob', comparison: '>=', threshold: 0.85 }, actual: 0.894, passed: true },
          { rule: { metric: 'fairness_review', source: 'customerMetadata', comparison: '==', threshold: 1 }, actual: 1, passed: true },
        ],
      },
    }),
    job({
      name: 'fraud-xgb-2',
      hyperparameters: { eta: '0.1', max_depth: '6', num_round: '200', subsample: '0.8' },
      datasets: [
        { channel: 'train', uri: TRAIN_DEC },
        { channel: 'holdout', uri: VALIDATION },
      ],
      metrics: { 'train:auc': 0.924, 'validation:auc': 0.894, 'validation:logloss': 0.21, 'validation:error': 0.05 },
    }),
  );

describe('compareWithProduction', () => {
  it('says there is no approved version yet when there is none', () => {
    expect(compareWithProduction(underReview(), undefined)).toEqual({ kind: 'no-approved-version' });
  });

  it('compares every metric with both values and the difference, the datasets, hyperparameters and images', () => {
    expect(compareWithProduction(underReview(), production())).toEqual({
      kind: 'compared',
      production: { version: 1, arn: ARN(1), approvedAt: '2026-11-28T02:00:00.000Z' },
      metrics: [
        { source: 'training job', name: 'train:auc', current: 0.924, production: 0.942, difference: -0.018 },
        { source: 'training job', name: 'validation:auc', current: 0.894, production: 0.912, difference: -0.018 },
        { source: 'training job', name: 'validation:error', current: 0.05, production: null, difference: null },
        { source: 'training job', name: 'validation:logloss', current: 0.21, production: 0.21, difference: 0 },
        { source: 'metric gate', name: 'trainingJob:validation:auc', current: 0.894, production: 0.912, difference: -0.018 },
        { source: 'metric gate', name: 'customerMetadata:fairness_review', current: 1, production: null, difference: null },
        { source: 'metric gate', name: 'evaluationReport:binary_classification_metrics.auc', current: null, production: 0.905, difference: null },
      ],
      // By URI: the validation data under a new channel name is the same dataset.
      datasets: { added: [{ channel: 'train', uri: TRAIN_DEC }], removed: [{ channel: 'train', uri: TRAIN }] },
      hyperparameters: [
        { name: 'eta', change: 'changed', production: '0.2', current: '0.1' },
        { name: 'objective', change: 'removed', production: 'binary:logistic' },
        { name: 'subsample', change: 'added', current: '0.8' },
      ],
      images: [{ what: 'image digest', production: 'sha256:aaaa', current: 'sha256:bbbb' }],
    });
  });

  it('reports nothing changed for the same evidence, with every metric at difference 0', () => {
    const same = compareWithProduction(production(), production());
    expect(same).toMatchObject({ kind: 'compared', datasets: { added: [], removed: [] }, hyperparameters: [], images: [] });
    expect(same.kind === 'compared' && same.metrics.map((m) => m.difference)).toEqual([0, 0, 0, 0, 0]);
  });

  it('names an image that appears or disappears, and a training image that changed', () => {
    const now = { ...production(), trainingImage: 'img:2' };
    delete now.imageDigest;
    const c = compareWithProduction(now, production());
    expect(c.kind === 'compared' && c.images).toEqual([
      { what: 'training image', production: IMAGE, current: 'img:2' },
      { what: 'image digest', production: 'sha256:aaaa' },
    ]);
  });

  it('treats map keys as data (a hyperparameter or metric called __proto__ or constructor)', () => {
    const before = { ...production(), hyperparameters: JSON.parse('{"__proto__":"1","constructor":"a"}') as Record<string, string>, trainingMetrics: {} };
    const after = { ...production(), hyperparameters: JSON.parse('{"__proto__":"2","toString":"b"}') as Record<string, string>, trainingMetrics: {} };
    const c = compareWithProduction(after, before);
    expect(c.kind === 'compared' && c.hyperparameters).toEqual([
      { name: '__proto__', change: 'changed', production: '1', current: '2' },
      { name: 'constructor', change: 'removed', production: 'a' },
      { name: 'toString', change: 'added', current: 'b' },
    ]);
  });

  it('works without a training job on either side', () => {
    const c = compareWithProduction(evidenceOf(version(2), undefined), evidenceOf(version(1), undefined));
    expect(c).toMatchObject({ kind: 'compared', datasets: { added: [], removed: [] }, hyperparameters: [], images: [] });
    expect(c.kind === 'compared' && c.metrics.map((m) => [m.name, m.difference])).toEqual([
      ['trainingJob:validation:auc', 0],
      ['evaluationReport:binary_classification_metrics.auc', 0],
    ]);
  });
});

describe('metricDifference', () => {
  it.each([
    [0.894, 0.912, -0.018],
    [0.3, 0.1, 0.2],
    [1, 1, 0],
    [0.21, 0.2, 0.01],
    [1e-9, 0, 1e-9],
    [1234.5, 1000, 234.5],
  ])('%d − %d = %d', (a, b, d) => {
    expect(metricDifference(a, b)).toBe(d);
  });
});

describe('gateVerdict', () => {
  it.each<[boolean[], string]>([
    [[true, true], '2 of 2 metric rules pass'],
    [[true], '1 metric rule passes'],
    [[false], 'The 1 metric rule fails'],
    [[true, false, true], '2 of 3 metric rules pass'],
    [[], 'The policy has no metric rules'],
  ])('%j: %s', (passed, text) => {
    expect(gateVerdict(passed.map((p) => ({ passed: p })))).toBe(text);
  });
});

// ---------------------------------------------------------------------------------------------
// The page
// ---------------------------------------------------------------------------------------------

const textOf = (page: string): string =>
  page
    .replace(/<style>[\s\S]*?<\/style>/, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/\s+/g, ' ');

function model(overrides: Partial<ReviewPageModel> = {}): ReviewPageModel {
  return {
    group: 'fraud-detector',
    version: 2,
    modelPackageArn: ARN(2),
    approvalStatus: 'PendingManualApproval',
    metrics: [
      { name: 'trainingJob:validation:auc', comparison: '>=', threshold: 0.85, actual: 0.894, passed: true },
      { name: 'customerMetadata:fairness_review', comparison: '==', threshold: 1, actual: 1, passed: true },
    ],
    lineage: { datasets: [] },
    customerMetadata: {},
    policyVersion: 2,
    requiredApprovals: 2,
    votes: [],
    reviewer: 'risk-officer@acme-bank.example',
    expiresAt: '2026-12-05T00:00:00Z',
    canApprove: true,
    ...overrides,
  };
}

/** The rows of the table with this test id, as text, without the header row. */
function rowsOf(page: string, testid: string): string[] {
  const start = page.indexOf(`data-testid="${testid}"`);
  if (start === -1) throw new Error(`no ${testid}`);
  const table = page.slice(start, page.indexOf('</table>', start));
  return table.split('<tr>').slice(2).map((r) => textOf(r).trim());
}

describe('the review page: against the version in production', () => {
  it('shows each difference in its own table, inside a box that scrolls', () => {
    const page = renderReviewPage(model({ production: compareWithProduction(underReview(), production()) }));
    const text = textOf(page);
    expect(text).toContain("Compared with version 1, the group's newest Approved version (approved at 2026-11-28 02:00 UTC ): " + ARN(1));
    expect(rowsOf(page, 'production-metrics')).toEqual([
      'train:auc training job 0.924 0.942 -0.018',
      'validation:auc training job 0.894 0.912 -0.018',
      'validation:error training job 0.05 none n/a',
      'validation:logloss training job 0.21 0.21 0',
      'trainingJob:validation:auc metric gate 0.894 0.912 -0.018',
      'customerMetadata:fairness_review metric gate 1 none n/a',
      'evaluationReport:binary_classification_metrics.auc metric gate none 0.905 n/a',
    ]);
    expect(rowsOf(page, 'production-datasets')).toEqual([`added train ${TRAIN_DEC}`, `removed train ${TRAIN}`]);
    expect(rowsOf(page, 'production-hyperparameters')).toEqual(['eta changed 0.2 0.1', 'objective removed binary:logistic none', 'subsample added none 0.8']);
    expect(rowsOf(page, 'production-images')).toEqual(['image digest sha256:aaaa sha256:bbbb']);
    for (const id of ['production-metrics', 'production-datasets', 'production-hyperparameters', 'production-images']) {
      expect(page).toContain(`<div class="scroll"><table class="cmp" data-testid="${id}">`);
    }
    expect(page).toContain('.scroll { overflow-x: auto; }');
  });

  it('says so when nothing but metrics changed', () => {
    const text = textOf(renderReviewPage(model({ production: compareWithProduction(production(), production()) })));
    expect(text).toContain('The same data sets (by URI).');
    expect(text).toContain('The same hyperparameters.');
    expect(text).toContain('The same training image, model image and image digest.');
  });

  it('says "No approved version yet" for a group with none', () => {
    const text = textOf(renderReviewPage(model({ production: { kind: 'no-approved-version' } })));
    expect(text).toContain('Against the version in production No approved version yet: this group has no Approved version to compare with.');
  });

  it('escapes every string of the comparison', () => {
    const x = '<script>alert(1)</script>';
    const page = renderReviewPage(
      model({
        production: {
          kind: 'compared',
          production: { version: 1, arn: x, approvedAt: x },
          metrics: [{ source: 'training job', name: x, current: 1, production: 2, difference: -1 }],
          datasets: { added: [{ channel: x, uri: x }], removed: [] },
          hyperparameters: [{ name: x, change: 'changed', production: x, current: x }],
          images: [{ what: 'model image', production: x, current: x }],
        },
      }),
    );
    expect(page).not.toContain('<script');
    expect(page.split('&lt;script&gt;alert(1)&lt;/script&gt;').length - 1).toBe(10);
  });
});

describe('the review page: the decision near the top, with the verdict', () => {
  it('puts the form right after the heading, with the gate verdict in plain words', () => {
    const page = renderReviewPage(model({ production: { kind: 'no-approved-version' } }));
    expect(page.indexOf('data-testid="decision-form"')).toBeLessThan(page.indexOf('id="h-summary"'));
    expect(page.indexOf('data-testid="decision-form"')).toBeLessThan(page.indexOf('data-testid="metrics"'));
    expect(textOf(page)).toContain('Your decision Metric gate: 2 of 2 metric rules pass.');
    const one = textOf(renderReviewPage(model({ metrics: [{ name: 'a', comparison: '>=', threshold: 1, actual: 2, passed: true }] })));
    expect(one).toContain('Metric gate: 1 metric rule passes.');
  });
});

describe('the review page: who registered and trained it', () => {
  it('shows the mapped person, with the raw principal in small text', () => {
    const principal = 'arn:aws:sts::123456789012:assumed-role/DataScientist/alice';
    const page = renderReviewPage(
      model({
        registrant: { kind: 'mapped', person: 'alice@acme-bank.example', principal },
        trainer: { kind: 'unknown', reason: 'the training job carries no Studio user tag (sagemaker:user-profile-arn)' },
        selfApprovalCheck: 'identity-map',
      }),
    );
    expect(page).toContain(`<strong>alice@acme-bank.example</strong><br><small class="muted"><code>${principal}</code></small>`);
    expect(textOf(page)).toContain(`Registered by alice@acme-bank.example ${principal} Trained by unknown — the training job carries no Studio user tag (sagemaker:user-profile-arn)`);
    expect(page).not.toContain('self-approval-heuristic');
  });

  it('shows an unmapped principal with why, and says the check is a heuristic when there is no map', () => {
    const principal = 'arn:aws:sts::123456789012:assumed-role/SageMakerPipelineRole/fraud-detector-train';
    const page = renderReviewPage(
      model({ registrant: { kind: 'unmapped', principal, reason: "the group's policy has no identity map" }, selfApprovalCheck: 'name-heuristic' }),
    );
    const text = textOf(page);
    expect(text).toContain(`Registered by ${principal} the group's policy has no identity map`);
    expect(text).toContain("This group's policy maps no identities, so the self-approval check is a heuristic on names");
  });

  it('escapes the person, the principal and the reason', () => {
    const x = '<img src=x onerror=alert(1)>';
    const page = renderReviewPage(
      model({ registrant: { kind: 'mapped', person: x, principal: x, alsoMatches: [x] }, trainer: { kind: 'unknown', reason: x } }),
    );
    expect(page).not.toContain('<img');
    expect(page.split('&lt;img src=x onerror=alert(1)&gt;').length - 1).toBe(4);
  });
});

describe('the confirmation page repeats the decision, the comment and the time', () => {
  const base = { group: 'fraud-detector', version: 2, decision: 'reject' as const, outcome: 'rejected' as const, approvals: 0, requiredApprovals: 2, decisionId: 'd-7' };

  it('with a comment', () => {
    const text = textOf(renderConfirmation({ ...base, comment: 'Recall dropped by 0.018 against v1.', at: '2026-12-02T10:15:00.000Z' }));
    expect(text).toContain('Decision Reject Comment Recall dropped by 0.018 against v1. Time 2026-12-02 10:15 UTC');
  });

  it('without one', () => {
    const text = textOf(renderConfirmation({ ...base, decision: 'approve', outcome: 'recorded', at: '2026-12-02T10:15:00.000Z' }));
    expect(text).toContain('Decision Approve Comment No comment. Time 2026-12-02 10:15 UTC');
  });

  it('escapes the comment', () => {
    const page = renderConfirmation({ ...base, comment: '<script>x</script>', at: '2026-12-02T10:15:00.000Z' });
    expect(page).not.toContain('<script');
    expect(page).toContain('&lt;script&gt;x&lt;/script&gt;');
  });
});
