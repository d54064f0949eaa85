import {
  ModelPackageStateChangeSchema,
  TrainingJobStateChangeSchema,
  type ModelPackageDetail,
} from '../../shared/schemas/events.js';
import { actionFor, freshness, observeVersion, type ModelVersion, type VersionObservation } from '../../shared/domain/version.js';
import { at, detailOf, eventNames, loadEvent, loadFixture } from './fixtures.js';

const issuePaths = (r: { success: boolean; error?: { issues: Array<{ path: PropertyKey[] }> } }): string[] =>
  (r.error?.issues ?? []).map((i) => i.path.map(String).join('.'));

describe('ModelPackageStateChangeSchema', () => {
  const files = eventNames('model-package-');

  it('finds the model package samples in events/', () => {
    expect(files.length).toBeGreaterThanOrEqual(6);
  });

  it.each(files)('parses events/%s', (name) => {
    const raw = loadEvent(name);
    const parsed = ModelPackageStateChangeSchema.parse(raw);
    const d = detailOf(raw);
    expect(parsed.detail.ModelPackageArn).toBe(d['ModelPackageArn']);
    expect(parsed.detail.ModelPackageVersion).toBe(d['ModelPackageVersion']);
    expect(parsed.detail.CreationTime).toBe(Date.parse(d['CreationTime'] as string));
    expect(parsed.detail.LastModifiedTime).toBe(Date.parse(d['LastModifiedTime'] as string));
  });

  it('parses the AWS documentation sample (test/fixtures)', () => {
    const parsed = ModelPackageStateChangeSchema.parse(loadFixture('aws-doc-model-package-state-change.json'));
    expect(parsed.detail.ModelPackageGroupName).toBe('versionedmp-p-idy6c3e1fiqj');
    expect(parsed.detail.ModelPackageVersion).toBe(2);
    expect(parsed.detail.ModelApprovalStatus).toBe('Rejected');
    expect(parsed.detail.CreationTime).toBe(Date.parse('2021-02-24T17:00:14Z'));
    expect(parsed.detail.ModelMetrics?.ModelQuality?.Statistics?.S3Uri).toMatch(/evaluation\.json$/);
  });

  it('keeps fields it does not know (SageMaker adds fields over time)', () => {
    const parsed = ModelPackageStateChangeSchema.parse(loadEvent('model-package-pending.json'));
    expect((parsed.detail as Record<string, unknown>)['CertifyForMarketplace']).toBe(false);
  });

  it('refuses an ARN that names another version', () => {
    const event = loadEvent('model-package-pending.json');
    detailOf(event)['ModelPackageVersion'] = 2;
    const r = ModelPackageStateChangeSchema.safeParse(event);
    expect(r.success).toBe(false);
    expect(issuePaths(r)).toContain('detail.ModelPackageArn');
  });

  it('refuses an ARN that names another group', () => {
    const event = loadEvent('model-package-pending.json');
    detailOf(event)['ModelPackageGroupName'] = 'detector';
    const r = ModelPackageStateChangeSchema.safeParse(event);
    expect(r.success).toBe(false);
    expect(issuePaths(r)).toContain('detail.ModelPackageArn');
  });

  it('refuses a version number that is only a prefix of the ARN’s', () => {
    const event = loadEvent('model-package-pending.json');
    const d = detailOf(event);
    d['ModelPackageArn'] = 'arn:aws:sagemaker:us-east-1:123456789012:model-package/fraud-detector/11';
    expect(ModelPackageStateChangeSchema.safeParse(event).success).toBe(false);
  });

  it('accepts a group name in mixed case against the lower-case ARN', () => {
    const event = loadEvent('model-package-pending.json');
    detailOf(event)['ModelPackageGroupName'] = 'Fraud-Detector';
    expect(ModelPackageStateChangeSchema.safeParse(event).success).toBe(true);
  });

  it('refuses an event without ModelApprovalStatus', () => {
    const event = loadEvent('model-package-pending.json');
    delete detailOf(event)['ModelApprovalStatus'];
    const r = ModelPackageStateChangeSchema.safeParse(event);
    expect(r.success).toBe(false);
    expect(issuePaths(r)).toContain('detail.ModelApprovalStatus');
  });

  it('refuses an unknown approval status', () => {
    const event = loadEvent('model-package-pending.json');
    detailOf(event)['ModelApprovalStatus'] = 'Deployed';
    expect(issuePaths(ModelPackageStateChangeSchema.safeParse(event))).toContain('detail.ModelApprovalStatus');
  });

  it('refuses a training job event', () => {
    expect(ModelPackageStateChangeSchema.safeParse(loadEvent('training-job-completed.json')).success).toBe(false);
  });

  it('refuses a ModelDataUrl that is not an s3:// URI', () => {
    const event = loadEvent('model-package-pending.json');
    const containers = (detailOf(event)['InferenceSpecification'] as { Containers: Array<Record<string, unknown>> }).Containers;
    at(containers, 0)['ModelDataUrl'] = 'model.tar.gz';
    expect(issuePaths(ModelPackageStateChangeSchema.safeParse(event))).toContain('detail.InferenceSpecification.Containers.0.ModelDataUrl');
  });
});

describe('TrainingJobStateChangeSchema', () => {
  const files = eventNames('training-job-');

  it('finds the training job samples in events/', () => {
    expect(files.length).toBeGreaterThanOrEqual(4);
  });

  it.each(files)('parses events/%s and turns epoch-ms strings into numbers', (name) => {
    const raw = loadEvent(name);
    const d = detailOf(raw);
    const parsed = TrainingJobStateChangeSchema.parse(raw);
    expect(parsed.detail.TrainingJobName).toBe(d['TrainingJobName']);
    expect(typeof d['LastModifiedTime']).toBe('string');
    expect(parsed.detail.LastModifiedTime).toBe(Number(d['LastModifiedTime']));
    expect(parsed.detail.CreationTime).toBe(Number(d['CreationTime']));
    expect(parsed.detail.TrainingEndTime).toBe(Number(d['TrainingEndTime']));
  });

  it('refuses the AWS documentation sample, whose S3Uri is the placeholder "S3Uri"', () => {
    const r = TrainingJobStateChangeSchema.safeParse(loadFixture('aws-doc-training-job-state-change.json'));
    expect(r.success).toBe(false);
    expect(issuePaths(r)).toEqual(['detail.InputDataConfig.0.DataSource.S3DataSource.S3Uri']);
  });

  it('parses the AWS documentation sample once its placeholders are real S3 URIs', () => {
    const event = loadFixture('aws-doc-training-job-state-change.json');
    const d = detailOf(event);
    const channel = at(d['InputDataConfig'] as Array<{ DataSource: { S3DataSource: Record<string, unknown> } }>, 0);
    channel.DataSource.S3DataSource['S3Uri'] = 's3://sagemaker-us-east-1-123456789012/kmeans/train/';
    (d['OutputDataConfig'] as Record<string, unknown>)['S3OutputPath'] = 's3://sagemaker-us-east-1-123456789012/kmeans/output';
    const parsed = TrainingJobStateChangeSchema.parse(event);
    expect(parsed.detail.LastModifiedTime).toBe(1583831889050);
    expect(parsed.detail.CreationTime).toBe(1583831889050);
    expect(parsed.detail.TrainingJobStatus).toBe('Completed');
    expect(parsed.detail.InputDataConfig?.[0]?.DataSource.S3DataSource?.S3Uri).toBe('s3://sagemaker-us-east-1-123456789012/kmeans/train/');
  });

  it('refuses a training job event without LastModifiedTime', () => {
    const event = loadEvent('training-job-completed.json');
    delete detailOf(event)['LastModifiedTime'];
    expect(issuePaths(TrainingJobStateChangeSchema.safeParse(event))).toContain('detail.LastModifiedTime');
  });

  it('refuses a timestamp that is not one', () => {
    const event = loadEvent('training-job-completed.json');
    detailOf(event)['LastModifiedTime'] = 'soon';
    expect(issuePaths(TrainingJobStateChangeSchema.safeParse(event))).toContain('detail.LastModifiedTime');
  });

  it('refuses an unknown training job status', () => {
    const event = loadEvent('training-job-completed.json');
    detailOf(event)['TrainingJobStatus'] = 'Exploded';
    expect(issuePaths(TrainingJobStateChangeSchema.safeParse(event))).toContain('detail.TrainingJobStatus');
  });

  it('refuses a model package event', () => {
    expect(TrainingJobStateChangeSchema.safeParse(loadEvent('model-package-pending.json')).success).toBe(false);
  });
});

describe('observeVersion', () => {
  const pending = (): ModelPackageDetail => ModelPackageStateChangeSchema.parse(loadEvent('model-package-pending.json')).detail;

  it('extracts what the gate needs from events/model-package-pending.json', () => {
    expect(observeVersion(pending())).toEqual({
      arn: 'arn:aws:sagemaker:us-east-1:123456789012:model-package/fraud-detector/1',
      group: 'fraud-detector',
      version: 1,
      status: 'PendingManualApproval',
      lastModified: Date.parse('2026-11-27T09:44:02Z'),
      createdAt: Date.parse('2026-11-27T09:44:02Z'),
      description: 'XGBoost fraud model, Nov-01 transactions snapshot',
      artifactUri: 's3://acme-ml-artifacts-123456789012/fraud-detector/training/fraud-xgb-2026-11-27-09-14-05-412/output/model.tar.gz',
      image: '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1',
      imageDigest: 'sha256:8c1a2f5e0b7d4c3a9e6f1d2b5a8c7e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d',
      generatedBy: 'arn:aws:sagemaker:us-east-1:123456789012:pipeline/fraud-detector-train/execution/7qk2m4x9z1pd',
      customerMetadata: { intended_use: 'card-not-present fraud scoring', fairness_review: '1' },
      report: {
        uri: 's3://acme-ml-artifacts-123456789012/fraud-detector/evaluation/fraud-xgb-2026-11-27-09-14-05-412/evaluation.json',
        digest: 'sha256:c08281aec4324ae5e52820ffe239e89fa3a08435de59cc7b8bb1d4930949ad11',
      },
    });
  });

  it('has no report when the version carries no ModelMetrics', () => {
    const event = loadEvent('model-package-pending.json');
    delete detailOf(event)['ModelMetrics'];
    const v = observeVersion(ModelPackageStateChangeSchema.parse(event).detail);
    expect(v).not.toHaveProperty('report');
    expect(v.artifactUri).toMatch(/fraud-xgb-2026-11-27-09-14-05-412\/output\/model\.tar\.gz$/);
  });

  it('keeps a report without a digest (AWS documentation sample)', () => {
    const d = ModelPackageStateChangeSchema.parse(loadFixture('aws-doc-model-package-state-change.json')).detail;
    const v = observeVersion(d);
    expect(v.report?.uri).toMatch(/\/evaluation\.json$/);
    expect(v.report).not.toHaveProperty('digest');
    expect(v.customerMetadata).toEqual({});
  });

  it('uses CreationTime as the ordering key when LastModifiedTime is absent', () => {
    const event = loadEvent('model-package-pending.json');
    delete detailOf(event)['LastModifiedTime'];
    const v = observeVersion(ModelPackageStateChangeSchema.parse(event).detail);
    expect(v.lastModified).toBe(Date.parse('2026-11-27T09:44:02Z'));
  });

  it('takes the artifact from the container that has one', () => {
    const event = loadEvent('model-package-pending.json');
    const spec = detailOf(event)['InferenceSpecification'] as { Containers: Array<Record<string, unknown>> };
    spec.Containers.unshift({ Image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/preprocess:3' });
    const v = observeVersion(ModelPackageStateChangeSchema.parse(event).detail);
    expect(v.artifactUri).toMatch(/fraud-xgb-2026-11-27-09-14-05-412\/output\/model\.tar\.gz$/);
    expect(v.image).toBe('683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1');
  });
});

describe('freshness', () => {
  it('is new when nothing is recorded', () => {
    expect(freshness(undefined, { lastModified: 1 })).toBe('new');
  });

  it('is newer for a later LastModifiedTime', () => {
    expect(freshness({ lastModified: 1000 }, { lastModified: 1001 })).toBe('newer');
  });

  it('is a duplicate for the same LastModifiedTime', () => {
    expect(freshness({ lastModified: 1000 }, { lastModified: 1000 })).toBe('duplicate');
  });

  it('is a tie for the same LastModifiedTime with another status', () => {
    expect(freshness({ lastModified: 1000, status: 'PendingManualApproval' }, { lastModified: 1000, status: 'Rejected' })).toBe('tie');
    expect(freshness({ lastModified: 1000, status: 'Rejected' }, { lastModified: 1000, status: 'Rejected' })).toBe('duplicate');
  });

  it('is stale for an earlier LastModifiedTime', () => {
    expect(freshness({ lastModified: 1000 }, { lastModified: 999 })).toBe('stale');
  });

  it('orders the out-of-order sample events: the older one arriving second is stale', () => {
    const older = observeVersion(ModelPackageStateChangeSchema.parse(loadEvent('model-package-out-of-order-older.json')).detail);
    const newer = observeVersion(ModelPackageStateChangeSchema.parse(loadEvent('model-package-out-of-order-newer.json')).detail);
    expect(freshness(newer, older)).toBe('stale');
    expect(freshness(older, newer)).toBe('newer');
  });
});

describe('actionFor', () => {
  const observed = (status: VersionObservation['status']): VersionObservation => ({
    ...observeVersion(ModelPackageStateChangeSchema.parse(loadEvent('model-package-pending.json')).detail),
    status,
  });
  const recorded = (extra: Partial<ModelVersion>): ModelVersion => ({
    ...observed('PendingManualApproval'),
    pendingEffects: {},
    ...extra,
  });

  it('gates a pending version seen for the first time', () => {
    expect(actionFor(undefined, observed('PendingManualApproval'))).toEqual({ kind: 'gate' });
  });

  it('gates a pending version recorded without a gate state', () => {
    expect(actionFor(recorded({}), observed('PendingManualApproval'))).toEqual({ kind: 'gate' });
  });

  it.each(['awaiting-job', 'passed', 'failed'] as const)('only records a pending version whose gate state is %s', (gateState) => {
    expect(actionFor(recorded({ gateState }), observed('PendingManualApproval'))).toEqual({ kind: 'record' });
  });

  it('records an approval that a modelgate decision explains', () => {
    const current = recorded({ gateState: 'passed', decision: { id: 'd-1', outcome: 'Approved', at: '2026-11-27T10:12:48.000Z', approvers: [], policyVersion: 1 } });
    expect(actionFor(current, observed('Approved'))).toEqual({ kind: 'record' });
  });

  it('reverts an approval of a version that failed its gate to Rejected, never back to pending', () => {
    expect(actionFor(recorded({ gateState: 'failed' }), observed('Approved'))).toEqual({ kind: 'revert-approval', target: 'Rejected' });
  });

  it('reverts an unexplained approval of a passed version to PendingManualApproval, falling back to Rejected', () => {
    expect(actionFor(recorded({ gateState: 'passed' }), observed('Approved'))).toEqual({
      kind: 'revert-approval',
      target: 'PendingManualApproval',
      fallback: 'Rejected',
    });
  });

  it('reverts an approval of a version never seen before to PendingManualApproval, falling back to Rejected', () => {
    expect(actionFor(undefined, observed('Approved'))).toEqual({
      kind: 'revert-approval',
      target: 'PendingManualApproval',
      fallback: 'Rejected',
    });
  });

  it('reverts an approval of a version still waiting for its training job', () => {
    expect(actionFor(recorded({ gateState: 'awaiting-job' }), observed('Approved'))).toMatchObject({ kind: 'revert-approval' });
  });

  it('reverts an approval of a version that reviewers rejected to Rejected', () => {
    const current = recorded({ gateState: 'passed', decision: { id: 'd-2', outcome: 'Rejected', at: '2026-11-27T10:00:00.000Z', approvers: [], policyVersion: 1 } });
    expect(actionFor(current, observed('Approved'))).toEqual({ kind: 'revert-approval', target: 'Rejected' });
  });

  it('records a rejection', () => {
    expect(actionFor(undefined, observed('Rejected'))).toEqual({ kind: 'record' });
    expect(actionFor(recorded({ gateState: 'passed' }), observed('Rejected'))).toEqual({ kind: 'record' });
  });
});
