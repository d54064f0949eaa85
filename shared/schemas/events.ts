import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/eventbridge';
import { z } from 'zod';
import { TimestampSchema } from '../domain/time.js';

/**
 * zod schemas for SageMaker's EventBridge events (shapes from the AWS documentation, see
 * ../shared/fixtures). Objects are loose: SageMaker adds fields over time, and an unknown field
 * must not fail an invocation. Fields modelgate relies on are required and checked.
 */
const S3UriSchema = z.string().regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/, 'must be an s3:// URI');
const ArnSchema = (resource: string) =>
  z.string().regex(new RegExp(`^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\\d{12}:${resource}/.+$`), `must be a SageMaker ${resource} ARN`);

export const TrainingJobStatuses = ['InProgress', 'Completed', 'Failed', 'Stopping', 'Stopped'] as const;

export const TrainingJobDetailSchema = z.looseObject({
  TrainingJobName: z.string().min(1).max(63),
  TrainingJobArn: ArnSchema('training-job'),
  TrainingJobStatus: z.enum(TrainingJobStatuses),
  FailureReason: z.string().optional(),
  HyperParameters: z.record(z.string(), z.string()).optional(),
  AlgorithmSpecification: z
    .looseObject({ TrainingImage: z.string().optional(), AlgorithmName: z.string().optional() })
    .optional(),
  RoleArn: z.string().optional(),
  InputDataConfig: z
    .array(
      z.looseObject({
        ChannelName: z.string().min(1),
        DataSource: z.looseObject({
          S3DataSource: z.looseObject({ S3Uri: S3UriSchema }).optional(),
        }),
      }),
    )
    .optional(),
  OutputDataConfig: z.looseObject({ S3OutputPath: z.string().optional() }).optional(),
  ModelArtifacts: z.looseObject({ S3ModelArtifacts: S3UriSchema }).optional(),
  CreationTime: TimestampSchema.optional(),
  TrainingEndTime: TimestampSchema.optional(),
  LastModifiedTime: TimestampSchema,
  Tags: z.record(z.string(), z.string()).optional(),
});
export type TrainingJobDetail = z.infer<typeof TrainingJobDetailSchema>;

export const ApprovalStatuses = ['PendingManualApproval', 'Approved', 'Rejected'] as const;
export type ApprovalStatus = (typeof ApprovalStatuses)[number];

const MetricsSourceSchema = z.looseObject({ S3Uri: S3UriSchema, ContentDigest: z.string().optional() });

export const ModelPackageDetailSchema = z
  .looseObject({
    ModelPackageGroupName: z.string().min(1).max(63),
    ModelPackageVersion: z.number().int().min(1),
    ModelPackageArn: ArnSchema('model-package'),
    ModelPackageDescription: z.string().optional(),
    ModelApprovalStatus: z.enum(ApprovalStatuses),
    ModelPackageStatus: z.string().optional(),
    ApprovalDescription: z.string().optional(),
    CreationTime: TimestampSchema,
    LastModifiedTime: TimestampSchema.optional(),
    InferenceSpecification: z
      .looseObject({
        Containers: z.array(
          z.looseObject({
            Image: z.string().optional(),
            ImageDigest: z.string().optional(),
            ModelDataUrl: S3UriSchema.optional(),
          }),
        ),
      })
      .optional(),
    ModelMetrics: z
      .looseObject({
        ModelQuality: z.looseObject({ Statistics: MetricsSourceSchema.optional() }).optional(),
      })
      .optional(),
    MetadataProperties: z.looseObject({ GeneratedBy: z.string().optional() }).optional(),
    CustomerMetadataProperties: z.record(z.string(), z.string()).optional(),
  })
  .superRefine((d, ctx) => {
    // The ARN names the group and version: a detail that contradicts itself is refused.
    const suffix = `:model-package/${d.ModelPackageGroupName.toLowerCase()}/${d.ModelPackageVersion}`;
    if (!d.ModelPackageArn.toLowerCase().endsWith(suffix)) {
      ctx.addIssue({
        code: 'custom',
        path: ['ModelPackageArn'],
        message: 'does not name ModelPackageGroupName and ModelPackageVersion',
      });
    }
  });
export type ModelPackageDetail = z.infer<typeof ModelPackageDetailSchema>;

export const TrainingJobStateChangeSchema = EventBridgeSchema.extend({
  source: z.literal('aws.sagemaker'),
  'detail-type': z.literal('SageMaker Training Job State Change'),
  detail: TrainingJobDetailSchema,
});
export type TrainingJobStateChange = z.infer<typeof TrainingJobStateChangeSchema>;

export const ModelPackageStateChangeSchema = EventBridgeSchema.extend({
  source: z.literal('aws.sagemaker'),
  'detail-type': z.literal('SageMaker Model Package State Change'),
  detail: ModelPackageDetailSchema,
});
export type ModelPackageStateChange = z.infer<typeof ModelPackageStateChangeSchema>;
