/**
 * What the review handler checks about a request before it reads a vote. Pure: headers in,
 * a verdict out. API Gateway (HTTP API, payload 2.0) gives header names in lower case; they are
 * lower-cased here as well, so that another front (serverless-offline, a test) cannot slip past.
 */
type Headers = Readonly<Record<string, string | undefined>> | undefined;

/** The methods the review route answers; anything else (PUT, DELETE, a lower-case `get`…) gets 405. */
export const ALLOWED_METHODS = ['GET', 'POST'] as const;
export type AllowedMethod = (typeof ALLOWED_METHODS)[number];

/** Exact and case-sensitive, as HTTP methods are (RFC 9110 §9.1). */
export function isAllowedMethod(method: string): method is AllowedMethod {
  return (ALLOWED_METHODS as readonly string[]).includes(method);
}

function header(headers: Headers, name: string): string | undefined {
  if (!headers) return undefined;
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name && v !== undefined) return v.trim();
  return undefined;
}

export type SiteVerdict = { ok: true } | { ok: false; reason: string };

/**
 * Cross-site request forgery: a vote must come from the review page itself, or from no page at
 * all (curl, a script: no `Origin`, no `Sec-Fetch-Site`). The page posts to its own URL, so a
 * browser sends `Sec-Fetch-Site: same-origin` and the page's origin as `Origin`.
 *
 * - `Sec-Fetch-Site`: `same-origin` passes; `none` (a request the user started, e.g. from the
 *   address bar, which no other site can cause) passes; `same-site` is refused, because a sibling
 *   subdomain is another application that must not vote for the reviewer; `cross-site` and any
 *   unknown value are refused.
 * - `Origin`: must be exactly the origin of REVIEW_BASE_URL, or `null` together with
 *   `Sec-Fetch-Site: same-origin`. The page is served with `Referrer-Policy: no-referrer`, under
 *   which Chromium sends `Origin: null` on the page's own form POST (measured in the browser test);
 *   `Sec-Fetch-Site` is set by the browser alone (a forbidden header name), so `same-origin` with it
 *   is the page itself. `null` without it is refused: browsers also send `null` for sandboxed
 *   frames, `data:` documents and cross-origin redirects, which another site can arrange, and those
 *   carry `Sec-Fetch-Site: cross-site`.
 *
 * When both headers are present, both must pass.
 */
export function checkSameOrigin(headers: Headers, reviewBaseUrl: string): SiteVerdict {
  const site = header(headers, 'sec-fetch-site')?.toLowerCase();
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return { ok: false, reason: `Sec-Fetch-Site: ${site.slice(0, 40)}` };
  const origin = header(headers, 'origin');
  const pageItself = origin === 'null' && site === 'same-origin';
  if (origin !== undefined && origin !== new URL(reviewBaseUrl).origin && !pageItself) return { ok: false, reason: `Origin: ${origin.slice(0, 200)}` };
  return { ok: true };
}

export const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';

/**
 * Whether the body is an HTML form's (`application/x-www-form-urlencoded`, any parameters such as
 * `charset`). A `text/plain` body is what a cross-site form can send without a CORS preflight,
 * and the page never sends one, so it is not read as a vote; neither is a body without a type.
 */
export function isFormBody(headers: Headers): boolean {
  const type = header(headers, 'content-type');
  return type !== undefined && (type.split(';')[0] ?? '').trim().toLowerCase() === FORM_CONTENT_TYPE;
}
