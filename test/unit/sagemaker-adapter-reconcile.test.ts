/**
 * The two Registry methods reconciliation uses, against aws-sdk-client-mock: the exact
 * ListModelPackages input, NextToken passed through, and DescribeModelPackage projected onto the
 * event's detail. Assertions read `mock.commandCalls(...)` (see adapters.test.ts for why).
 */
import { DescribeModelPackageCommand, ListModelPackagesCommand, SageMakerClient, UpdateModelPackageCommand } from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import { sageMakerRegistry } from '../../shared/aws/sagemaker.js';
import { ValidationError } from '../../shared/domain/errors.js';

const sm = mockClient(SageMakerClient);
const registry = sageMakerRegistry(new SageMakerClient({ region: 'us-east-1' }));
const arn = (v: number) => `arn:aws:sagemaker:us-east-1:123456789012:model-package/fraud-detector/${v}`;
const QUERY = { ModelPackageGroupName: 'fraud-detector', ModelPackageType: 'Versioned', SortBy: 'CreationTime', SortOrder: 'Descending', MaxResults: 100 };

beforeEach(() => sm.reset());

describe('sageMakerRegistry.listModelPackages', () => {
  it('sends one ListModelPackages, Versioned and newest first, and maps the summaries', async () => {
    sm.on(ListModelPackagesCommand).resolves({
      ModelPackageSummaryList: [
        { ModelPackageArn: arn(2), ModelPackageVersion: 2, ModelApprovalStatus: 'Approved', CreationTime: new Date(1795772642000), ModelPackageStatus: 'Completed' },
        // No ModelApprovalStatus: SageMaker's default.
        { ModelPackageArn: arn(1), ModelPackageVersion: 1, CreationTime: new Date(1795772000000), ModelPackageStatus: 'Completed' },
      ],
      NextToken: 'page-2',
    });

    const page = await registry.listModelPackages({ group: 'fraud-detector' });

    expect(sm.commandCalls(ListModelPackagesCommand).map((c) => c.args[0].input)).toEqual([QUERY]);
    expect(page).toEqual({
      items: [
        { arn: arn(2), version: 2, status: 'Approved', createdAt: 1795772642000 },
        { arn: arn(1), version: 1, status: 'PendingManualApproval', createdAt: 1795772000000 },
      ],
      nextToken: 'page-2',
    });
  });

  it('passes NextToken on, and the last page has none', async () => {
    sm.on(ListModelPackagesCommand).resolves({ ModelPackageSummaryList: [] });
    const page = await registry.listModelPackages({ group: 'fraud-detector', nextToken: 'page-2' });
    expect(sm.commandCalls(ListModelPackagesCommand).map((c) => c.args[0].input)).toEqual([{ ...QUERY, NextToken: 'page-2' }]);
    expect(page).toEqual({ items: [] });
  });
});

describe('sageMakerRegistry.describeModelPackageDetail', () => {
  const answer = {
    ModelPackageGroupName: 'fraud-detector',
    ModelPackageVersion: 1,
    ModelPackageArn: arn(1),
    ModelPackageDescription: 'XGBoost fraud model',
    ModelApprovalStatus: 'Approved' as const,
    ModelPackageStatus: 'Completed' as const,
    CreationTime: new Date(1795772642123),
    LastModifiedTime: new Date(1795772700456),
    InferenceSpecification: { Containers: [{ Image: 'img', ModelDataUrl: 's3://acme-ml-artifacts-123456789012/fraud-detector/training/job-1/output/model.tar.gz' }] },
    ModelMetrics: { ModelQuality: { Statistics: { ContentType: 'application/json', S3Uri: 's3://acme-ml-artifacts-123456789012/eval/evaluation.json' } } },
    MetadataProperties: { GeneratedBy: 'pipeline' },
    CustomerMetadataProperties: { fairness_review: '1' },
    CreatedBy: { IamIdentity: { Arn: 'arn:aws:sts::123456789012:assumed-role/DataScientist/jdoe' } },
  };

  it('projects DescribeModelPackage onto the event detail, with epoch-ms timestamps', async () => {
    sm.on(DescribeModelPackageCommand).resolves(answer);
    const detail = await registry.describeModelPackageDetail(arn(1));
    expect(sm.commandCalls(DescribeModelPackageCommand).map((c) => c.args[0].input)).toEqual([{ ModelPackageName: arn(1) }]);
    const { CreatedBy: _who, ...rest } = answer;
    expect(detail).toEqual({ ...rest, CreationTime: 1795772642123, LastModifiedTime: 1795772700456 });
  });

  it('an answer that contradicts itself is a ValidationError naming the field', async () => {
    sm.on(DescribeModelPackageCommand).resolves({ ...answer, ModelPackageVersion: 2 });
    await expect(registry.describeModelPackageDetail(arn(1))).rejects.toThrow(ValidationError);
    await expect(registry.describeModelPackageDetail(arn(1))).rejects.toThrow(/ModelPackageArn: does not name ModelPackageGroupName and ModelPackageVersion/);
  });
});

describe('sageMakerRegistry and lifecycle stages', () => {
  const answer = {
    ModelPackageGroupName: 'fraud-detector',
    ModelPackageVersion: 1,
    ModelPackageArn: arn(1),
    ModelApprovalStatus: 'PendingManualApproval' as const,
    CreationTime: new Date(1795772642123),
    LastModifiedTime: new Date(1795772700456),
    ModelLifeCycle: { Stage: 'PreProduction', StageStatus: 'PendingApproval', StageDescription: 'shadow endpoint' },
    LastModifiedBy: { IamIdentity: { Arn: 'arn:aws:sts::123456789012:assumed-role/DataScientist/jdoe' } },
  };

  it('describeModelPackageDetail projects ModelLifeCycle as the event carries it', async () => {
    sm.on(DescribeModelPackageCommand).resolves(answer);
    const detail = await registry.describeModelPackageDetail(arn(1));
    expect(detail.ModelLifeCycle).toEqual({ Stage: 'PreProduction', StageStatus: 'PendingApproval', StageDescription: 'shadow endpoint' });
  });

  it('describeModelPackageDetail refuses an answer whose stage SageMaker could not hold, naming the field', async () => {
    sm.on(DescribeModelPackageCommand).resolves({ ...answer, ModelLifeCycle: { Stage: 'Pre Production', StageStatus: 'PendingApproval' } });
    await expect(registry.describeModelPackageDetail(arn(1))).rejects.toThrow(/ModelLifeCycle\.Stage: must be 1–63 letters/);
  });

  it('describeModelPackage answers the lifecycle stage with the status (for a same-second tie)', async () => {
    sm.on(DescribeModelPackageCommand).resolves(answer);
    expect(await registry.describeModelPackage(arn(1))).toEqual({
      lastModifiedBy: 'arn:aws:sts::123456789012:assumed-role/DataScientist/jdoe',
      status: 'PendingManualApproval',
      lifeCycle: { stage: 'PreProduction', status: 'PendingApproval', description: 'shadow endpoint' },
    });
  });

  it('setStageStatus sends one UpdateModelPackage with ModelLifeCycle and the ClientToken, and no approval status', async () => {
    sm.on(UpdateModelPackageCommand).resolves({ ModelPackageArn: arn(1) });
    await registry.setStageStatus({ modelPackageArn: arn(1), stage: 'Production', status: 'Rejected', description: 'modelgate: rejected', clientToken: 'c0ffee00-0000-4000-8000-000000000001' });
    expect(sm.commandCalls(UpdateModelPackageCommand).map((c) => c.args[0].input)).toEqual([
      {
        ModelPackageArn: arn(1),
        ModelLifeCycle: { Stage: 'Production', StageStatus: 'Rejected', StageDescription: 'modelgate: rejected' },
        ClientToken: 'c0ffee00-0000-4000-8000-000000000001',
      },
    ]);
  });

  it('setStageStatus passes a refusal on (a stage status has no fallback): the effect stays pending', async () => {
    sm.on(UpdateModelPackageCommand).rejects(Object.assign(new Error('Stage transition refused'), { name: 'ValidationException' }));
    await expect(
      registry.setStageStatus({ modelPackageArn: arn(1), stage: 'Production', status: 'Approved', description: 'd', clientToken: 'c0ffee00-0000-4000-8000-000000000002' }),
    ).rejects.toThrow('Stage transition refused');
  });
});
