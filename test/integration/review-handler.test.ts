/**
 * Issue 8, defects 5 and 6, through the real review handler (`functions/review/handler.ts`, the
 * production wiring, stage local) over DynamoDB Local; SageMaker, SNS and S3 are mocked.
 *
 * - Only GET and POST (exact, case-sensitive): anything else is 405 with `Allow: GET, POST` and
 *   writes nothing.
 * - A POST from another site (Origin, Sec-Fetch-Site) is refused (403, audited, no vote); so are
 *   `same-site` and `Origin: null`. A vote's body must be an urlencoded form (`text/plain`, which a
 *   cross-site form sends without a preflight, is 400 from the page itself).
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { SageMakerClient, UpdateModelPackageCommand } from '@aws-sdk/client-sagemaker';
import { SNSClient } from '@aws-sdk/client-sns';
import { S3Client } from '@aws-sdk/client-s3';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { LOCAL_KEY_RING } from '../../shared/aws/signing-keys.js';
import { REVIEW_LINKS_SCOPE, groupScope } from '../../shared/domain/audit.js';
import { verifyReviewToken } from '../../shared/domain/token.js';
import type { Deps } from '../../shared/ports.js';
import { addedEntries, logVerifies, scopeEntries } from '../support/audit-log.js';
import { reviewRequest as request } from '../support/http.js';
import { newTable, type TestTable } from '../support/dynamo.js';
import { REVIEW_BASE_URL, TEST_ORGANISATION, TOPICS, TRUST_LINE, openSampleReview, resetMocks, testDeps } from '../support/story.js';

const sm = mockClient(SageMakerClient);
const sns = mockClient(SNSClient);
const s3 = mockClient(S3Client);
const RISK = 'risk-officer@acme-bank.example';
const LEAD = 'ml-lead@acme-bank.example';
const FORM = 'application/x-www-form-urlencoded';

type ReviewHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;
let handler: ReviewHandler;
let table: TestTable;
let deps: Deps;

const context = {
  functionName: 'modelgate-test-review',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:modelgate-test-review',
  memoryLimitInMB: '512',
  awsRequestId: 'c0ffee00-0000-4000-8000-000000000005',
  getRemainingTimeInMillis: () => 10_000,
} as unknown as Context;

/** The whole table (test-only Scan), to show that a request wrote nothing. */
async function everything() {
  const out = await table.doc.send(new ScanCommand({ TableName: table.tableName, ConsistentRead: true }));
  return (out.Items ?? []).sort((a, b) => `${String(a.PK)}|${String(a.SK)}`.localeCompare(`${String(b.PK)}|${String(b.SK)}`));
}

const linkIdOf = (token: string) => {
  const v = verifyReviewToken(token, LOCAL_KEY_RING, 0);
  if (!v.ok) throw new Error(`the token does not verify: ${v.reason}`);
  return v.claims.linkId;
};
const votesOf = async (group: string) => {
  const version = await deps.store.getVersion({ group, version: 1 });
  return (await deps.store.getReview({ group, version: 1, reviewId: version?.review?.id ?? '' }))?.votes ?? {};
};

beforeAll(async () => {
  table = await newTable('review-handler');
  Object.assign(process.env, {
    TABLE_NAME: table.tableName,
    REVIEWERS_TOPIC_ARN: TOPICS.reviewers,
    GOVERNANCE_TOPIC_ARN: TOPICS.governance,
    REVIEW_BASE_URL,
    STAGE: 'local',
    REVIEW_SIGNING_KEY_PARAMETER: '',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    ORGANISATION_NAME: TEST_ORGANISATION.name,
    ORGANISATION_CONTACT: TEST_ORGANISATION.contact,
  });
  // Imported only now, as a cold start would: the configuration reads the environment on first use.
  handler = ((await import('../../functions/review/handler.js')) as { handler: ReviewHandler }).handler;
  // story.ts loaded the logger before POWERTOOLS_LOG_LEVEL was set: quiet it here.
  (await import('../../shared/logger.js')).logger.setLogLevel('SILENT');
  // The links are signed with the key ring the handler verifies with (stage local), at the real time.
  deps = { ...testDeps(table.client, table.tableName, { now: Date.now() }), keys: { keyRing: async () => LOCAL_KEY_RING }, clock: { now: () => Date.now() } };
});
afterAll(() => table.drop());
beforeEach(() => resetMocks(sm, sns, s3));

const open = (prefix: string) => openSampleReview(deps, { sm, sns }, prefix);
const approve = { body: 'decision=approve&comment=looks+good', headers: { 'content-type': FORM } };

describe('every answer, whatever its status', () => {
  it('carries Strict-Transport-Security and names the organisation (200, 400, 403, 405, 409)', async () => {
    const { tokens } = await open('hsts');
    const token = tokens[RISK] ?? '';
    const answers = [
      await handler(request('GET', token), context),
      await handler(request('POST', token, { body: '{}', headers: { 'content-type': 'application/json' } }), context),
      await handler(request('GET', `${token.slice(0, -2)}xx`), context),
      await handler(request('PUT', token), context),
      await handler(request('POST', token, approve), context),
      await handler(request('POST', token, approve), context),
    ];
    expect(answers.map((a) => a.statusCode)).toEqual([200, 400, 403, 405, 200, 409]);
    for (const a of answers) {
      expect(a.headers?.['Strict-Transport-Security']).toBe('max-age=63072000; includeSubDomains');
      expect(a.body).toContain(`<p class="organisation" data-testid="organisation">${TRUST_LINE}</p>`);
    }
  });
});

describe('only GET and POST', () => {
  let tokens: Record<string, string>;
  beforeAll(async () => {
    resetMocks(sm, sns, s3);
    ({ tokens } = await open('methods'));
  });

  it.each(['PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'get', 'post', 'Post', 'CONNECT', 'TRACE'])(
    '%s: 405 with Allow: GET, POST, and the table is unchanged',
    async (method) => {
      const before = await everything();

      const response = await handler(request(method, tokens[RISK] ?? '', approve), context);

      expect(response.statusCode).toBe(405);
      expect(response.headers).toMatchObject({ Allow: 'GET, POST', 'Cache-Control': 'no-store', 'Content-Security-Policy': expect.stringContaining("default-src 'none'") });
      expect(response.body).toContain('data-kind="method-not-allowed"');
      expect(await everything()).toEqual(before);
      expect(sm.calls()).toHaveLength(0);
      expect(sns.calls()).toHaveLength(0);
    },
  );

  it('GET still shows the page and POST still votes', async () => {
    const page = await handler(request('GET', tokens[LEAD] ?? ''), context);
    expect(page.statusCode).toBe(200);
    expect(page.headers?.Allow).toBeUndefined();

    const voted = await handler(request('POST', tokens[LEAD] ?? '', approve), context);
    expect(voted.statusCode).toBe(200);
    expect(Object.keys(await votesOf('methods-detector'))).toEqual([LEAD]);
  });
});

describe('a vote from another site is refused', () => {
  it.each<[string, Record<string, string>]>([
    ['an Origin of another site', { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site', 'content-type': FORM }],
    ['an Origin of another site, without Sec-Fetch-Site', { origin: 'https://evil.example', 'content-type': FORM }],
    ['Sec-Fetch-Site: cross-site, without Origin', { 'sec-fetch-site': 'cross-site', 'content-type': FORM }],
    ['Sec-Fetch-Site: cross-site with a text/plain body (no preflight)', { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site', 'content-type': 'text/plain' }],
    ['Sec-Fetch-Site: same-site (a sibling subdomain)', { origin: 'https://wiki.acme-bank.example', 'sec-fetch-site': 'same-site', 'content-type': FORM }],
    ['Origin: null (a sandboxed frame, a data: document)', { origin: 'null', 'content-type': FORM }],
    ['Origin: null from another site (Sec-Fetch-Site: cross-site)', { origin: 'null', 'sec-fetch-site': 'cross-site', 'content-type': FORM }],
    ['the right host over another scheme', { origin: 'http://modelgate.acme-bank.example', 'content-type': FORM }],
    ['the right host on another port', { origin: 'https://modelgate.acme-bank.example:8443', 'content-type': FORM }],
    ['a same-origin Sec-Fetch-Site with a foreign Origin', { origin: 'https://evil.example', 'sec-fetch-site': 'same-origin', 'content-type': FORM }],
  ])('%s: 403, audited, no vote', async (_name, headers) => {
    const { s, tokens } = await open(`xs${Math.random().toString(36).slice(2, 8)}`);
    const token = tokens[RISK] ?? '';
    const before = await scopeEntries(deps, groupScope(s.group));

    const response = await handler(request('POST', token, { body: 'decision=approve', headers }), context);

    expect(response.statusCode).toBe(403);
    expect(response.body).toContain('data-kind="cross-site"');
    expect(await votesOf(s.group)).toEqual({});
    expect((await deps.store.getReviewLink(linkIdOf(token)))?.usedAt).toBeUndefined();
    expect(sm.commandCalls(UpdateModelPackageCommand)).toHaveLength(0);
    const added = addedEntries(before, await scopeEntries(deps, groupScope(s.group)));
    expect(added).toEqual([
      expect.objectContaining({ action: 'review.refused', subject: s.arn(1), actor: 'unknown', detail: expect.objectContaining({ kind: 'cross-site', method: 'POST', linkId: linkIdOf(token) }) }),
    ]);
    expect(JSON.stringify(added)).not.toContain(token.split('.')[3]);
    expect(await logVerifies(table)).toMatchObject({ ok: true });
  });

  it.each<[string, Record<string, string>]>([
    ['a same-origin browser POST (Origin and Sec-Fetch-Site)', { origin: REVIEW_BASE_URL, 'sec-fetch-site': 'same-origin', 'content-type': FORM }],
    ['Sec-Fetch-Site: same-origin alone', { 'sec-fetch-site': 'same-origin', 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8' }],
    ['Origin equal to the review origin alone', { origin: REVIEW_BASE_URL, 'content-type': FORM }],
    ['a direct POST (curl: no Origin, no Sec-Fetch-Site)', { 'content-type': FORM }],
    // What Chromium sends for the page's own form under Referrer-Policy: no-referrer (the browser test).
    ['Origin: null with Sec-Fetch-Site: same-origin (the page itself, no referrer)', { origin: 'null', 'sec-fetch-site': 'same-origin', 'content-type': FORM }],
    ['header names in mixed case (another front than API Gateway)', { Origin: REVIEW_BASE_URL, 'Sec-Fetch-Site': 'same-origin', 'Content-Type': FORM }],
  ])('%s still votes', async (_name, headers) => {
    const { s, tokens } = await open(`ok${Math.random().toString(36).slice(2, 8)}`);

    const response = await handler(request('POST', tokens[RISK] ?? '', { body: 'decision=approve', headers }), context);

    expect(response.statusCode).toBe(200);
    expect(Object.keys(await votesOf(s.group))).toEqual([RISK]);
  });

  it.each<[string, Record<string, string>]>([
    ['a text/plain body', { 'content-type': 'text/plain' }],
    ['a text/plain body from the page origin', { origin: REVIEW_BASE_URL, 'sec-fetch-site': 'same-origin', 'content-type': 'text/plain;charset=UTF-8' }],
    ['multipart/form-data', { 'content-type': 'multipart/form-data; boundary=x' }],
    ['no content type', {}],
  ])('%s: 400 and no vote', async (_name, headers) => {
    const { s, tokens } = await open(`ct${Math.random().toString(36).slice(2, 8)}`);
    const before = await everything();

    const response = await handler(request('POST', tokens[RISK] ?? '', { body: 'decision=approve', headers }), context);

    expect(response.statusCode).toBe(400);
    expect(response.body).toContain('data-kind="bad-request"');
    expect(await votesOf(s.group)).toEqual({});
    expect(await everything()).toEqual(before);
    expect(sm.commandCalls(UpdateModelPackageCommand)).toHaveLength(0);
  });

  it('a cross-site POST with a forged token is refused the same way, audited in the review-links scope', async () => {
    const { tokens } = await open('xsforged');
    const [v, kid, payload] = (tokens[RISK] ?? '').split('.');
    const forged = `${v}.${kid}.${payload}.${'A'.repeat(43)}`;
    const before = await scopeEntries(deps, REVIEW_LINKS_SCOPE);

    const response = await handler(request('POST', forged, { body: 'decision=approve', headers: { origin: 'https://evil.example', 'content-type': FORM } }), context);

    expect(response.statusCode).toBe(403);
    const added = addedEntries(before, await scopeEntries(deps, REVIEW_LINKS_SCOPE));
    expect(added).toEqual([expect.objectContaining({ action: 'review.refused', detail: expect.objectContaining({ kind: 'cross-site', token: 'bad-signature' }) })]);
  });
});
