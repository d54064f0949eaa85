import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { assertIsError } from '#shared/domain/errors.js';
import type { Organisation } from '#shared/domain/organisation.js';
import { lambdaHandler } from '#shared/handler.js';
import { logger } from '#shared/logger.js';
import { requestFreshLink } from '#shared/usecases/links.js';
import { refuseCrossSite, showReview, submitVote, type HtmlResult, type VoteForm } from '#shared/usecases/review.js';
import { callbackUri, completeSignIn, sessionGate, startSignIn } from '#shared/usecases/sign-in.js';
import { htmlResponse, renderRefusal } from '#shared/web/pages.js';
import { ALLOWED_METHODS, checkSameOrigin, isAllowedMethod, isFormBody } from '#shared/web/request.js';
import { reviewSignIn } from '#shared/sign-in-wiring.js';
import { wire } from '#shared/wire/deps.js';
import { keysPort } from '#shared/wire/keys.js';
import { registryPort } from '#shared/wire/sagemaker.js';
import { notifierPort } from '#shared/wire/sns.js';
import { storePort } from '#shared/wire/store.js';

/**
 * The review page's ports: the table, the links' signing keys, and a deciding vote's effects
 * (UpdateModelPackage, messages). The sign-in (reviewAuth oidc) comes from sign-in-wiring.ts.
 * Exported for the browser tests, which move its clock past a session's decision window.
 */
export const wired = wire('review', { store: storePort, keys: keysPort, registry: registryPort, notifier: notifierPort });

/** Form bodies are small; anything larger is refused before it is parsed. */
const MAX_BODY = 16 * 1024;

/**
 * HTTP API: `GET /reviews/{token}` shows the evidence, `POST /reviews/{token}` votes (or, with
 * `intent`, starts a sign-in or asks for a new link), `GET /auth/callback` completes a sign-in
 * (reviewAuth oidc, shared/usecases/sign-in.ts); any other
 * method gets 405 and writes nothing. A POST from another site is refused (403, audited); a POST
 * whose body is not a form is refused (400) before it is read.
 */
export const handler = lambdaHandler<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>(
  'review',
  // Nothing reaches typedErrors: every failure below is answered with a page.
  { subject: 'review request' },
  async (event) => {
    const token = event.pathParameters?.token ?? '';
    const method = event.requestContext.http.method;
    try {
      if (!isAllowedMethod(method)) {
        logger.warn('review request refused', { kind: 'method-not-allowed', method: method.slice(0, 16) });
        // Nothing is read or written for a 405 (the organisation comes from the environment).
        const page = renderRefusal({ kind: 'method-not-allowed' }, wired.organisation);
        const response = htmlResponse(page.status, page.body);
        return { ...response, headers: { ...response.headers, Allow: ALLOWED_METHODS.join(', ') } };
      }
      const signIn = reviewSignIn();
      const deps = { ...wired, ...(signIn ? { signIn } : {}) };
      const cookies = event.cookies;
      if (event.routeKey === 'GET /auth/callback' || event.rawPath === '/auth/callback') {
        // The identity provider's redirect back (reviewAuth oidc only). The URL openid-client
        // checks is the registered redirect URI with the provider's query.
        if (!signIn || method !== 'GET') return answer(renderRefusal({ kind: 'sign-in-failed' }, deps.organisation));
        return answer(await completeSignIn(deps, signIn, `${callbackUri(deps.reviewBaseUrl)}?${event.rawQueryString ?? ''}`, cookies));
      }
      if (method === 'GET') {
        return answer(await showReview(deps, token, signIn ? sessionGate(deps, signIn, cookies, 'GET') : undefined));
      }
      const site = checkSameOrigin(event.headers, deps.reviewBaseUrl);
      if (!site.ok) {
        const page = await refuseCrossSite(deps, token, site.reason);
        return htmlResponse(page.status, page.body);
      }
      if (!isFormBody(event.headers)) {
        const page = renderRefusal({ kind: 'bad-request', message: "Vote with the review page's form." }, deps.organisation);
        return htmlResponse(page.status, page.body);
      }
      const form = parseForm(event);
      if (!form) return answer(renderRefusal({ kind: 'bad-request', message: 'The form could not be read.' }, deps.organisation));
      if (form.intent === 'new-link') return answer(await requestFreshLink(deps, token));
      if (form.intent === 'sign-in') return answer(signIn ? await startSignIn(deps, signIn, token) : renderRefusal({ kind: 'bad-request', message: 'This stage does not use sign-in.' }, deps.organisation));
      return answer(await submitVote(deps, token, form, signIn ? sessionGate(deps, signIn, cookies, 'POST') : undefined));
    } catch (e) {
      assertIsError(e);
      // Never the token, the path or the body: they carry the signed link. `errorMessage`, not
      // `message`: Powertools reserves `message` for the log line's own text and drops the key.
      logger.error('review request failed', { error: e.name, errorMessage: e.message });
      return htmlResponse(500, renderRefusal({ kind: 'bad-request', message: 'Something went wrong. Try again in a minute.' }, organisationOrNone()).body);
    }
  },
);

/** The failure page's organisation: none only when the configuration itself is what failed, so that the page still goes out. */
function organisationOrNone(): Organisation | null {
  try {
    const { name, contact } = wired.organisation;
    return { name, contact };
  } catch {
    return null;
  }
}

/** A use case's answer as the HTTP API's: a redirect's Location, cookies (HTTP API payload 2.0 `cookies`). */
function answer(page: HtmlResult): APIGatewayProxyStructuredResultV2 {
  const response = htmlResponse(page.status, page.body, page.formActions ? { formActions: page.formActions } : {});
  return {
    ...response,
    headers: { ...response.headers, ...(page.location ? { Location: page.location } : {}) },
    ...(page.cookies && page.cookies.length > 0 ? { cookies: page.cookies } : {}),
  };
}

function parseForm(event: APIGatewayProxyEventV2): (VoteForm & { intent?: string }) | undefined {
  if (!event.body || event.body.length > MAX_BODY) return undefined;
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  const params = new URLSearchParams(text);
  const decision = params.get('decision');
  const comment = params.get('comment');
  const intent = params.get('intent');
  return { ...(decision !== null ? { decision } : {}), ...(comment !== null ? { comment } : {}), ...(intent !== null ? { intent } : {}) };
}
