import {
  DescribeModelPackageCommand,
  DescribeTrainingJobCommand,
  ListModelPackagesCommand,
  UpdateModelPackageCommand,
  type SageMakerClient,
  type UserContext,
} from '@aws-sdk/client-sagemaker';
import { ValidationError, describeIssues } from '../domain/errors.js';
import type { ModelPackageSummary, Registry } from '../ports.js';
import { ModelPackageDetailSchema, TrainingJobDetailSchema, type ApprovalStatus } from '../schemas/events.js';

/** SageMaker answers an unknown name with ValidationException "…not found" (some calls: ResourceNotFound). */
const isNotFound = (e: unknown): boolean =>
  e instanceof Error && (e.name === 'ResourceNotFound' || (e.name === 'ValidationException' && /not (be )?found/i.test(e.message)));

export function sageMakerRegistry(client: SageMakerClient): Registry {
  return {
    async describeTrainingJob(name) {
      let out;
      try {
        out = await client.send(new DescribeTrainingJobCommand({ TrainingJobName: name }));
      } catch (e) {
        if (isNotFound(e)) return undefined;
        throw e;
      }
      const metrics: Record<string, number> = {};
      for (const m of out.FinalMetricDataList ?? []) {
        if (m.MetricName !== undefined && m.Value !== undefined && Number.isFinite(m.Value)) metrics[m.MetricName] = m.Value;
      }
      // DescribeTrainingJob is the shape the event projects; parse it with the event's schema.
      const detail = TrainingJobDetailSchema.parse({
        ...out,
        CreationTime: out.CreationTime?.getTime(),
        TrainingEndTime: out.TrainingEndTime?.getTime(),
        LastModifiedTime: (out.LastModifiedTime ?? out.CreationTime)?.getTime(),
      });
      return { detail, metrics };
    },

    async describeModelPackage(arn) {
      const out = await client.send(new DescribeModelPackageCommand({ ModelPackageName: arn }));
      const createdBy = identity(out.CreatedBy);
      const lastModifiedBy = identity(out.LastModifiedBy);
      const status = out.ModelApprovalStatus;
      return {
        ...(createdBy ? { createdBy } : {}),
        ...(lastModifiedBy ? { lastModifiedBy } : {}),
        ...(status ? { status } : {}),
      };
    },

    async listModelPackages({ group, nextToken }) {
      const out = await client.send(
        new ListModelPackagesCommand({
          ModelPackageGroupName: group,
          ModelPackageType: 'Versioned',
          SortBy: 'CreationTime',
          SortOrder: 'Descending',
          MaxResults: 100,
          ...(nextToken ? { NextToken: nextToken } : {}),
        }),
      );
      const items: ModelPackageSummary[] = [];
      for (const s of out.ModelPackageSummaryList ?? []) {
        const arn = s.ModelPackageArn;
        const version = s.ModelPackageVersion ?? Number(/\/(\d+)$/.exec(arn ?? '')?.[1]);
        if (!arn || !Number.isInteger(version)) continue; // not a versioned package: nothing to reconcile
        items.push({
          arn,
          version,
          // SageMaker's default for a version registered without one.
          status: (s.ModelApprovalStatus ?? 'PendingManualApproval') as ApprovalStatus,
          createdAt: s.CreationTime?.getTime() ?? 0,
        });
      }
      return { items, ...(out.NextToken ? { nextToken: out.NextToken } : {}) };
    },

    async describeModelPackageDetail(arn) {
      const out = await client.send(new DescribeModelPackageCommand({ ModelPackageName: arn }));
      // The fields the "Model Package State Change" event projects, with epoch-ms timestamps.
      const projection = dropUndefined({
        ModelPackageGroupName: out.ModelPackageGroupName,
        ModelPackageVersion: out.ModelPackageVersion,
        ModelPackageArn: out.ModelPackageArn,
        ModelPackageDescription: out.ModelPackageDescription,
        ModelApprovalStatus: out.ModelApprovalStatus ?? 'PendingManualApproval',
        ModelPackageStatus: out.ModelPackageStatus,
        ApprovalDescription: out.ApprovalDescription,
        CreationTime: out.CreationTime?.getTime(),
        LastModifiedTime: (out.LastModifiedTime ?? out.CreationTime)?.getTime(),
        InferenceSpecification: out.InferenceSpecification,
        ModelMetrics: out.ModelMetrics,
        MetadataProperties: out.MetadataProperties,
        CustomerMetadataProperties: out.CustomerMetadataProperties,
      });
      const parsed = ModelPackageDetailSchema.safeParse(projection);
      if (!parsed.success) throw new ValidationError(`DescribeModelPackage answer for ${arn}`, describeIssues(parsed.error.issues));
      return parsed.data;
    },

    async setApprovalStatus({ modelPackageArn, status, description, clientToken }) {
      try {
        await client.send(
          new UpdateModelPackageCommand({
            ModelPackageArn: modelPackageArn,
            ModelApprovalStatus: status,
            ApprovalDescription: description,
            ClientToken: clientToken,
          }),
        );
        return 'updated';
      } catch (e) {
        if (e instanceof Error && e.name === 'ValidationException' && !isNotFound(e)) return 'refused';
        throw e;
      }
    },
  };
}

function dropUndefined<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The IAM identity when SageMaker gives one, else the Studio user profile. */
function identity(u: UserContext | undefined): string | undefined {
  return u?.IamIdentity?.Arn ?? u?.UserProfileName ?? u?.UserProfileArn;
}
