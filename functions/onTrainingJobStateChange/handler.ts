import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import { logger } from '#shared/logger.js';
import { typedErrors } from '#shared/middleware.js';
import { TrainingJobStateChangeSchema } from '#shared/schemas/events.js';
import { recordTrainingJob } from '#shared/usecases/training.js';
import { productionDeps } from '#shared/wiring.js';

/** EventBridge: SageMaker Training Job State Change (Completed, Failed, Stopped). */
export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true, logEvent: false }))
  .use(typedErrors('training job state change event'))
  .use(parser({ schema: TrainingJobStateChangeSchema }))
  .handler(async (event) => {
    logger.appendKeys({ eventId: event.id, trainingJobArn: event.detail.TrainingJobArn });
    return recordTrainingJob(productionDeps(), event.detail);
  });
