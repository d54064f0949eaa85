// Packages the service offline (`serverless package --stage test`) once and checks the generated
// CloudFormation template: event patterns, retries and dead letters, the table, per-function IAM
// roles (least privilege) and the functions' environment.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { unzipSync } from 'fflate';
import { parse } from 'yaml';
import { AUDIT_ENTRY_INSERTS } from '../../local/streams.js';
import { ORGANISATION_PARAMS } from '../support/lambda-bundles.js';

const execFileAsync = promisify(execFile);

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const STAGE = 'test';

interface CfnResource {
  Type: string;
  Properties: Record<string, unknown>;
  DependsOn?: string | string[];
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
}
interface Template {
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, { Value: unknown }>;
}
interface Statement {
  Effect: string;
  Action?: string | string[];
  NotAction?: unknown;
  Resource?: unknown;
  NotResource?: unknown;
}
interface RoleProperties {
  Policies?: { PolicyDocument: { Statement: Statement[] } }[];
  ManagedPolicyArns?: unknown[];
  RoleName?: unknown;
}

const DLQ_ARN = { 'Fn::GetAtt': ['DeadLetterQueue', 'Arn'] };
const TABLE_ARN = { 'Fn::GetAtt': ['GovernanceTable', 'Arn'] };

// What serverless-iam-roles-per-function puts on every function role for its log group.
const LOG_ACTIONS = ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'];
// Active tracing: what every function role inherits from provider.iam.role.statements (X-Ray's
// two actions take no resource, so `*`).
const XRAY_ACTIONS = ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'];

const GATE_ACTIONS = [
  ...LOG_ACTIONS,
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'sagemaker:DescribeTrainingJob',
  'sagemaker:ListTags',
  'sagemaker:DescribeModelPackage',
  'sagemaker:UpdateModelPackage',
  's3:GetObject',
  'sns:Publish',
  'ssm:GetParameter',
  'sqs:SendMessage',
];

const TABLE_GSI1_ARN = { 'Fn::Sub': '${GovernanceTable.Arn}/index/GSI1' };
const TABLE_GSI2_ARN = { 'Fn::Sub': '${GovernanceTable.Arn}/index/GSI2' };
const TABLE_STREAM_ARN = { 'Fn::GetAtt': ['GovernanceTable', 'StreamArn'] };
const STREAM_ACTIONS = ['dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:DescribeStream', 'dynamodb:ListStreams'];
const CHECKPOINT_KEY_ARN = { 'Fn::GetAtt': ['CheckpointKey', 'Arn'] };
const CHECKPOINT_BUCKET_ARN = { 'Fn::GetAtt': ['CheckpointBucket', 'Arn'] };
const CHECKPOINT_OBJECTS = { 'Fn::Sub': '${CheckpointBucket.Arn}/checkpoints/*' };
const EXPORT_OBJECTS = { 'Fn::Sub': '${AuditExportBucket.Arn}/exports/*' };
// verifyAuditTrail's reads, which exportAuditTrail shares: the log, its checkpoints' public key and objects.
const AUDIT_READER_ACTIONS = [...LOG_ACTIONS, 'dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'kms:GetPublicKey', 's3:ListBucket', 's3:GetObject'];
const SIGNING_KEY_ARN = {
  'Fn::Sub': `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter/modelgate/${STAGE}/review-signing-keys`,
};

// What the deployment recorder may ask SageMaker, each on its own resource type (issue 11).
const ENDPOINT_DESCRIBE_ACTIONS = ['sagemaker:DescribeEndpoint', 'sagemaker:DescribeEndpointConfig', 'sagemaker:DescribeModel'];
const ENDPOINT_RESOURCE_TYPE: Record<string, string> = {
  'sagemaker:DescribeEndpoint': 'endpoint',
  'sagemaker:DescribeEndpointConfig': 'endpoint-config',
  'sagemaker:DescribeModel': 'model',
};
// Any SageMaker action on real-time hosting: endpoints, their configurations, models, inference components.
const HOSTING_ACTION = /^sagemaker:[A-Za-z]*(Endpoints?|EndpointConfigs?|EndpointWeightsAndCapacities|InferenceComponents?|Models?)$/;
// The only hosting actions any role may have: reading. ListEndpoints has no resource-level permission.
const ENDPOINT_READ_ACTIONS = [...ENDPOINT_DESCRIBE_ACTIONS, 'sagemaker:ListEndpoints'];
// The deployment recorder, and reconcile, which hands the endpoints whose events were missed to it (issue 11 item 5).
const ENDPOINT_READERS = ['onEndpointStateChange', 'reconcile'];

interface FunctionSpec {
  name: string;
  logicalId: string;
  actions: string[];
  tableResources: unknown[];
}

const FUNCTIONS: FunctionSpec[] = [
  {
    name: 'onTrainingJobStateChange',
    logicalId: 'OnTrainingJobStateChangeLambdaFunction',
    actions: GATE_ACTIONS,
    tableResources: [TABLE_ARN],
  },
  {
    name: 'onModelPackageStateChange',
    logicalId: 'OnModelPackageStateChangeLambdaFunction',
    actions: GATE_ACTIONS,
    tableResources: [TABLE_ARN],
  },
  {
    name: 'putPolicy',
    logicalId: 'PutPolicyLambdaFunction',
    // A version that drops a reviewer revokes their links on the open reviews, as removeReviewer does.
    actions: [...LOG_ACTIONS, 'dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query', 'sns:Publish'],
    tableResources: [TABLE_ARN, TABLE_GSI1_ARN],
  },
  {
    name: 'getPolicy',
    logicalId: 'GetPolicyLambdaFunction',
    actions: [...LOG_ACTIONS, 'dynamodb:GetItem', 'dynamodb:Query'],
    tableResources: [TABLE_ARN],
  },
  {
    name: 'review',
    logicalId: 'ReviewLambdaFunction',
    actions: [
      ...LOG_ACTIONS,
      'dynamodb:GetItem',
      'dynamodb:BatchGetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:ConditionCheckItem',
      'sagemaker:UpdateModelPackage',
      'ssm:GetParameter',
      // "Send me a new link": the new link goes to the reviewer's own subscription.
      'sns:Publish',
    ],
    tableResources: [TABLE_ARN],
  },
  {
    name: 'sweepReviews',
    logicalId: 'SweepReviewsLambdaFunction',
    // It re-gates the versions awaiting their job (GSI1) through the gate's path.
    actions: [
      ...LOG_ACTIONS,
      'dynamodb:Query',
      'dynamodb:GetItem',
      'dynamodb:BatchGetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'sns:Publish',
      'sagemaker:DescribeTrainingJob',
      'sagemaker:ListTags',
      'sagemaker:DescribeModelPackage',
      'sagemaker:UpdateModelPackage',
      's3:GetObject',
      'ssm:GetParameter',
      'sqs:SendMessage',
    ],
    tableResources: [TABLE_ARN, TABLE_GSI1_ARN, TABLE_GSI2_ARN],
  },
  {
    // The group's open reviews (GSI1), a link for the new reviewer in each, signed when sent.
    name: 'addReviewer',
    logicalId: 'AddReviewerLambdaFunction',
    actions: [...LOG_ACTIONS, 'dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query', 'sns:Subscribe', 'sns:Publish', 'ssm:GetParameter'],
    tableResources: [TABLE_ARN, TABLE_GSI1_ARN],
  },
  {
    // The group's open reviews (GSI1), the removed reviewer's links revoked, a governance notice.
    name: 'removeReviewer',
    logicalId: 'RemoveReviewerLambdaFunction',
    actions: [...LOG_ACTIONS, 'dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query', 'sns:Unsubscribe', 'sns:Publish'],
    tableResources: [TABLE_ARN, TABLE_GSI1_ARN],
  },
  {
    // The version, its review and the reviewer's link (no index), a new link signed when it is sent.
    name: 'reissueLink',
    logicalId: 'ReissueLinkLambdaFunction',
    actions: [...LOG_ACTIONS, 'dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'sns:Publish', 'ssm:GetParameter'],
    tableResources: [TABLE_ARN],
  },
  {
    // The version and its expired review (no index); the new review's links, signed when they are sent.
    name: 'reopenReview',
    logicalId: 'ReopenReviewLambdaFunction',
    actions: [...LOG_ACTIONS, 'dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'sns:Publish', 'ssm:GetParameter'],
    tableResources: [TABLE_ARN],
  },
  {
    name: 'reconcile',
    logicalId: 'ReconcileLambdaFunction',
    actions: [
      ...LOG_ACTIONS,
      'dynamodb:GetItem',
      'dynamodb:BatchGetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:Query',
      'sagemaker:ListModelPackages',
      'sagemaker:DescribeTrainingJob',
      'sagemaker:ListTags',
      // Out-of-step versions confirmed in bulk, 100 a call (issue 11).
      'sagemaker:BatchDescribeModelPackage',
      'sagemaker:DescribeModelPackage',
      'sagemaker:UpdateModelPackage',
      // The endpoints whose events were missed: listed, then described by the deployment recorder.
      'sagemaker:ListEndpoints',
      ...ENDPOINT_DESCRIBE_ACTIONS,
      's3:GetObject',
      'sns:Publish',
      'ssm:GetParameter',
      'sqs:SendMessage',
    ],
    tableResources: [TABLE_ARN, TABLE_GSI1_ARN],
  },
  {
    name: 'getLineage',
    logicalId: 'GetLineageLambdaFunction',
    actions: [...LOG_ACTIONS, 'dynamodb:GetItem', 'dynamodb:Query'],
    tableResources: [TABLE_ARN, TABLE_GSI1_ARN],
  },
  {
    name: 'datasetImpact',
    logicalId: 'DatasetImpactLambdaFunction',
    actions: [...LOG_ACTIONS, 'dynamodb:Query', 'dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'sagemaker:UpdateModelPackage', 'sns:Publish'],
    tableResources: [TABLE_ARN, TABLE_GSI1_ARN],
  },
  {
    name: 'exportModelCard',
    logicalId: 'ExportModelCardLambdaFunction',
    actions: [...LOG_ACTIONS, 'dynamodb:GetItem', 'dynamodb:Query', 'sagemaker:DescribeModelCard', 'sagemaker:CreateModelCard', 'sagemaker:UpdateModelCard'],
    tableResources: [TABLE_ARN, TABLE_GSI1_ARN],
  },
  {
    // The entries (table, GSI1), the latest checkpoint's record and its proofs' nodes (BatchGetItem).
    name: 'getAuditTrail',
    logicalId: 'GetAuditTrailLambdaFunction',
    actions: [...LOG_ACTIONS, 'dynamodb:Query', 'dynamodb:BatchGetItem'],
    tableResources: [TABLE_ARN, TABLE_GSI1_ARN],
  },
  {
    name: 'verifyAuditTrail',
    logicalId: 'VerifyAuditTrailLambdaFunction',
    actions: AUDIT_READER_ACTIONS,
    tableResources: [TABLE_ARN, TABLE_GSI2_ARN],
  },
  {
    name: 'exportAuditTrail',
    logicalId: 'ExportAuditTrailLambdaFunction',
    actions: [...AUDIT_READER_ACTIONS, 's3:PutObject'],
    tableResources: [TABLE_ARN, TABLE_GSI2_ARN],
  },
  {
    // The stream's read actions come from serverless-iam-roles-per-function (the stream event).
    name: 'sequenceAuditLog',
    logicalId: 'SequenceAuditLogLambdaFunction',
    actions: [
      ...LOG_ACTIONS,
      'dynamodb:GetItem',
      'dynamodb:BatchGetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:Query',
      ...STREAM_ACTIONS,
      'sqs:SendMessage',
    ],
    tableResources: [TABLE_ARN, TABLE_GSI2_ARN, TABLE_STREAM_ARN],
  },
  {
    name: 'checkpointAuditLog',
    logicalId: 'CheckpointAuditLogLambdaFunction',
    actions: [...LOG_ACTIONS, 'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'kms:Sign', 'kms:GetPublicKey', 's3:PutObject', 's3:GetObject', 'sqs:SendMessage'],
    tableResources: [TABLE_ARN],
  },
  {
    name: 'listPendingReviews',
    logicalId: 'ListPendingReviewsLambdaFunction',
    actions: [...LOG_ACTIONS, 'dynamodb:Query'],
    tableResources: [TABLE_GSI2_ARN],
  },
  {
    // The endpoint, its versions and their policies (one BatchGetItem), one transaction (Put the
    // endpoint and its audit entries, Update each version's servedBy), UpdateItem to settle its
    // notices; SageMaker: the three Describes, nothing that changes an endpoint.
    name: 'onEndpointStateChange',
    logicalId: 'OnEndpointStateChangeLambdaFunction',
    actions: [...LOG_ACTIONS, 'dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', ...ENDPOINT_DESCRIBE_ACTIONS, 'sns:Publish', 'sqs:SendMessage'],
    tableResources: [TABLE_ARN],
  },
  {
    // One Query of the sparse serving-endpoints index (GSI1), one BatchGetItem per page.
    name: 'listUnapprovedDeployments',
    logicalId: 'ListUnapprovedDeploymentsLambdaFunction',
    actions: [...LOG_ACTIONS, 'dynamodb:Query', 'dynamodb:BatchGetItem'],
    tableResources: [TABLE_ARN, TABLE_GSI1_ARN],
  },
];

const ASYNC_FUNCTIONS = [
  {
    name: 'onTrainingJobStateChange',
    logicalId: 'OnTrainingJobStateChangeLambdaFunction',
    ruleName: `modelgate-${STAGE}-training-job-state-change`,
    pattern: {
      'source': ['aws.sagemaker'],
      'detail-type': ['SageMaker Training Job State Change'],
      'detail': { TrainingJobStatus: ['Completed', 'Failed', 'Stopped'] },
    },
  },
  {
    name: 'onModelPackageStateChange',
    logicalId: 'OnModelPackageStateChangeLambdaFunction',
    ruleName: `modelgate-${STAGE}-model-package-state-change`,
    pattern: {
      'source': ['aws.sagemaker'],
      'detail-type': ['SageMaker Model Package State Change'],
    },
  },
  {
    // Both spellings of each status (the documentation's sample IN_SERVICE, DescribeEndpoint InService).
    name: 'onEndpointStateChange',
    logicalId: 'OnEndpointStateChangeLambdaFunction',
    ruleName: `modelgate-${STAGE}-endpoint-state-change`,
    pattern: {
      'source': ['aws.sagemaker'],
      'detail-type': ['SageMaker Endpoint State Change'],
      'detail': { EndpointStatus: ['IN_SERVICE', 'InService', 'DELETING', 'Deleting'] },
    },
  },
];
/** The gate's two functions (the others of ASYNC_FUNCTIONS read no training jobs or model packages). */
const GATE_FUNCTIONS = ASYNC_FUNCTIONS.filter((fn) => fn.name !== 'onEndpointStateChange');

let packageDir: string;
let template: Template;
let resources: Record<string, CfnResource>;

const asArray = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];
const key = (value: unknown): string => JSON.stringify(value);

function resource(logicalId: string): CfnResource {
  const found = resources[logicalId];
  if (!found) throw new Error(`resource ${logicalId} is not in the template`);
  return found;
}

function resourcesOfType(type: string): [string, CfnResource][] {
  return Object.entries(resources).filter(([, r]) => r.Type === type);
}

function roleOf(functionLogicalId: string): { roleId: string; statements: Statement[] } {
  const role = resource(functionLogicalId).Properties.Role as { 'Fn::GetAtt': [string, string] };
  const roleId = role['Fn::GetAtt'][0];
  const props = resource(roleId).Properties as RoleProperties;
  const statements = (props.Policies ?? []).flatMap((p) => p.PolicyDocument.Statement);
  return { roleId, statements };
}

/** action -> set of resources (JSON) it is allowed on, over all statements of one role. */
function grants(statements: Statement[]): Map<string, Set<string>> {
  const map = new Map<string, Set<string>>();
  for (const s of statements) {
    for (const action of asArray(s.Action)) {
      const set = map.get(action) ?? new Set<string>();
      for (const r of asArray(s.Resource)) set.add(key(r));
      map.set(action, set);
    }
  }
  return map;
}

function ruleFor(functionLogicalId: string): [string, CfnResource] {
  const rules = resourcesOfType('AWS::Events::Rule').filter(([, r]) => {
    const targets = r.Properties.Targets as { Arn: unknown }[];
    return targets.some((t) => key(t.Arn) === key({ 'Fn::GetAtt': [functionLogicalId, 'Arn'] }));
  });
  expect(rules).toHaveLength(1);
  return rules[0] as [string, CfnResource];
}

beforeAll(async () => {
  packageDir = mkdtempSync(join(tmpdir(), 'modelgate-template-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
    AWS_ACCESS_KEY_ID: 'AKIDTEMPLATETEST',
    AWS_SECRET_ACCESS_KEY: 'template-test-secret',
    AWS_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
    NODE_OPTIONS: '',
  };
  delete env.AWS_PROFILE;
  delete env.AWS_SESSION_TOKEN;
  try {
    await execFileAsync(
      'npx',
      [
        'serverless',
        'package',
        '--stage',
        STAGE,
        '--package',
        packageDir,
        // Own esbuild work folder: `package` deletes it at the end, and must not delete the
        // default .esbuild/ that another command (invoke local, offline) may be using meanwhile.
        `--param=bundleWorkFolder=.esbuild/template-test-${process.pid}`,
        ...ORGANISATION_PARAMS,
      ],
      { cwd: repoRoot, env, timeout: 170_000, maxBuffer: 32 * 1024 * 1024 },
    );
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`serverless package failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
  template = JSON.parse(
    readFileSync(join(packageDir, 'cloudformation-template-update-stack.json'), 'utf8'),
  ) as Template;
  resources = template.Resources;
}, 180_000);

afterAll(() => {
  if (packageDir) rmSync(packageDir, { recursive: true, force: true });
});

describe('EventBridge rules', () => {
  it.each(ASYNC_FUNCTIONS)('$name: rule with the exact pattern, retries and a DLQ', (fn) => {
    const [, rule] = ruleFor(fn.logicalId);
    expect(rule.Properties.EventPattern).toStrictEqual(fn.pattern);
    expect(rule.Properties.Name).toBe(fn.ruleName);
    expect(rule.Properties.State).toBe('ENABLED');
    expect(rule.Properties.EventBusName).toBeUndefined();
    const targets = rule.Properties.Targets as Record<string, unknown>[];
    expect(targets).toHaveLength(1);
    const target = targets[0] as Record<string, unknown>;
    expect(target.DeadLetterConfig).toStrictEqual({ Arn: DLQ_ARN });
    expect(target.RetryPolicy).toStrictEqual({
      MaximumEventAgeInSeconds: 86400,
      MaximumRetryAttempts: 185,
    });
  });

  it("only the three SageMaker rules, the hourly sweep, the daily reconciliation and the audit log's two schedules exist", () => {
    expect(resourcesOfType('AWS::Events::Rule')).toHaveLength(7);
    const sagemakerRules = resourcesOfType('AWS::Events::Rule').filter(([, r]) => (r.Properties.EventPattern as { source?: string[] } | undefined)?.source?.includes('aws.sagemaker'));
    expect(sagemakerRules.map(([, r]) => r.Properties.Name).sort()).toStrictEqual(ASYNC_FUNCTIONS.map((fn) => fn.ruleName).sort());
    const [, reconcile] = ruleFor('ReconcileLambdaFunction');
    expect(reconcile.Properties.ScheduleExpression).toBe('rate(1 day)');
  });

  it('sweepReviews runs every hour, and its failures reach the DLQ', () => {
    const [, rule] = ruleFor('SweepReviewsLambdaFunction');
    expect(rule.Properties.ScheduleExpression).toBe('rate(1 hour)');
    expect(rule.Properties.Name).toBe(`modelgate-${STAGE}-sweep-reviews`);
    expect(rule.Properties.State).toBe('ENABLED');
    const configs = resourcesOfType('AWS::Lambda::EventInvokeConfig').filter(
      ([, r]) => key(r.Properties.FunctionName) === key({ Ref: 'SweepReviewsLambdaFunction' }),
    );
    expect(configs.map(([, c]) => c.Properties.DestinationConfig)).toStrictEqual([{ OnFailure: { Destination: DLQ_ARN } }]);
    const g = grants(roleOf('SweepReviewsLambdaFunction').statements);
    expect([...(g.get('sqs:SendMessage') ?? [])]).toStrictEqual([key(DLQ_ARN)]);
  });

  it('the endpoint rule targets onEndpointStateChange only, and no rule but it matches endpoint events', () => {
    const [ruleId, rule] = ruleFor('OnEndpointStateChangeLambdaFunction');
    const targets = rule.Properties.Targets as { Arn: unknown }[];
    expect(targets.map((t) => t.Arn)).toStrictEqual([{ 'Fn::GetAtt': ['OnEndpointStateChangeLambdaFunction', 'Arn'] }]);
    // (schedule rules have no pattern)
    const endpointRules = resourcesOfType('AWS::Events::Rule').filter(([, r]) => r.Properties.EventPattern !== undefined && key(r.Properties.EventPattern).includes('Endpoint'));
    expect(endpointRules.map(([id]) => id)).toStrictEqual([ruleId]);
    // EventBridge may invoke the function, from this rule only (the permission names the rule's ARN by its name).
    const permissions = resourcesOfType('AWS::Lambda::Permission').filter(([, p]) => key(p.Properties.FunctionName).includes('OnEndpointStateChangeLambdaFunction'));
    const ruleArn = {
      'Fn::Join': [':', ['arn', { Ref: 'AWS::Partition' }, 'events', { Ref: 'AWS::Region' }, { Ref: 'AWS::AccountId' }, { 'Fn::Join': ['/', ['rule', `modelgate-${STAGE}-endpoint-state-change`]] }]],
    };
    expect(permissions.map(([, p]) => [p.Properties.Action, p.Properties.Principal, p.Properties.SourceArn])).toStrictEqual([['lambda:InvokeFunction', 'events.amazonaws.com', ruleArn]]);
  });

  it('the DLQ accepts messages from exactly the three SageMaker rules', () => {
    const policies = resourcesOfType('AWS::SQS::QueuePolicy');
    expect(policies).toHaveLength(1);
    const [, policy] = policies[0] as [string, CfnResource];
    expect(policy.Properties.Queues).toStrictEqual([{ Ref: 'DeadLetterQueue' }]);
    const doc = policy.Properties.PolicyDocument as { Statement: Record<string, unknown>[] };
    expect(doc.Statement).toHaveLength(1);
    const statement = doc.Statement[0] as Record<string, unknown>;
    expect(statement.Effect).toBe('Allow');
    expect(statement.Principal).toStrictEqual({ Service: 'events.amazonaws.com' });
    expect(statement.Action).toBe('sqs:SendMessage');
    expect(statement.Resource).toStrictEqual(DLQ_ARN);
    const condition = statement.Condition as { ArnEquals: { 'aws:SourceArn': unknown[] } };
    const sourceArns = condition.ArnEquals['aws:SourceArn'].map(key).sort();
    const ruleArns = ASYNC_FUNCTIONS.map((fn) => {
      const [, rule] = ruleFor(fn.logicalId);
      return key({
        'Fn::Sub': `arn:\${AWS::Partition}:events:\${AWS::Region}:\${AWS::AccountId}:rule/${String(rule.Properties.Name)}`,
      });
    }).sort();
    expect(sourceArns).toStrictEqual(ruleArns);
  });
});

describe('async invocation of the event functions', () => {
  it.each(ASYNC_FUNCTIONS)('$name: 2 retries, then the DLQ', (fn) => {
    const configs = resourcesOfType('AWS::Lambda::EventInvokeConfig').filter(
      ([, r]) => key(r.Properties.FunctionName) === key({ Ref: fn.logicalId }),
    );
    expect(configs).toHaveLength(1);
    const [, config] = configs[0] as [string, CfnResource];
    expect(config.Properties.MaximumRetryAttempts).toBe(2);
    expect(config.Properties.Qualifier).toBe('$LATEST');
    expect(config.Properties.DestinationConfig).toStrictEqual({
      OnFailure: { Destination: DLQ_ARN },
    });
  });

  it.each(ASYNC_FUNCTIONS)('$name: timeout 30 s, 512 MB, nodejs22.x', (fn) => {
    const props = resource(fn.logicalId).Properties;
    expect(props.Timeout).toBe(30);
    expect(props.MemorySize).toBe(512);
    expect(props.Runtime).toBe('nodejs22.x');
  });
});

describe('queues and topics', () => {
  it('dead-letter queue keeps messages 14 days, encrypted', () => {
    const q = resource('DeadLetterQueue');
    expect(q.Type).toBe('AWS::SQS::Queue');
    expect(q.Properties).toMatchObject({
      QueueName: `modelgate-${STAGE}-dlq`,
      MessageRetentionPeriod: 1209600,
      SqsManagedSseEnabled: true,
    });
  });

  it.each([
    ['ReviewersTopic', `modelgate-${STAGE}-reviewers`],
    ['GovernanceTopic', `modelgate-${STAGE}-governance`],
  ])('%s is named per stage and encrypted', (logicalId, name) => {
    const topic = resource(logicalId);
    expect(topic.Type).toBe('AWS::SNS::Topic');
    expect(topic.Properties.TopicName).toBe(name);
    expect(topic.Properties.KmsMasterKeyId).toBe('alias/aws/sns');
  });
});

describe('GovernanceTable', () => {
  it('is PAY_PER_REQUEST with PITR, SSE, TTL on ttl and GSI1/GSI2', () => {
    const table = resource('GovernanceTable');
    expect(table.Type).toBe('AWS::DynamoDB::Table');
    const p = table.Properties;
    expect(p.TableName).toBe(`modelgate-${STAGE}-governance`);
    expect(p.BillingMode).toBe('PAY_PER_REQUEST');
    expect(p.PointInTimeRecoverySpecification).toStrictEqual({ PointInTimeRecoveryEnabled: true });
    expect(p.SSESpecification).toStrictEqual({ SSEEnabled: true });
    expect(p.TimeToLiveSpecification).toStrictEqual({ AttributeName: 'ttl', Enabled: true });
    expect(p.KeySchema).toStrictEqual([
      { AttributeName: 'PK', KeyType: 'HASH' },
      { AttributeName: 'SK', KeyType: 'RANGE' },
    ]);
    const gsis = p.GlobalSecondaryIndexes as { IndexName: string; KeySchema: unknown }[];
    expect(gsis.map((g) => g.IndexName).sort()).toStrictEqual(['GSI1', 'GSI2']);
    for (const g of gsis) {
      expect(g.KeySchema).toStrictEqual([
        { AttributeName: `${g.IndexName}PK`, KeyType: 'HASH' },
        { AttributeName: `${g.IndexName}SK`, KeyType: 'RANGE' },
      ]);
    }
  });
});

describe('per-function IAM roles', () => {
  it('every function has its own role, none uses the shared default role', () => {
    const roleIds = FUNCTIONS.map((fn) => roleOf(fn.logicalId).roleId);
    expect(new Set(roleIds).size).toBe(FUNCTIONS.length);
    for (const [i, fn] of FUNCTIONS.entries()) {
      expect(roleIds[i]).not.toBe('IamRoleLambdaExecution');
      expect(resource(roleIds[i] as string).Type).toBe('AWS::IAM::Role');
      expect(resource(fn.logicalId).DependsOn).toContain(roleIds[i]);
    }
    const functions = resourcesOfType('AWS::Lambda::Function');
    expect(functions.map(([id]) => id).sort()).toStrictEqual(
      FUNCTIONS.map((fn) => fn.logicalId).sort(),
    );
  });

  it("the roles that may call UpdateModelPackage are exactly the ones the README's IAM guard names, by their fixed names", () => {
    // The guard in the README is written for stage prod in eu-west-1; this template is stage test in us-east-1.
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### The IAM guard'));
    const guard = JSON.parse(/```json\n([\s\S]*?)\n```/.exec(section)?.[1] ?? 'null') as {
      Statement: { Condition: { ArnNotLike: { 'aws:PrincipalArn': string[] } } }[];
    };
    const guarded = (guard.Statement[0]?.Condition.ArnNotLike['aws:PrincipalArn'] ?? []).map((arn) => {
      const fn = /^arn:aws:iam::\*:role\/modelgate-prod-([A-Za-z]+)-eu-west-1$/.exec(arn)?.[1];
      expect(fn).toBeDefined();
      return `modelgate-${STAGE}-${fn}-us-east-1`;
    });
    const updaters = resourcesOfType('AWS::IAM::Role')
      .filter(([, role]) => JSON.stringify(role.Properties.Policies ?? []).includes('sagemaker:UpdateModelPackage'))
      .map(([, role]) => role.Properties.RoleName);
    expect(updaters.length).toBe(6);
    expect([...updaters].sort()).toStrictEqual([...guarded].sort());
    // The longest region names have 14 characters; IAM allows 64 in a role name.
    for (const name of guarded) expect(name.replace(STAGE, 'x'.repeat(13)).replace('us-east-1', 'x'.repeat(14)).length).toBeLessThanOrEqual(64);
  });

  it.each(FUNCTIONS)('$name: exactly the expected actions, no wildcard, Allow only', (fn) => {
    const { roleId, statements } = roleOf(fn.logicalId);
    const props = resource(roleId).Properties as RoleProperties;
    expect(props.ManagedPolicyArns ?? []).toStrictEqual([]);
    for (const s of statements) {
      expect(s.Effect).toBe('Allow');
      expect(s.NotAction).toBeUndefined();
      expect(s.NotResource).toBeUndefined();
    }
    const actions = [...grants(statements).keys()];
    for (const action of actions) expect(action).not.toContain('*');
    expect(actions.sort()).toStrictEqual([...new Set([...fn.actions, ...XRAY_ACTIONS])].sort());
  });

  it.each(FUNCTIONS)('$name: X-Ray tracing is active, and its role may send segments and telemetry (one statement, nothing else in it)', (fn) => {
    expect(resource(fn.logicalId).Properties.TracingConfig).toStrictEqual({ Mode: 'Active' });
    const xray = roleOf(fn.logicalId).statements.filter((st) => asArray(st.Action).some((a) => a.startsWith('xray:')));
    expect(xray).toStrictEqual([{ Effect: 'Allow', Action: XRAY_ACTIONS, Resource: '*' }]);
  });

  it.each(FUNCTIONS)('$name: DynamoDB only on the governance table', (fn) => {
    const g = grants(roleOf(fn.logicalId).statements);
    const expected = fn.tableResources.map(key).sort();
    const seen = new Set<string>();
    for (const [action, res] of g) {
      if (!action.startsWith('dynamodb:')) continue;
      for (const r of res) expect(expected).toContain(r);
      // Query is the only action that needs an index; no other action is granted on one.
      for (const r of res) if (r.includes('/index/')) expect(action).toBe('dynamodb:Query');
      res.forEach((r) => seen.add(r));
    }
    expect([...seen].sort()).toStrictEqual(expected);
  });

  it.each(FUNCTIONS)('$name: logs only on its own log group', (fn) => {
    const g = grants(roleOf(fn.logicalId).statements);
    const logGroup = {
      'Fn::Sub': `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/modelgate-${STAGE}-${fn.name}:*:*`,
    };
    for (const action of LOG_ACTIONS) {
      expect([...(g.get(action) ?? [])]).toStrictEqual([key(logGroup)]);
    }
  });

  it.each(ASYNC_FUNCTIONS)('$name: its own role may send to the DLQ (destination)', (fn) => {
    const g = grants(roleOf(fn.logicalId).statements);
    expect([...(g.get('sqs:SendMessage') ?? [])]).toStrictEqual([key(DLQ_ARN)]);
  });

  it.each(GATE_FUNCTIONS)('$name: SageMaker, S3 and SNS resources are scoped', (fn) => {
    const g = grants(roleOf(fn.logicalId).statements);
    const sm = (type: string) =>
      key({
        'Fn::Sub': `arn:\${AWS::Partition}:sagemaker:\${AWS::Region}:\${AWS::AccountId}:${type}/*`,
      });
    expect([...(g.get('sagemaker:DescribeTrainingJob') ?? [])]).toStrictEqual([sm('training-job')]);
    expect([...(g.get('sagemaker:ListTags') ?? [])]).toStrictEqual([sm('training-job')]);
    expect([...(g.get('sagemaker:DescribeModelPackage') ?? [])]).toStrictEqual([sm('model-package')]);
    expect([...(g.get('sagemaker:UpdateModelPackage') ?? [])]).toStrictEqual([sm('model-package')]);
    expect([...(g.get('s3:GetObject') ?? [])]).toStrictEqual([
      key({ 'Fn::Sub': 'arn:${AWS::Partition}:s3:::sagemaker-*/*' }),
    ]);
    expect([...(g.get('sns:Publish') ?? [])].sort()).toStrictEqual(
      [key({ Ref: 'ReviewersTopic' }), key({ Ref: 'GovernanceTopic' })].sort(),
    );
  });

  it('only the reviewer functions manage subscriptions, and only on the reviewers topic: addReviewer subscribes, removeReviewer unsubscribes', () => {
    const owner: Record<string, string> = { 'sns:Subscribe': 'addReviewer', 'sns:Unsubscribe': 'removeReviewer' };
    for (const fn of FUNCTIONS) {
      const g = grants(roleOf(fn.logicalId).statements);
      for (const action of ['sns:Subscribe', 'sns:Unsubscribe']) {
        if (fn.name === owner[action]) expect([...(g.get(action) ?? [])]).toStrictEqual([key({ Ref: 'ReviewersTopic' })]);
        else expect(g.has(action)).toBe(false);
      }
    }
  });

  it('addReviewer publishes only to the reviewers topic (links), removeReviewer only to the governance topic (notices)', () => {
    expect([...(grants(roleOf('AddReviewerLambdaFunction').statements).get('sns:Publish') ?? [])]).toStrictEqual([key({ Ref: 'ReviewersTopic' })]);
    expect([...(grants(roleOf('RemoveReviewerLambdaFunction').statements).get('sns:Publish') ?? [])]).toStrictEqual([key({ Ref: 'GovernanceTopic' })]);
    expect([...(grants(roleOf('PutPolicyLambdaFunction').statements).get('sns:Publish') ?? [])]).toStrictEqual([key({ Ref: 'GovernanceTopic' })]);
  });

  it.each(['ReviewLambdaFunction', 'ReissueLinkLambdaFunction', 'ReopenReviewLambdaFunction'])('%s publishes only to the reviewers topic (new links), never to governance', (id) => {
    expect([...(grants(roleOf(id).statements).get('sns:Publish') ?? [])]).toStrictEqual([key({ Ref: 'ReviewersTopic' })]);
  });

  it.each(['SweepReviewsLambdaFunction', 'ReconcileLambdaFunction'])('%s re-gates through the gate path: training jobs, their tags and reports on scoped resources only', (id) => {
    const g = grants(roleOf(id).statements);
    const sm = (type: string) => key({ 'Fn::Sub': `arn:\${AWS::Partition}:sagemaker:\${AWS::Region}:\${AWS::AccountId}:${type}/*` });
    expect([...(g.get('sagemaker:DescribeTrainingJob') ?? [])]).toStrictEqual([sm('training-job')]);
    expect([...(g.get('sagemaker:ListTags') ?? [])]).toStrictEqual([sm('training-job')]);
    expect([...(g.get('sagemaker:DescribeModelPackage') ?? [])]).toStrictEqual([sm('model-package')]);
    // Only reconcile confirms versions in bulk.
    if (id === 'ReconcileLambdaFunction') expect([...(g.get('sagemaker:BatchDescribeModelPackage') ?? [])]).toStrictEqual([sm('model-package')]);
    else expect(g.has('sagemaker:BatchDescribeModelPackage')).toBe(false);
    expect([...(g.get('s3:GetObject') ?? [])]).toStrictEqual([key({ 'Fn::Sub': 'arn:${AWS::Partition}:s3:::sagemaker-*/*' })]);
  });

  it('onEndpointStateChange: the three Describes only, SNS on the governance topic only, the DLQ only', () => {
    const g = grants(roleOf('OnEndpointStateChangeLambdaFunction').statements);
    expect([...g.keys()].filter((a) => a.startsWith('sagemaker:')).sort()).toStrictEqual([...ENDPOINT_DESCRIBE_ACTIONS].sort());
    expect([...(g.get('sns:Publish') ?? [])]).toStrictEqual([key({ Ref: 'GovernanceTopic' })]);
    expect([...(g.get('sqs:SendMessage') ?? [])]).toStrictEqual([key(DLQ_ARN)]);
    for (const a of ['sagemaker:CreateEndpoint', 'sagemaker:UpdateEndpoint', 'sagemaker:DeleteEndpoint', 'sagemaker:UpdateModelPackage', 'dynamodb:DeleteItem', 'dynamodb:Query']) expect(g.has(a)).toBe(false);
  });

  it('no role in the stack may create, change, delete or invoke an endpoint, an endpoint configuration or a model', () => {
    const hosting = resourcesOfType('AWS::IAM::Role').flatMap(([roleId, role]) =>
      ((role.Properties as RoleProperties).Policies ?? [])
        .flatMap((p) => p.PolicyDocument.Statement)
        .flatMap((s) => asArray(s.Action))
        .filter((a) => HOSTING_ACTION.test(a))
        .map((a) => `${roleId} ${a}`),
    );
    expect(hosting.length).toBeGreaterThan(0);
    expect(hosting.filter((a) => !ENDPOINT_READ_ACTIONS.some((r) => a.endsWith(` ${r}`)))).toStrictEqual([]);
  });

  it('only the deployment recorder and reconcile describe endpoints, their configurations and models, each on its own resource type; only reconcile lists endpoints', () => {
    const holders = (actions: string[]) =>
      resourcesOfType('AWS::IAM::Role')
        .filter(([, role]) => ((role.Properties as RoleProperties).Policies ?? []).some((p) => p.PolicyDocument.Statement.some((st) => asArray(st.Action).some((a) => actions.includes(a)))))
        .map(([roleId]) => roleId)
        .sort();
    const readers = FUNCTIONS.filter((fn) => ENDPOINT_READERS.includes(fn.name));
    expect(readers.map((fn) => fn.name).sort()).toStrictEqual([...ENDPOINT_READERS].sort());
    expect(holders(ENDPOINT_DESCRIBE_ACTIONS)).toStrictEqual(readers.map((fn) => roleOf(fn.logicalId).roleId).sort());
    for (const fn of readers) {
      const g = grants(roleOf(fn.logicalId).statements);
      for (const action of ENDPOINT_DESCRIBE_ACTIONS) {
        const type = ENDPOINT_RESOURCE_TYPE[action] ?? '';
        expect([...(g.get(action) ?? [])]).toStrictEqual([key({ 'Fn::Sub': `arn:\${AWS::Partition}:sagemaker:\${AWS::Region}:\${AWS::AccountId}:${type}/*` })]);
      }
    }
    expect(holders(['sagemaker:ListEndpoints'])).toStrictEqual([roleOf('ReconcileLambdaFunction').roleId]);
    expect([...(grants(roleOf('ReconcileLambdaFunction').statements).get('sagemaker:ListEndpoints') ?? [])]).toStrictEqual([key('*')]);
  });

  it('listUnapprovedDeployments cannot write anything: a Query of GSI1 and BatchGetItem on the table, nothing else', () => {
    const g = grants(roleOf('ListUnapprovedDeploymentsLambdaFunction').statements);
    // (X-Ray's PutTraceSegments writes trace data, not the stack's resources.)
    const nonLog = [...g.keys()].filter((a) => !LOG_ACTIONS.includes(a) && !XRAY_ACTIONS.includes(a));
    expect(nonLog.sort()).toStrictEqual(['dynamodb:BatchGetItem', 'dynamodb:Query']);
    expect([...(g.get('dynamodb:Query') ?? [])]).toStrictEqual([key(TABLE_GSI1_ARN)]);
    expect([...(g.get('dynamodb:BatchGetItem') ?? [])]).toStrictEqual([key(TABLE_ARN)]);
  });

  it('getPolicy cannot write anything', () => {
    const actions = [...grants(roleOf('GetPolicyLambdaFunction').statements).keys()];
    const nonLog = actions.filter((a) => !LOG_ACTIONS.includes(a) && !XRAY_ACTIONS.includes(a));
    expect(nonLog.sort()).toStrictEqual(['dynamodb:GetItem', 'dynamodb:Query']);
    for (const a of nonLog) {
      expect(a).not.toMatch(/Put|Update|Delete|Write|ConditionCheck|Batch|Publish|Send/);
    }
  });

  it('no role in the stack grants a wildcard action', () => {
    for (const [, role] of resourcesOfType('AWS::IAM::Role')) {
      const props = role.Properties as RoleProperties;
      for (const p of props.Policies ?? []) {
        for (const s of p.PolicyDocument.Statement) {
          for (const a of asArray(s.Action)) expect(a).not.toContain('*');
        }
      }
    }
  });
});

const ORGANISATION_NAME = 'Acme Bank model risk';
const ORGANISATION_CONTACT = 'model-risk@acme-bank.example';
const OIDC_SECRET_ARN = { 'Fn::Sub': `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter/modelgate/${STAGE}/oidc-client-secret` };
const SESSION_KEY_ARN = { 'Fn::Sub': `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter/modelgate/${STAGE}/review-session-keys` };

describe('the review page on the HTTP API', () => {
  it('routes GET and POST /reviews/{token} and the sign-in callback GET /auth/callback to the review function, and nothing else', () => {
    const routes = resourcesOfType('AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties.RouteKey).sort();
    expect(routes).toStrictEqual(['GET /auth/callback', 'GET /reviews/{token}', 'POST /reviews/{token}']);
    const integrations = resourcesOfType('AWS::ApiGatewayV2::Integration');
    expect(integrations).toHaveLength(1);
    expect(key(integrations[0]?.[1].Properties.IntegrationUri)).toBe(key({ 'Fn::GetAtt': ['ReviewLambdaFunction', 'Arn'] }));
    expect(integrations[0]?.[1].Properties.PayloadFormatVersion).toBe('2.0');
  });

  it('throttles every route of the stage', () => {
    expect(resource('HttpApiStage').Properties.DefaultRouteSettings).toStrictEqual({ ThrottlingBurstLimit: 20, ThrottlingRateLimit: 10 });
  });

  it('logs every request with its route key, never its path (the path holds the signed token)', () => {
    const settings = resource('HttpApiStage').Properties.AccessLogSettings as { DestinationArn: { 'Fn::GetAtt': [string, string] }; Format: string };
    const [group, attribute] = settings.DestinationArn['Fn::GetAtt'];
    expect([resource(group).Type, attribute]).toStrictEqual(['AWS::Logs::LogGroup', 'Arn']);
    const fields = JSON.parse(settings.Format) as Record<string, string>;
    expect(fields.routeKey).toBe('$context.routeKey');
    expect(Object.keys(fields).sort()).toStrictEqual(['httpMethod', 'integrationLatency', 'ip', 'protocol', 'requestId', 'requestTime', 'responseLength', 'routeKey', 'status']);
    // No context variable that carries the request's path or query string.
    expect(settings.Format).not.toMatch(/\$context\.(path|rawPath|resourcePath|requestOverride|authorizer)|\$request\./);
  });

  it('keeps every log group (the functions\' and the access log) for logRetentionDays: 365 days by default', () => {
    const groups = resourcesOfType('AWS::Logs::LogGroup');
    expect(groups.length).toBe(FUNCTIONS.length + 1);
    expect(groups.map(([, g]) => g.Properties.RetentionInDays)).toStrictEqual(groups.map(() => 365));
  });

  it('lets only the functions that sign or verify links read the signing key, and only that parameter', () => {
    const readers = FUNCTIONS.filter((fn) => grants(roleOf(fn.logicalId).statements).has('ssm:GetParameter')).map((fn) => fn.name);
    expect(readers.sort()).toStrictEqual(['addReviewer', 'onModelPackageStateChange', 'onTrainingJobStateChange', 'reconcile', 'reissueLink', 'reopenReview', 'review', 'sweepReviews']);
    for (const fn of FUNCTIONS) {
      const res = grants(roleOf(fn.logicalId).statements).get('ssm:GetParameter');
      if (fn.name === 'review') expect([...(res ?? [])].sort()).toStrictEqual([key(SIGNING_KEY_ARN), key(OIDC_SECRET_ARN), key(SESSION_KEY_ARN)].sort());
      else if (res) expect([...res]).toStrictEqual([key(SIGNING_KEY_ARN)]);
    }
  });

  it('gives the organisation (named on every page and message) to exactly the functions that render pages or send messages', () => {
    const named = FUNCTIONS.filter((fn) => {
      const vars = (resource(fn.logicalId).Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      return vars.ORGANISATION_NAME !== undefined || vars.ORGANISATION_CONTACT !== undefined;
    }).map((fn) => fn.name);
    expect(named.sort()).toStrictEqual(
      ['addReviewer', 'datasetImpact', 'onEndpointStateChange', 'onModelPackageStateChange', 'onTrainingJobStateChange', 'putPolicy', 'reconcile', 'reissueLink', 'removeReviewer', 'reopenReview', 'review', 'sweepReviews'].sort(),
    );
    // The deployment recorder sends notices; the operator's listing sends nothing.
    expect(named).toContain('onEndpointStateChange');
    expect(named).not.toContain('listUnapprovedDeployments');
    for (const fn of FUNCTIONS.filter((f) => named.includes(f.name))) {
      const vars = (resource(fn.logicalId).Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      expect([vars.ORGANISATION_NAME, vars.ORGANISATION_CONTACT]).toStrictEqual([ORGANISATION_NAME, ORGANISATION_CONTACT]);
    }
  });

  it('signs reviewers in with OpenID Connect on a deployed stage: the parameters reach the review function only, never a client secret', () => {
    const vars = (resource('ReviewLambdaFunction').Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(vars).toMatchObject({
      REVIEW_AUTH: 'oidc',
      OIDC_ISSUER: '',
      OIDC_CLIENT_ID: '',
      OIDC_CLIENT_SECRET_PARAMETER: `/modelgate/${STAGE}/oidc-client-secret`,
      OIDC_CLIENT_SECRET: '',
      OIDC_IDENTITY_CLAIM: 'email',
      SESSION_KEY_PARAMETER: `/modelgate/${STAGE}/review-session-keys`,
    });
    for (const fn of FUNCTIONS.filter((f) => f.name !== 'review')) {
      const others = (resource(fn.logicalId).Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(Object.keys(others).filter((k) => k.startsWith('OIDC_') || k === 'SESSION_KEY_PARAMETER' || k === 'REVIEW_AUTH')).toStrictEqual([]);
    }
  });

  it('points reviewers at this API unless a base URL is given, and names the key parameter', () => {
    const vars = (resource('ReviewLambdaFunction').Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(vars.REVIEW_BASE_URL).toStrictEqual({ 'Fn::GetAtt': ['HttpApi', 'ApiEndpoint'] });
    expect(vars.REVIEW_SIGNING_KEY_PARAMETER).toBe(`/modelgate/${STAGE}/review-signing-keys`);
  });
});

describe('functions', () => {
  it.each(FUNCTIONS)('$name: handler path, name and environment', (fn) => {
    // (every function gets the same environment; the values are asserted once here)
    const props = resource(fn.logicalId).Properties;
    expect(props.Handler).toBe(`functions/${fn.name}/handler.handler`);
    expect(props.FunctionName).toBe(`modelgate-${STAGE}-${fn.name}`);
    expect(props.Runtime).toBe('nodejs22.x');
    const vars = (props.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(vars).toMatchObject({
      TABLE_NAME: { Ref: 'GovernanceTable' },
      REVIEWERS_TOPIC_ARN: { Ref: 'ReviewersTopic' },
      GOVERNANCE_TOPIC_ARN: { Ref: 'GovernanceTopic' },
      REVIEW_BASE_URL: { 'Fn::GetAtt': ['HttpApi', 'ApiEndpoint'] },
      REVIEW_SIGNING_KEY_PARAMETER: `/modelgate/${STAGE}/review-signing-keys`,
      POWERTOOLS_SERVICE_NAME: 'modelgate',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      POWERTOOLS_TRACE_ENABLED: 'true',
      STAGE,
    });
    // The source maps are not in the zips, and nothing loads one at init (issue 12 item 5).
    expect(vars).not.toHaveProperty('NODE_OPTIONS');
  });

  it.each(FUNCTIONS)('$name: its own zip holds an .mjs bundle and no .js handler', (fn) => {
    const zips = readdirSync(packageDir).filter((f) => f.endsWith('.zip'));
    expect(zips).toContain(`${fn.name}.zip`);
    const zip = readFileSync(join(packageDir, `${fn.name}.zip`));
    // Zip entry names are stored uncompressed in the local and central directory headers.
    expect(zip.includes(Buffer.from(`functions/${fn.name}/handler.mjs`))).toBe(true);
    expect(zip.includes(Buffer.from(`functions/${fn.name}/handler.js`))).toBe(false);
    // Its bundle alone: no source map in the zip.
    expect(Object.keys(unzipSync(zip))).toStrictEqual([`functions/${fn.name}/handler.mjs`]);
    // Its source map is kept beside the package instead.
    expect(readdirSync(join(packageDir, 'sourcemaps', 'functions', fn.name))).toStrictEqual(['handler.mjs.map']);
    const code = resource(fn.logicalId).Properties.Code as { S3Key: string };
    expect(code.S3Key.endsWith(`/${fn.name}.zip`)).toBe(true);
  });
});

describe('the audit log: table stream, sequencer, checkpoint key and buckets', () => {
  const params = (parse(readFileSync(join(repoRoot, 'serverless.yml'), 'utf8')) as { params: { default: Record<string, unknown> } }).params.default;
  const AUDIT_FUNCTIONS = ['getAuditTrail', 'verifyAuditTrail', 'exportAuditTrail', 'sequenceAuditLog', 'checkpointAuditLog'];
  const rolesGranting = (action: string) => FUNCTIONS.filter((fn) => grants(roleOf(fn.logicalId).statements).has(action)).map((fn) => fn.name).sort();
  const allStatements = () =>
    resourcesOfType('AWS::IAM::Role').flatMap(([, role]) => ((role.Properties as RoleProperties).Policies ?? []).flatMap((p) => p.PolicyDocument.Statement));

  it('the stack outputs what an auditor looks up independently: the checkpoint key ARN and the two buckets', () => {
    expect(template.Outputs?.CheckpointKeyArn?.Value).toStrictEqual({ 'Fn::GetAtt': ['CheckpointKey', 'Arn'] });
    expect(template.Outputs?.CheckpointBucketName?.Value).toStrictEqual({ Ref: 'CheckpointBucket' });
    expect(template.Outputs?.AuditExportBucketName?.Value).toStrictEqual({ Ref: 'AuditExportBucket' });
  });

  it('the table is retained and streams new images (the sequencer reads keys and type from them)', () => {
    const table = resource('GovernanceTable');
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.UpdateReplacePolicy).toBe('Retain');
    expect(table.Properties.StreamSpecification).toStrictEqual({ StreamViewType: 'NEW_IMAGE' });
  });

  it('the checkpoint key is an asymmetric P-256 signing key, retained, not rotated, administered by the account only', () => {
    const k = resource('CheckpointKey');
    expect(k.Type).toBe('AWS::KMS::Key');
    expect(k.DeletionPolicy).toBe('Retain');
    expect(k.UpdateReplacePolicy).toBe('Retain');
    expect(k.Properties).toMatchObject({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY', EnableKeyRotation: false, PendingWindowInDays: 30 });
    const policy = k.Properties.KeyPolicy as { Statement: { Effect: string; Principal: unknown }[] };
    expect(policy.Statement.map((s) => [s.Effect, s.Principal])).toStrictEqual([
      ['Allow', { AWS: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:root' } }],
    ]);
    expect(JSON.stringify(policy)).not.toMatch(/"Principal":"\*"|"AWS":"\*"/);
    const aliases = resourcesOfType('AWS::KMS::Alias');
    expect(aliases.map(([, a]) => a.Properties)).toStrictEqual([{ AliasName: `alias/modelgate-${STAGE}-checkpoints`, TargetKeyId: { Ref: 'CheckpointKey' } }]);
  });

  it('the checkpoint bucket locks every object in COMPLIANCE mode for checkpointRetentionDays (seven years), and is retained', () => {
    expect(params.checkpointRetentionDays).toBe(2557);
    const b = resource('CheckpointBucket');
    expect(b.Type).toBe('AWS::S3::Bucket');
    expect(b.DeletionPolicy).toBe('Retain');
    expect(b.UpdateReplacePolicy).toBe('Retain');
    expect(b.Properties.ObjectLockEnabled).toBe(true);
    expect(b.Properties.ObjectLockConfiguration).toStrictEqual({
      ObjectLockEnabled: 'Enabled',
      Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: params.checkpointRetentionDays } },
    });
    expect(b.Properties).toMatchObject({
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    });
  });

  it('the export bucket is versioned, private, encrypted and retained, without Object Lock', () => {
    const b = resource('AuditExportBucket');
    expect(b.Type).toBe('AWS::S3::Bucket');
    expect(b.DeletionPolicy).toBe('Retain');
    expect(b.UpdateReplacePolicy).toBe('Retain');
    expect(b.Properties.ObjectLockEnabled).toBeUndefined();
    expect(b.Properties.ObjectLockConfiguration).toBeUndefined();
    expect(b.Properties).toMatchObject({
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
    });
  });

  it.each(['CheckpointBucket', 'AuditExportBucket'])('%s refuses every request without TLS, and its policy allows nothing', (bucket) => {
    const policies = resourcesOfType('AWS::S3::BucketPolicy').filter(([, p]) => key(p.Properties.Bucket) === key({ Ref: bucket }));
    expect(policies).toHaveLength(1);
    const doc = (policies[0] as [string, CfnResource])[1].Properties.PolicyDocument as { Statement: Record<string, unknown>[] };
    expect(doc.Statement).toStrictEqual([
      {
        Sid: 'DenyInsecureTransport',
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:*',
        Resource: [{ 'Fn::GetAtt': [bucket, 'Arn'] }, { 'Fn::Sub': `\${${bucket}.Arn}/*` }],
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
    ]);
  });

  it("the sequencer reads the table's stream: new audit entries only, 100 a batch, from the stream's start, 10 retries, then the DLQ", () => {
    const mappings = resourcesOfType('AWS::Lambda::EventSourceMapping');
    expect(mappings).toHaveLength(1);
    const [, mapping] = mappings[0] as [string, CfnResource];
    const { FilterCriteria, ...props } = mapping.Properties as { FilterCriteria: { Filters: { Pattern: string }[] } } & Record<string, unknown>;
    expect(props).toStrictEqual({
      FunctionName: { 'Fn::GetAtt': ['SequenceAuditLogLambdaFunction', 'Arn'] },
      EventSourceArn: TABLE_STREAM_ARN,
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 1,
      StartingPosition: 'TRIM_HORIZON',
      Enabled: true,
      MaximumRetryAttempts: 10,
      BisectBatchOnFunctionError: false,
      DestinationConfig: { OnFailure: { Destination: DLQ_ARN } },
    });
    const patterns = FilterCriteria.Filters.map((f) => JSON.parse(f.Pattern) as unknown);
    expect(patterns).toStrictEqual([{ eventName: ['INSERT'], dynamodb: { NewImage: { type: { S: ['AuditEntry'] } } } }]);
    // The local stack's stream poller filters with the same pattern.
    expect(patterns).toStrictEqual([AUDIT_ENTRY_INSERTS]);
    expect(asArray(mapping.DependsOn)).toContain(roleOf('SequenceAuditLogLambdaFunction').roleId);
  });

  it('one sequencer at a time (reserved concurrency 1), with a catch-up run every 5 minutes whose failures reach the DLQ', () => {
    const fn = resource('SequenceAuditLogLambdaFunction').Properties;
    expect(fn.ReservedConcurrentExecutions).toBe(1);
    expect(fn.Timeout).toBe(60);
    const [, rule] = ruleFor('SequenceAuditLogLambdaFunction');
    expect(rule.Properties).toMatchObject({ ScheduleExpression: 'rate(5 minutes)', Name: `modelgate-${STAGE}-sequence-audit-log`, State: 'ENABLED' });
    const configs = resourcesOfType('AWS::Lambda::EventInvokeConfig').filter(([, r]) => key(r.Properties.FunctionName) === key({ Ref: 'SequenceAuditLogLambdaFunction' }));
    expect(configs.map(([, c]) => [c.Properties.MaximumRetryAttempts, c.Properties.DestinationConfig])).toStrictEqual([[0, { OnFailure: { Destination: DLQ_ARN } }]]);
    const g = grants(roleOf('SequenceAuditLogLambdaFunction').statements);
    for (const action of STREAM_ACTIONS) expect([...(g.get(action) ?? [])]).toStrictEqual([key(TABLE_STREAM_ARN)]);
    expect([...(g.get('dynamodb:Query') ?? [])]).toStrictEqual([key(TABLE_GSI2_ARN)]);
    expect([...(g.get('sqs:SendMessage') ?? [])]).toStrictEqual([key(DLQ_ARN)]);
    // No other function reads the stream.
    for (const action of STREAM_ACTIONS) expect(rolesGranting(action)).toStrictEqual(['sequenceAuditLog']);
  });

  it('checkpointAuditLog runs on checkpointSchedule (every 5 minutes by default); its failures reach the DLQ', () => {
    expect(params.checkpointSchedule).toBe('rate(5 minutes)');
    const [, rule] = ruleFor('CheckpointAuditLogLambdaFunction');
    expect(rule.Properties).toMatchObject({ ScheduleExpression: params.checkpointSchedule, Name: `modelgate-${STAGE}-checkpoint-audit-log`, State: 'ENABLED' });
    const configs = resourcesOfType('AWS::Lambda::EventInvokeConfig').filter(([, r]) => key(r.Properties.FunctionName) === key({ Ref: 'CheckpointAuditLogLambdaFunction' }));
    expect(configs.map(([, c]) => [c.Properties.MaximumRetryAttempts, c.Properties.DestinationConfig])).toStrictEqual([[0, { OnFailure: { Destination: DLQ_ARN } }]]);
    expect([...(grants(roleOf('CheckpointAuditLogLambdaFunction').statements).get('sqs:SendMessage') ?? [])]).toStrictEqual([key(DLQ_ARN)]);
  });

  it('only checkpointAuditLog may sign with the checkpoint key; only it, verifyAuditTrail and exportAuditTrail read its public key; no other KMS action', () => {
    expect(rolesGranting('kms:Sign')).toStrictEqual(['checkpointAuditLog']);
    expect(rolesGranting('kms:GetPublicKey')).toStrictEqual(['checkpointAuditLog', 'exportAuditTrail', 'verifyAuditTrail']);
    for (const fn of FUNCTIONS) {
      for (const [action, res] of grants(roleOf(fn.logicalId).statements)) {
        if (!action.startsWith('kms:')) continue;
        expect(['kms:Sign', 'kms:GetPublicKey']).toContain(action);
        expect([...res]).toStrictEqual([key(CHECKPOINT_KEY_ARN)]);
      }
    }
  });

  it('only checkpointAuditLog writes checkpoints, only exportAuditTrail writes exports, each under its own prefix', () => {
    const writers = (objects: unknown) =>
      FUNCTIONS.filter((fn) => grants(roleOf(fn.logicalId).statements).get('s3:PutObject')?.has(key(objects))).map((fn) => fn.name);
    expect(writers(CHECKPOINT_OBJECTS)).toStrictEqual(['checkpointAuditLog']);
    expect(writers(EXPORT_OBJECTS)).toStrictEqual(['exportAuditTrail']);
    expect([...(grants(roleOf('CheckpointAuditLogLambdaFunction').statements).get('s3:PutObject') ?? [])]).toStrictEqual([key(CHECKPOINT_OBJECTS)]);
    expect([...(grants(roleOf('ExportAuditTrailLambdaFunction').statements).get('s3:PutObject') ?? [])]).toStrictEqual([key(EXPORT_OBJECTS)]);
    // Readers of the checkpoints: the objects, and the listing of the bucket, nothing else in it.
    for (const name of ['verifyAuditTrail', 'exportAuditTrail']) {
      const g = grants(roleOf(FUNCTIONS.find((fn) => fn.name === name)?.logicalId ?? '').statements);
      expect([...(g.get('s3:GetObject') ?? [])]).toStrictEqual([key(CHECKPOINT_OBJECTS)]);
      expect([...(g.get('s3:ListBucket') ?? [])]).toStrictEqual([key(CHECKPOINT_BUCKET_ARN)]);
    }
    expect([...(grants(roleOf('CheckpointAuditLogLambdaFunction').statements).get('s3:GetObject') ?? [])]).toStrictEqual([key(CHECKPOINT_OBJECTS)]);
  });

  it('no role in the stack may delete objects, change their retention or legal hold, bypass governance retention, or change a bucket', () => {
    const forbidden = /^s3:(Delete|PutObjectRetention|PutObjectLegalHold|BypassGovernanceRetention|PutBucket|PutLifecycle|PutEncryption)/;
    const actions = allStatements().flatMap((s) => asArray(s.Action));
    expect(actions.length).toBeGreaterThan(0);
    expect(actions.filter((a) => forbidden.test(a) || a === 's3:*')).toStrictEqual([]);
  });

  it('no other function has KMS, or any access to the checkpoint key, the checkpoint bucket or the export bucket', () => {
    const others = FUNCTIONS.filter((fn) => !AUDIT_FUNCTIONS.includes(fn.name));
    expect(others.length).toBe(FUNCTIONS.length - AUDIT_FUNCTIONS.length);
    for (const fn of others) {
      const g = grants(roleOf(fn.logicalId).statements);
      expect([...g.keys()].filter((a) => a.startsWith('kms:'))).toStrictEqual([]);
      const resources = [...g.values()].flatMap((set) => [...set]);
      expect(resources.filter((r) => /CheckpointKey|CheckpointBucket|AuditExportBucket/.test(r))).toStrictEqual([]);
    }
    // getAuditTrail proves against the checkpoint recorded in the table: no KMS, no bucket either.
    const g = grants(roleOf('GetAuditTrailLambdaFunction').statements);
    expect([...g.values()].flatMap((set) => [...set]).filter((r) => /CheckpointKey|CheckpointBucket|AuditExportBucket/.test(r))).toStrictEqual([]);
  });

  it.each(FUNCTIONS)('$name: told the checkpoint bucket, the export bucket and the key by reference, and no local key file or folder', (fn) => {
    const vars = (resource(fn.logicalId).Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(vars).toMatchObject({
      AUDIT_BUCKET: { Ref: 'CheckpointBucket' },
      AUDIT_EXPORT_BUCKET: { Ref: 'AuditExportBucket' },
      CHECKPOINT_KEY_ID: CHECKPOINT_KEY_ARN,
      CHECKPOINT_KEY_FILE: '',
      AUDIT_EXPORT_DIR: '',
    });
  });
});

describe('serverless.yml stage parameters', () => {
  // The `local` stage is not packaged here (one packaging run per test file); check its
  // parameters where they are declared.
  const config = parse(readFileSync(join(repoRoot, 'serverless.yml'), 'utf8')) as {
    params: Record<string, Record<string, unknown>>;
  };

  it('stage local passes plain names (invoke local cannot resolve Ref)', () => {
    const local = config.params.local ?? {};
    expect(local.bundleExtension).toBe('.js');
    expect(local.bundleFolder).not.toBe(config.params.default?.bundleFolder);
    for (const name of ['tableName', 'reviewersTopicArn', 'governanceTopicArn']) {
      expect(typeof local[name]).toBe('string');
    }
  });

  it("stage local: the audit log's bucket names as plain strings, a local key file and an export folder in the data folder, no KMS key", () => {
    expect(config.params.local).toMatchObject({
      auditBucket: 'modelgate-local-audit',
      auditExportBucket: 'modelgate-local-audit-exports',
      checkpointKeyId: 'local',
      // local/stack.ts passes its data folder's paths (MODELGATE_LOCAL_DIR moves them).
      checkpointKeyFile: "${env:MODELGATE_CHECKPOINT_KEY_FILE, '.local/checkpoint-key.pem'}",
      auditExportDir: "${env:MODELGATE_AUDIT_EXPORT_DIR, '.local/exports'}",
    });
    // Every other stage signs with KMS and exports to S3: no key file, no folder (shared/config.ts reads '' as absent).
    expect(config.params.default).toMatchObject({ checkpointKeyFile: '', auditExportDir: '' });
    expect(config.params.prod?.checkpointKeyFile).toBeUndefined();
  });

  it("defaults: reports in sagemaker-* buckets, INFO logs, links to this stack's API", () => {
    expect(config.params.default).toMatchObject({
      reportBucketPattern: 'sagemaker-*',
      logLevel: 'INFO',
      reviewBaseUrl: { 'Fn::GetAtt': ['HttpApi', 'ApiEndpoint'] },
      bundleExtension: '.mjs',
      // The AWS SDK ships inside every deployed bundle; only the local stack leaves it out.
      bundleExclude: [],
      // Maps built beside the package (not in the zips), minified bundles, the tracer on.
      sourcemap: 'external',
      minify: true,
      traceEnabled: 'true',
    });
    expect(config.params.local).toMatchObject({ bundleExclude: ['@aws-sdk/*', '@smithy/*'], sourcemap: false, minify: false, traceEnabled: 'false' });
    expect(config.params.local).toMatchObject({ reviewBaseUrl: "http://127.0.0.1:${env:MODELGATE_HTTP_PORT, '3000'}", signingKeyParameter: '' });
  });
});
