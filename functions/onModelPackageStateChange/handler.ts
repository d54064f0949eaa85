import { lambdaHandler } from '#shared/handler.js';
import { logger } from '#shared/logger.js';
import { ModelPackageStateChangeSchema } from '#shared/schemas/events.js';
import { handleModelPackageChange } from '#shared/usecases/gate.js';
import { wire } from '#shared/wire/deps.js';
import { keysPort } from '#shared/wire/keys.js';
import { reportsPort } from '#shared/wire/reports.js';
import { registryPort } from '#shared/wire/sagemaker.js';
import { notifierPort } from '#shared/wire/sns.js';
import { storePort } from '#shared/wire/store.js';

/** The gate's ports: the table, the registry, evaluation reports, messages and the links' signing keys. */
const deps = wire('onModelPackageStateChange', { store: storePort, registry: registryPort, reports: reportsPort, notifier: notifierPort, keys: keysPort });

/** EventBridge: every SageMaker Model Package State Change. */
export const handler = lambdaHandler('onModelPackageStateChange', { subject: 'model package state change event', schema: ModelPackageStateChangeSchema }, async (event) => {
  logger.appendKeys({ eventId: event.id, modelPackageArn: event.detail.ModelPackageArn });
  return handleModelPackageChange(deps, event.detail);
});
