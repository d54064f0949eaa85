import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { assertIsError } from '#shared/domain/errors.js';
import { logger } from '#shared/logger.js';
import { showReview, submitVote, type VoteForm } from '#shared/usecases/review.js';
import { htmlResponse, renderRefusal } from '#shared/web/pages.js';
import { productionDeps } from '#shared/wiring.js';

/** Form bodies are small; anything larger is refused before it is parsed. */
const MAX_BODY = 16 * 1024;

/** HTTP API: `GET /reviews/{token}` shows the evidence, `POST /reviews/{token}` votes. */
export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (event) => {
    const token = event.pathParameters?.token ?? '';
    try {
      if (event.requestContext.http.method === 'GET') {
        const page = await showReview(productionDeps(), token);
        return htmlResponse(page.status, page.body);
      }
      const form = parseForm(event);
      const page = form ? await submitVote(productionDeps(), token, form) : renderRefusal({ kind: 'bad-request', message: 'The form could not be read.' });
      return htmlResponse(page.status, page.body);
    } catch (e) {
      assertIsError(e);
      // Never the token, the path or the body: they carry the signed link.
      logger.error('review request failed', { error: e.name, message: e.message });
      return htmlResponse(500, renderRefusal({ kind: 'bad-request', message: 'Something went wrong. Try again in a minute.' }).body);
    }
  });

function parseForm(event: APIGatewayProxyEventV2): VoteForm | undefined {
  if (!event.body || event.body.length > MAX_BODY) return undefined;
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  const params = new URLSearchParams(text);
  const decision = params.get('decision');
  const comment = params.get('comment');
  return { ...(decision !== null ? { decision } : {}), ...(comment !== null ? { comment } : {}) };
}
