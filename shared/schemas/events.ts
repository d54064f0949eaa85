import * as z from './zod.js';
import { TimestampSchema } from '../domain/time.js';
import { EventBridgeEnvelope } from './envelopes.js';

/**
 * zod schemas for SageMaker's EventBridge events (shapes from the AWS documentation; its samples
 * are in test/fixtures). Objects are loose: SageMaker adds fields over time, and an unknown field
 * must not fail an invocation. Fields modelgate relies on are required and checked.
 */
const S3UriSchema = /* @__PURE__ */ z.schema(() => z.string().check(z.regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/, 'must be an s3:// URI')));
const ArnSchema = (resource: string) =>
  z.string().check(z.regex(new RegExp(`^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\\d{12}:${resource}/.+$`), `must be a SageMaker ${resource} ARN`));

/**
 * SageMaker's documented API limits, applied to the fields modelgate stores, so that an event that
 * SageMaker could not have sent is refused with the field named instead of failing in DynamoDB
 * (item size, two writes on one key) after Lambda's retries. Lengths are in characters (Unicode
 * code points, as the API's length constraints count them), not UTF-16 units.
 *
 * - HyperParameters: at most 100 entries, key ≤ 256, value ≤ 2500, and InputDataConfig: at most 20
 *   channels (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_TrainingJobDefinition.html,
 *   the same shapes as API_CreateTrainingJob / API_DescribeTrainingJob).
 * - ChannelName: 1–64 characters of `[A-Za-z0-9\.\-_]` (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_Channel.html);
 *   unique within a job (each channel is one `INPUT#<channel>` item).
 * - Tags: at most 50 per resource (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateTrainingJob.html),
 *   key 1–128, value 0–256 (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_Tag.html).
 * - CustomerMetadataProperties: at most 50 entries, key 1–128, value 1–256; ModelPackageDescription
 *   and ApprovalDescription ≤ 1024 (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ModelPackage.html,
 *   API_ModelPackageSummary.html).
 */
export const SAGEMAKER_LIMITS = {
  // SageMaker documents no minimum key length, but DynamoDB refuses an empty map entry name, so an
  // empty key could not be stored as it is: it is refused here, by name, before anything is written.
  hyperParameters: { entries: 100, key: { min: 1, max: 256 }, value: { min: 0, max: 2500 } },
  channels: 20,
  channelName: { min: 1, max: 64 },
  tags: { entries: 50, key: { min: 1, max: 128 }, value: { min: 0, max: 256 } },
  customerMetadata: { entries: 50, key: { min: 1, max: 128 }, value: { min: 1, max: 256 } },
  description: 1024,
} as const;

/** Characters as the SageMaker API counts them (code points: an emoji is one, not two). */
export const charCount = (s: string): number => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

/**
 * zod/mini hands a transform the bare parse payload, which has no `addIssue` (classic zod adds one):
 * this reports an issue as classic's `ctx.addIssue` did, a custom issue carrying the input.
 */
const transformIssues =
  (ctx: z.core.ParsePayload) =>
  (issue: { code: 'custom'; path?: PropertyKey[]; message: string }): void => {
    ctx.issues.push({ ...issue, input: ctx.value });
  };

const between = (n: number, { min, max }: { min: number; max: number }): string | undefined =>
  n < min || n > max ? `is ${n} characters; SageMaker allows ${min === 0 ? `at most ${max}` : `${min}–${max}`}` : undefined;

/** A string of at most `max` characters (code points). */
const Text = (max: number) =>
  z.string().check(
    z.superRefine((s, ctx) => {
      const problem = between(charCount(s), { min: 0, max });
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
  );

/**
 * A string-to-string map whose keys are the customer's (Tags, HyperParameters,
 * CustomerMetadataProperties). `constructor`, `toString`, `hasOwnProperty` and `__proto__` are
 * legal keys there. `z.record` skips a `__proto__` key (it would otherwise hit the prototype setter
 * of the `{}` it builds), so that entry would be lost without a word: this schema checks every own
 * key and builds its output with `Object.fromEntries`, which creates own data properties (no
 * setter runs, no prototype is touched). Each problem is named by its key.
 */
const StringMap = (limits: {
  entries: number;
  key: { min: number; max: number };
  value: { min: number; max: number };
  /** Which keys count toward `entries` (default: all). */
  counts?: (key: string) => boolean;
}) =>
  z.pipe(
    z.unknown(),
    z.transform((input, ctx): Record<string, string> => {
      const addIssue = transformIssues(ctx);
      if (typeof input !== 'object' || input === null || Array.isArray(input)) {
        addIssue({ code: 'custom', message: 'expected an object of strings' });
        return z.NEVER;
      }
      const entries = Object.entries(input);
      for (const [key, value] of entries) {
        const keyProblem = between(charCount(key), limits.key);
        if (keyProblem) addIssue({ code: 'custom', path: [key], message: `key ${keyProblem}` });
        if (typeof value !== 'string') addIssue({ code: 'custom', path: [key], message: `expected a string, received ${value === null ? 'null' : typeof value}` });
        else {
          const valueProblem = between(charCount(value), limits.value);
          if (valueProblem) addIssue({ code: 'custom', path: [key], message: `value ${valueProblem}` });
        }
      }
      const counted = limits.counts ? entries.filter(([k]) => limits.counts?.(k)).length : entries.length;
      if (counted > limits.entries) addIssue({ code: 'custom', message: `has ${counted} entries; SageMaker allows at most ${limits.entries}` });
      return Object.fromEntries(entries) as Record<string, string>;
    }),
  );

/**
 * Tags whose keys start with `aws:` or `sagemaker:` are added by AWS itself (SageMaker Studio adds
 * `sagemaker:user-profile-arn`, `sagemaker:domain-arn`, …); AWS's tagging rules do not count
 * system tags toward a resource's limit, so an event is not refused for carrying them.
 */
const isUserTag = (key: string): boolean => !/^(aws|sagemaker):/i.test(key);
const TagsSchema = /* @__PURE__ */ z.schema(() => StringMap({ ...SAGEMAKER_LIMITS.tags, counts: isUserTag }));

/**
 * SageMaker's strings are UTF-8, so a lone UTF-16 surrogate (`"\ud83d"` in the event's JSON) cannot
 * come from it; DynamoDB could not store it as it is, and the audit hash (RFC 8785) refuses it.
 * Every string and map key of a detail is checked, unknown fields included, and each one is named.
 */
/** With the `u` flag a surrogate class matches only a surrogate that is not half of a pair. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
const isWellFormed = (s: string): boolean => !LONE_SURROGATE.test(s);

/**
 * Each issue gets a path array of its own (`[...path]`): an enclosing zod/mini object prefixes an
 * issue's path in place, so two issues sharing one array would each get the prefix twice.
 */
function refuseLoneSurrogates(value: unknown, ctx: z.core.$RefinementCtx, path: Array<string | number> = [], found = { n: 0 }): void {
  if (found.n >= 10) return;
  if (typeof value === 'string') {
    if (!isWellFormed(value)) {
      found.n++;
      ctx.addIssue({ code: 'custom', path: [...path], message: 'holds a lone UTF-16 surrogate, which no SageMaker string can' });
    }
    return;
  }
  if (value === null || typeof value !== 'object') return;
  for (const [k, v] of Object.entries(value)) {
    const at = [...path, Array.isArray(value) ? Number(k) : k];
    if (!isWellFormed(k)) {
      found.n++;
      ctx.addIssue({ code: 'custom', path: [...at], message: 'its key holds a lone UTF-16 surrogate, which no SageMaker string can' });
    }
    refuseLoneSurrogates(v, ctx, at, found);
  }
}

/**
 * An empty string read as absent, then `S3UriSchema` (optional): what classic zod's
 * `z.preprocess((v) => (v === '' ? undefined : v), S3UriSchema.optional())` did (zod/mini has no
 * `preprocess`). The outer `z.optional` gives the field the optionality that preprocess took from
 * its inner schema: an absent key stays absent.
 */
const OptionalS3UriOrEmpty = /* @__PURE__ */ z.schema(() => z.optional(z.pipe(z.transform((v: unknown) => (v === '' ? undefined : v)), z.optional(S3UriSchema))));

export const TrainingJobStatuses = ['InProgress', 'Completed', 'Failed', 'Stopping', 'Stopped'] as const;

export const TrainingJobDetailSchema = /* @__PURE__ */ z.schema(() => z
  .looseObject({
    TrainingJobName: z.string().check(z.minLength(1), z.maxLength(63)),
    TrainingJobArn: ArnSchema('training-job'),
    TrainingJobStatus: z.enum(TrainingJobStatuses),
    FailureReason: z.optional(z.string()),
    HyperParameters: z.optional(StringMap(SAGEMAKER_LIMITS.hyperParameters)),
    AlgorithmSpecification: z.optional(z.looseObject({ TrainingImage: z.optional(z.string()), AlgorithmName: z.optional(z.string()) })),
    RoleArn: z.optional(z.string()),
    InputDataConfig: z.optional(
      z
        .array(
          z.looseObject({
            ChannelName: z
              .string()
              .check(
                z.minLength(SAGEMAKER_LIMITS.channelName.min),
                z.maxLength(SAGEMAKER_LIMITS.channelName.max),
                z.regex(/^[A-Za-z0-9.\-_]+$/, 'must match [A-Za-z0-9.-_]+'),
              ),
            DataSource: z.looseObject({
              S3DataSource: z.optional(z.looseObject({ S3Uri: S3UriSchema })),
            }),
          }),
        )
        .check(
          z.maxLength(SAGEMAKER_LIMITS.channels),
          z.superRefine((channels, ctx) => {
            // Each channel is one item keyed by its name: two channels of one name would be two writes
            // of one key in one transaction, which DynamoDB refuses (ValidationException).
            const seen = new Map<string, number>();
            channels.forEach((c, i) => {
              const first = seen.get(c.ChannelName);
              if (first === undefined) seen.set(c.ChannelName, i);
              else ctx.addIssue({ code: 'custom', path: [i, 'ChannelName'], message: `duplicates the name of channel ${first}` });
            });
          }),
        ),
    ),
    OutputDataConfig: z.optional(z.looseObject({ S3OutputPath: z.optional(z.string()) })),
    // A job that is not Completed may carry `S3ModelArtifacts: ""` (or no ModelArtifacts): no artifact.
    // Parsed as absent, so the domain sees one "no artifact".
    ModelArtifacts: z.optional(z.looseObject({ S3ModelArtifacts: OptionalS3UriOrEmpty })),
    CreationTime: z.optional(TimestampSchema),
    TrainingEndTime: z.optional(TimestampSchema),
    LastModifiedTime: TimestampSchema,
    Tags: z.optional(TagsSchema),
  })
  .check(
    z.superRefine((d, ctx) => {
      // Only a Completed job has a model artifact: one that names an empty one is refused (the gate
      // links versions by it). No ModelArtifacts at all is accepted, as in AWS's own sample event.
      if (d.TrainingJobStatus === 'Completed' && d.ModelArtifacts && !d.ModelArtifacts.S3ModelArtifacts) {
        ctx.addIssue({ code: 'custom', path: ['ModelArtifacts', 'S3ModelArtifacts'], message: 'a Completed job must name its model artifact (an s3:// URI)' });
      }
      refuseLoneSurrogates(d, ctx);
    }),
  ));
export type TrainingJobDetail = z.infer<typeof TrainingJobDetailSchema>;

export const ApprovalStatuses = ['PendingManualApproval', 'Approved', 'Rejected'] as const;
export type ApprovalStatus = (typeof ApprovalStatuses)[number];

const MetricsSourceSchema = /* @__PURE__ */ z.schema(() => z.looseObject({ S3Uri: S3UriSchema, ContentDigest: z.optional(z.string()) }));

/**
 * A stage name or status in a version's ModelLifeCycle: 1–63 characters, alphanumerics and hyphens,
 * no leading or trailing hyphen (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ModelLifeCycle.html).
 * Names and statuses are free-form: the administrator defines them.
 */
export const STAGE_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;
export const StageNameSchema = /* @__PURE__ */ z.schema(() => z.string().check(z.regex(STAGE_NAME, 'must be 1–63 letters, digits and hyphens, starting and ending with a letter or digit')));

/** ModelLifeCycle: `Stage` and `StageStatus` required, `StageDescription` at most 1,024 characters. */
export const ModelLifeCycleSchema = /* @__PURE__ */ z.schema(() => z.looseObject({
  Stage: StageNameSchema,
  StageStatus: StageNameSchema,
  StageDescription: z.optional(Text(SAGEMAKER_LIMITS.description)),
}));
export type ModelLifeCycleDetail = z.infer<typeof ModelLifeCycleSchema>;

export const ModelPackageDetailSchema = /* @__PURE__ */ z.schema(() => z
  .looseObject({
    ModelPackageGroupName: z.string().check(z.minLength(1), z.maxLength(63)),
    ModelPackageVersion: z.int().check(z.gte(1)),
    ModelPackageArn: ArnSchema('model-package'),
    ModelPackageDescription: z.optional(Text(SAGEMAKER_LIMITS.description)),
    ModelApprovalStatus: z.enum(ApprovalStatuses),
    ModelPackageStatus: z.optional(z.string()),
    ApprovalDescription: z.optional(Text(SAGEMAKER_LIMITS.description)),
    CreationTime: TimestampSchema,
    LastModifiedTime: z.optional(TimestampSchema),
    InferenceSpecification: z.optional(
      z.looseObject({
        Containers: z.array(
          z.looseObject({
            Image: z.optional(z.string()),
            ImageDigest: z.optional(z.string()),
            ModelDataUrl: z.optional(S3UriSchema),
          }),
        ),
      }),
    ),
    ModelMetrics: z.optional(
      z.looseObject({
        ModelQuality: z.optional(z.looseObject({ Statistics: z.optional(MetricsSourceSchema) })),
      }),
    ),
    MetadataProperties: z.optional(z.looseObject({ GeneratedBy: z.optional(z.string()) })),
    CustomerMetadataProperties: z.optional(StringMap(SAGEMAKER_LIMITS.customerMetadata)),
    /** The version's lifecycle stage (README, "Lifecycle stages"): stage changes arrive on this event. */
    ModelLifeCycle: z.optional(ModelLifeCycleSchema),
  })
  .check(
    z.superRefine((d, ctx) => {
      // The ARN names the group and version: a detail that contradicts itself is refused.
      const suffix = `:model-package/${d.ModelPackageGroupName.toLowerCase()}/${d.ModelPackageVersion}`;
      if (!d.ModelPackageArn.toLowerCase().endsWith(suffix)) {
        ctx.addIssue({
          code: 'custom',
          path: ['ModelPackageArn'],
          message: 'does not name ModelPackageGroupName and ModelPackageVersion',
        });
      }
      refuseLoneSurrogates(d, ctx);
    }),
  ));
export type ModelPackageDetail = z.infer<typeof ModelPackageDetailSchema>;

export const TrainingJobStateChangeSchema = /* @__PURE__ */ z.schema(() => z.extend(EventBridgeEnvelope, {
  source: z.literal('aws.sagemaker'),
  'detail-type': z.literal('SageMaker Training Job State Change'),
  detail: TrainingJobDetailSchema,
}));
export type TrainingJobStateChange = z.infer<typeof TrainingJobStateChangeSchema>;

export const ModelPackageStateChangeSchema = /* @__PURE__ */ z.schema(() => z.extend(EventBridgeEnvelope, {
  source: z.literal('aws.sagemaker'),
  'detail-type': z.literal('SageMaker Model Package State Change'),
  detail: ModelPackageDetailSchema,
}));
export type ModelPackageStateChange = z.infer<typeof ModelPackageStateChangeSchema>;

/**
 * SageMaker's resource names (endpoints, endpoint configs, models, variants): 1–63 characters,
 * alphanumerics and hyphens, no leading or trailing hyphen
 * (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateEndpoint.html).
 */
export const ResourceNameSchema = /* @__PURE__ */ z.schema(() => z.string().check(z.regex(/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/, 'must be a SageMaker resource name')));

/**
 * "SageMaker Endpoint State Change". The AWS documentation's sample spells the status `IN_SERVICE`,
 * DescribeEndpoint spells it `InService`, and public consumers match both: both are accepted, and
 * `endpointStatus()` reads them as one. The event names neither the models nor the model packages
 * that the endpoint serves: the recorder asks SageMaker (DescribeEndpoint → DescribeEndpointConfig
 * → DescribeModel).
 */
export const EndpointDetailSchema = /* @__PURE__ */ z.schema(() => z.looseObject({
  EndpointName: ResourceNameSchema,
  EndpointArn: ArnSchema('endpoint'),
  EndpointConfigName: z.optional(ResourceNameSchema),
  EndpointStatus: z.string().check(z.minLength(1), z.maxLength(64)),
  CreationTime: z.optional(TimestampSchema),
  LastModifiedTime: z.optional(TimestampSchema),
}));
export type EndpointDetail = z.infer<typeof EndpointDetailSchema>;

export const EndpointStateChangeSchema = /* @__PURE__ */ z.schema(() => z.extend(EventBridgeEnvelope, {
  // The AWS documentation's sample of this event carries `time` as epoch milliseconds in a string
  // ("1583831889050"), where every other sample (and the EventBridge envelope) has an ISO time:
  // both are accepted, like every other timestamp.
  time: TimestampSchema,
  source: z.literal('aws.sagemaker'),
  'detail-type': z.literal('SageMaker Endpoint State Change'),
  detail: EndpointDetailSchema,
}));
export type EndpointStateChange = z.infer<typeof EndpointStateChangeSchema>;
