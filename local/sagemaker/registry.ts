/**
 * The registry state machine behind the SageMaker stand-in: model package groups, versioned model
 * packages, training jobs, and the hosting side (models, endpoint configurations, endpoints). No I/O: each operation reads its input, checks everything, then changes
 * `state` and returns its output (timestamps as `Date`, serialised by ./protocol.ts) and the
 * EventBridge events SageMaker would emit. The server persists `state` and delivers the events.
 *
 * Shapes follow the SageMaker API reference (the types are the SDK's own); the events follow
 * SageMaker's samples (events/*.json, test/fixtures/*.json).
 */
import { createHash, randomUUID } from 'node:crypto';
import type {
  BatchDescribeModelPackageError,
  BatchDescribeModelPackageOutput,
  BatchDescribeModelPackageSummary,
  ContainerDefinition,
  CreateEndpointConfigInput,
  CreateModelInput,
  CreateModelPackageInput,
  CreateTrainingJobRequest,
  DeployedImage,
  DescribeEndpointConfigOutput,
  DescribeEndpointOutput,
  DescribeModelOutput,
  DescribeModelPackageOutput,
  DescribeTrainingJobResponse,
  EndpointStatus,
  EndpointSummary,
  ListEndpointsOutput,
  ListModelPackagesOutput,
  ModelApprovalStatus,
  ModelLifeCycle,
  ModelPackageSummary,
  ProductionVariant,
  ProductionVariantServerlessConfig,
  ProductionVariantSummary,
  SecondaryStatus,
  Tag,
  TrainingJobStatus,
  UserContext,
} from '@aws-sdk/client-sagemaker';
import { InputReader, ServiceError, constraint, isObject, validationError } from './protocol.js';

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
  /**
   * Hosting. Keys: the name, lower-cased (the ARN lower-cases it, so names are unique regardless of
   * case). Absent from state files written before these existed; the Registry fills them in.
   */
  models: Record<string, ModelRecord>;
  endpointConfigs: Record<string, EndpointConfigRecord>;
  endpoints: Record<string, EndpointRecord>;
  /**
   * The latest LastModifiedTime that any endpoint event carried. Every endpoint change comes after
   * it, so that an endpoint created again under a deleted one's name (the same ARN) never carries
   * an older time than the deleted one's DELETING event.
   */
  endpointClock?: number;
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
  modelLifeCycle?: ModelLifeCycle;
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

type StoredTag = { Key: string; Value: string };

/** CreateModel's request as it came: DescribeModel echoes it. */
export interface ModelRecord {
  name: string;
  arn: string;
  primaryContainer?: ContainerDefinition;
  containers?: ContainerDefinition[];
  spec: Pick<CreateModelInput, 'ExecutionRoleArn' | 'VpcConfig' | 'EnableNetworkIsolation' | 'InferenceExecutionConfig'>;
  tags: StoredTag[];
  creationTime: number;
}

export interface EndpointConfigRecord {
  name: string;
  arn: string;
  productionVariants: ProductionVariant[];
  spec: Pick<CreateEndpointConfigInput, 'DataCaptureConfig' | 'KmsKeyId' | 'AsyncInferenceConfig' | 'ExplainerConfig'>;
  tags: StoredTag[];
  creationTime: number;
}

/**
 * A variant as deployed: copied from the endpoint configuration and its models when the endpoint
 * was created or updated, so that deleting the configuration or a model later (which SageMaker
 * allows) does not change what the endpoint serves.
 */
export interface DeployedVariant {
  variantName: string;
  modelName: string;
  weight: number;
  /** Absent for a serverless variant. */
  instanceCount?: number;
  serverlessConfig?: ProductionVariantServerlessConfig;
  images: Array<{ specified: string; resolved?: string }>;
  deployedAt: number;
}

export interface EndpointRecord {
  name: string;
  arn: string;
  configName: string;
  /** The stand-in deploys at once: every endpoint that exists is InService (Deleting is its last event). */
  status: EndpointStatus;
  variants: DeployedVariant[];
  tags: StoredTag[];
  creationTime: number;
  lastModifiedTime: number;
}

export const emptyState = (region: string, account: string): RegistryState => ({
  formatVersion: STATE_FORMAT_VERSION,
  region,
  account,
  groups: {},
  packages: {},
  trainingJobs: {},
  createTokens: {},
  models: {},
  endpointConfigs: {},
  endpoints: {},
});

/** A state file from before hosting: the same format, without the hosting maps. */
function withHostingMaps(state: RegistryState): RegistryState {
  const partial = state as Omit<RegistryState, 'models' | 'endpointConfigs' | 'endpoints'> & Partial<RegistryState>;
  return { ...partial, models: partial.models ?? {}, endpointConfigs: partial.endpointConfigs ?? {}, endpoints: partial.endpoints ?? {} };
}

// ---------------------------------------------------------------------------------------------
// Events

export type SageMakerDetailType =
  | 'SageMaker Training Job State Change'
  | 'SageMaker Model Package State Change'
  | 'SageMaker Endpoint State Change';

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
const UPDATE_FIELDS = ['ModelApprovalStatus', 'ApprovalDescription', 'CustomerMetadataProperties', 'CustomerMetadataPropertiesToRemove', 'ModelLifeCycle'];
/** ModelLifeCycle's Stage and StageStatus (API_ModelLifeCycle): the entity-name pattern, 1–63. */
const STAGE = { required: true, min: 1, max: 63, pattern: ENTITY_NAME } as const;
/** Hosting names (ModelName, EndpointConfigName, EndpointName, VariantName): API_CreateModel and friends. */
const RESOURCE_NAME = { required: true, max: 63, pattern: ENTITY_NAME } as const;
/** ContainerDefinition (API_ContainerDefinition). */
const IMAGE = { max: 255, pattern: /^[\S]+$/ };
const MODEL_DATA_URL = { max: 1024, pattern: /^(https|s3):\/\/([^/]+)\/?(.*)$/ };
const CONTAINER_PACKAGE = { min: 1, max: 176, pattern: PACKAGE_NAME_OR_ARN };
const CONTAINER_HOSTNAME = { max: 63, pattern: ENTITY_NAME };
/** API_ProductionVariant: InstanceType is an enum of some hundred `ml.*` types; the stand-in checks the form only. */
const INSTANCE_TYPE = { max: 64, pattern: /^ml\.[a-z0-9-]+\.[a-z0-9]+$/ };
const ENDPOINT_STATUSES = [
  'OutOfService',
  'Creating',
  'Updating',
  'SystemUpdating',
  'RollingBack',
  'InService',
  'Deleting',
  'Failed',
  'UpdateRollbackFailed',
] as const satisfies readonly EndpointStatus[];

/** SageMaker's default when CreateTrainingJob gives no StoppingCondition: one day. */
const DEFAULT_STOPPING_CONDITION = { MaxRuntimeInSeconds: 86400 };

const notFound = () => validationError('Requested resource not found.');
// SageMaker's own words for the hosting resources (the ARN lower-cases the name).
const noModel = (arn: string) => validationError(`Could not find model "${arn}".`);
const noEndpointConfig = (arn: string) => validationError(`Could not find endpoint configuration "${arn}".`);
const noEndpoint = (arn: string) => validationError(`Could not find endpoint "${arn}".`);

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
    this.state = opts.state ? withHostingMaps(opts.state) : emptyState(opts.region, opts.account);
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
    const modelLifeCycle = readModelLifeCycle(input);
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
      ...(modelLifeCycle ? { modelLifeCycle } : {}),
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
      ...(p.modelLifeCycle ? { ModelLifeCycle: { ...p.modelLifeCycle } } : {}),
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
    const modelLifeCycle = readModelLifeCycle(input);
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
    if (modelLifeCycle) p.modelLifeCycle = modelLifeCycle;
    p.lastModifiedTime = this.tick(p.lastModifiedTime);
    p.lastModifiedBy = caller.accessKeyId;
    const output = { ModelPackageArn: p.arn };
    if (clientToken !== undefined) p.clientTokens[clientToken] = { fingerprint, output };
    // The event names what this update changed, in the documentation's vocabulary.
    const updated = [
      ...(status !== undefined ? ['ModelApprovalStatus'] : []),
      ...(approvalDescription !== undefined ? ['ApprovalDescription'] : []),
      ...(addMetadata || removeMetadata ? ['CustomerMetadataProperties'] : []),
      ...(modelLifeCycle ? ['ModelLifeCycle'] : []),
    ];
    return { output: { ...output }, events: [this.packageEvent(p, updated)], changed: true };
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
        ...(p.modelLifeCycle ? { ModelLifeCycle: { ...p.modelLifeCycle } } : {}),
      }),
    );
    const output = {
      ModelPackageSummaryList: summaries,
      ...(matches.length > maxResults && last ? { NextToken: encodeToken({ k: sortKey(last), q: query }) } : {}),
    } satisfies ListModelPackagesOutput;
    return { output, events: [], changed: false };
  }

  /**
   * The detail of "SageMaker Model Package State Change", in the order of SageMaker's samples. The
   * documentation's sample (automating-sagemaker-with-eventbridge, "SageMaker model package state
   * change") carries `ModelLifeCycle` and `UpdatedModelPackageFields`; "Get event notifications for
   * ModelLifeCycle" says stage changes arrive as this event. `updated`: what an UpdateModelPackage
   * changed (absent on a new version).
   */
  private packageEvent(p: PackageRecord, updated?: string[]): EventBridgeEvent {
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
      ...(p.modelLifeCycle ? { ModelLifeCycle: p.modelLifeCycle } : {}),
      ...(updated ? { UpdatedModelPackageFields: updated } : {}),
    };
    return this.event('SageMaker Model Package State Change', p.arn, p.lastModifiedTime, structuredClone(detail));
  }

  /**
   * BatchDescribeModelPackage (API_BatchDescribeModelPackage): 1–100 ARNs. A known ARN gets a
   * BatchDescribeModelPackageSummary (only the fields the API reference lists), an unknown one an
   * entry in BatchDescribeModelPackageErrorMap. The reference documents the error's shape
   * ({ErrorCode, ErrorResponse}) but not its values: the stand-in answers what DescribeModelPackage does.
   */
  batchDescribeModelPackage(input: InputReader): Outcome {
    const arns = input.stringList('ModelPackageArnList', { required: true, min: 1, max: 100, member: { min: 1, max: 2048, pattern: PACKAGE_ARN } });
    const summaries: Record<string, BatchDescribeModelPackageSummary> = {};
    const errors: Record<string, BatchDescribeModelPackageError> = {};
    for (const arn of arns) {
      const p = this.findPackage(arn);
      if (!p) {
        errors[arn] = { ErrorCode: 'ValidationException', ErrorResponse: `ModelPackage ${arn} does not exist.` };
        continue;
      }
      summaries[arn] = dropUndefined({
        ModelPackageGroupName: p.groupName,
        ModelPackageVersion: p.version,
        ModelPackageArn: p.arn,
        ModelPackageDescription: p.description,
        CreationTime: new Date(p.creationTime),
        InferenceSpecification: p.spec.InferenceSpecification,
        ModelPackageStatus: 'Completed',
        ModelApprovalStatus: p.approvalStatus,
        ModelPackageRegistrationType: 'Registered',
      }) as BatchDescribeModelPackageSummary;
    }
    const output = { ModelPackageSummaries: summaries, BatchDescribeModelPackageErrorMap: errors } satisfies BatchDescribeModelPackageOutput;
    return { output, events: [], changed: false };
  }

  // ------------------------------------------------------------------------------ models

  /**
   * CreateModel (API_CreateModel): PrimaryContainer or Containers (up to 15), each naming an Image
   * or a ModelPackageName. A ModelPackageName must name a model package that exists; its approval
   * status is not checked (the stand-in, like SageMaker's API, lets an unapproved version be
   * deployed: catching that is modelgate's job). No event: SageMaker documents none with a payload.
   */
  createModel(input: InputReader): Outcome {
    const name = input.string('ModelName', RESOURCE_NAME);
    const primary = input.child('PrimaryContainer');
    const containers = input.objectList('Containers', { max: 15 });
    if (primary && containers) throw validationError('Specify PrimaryContainer or Containers, not both.');
    if (!primary && !containers?.length) throw constraint(undefined, 'PrimaryContainer', 'Member must not be null (or give Containers)');
    const definitions = (primary ? [primary] : (containers ?? [])).map((c) => this.readContainer(c));
    const roleArn = input.string('ExecutionRoleArn', { min: 20, max: 2048, pattern: ROLE_ARN });
    const tags = readTags(input);
    const spec: ModelRecord['spec'] = dropUndefined({
      ExecutionRoleArn: roleArn,
      VpcConfig: input.object('VpcConfig') as ModelRecord['spec']['VpcConfig'],
      InferenceExecutionConfig: input.object('InferenceExecutionConfig') as ModelRecord['spec']['InferenceExecutionConfig'],
      EnableNetworkIsolation: input.boolean('EnableNetworkIsolation'),
    });

    const key = name.toLowerCase();
    const arn = this.arn(`model/${key}`);
    if (this.state.models[key]) throw validationError(`Cannot create already existing model "${arn}".`);
    this.state.models[key] = {
      name,
      arn,
      ...(primary ? { primaryContainer: definitions[0] } : { containers: definitions }),
      spec,
      tags,
      creationTime: this.now(),
    };
    return { output: { ModelArn: arn }, events: [], changed: true };
  }

  /** One ContainerDefinition, checked; kept as it was sent (DescribeModel echoes it). */
  private readContainer(c: InputReader): ContainerDefinition {
    c.string('ContainerHostname', CONTAINER_HOSTNAME);
    const image = c.string('Image', IMAGE);
    c.string('ModelDataUrl', MODEL_DATA_URL);
    c.enum('Mode', ['SingleModel', 'MultiModel'] as const);
    c.stringMap('Environment', { maxEntries: 100, maxValue: 1024 });
    const packageName = c.string('ModelPackageName', CONTAINER_PACKAGE);
    if (image === undefined && packageName === undefined)
      throw validationError(`${c.path}: give an image (${c.pathOf('Image')}) or a model package (${c.pathOf('ModelPackageName')}).`);
    if (packageName !== undefined && !this.findPackage(packageName)) throw validationError(`ModelPackage ${packageName} does not exist.`);
    return structuredClone(c.body) as ContainerDefinition;
  }

  private findModel(input: InputReader): ModelRecord {
    const name = input.string('ModelName', RESOURCE_NAME);
    const model = this.state.models[name.toLowerCase()];
    if (!model) throw noModel(this.arn(`model/${name.toLowerCase()}`));
    return model;
  }

  describeModel(input: InputReader): Outcome {
    const m = this.findModel(input);
    const output = {
      ModelName: m.name,
      ...(m.primaryContainer ? { PrimaryContainer: structuredClone(m.primaryContainer) } : {}),
      ...(m.containers ? { Containers: structuredClone(m.containers) } : {}),
      ...structuredClone(m.spec),
      CreationTime: new Date(m.creationTime),
      ModelArn: m.arn,
      EnableNetworkIsolation: m.spec.EnableNetworkIsolation ?? false,
    } satisfies DescribeModelOutput;
    return { output, events: [], changed: false };
  }

  /** SageMaker deletes a model that an endpoint configuration names; the endpoints keep serving it. */
  deleteModel(input: InputReader): Outcome {
    const m = this.findModel(input);
    delete this.state.models[m.name.toLowerCase()];
    return { output: {}, events: [], changed: true };
  }

  // --------------------------------------------------------------- endpoint configurations

  /** CreateEndpointConfig (API_CreateEndpointConfig): 1–10 ProductionVariants, each naming a model that exists. */
  createEndpointConfig(input: InputReader): Outcome {
    const name = input.string('EndpointConfigName', RESOURCE_NAME);
    const variants = input.objectList('ProductionVariants', { required: true, min: 1, max: 10 });
    const checked = variants.map((v) => {
      const variantName = v.string('VariantName', RESOURCE_NAME);
      const modelName = v.string('ModelName', RESOURCE_NAME);
      const serverless = v.object('ServerlessConfig');
      // An instance-based variant needs its instances; a serverless one has none.
      if (serverless) v.string('InstanceType', INSTANCE_TYPE);
      else v.string('InstanceType', { ...INSTANCE_TYPE, required: true });
      if (!serverless && !v.has('InitialInstanceCount')) throw constraint(undefined, v.pathOf('InitialInstanceCount'), 'Member must not be null');
      v.integer('InitialInstanceCount', { min: 1, max: 1_000_000 });
      v.number('InitialVariantWeight', { min: 0 });
      return { variantName, modelName, body: v.body };
    });
    const seen = new Set<string>();
    for (const v of checked) {
      if (seen.has(v.variantName.toLowerCase())) throw validationError(`The VariantName ${v.variantName} is used more than once in ProductionVariants; variant names must be unique.`);
      seen.add(v.variantName.toLowerCase());
    }
    const tags = readTags(input);
    const spec: EndpointConfigRecord['spec'] = dropUndefined({
      DataCaptureConfig: input.object('DataCaptureConfig') as EndpointConfigRecord['spec']['DataCaptureConfig'],
      KmsKeyId: input.string('KmsKeyId', { max: 2048 }),
      AsyncInferenceConfig: input.object('AsyncInferenceConfig') as EndpointConfigRecord['spec']['AsyncInferenceConfig'],
      ExplainerConfig: input.object('ExplainerConfig') as EndpointConfigRecord['spec']['ExplainerConfig'],
    });

    const key = name.toLowerCase();
    const arn = this.arn(`endpoint-config/${key}`);
    if (this.state.endpointConfigs[key]) throw validationError(`Cannot create already existing endpoint configuration "${arn}".`);
    for (const v of checked) if (!this.state.models[v.modelName.toLowerCase()]) throw noModel(this.arn(`model/${v.modelName.toLowerCase()}`));
    this.state.endpointConfigs[key] = {
      name,
      arn,
      productionVariants: checked.map((v) => structuredClone(v.body) as unknown as ProductionVariant),
      spec,
      tags,
      creationTime: this.now(),
    };
    return { output: { EndpointConfigArn: arn }, events: [], changed: true };
  }

  private findEndpointConfig(input: InputReader): EndpointConfigRecord {
    const name = input.string('EndpointConfigName', RESOURCE_NAME);
    const config = this.state.endpointConfigs[name.toLowerCase()];
    if (!config) throw noEndpointConfig(this.arn(`endpoint-config/${name.toLowerCase()}`));
    return config;
  }

  describeEndpointConfig(input: InputReader): Outcome {
    const c = this.findEndpointConfig(input);
    const output = {
      EndpointConfigName: c.name,
      EndpointConfigArn: c.arn,
      ProductionVariants: structuredClone(c.productionVariants),
      ...structuredClone(c.spec),
      CreationTime: new Date(c.creationTime),
    } satisfies DescribeEndpointConfigOutput;
    return { output, events: [], changed: false };
  }

  /** SageMaker deletes a configuration that an endpoint runs; the endpoint keeps serving it. */
  deleteEndpointConfig(input: InputReader): Outcome {
    const c = this.findEndpointConfig(input);
    delete this.state.endpointConfigs[c.name.toLowerCase()];
    return { output: {}, events: [], changed: true };
  }

  // ------------------------------------------------------------------------------ endpoints

  /** What `config` deploys: its variants, their models' images, as of `at`. */
  private deploy(config: EndpointConfigRecord, at: number): DeployedVariant[] {
    return config.productionVariants.map((v) => {
      const modelName = v.ModelName ?? '';
      const model = this.state.models[modelName.toLowerCase()];
      if (!model) throw noModel(this.arn(`model/${modelName.toLowerCase()}`));
      return {
        variantName: v.VariantName ?? '',
        modelName: model.name,
        weight: v.InitialVariantWeight ?? 1,
        ...(v.InitialInstanceCount !== undefined ? { instanceCount: v.InitialInstanceCount } : {}),
        ...(v.ServerlessConfig ? { serverlessConfig: structuredClone(v.ServerlessConfig) } : {}),
        images: (model.primaryContainer ? [model.primaryContainer] : (model.containers ?? [])).flatMap((c) => this.imagesOf(c)),
        deployedAt: at,
      };
    });
  }

  /**
   * The images a container runs: its Image, or its model package's. The stand-in resolves no tags
   * (no registry): ResolvedImage is given only when the digest is known, from an `@sha256:` image
   * or the model package's ImageDigest.
   */
  private imagesOf(c: ContainerDefinition): DeployedVariant['images'] {
    const resolve = (image: string, digest?: string) =>
      image.includes('@sha256:') ? image : digest ? `${image.replace(/:[^/:]+$/, '')}@${digest}` : undefined;
    const one = (image: string, digest?: string) => {
      const resolved = resolve(image, digest);
      return { specified: image, ...(resolved ? { resolved } : {}) };
    };
    if (c.Image !== undefined) return [one(c.Image)];
    const p = c.ModelPackageName !== undefined ? this.findPackage(c.ModelPackageName) : undefined;
    return (p?.spec.InferenceSpecification?.Containers ?? []).flatMap((pc) => (pc.Image ? [one(pc.Image, pc.ImageDigest)] : []));
  }

  /** The time of an endpoint change: after the endpoint's last change and after every endpoint event so far. */
  private endpointTick(previous = 0): number {
    const at = this.tick(Math.max(previous, this.state.endpointClock ?? 0));
    this.state.endpointClock = at;
    return at;
  }

  private endpointArn(name: string): string {
    return this.arn(`endpoint/${name.toLowerCase()}`);
  }

  private findEndpoint(input: InputReader): EndpointRecord {
    const name = input.string('EndpointName', RESOURCE_NAME);
    const endpoint = this.state.endpoints[name.toLowerCase()];
    if (!endpoint) throw noEndpoint(this.endpointArn(name));
    return endpoint;
  }

  /**
   * CreateEndpoint. SageMaker goes Creating → InService (minutes); the stand-in is InService at
   * once and emits one "SageMaker Endpoint State Change" with IN_SERVICE. A model the configuration
   * names that no longer exists fails the call (SageMaker would fail the endpoint instead).
   */
  createEndpoint(input: InputReader): Outcome {
    const name = input.string('EndpointName', RESOURCE_NAME);
    input.string('EndpointConfigName', RESOURCE_NAME); // refused before anything is looked up
    const tags = readTags(input);
    input.object('DeploymentConfig'); // accepted, not acted on
    const key = name.toLowerCase();
    const arn = this.endpointArn(name);
    if (this.state.endpoints[key]) throw validationError(`Cannot create already existing endpoint "${arn}".`);
    const config = this.findEndpointConfig(input);
    const created = this.endpointTick();
    const endpoint: EndpointRecord = {
      name,
      arn,
      configName: config.name,
      status: 'InService',
      variants: this.deploy(config, created),
      tags,
      creationTime: created,
      lastModifiedTime: created,
    };
    this.state.endpoints[key] = endpoint;
    return { output: { EndpointArn: arn }, events: [this.endpointEvent(endpoint)], changed: true };
  }

  /** UpdateEndpoint: the new configuration is deployed at once (SageMaker: Updating → InService); one IN_SERVICE event. */
  updateEndpoint(input: InputReader): Outcome {
    input.string('EndpointConfigName', RESOURCE_NAME);
    input.boolean('RetainAllVariantProperties');
    input.boolean('RetainDeploymentConfig');
    input.object('DeploymentConfig');
    const endpoint = this.findEndpoint(input);
    const config = this.findEndpointConfig(input);
    const at = this.endpointTick(endpoint.lastModifiedTime);
    endpoint.variants = this.deploy(config, at);
    endpoint.configName = config.name;
    endpoint.lastModifiedTime = at;
    return { output: { EndpointArn: endpoint.arn }, events: [this.endpointEvent(endpoint)], changed: true };
  }

  /** DeleteEndpoint: one DELETING event, then the endpoint is gone (SageMaker takes a while; the stand-in does not). */
  deleteEndpoint(input: InputReader): Outcome {
    const endpoint = this.findEndpoint(input);
    endpoint.status = 'Deleting';
    endpoint.lastModifiedTime = this.endpointTick(endpoint.lastModifiedTime);
    const event = this.endpointEvent(endpoint);
    delete this.state.endpoints[endpoint.name.toLowerCase()];
    return { output: {}, events: [event], changed: true };
  }

  describeEndpoint(input: InputReader): Outcome {
    const e = this.findEndpoint(input);
    const output = {
      EndpointName: e.name,
      EndpointArn: e.arn,
      EndpointConfigName: e.configName,
      ProductionVariants: e.variants.map(
        (v): ProductionVariantSummary => ({
          VariantName: v.variantName,
          ...(v.images.length
            ? {
                DeployedImages: v.images.map(
                  (i): DeployedImage => ({ SpecifiedImage: i.specified, ...(i.resolved ? { ResolvedImage: i.resolved } : {}), ResolutionTime: new Date(v.deployedAt) }),
                ),
              }
            : {}),
          CurrentWeight: v.weight,
          DesiredWeight: v.weight,
          ...(v.instanceCount !== undefined ? { CurrentInstanceCount: v.instanceCount, DesiredInstanceCount: v.instanceCount } : {}),
          ...(v.serverlessConfig ? { CurrentServerlessConfig: v.serverlessConfig, DesiredServerlessConfig: v.serverlessConfig } : {}),
        }),
      ),
      EndpointStatus: e.status,
      CreationTime: new Date(e.creationTime),
      LastModifiedTime: new Date(e.lastModifiedTime),
    } satisfies DescribeEndpointOutput;
    return { output, events: [], changed: false };
  }

  /** ListEndpoints (API_ListEndpoints): SortBy CreationTime (default) | Name | Status, SortOrder Descending by default, MaxResults 1–100 (10). */
  listEndpoints(input: InputReader): Outcome {
    const sortBy = input.enum('SortBy', ['Name', 'CreationTime', 'Status'] as const) ?? 'CreationTime';
    const order = input.enum('SortOrder', ['Ascending', 'Descending'] as const) ?? 'Descending';
    const maxResults = input.integer('MaxResults', { min: 1, max: 100 }) ?? 10;
    const nameContains = input.string('NameContains', { max: 63, pattern: /^[a-zA-Z0-9-]+$/ });
    const status = input.enum('StatusEquals', ENDPOINT_STATUSES);
    const createdBefore = input.timestamp('CreationTimeBefore');
    const createdAfter = input.timestamp('CreationTimeAfter');
    const modifiedBefore = input.timestamp('LastModifiedTimeBefore');
    const modifiedAfter = input.timestamp('LastModifiedTimeAfter');
    const nextToken = input.string('NextToken', { max: 8192 });

    const query = fingerprintOf({ sortBy, order, nameContains, status, createdBefore, createdAfter, modifiedBefore, modifiedAfter });
    const sortKey = (e: EndpointRecord): Array<string | number> =>
      sortBy === 'Name' ? [e.name.toLowerCase()] : sortBy === 'Status' ? [e.status, e.name.toLowerCase()] : [e.creationTime, e.name.toLowerCase()];
    const direction = order === 'Ascending' ? 1 : -1;
    const cmp = (a: Array<string | number>, b: Array<string | number>): number => direction * compareKeys(a, b);
    let cursor: Array<string | number> | undefined;
    if (nextToken !== undefined) {
      const decoded = decodeToken(nextToken);
      if (!decoded || decoded.q !== query) throw validationError('Invalid pagination token.');
      cursor = decoded.k;
    }

    const matches = Object.values(this.state.endpoints)
      .filter((e) => nameContains === undefined || e.name.toLowerCase().includes(nameContains.toLowerCase()))
      .filter((e) => status === undefined || e.status === status)
      .filter((e) => createdBefore === undefined || e.creationTime < createdBefore)
      .filter((e) => createdAfter === undefined || e.creationTime > createdAfter)
      .filter((e) => modifiedBefore === undefined || e.lastModifiedTime < modifiedBefore)
      .filter((e) => modifiedAfter === undefined || e.lastModifiedTime > modifiedAfter)
      .filter((e) => cursor === undefined || cmp(sortKey(e), cursor) > 0)
      .sort((a, b) => cmp(sortKey(a), sortKey(b)));
    const page = matches.slice(0, maxResults);
    const last = page[page.length - 1];
    const output = {
      Endpoints: page.map(
        (e): EndpointSummary => ({
          EndpointName: e.name,
          EndpointArn: e.arn,
          CreationTime: new Date(e.creationTime),
          LastModifiedTime: new Date(e.lastModifiedTime),
          EndpointStatus: e.status,
        }),
      ),
      ...(matches.length > maxResults && last ? { NextToken: encodeToken({ k: sortKey(last), q: query }) } : {}),
    } satisfies ListEndpointsOutput;
    return { output, events: [], changed: false };
  }

  /**
   * "SageMaker Endpoint State Change", as the documentation's sample (automating-sagemaker-with-
   * eventbridge, "SageMaker endpoint state change"): the status in upper snake case (`IN_SERVICE`,
   * `DELETING`, where DescribeEndpoint says `InService`), timestamps as epoch-millisecond numbers,
   * Tags as a map. The sample's variants show only DesiredWeight and DesiredInstanceCount; the
   * stand-in also names the variant and its current weight and count (a serverless variant has no counts).
   */
  private endpointEvent(e: EndpointRecord): EventBridgeEvent {
    const detail: Record<string, unknown> = {
      EndpointName: e.name,
      EndpointArn: e.arn,
      EndpointConfigName: e.configName,
      ProductionVariants: e.variants.map((v) => ({
        VariantName: v.variantName,
        CurrentWeight: v.weight,
        DesiredWeight: v.weight,
        ...(v.instanceCount !== undefined ? { CurrentInstanceCount: v.instanceCount, DesiredInstanceCount: v.instanceCount } : {}),
      })),
      EndpointStatus: e.status.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase(),
      CreationTime: e.creationTime,
      LastModifiedTime: e.lastModifiedTime,
      Tags: Object.fromEntries(e.tags.map((t) => [t.Key, t.Value])),
    };
    return this.event('SageMaker Endpoint State Change', e.arn, e.lastModifiedTime, structuredClone(detail));
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
   * ListTags of a training job, model, endpoint configuration or endpoint (the tags it was created
   * with; DescribeTrainingJob and DescribeEndpoint carry none). NextToken is the offset of the next tag.
   */
  listTags(input: InputReader): Outcome {
    const arn = input.string('ResourceArn', { required: true, max: 256 });
    const maxResults = input.integer('MaxResults', { min: 50, max: 100 }) ?? 50;
    const nextToken = input.string('NextToken', { max: 8192 });
    const tagged = [
      ...Object.values(this.state.trainingJobs),
      ...Object.values(this.state.models),
      ...Object.values(this.state.endpointConfigs),
      ...Object.values(this.state.endpoints),
    ].find((r) => r.arn === arn);
    if (!tagged) throw notFound();
    const tags = tagged.tags;
    const start = nextToken === undefined ? 0 : Number(nextToken);
    if (!Number.isInteger(start) || start < 0 || start > tags.length) throw validationError('Invalid pagination token.');
    const page = tags.slice(start, start + maxResults);
    const next = start + page.length < tags.length ? String(start + page.length) : undefined;
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
  BatchDescribeModelPackage: (r, i) => r.batchDescribeModelPackage(i),
  CreateModel: (r, i) => r.createModel(i),
  DescribeModel: (r, i) => r.describeModel(i),
  DeleteModel: (r, i) => r.deleteModel(i),
  CreateEndpointConfig: (r, i) => r.createEndpointConfig(i),
  DescribeEndpointConfig: (r, i) => r.describeEndpointConfig(i),
  DeleteEndpointConfig: (r, i) => r.deleteEndpointConfig(i),
  CreateEndpoint: (r, i) => r.createEndpoint(i),
  UpdateEndpoint: (r, i) => r.updateEndpoint(i),
  DeleteEndpoint: (r, i) => r.deleteEndpoint(i),
  DescribeEndpoint: (r, i) => r.describeEndpoint(i),
  ListEndpoints: (r, i) => r.listEndpoints(i),
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

/** ModelLifeCycle (API_ModelLifeCycle): Stage and StageStatus 1–63 of the entity-name pattern, StageDescription ≤ 1024. */
function readModelLifeCycle(input: InputReader): ModelLifeCycle | undefined {
  const r = input.child('ModelLifeCycle');
  if (!r) return undefined;
  const stage = r.string('Stage', STAGE);
  const stageStatus = r.string('StageStatus', STAGE);
  const stageDescription = r.string('StageDescription', { max: 1024 });
  return { Stage: stage, StageStatus: stageStatus, ...(stageDescription !== undefined ? { StageDescription: stageDescription } : {}) };
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
