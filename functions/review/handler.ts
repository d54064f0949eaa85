import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { assertIsError } from '#shared/domain/errors.js';
import { logger } from '#shared/logger.js';
import { refuseCrossSite, showReview, submitVote, type VoteForm } from '#shared/usecases/review.js';
import { htmlResponse, renderRefusal } from '#shared/web/pages.js';
import { ALLOWED_METHODS, checkSameOrigin, isAllowedMethod, isFormBody } from '#shared/web/request.js';
import { productionDeps } from '#shared/wiring.js';

/** Form bodies are small; anything larger is refused before it is parsed. */
const MAX_BODY = 16 * 1024;

/**
 * HTTP API: `GET /reviews/{token}` shows the evidence, `POST /reviews/{token}` votes; any other
 * method gets 405 and writes nothing. A POST from another site is refused (403, audited); a POST
 * whose body is not a form is refused (400) before it is read.
 */
export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  // logEvent: false whatever POWERTOOLS_LOGGER_LOG_EVENT says: the event's path carries the token.
  .use(injectLambdaContext(logger, { resetKeys: true, logEvent: false }))
  .handler(async (event) => {
    const token = event.pathParameters?.token ?? '';
    const method = event.requestContext.http.method;
    if (!isAllowedMethod(method)) {
      logger.warn('review request refused', { kind: 'method-not-allowed', method: method.slice(0, 16) });
      const page = renderRefusal({ kind: 'method-not-allowed' });
      const response = htmlResponse(page.status, page.body);
      return { ...response, headers: { ...response.headers, Allow: ALLOWED_METHODS.join(', ') } };
    }
    try {
      const deps = productionDeps();
      if (method === 'GET') {
        const page = await showReview(deps, token);
        return htmlResponse(page.status, page.body);
      }
      const site = checkSameOrigin(event.headers, deps.reviewBaseUrl);
      if (!site.ok) {
        const page = await refuseCrossSite(deps, token, site.reason);
        return htmlResponse(page.status, page.body);
      }
      if (!isFormBody(event.headers)) {
        const page = renderRefusal({ kind: 'bad-request', message: "Vote with the review page's form." });
        return htmlResponse(page.status, page.body);
      }
      const form = parseForm(event);
      const page = form ? await submitVote(deps, token, form) : renderRefusal({ kind: 'bad-request', message: 'The form could not be read.' });
      return htmlResponse(page.status, page.body);
    } catch (e) {
      assertIsError(e);
      // Never the token, the path or the body: they carry the signed link. `errorMessage`, not
      // `message`: Powertools reserves `message` for the log line's own text and drops the key.
      logger.error('review request failed', { error: e.name, errorMessage: e.message });
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
