import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import { REPO_ROOT } from './dynamodb-local.js';

/**
 * The sample story from events/, in the order SageMaker would emit it, including a repeat, an
 * approval made in the console and an out-of-order pair. `npm run bench` replays it through the
 * real handlers, with the local stand-ins answering for SageMaker, SNS and S3.
 */
export type FunctionName = 'putPolicy' | 'onTrainingJobStateChange' | 'onModelPackageStateChange';

export const STORY: ReadonlyArray<{ fn: FunctionName; file: string; what: string }> = [
  { fn: 'putPolicy', file: 'policy-fraud-detector.json', what: 'policy for fraud-detector: validation:auc >= 0.85, 2 reviewers' },
  { fn: 'onTrainingJobStateChange', file: 'training-job-failed.json', what: 'a training job fails' },
  { fn: 'onTrainingJobStateChange', file: 'training-job-completed.json', what: 'training job 1 completes (auc 0.912)' },
  { fn: 'onTrainingJobStateChange', file: 'training-job-completed-low-auc.json', what: 'training job 2 completes (auc 0.801)' },
  { fn: 'onModelPackageStateChange', file: 'model-package-pending.json', what: 'version 1 registered' },
  { fn: 'onModelPackageStateChange', file: 'model-package-pending.json', what: 'version 1 registered (repeated delivery)' },
  { fn: 'onModelPackageStateChange', file: 'model-package-pending-low-auc.json', what: 'version 2 registered' },
  { fn: 'onModelPackageStateChange', file: 'model-package-out-of-order-newer.json', what: 'version 2 Rejected (newer event)' },
  { fn: 'onModelPackageStateChange', file: 'model-package-out-of-order-older.json', what: 'version 2 Pending (older event, late)' },
  { fn: 'onModelPackageStateChange', file: 'model-package-pending-before-job.json', what: "version 3 registered before its job's event" },
  { fn: 'onTrainingJobStateChange', file: 'training-job-completed-late.json', what: "training job 3's event arrives late" },
  { fn: 'onModelPackageStateChange', file: 'model-package-approved-in-console.json', what: 'version 1 approved in the console' },
];

export const LOCAL_ENV = {
  STAGE: 'local',
  REVIEWERS_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:modelgate-local-reviewers',
  GOVERNANCE_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:modelgate-local-governance',
  REVIEW_BASE_URL: 'http://localhost:3000',
  // Every page and message names the organisation (serverless.yml's stage local defaults).
  ORGANISATION_NAME: 'Acme Bank model risk',
  ORGANISATION_CONTACT: 'model-risk@acme-bank.example',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
  // The benches print their own figures: the functions' EMF documents (CloudWatch metrics, one
  // JSON line per invocation) would interleave with them. test/integration/metrics.test.ts
  // checks the EMF output.
  POWERTOOLS_METRICS_DISABLED: 'true',
} as const;

export const sampleEvent = (file: string): unknown => JSON.parse(readFileSync(join(REPO_ROOT, 'events', file), 'utf8'));

export const fakeContext = (fn: string): Context =>
  ({
    functionName: `modelgate-local-${fn}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:modelgate-local-${fn}`,
    memoryLimitInMB: '512',
    awsRequestId: crypto.randomUUID(),
    getRemainingTimeInMillis: () => 30_000,
  }) as unknown as Context;

type Handler = (event: unknown, context: Context) => Promise<unknown>;

/** Imports the real handlers; call after the environment is set (they read it once). */
export async function loadHandlers(): Promise<Record<FunctionName, Handler>> {
  const load = async (fn: FunctionName) => ((await import(`../functions/${fn}/handler.js`)) as { handler: Handler }).handler;
  return {
    putPolicy: await load('putPolicy'),
    onTrainingJobStateChange: await load('onTrainingJobStateChange'),
    onModelPackageStateChange: await load('onModelPackageStateChange'),
  };
}
