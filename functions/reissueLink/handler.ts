import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logger } from '#shared/logger.js';
import { typedErrors } from '#shared/middleware.js';
import { reissueLink } from '#shared/usecases/links.js';
import { productionDeps } from '#shared/wiring.js';

/** Operator: `serverless invoke -f reissueLink --path events/reissue-link.json`. */
export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true, logEvent: false }))
  .use(typedErrors('reissueLink request'))
  .handler(async (payload: unknown) => reissueLink(productionDeps(), payload));
