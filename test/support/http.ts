import type { APIGatewayProxyEventV2 } from 'aws-lambda';

/** API Gateway's HTTP API event (payload 2.0) for the review route; header names in lower case. */
export function reviewRequest(method: string, token: string, opts: { body?: string; headers?: Record<string, string> } = {}): APIGatewayProxyEventV2 {
  const path = `/reviews/${token}`;
  return {
    version: '2.0',
    routeKey: `${method} /reviews/{token}`,
    rawPath: path,
    rawQueryString: '',
    headers: { host: 'modelgate.acme-bank.example', 'user-agent': 'Mozilla/5.0', ...opts.headers },
    requestContext: {
      accountId: '123456789012',
      apiId: 'a1b2c3d4e5',
      domainName: 'modelgate.acme-bank.example',
      domainPrefix: 'modelgate',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '198.51.100.7', userAgent: 'Mozilla/5.0' },
      requestId: 'req-1',
      routeKey: `${method} /reviews/{token}`,
      stage: '$default',
      time: '27/Nov/2026:12:00:00 +0000',
      timeEpoch: Date.now(),
    },
    pathParameters: { token },
    ...(opts.body !== undefined ? { body: opts.body } : {}),
    isBase64Encoded: false,
  };
}
