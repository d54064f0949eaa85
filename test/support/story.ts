import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeModelPackageCommand, DescribeTrainingJobCommand, SageMakerClient, UpdateModelPackageCommand } from '@aws-sdk/client-sagemaker';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { documentClient } from '../../shared/aws/clients.js';
import { sageMakerRegistry } from '../../shared/aws/sagemaker.js';
import { sageMakerModelCards } from '../../shared/aws/model-cards.js';
import { snsNotifier, snsSubscriptions } from '../../shared/aws/sns.js';
import { s3Reports } from '../../shared/aws/s3.js';
import { dynamoStore } from '../../shared/store/dynamo-store.js';
import type { Deps } from '../../shared/ports.js';
import { handleModelPackageChange } from '../../shared/usecases/gate.js';
import { putPolicy } from '../../shared/usecases/policies.js';
import { recordTrainingJob } from '../../shared/usecases/training.js';
import type { KeyRing } from '../../shared/domain/token.js';
import { TEST_ORGANISATION, TRUST_LINE } from './pages.js';
import { ModelPackageStateChangeSchema, TrainingJobStateChangeSchema, type ModelPackageDetail, type TrainingJobDetail } from '../../shared/schemas/events.js';

export const EVENTS_DIR = join(process.cwd(), 'events');
export const TOPICS = {
  reviewers: 'arn:aws:sns:us-east-1:123456789012:modelgate-test-reviewers',
  governance: 'arn:aws:sns:us-east-1:123456789012:modelgate-test-governance',
};
export const REVIEW_BASE_URL = 'https://modelgate.acme-bank.example';
export { TEST_ORGANISATION, TRUST_LINE };
/** A test-only signing key ring (the secret is public: it is in this file). */
export const TEST_KEY_RING: KeyRing = {
  current: { kid: 'test-2026-11', secret: new Uint8Array(32).fill(7) },
  previous: { kid: 'test-2026-08', secret: new Uint8Array(32).fill(3) },
};

/**
 * The sample story from events/, renamed so each test has its own keys in the shared table:
 * group `fraud-detector` becomes `<prefix>-detector`, jobs `fraud-xgb-…` become `<prefix>-xgb-…`.
 */
export function story(prefix: string) {
  const raw = (file: string): unknown =>
    JSON.parse(
      readFileSync(join(EVENTS_DIR, file), 'utf8').replaceAll('fraud-detector', `${prefix}-detector`).replaceAll('fraud-xgb', `${prefix}-xgb`),
    );
  const group = `${prefix}-detector`;
  return {
    group,
    raw,
    job: (file: string): TrainingJobDetail => TrainingJobStateChangeSchema.parse(raw(file)).detail,
    version: (file: string): ModelPackageDetail => ModelPackageStateChangeSchema.parse(raw(file)).detail,
    /** DescribeTrainingJob's answer for a job event (the same fields, Dates, and final metrics). */
    describe(file: string, metrics: Record<string, number>) {
      const d = (raw(file) as { detail: Record<string, unknown> }).detail;
      const date = (v: unknown) => new Date(Number(v));
      return {
        ...d,
        CreationTime: date(d.CreationTime),
        TrainingEndTime: date(d.TrainingEndTime),
        LastModifiedTime: date(d.LastModifiedTime),
        TrainingStartTime: date(d.TrainingStartTime),
        FinalMetricDataList: Object.entries(metrics).map(([MetricName, Value]) => ({ MetricName, Value, Timestamp: new Date() })),
      };
    },
    policy: (overrides: Record<string, unknown> = {}) => ({ ...(raw('policy-fraud-detector.json') as object), ...overrides }),
    arn: (v: number) => `arn:aws:sagemaker:us-east-1:123456789012:model-package/${group}/${v}`,
  };
}

/** Real adapters over mocked SDK clients (aws-sdk-client-mock mocks the classes) and a real table. */
export function testDeps(client: DynamoDBClient, table: string, clock: { now: number }): Deps {
  let n = 0;
  return {
    store: dynamoStore({ client: documentClient(client), table }),
    keys: { keyRing: async () => TEST_KEY_RING },
    registry: sageMakerRegistry(new SageMakerClient({ region: 'us-east-1' })),
    notifier: snsNotifier(new SNSClient({ region: 'us-east-1' }), TOPICS),
    subscriptions: snsSubscriptions(new SNSClient({ region: 'us-east-1' }), TOPICS.reviewers),
    modelCards: sageMakerModelCards(new SageMakerClient({ region: 'us-east-1' })),
    reports: s3Reports(new S3Client({ region: 'us-east-1' })),
    clock: { now: () => clock.now },
    newId: () => `id${String(++n).padStart(4, '0')}`,
    reviewBaseUrl: REVIEW_BASE_URL,
    organisation: TEST_ORGANISATION,
  };
}

/** A GetObject body for aws-sdk-client-mock: the only method the report reader calls. */
export function s3Body(text: string) {
  const bytes = new TextEncoder().encode(text);
  return { transformToByteArray: async () => bytes } as never;
}

/** The sample evaluation report (its digest is the one in events/model-package-pending.json). */
export const SAMPLE_REPORT = readFileSync(
  join(EVENTS_DIR, 'local-aws/s3/acme-ml-artifacts-123456789012/fraud-detector/evaluation/fraud-xgb-2026-11-27-09-14-05-412/evaluation.json'),
  'utf8',
);

/** Each reviewer's token, from the SNS Publish inputs that carried their review link. */
export function reviewTokens(
  published: ReadonlyArray<{ Message?: string; MessageAttributes?: Record<string, { StringValue?: string }> }>,
): Record<string, string> {
  return Object.fromEntries(
    published.map((m) => [
      m.MessageAttributes?.reviewer?.StringValue ?? '',
      new RegExp(`${REVIEW_BASE_URL}/reviews/(\\S+)`).exec(m.Message ?? '')?.[1] ?? '',
    ]),
  );
}

type SageMakerStub = AwsClientStub<SageMakerClient>;
type SnsStub = AwsClientStub<SNSClient>;
type S3Stub = AwsClientStub<S3Client>;

/** The mocked SDK answers every gate and review test starts from. */
export function resetMocks(sm: SageMakerStub, sns: SnsStub, s3: S3Stub, createdBy = 'arn:aws:sts::123456789012:assumed-role/SageMakerPipelineRole/fraud-detector-train'): void {
  sm.reset();
  sns.reset();
  s3.reset();
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  sm.on(UpdateModelPackageCommand).resolves({});
  sm.on(DescribeModelPackageCommand).resolves({ CreatedBy: { IamIdentity: { Arn: createdBy } } });
  s3.on(GetObjectCommand).resolves({ Body: s3Body(SAMPLE_REPORT) });
}

/**
 * A group whose version 1 passed its gate, through the use cases: its policy, its completed job,
 * the registration. Returns each reviewer's token (from their SNS message); the mocks' histories
 * are cleared so that a test sees only what it causes.
 */
export async function openSampleReview(deps: Deps, mocks: { sm: SageMakerStub; sns: SnsStub }, prefix: string, policy: Record<string, unknown> = {}) {
  const s = story(prefix);
  mocks.sm.on(DescribeTrainingJobCommand).resolves(s.describe('training-job-completed.json', { 'validation:auc': 0.912 }) as never);
  await putPolicy(deps, s.policy(policy));
  await recordTrainingJob(deps, s.job('training-job-completed.json'));
  const result = await handleModelPackageChange(deps, s.version('model-package-pending.json'));
  if (result.outcome !== 'review-opened') throw new Error(`expected a review to open, got ${result.outcome}`);
  const tokens = reviewTokens(mocks.sns.commandCalls(PublishCommand).map((c) => c.args[0].input));
  mocks.sns.resetHistory();
  mocks.sm.resetHistory();
  return { s, tokens };
}
