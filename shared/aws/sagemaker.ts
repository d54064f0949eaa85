import {
  DescribeModelPackageCommand,
  DescribeTrainingJobCommand,
  ListModelPackagesCommand,
  ListTagsCommand,
  UpdateModelPackageCommand,
  paginateListTags,
  type SageMakerClient,
  type UserContext,
} from '@aws-sdk/client-sagemaker';
import { ValidationError, describeIssues } from '../domain/errors.js';
import type { ModelPackageSummary, Registry } from '../ports.js';
import { z } from 'zod';
import { ModelPackageDetailSchema, TrainingJobDetailSchema, type ApprovalStatus } from '../schemas/events.js';

/** ListTags' answer, as far as modelgate reads it. */
const ListTagsAnswerSchema = z.looseObject({
  Tags: z.array(z.looseObject({ Key: z.string().min(1), Value: z.string() })).optional(),
  NextToken: z.string().optional(),
});

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
      // Object.fromEntries defines own properties: a metric named like `__proto__` is kept, not lost.
      const metrics: Record<string, number> = Object.fromEntries(
        (out.FinalMetricDataList ?? []).flatMap((m) =>
          m.MetricName !== undefined && m.Value !== undefined && Number.isFinite(m.Value) ? [[m.MetricName, m.Value] as const] : [],
        ),
      );
      // DescribeTrainingJob is the shape the event projects; parse it with the event's schema. Its
      // answer has no Tags (they come from ListTags): anything under that name is not trusted.
      const { Tags: _notInTheAnswer, ...answer } = out as typeof out & { Tags?: unknown };
      const parsed = TrainingJobDetailSchema.safeParse({
        ...answer,
        CreationTime: out.CreationTime?.getTime(),
        TrainingEndTime: out.TrainingEndTime?.getTime(),
        LastModifiedTime: (out.LastModifiedTime ?? out.CreationTime)?.getTime(),
      });
      if (!parsed.success) throw new ValidationError(`DescribeTrainingJob answer for ${name}`, describeIssues(parsed.error.issues));
      return { detail: parsed.data, metrics };
    },

    async listTags(arn) {
      const tags: Array<[string, string]> = [];
      const pages = paginateListTags(
        // The paginator reuses one input object for every page; a copy per command keeps each
        // request as it was sent. A repeated NextToken ends the listing instead of looping.
        { client, pageSize: 100, stopOnSameToken: true, withCommand: (c) => new ListTagsCommand({ ...c.input }) },
        { ResourceArn: arn },
      );
      for await (const page of pages) {
        const parsed = ListTagsAnswerSchema.safeParse(page);
        if (!parsed.success) throw new ValidationError(`ListTags answer for ${arn}`, describeIssues(parsed.error.issues));
        for (const t of parsed.data.Tags ?? []) tags.push([t.Key, t.Value]);
      }
      // Own properties whatever the key (`__proto__` is a legal tag key).
      return Object.fromEntries(tags);
    },

    async describeModelPackage(arn) {
      const out = await client.send(new DescribeModelPackageCommand({ ModelPackageName: arn }));
      const createdBy = identity(out.CreatedBy);
      const lastModifiedBy = identity(out.LastModifiedBy);
      const status = out.ModelApprovalStatus;
      const lifeCycle = out.ModelLifeCycle?.Stage && out.ModelLifeCycle.StageStatus
        ? {
            stage: out.ModelLifeCycle.Stage,
            status: out.ModelLifeCycle.StageStatus,
            ...(out.ModelLifeCycle.StageDescription ? { description: out.ModelLifeCycle.StageDescription } : {}),
          }
        : undefined;
      return {
        ...(createdBy ? { createdBy } : {}),
        ...(lastModifiedBy ? { lastModifiedBy } : {}),
        ...(status ? { status } : {}),
        ...(lifeCycle ? { lifeCycle } : {}),
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
        ModelLifeCycle: out.ModelLifeCycle,
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

    async setStageStatus({ modelPackageArn, stage, status, description, clientToken }) {
      // ModelLifeCycle alone: the approval status is left as it is.
      await client.send(
        new UpdateModelPackageCommand({
          ModelPackageArn: modelPackageArn,
          ModelLifeCycle: { Stage: stage, StageStatus: status, StageDescription: description },
          ClientToken: clientToken,
        }),
      );
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
