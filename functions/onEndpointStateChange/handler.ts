import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import { logger } from '#shared/logger.js';
import { typedErrors } from '#shared/middleware.js';
import { EndpointStateChangeSchema } from '#shared/schemas/events.js';
import { handleEndpointChange } from '#shared/usecases/deployments.js';
import { productionDeps } from '#shared/wiring.js';

/** EventBridge: SageMaker Endpoint State Change (in service, deleting). */
export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true, logEvent: false }))
  .use(typedErrors('endpoint state change event'))
  .use(parser({ schema: EndpointStateChangeSchema }))
  .handler(async (event) => {
    logger.appendKeys({ eventId: event.id, endpoint: event.detail.EndpointName });
    return handleEndpointChange(productionDeps(), event.detail);
  });
