/** The model card tests' lineage documents (test/unit/model-card*.test.ts): every field the card reads, fixed. */
import type { AuditEntry } from '../../shared/domain/audit.js';
import type { LineageDocument } from '../../shared/usecases/lineage.js';

export const GROUP = 'fraud-detector';
export const ARN = 'arn:aws:sagemaker:us-east-1:123456789012:model-package/fraud-detector/1';
export const JOB = 'fraud-xgb-2026-11-27-09-14-05-412';
export const RISK = 'risk-officer@acme-bank.example';
export const LEAD = 'ml-lead@acme-bank.example';
export const GENERATED_AT = '2026-12-01T08:00:00.000Z';
/** Where the fixture's sequenced entries sit in the Merkle log. */
export const LOG_INDEXES = [4, 5, 9];

/** One audit entry about version 1, sequenced at `logIndex` when it is given. */
function auditEntry(id: string, at: string, position: number, action: string, actor: string, logIndex?: number): AuditEntry {
  return { id, scope: 'group:fraud-detector', at, position, action, subject: ARN, actor, detail: {}, ...(logIndex === undefined ? {} : { logIndex }) };
}

/** The sample story's version 1, approved by both reviewers: every field the card reads, fixed. */
export function approvedLineage(): LineageDocument {
  const decision = {
    id: 'dec-0001',
    outcome: 'Approved' as const,
    at: '2026-11-28T09:30:00.000Z',
    approvers: [RISK, LEAD],
    policyVersion: 1,
  };
  return {
    modelPackage: {
      arn: ARN,
      group: GROUP,
      version: 1,
      status: 'Approved',
      lastModified: Date.parse('2026-11-28T09:30:05Z'),
      createdAt: Date.parse('2026-11-27T09:44:02Z'),
      description: 'XGBoost fraud model, Nov-01 transactions snapshot',
      artifactUri: `s3://acme-ml-artifacts-123456789012/fraud-detector/training/${JOB}/output/model.tar.gz`,
      image: '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1',
      imageDigest: 'sha256:8c1a2f5e0b7d4c3a9e6f1d2b5a8c7e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d',
      generatedBy: 'arn:aws:sagemaker:us-east-1:123456789012:pipeline/fraud-detector-train/execution/7qk2m4x9z1pd',
      pipelineExecution: 'arn:aws:sagemaker:us-east-1:123456789012:pipeline/fraud-detector-train/execution/7qk2m4x9z1pd',
      customerMetadata: { intended_use: 'card-not-present fraud scoring', fairness_review: '1' },
      report: {
        uri: `s3://acme-ml-artifacts-123456789012/fraud-detector/evaluation/${JOB}/evaluation.json`,
        digest: 'sha256:c08281aec4324ae5e52820ffe239e89fa3a08435de59cc7b8bb1d4930949ad11',
      },
      registeredBy: 'arn:aws:sts::123456789012:assumed-role/SageMakerPipelineRole/fraud-detector-train',
      trainedBy: 'arn:aws:sagemaker:us-east-1:123456789012:user-profile/d-abc123/data-scientist',
    },
    trainingJob: {
      name: JOB,
      arn: `arn:aws:sagemaker:us-east-1:123456789012:training-job/${JOB}`,
      status: 'Completed',
      lastModified: Date.parse('2026-11-27T09:41:37Z'),
      createdAt: Date.parse('2026-11-27T09:14:12Z'),
      endedAt: Date.parse('2026-11-27T09:41:37Z'),
      image: '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1',
      roleArn: 'arn:aws:iam::123456789012:role/service-role/AmazonSageMaker-ExecutionRole-fraud',
      hyperparameters: { objective: 'binary:logistic', num_round: '200', eta: '0.2', max_depth: '6' },
      datasets: [
        { channel: 'train', uri: 's3://acme-ml-datasets-123456789012/fraud/transactions/2026-11-01/train/' },
        { channel: 'validation', uri: 's3://acme-ml-datasets-123456789012/fraud/transactions/2026-11-01/validation/' },
      ],
      artifactUri: `s3://acme-ml-artifacts-123456789012/fraud-detector/training/${JOB}/output/model.tar.gz`,
      metrics: { 'validation:auc': 0.912, 'train:auc': 0.942 },
      tags: { team: 'fraud-ml' },
    },
    datasets: [
      { channel: 'train', uri: 's3://acme-ml-datasets-123456789012/fraud/transactions/2026-11-01/train/' },
      { channel: 'validation', uri: 's3://acme-ml-datasets-123456789012/fraud/transactions/2026-11-01/validation/' },
    ],
    image: {
      uri: '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1',
      digest: 'sha256:8c1a2f5e0b7d4c3a9e6f1d2b5a8c7e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d',
    },
    gate: {
      passed: true,
      policyVersion: 1,
      evaluatedAt: '2026-11-27T09:44:03.000Z',
      state: 'passed',
      results: [
        { rule: { metric: 'validation:auc', source: 'trainingJob', comparison: '>=', threshold: 0.85 }, actual: 0.912, passed: true },
        {
          rule: { metric: 'binary_classification_metrics.auc', source: 'evaluationReport', comparison: '>=', threshold: 0.85 },
          actual: 0.905,
          passed: true,
        },
      ],
    },
    reviews: [
      {
        id: 'rev-0001',
        status: 'Approved',
        openedAt: '2026-11-27T09:44:03.000Z',
        expiresAt: '2026-11-30T09:44:03.000Z',
        closedAt: '2026-11-28T09:30:00.000Z',
        policyVersion: 1,
        requiredApprovals: 2,
        reviewers: [RISK, LEAD],
        votes: {
          [LEAD]: { decision: 'approve', at: '2026-11-28T09:30:00.000Z' },
          [RISK]: { decision: 'approve', comment: 'metrics and lineage check out', at: '2026-11-28T08:15:00.000Z' },
        },
        decision,
      },
    ],
    decision,
    endpoints: [],
    // The version's entries: two already in the Merkle log, the decision not sequenced yet.
    audit: {
      entries: [
        auditEntry('e-0001', '2026-11-27T09:44:03.000Z', 0, 'version.gate-passed', 'modelgate', 4),
        auditEntry('e-0002', '2026-11-27T09:44:03.000Z', 1, 'review.opened', 'modelgate', 5),
        auditEntry('e-0003', '2026-11-28T08:15:00.000Z', 0, 'review.vote', RISK, 9),
        auditEntry('e-0004', '2026-11-28T09:30:00.000Z', 0, 'review.decided', LEAD),
      ],
    },
    cost: { requests: 5, rounds: 2 },
  };
}

/** The same version before anyone decided: no decision, no intended use, review still open. */
export function undecidedLineage(): LineageDocument {
  const l = approvedLineage();
  const { intended_use: _u, ...metadata } = l.modelPackage.customerMetadata;
  const { decision: _d, closedAt: _c, ...review } = l.reviews[0] ?? ({} as never);
  const { decision: _dd, ...rest } = l;
  return {
    ...rest,
    modelPackage: { ...l.modelPackage, status: 'PendingManualApproval', customerMetadata: metadata },
    reviews: [{ ...review, status: 'Open', votes: {} }],
    // Nobody voted: only the gate's and the review's opening entries.
    audit: { entries: l.audit.entries.filter((e) => e.action !== 'review.vote' && e.action !== 'review.decided') },
  };
}
