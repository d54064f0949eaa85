import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logger } from '#shared/logger.js';
import { typedErrors } from '#shared/middleware.js';
import { exportModelCard } from '#shared/usecases/model-card.js';
import { productionDeps } from '#shared/wiring.js';

/**
 * Operator: `serverless invoke -f exportModelCard --data '{"modelPackageArn":"…","pushToSageMaker":true}'`.
 * Returns the card as JSON and Markdown; with `pushToSageMaker`, also creates or updates the
 * SageMaker model card `<group>-v<version>`.
 */
export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true, logEvent: false }))
  .use(typedErrors('exportModelCard request'))
  .handler(async (payload: unknown) => exportModelCard(productionDeps(), payload));
