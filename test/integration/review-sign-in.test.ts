import { mockClient } from 'aws-sdk-client-mock';
import { SageMakerClient, UpdateModelPackageCommand } from '@aws-sdk/client-sagemaker';
import { SNSClient } from '@aws-sdk/client-sns';
import { S3Client } from '@aws-sdk/client-s3';
import { startLocalOidcProvider, localSubject, type LocalOidcProvider } from '../../local/oidc/provider.js';
import { oidcSignIn } from '../../shared/aws/oidc.js';
import { groupScope } from '../../shared/domain/audit.js';
import { DECISION_WINDOW_SECONDS, SESSION_COOKIE, SIGN_IN_COOKIE } from '../../shared/domain/sign-in.js';
import type { Deps, SignInDeps } from '../../shared/ports.js';
import { showReview, submitVote, type HtmlResult } from '../../shared/usecases/review.js';
import { callbackUri, completeSignIn, sessionGate, startSignIn } from '../../shared/usecases/sign-in.js';
import { scopeEntries } from '../support/audit-log.js';
import { newTable, type TestTable } from '../support/dynamo.js';
import { signIn } from '../support/oidc-login.js';
import { REVIEW_BASE_URL, openSampleReview, resetMocks, testDeps } from '../support/story.js';

/**
 * Issue 10: reviewAuth oidc, through the use cases the review handler calls, against DynamoDB
 * Local and the local OpenID provider (oidc-provider) with openid-client in between. The browser's
 * part (following redirects, keeping cookies) is played by hand: the cookies each answer sets are
 * the cookies the next request sends.
 */
const sm = mockClient(SageMakerClient);
const sns = mockClient(SNSClient);
const s3 = mockClient(S3Client);

const RISK = 'risk-officer@acme-bank.example';
const LEAD = 'ml-lead@acme-bank.example';
const INTRUDER = 'intruder@acme-bank.example';
const CLIENT = { clientId: 'modelgate-review-test', clientSecret: 'a-test-client-secret-of-enough-length', redirectUris: [callbackUri(REVIEW_BASE_URL)] };

let table: TestTable;
let provider: LocalOidcProvider;
const clock = { now: Date.now() };
let deps: Deps;
let signInDeps: SignInDeps;

beforeAll(async () => {
  table = await newTable('signin');
  provider = await startLocalOidcProvider({ port: 0, users: [RISK, LEAD, INTRUDER].map((email) => ({ email, name: email })), clients: [CLIENT] });
  signInDeps = {
    provider: oidcSignIn({ issuer: provider.issuer, clientId: CLIENT.clientId, clientSecret: async () => CLIENT.clientSecret, redirectUri: callbackUri(REVIEW_BASE_URL), identityClaim: 'email', allowHttp: true }),
    sessionKeys: { keyRing: async () => ({ current: { kid: 'test', secret: new Uint8Array(32).fill(3) } }) },
  };
  deps = { ...testDeps(table.client, table.tableName, clock), signIn: signInDeps };
});
afterAll(async () => {
  await provider.close();
  await table.drop();
});
beforeEach(() => {
  clock.now = Date.now();
  resetMocks(sm, sns, s3);
});

/** What a browser would send back: each cookie's `name=value`, the cleared ones dropped. */
const jar = (...answers: HtmlResult[]): string[] =>
  answers.flatMap((a) => a.cookies ?? []).map((c) => c.split(';')[0] ?? '').filter((c) => !c.endsWith('='));

const show = (token: string, cookies: string[] = []) => showReview(deps, token, sessionGate(deps, signInDeps, cookies, 'GET'));
const vote = (token: string, decision: string, cookies: string[] = [], comment?: string) =>
  submitVote(deps, token, { decision, ...(comment ? { comment } : {}) }, sessionGate(deps, signInDeps, cookies, 'POST'));

/** POST intent=sign-in, the provider's login as `email`, the callback: what the browser ends up holding. */
async function signInAs(token: string, email: string) {
  const started = await startSignIn(deps, signInDeps, token);
  expect(started.status).toBe(303);
  const { callbackUrl } = await signIn(started.location ?? '', email);
  const completed = await completeSignIn(deps, signInDeps, callbackUrl, jar(started));
  return { started, callbackUrl, completed, cookies: jar(completed) };
}

test('GET without a session shows the sign-in step only, and writes nothing', async () => {
  const { s, tokens } = await openSampleReview(deps, { sm, sns }, 'si1');
  const before = await scopeEntries(deps, groupScope(s.group));
  const page = await show(tokens[RISK] ?? '');
  expect(page.status).toBe(200);
  expect(page.body).toContain('data-testid="sign-in-form"');
  expect(page.body).toContain(RISK);
  expect(page.body).not.toContain('data-testid="decision-form"');
  expect(page.body).not.toContain('validation:auc');
  expect(await scopeEntries(deps, groupScope(s.group))).toEqual(before);
});

test('the signed link alone cannot vote: a POST without a session is refused (401) and writes only its audit entry', async () => {
  const { s, tokens } = await openSampleReview(deps, { sm, sns }, 'si2');
  const before = await scopeEntries(deps, groupScope(s.group));
  const page = await vote(tokens[RISK] ?? '', 'approve');
  expect(page.status).toBe(401);
  const added = (await scopeEntries(deps, groupScope(s.group))).slice(before.length);
  expect(added.map((e) => [e.action, e.actor, e.detail['kind'], e.detail['reason']])).toEqual([['review.refused', 'unknown', 'sign-in-required', 'no-session']]);
  const review = await deps.store.getReview({ group: s.group, version: 1, reviewId: (await deps.store.getVersion({ group: s.group, version: 1 }))?.review?.id ?? '' });
  expect(review?.votes).toEqual({});
});

test('sign in and approve: the vote, its audit entry and the decision record the issuer, the subject and auth_time', async () => {
  const { s, tokens } = await openSampleReview(deps, { sm, sns }, 'si3');
  for (const reviewer of [RISK, LEAD]) {
    const token = tokens[reviewer] ?? '';
    const { started, completed, cookies } = await signInAs(token, reviewer);
    expect(new URL(started.location ?? '').origin).toBe(provider.issuer);
    expect(new URL(started.location ?? '').searchParams.get('code_challenge_method')).toBe('S256');
    expect(new URL(started.location ?? '').searchParams.get('max_age')).toBe('0');
    expect(started.cookies?.[0]).toMatch(new RegExp(`^${SIGN_IN_COOKIE}=[^;]+; Max-Age=600; Path=/; HttpOnly; Secure; SameSite=Lax$`));
    expect(completed.status).toBe(303);
    expect(completed.location).toBe(`${REVIEW_BASE_URL}/reviews/${token}`);
    expect(completed.cookies?.[0]).toBe(`${SIGN_IN_COOKIE}=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax`);
    expect(cookies.map((c) => c.split('=')[0])).toEqual([SESSION_COOKIE]);
    const page = await show(token, cookies);
    expect(page.status).toBe(200);
    expect(page.body).toContain('validation:auc');
    expect(page.body).toContain(`Signed in as <strong>${reviewer}</strong> through ${provider.issuer}.`);
    const voted = await vote(token, 'approve', cookies);
    expect(voted.status).toBe(200);
    // A sign-in made for one decision is spent by it.
    expect(voted.cookies).toEqual([`${SESSION_COOKIE}=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax`]);
  }
  const version = await deps.store.getVersion({ group: s.group, version: 1 });
  expect(version?.decision?.outcome).toBe('Approved');
  const entries = await scopeEntries(deps, groupScope(s.group));
  const votes = entries.filter((e) => e.action === 'review.vote');
  expect(votes.map((e) => [e.actor, (e.detail['signedIn'] as Record<string, unknown>)['subject'], (e.detail['signedIn'] as Record<string, unknown>)['issuer']])).toEqual([
    [RISK, localSubject(RISK), provider.issuer],
    [LEAD, localSubject(LEAD), provider.issuer],
  ]);
  const authTime = (votes[0]?.detail['signedIn'] as Record<string, unknown>)['authTime'];
  expect(Math.abs(Date.parse(String(authTime)) - Date.now())).toBeLessThan(60_000);
  // The registry's ApprovalDescription names each approver as the identity provider vouched for them.
  const [update] = sm.commandCalls(UpdateModelPackageCommand).map((c) => c.args[0].input);
  expect(update?.ModelApprovalStatus).toBe('Approved');
  expect(update?.ApprovalDescription).toContain(`approved by ${RISK} [signed in at ${provider.issuer} as ${localSubject(RISK)}, `);
  expect(update?.ApprovalDescription).toContain(`${LEAD} [signed in at ${provider.issuer} as ${localSubject(LEAD)}, `);
});

test('the wrong user is refused at the callback (403), audited with both identities, and gets no session', async () => {
  const { s, tokens } = await openSampleReview(deps, { sm, sns }, 'si4');
  const before = await scopeEntries(deps, groupScope(s.group));
  const { completed, cookies } = await signInAs(tokens[RISK] ?? '', INTRUDER);
  expect(completed.status).toBe(403);
  expect(cookies).toEqual([]);
  const added = (await scopeEntries(deps, groupScope(s.group))).slice(before.length);
  expect(added).toHaveLength(1);
  expect(added[0]).toMatchObject({ action: 'review.refused', actor: INTRUDER, detail: { kind: 'wrong-identity', reviewer: RISK, signedIn: { issuer: provider.issuer, subject: localSubject(INTRUDER), identity: INTRUDER } } });
  // Another reviewer's session does not vote on this link either.
  const lead = await signInAs(tokens[LEAD] ?? '', LEAD);
  expect((await vote(tokens[RISK] ?? '', 'approve', lead.cookies)).status).toBe(403);
});

test('a replayed callback, one without its attempt cookie and one with a forged state are refused (400)', async () => {
  const { tokens } = await openSampleReview(deps, { sm, sns }, 'si5');
  const token = tokens[RISK] ?? '';
  const { started, callbackUrl, completed } = await signInAs(token, RISK);
  expect(completed.status).toBe(303);
  // The same callback again, with the attempt cookie a browser would no longer have: the code was used.
  expect((await completeSignIn(deps, signInDeps, callbackUrl, jar(started))).status).toBe(400);
  // Without the attempt cookie (another browser): nothing to match.
  expect((await completeSignIn(deps, signInDeps, callbackUrl, [])).status).toBe(400);
  // A fresh attempt whose callback carries another state.
  const again = await startSignIn(deps, signInDeps, token);
  const { callbackUrl: fresh } = await signIn(again.location ?? '', RISK);
  const forged = new URL(fresh);
  forged.searchParams.set('state', 'x'.repeat(43));
  const refused = await completeSignIn(deps, signInDeps, forged.href, jar(again));
  expect(refused.status).toBe(400);
  expect(refused.cookies).toEqual([`${SIGN_IN_COOKIE}=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax`]);
});

test('a session older than the decision window must sign in again', async () => {
  const { tokens } = await openSampleReview(deps, { sm, sns }, 'si6');
  const token = tokens[RISK] ?? '';
  const { cookies } = await signInAs(token, RISK);
  clock.now = Date.now() + (DECISION_WINDOW_SECONDS + 5) * 1000;
  const page = await show(token, cookies);
  // The cookie's own expiry (the window) ends first; a browser would have dropped it.
  expect(page.status).toBe(200);
  expect(page.body).toContain('data-testid="sign-in-form"');
  expect((await vote(token, 'approve', cookies)).status).toBe(401);
});
