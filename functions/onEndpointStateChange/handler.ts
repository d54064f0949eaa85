import { lambdaHandler } from '#shared/handler.js';
import { logger } from '#shared/logger.js';
import { EndpointStateChangeSchema } from '#shared/schemas/events.js';
import { handleEndpointChange } from '#shared/usecases/deployments.js';
import { wire } from '#shared/wire/deps.js';
import { registryPort } from '#shared/wire/sagemaker.js';
import { notifierPort } from '#shared/wire/sns.js';
import { storePort } from '#shared/wire/store.js';

/** The table, SageMaker's endpoint describes (the registry port) and governance notices (no links: no signing keys). */
const deps = wire('onEndpointStateChange', { store: storePort, registry: registryPort, notifier: notifierPort });

/** EventBridge: SageMaker Endpoint State Change (in service, deleting). */
export const handler = lambdaHandler('onEndpointStateChange', { subject: 'endpoint state change event', schema: EndpointStateChangeSchema }, async (event) => {
  logger.appendKeys({ eventId: event.id, endpoint: event.detail.EndpointName });
  return handleEndpointChange(deps, event.detail);
});
