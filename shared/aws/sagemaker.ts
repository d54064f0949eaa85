import {
  BatchDescribeModelPackageCommand,
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
import { sageMakerEndpoints } from './sagemaker-endpoints.js';
import type { ModelPackageBrief, ModelPackageSummary, Registry } from '../ports.js';
import * as z from '../schemas/zod.js';
import { ApprovalStatuses, ModelPackageDetailSchema, TrainingJobDetailSchema, type ApprovalStatus } from '../schemas/events.js';

/** ListTags' answer, as far as modelgate reads it. */
const ListTagsAnswerSchema = /* @__PURE__ */ z.schema(() => z.looseObject({
  Tags: z.optional(z.array(z.looseObject({ Key: z.string().check(z.minLength(1)), Value: z.string() }))),
  NextToken: z.optional(z.string()),
}));

/** BatchDescribeModelPackage's limit on ARNs per request (ModelPackageArnList: 1–100 items, API reference). */
export const BATCH_DESCRIBE_ARNS = 100;

/**
 * BatchDescribeModelPackage's answer, as far as modelgate reads it: two maps keyed by the ARN
 * asked for. A summary (BatchDescribeModelPackageSummary) carries the group, version, ARN,
 * description, CreationTime, InferenceSpecification, ModelPackageStatus, ModelApprovalStatus and
 * ModelPackageRegistrationType; it has no LastModifiedTime, ModelMetrics, MetadataProperties,
 * CustomerMetadataProperties, ApprovalDescription, CreatedBy or LastModifiedBy.
 */
const BatchDescribeAnswerSchema = /* @__PURE__ */ z.schema(() => z.looseObject({
  ModelPackageSummaries: z.optional(
    z.record(
      z.string(),
      z.looseObject({
        ModelPackageGroupName: z.string().check(z.minLength(1), z.maxLength(63)),
        ModelPackageVersion: z.optional(z.int().check(z.gte(1))),
        ModelPackageArn: z.string().check(z.regex(/^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package\/.+$/, 'must be a SageMaker model-package ARN')),
        CreationTime: z.date(),
        ModelPackageStatus: z.string().check(z.minLength(1)),
        ModelApprovalStatus: z.optional(z.enum(ApprovalStatuses)),
      }),
    ),
  ),
  BatchDescribeModelPackageErrorMap: z.optional(z.record(z.string(), z.looseObject({ ErrorCode: z.string(), ErrorResponse: z.string() }))),
}));

/** SageMaker answers an unknown name with ValidationException "…not found" (some calls: ResourceNotFound). */
const isNotFound = (e: unknown): boolean =>
  e instanceof Error && (e.name === 'ResourceNotFound' || (e.name === 'ValidationException' && /not (be )?found/i.test(e.message)));

export function sageMakerRegistry(client: SageMakerClient): Registry {
  return {
    ...sageMakerEndpoints(client),
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

    async batchDescribeModelPackages(arns) {
      const found: ModelPackageBrief[] = [];
      const failed: Array<{ arn: string; errorCode: string; errorResponse: string }> = [];
      const unique = [...new Set(arns)];
      for (let start = 0; start < unique.length; start += BATCH_DESCRIBE_ARNS) {
        const chunk = unique.slice(start, start + BATCH_DESCRIBE_ARNS);
        const out = await client.send(new BatchDescribeModelPackageCommand({ ModelPackageArnList: chunk }));
        const parsed = BatchDescribeAnswerSchema.safeParse(out);
        if (!parsed.success) throw new ValidationError('BatchDescribeModelPackage answer', describeIssues(parsed.error.issues));
        // Object.entries reads own properties only; the maps are keyed by the ARNs asked for.
        for (const [asked, s] of Object.entries(parsed.data.ModelPackageSummaries ?? {})) {
          const version = s.ModelPackageVersion ?? Number(/\/(\d+)$/.exec(s.ModelPackageArn)?.[1]);
          if (!Number.isInteger(version)) {
            throw new ValidationError('BatchDescribeModelPackage answer', [`ModelPackageSummaries.${asked}.ModelPackageVersion: missing, and the ARN names none`]);
          }
          found.push({
            arn: s.ModelPackageArn,
            group: s.ModelPackageGroupName,
            version,
            // SageMaker's default for a version registered without one, as in ListModelPackages.
            status: s.ModelApprovalStatus ?? 'PendingManualApproval',
            packageStatus: s.ModelPackageStatus,
            createdAt: s.CreationTime.getTime(),
          });
        }
        for (const [arn, e] of Object.entries(parsed.data.BatchDescribeModelPackageErrorMap ?? {})) {
          failed.push({ arn, errorCode: e.ErrorCode, errorResponse: e.ErrorResponse });
        }
      }
      return { found, failed };
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
