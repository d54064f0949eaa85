/**
 * Acceptance for issue 10 in a real browser (the npm package's Chromium, test/support/browser.ts;
 * JavaScript off): with `reviewAuth: oidc`, a reviewer opens the link from their email, signs in
 * at the organisation's identity provider and decides. The identity provider is the local one
 * (local/oidc/provider.ts: oidc-provider), started here; the review page is the real review handler
 * (`functions/review/handler.ts`, production wiring, stage local, REVIEW_AUTH=oidc) behind
 * scripts/review-server.ts (API Gateway's HTTP API: cookies in, `Set-Cookie` and `Location` out),
 * over DynamoDB Local; SageMaker, SNS and S3 are mocked.
 *
 * Every test has a group of its own. "Nothing changed" is checked on the whole table (every item).
 * The session's age is moved on the review function's own clock (its production Deps' `clock`),
 * not by waiting: the identity provider and the browser keep the real time, as they would.
 *
 * Screenshots go to test-artifacts/: sign-in-step-{390,1280}.png, sign-in-provider-{390,1280}.png,
 * sign-in-review-{390,1280}.png (with the comparison against the version in production),
 * sign-in-confirmation-{390,1280}.png, sign-in-wrong-user.png, sign-in-again.png.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import { SageMakerClient, UpdateModelPackageCommand } from '@aws-sdk/client-sagemaker';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { S3Client } from '@aws-sdk/client-s3';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { BrowserContext, Page, Request } from 'playwright-core';
import { startLocalOidcProvider, localSubject, type LocalOidcProvider } from '../../local/oidc/provider.js';
import { startReviewServer, type ReviewHandler, type ReviewServer } from '../../scripts/review-server.js';
import { LOCAL_KEY_RING } from '../../shared/aws/signing-keys.js';
import { REVIEW_LINKS_SCOPE, groupScope } from '../../shared/domain/audit.js';
import { DECISION_WINDOW_SECONDS, SESSION_COOKIE, SIGN_IN_COOKIE } from '../../shared/domain/sign-in.js';
import type { Clock, Deps } from '../../shared/ports.js';
import { callbackUri } from '../../shared/usecases/sign-in.js';
import { launchChromium } from '../support/browser.js';
import { addedEntries, scopeEntries } from '../support/audit-log.js';
import { newTable, type TestTable } from '../support/dynamo.js';
import { OidcUserAgent } from '../support/oidc-login.js';
import { openSampleReview, resetMocks, reviewTokens, testDeps } from '../support/story.js';
import { DIGEST_V1, DIGEST_V2, TRAIN, TRAIN_DEC, asVersion2, packageEvent, recordVersion2Job } from '../support/production.js';

/** Per hook and per test: each signs in through the provider a few times (a second or two each). */
const TIMEOUT_MS = 60_000;

const sm = mockClient(SageMakerClient);
const sns = mockClient(SNSClient);
const s3 = mockClient(S3Client);

const RISK = 'risk-officer@acme-bank.example';
const LEAD = 'ml-lead@acme-bank.example';
const INTRUDER = 'intruder@acme-bank.example';
const CLIENT_ID = 'modelgate-review-browser';
const CLIENT_SECRET = 'browser-test-client-secret-local-only';
const ARTIFACTS = join(process.cwd(), 'test-artifacts');
const COMMENT = 'Lower AUC than v1 but within policy; December data checked against the data card.';
const WIDTHS = [390, 1280] as const;

let chrome: Awaited<ReturnType<typeof launchChromium>> | undefined;
let table: TestTable | undefined;
let server: ReviewServer | undefined;
let provider: LocalOidcProvider | undefined;
/** The use cases' Deps for setting a story up (real time, the local link keys). */
let deps: Deps;
/** The review function's own production Deps, whose clock a test may move. */
let handlerDeps: Deps;
let realClock: Clock;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  chrome = await launchChromium();
  table = await newTable('browser-signin');

  // The review server first (its URL is the redirect URI the provider registers), then the provider.
  const loaded: { handler?: ReviewHandler } = {};
  server = await startReviewServer({
    handler: async (event, ctx) => {
      if (!loaded.handler) throw new Error('the review handler is not loaded yet');
      return loaded.handler(event, ctx);
    },
  });
  provider = await startLocalOidcProvider({
    port: 0,
    users: [RISK, LEAD, INTRUDER].map((email) => ({ email, name: email })),
    clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [callbackUri(server.url)] }],
  });
  Object.assign(process.env, {
    TABLE_NAME: table.tableName,
    REVIEWERS_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:modelgate-test-reviewers',
    GOVERNANCE_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:modelgate-test-governance',
    REVIEW_BASE_URL: server.url,
    // Every page and message names the organisation (serverless.yml's stage local defaults).
    ORGANISATION_NAME: 'Acme Bank model risk',
    ORGANISATION_CONTACT: 'model-risk@acme-bank.example',
    STAGE: 'local',
    REVIEW_SIGNING_KEY_PARAMETER: '',
    REVIEW_AUTH: 'oidc',
    OIDC_ISSUER: provider.issuer,
    OIDC_CLIENT_ID: CLIENT_ID,
    OIDC_CLIENT_SECRET: CLIENT_SECRET,
    OIDC_IDENTITY_CLAIM: 'email',
    SESSION_KEY_PARAMETER: '',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  });
  // Imported only now, as a cold start would (see review-page.test.ts); one at a time.
  const reviewFunction = await import('../../functions/review/handler.js');
  loaded.handler = reviewFunction.handler;
  // The handler's own wiring (functions/review/handler.ts), whose clock the tests move.
  handlerDeps = reviewFunction.wired;
  realClock = handlerDeps.clock;

  // Stories are set up through the use cases, signing links with the key ring the handler
  // verifies with (stage local) at the real time the handler's clock reads.
  deps = {
    ...testDeps(table.client, table.tableName, { now: Date.now() }),
    keys: { keyRing: async () => LOCAL_KEY_RING },
    clock: { now: () => Date.now() },
  };
}, TIMEOUT_MS);

afterAll(async () => {
  await chrome?.close();
  await server?.close();
  await provider?.close();
  await table?.drop();
}, TIMEOUT_MS);

beforeEach(() => {
  resetMocks(sm, sns, s3);
  handlerDeps.clock = realClock;
});

afterEach(async () => {
  handlerDeps.clock = realClock;
  await Promise.all(contexts.splice(0).map((c) => c.close()));
});

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/** A fresh browser (its own cookies), JavaScript off. */
async function browserPage(width: number = WIDTHS[1]): Promise<Page> {
  const context = await (chrome as NonNullable<typeof chrome>).browser.newContext({ javaScriptEnabled: false, viewport: { width, height: 900 } });
  contexts.push(context);
  return context.newPage();
}

const linkOf = (token: string) => `${(server as ReviewServer).url}/reviews/${token}`;

/** A group whose version 1 is under review; each reviewer's link, as their email has it. */
async function openReview(prefix: string, policy: Record<string, unknown> = {}) {
  const { s, tokens } = await openSampleReview(deps, { sm, sns }, prefix, policy);
  return { s, links: { [RISK]: linkOf(tokens[RISK] ?? ''), [LEAD]: linkOf(tokens[LEAD] ?? '') } };
}


/** Every item of the table, in key order: what "nothing changed" is checked against. */
async function everything(): Promise<Array<Record<string, unknown>>> {
  const t = table as TestTable;
  const items: Array<Record<string, unknown>> = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await t.doc.send(new ScanCommand({ TableName: t.tableName, ConsistentRead: true, ...(start ? { ExclusiveStartKey: start } : {}) }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  const key = (i: Record<string, unknown>) => `${String(i['PK'])}\u0000${String(i['SK'])}`;
  return items.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** The items in `after` that `before` did not have, or had with other values. */
function changedItems(before: Array<Record<string, unknown>>, after: Array<Record<string, unknown>>) {
  const seen = new Set(before.map((i) => JSON.stringify(i)));
  return after.filter((i) => !seen.has(JSON.stringify(i)));
}

/**
 * The names of modelgate's cookies the browser holds for the review page (cookies are per host,
 * not per port, so the provider's own cookies for 127.0.0.1 are there too, and left out here).
 */
async function cookieNames(page: Page): Promise<string[]> {
  return (await page.context().cookies((server as ReviewServer).url))
    .map((c) => c.name)
    .filter((n) => n.startsWith('__Host-modelgate-'))
    .sort();
}

/** A table's rows as text (cells joined by one space), without its header row. */
async function rowsOf(page: Page, testid: string): Promise<string[]> {
  const rows = await page.getByTestId(testid).locator('tr').allInnerTexts();
  return rows.slice(1).map((r) => r.replace(/\s+/g, ' ').trim());
}

async function screenshot(page: Page, name: string) {
  await page.screenshot({ path: join(ARTIFACTS, name), fullPage: true });
}

/** On the sign-in step: Sign in, and the provider's login form (the address is prefilled from login_hint). */
async function toProvider(page: Page): Promise<void> {
  await Promise.all([reachProvider(page), page.getByTestId('sign-in').click()]);
}

/**
 * Waits until the browser shows the provider's page. Chromium checks a form's redirects against
 * the page's CSP `form-action`: if that does not allow the provider, the redirect is blocked
 * (net::ERR_ABORTED), and this says so.
 */
async function reachProvider(page: Page): Promise<void> {
  try {
    await page.waitForURL((u) => u.origin === (provider as LocalOidcProvider).issuer, { timeout: 10_000 });
  } catch (e) {
    throw new Error(`the browser did not reach the identity provider after "Sign in" (${(e as Error).message.split('\n')[0]}): does the sign-in step's Content-Security-Policy form-action allow ${provider?.issuer}?`);
  }
}

/** At the provider's login form: sign in as `email`, and wait for the page the browser ends on. */
async function loginAs(page: Page, email: string): Promise<void> {
  await page.locator('input[name="email"]').fill(email);
  await Promise.all([page.waitForURL((u) => u.origin === (server as ReviewServer).url), page.getByRole('button', { name: 'Sign in' }).click()]);
  await page.waitForLoadState();
}

/** The whole sign-in from the link: the review page (or the refusal) is what the browser shows after it. */
async function signIn(page: Page, link: string, email: string): Promise<void> {
  await page.goto(link);
  await toProvider(page);
  await loginAs(page, email);
}

/**
 * A sign-in attempt started in this browser (its attempt cookie set here) whose login at the
 * provider is made aside, with test/support/oidc-login.ts: the test then holds the callback URL,
 * not yet used, to replay or tamper with. (Playwright cannot stop a redirect hop, and the
 * provider's redirect to the callback is one.) The browser itself is left on the provider's form.
 */
async function pendingCallback(page: Page, link: string): Promise<URL> {
  await page.goto(link);
  const [started] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && r.url() === link, { timeout: 10_000 }),
    page.getByTestId('sign-in').click(),
  ]);
  expect(started.status()).toBe(303);
  await reachProvider(page);
  const { callbackUrl } = await new OidcUserAgent().signIn(started.headers()['location'] ?? '', RISK);
  return new URL(callbackUrl);
}

/** What the table's audit entries of a scope gained since `before`: action, actor, and the refusal's kind and reason. */
async function refusalsSince(scope: string, before: Awaited<ReturnType<typeof scopeEntries>>) {
  return addedEntries(before, await scopeEntries(deps, scope)).map((e) => [e.action, e.actor, e.detail['kind'], e.detail['reason']]);
}

/**
 * Nothing cut off: the page does not scroll sideways, and every table cell lies within the
 * viewport or, for a table wider than the screen, inside its own scroll box (which scrolls
 * sideways and itself fits the viewport). Returns the cells that do not, as text.
 */
async function cutOffCells(page: Page): Promise<string[]> {
  const width = page.viewportSize()?.width ?? 0;
  // Run in the page (the project has no DOM types, hence a string): page coordinates, not the
  // viewport's, for every cell and its nearest scroll box.
  const measured = (await page.evaluate(`(() => {
    const x = (v) => v + window.scrollX;
    return {
      pageWidth: document.documentElement.scrollWidth,
      cells: [...document.querySelectorAll('td, th')].map((cell) => {
        const r = cell.getBoundingClientRect();
        const box = cell.closest('.scroll');
        const b = box && box.getBoundingClientRect();
        return {
          text: (cell.textContent || '').trim().slice(0, 40),
          left: x(r.left),
          right: x(r.right),
          box: box ? { left: x(b.left), right: x(b.right), scrollRight: x(b.left) + box.scrollWidth, overflowX: getComputedStyle(box).overflowX } : undefined,
        };
      }),
    };
  })()`)) as { pageWidth: number; cells: Array<{ text: string; left: number; right: number; box?: { left: number; right: number; scrollRight: number; overflowX: string } }> };
  const { pageWidth, cells } = measured;
  const problems: string[] = pageWidth > width ? [`the page is ${pageWidth} px wide in a ${width} px viewport`] : [];
  if (cells.length === 0) problems.push('no table cells on the page');
  for (const c of cells) {
    const inViewport = c.left >= -0.5 && c.right <= width + 0.5;
    const box = c.box;
    const boxFits = box !== undefined && box.left >= -0.5 && box.right <= width + 0.5;
    const scrollsInBox = box !== undefined && ['auto', 'scroll'].includes(box.overflowX) && c.left >= box.left - 0.5 && c.right <= box.scrollRight + 0.5;
    if (!(inViewport && (box === undefined || boxFits)) && !(boxFits && scrollsInBox)) problems.push(`"${c.text}" spans ${c.left}..${c.right} px`);
  }
  return problems;
}

// --- a version in production (the comparison): v1 approved, then v2 under review ----------------

/**
 * A group with version 1 Approved (its reviewer's vote through the use case, and SageMaker's
 * Approved event recorded), and version 2 under review: another learning rate, a new
 * hyperparameter, December's training data, a new image digest and a lower AUC.
 */
async function openVersion2(prefix: string) {
  const { s, tokens } = await openSampleReview(deps, { sm, sns }, prefix, { requiredApprovals: 1 });
  const { submitVote } = await import('../../shared/usecases/review.js');
  const { handleModelPackageChange } = await import('../../shared/usecases/gate.js');
  expect((await submitVote(deps, tokens[RISK] ?? '', { decision: 'approve' })).status).toBe(200);
  const approved = packageEvent(s, (d) => {
    d['ModelApprovalStatus'] = 'Approved';
    d['LastModifiedTime'] = '2026-11-27T10:12:48Z';
  });
  expect((await handleModelPackageChange(deps, approved)).outcome).toBe('recorded');

  await recordVersion2Job(deps, sm, s);
  sns.resetHistory();
  expect((await handleModelPackageChange(deps, packageEvent(s, (d) => asVersion2(s, d)))).outcome).toBe('review-opened');
  const v2 = reviewTokens(sns.commandCalls(PublishCommand).map((c) => c.args[0].input));
  sm.resetHistory();
  return { s, links: { [RISK]: linkOf(v2[RISK] ?? ''), [LEAD]: linkOf(v2[LEAD] ?? '') } };
}

// ---------------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------------

describe('signing in on the review page, in a browser without JavaScript (reviewAuth oidc)', () => {
  it(
    'sign in and approve, against the version in production: nothing cut off at 390 and 1280 px; the vote names the issuer and the subject',
    async () => {
      const { s, links } = await openVersion2('bsi-approve');
      const link = links[RISK] ?? '';
      const page = await browserPage();

      // The sign-in step: who the link is for, and no evidence.
      const shown = await page.goto(link);
      expect(shown?.status()).toBe(200);
      await expect(page.getByTestId('reviewer').textContent()).resolves.toBe(RISK);
      await expect(page.getByTestId('decision-form').count()).resolves.toBe(0);
      await expect(page.getByTestId('metrics').count()).resolves.toBe(0);
      for (const width of WIDTHS) {
        await page.setViewportSize({ width, height: 900 });
        await screenshot(page, `sign-in-step-${width}.png`);
      }

      // The provider's login form, for the link's reviewer (login_hint).
      await toProvider(page);
      const authorize = new URL(page.url());
      expect(authorize.origin).toBe(provider?.issuer);
      await expect(page.locator('input[name="email"]').inputValue()).resolves.toBe(RISK);
      for (const width of WIDTHS) {
        await page.setViewportSize({ width, height: 900 });
        await screenshot(page, `sign-in-provider-${width}.png`);
      }
      const callback = page.waitForRequest((r: Request) => r.url().startsWith(`${server?.url}/auth/callback?`));
      await loginAs(page, RISK);
      expect(new URL((await callback).url()).searchParams.get('iss')).toBe(provider?.issuer);

      // Back on the link, signed in: the evidence, the decision form and the comparison with v1.
      expect(page.url()).toBe(link);
      expect(await cookieNames(page)).toEqual([SESSION_COOKIE]);
      await expect(page.getByTestId('heading').textContent()).resolves.toBe(`Review: ${s.group}, version 2`);
      await expect(page.getByTestId('decision-form').count()).resolves.toBe(1);
      await expect(page.getByTestId('production-version').textContent()).resolves.toMatch(/Compared with version 1, the group's newest Approved version/);
      await expect(rowsOf(page, 'production-metrics')).resolves.toEqual([
        'validation:auc training job 0.894 0.912 -0.018',
        'validation:logloss training job 0.25 none n/a',
        'trainingJob:validation:auc metric gate 0.894 0.912 -0.018',
        'evaluationReport:binary_classification_metrics.auc metric gate 0.907 0.907 0',
        'customerMetadata:fairness_review metric gate 1 1 0',
      ]);
      await expect(rowsOf(page, 'production-datasets')).resolves.toEqual([`added train ${TRAIN_DEC}`, `removed train ${TRAIN}`]);
      await expect(rowsOf(page, 'production-hyperparameters')).resolves.toEqual(['eta changed 0.2 0.1', 'subsample added none 0.8']);
      await expect(rowsOf(page, 'production-images')).resolves.toEqual([`image digest ${DIGEST_V1} ${DIGEST_V2}`]);
      for (const width of WIDTHS) {
        await page.setViewportSize({ width, height: 900 });
        expect(await cutOffCells(page)).toEqual([]);
        await screenshot(page, `sign-in-review-${width}.png`);
      }

      // Approve: the vote records who signed in, where and when.
      await page.getByTestId('comment').fill(COMMENT);
      const [posted] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.getByTestId('approve').click()]);
      await page.getByTestId('confirmation').waitFor();
      expect(posted.status()).toBe(200);
      await expect(page.getByTestId('outcome').textContent()).resolves.toMatch(new RegExp(`${s.group} version 2 is now Approved`));
      // A sign-in made for one decision is spent by it.
      expect(await cookieNames(page)).toEqual([]);
      for (const width of WIDTHS) {
        await page.setViewportSize({ width, height: 900 });
        expect((await cutOffCells(page)).filter((p) => p !== 'no table cells on the page')).toEqual([]);
        await screenshot(page, `sign-in-confirmation-${width}.png`);
      }

      const version = await deps.store.getVersion({ group: s.group, version: 2 });
      expect(version?.decision).toMatchObject({ outcome: 'Approved', approvers: [RISK] });
      const vote = (await scopeEntries(deps, groupScope(s.group))).filter((e) => e.action === 'review.vote').at(-1);
      expect(vote?.actor).toBe(RISK);
      expect(vote?.detail['signedIn']).toMatchObject({ issuer: provider?.issuer, subject: localSubject(RISK) });
      const authTime = Date.parse(String((vote?.detail['signedIn'] as Record<string, unknown>)['authTime']));
      expect(Math.abs(authTime - Date.now())).toBeLessThan(60_000);
      const [update] = sm.commandCalls(UpdateModelPackageCommand).map((c) => c.args[0].input);
      expect(update).toMatchObject({ ModelPackageArn: s.arn(2), ModelApprovalStatus: 'Approved' });
      expect(update?.ApprovalDescription).toContain(`approved by ${RISK} [signed in at ${provider?.issuer} as ${localSubject(RISK)}, `);
    },
    TIMEOUT_MS,
  );

  it(
    'GET never changes state, before or after sign-in, and signing in writes nothing',
    async () => {
      const { links } = await openReview('bsi-get');
      const link = links[RISK] ?? '';
      const page = await browserPage();
      const before = await everything();

      const statuses: Array<number | undefined> = [];
      for (let i = 0; i < 3; i++) statuses.push((await page.goto(link))?.status());
      await expect(page.getByTestId('sign-in-form').count()).resolves.toBe(1);
      expect(await everything()).toEqual(before);

      await toProvider(page);
      await loginAs(page, RISK);
      await expect(page.getByTestId('decision-form').count()).resolves.toBe(1);
      for (let i = 0; i < 3; i++) statuses.push((await page.goto(link))?.status());
      await expect(page.getByTestId('decision-form').count()).resolves.toBe(1);

      expect(statuses).toEqual([200, 200, 200, 200, 200, 200]);
      expect(await everything()).toEqual(before);
      expect(sm.commandCalls(UpdateModelPackageCommand)).toHaveLength(0);
    },
    TIMEOUT_MS,
  );

  it(
    'the wrong user (intruder@…) is refused (403) and nothing but the refusal\'s audit entry is written',
    async () => {
      const { s, links } = await openReview('bsi-intruder');
      const page = await browserPage();
      const before = await everything();
      const group0 = await scopeEntries(deps, groupScope(s.group));

      await signIn(page, links[RISK] ?? '', INTRUDER);
      await screenshot(page, 'sign-in-wrong-user.png');

      await expect(page.getByTestId('refusal').getAttribute('data-kind')).resolves.toBe('wrong-identity');
      await expect(page.getByTestId('link-reviewer').textContent()).resolves.toBe(RISK);
      await expect(page.getByTestId('decision-form').count()).resolves.toBe(0);
      expect(await cookieNames(page)).toEqual([]);
      const changed = changedItems(before, await everything());
      expect(changed).toHaveLength(1);
      expect(changed[0]).toMatchObject({ action: 'review.refused', actor: INTRUDER });
      const added = addedEntries(group0, await scopeEntries(deps, groupScope(s.group)));
      expect(added.map((e) => [e.action, e.actor])).toEqual([['review.refused', INTRUDER]]);
      expect(added.map((e) => e.detail)).toEqual([
        expect.objectContaining({ kind: 'wrong-identity', reviewer: RISK, signedIn: expect.objectContaining({ issuer: provider?.issuer, subject: localSubject(INTRUDER), identity: INTRUDER }) }),
      ]);
      // Going back to the link shows the sign-in step again, and the intruder still cannot vote.
      await page.goto(links[RISK] ?? '');
      await expect(page.getByTestId('sign-in-form').count()).resolves.toBe(1);
      expect(sm.commandCalls(UpdateModelPackageCommand)).toHaveLength(0);
    },
    TIMEOUT_MS,
  );

  it(
    'a session older than the decision window must sign in again: the vote is refused (401) with only its audit entry, then a new sign-in decides',
    async () => {
      const { s, links } = await openReview('bsi-old', { requiredApprovals: 1 });
      const link = links[RISK] ?? '';
      const page = await browserPage();
      await signIn(page, link, RISK);
      await expect(page.getByTestId('decision-form').count()).resolves.toBe(1);

      // The reviewer read for longer than the window allows, then clicked Approve.
      handlerDeps.clock = { now: () => realClock.now() + (DECISION_WINDOW_SECONDS + 60) * 1000 };
      const before = await everything();
      const [refused] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.getByTestId('approve').click()]);
      expect(refused.status()).toBe(401);
      await expect(page.getByTestId('refusal').getAttribute('data-kind')).resolves.toBe('sign-in-required');
      const changed = changedItems(before, await everything());
      expect(changed.map((i) => [i['action'], i['actor'], (i['detail'] as Record<string, unknown>)['kind']])).toEqual([['review.refused', 'unknown', 'sign-in-required']]);
      // The browser still holds the session cookie (its Max-Age counts in real time): the server refused it.
      expect(await cookieNames(page)).toEqual([SESSION_COOKIE]);

      // The link shows the sign-in step again; a new sign-in (now, on the function's clock) decides.
      await page.goto(link);
      await expect(page.getByTestId('sign-in-form').count()).resolves.toBe(1);
      await expect(page.getByTestId('decision-form').count()).resolves.toBe(0);
      await screenshot(page, 'sign-in-again.png');
      handlerDeps.clock = realClock;
      await toProvider(page);
      await loginAs(page, RISK);
      const [posted] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.getByTestId('approve').click()]);
      expect(posted.status()).toBe(200);
      expect((await deps.store.getVersion({ group: s.group, version: 1 }))?.decision).toMatchObject({ outcome: 'Approved', approvers: [RISK] });
    },
    TIMEOUT_MS,
  );

  it(
    'a replayed callback and forged ones (state changed; the code of another attempt, so PKCE fails) are refused (400), each audited, and decide nothing',
    async () => {
      const { s, links } = await openReview('bsi-forged');
      const link = links[RISK] ?? '';
      const page = await browserPage();
      const links0 = await scopeEntries(deps, REVIEW_LINKS_SCOPE);
      const group0 = await scopeEntries(deps, groupScope(s.group));

      // 1. state changed: the attempt's cookie is in this browser, the callback's state is not its own.
      const first = await pendingCallback(page, link);
      expect(await cookieNames(page)).toEqual([SIGN_IN_COOKIE]);
      const forged = new URL(first);
      forged.searchParams.set('state', 'x'.repeat(43));
      expect((await page.goto(forged.href))?.status()).toBe(400);
      await expect(page.getByTestId('refusal').getAttribute('data-kind')).resolves.toBe('sign-in-failed');
      expect(await cookieNames(page)).toEqual([]);

      // 2. the code of attempt A with the state of attempt B, in B's browser: the state checks,
      //    the code does not (A's PKCE challenge is not B's verifier).
      const a = await pendingCallback(page, link);
      const b = await pendingCallback(page, link);
      const mixed = new URL(b);
      mixed.searchParams.set('code', a.searchParams.get('code') ?? '');
      expect((await page.goto(mixed.href))?.status()).toBe(400);
      expect(await cookieNames(page)).toEqual([]);

      // 3. a real sign-in, then its callback URL replayed: in the same browser (its attempt is
      //    spent) and in another browser (which never had it).
      const callback = page.waitForRequest((r: Request) => r.url().startsWith(`${server?.url}/auth/callback?`));
      await signIn(page, link, RISK);
      await expect(page.getByTestId('decision-form').count()).resolves.toBe(1);
      const replayed = (await callback).url();
      expect((await page.goto(replayed))?.status()).toBe(400);
      const other = await browserPage();
      expect((await other.goto(replayed))?.status()).toBe(400);
      expect(await cookieNames(other)).toEqual([]);

      // Each refusal is audited in the review-links scope, with the library's code and no token.
      expect(await refusalsSince(REVIEW_LINKS_SCOPE, links0)).toEqual([
        ['review.refused', 'unknown', 'sign-in-failed', 'ClientError OAUTH_INVALID_RESPONSE'],
        ['review.refused', 'unknown', 'sign-in-failed', 'ResponseBodyError OAUTH_RESPONSE_BODY_ERROR invalid_grant'],
        ['review.refused', 'unknown', 'sign-in-failed', 'no sign-in attempt in this browser'],
        ['review.refused', 'unknown', 'sign-in-failed', 'no sign-in attempt in this browser'],
      ]);
      // Nothing about the review: no vote, no refusal in the group, the link unused.
      expect(addedEntries(group0, await scopeEntries(deps, groupScope(s.group)))).toEqual([]);
      const version = await deps.store.getVersion({ group: s.group, version: 1 });
      expect(version?.decision).toBeUndefined();
      expect(sm.commandCalls(UpdateModelPackageCommand)).toHaveLength(0);
    },
    TIMEOUT_MS,
  );
});
