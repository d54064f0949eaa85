/**
 * Acceptance: a reviewer opens the link from their email in a real browser (the Chromium that the
 * npm package @sparticuz/chromium ships, see test/support/browser.ts; JavaScript off), reads the
 * evidence, and approves. The page is served by the real review handler
 * (`functions/review/handler.ts`, production wiring, stage local) behind
 * scripts/review-server.ts, over DynamoDB Local; SageMaker, SNS and S3 are mocked.
 *
 * Screenshots go to test-artifacts/: review-page.png, review-confirmation.png, review-used.png.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import { DescribeModelPackageCommand, DescribeTrainingJobCommand, SageMakerClient, UpdateModelPackageCommand } from '@aws-sdk/client-sagemaker';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { BrowserContext, Page, Response } from 'playwright-core';
import { LOCAL_KEY_RING } from '../../shared/aws/signing-keys.js';
import { groupScope } from '../../shared/domain/audit.js';
import { verifyReviewToken } from '../../shared/domain/token.js';
import type { Deps } from '../../shared/ports.js';
import { startReviewServer, type ReviewHandler, type ReviewServer } from '../../scripts/review-server.js';
import { launchChromium } from '../support/browser.js';
import { logVerifies, scopeEntries } from '../support/audit-log.js';
import { newTable, type TestTable } from '../support/dynamo.js';
import { EVENTS_DIR, TOPICS, s3Body, story, testDeps } from '../support/story.js';

/** Per hook and per test; the whole file takes a few seconds. */
const TIMEOUT_MS = 20_000;

const sm = mockClient(SageMakerClient);
const sns = mockClient(SNSClient);
const s3 = mockClient(S3Client);

const RISK = 'risk-officer@acme-bank.example';
const LEAD = 'ml-lead@acme-bank.example';
const ARTIFACTS = join(process.cwd(), 'test-artifacts');
const DATASET = 's3://acme-ml-datasets-123456789012/fraud/transactions/2026-11-01/train/';
const DIGEST = 'sha256:8c1a2f5e0b7d4c3a9e6f1d2b5a8c7e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d';
const COMMENT = 'Metrics and lineage check out; dataset snapshot matches the data card.';
const REPORT = readFileSync(
  join(EVENTS_DIR, 'local-aws/s3/acme-ml-artifacts-123456789012/fraud-detector/evaluation/fraud-xgb-2026-11-27-09-14-05-412/evaluation.json'),
  'utf8',
);

const s = story('browser');
let chrome: Awaited<ReturnType<typeof launchChromium>> | undefined;
let context: BrowserContext;
let page: Page;
let table: TestTable | undefined;
let server: ReviewServer | undefined;
let deps: Deps;
/** The links from the reviewers' SNS messages, as they would click them. */
const links: Record<string, string> = {};
/** The events the handler received, to check what the server made of each request. */
const events: APIGatewayProxyEventV2[] = [];

const tokenOf = (link: string) => decodeURIComponent(new URL(link).pathname.split('/')[2] ?? '');
const linkIdOf = (link: string) => {
  const v = verifyReviewToken(tokenOf(link), LOCAL_KEY_RING, 0);
  if (!v.ok) throw new Error(`the emailed link does not verify with the local key ring: ${v.reason}`);
  return v.claims.linkId;
};
const updates = () => sm.commandCalls(UpdateModelPackageCommand).map((c) => c.args[0].input);

/** Everything the review touches: the group's partition (version, review, audit) and the link. */
async function stateOf(link: string) {
  const t = table as TestTable;
  const { Items } = await t.doc.send(
    new QueryCommand({ TableName: t.tableName, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': `GROUP#${s.group}` } }),
  );
  return { items: Items, link: await deps.store.getReviewLink(linkIdOf(link)) };
}

async function screenshot(name: string) {
  await page.screenshot({ path: join(ARTIFACTS, name), fullPage: true });
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  chrome = await launchChromium(); // the npm package's Chromium, unpacked on first use (a few seconds)
  table = await newTable('browser');

  // The server first, so that the handler is configured with the URL it is really served on.
  const loaded: { handler?: ReviewHandler } = {};
  server = await startReviewServer({
    handler: async (event, ctx) => {
      if (!loaded.handler) throw new Error('the review handler is not loaded yet');
      events.push(event);
      return loaded.handler(event, ctx);
    },
  });
  Object.assign(process.env, {
    TABLE_NAME: table.tableName,
    REVIEWERS_TOPIC_ARN: TOPICS.reviewers,
    GOVERNANCE_TOPIC_ARN: TOPICS.governance,
    REVIEW_BASE_URL: server.url,
    // Every page and message names the organisation (serverless.yml's stage local defaults).
    ORGANISATION_NAME: 'Acme Bank model risk',
    ORGANISATION_CONTACT: 'model-risk@acme-bank.example',
    STAGE: 'local',
    REVIEW_SIGNING_KEY_PARAMETER: '',
    // The signed link alone votes here (reviewAuth link); sign-in.test.ts covers reviewAuth oidc.
    REVIEW_AUTH: 'link',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  });
  // Imported only now, as a cold start would: the logger and the configuration read the
  // environment when they load. One at a time: jest's ESM loader fails concurrent imports that
  // share a dependency ("request for … is not in cache").
  loaded.handler = (await import('../../functions/review/handler.js')).handler;
  const { putPolicy } = await import('../../shared/usecases/policies.js');
  const { recordTrainingJob } = await import('../../shared/usecases/training.js');
  const { handleModelPackageChange } = await import('../../shared/usecases/gate.js');

  // mockClient mocks every instance of the class, the handler's own clients included.
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  sm.on(UpdateModelPackageCommand).resolves({});
  sm.on(DescribeModelPackageCommand).resolves({});
  sm.on(DescribeTrainingJobCommand).resolves(s.describe('training-job-completed.json', { 'validation:auc': 0.912 }) as never);
  s3.on(GetObjectCommand).resolves({ Body: s3Body(REPORT) });

  // The review is opened by the use cases, signing with the key ring the handler verifies with
  // (stage local) and at the real time the handler's clock reads.
  deps = {
    ...testDeps(table.client, table.tableName, { now: Date.now() }),
    keys: { keyRing: async () => LOCAL_KEY_RING },
    clock: { now: () => Date.now() },
    reviewBaseUrl: server.url,
  };
  await putPolicy(deps, s.policy({ requiredApprovals: 1 }));
  await recordTrainingJob(deps, s.job('training-job-completed.json'));
  expect((await handleModelPackageChange(deps, s.version('model-package-pending.json'))).outcome).toBe('review-opened');
  for (const call of sns.commandCalls(PublishCommand)) {
    const { Message, MessageAttributes } = call.args[0].input;
    const link = /(http:\/\/\S+\/reviews\/\S+)/.exec(Message ?? '')?.[1];
    const reviewer = MessageAttributes?.reviewer?.StringValue;
    if (link && reviewer) links[reviewer] = link;
  }
  expect(Object.keys(links).sort()).toEqual([LEAD, RISK]);
  expect(links[RISK]?.startsWith(`${server.url}/reviews/`)).toBe(true);
  sm.resetHistory();
  sns.resetHistory();

  // JavaScript off for the whole test: the page must work without it.
  context = await chrome.browser.newContext({ javaScriptEnabled: false, viewport: { width: 1100, height: 900 } });
  page = await context.newPage();
}, TIMEOUT_MS);

afterAll(async () => {
  await chrome?.close();
  await server?.close();
  await table?.drop();
}, TIMEOUT_MS);

describe('the review page in a browser, without JavaScript', () => {
  let shown: Response | null = null;

  it('GET shows the evidence, five times over, and changes nothing', async () => {
    const link = links[RISK] ?? '';
    const before = await stateOf(link);

    const statuses: Array<number | undefined> = [];
    for (let i = 0; i < 5; i++) {
      shown = await page.goto(link);
      statuses.push(shown?.status());
    }

    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    expect(before.items?.map((i) => String(i.SK).split('#')[0])).toEqual(expect.arrayContaining(['REVIEW', 'VERSION']));
    expect(before.link).toMatchObject({ reviewer: RISK });
    expect(before.link?.usedAt).toBeUndefined();
    expect(await stateOf(link)).toEqual(before);
    expect(updates()).toHaveLength(0);
    await screenshot('review-page.png');

    // What the server made of the request: API Gateway's event for the GET route.
    expect(events).toHaveLength(5);
    expect(events[0]).toMatchObject({
      version: '2.0',
      routeKey: 'GET /reviews/{token}',
      rawPath: new URL(link).pathname,
      pathParameters: { token: tokenOf(link) },
      isBase64Encoded: false,
      requestContext: { http: { method: 'GET', path: new URL(link).pathname, sourceIp: '127.0.0.1', userAgent: expect.stringContaining('Chrome') } },
    });
    expect(events[0]?.body).toBeUndefined();
    expect(events[0]?.cookies).toBeUndefined();
  }, TIMEOUT_MS);

  it('shows the group, the version, the metric gate, the dataset and the image digest, with the security headers', async () => {
    await expect(page.getByTestId('heading').textContent()).resolves.toBe(`Review: ${s.group}, version 1`);
    const auc = page.getByTestId('metrics').locator('tbody tr', { hasText: 'trainingJob:validation:auc' });
    await expect(auc.textContent()).resolves.toMatch(/≥ 0\.85\s*0\.912\s*✓ PASS/);
    await expect(page.getByTestId('metrics').locator('tbody tr').allTextContents()).resolves.toHaveLength(3);
    await expect(page.getByTestId('datasets').textContent()).resolves.toContain(DATASET);
    await expect(page.locator('dd', { hasText: 'sha256:' }).textContent()).resolves.toBe(DIGEST);
    await expect(page.getByTestId('policy').textContent()).resolves.toContain('1 distinct approval needed');
    await expect(page.getByTestId('link-info').textContent()).resolves.toContain(RISK);
    const html = await page.content();
    expect(html).not.toContain(tokenOf(links[RISK] ?? ''));
    expect(html).not.toMatch(/<script/i);

    const headers = shown?.headers() ?? {};
    expect(headers).toMatchObject({
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
      'x-content-type-options': 'nosniff',
      'x-robots-tag': expect.stringContaining('noindex'),
    });
    expect(headers['content-security-policy']).toContain("default-src 'none'");
    expect(headers['content-security-policy']).not.toMatch(/script/);
  }, TIMEOUT_MS);

  it('Approve (a plain form post) records the vote, decides the review and updates the registry once', async () => {
    const link = links[RISK] ?? '';
    await page.getByTestId('comment').fill(COMMENT);
    const [posted] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.getByTestId('approve').click(),
    ]);
    await page.getByTestId('confirmation').waitFor();
    await screenshot('review-confirmation.png');

    expect(posted.status()).toBe(200);
    expect(posted.url()).toBe(link); // action="": the form posts back to the link
    expect(new URLSearchParams(posted.request().postData() ?? '')).toEqual(new URLSearchParams({ comment: COMMENT, decision: 'approve' }));
    await expect(page.getByTestId('outcome').textContent()).resolves.toMatch(new RegExp(`${s.group} version 1 is now Approved`));
    const postEvent = events.at(-1);
    expect(postEvent).toMatchObject({
      routeKey: 'POST /reviews/{token}',
      pathParameters: { token: tokenOf(link) },
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      // As API Gateway (HTTP API) delivers a form: base64-encoded.
      isBase64Encoded: true,
    });

    const version = await deps.store.getVersion({ group: s.group, version: 1 });
    expect(version?.decision).toMatchObject({ outcome: 'Approved', approvers: [RISK] });
    expect(updates()).toEqual([
      {
        ModelPackageArn: s.arn(1),
        ModelApprovalStatus: 'Approved',
        ApprovalDescription: expect.stringContaining(`approved by ${RISK}`),
        ClientToken: expect.stringMatching(/^[a-f0-9-]{36}$/),
      },
    ]);
    expect(version?.pendingEffects).toEqual({});
    const used = await deps.store.getReviewLink(linkIdOf(link));
    expect(used?.usedAt).toEqual(expect.any(String));
    expect(used?.vote).toMatchObject({ decision: 'approve', comment: COMMENT });
    const entries = await scopeEntries(deps, groupScope(s.group));
    expect(entries.map((e) => e.action)).toEqual(expect.arrayContaining(['review.vote', 'review.decided']));
    expect(await logVerifies(table as TestTable)).toMatchObject({ ok: true });
  }, TIMEOUT_MS);

  it('the used link now answers 409 "already decided", and the other reviewer finds the review closed', async () => {
    const again = await page.goto(links[RISK] ?? '');
    await screenshot('review-used.png');

    expect(again?.status()).toBe(409);
    await expect(page.getByTestId('refusal').textContent()).resolves.toMatch(/already decided by\s+risk-officer@acme-bank\.example/);
    expect(again?.headers()['cache-control']).toBe('no-store');

    const other = await page.goto(links[LEAD] ?? '');
    expect(other?.status()).toBe(409);
    await expect(page.getByTestId('closed-status').textContent()).resolves.toBe('Approved');
    expect(updates()).toHaveLength(1);
  }, TIMEOUT_MS);
});
