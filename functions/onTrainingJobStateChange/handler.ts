import { lambdaHandler } from '#shared/handler.js';
import { logger } from '#shared/logger.js';
import { TrainingJobStateChangeSchema } from '#shared/schemas/events.js';
import { recordTrainingJob } from '#shared/usecases/training.js';
import { wire } from '#shared/wire/deps.js';
import { keysPort } from '#shared/wire/keys.js';
import { reportsPort } from '#shared/wire/reports.js';
import { registryPort } from '#shared/wire/sagemaker.js';
import { notifierPort } from '#shared/wire/sns.js';
import { storePort } from '#shared/wire/store.js';

/** The gate's ports (it gates the versions waiting for the job): the table, the registry, reports, messages, signing keys. */
const deps = wire('onTrainingJobStateChange', { store: storePort, registry: registryPort, reports: reportsPort, notifier: notifierPort, keys: keysPort });

/** EventBridge: SageMaker Training Job State Change (Completed, Failed, Stopped). */
export const handler = lambdaHandler('onTrainingJobStateChange', { subject: 'training job state change event', schema: TrainingJobStateChangeSchema }, async (event) => {
  logger.appendKeys({ eventId: event.id, trainingJobArn: event.detail.TrainingJobArn });
  return recordTrainingJob(deps, event.detail);
});
