/**
 * Invokes modelgate's functions the way AWS does, through serverless-offline's Lambda endpoint
 * (the Lambda Invoke API on `lambdaPort`): EventBridge targets and operators alike.
 */
export async function invokeFunction(lambdaUrl: string, functionName: string, payload: unknown): Promise<{ ok: boolean; result: unknown }> {
  const res = await fetch(`${lambdaUrl}/2015-03-31/functions/${functionName}/invocations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-amz-invocation-type': 'RequestResponse' },
    body: JSON.stringify(payload),
  });
  const text = await res.text();
  let result: unknown = text;
  try {
    result = text ? (JSON.parse(text) as unknown) : null;
  } catch {
    // not JSON: keep the text
  }
  // Lambda reports a function error with 200 and this header.
  return { ok: res.ok && !res.headers.get('x-amz-function-error'), result };
}
