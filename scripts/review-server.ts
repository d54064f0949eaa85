/**
 * The review page on a local port: a plain `node:http` server in front of the review Lambda's
 * handler, standing in for API Gateway (HTTP API, payload format 2.0) on the three routes
 * serverless.yml gives it:
 *
 *   GET  /reviews/{token}   shows the evidence (or, with reviewAuth oidc, the sign-in step)
 *   POST /reviews/{token}   votes, starts a sign-in, asks for a new link (an urlencoded form)
 *   GET  /auth/callback     the identity provider's redirect back (its query: code, state, iss)
 *
 * Each request becomes the `APIGatewayProxyEventV2` API Gateway would send (the query string in
 * `rawQueryString`, the request's cookies in `cookies`), and the handler's structured result
 * becomes the response (its `cookies` as one `Set-Cookie` header each, `Location` among its
 * headers). Anything else answers as API Gateway's own errors do (`{"message": …}`): 404 for
 * another path, 405 for another method on a route's path, 413 for a body over 64 KiB.
 *
 * Request bodies follow API Gateway's rule for HTTP APIs: the body reaches Lambda as text only for
 * `text/*`, `application/json`, `application/xml` and `application/javascript`; anything else,
 * including `application/x-www-form-urlencoded` (what a browser's form posts) and a missing
 * Content-Type, is base64-encoded with `isBase64Encoded: true`.
 *
 * Never log the path, the query or the body: a review path carries the reviewer's signed token.
 *
 *   const server = await startReviewServer({ handler });   // port 0: a free port
 *   console.log(`${server.url}/reviews/<token>`);
 *   await server.close();
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';

export type ReviewHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

export interface ReviewServer {
  /** `http://<host>:<port>`, without a trailing slash: links are `${url}/reviews/<token>`. */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Form bodies are small; API Gateway would take up to 10 MB, this server refuses more than this. */
export const MAX_BODY_BYTES = 64 * 1024;

/** What serverless.yml gives the `review` function. */
const FUNCTION_NAME = 'modelgate-local-review';
const TIMEOUT_MS = 10_000;
const MEMORY_MB = '512';
const ACCOUNT_ID = '123456789012';
const REGION = 'us-east-1';
const API_ID = 'local';

const REVIEW_PATH = /^\/reviews\/([^/]+)$/;
const CALLBACK_PATH = '/auth/callback';
const METHODS = ['GET', 'POST'] as const;
type Method = (typeof METHODS)[number];

/** Content types whose bodies API Gateway (HTTP API) passes as text; every other body is base64-encoded. */
const TEXT_TYPES = /^(text\/[^;\s]+|application\/json|application\/xml|application\/javascript)\s*(;|$)/i;

export async function startReviewServer(opts: { port?: number; host?: string; handler: ReviewHandler }): Promise<ReviewServer> {
  const host = opts.host ?? '127.0.0.1';
  const server = createServer((req, res) => {
    serve(req, res, opts.handler).catch(() => {
      // Only a broken socket gets here; there is nobody left to answer.
      if (!res.headersSent) sendError(res, 500, 'Internal Server Error');
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    url,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

async function serve(req: IncomingMessage, res: ServerResponse, handler: ReviewHandler): Promise<void> {
  const target = new URL(req.url ?? '/', 'http://localhost');
  const rawPath = target.pathname;
  const callback = rawPath === CALLBACK_PATH;
  const match = REVIEW_PATH.exec(rawPath);
  const token = match?.[1] === undefined ? undefined : decodePathSegment(match[1]);
  if (token === undefined && !callback) return sendError(res, 404, 'Not Found', req);
  const method = (req.method ?? 'GET').toUpperCase();
  // The callback route is GET only.
  if (!isMethod(method) || (callback && method !== 'GET')) {
    res.setHeader('Allow', callback ? 'GET' : METHODS.join(', '));
    return sendError(res, 405, 'Method Not Allowed', req);
  }

  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) return sendError(res, 413, 'Request Entity Too Large', req);
  const body = await readBody(req);
  if (body === 'too-large') return sendError(res, 413, 'Request Entity Too Large', req);

  const started = Date.now();
  const event = toEvent(req, { method, rawPath, rawQueryString: target.search.slice(1), token, body, now: started });
  const context = lambdaContext(started);

  let result: APIGatewayProxyStructuredResultV2;
  try {
    result = await handler(event, context);
  } catch (e) {
    // As API Gateway answers an invocation error. The error's name only: never the event.
    console.error(`review-server: the handler threw ${e instanceof Error ? e.name : typeof e}`);
    return sendError(res, 500, 'Internal Server Error');
  }
  writeResult(res, result);
}

function isMethod(m: string): m is Method {
  return (METHODS as readonly string[]).includes(m);
}

/** API Gateway URL-decodes path parameters; a malformed escape matches no route. */
function decodePathSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** The body, or `too-large` once it passes MAX_BODY_BYTES (whatever Content-Length said). */
function readBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        done = true;
        chunks.length = 0;
        resolve('too-large');
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!done) resolve(Buffer.concat(chunks));
    });
    req.on('error', (error) => {
      if (!done) reject(error);
    });
  });
}

/** The event API Gateway (HTTP API, payload format 2.0) sends for one of the three routes (`token` undefined: the callback). */
function toEvent(
  req: IncomingMessage,
  r: { method: Method; rawPath: string; rawQueryString: string; token: string | undefined; body: Buffer; now: number },
): APIGatewayProxyEventV2 {
  const sourceIp = req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1';
  const userAgent = req.headers['user-agent'] ?? '';
  const headers = eventHeaders(req, sourceIp);
  const cookies = headers.cookie === undefined ? [] : headers.cookie.split(/;\s*/).filter((c) => c !== '');
  delete headers.cookie; // payload 2.0 moves them to `cookies`
  const domainName = (headers.host ?? 'localhost').replace(/:\d+$/, '');
  const routeKey = r.token === undefined ? `${r.method} ${CALLBACK_PATH}` : `${r.method} /reviews/{token}`;
  const requestId = randomUUID();
  headers['x-amzn-trace-id'] = `Root=1-${Math.floor(r.now / 1000).toString(16)}-${requestId.replaceAll('-', '').slice(0, 24)}`;

  const query = queryParameters(r.rawQueryString);
  const hasBody = r.body.length > 0;
  const text = TEXT_TYPES.test(headers['content-type'] ?? '');

  return {
    version: '2.0',
    routeKey,
    rawPath: r.rawPath,
    rawQueryString: r.rawQueryString,
    ...(cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(query ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: ACCOUNT_ID,
      apiId: API_ID,
      domainName,
      domainPrefix: domainName.split('.')[0] ?? domainName,
      http: { method: r.method, path: r.rawPath, protocol: `HTTP/${req.httpVersion}`, sourceIp, userAgent },
      requestId,
      routeKey,
      stage: '$default',
      time: clfTime(r.now),
      timeEpoch: r.now,
    },
    ...(r.token === undefined ? {} : { pathParameters: { token: r.token } }),
    ...(hasBody ? { body: text ? r.body.toString('utf8') : r.body.toString('base64') } : {}),
    isBase64Encoded: hasBody && !text,
  };
}

/** Connection-level headers: a proxy such as API Gateway does not pass them on. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** Lower-cased names; repeated headers joined with commas, as payload 2.0 does; the X-Forwarded-* API Gateway adds. */
function eventHeaders(req: IncomingMessage, sourceIp: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, values] of Object.entries(req.headersDistinct)) {
    if (values !== undefined && !HOP_BY_HOP.has(name)) headers[name] = values.join(name === 'cookie' ? '; ' : ',');
  }
  headers['x-forwarded-for'] = headers['x-forwarded-for'] ? `${headers['x-forwarded-for']}, ${sourceIp}` : sourceIp;
  headers['x-forwarded-port'] = String(req.socket.localPort ?? '');
  headers['x-forwarded-proto'] = 'http';
  return headers;
}

/** Query parameters, decoded; repeated names joined with commas; omitted when there are none. */
function queryParameters(rawQueryString: string): Record<string, string> | undefined {
  if (rawQueryString === '') return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(rawQueryString)) out[k] = out[k] === undefined ? v : `${out[k]},${v}`;
  return out;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `27/Nov/2026:12:00:00 +0000`, as `requestContext.time` is written. */
function clfTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

/** A Lambda context for one invocation of the `review` function. */
function lambdaContext(started: number): Context {
  const noLongerSupported = () => {
    throw new Error('context.done/fail/succeed are not supported: return a promise');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: FUNCTION_NAME,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:${FUNCTION_NAME}`,
    memoryLimitInMB: MEMORY_MB,
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${FUNCTION_NAME}`,
    logStreamName: `${new Date(started).toISOString().slice(0, 10).replaceAll('-', '/')}/[$LATEST]local`,
    getRemainingTimeInMillis: () => Math.max(0, started + TIMEOUT_MS - Date.now()),
    done: noLongerSupported,
    fail: noLongerSupported,
    succeed: noLongerSupported,
  };
}

/** The handler's result as API Gateway writes it: status, headers, cookies, body (base64 decoded when flagged). */
function writeResult(res: ServerResponse, result: APIGatewayProxyStructuredResultV2): void {
  const body = result.body === undefined ? Buffer.alloc(0) : Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8');
  for (const [name, value] of Object.entries(result.headers ?? {})) res.setHeader(name, String(value));
  if (result.cookies && result.cookies.length > 0) res.setHeader('Set-Cookie', result.cookies);
  res.setHeader('Content-Length', body.length);
  res.statusCode = result.statusCode ?? 200;
  res.end(body);
}

/** API Gateway's own error answers: a JSON `message`. Closes the connection when a body was left unread. */
function sendError(res: ServerResponse, status: number, message: string, req?: IncomingMessage): void {
  const body = JSON.stringify({ message });
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  if (req && !req.complete) {
    res.setHeader('Connection', 'close');
    req.resume();
  }
  res.end(body);
}
