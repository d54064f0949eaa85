import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseS3Uri } from '../domain/lineage.js';
import type { Notifier, Registry, ReportReader, Subscriptions } from '../ports.js';
import { TrainingJobDetailSchema } from '../schemas/events.js';
import { logger } from '../logger.js';

/**
 * Stage `local` only (MODELGATE_SIDE_EFFECTS=log): SNS messages and registry updates are logged
 * instead of sent, and SageMaker's and S3's answers come from files under `events/local-aws/`.
 * This is what `serverless invoke local` uses until the local stack of stand-ins exists.
 */
const dir = (): string => process.env.MODELGATE_LOCAL_AWS_DIR ?? join(process.cwd(), 'events', 'local-aws');

async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as unknown;
  } catch (e) {
    if (e instanceof Error && 'code' in e && e.code === 'ENOENT') return undefined;
    throw e;
  }
}

export const loggingRegistry = (): Registry => ({
  async describeTrainingJob(name) {
    const doc = (await readJson(join(dir(), 'training-jobs', `${name}.json`))) as
      | { FinalMetricDataList?: Array<{ MetricName: string; Value: number }> }
      | undefined;
    if (!doc) return undefined;
    const metrics = Object.fromEntries((doc.FinalMetricDataList ?? []).map((m) => [m.MetricName, m.Value]));
    return { detail: TrainingJobDetailSchema.parse(doc), metrics };
  },
  async describeModelPackage(arn) {
    const doc = (await readJson(join(dir(), 'model-packages.json'))) as Record<string, Awaited<ReturnType<Registry['describeModelPackage']>>> | undefined;
    return doc?.[arn] ?? {};
  },
  async setApprovalStatus(args) {
    logger.info('LOCAL: would call UpdateModelPackage', { ...args });
    return 'updated';
  },
});

export const loggingNotifier = (): Notifier => ({
  async publish(args) {
    // Local stage only: the message holds the review link, which is why it is never logged elsewhere.
    logger.info('LOCAL: would publish to SNS', { ...args });
  },
});

export const fileReports = (): ReportReader => ({
  async read(uri) {
    const { bucket, key } = parseS3Uri(uri);
    try {
      return { body: await readFile(join(dir(), 's3', bucket, key)) };
    } catch {
      return { unreadable: `NoSuchKey reading ${uri}` };
    }
  },
});

export const loggingSubscriptions = (): Subscriptions => ({
  async subscribe(email) {
    logger.info('LOCAL: would subscribe to the reviewers topic', { email, filterPolicy: { reviewer: [email] } });
    return `arn:aws:sns:us-east-1:000000000000:modelgate-local-reviewers:${email.replace(/[^a-z0-9]/gi, '-')}`;
  },
  async unsubscribe(subscriptionArn) {
    logger.info('LOCAL: would unsubscribe', { subscriptionArn });
  },
});
