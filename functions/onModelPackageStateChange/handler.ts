import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import { logger } from '#shared/logger.js';
import { typedErrors } from '#shared/middleware.js';
import { ModelPackageStateChangeSchema } from '#shared/schemas/events.js';
import { handleModelPackageChange } from '#shared/usecases/gate.js';
import { productionDeps } from '#shared/wiring.js';

/** EventBridge: every SageMaker Model Package State Change. */
export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true, logEvent: false }))
  .use(typedErrors('model package state change event'))
  .use(parser({ schema: ModelPackageStateChangeSchema }))
  .handler(async (event) => {
    logger.appendKeys({ eventId: event.id, modelPackageArn: event.detail.ModelPackageArn });
    return handleModelPackageChange(productionDeps(), event.detail);
  });
