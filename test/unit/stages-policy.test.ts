/**
 * Lifecycle stages in a policy (`stages`), validated like the policy's own sections, and the
 * gate's decision about a version's ModelLifeCycle (`stageActionFor`), pure.
 */
import { ValidationError } from '../../shared/domain/errors.js';
import { MAX_REVIEWERS, MAX_STAGES, nextPolicyVersion, parsePolicyInput, reviewersFor, stageSection, type PolicyVersion } from '../../shared/domain/policy.js';
import { stageActionFor, type ModelVersion } from '../../shared/domain/version.js';
import { loadEvent } from './fixtures.js';

const NOW = Date.parse('2026-11-27T09:00:00Z');
const RULE = { metric: 'validation:auc', source: 'trainingJob', comparison: '>=', threshold: 0.9 };
const section = (overrides: Record<string, unknown> = {}) => ({ rules: [RULE], reviewers: ['chief-risk@acme-bank.example'], requiredApprovals: 1, ...overrides });
const withStages = (stages: unknown): Record<string, unknown> => ({ ...loadEvent('policy-fraud-detector.json'), stages });

function problemsOf(payload: unknown): readonly string[] {
  try {
    parsePolicyInput(payload);
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as ValidationError).problems;
  }
  throw new Error('expected a ValidationError, but nothing was thrown');
}

function policyOf(stages: unknown): PolicyVersion {
  const v = nextPolicyVersion(parsePolicyInput(withStages(stages)), undefined, NOW);
  if (v === 'unchanged') throw new Error('a first policy cannot be unchanged');
  return v;
}

describe('a policy\'s stages section', () => {
  it('accepts a section per stage with the defaults: 72 h, reminder 24 h, PendingApproval / Approved / Rejected; reviewers lower-cased', () => {
    const p = parsePolicyInput(withStages({ PreProduction: section({ reviewers: ['Chief-Risk@Acme-Bank.example', 'ml-lead@acme-bank.example'], requiredApprovals: 2 }) }));
    expect(p.stages).toEqual({
      PreProduction: {
        rules: [RULE],
        reviewers: ['chief-risk@acme-bank.example', 'ml-lead@acme-bank.example'],
        requiredApprovals: 2,
        reviewLifetimeHours: 72,
        reminderAfterHours: 24,
        pendingStatus: 'PendingApproval',
        approvedStatus: 'Approved',
        rejectedStatus: 'Rejected',
      },
    });
  });

  it('accepts the sample events/policy-fraud-detector-stages.json', () => {
    const p = parsePolicyInput(loadEvent('policy-fraud-detector-stages.json'));
    expect(Object.keys(p.stages ?? {})).toEqual(['PreProduction', 'Production']);
    expect(p.stages?.['PreProduction']).toMatchObject({ requiredApprovals: 2, reviewLifetimeHours: 48, pendingStatus: 'PendingApproval' });
  });

  it('accepts statuses of its own and a stage named like an Object property (own keys only)', () => {
    const p = policyOf({ constructor: section({ pendingStatus: 'Requested', approvedStatus: 'Promoted', rejectedStatus: 'Declined' }) });
    expect(stageSection(p, 'constructor')).toMatchObject({ pendingStatus: 'Requested', approvedStatus: 'Promoted', rejectedStatus: 'Declined' });
    expect(stageSection(p, 'toString')).toBeUndefined();
    expect(stageSection(policyOf({ QA: section() }), 'constructor')).toBeUndefined();
  });

  it('an empty stages map is no stages: same content as a policy without one', () => {
    const withEmpty = parsePolicyInput(withStages({}));
    expect(withEmpty.stages).toBeUndefined();
    const first = nextPolicyVersion(parsePolicyInput(loadEvent('policy-fraud-detector.json')), undefined, NOW);
    if (first === 'unchanged') throw new Error('unreachable');
    expect(nextPolicyVersion(withEmpty, first, NOW)).toBe('unchanged');
    expect(nextPolicyVersion(parsePolicyInput(withStages({ QA: section() })), first, NOW)).not.toBe('unchanged');
  });

  it.each<[string, unknown, string[]]>([
    ['a stage name SageMaker refuses', { 'Pre Production': section() }, ['stages.Pre Production: must be 1–63 letters, digits and hyphens, starting and ending with a letter or digit (a SageMaker stage name)']],
    ['a bad stage name and a bad section, both named', { '-QA': section({ rules: [] }) }, ['stages.-QA.rules: a stage needs at least one metric rule', 'stages.-QA: must be 1–63 letters, digits and hyphens, starting and ending with a letter or digit (a SageMaker stage name)']],
    ['no rules', { QA: section({ rules: [] }) }, ['stages.QA.rules: a stage needs at least one metric rule']],
    ['no reviewers', { QA: section({ reviewers: [], requiredApprovals: 1 }) }, ['stages.QA.reviewers: a stage needs at least one reviewer', 'stages.QA.requiredApprovals: needs 1 approvals but only 0 reviewers are named']],
    ['a quorum above its reviewers', { QA: section({ requiredApprovals: 2 }) }, ['stages.QA.requiredApprovals: needs 2 approvals but only 1 reviewers are named']],
    ['the same reviewer twice (case ignored)', { QA: section({ reviewers: ['a@acme-bank.example', 'A@acme-bank.example'] }) }, ['stages.QA.reviewers: reviewers must be distinct']],
    ['a reminder after its lifetime', { QA: section({ reviewLifetimeHours: 12 }) }, ['stages.QA.reminderAfterHours: must be shorter than reviewLifetimeHours']],
    ['a duplicate rule', { QA: section({ rules: [RULE, { ...RULE, threshold: 0.8 }] }) }, ['stages.QA.rules.1: duplicate rule']],
    ['a status with a space', { QA: section({ approvedStatus: 'Signed off' }) }, ['stages.QA.approvedStatus: must be 1–63 letters, digits and hyphens, starting and ending with a letter or digit']],
    ['approved equal to pending', { QA: section({ approvedStatus: 'PendingApproval' }) }, ['stages.QA.approvedStatus: must differ from pendingStatus']],
    ['rejected equal to approved', { QA: section({ rejectedStatus: 'Approved' }) }, ['stages.QA.rejectedStatus: must differ from approvedStatus']],
    ['an unknown field', { QA: { ...section(), allowSelfApproval: true } }, ['stages.QA: unknown field "allowSelfApproval"']],
    ['a section that is not an object', { QA: 'Approved' }, ['stages.QA: must be a JSON object, not a string']],
  ])('refuses %s, naming the field', (_what, stages, expected) => {
    expect(problemsOf(withStages(stages))).toEqual(expected);
  });

  it('refuses a stage named __proto__ (from JSON: an own key), naming it', () => {
    const stages = JSON.parse(`{"__proto__": ${JSON.stringify(section())}}`) as unknown;
    expect(problemsOf(withStages(stages))).toEqual(['stages.__proto__: must be 1–63 letters, digits and hyphens, starting and ending with a letter or digit (a SageMaker stage name)']);
  });

  it(`refuses more than ${MAX_STAGES} stages and more than ${MAX_REVIEWERS} reviewers in a stage`, () => {
    const many = Object.fromEntries(Array.from({ length: MAX_STAGES + 1 }, (_, i) => [`S${i}`, section()]));
    expect(problemsOf(withStages(many))).toEqual([`stages: at most ${MAX_STAGES} stages, found ${MAX_STAGES + 1}`]);
    const reviewers = Array.from({ length: MAX_REVIEWERS + 1 }, (_, i) => `r${i}@acme-bank.example`);
    expect(problemsOf(withStages({ QA: section({ reviewers }) }))).toEqual([`stages.QA.reviewers: at most ${MAX_REVIEWERS} reviewers`]);
  });

  it('reviewersFor: a stage review\'s reviewers are its section\'s; a stage the policy dropped has none', () => {
    const p = policyOf({ QA: section() });
    expect(reviewersFor(p, undefined)).toEqual(['risk-officer@acme-bank.example', 'ml-lead@acme-bank.example']);
    expect(reviewersFor(p, 'QA')).toEqual(['chief-risk@acme-bank.example']);
    expect(reviewersFor(p, 'Production')).toEqual([]);
  });
});

describe('stageActionFor', () => {
  const policy = policyOf({ Production: section(), QA: section({ pendingStatus: 'Requested', approvedStatus: 'Promoted', rejectedStatus: 'Declined' }) });
  const lc = (stage: string, status: string) => ({ lifeCycle: { stage, status } });
  const version = (stages: ModelVersion['stages'] = undefined): ModelVersion => ({
    arn: 'arn:aws:sagemaker:us-east-1:123456789012:model-package/fraud-detector/1',
    group: 'fraud-detector',
    version: 1,
    status: 'PendingManualApproval',
    lastModified: NOW,
    createdAt: NOW,
    customerMetadata: {},
    pendingEffects: {},
    ...(stages ? { stages } : {}),
  });
  const decision = (outcome: 'Approved' | 'Rejected') => ({ id: 'd1', outcome, at: '2026-11-27T10:00:00Z', approvers: [], policyVersion: 1 });

  it('gates a promotion request once per version and stage', () => {
    expect(stageActionFor(version(), lc('Production', 'PendingApproval'), policy)).toMatchObject({ kind: 'gate-stage', stage: 'Production' });
    expect(stageActionFor(version({ Production: { gateState: 'passed', review: { id: 'r', status: 'Open' } } }), lc('Production', 'PendingApproval'), policy)).toBeUndefined();
    expect(stageActionFor(version({ Production: { gateState: 'failed' } }), lc('Production', 'PendingApproval'), policy)).toBeUndefined();
    // Another stage is its own.
    expect(stageActionFor(version({ Production: { gateState: 'failed' } }), lc('QA', 'Requested'), policy)).toMatchObject({ kind: 'gate-stage', stage: 'QA' });
  });

  it('gates a request again only when the stage\'s review expired undecided', () => {
    expect(stageActionFor(version({ Production: { gateState: 'passed', review: { id: 'r', status: 'Expired' } } }), lc('Production', 'PendingApproval'), policy)).toMatchObject({ kind: 'gate-stage' });
  });

  it('uses the section\'s own statuses: its pending status is the request, the default one is not', () => {
    expect(stageActionFor(version(), lc('QA', 'PendingApproval'), policy)).toBeUndefined();
    expect(stageActionFor(version(), lc('QA', 'Promoted'), policy)).toEqual({ kind: 'revert-stage', stage: 'QA', section: stageSection(policy, 'QA'), target: 'Requested' });
  });

  it('reverts an approved status no decision explains: to pending, or to rejected after a failed gate or a Reject', () => {
    expect(stageActionFor(version(), lc('Production', 'Approved'), policy)).toMatchObject({ kind: 'revert-stage', target: 'PendingApproval' });
    expect(stageActionFor(version({ Production: { gateState: 'passed', review: { id: 'r', status: 'Open' } } }), lc('Production', 'Approved'), policy)).toMatchObject({ target: 'PendingApproval' });
    expect(stageActionFor(version({ Production: { gateState: 'failed' } }), lc('Production', 'Approved'), policy)).toMatchObject({ target: 'Rejected' });
    expect(stageActionFor(version({ Production: { gateState: 'passed', decision: decision('Rejected') } }), lc('Production', 'Approved'), policy)).toMatchObject({ target: 'Rejected' });
    // A decision for another stage explains nothing here.
    expect(stageActionFor(version({ QA: { gateState: 'passed', decision: decision('Approved') } }), lc('Production', 'Approved'), policy)).toMatchObject({ kind: 'revert-stage' });
  });

  it('keeps an approved status that the stage\'s decision explains, and records every other status', () => {
    expect(stageActionFor(version({ Production: { gateState: 'passed', decision: decision('Approved') } }), lc('Production', 'Approved'), policy)).toBeUndefined();
    expect(stageActionFor(version(), lc('Production', 'Rejected'), policy)).toBeUndefined();
    expect(stageActionFor(version(), lc('Production', 'InProgress'), policy)).toBeUndefined();
  });

  it('records a stage without a section, a version without a lifecycle, and a group without a policy', () => {
    expect(stageActionFor(version(), lc('Archived', 'Approved'), policy)).toBeUndefined();
    expect(stageActionFor(version(), {}, policy)).toBeUndefined();
    expect(stageActionFor(version(), lc('Production', 'Approved'), undefined)).toBeUndefined();
    // Stage names are exact: `production` is not `Production`.
    expect(stageActionFor(version(), lc('production', 'Approved'), policy)).toBeUndefined();
  });
});
