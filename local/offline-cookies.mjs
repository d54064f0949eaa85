/**
 * Preloaded (`node --import`) into the serverless-offline process that local/stack.ts starts, so
 * that the review function's cookies reach the browser as API Gateway would send them.
 *
 * Why: for an HTTP API with payload 2.0, serverless-offline 13.10.1 hands each entry of the
 * function's `cookies` (a whole `Set-Cookie` line: `name=value; Max-Age=600; Path=/; HttpOnly;
 * Secure; SameSite=Lax`) to hapi's `h.state(name, "value; Max-Age=…", { encoding: 'none',
 * strictHeader: false })`. @hapi/statehood 8.2.1 fixed its "loose" value pattern, which used to
 * let anything through, so a value with attributes is now refused ("Invalid cookie value") and
 * every answer that sets a cookie becomes a 500 (serverless-offline issue #1866, statehood issue
 * #90; serverless-offline fixed it in 14.x, which needs Serverless Framework v4, not osls).
 *
 * What: hapi's `request._setState` is wrapped so that such a line is split into its value and
 * hapi's own cookie options (ttl, path, domain, isSecure, isHttpOnly, isSameSite,
 * isPartitioned): hapi then writes the same attributes back. Cookies set any other way pass
 * through unchanged. Nothing is logged (a cookie carries a session).
 *
 * Remove this file and its `--import` in local/stack.ts when serverless-offline passes
 * `cookies` through by itself.
 */
import { isMainThread } from 'node:worker_threads';
// The module serverless-offline's hapi loads: there is one copy of @hapi/hapi in node_modules,
// and an ES module import of CommonJS shares require()'s cache.
import HapiRequest from '@hapi/hapi/lib/request.js';

/** `value; Attr=x; Flag` → hapi's value and options; attributes that are absent are turned off. */
function fromSetCookie(rest) {
  const [value = '', ...attributes] = rest.split(';').map((s) => s.trim());
  const options = { isSecure: false, isHttpOnly: false, isSameSite: false, path: null, domain: null, ttl: null };
  let maxAge;
  let expires;
  for (const attribute of attributes) {
    const eq = attribute.indexOf('=');
    const key = (eq === -1 ? attribute : attribute.slice(0, eq)).trim().toLowerCase();
    const v = eq === -1 ? '' : attribute.slice(eq + 1).trim();
    if (key === 'max-age' && /^-?\d+$/.test(v)) maxAge = Math.max(0, Number(v));
    else if (key === 'expires' && !Number.isNaN(Date.parse(v))) expires = Date.parse(v);
    else if (key === 'path' && v.startsWith('/')) options.path = v;
    else if (key === 'domain' && v !== '') options.domain = v.replace(/^\./, '');
    else if (key === 'secure') options.isSecure = true;
    else if (key === 'httponly') options.isHttpOnly = true;
    else if (key === 'samesite') {
      const mode = { strict: 'Strict', lax: 'Lax', none: 'None' }[v.toLowerCase()];
      if (mode) options.isSameSite = mode;
    } else if (key === 'partitioned') options.isPartitioned = true;
  }
  // hapi writes `Max-Age` (seconds) and `Expires` from ttl (milliseconds); 0 clears the cookie.
  if (maxAge !== undefined) options.ttl = maxAge * 1000;
  else if (expires !== undefined) options.ttl = Math.max(0, expires - Date.now());
  return { value, options };
}

function patch() {
  const original = HapiRequest && HapiRequest.prototype && HapiRequest.prototype._setState;
  if (typeof original !== 'function' || original.modelgateCookies) return;
  const wrapped = function (name, value, options) {
    if (typeof value === 'string' && value.includes(';') && options && options.encoding === 'none' && options.strictHeader === false) {
      const parsed = fromSetCookie(value);
      return original.call(this, name, parsed.value, { ...options, ...parsed.options });
    }
    return original.call(this, name, value, options);
  };
  wrapped.modelgateCookies = true;
  HapiRequest.prototype._setState = wrapped;
}

// The functions run in worker threads of the same process; only the main thread serves HTTP.
if (isMainThread) patch();
