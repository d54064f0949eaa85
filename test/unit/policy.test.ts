import { ValidationError } from '../../shared/domain/errors.js';
import {
  describeFailures,
  evaluatePolicy,
  nextPolicyVersion,
  parsePolicyInput,
  readPath,
  type Comparison,
  type GatheredMetrics,
  type MetricRule,
  type PolicyInput,
  type PolicyVersion,
} from '../../shared/domain/policy.js';
import { at, loadEvent, without } from './fixtures.js';

const NOW = Date.parse('2026-11-27T09:00:00Z');

/** The ValidationError that `fn` throws (fails the test when it throws nothing or something else). */
function validationErrorOf(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return e as ValidationError;
  }
  throw new Error('expected a ValidationError, but nothing was thrown');
}

const validInput = (): Record<string, unknown> => loadEvent('policy-fraud-detector.json');

function firstVersion(input: PolicyInput = parsePolicyInput(validInput())): PolicyVersion {
  const v = nextPolicyVersion(input, undefined, NOW);
  if (v === 'unchanged') throw new Error('a first policy cannot be unchanged');
  return v;
}

function policyWith(rules: MetricRule[], version = 3): PolicyVersion {
  return { ...firstVersion(), rules, version };
}

const noMetrics = (): GatheredMetrics => ({ trainingJob: {}, evaluationReport: undefined, customerMetadata: {} });

describe('parsePolicyInput', () => {
  it('accepts the fraud-detector policy from events/ with its rules, reviewers and settings', () => {
    const p = parsePolicyInput(validInput());
    expect(p.modelPackageGroupName).toBe('fraud-detector');
    expect(p.rules).toEqual([
      { metric: 'validation:auc', source: 'trainingJob', comparison: '>=', threshold: 0.85 },
      { metric: 'binary_classification_metrics.auc', source: 'evaluationReport', comparison: '>=', threshold: 0.85 },
      { metric: 'fairness_review', source: 'customerMetadata', comparison: '==', threshold: 1 },
    ]);
    expect(p.reviewers).toEqual(['risk-officer@acme-bank.example', 'ml-lead@acme-bank.example']);
    expect(p.requiredApprovals).toBe(2);
    expect(p.allowSelfApproval).toBe(false);
    expect(p.reviewLifetimeHours).toBe(72);
    expect(p.reminderAfterHours).toBe(24);
    expect(p.changedBy).toBe('arn:aws:sts::123456789012:assumed-role/PlatformAdmin/asmith');
    expect(p.reason).toBe('Initial policy for the fraud detector');
  });

  it('lowercases reviewer emails', () => {
    const p = parsePolicyInput({ ...validInput(), reviewers: ['Risk-Officer@ACME-Bank.example', 'ML-Lead@acme-bank.example'] });
    expect(p.reviewers).toEqual(['risk-officer@acme-bank.example', 'ml-lead@acme-bank.example']);
  });

  it('fills in defaults: no self-approval, reviews open 72 hours, a reminder after 24', () => {
    const rest = without(validInput(), 'allowSelfApproval', 'reviewLifetimeHours', 'reminderAfterHours');
    const p = parsePolicyInput(rest);
    expect(p.allowSelfApproval).toBe(false);
    expect(p.reviewLifetimeHours).toBe(72);
    expect(p.reminderAfterHours).toBe(24);
  });

  describe('refuses events/policy-invalid.json', () => {
    const problems = (): readonly string[] => validationErrorOf(() => parsePolicyInput(loadEvent('policy-invalid.json'))).problems;

    it('with a ValidationError about the policy', () => {
      const err = validationErrorOf(() => parsePolicyInput(loadEvent('policy-invalid.json')));
      expect(err.subject).toBe('policy');
      expect(err.status).toBe(400);
      expect(err.retryable).toBe(false);
      expect(err.message).toMatch(/^invalid policy: /);
    });

    it.each([
      ['the group name with a space', 'modelPackageGroupName: '],
      ['the comparison "=>"', 'rules.0.comparison: '],
      ['the threshold given as a string', 'rules.0.threshold: '],
      ['the reviewer that is not an email', 'reviewers.0: '],
      // Needs 3 approvals from 1 reviewer: must be reported together with the other problems.
      ['requiredApprovals above the number of reviewers', 'requiredApprovals: '],
    ])('naming %s', (_what, path) => {
      expect(problems().some((p) => p.startsWith(path))).toBe(true);
    });
  });

  it('reports requiredApprovals above the number of reviewers', () => {
    const err = validationErrorOf(() => parsePolicyInput({ ...validInput(), requiredApprovals: 3 }));
    expect(err.problems).toEqual(['requiredApprovals: needs 3 approvals but only 2 reviewers are named']);
  });

  it('refuses duplicate reviewers, also when they differ only in case', () => {
    const err = validationErrorOf(() =>
      parsePolicyInput({ ...validInput(), reviewers: ['ml-lead@acme-bank.example', 'ML-Lead@acme-bank.example'], requiredApprovals: 1 }),
    );
    expect(err.problems).toContain('reviewers: reviewers must be distinct');
  });

  it('counts distinct reviewers when checking requiredApprovals', () => {
    const err = validationErrorOf(() =>
      parsePolicyInput({ ...validInput(), reviewers: ['a@acme-bank.example', 'A@acme-bank.example'], requiredApprovals: 2 }),
    );
    expect(err.problems.some((p) => p.startsWith('requiredApprovals: '))).toBe(true);
  });

  it.each([
    [72, 72],
    [48, 24],
  ])('refuses reminderAfterHours %i when reviews last %i hours', (reminderAfterHours, reviewLifetimeHours) => {
    const err = validationErrorOf(() => parsePolicyInput({ ...validInput(), reminderAfterHours, reviewLifetimeHours }));
    expect(err.problems).toEqual(['reminderAfterHours: must be shorter than reviewLifetimeHours']);
  });

  it('accepts a reminder one hour before the review expires', () => {
    expect(parsePolicyInput({ ...validInput(), reminderAfterHours: 71, reviewLifetimeHours: 72 }).reminderAfterHours).toBe(71);
  });

  it('refuses a policy without rules', () => {
    const err = validationErrorOf(() => parsePolicyInput({ ...validInput(), rules: [] }));
    expect(err.problems).toEqual(['rules: a policy needs at least one metric rule']);
  });

  it('refuses an unknown top-level field', () => {
    const err = validationErrorOf(() => parsePolicyInput({ ...validInput(), autoApprove: true }));
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]).toContain('autoApprove');
  });

  it('refuses an unknown field inside a rule', () => {
    const input = validInput();
    const rules = input['rules'] as Array<Record<string, unknown>>;
    rules[0] = { ...rules[0], weight: 2 };
    const err = validationErrorOf(() => parsePolicyInput(input));
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]).toMatch(/^rules\.0: .*weight/);
  });

  it('refuses an unknown metric source', () => {
    const input = validInput();
    at(input['rules'] as Array<Record<string, unknown>>, 0)['source'] = 'cloudwatch';
    const err = validationErrorOf(() => parsePolicyInput(input));
    expect(err.problems.some((p) => p.startsWith('rules.0.source: '))).toBe(true);
  });

  it('refuses the same rule twice', () => {
    const input = validInput();
    const rules = input['rules'] as unknown[];
    input['rules'] = [...rules, rules[0]];
    const err = validationErrorOf(() => parsePolicyInput(input));
    expect(err.problems).toEqual(['rules.3: duplicate rule']);
  });
});

describe('nextPolicyVersion', () => {
  it('makes the first policy of a group version 1, stamped with the time and who changed it', () => {
    const v = firstVersion();
    expect(v.version).toBe(1);
    expect(v.createdAt).toBe('2026-11-27T09:00:00.000Z');
    expect(v.changedBy).toBe('arn:aws:sts::123456789012:assumed-role/PlatformAdmin/asmith');
    expect(v.reason).toBe('Initial policy for the fraud detector');
    expect(v.rules).toHaveLength(3);
  });

  it('omits reason when none was given', () => {
    const rest = without(validInput(), 'reason');
    const v = firstVersion(parsePolicyInput(rest));
    expect('reason' in v).toBe(false);
  });

  it('returns unchanged for identical content, whoever sends it and why', () => {
    const current = { ...firstVersion(), version: 4 };
    const again = parsePolicyInput({ ...validInput(), changedBy: 'someone-else', reason: 'resubmitted' });
    expect(nextPolicyVersion(again, current, NOW + 1000)).toBe('unchanged');
  });

  it('returns unchanged when only the order of reviewers differs', () => {
    const current = firstVersion();
    const reordered = parsePolicyInput({ ...validInput(), reviewers: ['ML-Lead@acme-bank.example', 'risk-officer@acme-bank.example'] });
    expect(nextPolicyVersion(reordered, current, NOW)).toBe('unchanged');
  });

  it('returns unchanged when the stored rules come back with their keys in another order', () => {
    // DynamoDB does not keep the order of a map's attributes: the same rule may read back reordered.
    const current = firstVersion();
    const readBack: PolicyVersion = {
      ...current,
      rules: current.rules.map((r) => ({ threshold: r.threshold, comparison: r.comparison, source: r.source, metric: r.metric })),
    };
    expect(nextPolicyVersion(parsePolicyInput(validInput()), readBack, NOW)).toBe('unchanged');
  });

  it('makes version n+1 when a threshold changes', () => {
    const current = { ...firstVersion(), version: 4 };
    const input = validInput();
    at(input['rules'] as Array<Record<string, unknown>>, 0)['threshold'] = 0.9;
    const next = nextPolicyVersion(parsePolicyInput({ ...input, changedBy: 'bjones', reason: 'raise the bar' }), current, NOW + 5000);
    expect(next).not.toBe('unchanged');
    if (next === 'unchanged') return;
    expect(next.version).toBe(5);
    expect(next.rules[0]?.threshold).toBe(0.9);
    expect(next.changedBy).toBe('bjones');
    expect(next.reason).toBe('raise the bar');
    expect(next.createdAt).toBe(new Date(NOW + 5000).toISOString());
  });

  it.each([
    ['requiredApprovals', { requiredApprovals: 1 }],
    ['allowSelfApproval', { allowSelfApproval: true }],
    ['reviewLifetimeHours', { reviewLifetimeHours: 96 }],
    ['reminderAfterHours', { reminderAfterHours: 12 }],
    ['reviewers', { reviewers: ['risk-officer@acme-bank.example', 'cro@acme-bank.example'] }],
  ])('makes a new version when %s changes', (_what, change) => {
    const current = firstVersion();
    const next = nextPolicyVersion(parsePolicyInput({ ...validInput(), ...change }), current, NOW);
    expect(next).not.toBe('unchanged');
    expect(next !== 'unchanged' && next.version).toBe(2);
  });
});

describe('evaluatePolicy', () => {
  const rule = (comparison: Comparison, threshold = 0.85): MetricRule => ({
    metric: 'validation:auc',
    source: 'trainingJob',
    comparison,
    threshold,
  });
  const withAuc = (auc: number): GatheredMetrics => ({ ...noMetrics(), trainingJob: { 'validation:auc': auc } });

  it.each<[Comparison, number, boolean]>([
    ['>=', 0.85, true],
    ['>=', 0.8499, false],
    ['>', 0.85, false],
    ['>', 0.8501, true],
    ['<=', 0.85, true],
    ['<=', 0.8501, false],
    ['<', 0.85, false],
    ['<', 0.8499, true],
    ['==', 0.85, true],
    ['==', 0.8501, false],
  ])('%s 0.85 with actual %d: passed=%s', (comparison, actual, passed) => {
    const gate = evaluatePolicy(policyWith([rule(comparison)]), withAuc(actual));
    expect(gate.results).toEqual([{ rule: rule(comparison), actual, passed }]);
    expect(gate.passed).toBe(passed);
  });

  it('rejects a version whose auc is below the threshold and records the policy version used', () => {
    const gate = evaluatePolicy(policyWith([rule('>=')], 7), withAuc(0.81));
    expect(gate.passed).toBe(false);
    expect(gate.policyVersion).toBe(7);
    expect(gate.results[0]?.actual).toBe(0.81);
  });

  it('fails a rule whose metric the training job did not report, with the reason', () => {
    const gate = evaluatePolicy(policyWith([rule('>=')]), { ...noMetrics(), trainingJob: { 'train:auc': 0.99 } });
    expect(gate.passed).toBe(false);
    expect(gate.results[0]).toEqual({ rule: rule('>='), actual: undefined, passed: false, problem: 'metric missing from the training job' });
  });

  it.each<[MetricRule['source'], string]>([
    ['trainingJob', 'toString'],
    ['trainingJob', 'constructor'],
    ['customerMetadata', 'toString'],
    ['customerMetadata', '__proto__'],
    ['evaluationReport', 'constructor'],
  ])('a %s rule on a metric named %s that is not there fails closed with the reason, never a TypeError', (source, metric) => {
    const gate = evaluatePolicy(policyWith([{ metric, source, comparison: '>=', threshold: 0 }]), { ...noMetrics(), evaluationReport: { values: {} } });
    expect(gate.passed).toBe(false);
    expect(gate.results[0]?.problem).toMatch(/^metric missing from/);
  });

  describe('customer metadata', () => {
    const fairness: MetricRule = { metric: 'fairness_review', source: 'customerMetadata', comparison: '==', threshold: 1 };
    const gateWith = (customerMetadata: Record<string, string>) =>
      evaluatePolicy(policyWith([fairness]), { ...noMetrics(), customerMetadata });

    it('reads a numeric string', () => {
      expect(gateWith({ fairness_review: '1' }).results[0]).toEqual({ rule: fairness, actual: 1, passed: true });
    });

    it.each(['yes', 'one', '1 point', 'NaN', 'Infinity'])('fails the non-numeric value %p', (raw) => {
      const r = gateWith({ fairness_review: raw }).results[0];
      expect(r).toEqual({ rule: fairness, actual: undefined, passed: false, problem: `not a number: ${raw}` });
    });

    it.each(['', '   '])('fails the blank value %p instead of reading it as 0', (raw) => {
      const gate = evaluatePolicy(policyWith([{ ...fairness, threshold: 0 }]), { ...noMetrics(), customerMetadata: { fairness_review: raw } });
      expect(gate.passed).toBe(false);
      expect(gate.results[0]?.actual).toBeUndefined();
    });

    it('fails a key that is absent', () => {
      expect(gateWith({ intended_use: 'fraud' }).results[0]?.problem).toBe('metric missing from customer metadata');
    });
  });

  describe('evaluation report', () => {
    const reportRule = (metric: string): MetricRule => ({ metric, source: 'evaluationReport', comparison: '>=', threshold: 0.85 });
    const report = {
      binary_classification_metrics: {
        auc: { value: 0.91, standard_deviation: 0.004 },
        recall: 0.87,
        precision: { value: 'high' },
      },
    };
    const gateWith = (rules: MetricRule[], evaluationReport: GatheredMetrics['evaluationReport']) =>
      evaluatePolicy(policyWith(rules), { ...noMetrics(), evaluationReport });

    it('reads a dotted path ending in a {value} object (SageMaker report format)', () => {
      const gate = gateWith([reportRule('binary_classification_metrics.auc')], { values: report });
      expect(gate.results[0]).toEqual({ rule: reportRule('binary_classification_metrics.auc'), actual: 0.91, passed: true });
    });

    it('reads a dotted path ending in a plain number', () => {
      const gate = gateWith([reportRule('binary_classification_metrics.recall')], { values: report });
      expect(gate.results[0]?.actual).toBe(0.87);
      expect(gate.passed).toBe(true);
    });

    it('fails a path that is absent or not numeric', () => {
      const gate = gateWith(
        [reportRule('binary_classification_metrics.f1'), reportRule('binary_classification_metrics.precision'), reportRule('binary_classification_metrics')],
        { values: report },
      );
      expect(gate.results.map((r) => [r.passed, r.actual, r.problem])).toEqual([
        [false, undefined, 'metric missing from the evaluation report'],
        [false, undefined, 'metric missing from the evaluation report'],
        [false, undefined, 'metric missing from the evaluation report'],
      ]);
    });

    it('fails every report rule when the report is unreadable, and only those', () => {
      const rules: MetricRule[] = [
        reportRule('binary_classification_metrics.auc'),
        reportRule('binary_classification_metrics.recall'),
        { metric: 'validation:auc', source: 'trainingJob', comparison: '>=', threshold: 0.85 },
      ];
      const gate = evaluatePolicy(policyWith(rules), {
        ...noMetrics(),
        trainingJob: { 'validation:auc': 0.9 },
        evaluationReport: { unreadable: 'ContentDigest mismatch' },
      });
      expect(gate.passed).toBe(false);
      expect(gate.results.map((r) => r.passed)).toEqual([false, false, true]);
      expect(gate.results[0]?.problem).toBe('evaluation report unreadable: ContentDigest mismatch');
      expect(gate.results[1]?.problem).toBe('evaluation report unreadable: ContentDigest mismatch');
    });

    it('fails a report rule when the version has no report', () => {
      const gate = gateWith([reportRule('binary_classification_metrics.auc')], undefined);
      expect(gate.passed).toBe(false);
      expect(gate.results[0]?.problem).toBe('the version has no evaluation report');
    });
  });

  it('passes the fraud-detector policy only when every source meets its rule', () => {
    const policy = firstVersion();
    const metrics: GatheredMetrics = {
      trainingJob: { 'validation:auc': 0.93 },
      evaluationReport: { values: { binary_classification_metrics: { auc: { value: 0.92 } } } },
      customerMetadata: { fairness_review: '1' },
    };
    expect(evaluatePolicy(policy, metrics).passed).toBe(true);
    expect(evaluatePolicy(policy, { ...metrics, customerMetadata: { fairness_review: '0' } }).passed).toBe(false);
  });

  it('fails a policy without any gathered metric on every rule', () => {
    const gate = evaluatePolicy(firstVersion(), noMetrics());
    expect(gate.passed).toBe(false);
    expect(gate.results.every((r) => !r.passed && r.problem !== undefined)).toBe(true);
  });
});

describe('readPath', () => {
  it('returns undefined for a path through a non-object', () => {
    expect(readPath({ a: 1 }, 'a.b')).toBeUndefined();
    expect(readPath(null, 'a')).toBeUndefined();
  });
});

describe('describeFailures', () => {
  it('lists each failed rule with its threshold and its actual value or problem, and nothing for passed rules', () => {
    const policy = firstVersion();
    const gate = evaluatePolicy(policy, {
      trainingJob: { 'validation:auc': 0.81 },
      evaluationReport: { unreadable: 'NoSuchKey reading s3://acme/eval.json' },
      customerMetadata: { fairness_review: '1' },
    });
    expect(describeFailures(gate)).toEqual([
      'trainingJob:validation:auc >= 0.85: actual 0.81',
      'evaluationReport:binary_classification_metrics.auc >= 0.85: evaluation report unreadable: NoSuchKey reading s3://acme/eval.json',
    ]);
  });

  it('describes a non-numeric metadata value and a missing metric', () => {
    const gate = evaluatePolicy(firstVersion(), {
      trainingJob: {},
      evaluationReport: { values: { binary_classification_metrics: { auc: { value: 0.9 } } } },
      customerMetadata: { fairness_review: 'pending' },
    });
    expect(describeFailures(gate)).toEqual([
      'trainingJob:validation:auc >= 0.85: metric missing from the training job',
      'customerMetadata:fairness_review == 1: not a number: pending',
    ]);
  });

  it('is empty for a gate that passed', () => {
    const gate = evaluatePolicy(policyWith([{ metric: 'm', source: 'trainingJob', comparison: '<', threshold: 0.2 }]), {
      ...noMetrics(),
      trainingJob: { m: 0.1 },
    });
    expect(describeFailures(gate)).toEqual([]);
  });
});
