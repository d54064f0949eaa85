/**
 * The Registry methods reconciliation uses, against aws-sdk-client-mock: the exact
 * ListModelPackages input, NextToken passed through, BatchDescribeModelPackage in chunks of 100
 * with its two maps, and DescribeModelPackage projected onto the event's detail. Assertions read
 * `mock.commandCalls(...)` (see adapters.test.ts for why).
 */
import { BatchDescribeModelPackageCommand, DescribeModelPackageCommand, ListModelPackagesCommand, SageMakerClient, UpdateModelPackageCommand } from '@aws-sdk/client-sagemaker';
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

describe('sageMakerRegistry.batchDescribeModelPackages', () => {
  const summary = (v: number, status?: 'Approved' | 'Rejected' | 'PendingManualApproval') => ({
    ModelPackageGroupName: 'fraud-detector',
    ModelPackageVersion: v,
    ModelPackageArn: arn(v),
    ModelPackageDescription: `XGBoost fraud model v${v}`,
    CreationTime: new Date(1795772000000 + v),
    InferenceSpecification: { Containers: [{ Image: 'img', ModelDataUrl: `s3://acme-ml-artifacts-123456789012/fraud-detector/training/job-${v}/output/model.tar.gz` }] },
    ModelPackageStatus: 'Completed' as const,
    ...(status ? { ModelApprovalStatus: status } : {}),
    ModelPackageRegistrationType: 'Registered' as const,
  });
  /** Answers each request from its own ARN list: every ARN described, except version 13, which is unknown. */
  const answerEachRequest = () =>
    sm.on(BatchDescribeModelPackageCommand).callsFake((input: { ModelPackageArnList: string[] }) => {
      const known = input.ModelPackageArnList.filter((a) => a !== arn(13));
      return {
        ModelPackageSummaries: Object.fromEntries(known.map((a) => [a, summary(Number(a.split('/').pop()), 'Approved')])),
        ...(known.length < input.ModelPackageArnList.length
          ? { BatchDescribeModelPackageErrorMap: { [arn(13)]: { ErrorCode: 'ValidationException', ErrorResponse: `Model package ${arn(13)} not found.` } } }
          : {}),
      };
    });

  it('sends one BatchDescribeModelPackage per 100 ARNs, in order, and maps the summaries and the errors', async () => {
    answerEachRequest();
    const arns = Array.from({ length: 250 }, (_, i) => arn(i + 1));

    const answer = await registry.batchDescribeModelPackages(arns);

    expect(sm.commandCalls(BatchDescribeModelPackageCommand).map((c) => c.args[0].input)).toEqual([
      { ModelPackageArnList: arns.slice(0, 100) },
      { ModelPackageArnList: arns.slice(100, 200) },
      { ModelPackageArnList: arns.slice(200, 250) },
    ]);
    expect(sm.commandCalls(DescribeModelPackageCommand)).toHaveLength(0);
    expect(answer.found).toHaveLength(249);
    expect(answer.found[0]).toEqual({ arn: arn(1), group: 'fraud-detector', version: 1, status: 'Approved', packageStatus: 'Completed', createdAt: 1795772000001 });
    expect(answer.found.map((f) => f.arn)).not.toContain(arn(13));
    expect(answer.failed).toEqual([{ arn: arn(13), errorCode: 'ValidationException', errorResponse: `Model package ${arn(13)} not found.` }]);
  });

  it('asks for each ARN once, and sends nothing for an empty list', async () => {
    answerEachRequest();
    expect(await registry.batchDescribeModelPackages([])).toEqual({ found: [], failed: [] });
    expect(sm.commandCalls(BatchDescribeModelPackageCommand)).toHaveLength(0);

    await registry.batchDescribeModelPackages([arn(2), arn(1), arn(2)]);
    expect(sm.commandCalls(BatchDescribeModelPackageCommand).map((c) => c.args[0].input)).toEqual([{ ModelPackageArnList: [arn(2), arn(1)] }]);
  });

  it("a summary without ModelApprovalStatus has SageMaker's default, and one without a version takes it from the ARN", async () => {
    const { ModelPackageVersion: _v, ...versionless } = summary(7);
    sm.on(BatchDescribeModelPackageCommand).resolves({ ModelPackageSummaries: { [arn(7)]: versionless } });
    expect((await registry.batchDescribeModelPackages([arn(7)])).found).toEqual([
      { arn: arn(7), group: 'fraud-detector', version: 7, status: 'PendingManualApproval', packageStatus: 'Completed', createdAt: 1795772000007 },
    ]);
  });

  it('an answer modelgate cannot read is a ValidationError naming the field', async () => {
    sm.on(BatchDescribeModelPackageCommand).resolves({ ModelPackageSummaries: { [arn(1)]: { ...summary(1), ModelApprovalStatus: 'Maybe' as never } } });
    const error = await registry.batchDescribeModelPackages([arn(1)]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).problems).toEqual([
      `ModelPackageSummaries.${arn(1)}.ModelApprovalStatus: Invalid option: expected one of "PendingManualApproval"|"Approved"|"Rejected"`,
    ]);
  });

  it("SageMaker's error (throttling) reaches the caller", async () => {
    sm.on(BatchDescribeModelPackageCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await expect(registry.batchDescribeModelPackages([arn(1)])).rejects.toThrow('Rate exceeded');
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
