/**
 * The registry state machine behind the SageMaker stand-in: model package groups, versioned model
 * packages, training jobs. No I/O: each operation reads its input, checks everything, then changes
 * `state` and returns its output (timestamps as `Date`, serialised by ./protocol.ts) and the
 * EventBridge events SageMaker would emit. The server persists `state` and delivers the events.
 *
 * Shapes follow the SageMaker API reference (the types are the SDK's own); the events follow
 * SageMaker's samples (events/*.json, test/fixtures/*.json).
 */
import { createHash, randomUUID } from 'node:crypto';
import type {
  CreateModelPackageInput,
  CreateTrainingJobRequest,
  DescribeModelPackageOutput,
  DescribeTrainingJobResponse,
  ListModelPackagesOutput,
  ModelApprovalStatus,
  ModelPackageSummary,
  SecondaryStatus,
  Tag,
  TrainingJobStatus,
  UserContext,
} from '@aws-sdk/client-sagemaker';
import { InputReader, ServiceError, isObject, validationError } from './protocol.js';

// ---------------------------------------------------------------------------------------------
// State (what is persisted). Timestamps are epoch milliseconds.

export const STATE_FORMAT_VERSION = 1;

export interface RegistryState {
  formatVersion: typeof STATE_FORMAT_VERSION;
  region: string;
  account: string;
  /** Key: the group name, lower-cased (names are unique regardless of case, as the ARN is). */
  groups: Record<string, GroupRecord>;
  /** Key: the model package ARN. */
  packages: Record<string, PackageRecord>;
  /** Key: the training job name, lower-cased. */
  trainingJobs: Record<string, TrainingJobRecord>;
  /** CreateModelPackage's ClientToken → the request it came with and the answer. */
  createTokens: Record<string, TokenRecord>;
}

export interface GroupRecord {
  name: string;
  arn: string;
  description?: string;
  creationTime: number;
  createdBy: string;
  /** The last version number handed out; versions are never reused. */
  lastVersion: number;
}

/** What a ClientToken was first used with (a fingerprint of the other parameters) and the answer. */
export interface TokenRecord {
  fingerprint: string;
  output: { ModelPackageArn: string };
}

type PackageSpec = Pick<
  CreateModelPackageInput,
  | 'InferenceSpecification'
  | 'ModelMetrics'
  | 'MetadataProperties'
  | 'DriftCheckBaselines'
  | 'Domain'
  | 'Task'
  | 'SamplePayloadUrl'
  | 'SourceUri'
  | 'AdditionalInferenceSpecifications'
  | 'SkipModelValidation'
  | 'CertifyForMarketplace'
>;
const PACKAGE_SPEC_OBJECTS = ['InferenceSpecification', 'ModelMetrics', 'MetadataProperties', 'DriftCheckBaselines'] as const;
const PACKAGE_SPEC_STRINGS = ['Domain', 'Task', 'SamplePayloadUrl', 'SourceUri'] as const;

export interface PackageRecord {
  arn: string;
  groupName: string;
  version: number;
  description?: string;
  spec: PackageSpec;
  customerMetadata?: Record<string, string>;
  approvalStatus: ModelApprovalStatus;
  approvalDescription?: string;
  creationTime: number;
  lastModifiedTime: number;
  /** Access key ids of the callers. */
  createdBy: string;
  lastModifiedBy: string;
  /** UpdateModelPackage's ClientTokens for this package. */
  clientTokens: Record<string, TokenRecord>;
}

type TrainingSpec = Pick<
  CreateTrainingJobRequest,
  | 'HyperParameters'
  | 'AlgorithmSpecification'
  | 'RoleArn'
  | 'InputDataConfig'
  | 'OutputDataConfig'
  | 'ResourceConfig'
  | 'VpcConfig'
  | 'StoppingCondition'
  | 'EnableNetworkIsolation'
  | 'EnableInterContainerTrafficEncryption'
  | 'EnableManagedSpotTraining'
  | 'CheckpointConfig'
  | 'Environment'
  | 'RetryStrategy'
  | 'ExperimentConfig'
>;

export interface TrainingJobRecord {
  name: string;
  arn: string;
  status: TrainingJobStatus;
  secondaryStatus: SecondaryStatus;
  failureReason?: string;
  spec: TrainingSpec & { RoleArn: string; OutputDataConfig: { S3OutputPath: string } };
  tags: Array<{ Key: string; Value: string }>;
  creationTime: number;
  trainingStartTime?: number;
  trainingEndTime?: number;
  lastModifiedTime: number;
  transitions: Array<{ status: SecondaryStatus; start: number; end?: number; message: string }>;
  finalMetrics?: Array<{ name: string; value: number; timestamp: number }>;
  modelArtifacts?: string;
}

export const emptyState = (region: string, account: string): RegistryState => ({
  formatVersion: STATE_FORMAT_VERSION,
  region,
  account,
  groups: {},
  packages: {},
  trainingJobs: {},
  createTokens: {},
});

// ---------------------------------------------------------------------------------------------
// Events

export type SageMakerDetailType = 'SageMaker Training Job State Change' | 'SageMaker Model Package State Change';

export interface EventBridgeEvent {
  version: '0';
  id: string;
  'detail-type': SageMakerDetailType;
  source: 'aws.sagemaker';
  account: string;
  /** ISO 8601 to the second, as EventBridge writes it. */
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

/** What one operation did: its answer, the events to deliver, and whether `state` changed. */
export interface Outcome {
  output: Record<string, unknown>;
  events: EventBridgeEvent[];
  changed: boolean;
}

export interface Caller {
  /** From the SigV4 Authorization header (`anonymous` when the request was not signed). */
  accessKeyId: string;
}

// ---------------------------------------------------------------------------------------------
// Validation rules (SageMaker's own patterns and limits)

const ENTITY_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;
const GROUP_ARN = /^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package-group\/(.+)$/i;
/** DescribeModelPackage's ModelPackageName: a name, `group/version`, or an ARN (SageMaker's pattern). */
const PACKAGE_NAME_OR_ARN = /^(arn:aws[a-z-]*:sagemaker:[a-z0-9-]*:[0-9]{12}:[a-z-]*\/)?([a-zA-Z0-9]([a-zA-Z0-9-]){0,62})(?<!-)(\/[0-9]{1,5})?$/;
const PACKAGE_ARN = /^arn:aws[a-z-]*:sagemaker:[a-z0-9-]{9,16}:[0-9]{12}:model-package\/[\S]{1,2048}$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/?[a-zA-Z_0-9+=,.@\-_/]+$/;
const S3_PATH = /^(https|s3):\/\/([^/]+)\/?(.*)$/;
const APPROVAL_STATUSES = ['Approved', 'Rejected', 'PendingManualApproval'] as const satisfies readonly ModelApprovalStatus[];
const DESCRIPTION = { max: 1024 };
const METADATA_LIMITS = { maxEntries: 50, maxValue: 256 };
const UPDATE_FIELDS = ['ModelApprovalStatus', 'ApprovalDescription', 'CustomerMetadataProperties', 'CustomerMetadataPropertiesToRemove'];

/** SageMaker's default when CreateTrainingJob gives no StoppingCondition: one day. */
const DEFAULT_STOPPING_CONDITION = { MaxRuntimeInSeconds: 86400 };

const notFound = () => validationError('Requested resource not found.');

// ---------------------------------------------------------------------------------------------

export interface RegistryOptions {
  region: string;
  account: string;
  state?: RegistryState;
  now?: () => number;
  newId?: () => string;
}

export class Registry {
  state: RegistryState;
  readonly region: string;
  readonly account: string;
  private readonly now: () => number;
  private readonly newId: () => string;

  constructor(opts: RegistryOptions) {
    this.region = opts.region;
    this.account = opts.account;
    this.now = opts.now ?? Date.now;
    this.newId = opts.newId ?? randomUUID;
    if (opts.state && (opts.state.region !== opts.region || opts.state.account !== opts.account)) {
      throw new Error(
        `the saved state belongs to account ${opts.state.account} in ${opts.state.region}, not ${opts.account} in ${opts.region}: ` +
          'start with the same region and account, or with another state file',
      );
    }
    this.state = opts.state ?? emptyState(opts.region, opts.account);
  }

  private arn(resource: string): string {
    return `arn:aws:sagemaker:${this.region}:${this.account}:${resource}`;
  }

  /** Later than `previous` by at least 1 ms, so that LastModifiedTime orders every change. */
  private tick(previous = 0): number {
    return Math.max(this.now(), previous + 1);
  }

  private userContext(accessKeyId: string): UserContext {
    return { IamIdentity: { Arn: `arn:aws:sts::${this.account}:assumed-role/local/${accessKeyId}` } };
  }

  private event(detailType: SageMakerDetailType, resource: string, at: number, detail: Record<string, unknown>): EventBridgeEvent {
    return {
      version: '0',
      id: this.newId(),
      'detail-type': detailType,
      source: 'aws.sagemaker',
      account: this.account,
      time: new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: this.region,
      resources: [resource],
      detail,
    };
  }

  // ------------------------------------------------------------------- model package groups

  createModelPackageGroup(input: InputReader, caller: Caller): Outcome {
    const name = input.string('ModelPackageGroupName', { required: true, max: 63, pattern: ENTITY_NAME });
    const description = input.string('ModelPackageGroupDescription', DESCRIPTION);
    const key = name.toLowerCase();
    const arn = this.arn(`model-package-group/${key}`);
    if (this.state.groups[key]) throw validationError(`Model Package Group already exists: ${arn}`);
    this.state.groups[key] = {
      name,
      arn,
      ...(description !== undefined ? { description } : {}),
      creationTime: this.now(),
      createdBy: caller.accessKeyId,
      lastVersion: 0,
    };
    return { output: { ModelPackageGroupArn: arn }, events: [], changed: true };
  }

  /** A group by name or ARN. */
  private findGroup(nameOrArn: string): GroupRecord | undefined {
    const name = GROUP_ARN.exec(nameOrArn)?.[1] ?? nameOrArn;
    return this.state.groups[name.toLowerCase()];
  }

  // ------------------------------------------------------------------------ model packages

  createModelPackage(input: InputReader, caller: Caller): Outcome {
    const groupName = input.string('ModelPackageGroupName', { max: 170 });
    // SageMaker's own words for these two (unversioned packages are not supported here).
    if (groupName !== undefined && input.has('ModelPackageName'))
      throw validationError('Both ModelPackageName and ModelPackageGroupName are provided in the input. Cannot determine which one to use.');
    if (groupName === undefined)
      throw validationError(input.has('ModelPackageName') ? 'This stand-in registers versioned model packages only: give ModelPackageGroupName.' : 'Missing ARN.');
    const description = input.string('ModelPackageDescription', DESCRIPTION);
    const status = input.enum('ModelApprovalStatus', APPROVAL_STATUSES) ?? 'PendingManualApproval';
    const customerMetadata = input.stringMap('CustomerMetadataProperties', METADATA_LIMITS);
    const clientToken = input.string('ClientToken', { min: 1, max: 36, pattern: /^[a-zA-Z0-9-]+$/ });
    const spec: Record<string, unknown> = {};
    for (const k of PACKAGE_SPEC_OBJECTS) if (input.has(k)) spec[k] = input.object(k);
    for (const k of PACKAGE_SPEC_STRINGS) if (input.has(k)) spec[k] = input.string(k, { max: 1024 });
    if (input.has('AdditionalInferenceSpecifications')) spec['AdditionalInferenceSpecifications'] = input.array('AdditionalInferenceSpecifications');
    if (input.has('SkipModelValidation')) spec['SkipModelValidation'] = input.enum('SkipModelValidation', ['All', 'None']);
    spec['CertifyForMarketplace'] = input.boolean('CertifyForMarketplace') ?? false;

    const group = this.findGroup(groupName);
    if (!group) throw validationError(`ModelPackageGroup ${groupName} does not exist.`);

    if (clientToken !== undefined) {
      const fingerprint = fingerprintOf(input.body, 'ClientToken');
      const seen = this.state.createTokens[clientToken];
      if (seen) {
        if (seen.fingerprint !== fingerprint) throw tokenMismatch(clientToken, 'CreateModelPackage');
        return { output: { ...seen.output }, events: [], changed: false };
      }
    }

    const version = group.lastVersion + 1;
    const arn = this.arn(`model-package/${group.name.toLowerCase()}/${version}`);
    const previous = Object.values(this.state.packages).filter((p) => p.groupName === group.name);
    const created = this.tick(Math.max(0, ...previous.map((p) => p.creationTime)));
    const record: PackageRecord = {
      arn,
      groupName: group.name,
      version,
      ...(description !== undefined ? { description } : {}),
      spec: spec as PackageSpec,
      ...(customerMetadata ? { customerMetadata } : {}),
      approvalStatus: status,
      creationTime: created,
      lastModifiedTime: created,
      createdBy: caller.accessKeyId,
      lastModifiedBy: caller.accessKeyId,
      clientTokens: {},
    };
    group.lastVersion = version;
    this.state.packages[arn] = record;
    const output = { ModelPackageArn: arn };
    if (clientToken !== undefined) this.state.createTokens[clientToken] = { fingerprint: fingerprintOf(input.body, 'ClientToken'), output };
    return { output: { ...output }, events: [this.packageEvent(record)], changed: true };
  }

  /** By ARN (any case) or `group/version`. */
  private findPackage(nameOrArn: string): PackageRecord | undefined {
    if (/^arn:/i.test(nameOrArn)) {
      const lower = nameOrArn.toLowerCase();
      return Object.values(this.state.packages).find((p) => p.arn.toLowerCase() === lower);
    }
    const m = /^([^/]+)\/(\d+)$/.exec(nameOrArn);
    if (!m?.[1] || !m[2]) return undefined;
    return this.state.packages[this.arn(`model-package/${m[1].toLowerCase()}/${Number(m[2])}`)];
  }

  describeModelPackage(input: InputReader): Outcome {
    const name = input.string('ModelPackageName', { required: true, min: 1, max: 2048, pattern: PACKAGE_NAME_OR_ARN });
    const p = this.findPackage(name);
    if (!p) throw validationError(`ModelPackage ${name} does not exist.`);
    const output = {
      ModelPackageName: p.groupName,
      ModelPackageGroupName: p.groupName,
      ModelPackageVersion: p.version,
      ModelPackageRegistrationType: 'Registered',
      ModelPackageArn: p.arn,
      ...(p.description !== undefined ? { ModelPackageDescription: p.description } : {}),
      CreationTime: new Date(p.creationTime),
      ...p.spec,
      ModelPackageStatus: 'Completed',
      ModelPackageStatusDetails: { ValidationStatuses: [], ImageScanStatuses: [] },
      ModelApprovalStatus: p.approvalStatus,
      CreatedBy: this.userContext(p.createdBy),
      ...(p.customerMetadata ? { CustomerMetadataProperties: { ...p.customerMetadata } } : {}),
      LastModifiedTime: new Date(p.lastModifiedTime),
      LastModifiedBy: this.userContext(p.lastModifiedBy),
      ...(p.approvalDescription !== undefined ? { ApprovalDescription: p.approvalDescription } : {}),
    } satisfies DescribeModelPackageOutput;
    return { output, events: [], changed: false };
  }

  updateModelPackage(input: InputReader, caller: Caller): Outcome {
    const arn = input.string('ModelPackageArn', { required: true, min: 1, max: 2048, pattern: PACKAGE_ARN });
    const status = input.enum('ModelApprovalStatus', APPROVAL_STATUSES);
    const approvalDescription = input.string('ApprovalDescription', DESCRIPTION);
    const addMetadata = input.stringMap('CustomerMetadataProperties', METADATA_LIMITS);
    const removeMetadata = input.array('CustomerMetadataPropertiesToRemove');
    if (removeMetadata?.some((k) => typeof k !== 'string'))
      throw new ServiceError('SerializationException', 'Expected strings in CustomerMetadataPropertiesToRemove');
    const clientToken = input.string('ClientToken', { min: 1, max: 36, pattern: /^[a-zA-Z0-9-]+$/ });
    if (!UPDATE_FIELDS.some((f) => input.has(f)))
      throw validationError(`UpdateModelPackage needs at least one of ${UPDATE_FIELDS.join(', ')} (others are not supported by this stand-in).`);

    const p = this.findPackage(arn);
    if (!p) throw validationError(`ModelPackage ${arn} does not exist.`);

    const fingerprint = fingerprintOf(input.body, 'ClientToken');
    if (clientToken !== undefined) {
      const seen = p.clientTokens[clientToken];
      if (seen) {
        if (seen.fingerprint !== fingerprint) throw tokenMismatch(clientToken, 'UpdateModelPackage', p.arn);
        return { output: { ...seen.output }, events: [], changed: false };
      }
    }

    if (status !== undefined) p.approvalStatus = status;
    if (approvalDescription !== undefined) p.approvalDescription = approvalDescription;
    if (addMetadata || removeMetadata) {
      const metadata = { ...p.customerMetadata, ...addMetadata };
      for (const k of (removeMetadata ?? []) as string[]) delete metadata[k];
      p.customerMetadata = metadata;
    }
    p.lastModifiedTime = this.tick(p.lastModifiedTime);
    p.lastModifiedBy = caller.accessKeyId;
    const output = { ModelPackageArn: p.arn };
    if (clientToken !== undefined) p.clientTokens[clientToken] = { fingerprint, output };
    return { output: { ...output }, events: [this.packageEvent(p)], changed: true };
  }

  listModelPackages(input: InputReader): Outcome {
    const after = input.timestamp('CreationTimeAfter');
    const before = input.timestamp('CreationTimeBefore');
    const maxResults = input.integer('MaxResults', { min: 1, max: 100 }) ?? 10;
    const nameContains = input.string('NameContains', { max: 63, pattern: /^[a-zA-Z0-9-]+$/ });
    const status = input.enum('ModelApprovalStatus', APPROVAL_STATUSES);
    const groupName = input.string('ModelPackageGroupName', { max: 170 });
    // The API reference: "UNVERSIONED ... is the default value if no ModelPackageType is specified";
    // with a group name, every published example (and SageMaker) lists that group's versions.
    const type = input.enum('ModelPackageType', ['Versioned', 'Unversioned', 'Both'] as const) ?? (groupName ? 'Versioned' : 'Unversioned');
    const nextToken = input.string('NextToken', { max: 8192 });
    const sortBy = input.enum('SortBy', ['Name', 'CreationTime'] as const) ?? 'CreationTime';
    const order = input.enum('SortOrder', ['Ascending', 'Descending'] as const) ?? 'Ascending';

    const query = fingerprintOf({ after, before, nameContains, status, groupName, type, sortBy, order });
    const sortKey = (p: PackageRecord): Array<string | number> =>
      sortBy === 'Name' ? [p.groupName.toLowerCase(), p.version] : [p.creationTime, p.groupName.toLowerCase(), p.version];
    const direction = order === 'Ascending' ? 1 : -1;
    const cmp = (a: Array<string | number>, b: Array<string | number>): number => direction * compareKeys(a, b);

    let cursor: Array<string | number> | undefined;
    if (nextToken !== undefined) {
      const decoded = decodeToken(nextToken);
      if (!decoded || decoded.q !== query) throw validationError('Invalid pagination token.');
      cursor = decoded.k;
    }

    const group = groupName !== undefined ? this.findGroup(groupName) : undefined;
    // Every package here is versioned (CreateModelPackage refuses unversioned ones).
    const matches = (type === 'Unversioned' ? [] : Object.values(this.state.packages))
      .filter((p) => groupName === undefined || (group !== undefined && p.groupName === group.name))
      .filter((p) => nameContains === undefined || p.groupName.toLowerCase().includes(nameContains.toLowerCase()))
      .filter((p) => status === undefined || p.approvalStatus === status)
      .filter((p) => after === undefined || p.creationTime > after)
      .filter((p) => before === undefined || p.creationTime < before)
      .filter((p) => cursor === undefined || cmp(sortKey(p), cursor) > 0)
      .sort((a, b) => cmp(sortKey(a), sortKey(b)));

    const page = matches.slice(0, maxResults);
    const last = page[page.length - 1];
    const summaries = page.map(
      // No ModelPackageName: SageMaker leaves it out of a versioned package's summary.
      (p): ModelPackageSummary => ({
        ModelPackageGroupName: p.groupName,
        ModelPackageVersion: p.version,
        ModelPackageArn: p.arn,
        ...(p.description !== undefined ? { ModelPackageDescription: p.description } : {}),
        CreationTime: new Date(p.creationTime),
        ModelPackageStatus: 'Completed',
        ModelApprovalStatus: p.approvalStatus,
      }),
    );
    const output = {
      ModelPackageSummaryList: summaries,
      ...(matches.length > maxResults && last ? { NextToken: encodeToken({ k: sortKey(last), q: query }) } : {}),
    } satisfies ListModelPackagesOutput;
    return { output, events: [], changed: false };
  }

  /** The detail of "SageMaker Model Package State Change", in the order of SageMaker's samples. */
  private packageEvent(p: PackageRecord): EventBridgeEvent {
    const iso = (ms: number) => new Date(ms).toISOString();
    const detail: Record<string, unknown> = {
      ModelPackageGroupName: p.groupName,
      ModelPackageVersion: p.version,
      ModelPackageArn: p.arn,
      ...(p.description !== undefined ? { ModelPackageDescription: p.description } : {}),
      CreationTime: iso(p.creationTime),
      ...(p.spec.InferenceSpecification ? { InferenceSpecification: p.spec.InferenceSpecification } : {}),
      ModelPackageStatus: 'Completed',
      ModelPackageStatusDetails: { ValidationStatuses: [], ImageScanStatuses: [] },
      CertifyForMarketplace: p.spec.CertifyForMarketplace ?? false,
      ModelApprovalStatus: p.approvalStatus,
      ...(p.approvalDescription !== undefined ? { ApprovalDescription: p.approvalDescription } : {}),
      ...(p.spec.MetadataProperties ? { MetadataProperties: p.spec.MetadataProperties } : {}),
      ...(p.customerMetadata ? { CustomerMetadataProperties: p.customerMetadata } : {}),
      LastModifiedTime: iso(p.lastModifiedTime),
      ...(p.spec.ModelMetrics ? { ModelMetrics: p.spec.ModelMetrics } : {}),
    };
    return this.event('SageMaker Model Package State Change', p.arn, p.lastModifiedTime, structuredClone(detail));
  }

  // ------------------------------------------------------------------------- training jobs

  createTrainingJob(input: InputReader): Outcome {
    const name = input.string('TrainingJobName', { required: true, min: 1, max: 63, pattern: ENTITY_NAME });
    const roleArn = input.string('RoleArn', { required: true, min: 20, max: 2048, pattern: ROLE_ARN });
    const output = input.object('OutputDataConfig', { required: true });
    const s3OutputPath = new InputReader(output).string('S3OutputPath', { required: true, max: 1024, pattern: S3_PATH });
    const hyperParameters = input.stringMap('HyperParameters', { maxEntries: 100, maxValue: 2500 });
    const tags = readTags(input);
    const spec: Record<string, unknown> = { RoleArn: roleArn, OutputDataConfig: output };
    if (hyperParameters) spec['HyperParameters'] = hyperParameters;
    for (const k of ['AlgorithmSpecification', 'ResourceConfig', 'VpcConfig', 'StoppingCondition', 'CheckpointConfig', 'RetryStrategy', 'ExperimentConfig'] as const)
      if (input.has(k)) spec[k] = input.object(k);
    if (input.has('InputDataConfig')) {
      const channels = input.array('InputDataConfig') ?? [];
      if (!channels.every(isObject)) throw new ServiceError('SerializationException', 'Expected objects in InputDataConfig');
      spec['InputDataConfig'] = channels;
    }
    if (input.has('Environment')) spec['Environment'] = input.stringMap('Environment', { maxEntries: 100, maxValue: 512 });
    spec['StoppingCondition'] ??= { ...DEFAULT_STOPPING_CONDITION }; // what SageMaker fills in
    for (const k of ['EnableNetworkIsolation', 'EnableInterContainerTrafficEncryption', 'EnableManagedSpotTraining'] as const)
      spec[k] = input.boolean(k) ?? false;

    const key = name.toLowerCase();
    const arn = this.arn(`training-job/${key}`);
    if (this.state.trainingJobs[key])
      throw validationError(
        `Training job names must be unique within an AWS account and region, and a training job with this name already exists (${arn})`,
      );
    const created = this.now();
    const job: TrainingJobRecord = {
      name,
      arn,
      status: 'InProgress',
      secondaryStatus: 'Starting',
      spec: { ...(spec as TrainingSpec), RoleArn: roleArn, OutputDataConfig: { ...output, S3OutputPath: s3OutputPath } },
      tags,
      creationTime: created,
      lastModifiedTime: created,
      transitions: [{ status: 'Starting', start: created, message: 'Launching requested ML instances' }],
    };
    this.state.trainingJobs[key] = job;
    return { output: { TrainingJobArn: arn }, events: [this.trainingEvent(job)], changed: true };
  }

  private findJob(input: InputReader): TrainingJobRecord {
    const name = input.string('TrainingJobName', { required: true, min: 1, max: 63, pattern: ENTITY_NAME });
    const job = this.state.trainingJobs[name.toLowerCase()];
    if (!job) throw notFound();
    return job;
  }

  describeTrainingJob(input: InputReader): Outcome {
    const job = this.findJob(input);
    const seconds = (from?: number, to?: number) => (from !== undefined && to !== undefined ? Math.max(0, Math.round((to - from) / 1000)) : undefined);
    const trainingSeconds = seconds(job.trainingStartTime, job.trainingEndTime);
    const output = {
      TrainingJobName: job.name,
      TrainingJobArn: job.arn,
      ModelArtifacts: job.modelArtifacts !== undefined ? { S3ModelArtifacts: job.modelArtifacts } : undefined,
      TrainingJobStatus: job.status,
      SecondaryStatus: job.secondaryStatus,
      ...(job.failureReason !== undefined ? { FailureReason: job.failureReason } : {}),
      ...job.spec,
      StoppingCondition: job.spec.StoppingCondition ?? DEFAULT_STOPPING_CONDITION,
      CreationTime: new Date(job.creationTime),
      ...(job.trainingStartTime !== undefined ? { TrainingStartTime: new Date(job.trainingStartTime) } : {}),
      ...(job.trainingEndTime !== undefined ? { TrainingEndTime: new Date(job.trainingEndTime) } : {}),
      LastModifiedTime: new Date(job.lastModifiedTime),
      SecondaryStatusTransitions: job.transitions.map((t) => ({
        Status: t.status,
        StartTime: new Date(t.start),
        ...(t.end !== undefined ? { EndTime: new Date(t.end) } : {}),
        StatusMessage: t.message,
      })),
      ...(job.finalMetrics
        ? { FinalMetricDataList: job.finalMetrics.map((m) => ({ MetricName: m.name, Value: m.value, Timestamp: new Date(m.timestamp) })) }
        : {}),
      ...(trainingSeconds !== undefined ? { TrainingTimeInSeconds: trainingSeconds, BillableTimeInSeconds: trainingSeconds } : {}),
    } satisfies DescribeTrainingJobResponse;
    // SageMaker leaves out what is not there yet (ModelArtifacts before the upload).
    return { output: dropUndefined(output), events: [], changed: false };
  }

  /**
   * ListTags of a training job (the tags it was created with; DescribeTrainingJob has none). The
   * stand-in keeps tags for training jobs only. NextToken is the offset of the next tag.
   */
  listTags(input: InputReader): Outcome {
    const arn = input.string('ResourceArn', { required: true, max: 256 });
    const maxResults = input.integer('MaxResults', { min: 50, max: 100 }) ?? 50;
    const nextToken = input.string('NextToken', { max: 8192 });
    const job = Object.values(this.state.trainingJobs).find((j) => j.arn === arn);
    if (!job) throw notFound();
    const start = nextToken === undefined ? 0 : Number(nextToken);
    if (!Number.isInteger(start) || start < 0 || start > job.tags.length) throw validationError('Invalid pagination token.');
    const page = job.tags.slice(start, start + maxResults);
    const next = start + page.length < job.tags.length ? String(start + page.length) : undefined;
    return { output: { Tags: page.map((t) => ({ Key: t.Key, Value: t.Value })), ...(next ? { NextToken: next } : {}) }, events: [], changed: false };
  }

  stopTrainingJob(input: InputReader): Outcome {
    const job = this.findJob(input);
    this.assertInProgress(job);
    return this.finish(job, 'Stopped', 'Stopped', 'Training job stopped by the user');
  }

  /** Seeding (`ModelgateLocal.CompleteTrainingJob`): the job ends well, with its final metrics. */
  completeTrainingJob(input: InputReader): Outcome {
    const job = this.findJob(input);
    const metrics = (input.array('FinalMetricDataList') ?? []).map((m, i) => {
      if (!isObject(m)) throw new ServiceError('SerializationException', `Expected an object at FinalMetricDataList[${i}]`);
      const r = new InputReader(m);
      const name = r.string('MetricName', { required: true, min: 1, max: 255 });
      const value = m['Value'];
      if (typeof value !== 'number' || !Number.isFinite(value))
        throw validationError(`FinalMetricDataList[${i}].Value must be a finite number`);
      return { name, value };
    });
    this.assertInProgress(job);
    const outcome = this.finish(job, 'Completed', 'Completed', 'Training job completed', (end) => {
      job.finalMetrics = metrics.map((m) => ({ ...m, timestamp: end }));
      job.modelArtifacts = `${job.spec.OutputDataConfig.S3OutputPath.replace(/\/+$/, '')}/${job.name}/output/model.tar.gz`;
    });
    return outcome;
  }

  /** Seeding (`ModelgateLocal.FailTrainingJob`). */
  failTrainingJob(input: InputReader): Outcome {
    const job = this.findJob(input);
    const reason = input.string('FailureReason', { required: true, min: 1, max: 1024 });
    this.assertInProgress(job);
    return this.finish(job, 'Failed', 'Failed', reason, () => {
      job.failureReason = reason;
    });
  }

  private assertInProgress(job: TrainingJobRecord): void {
    if (job.status !== 'InProgress')
      throw validationError(`The request was rejected because the training job ${job.name} is in status ${job.status}.`);
  }

  private finish(
    job: TrainingJobRecord,
    status: TrainingJobStatus,
    secondary: SecondaryStatus,
    message: string,
    also?: (end: number) => void,
  ): Outcome {
    const end = this.tick(job.lastModifiedTime);
    for (const t of job.transitions) t.end ??= end;
    job.transitions.push({ status: secondary, start: end, end, message });
    job.status = status;
    job.secondaryStatus = secondary;
    job.trainingStartTime ??= job.creationTime;
    job.trainingEndTime = end;
    job.lastModifiedTime = end;
    also?.(end);
    return { output: {}, events: [this.trainingEvent(job)], changed: true };
  }

  /**
   * The detail of "SageMaker Training Job State Change": DescribeTrainingJob's projection without
   * FinalMetricDataList, Tags as a map, timestamps as epoch-millisecond strings (as SageMaker sends).
   */
  private trainingEvent(job: TrainingJobRecord): EventBridgeEvent {
    const ms = (t: number) => String(t);
    const s = job.spec;
    const detail: Record<string, unknown> = dropUndefined({
      TrainingJobName: job.name,
      TrainingJobArn: job.arn,
      TrainingJobStatus: job.status,
      SecondaryStatus: job.secondaryStatus,
      HyperParameters: s.HyperParameters ?? {},
      AlgorithmSpecification: s.AlgorithmSpecification,
      RoleArn: s.RoleArn,
      InputDataConfig: s.InputDataConfig,
      OutputDataConfig: s.OutputDataConfig,
      ResourceConfig: s.ResourceConfig,
      VpcConfig: s.VpcConfig ?? {},
      StoppingCondition: s.StoppingCondition,
      CreationTime: ms(job.creationTime),
      TrainingStartTime: job.trainingStartTime !== undefined ? ms(job.trainingStartTime) : undefined,
      TrainingEndTime: job.trainingEndTime !== undefined ? ms(job.trainingEndTime) : undefined,
      LastModifiedTime: ms(job.lastModifiedTime),
      SecondaryStatusTransitions: job.transitions.map((t) =>
        dropUndefined({ Status: t.status, StartTime: ms(t.start), EndTime: t.end !== undefined ? ms(t.end) : undefined, StatusMessage: t.message }),
      ),
      Tags: Object.fromEntries(job.tags.map((t) => [t.Key, t.Value])),
      ModelArtifacts: job.modelArtifacts !== undefined ? { S3ModelArtifacts: job.modelArtifacts } : undefined,
      FailureReason: job.failureReason,
    });
    return this.event('SageMaker Training Job State Change', job.arn, job.lastModifiedTime, structuredClone(detail));
  }
}

// ---------------------------------------------------------------------------------------------
// The operations, by X-Amz-Target

export type Operation = (registry: Registry, input: InputReader, caller: Caller) => Outcome;

/** `SageMaker.<Operation>`. */
export const sageMakerOperations: Record<string, Operation> = {
  CreateModelPackageGroup: (r, i, c) => r.createModelPackageGroup(i, c),
  CreateModelPackage: (r, i, c) => r.createModelPackage(i, c),
  DescribeModelPackage: (r, i) => r.describeModelPackage(i),
  UpdateModelPackage: (r, i, c) => r.updateModelPackage(i, c),
  ListModelPackages: (r, i) => r.listModelPackages(i),
  CreateTrainingJob: (r, i) => r.createTrainingJob(i),
  DescribeTrainingJob: (r, i) => r.describeTrainingJob(i),
  StopTrainingJob: (r, i) => r.stopTrainingJob(i),
  ListTags: (r, i) => r.listTags(i),
};

/** `ModelgateLocal.<Operation>`: seeding, outside SageMaker's namespace. */
export const localOperations: Record<string, Operation> = {
  CompleteTrainingJob: (r, i) => r.completeTrainingJob(i),
  FailTrainingJob: (r, i) => r.failTrainingJob(i),
};

// ---------------------------------------------------------------------------------------------
// Helpers

/**
 * A ClientToken reused with other parameters. UpdateModelPackage (and CreateModelPackage) declare
 * one client error in SageMaker's model, ConflictException; SageMaker has no
 * IdempotentParameterMismatch. ConflictException's member is `Message` (capital M).
 */
function tokenMismatch(token: string, operation: string, arn?: string): ServiceError {
  return new ServiceError(
    'ConflictException',
    `ClientToken ${token} was already used for ${operation}${arn ? ` on ${arn}` : ''} with different parameters.`,
    400,
    'Message',
  );
}

function readTags(input: InputReader): Array<Tag & { Key: string; Value: string }> {
  const raw = input.array('Tags') ?? [];
  if (raw.length > 50) throw validationError("1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50");
  return raw.map((t, i) => {
    if (!isObject(t)) throw new ServiceError('SerializationException', `Expected an object at Tags[${i}]`);
    const r = new InputReader(t);
    return { Key: r.string('Key', { required: true, min: 1, max: 128 }), Value: r.string('Value', { max: 256 }) ?? '' };
  });
}

/** A stable fingerprint of a JSON value (keys sorted), leaving out `omit` at the top level. */
export function fingerprintOf(value: Record<string, unknown>, omit?: string): string {
  const canonical = (v: unknown): string => {
    if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
    if (isObject(v))
      return `{${Object.keys(v)
        .filter((k) => v[k] !== undefined)
        .sort()
        .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
        .join(',')}}`;
    return JSON.stringify(v) ?? 'null';
  };
  const { [omit ?? '']: _omitted, ...rest } = value;
  return createHash('sha256').update(canonical(omit ? rest : value)).digest('base64url');
}

function compareKeys(a: Array<string | number>, b: Array<string | number>): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

/** NextToken: opaque to callers; here the last key returned and a fingerprint of the query. */
function encodeToken(t: { k: Array<string | number>; q: string }): string {
  return Buffer.from(JSON.stringify(t)).toString('base64url');
}

function decodeToken(token: string): { k: Array<string | number>; q: string } | undefined {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown;
    if (!isObject(t) || typeof t['q'] !== 'string' || !Array.isArray(t['k'])) return undefined;
    const k = t['k'] as unknown[];
    if (!k.every((x) => typeof x === 'string' || typeof x === 'number')) return undefined;
    return { k: k as Array<string | number>, q: t['q'] };
  } catch {
    return undefined;
  }
}

function dropUndefined<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
