/**
 * The local stack end to end: `npm start` (local/stack.ts) as a child process, `npm run demo`
 * against it, the approval posted by this test on the review page after signing in as the link's
 * reviewer at the stack's local OpenID provider (stage local is `reviewAuth: oidc`); then the
 * demo deploys the approved version to an endpoint (CreateModel from the version) and revokes it
 * by its dataset. The end state is checked in the stand-in registry, the endpoint's record in the
 * table, the lineage, the SNS outbox (the governance notice that names the endpoint, sent by the
 * revocation and not by the deployment), listUnapprovedDeployments and the audit log (sequenced,
 * checkpointed, verified in the table and offline from its export). Then every command line of
 * the README's operator runbook runs against the same stack (each `npx modelgate …` line, with
 * `--local` for `--stage prod --region eu-west-1`), then Ctrl-C and nothing left behind. The tests
 * run in order and share the one stack (starting a second costs a minute).
 *
 * The browser's part is played with fetch: the review page's cookies are kept as a browser keeps
 * them (what each answer sets is sent with the next request), and the identity provider's login is
 * test/support/oidc-login.ts. So the cookies cross serverless-offline both ways, as on API Gateway.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { COMMANDS } from '../../cli/program.js';
import { freePort, portIsFree, REPO_ROOT } from '../../scripts/dynamodb-local.js';
import { documentClient } from '../../shared/aws/clients.js';
import { dynamoStore } from '../../shared/store/dynamo-store.js';
import type { LineageDocument } from '../../shared/usecases/lineage.js';
import type { UnapprovedDeploymentRow } from '../../shared/usecases/deployments.js';
import { invokeFunction } from '../../local/lambda.js';
import type { OutboxMessage } from '../../local/sns/outbox.js';
import { SESSION_COOKIE, SIGN_IN_COOKIE } from '../../shared/domain/sign-in.js';
import { OidcUserAgent } from '../support/oidc-login.js';

const TIMEOUT = 240_000;
let dir: string;
let env: NodeJS.ProcessEnv;
let ports: Record<string, number>;
let stack: ChildProcess | undefined;
let stackOut = '';

function run(script: string, extraEnv: NodeJS.ProcessEnv = {}): { child: ChildProcess; output: () => string } {
  const child = spawn(join(REPO_ROOT, 'node_modules', '.bin', 'tsx'), [script], {
    cwd: REPO_ROOT,
    env: { ...env, ...extraEnv, NODE_OPTIONS: '--no-warnings' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  return { child, output: () => out };
}

async function waitFor(what: string, probe: () => boolean, ms: number, output: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}. Output so far:\n${output().slice(-6000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The review page's cookies, as a browser keeps them: name → value; a cleared one is dropped. */
function keepCookies(jar: Map<string, string>, res: Response): void {
  for (const line of res.headers.getSetCookie()) {
    const pair = line.split(';')[0] ?? '';
    const eq = pair.indexOf('=');
    const [name, value] = [pair.slice(0, eq), pair.slice(eq + 1)];
    if (value === '' || /;\s*max-age=0\s*(;|$)/i.test(line)) jar.delete(name);
    else jar.set(name, value);
  }
}
const cookieHeader = (jar: Map<string, string>) => [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/** The README's runbook lines: every code span of its "Operator runbook" section that starts with `npx modelgate`. */
function runbookLines(): string[] {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const section = /^## Operator runbook\n([\s\S]*?)^## /m.exec(readme)?.[1] ?? '';
  const lines = [...section.matchAll(/`(npx modelgate\b[^`]*)`/g)].map((m) => m[1] ?? '');
  expect(lines.length).toBeGreaterThan(0);
  // Every line names the stage and the region, exactly so (the test rewrites them to --local).
  for (const line of lines) expect({ line, stageAndRegion: line.split(' --stage prod --region eu-west-1').length - 1 }).toEqual({ line, stageAndRegion: 1 });
  return lines;
}

/** A command line's words, as sh splits them (white space; '…' and "…" quote). */
function shellWords(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((m) => m[1] ?? m[2]?.replace(/\\(.)/g, '$1') ?? m[3] ?? '');
}

/**
 * Time travel for the runbook's `reopen-review` line: the open review of a version is made to have
 * expired an hour ago (its `expiresAt` in DynamoDB Local), so that the next sweep expires it.
 */
async function expireReview(group: string, version: number): Promise<void> {
  const db = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${ports.MODELGATE_DYNAMODB_PORT}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const doc = documentClient(db);
  try {
    const TableName = 'modelgate-local-governance';
    const found = await doc.send(
      new QueryCommand({
        TableName,
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :sk)',
        ExpressionAttributeValues: { ':pk': `GROUP#${group}`, ':sk': `REVIEW#${String(version).padStart(10, '0')}#` },
      }),
    );
    const open = (found.Items ?? []).filter((r) => r.status === 'Open');
    expect(open).toHaveLength(1);
    await doc.send(
      new UpdateCommand({
        TableName,
        Key: { PK: open[0]?.PK, SK: open[0]?.SK },
        UpdateExpression: 'SET expiresAt = :past',
        ExpressionAttributeValues: { ':past': new Date(Date.now() - 3_600_000).toISOString() },
      }),
    );
  } finally {
    db.destroy();
  }
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'modelgate-e2e-'));
  ports = {
    MODELGATE_DYNAMODB_PORT: await freePort(),
    MODELGATE_SAGEMAKER_PORT: await freePort(),
    MODELGATE_SNS_PORT: await freePort(),
    MODELGATE_S3_PORT: await freePort(),
    MODELGATE_HTTP_PORT: await freePort(),
    MODELGATE_LAMBDA_PORT: await freePort(),
    MODELGATE_OIDC_PORT: await freePort(),
  };
  env = { ...process.env, MODELGATE_LOCAL_DIR: dir, ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])) };
  delete env.AWS_ENDPOINT_URL_DYNAMODB; // the stack sets its own
  const started = run('local/stack.ts');
  stack = started.child;
  await waitFor('the stack to be ready', () => /ready in \d+\.\d s/.test(started.output()), 150_000, started.output);
  stackOut = started.output();
  // Keep collecting, for the assertions after Ctrl-C.
  stack.stdout?.on('data', (c: Buffer) => (stackOut += c.toString()));
}, TIMEOUT);

afterAll(async () => {
  if (stack && stack.exitCode === null) {
    stack.kill('SIGINT');
    await exited(stack);
  }
  rmSync(dir, { recursive: true, force: true });
});

it(
  'plays the demo: the weak version is rejected, the good one is approved on the review page, deployed to an endpoint and revoked by its dataset (the notice names the endpoint), lineage and audit verify; a third version is left waiting for its review',
  async () => {
    const readyMs = Number(/ready in (\d+\.\d) s/.exec(stackOut)?.[1]) * 1000;
    expect(readyMs).toBeGreaterThan(0);

    const demo = run('local/demo.ts', { MODELGATE_DEMO_TIMEOUT_MS: '90000' });
    // Each link follows the reviewer it was sent to, as the demo prints them.
    const linkPattern = new RegExp(`(\\S+@\\S+) +(http://127\\.0\\.0\\.1:${ports.MODELGATE_HTTP_PORT}/reviews/\\S+)`, 'g');
    await waitFor('the review links', () => [...demo.output().matchAll(linkPattern)].length >= 2, 120_000, demo.output);
    const [, reviewer = '', link = ''] = [...demo.output().matchAll(linkPattern)][0] ?? [];
    expect(demo.output()).toContain(`sign in at the local identity provider (http://127.0.0.1:${ports.MODELGATE_OIDC_PORT}) as the reviewer`);

    // A reviewer opens the page: the sign-in step, no evidence (nothing changes).
    const shown = await fetch(link);
    expect(shown.status).toBe(200);
    const signInStep = await shown.text();
    expect(signInStep).toContain('data-testid="sign-in-form"');
    expect(signInStep).not.toContain('data-testid="decision-form"');
    // The link alone cannot vote.
    const unsigned = await fetch(link, { method: 'POST', headers: FORM, body: 'decision=approve' });
    expect(unsigned.status).toBe(401);

    // Sign in: the page's form sends the browser to the local OpenID provider with an attempt cookie…
    const jar = new Map<string, string>();
    const started = await fetch(link, { method: 'POST', headers: FORM, body: 'intent=sign-in', redirect: 'manual' });
    expect(started.status).toBe(303);
    expect(started.headers.getSetCookie()).toEqual([expect.stringMatching(new RegExp(`^${SIGN_IN_COOKIE}=[^;]+; Max-Age=600; .*Secure; HttpOnly; SameSite=Lax; Path=/$`))]);
    keepCookies(jar, started);
    const authorize = new URL(started.headers.get('location') ?? '');
    expect(authorize.origin).toBe(`http://127.0.0.1:${ports.MODELGATE_OIDC_PORT}`);
    expect(authorize.searchParams.get('login_hint')).toBe(reviewer);
    // …the reviewer signs in there, and the callback (with the attempt cookie) sets the session.
    const { callbackUrl } = await new OidcUserAgent().signIn(authorize.href, reviewer);
    const back = await fetch(callbackUrl, { headers: { cookie: cookieHeader(jar) }, redirect: 'manual' });
    expect(back.status).toBe(303);
    expect(back.headers.get('location')).toBe(link);
    keepCookies(jar, back);
    expect([...jar.keys()]).toEqual([SESSION_COOKIE]);

    // Signed in: the evidence and the decision form, then the approval.
    const page = await fetch(link, { headers: { cookie: cookieHeader(jar) } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('data-testid="decision-form"');
    const post = await fetch(link, {
      method: 'POST',
      headers: { ...FORM, cookie: cookieHeader(jar) },
      body: 'decision=approve&comment=metrics+and+lineage+check+out',
    });
    expect(post.status).toBe(200);
    expect(await post.text()).toContain('Approved');

    expect(await exited(demo.child)).toBe(0);
    const out = demo.output();
    expect(out).toMatch(/→ Rejected: modelgate: rejected by policy v\d+: trainingJob:validation:auc >= 0\.85: actual 0\.801/);
    expect(out).toMatch(/→ Approved in the registry/);
    expect(out).toContain('dataset         train: s3://acme-ml-datasets-000000000000/credit/applications/2026-11-01/train/');
    const v1 = 'arn:aws:sagemaker:us-east-1:000000000000:model-package/credit-default-demo/1';
    // The deployment of the approved version: its endpoint recorded from the endpoint's event, and in the lineage.
    const endpoint = /6\. The approved version is deployed to endpoint (credit-default-\d{14})\n/.exec(out)?.[1] ?? '';
    expect(endpoint).not.toBe('');
    expect(out).toContain(`CreateEndpointConfig ${endpoint} (variant AllTraffic, 1 × ml.m5.large), CreateEndpoint → InService`);
    expect(out).toContain(`recorded        ${endpoint} (InService) variant AllTraffic serves ${v1}\n`);
    expect(out).toContain(`getLineage      endpoints: [{"endpoint":"${endpoint}","variant":"AllTraffic"}]\n`);
    // The revocation: the registry says Rejected, the notice names the endpoint, the follow-up list has it.
    expect(out).toContain(`datasetImpact → revoked ${v1}; it is served by ${endpoint}/AllTraffic\n`);
    expect(out).toMatch(/credit-default-demo\/1\n +→ Rejected: modelgate: approval revoked \(decision \S+\) by arn:aws:sts::000000000000:assumed-role\/IncidentResponder\/demo: derived from s3:\/\/acme-ml-datasets-000000000000\/credit\/applications\/2026-11-01\/train\/: /);
    expect(out).toContain(`governance notice (SNS modelgate-local-governance): "Unapproved deployment: ${endpoint}"\n`);
    expect(out).toContain(`- variant AllTraffic: ${v1}: revoked: its approval was revoked by arn:aws:sts::000000000000:assumed-role/IncidentResponder/demo`);
    expect(out).toContain(`listUnapprovedDeployments → 1 deployment to follow up:\n     ${endpoint}/AllTraffic: credit-default-demo v1, revoked (follow-up)\n`);
    // The audit log: the version's entries sequenced by the stream poller, a signed checkpoint, the
    // table verified against it, and the export verified offline with the public key alone.
    expect(out).toMatch(/audit log +[1-9]\d* entries about this version sequenced; checkpoint: [1-9]\d* entries, root [0-9a-f]{64}/);
    expect(out).toMatch(/verifyAuditTrail: verified, [1-9]\d* entries/);
    expect(out).toMatch(/npm run audit:verify -- \S+\n +→ verified: [1-9]\d* entries, [1-9]\d* checkpoints, root [0-9a-f]{64}/);
    expect(out).toContain(`9. A third version, trained on newer data, waits for its review (left open for the runbook)\n`);
    expect(out).toContain(`${v1.replace(/1$/, '3')}\n     → passed its policy; its review is open (until it expires, or someone decides): risk-officer@acme-bank.example, ml-lead@acme-bank.example\n`);

    // The stand-in registry's end state.
    const state = (await (await fetch(`http://127.0.0.1:${ports.MODELGATE_SAGEMAKER_PORT}/_local/state`)).json()) as {
      packages: Record<string, { approvalStatus: string }>;
    };
    const statuses = Object.fromEntries(Object.entries(state.packages).map(([arn, p]) => [arn.split('/').slice(-2).join('/'), p.approvalStatus]));
    // Version 1 was approved by its review, then revoked.
    // Version 3 waits for its review (left open for the runbook).
    expect(statuses).toEqual({ 'credit-default-demo/1': 'Rejected', 'credit-default-demo/2': 'Rejected', 'credit-default-demo/3': 'PendingManualApproval' });
    const hosting = state as unknown as {
      models: Record<string, { primaryContainer?: { ModelPackageName?: string } }>;
      endpoints: Record<string, { status: string; configName: string; variants: Array<{ variantName: string; modelName: string }> }>;
    };
    expect(hosting.models[endpoint]?.primaryContainer).toEqual({ ModelPackageName: v1 });
    expect(hosting.endpoints[endpoint]).toMatchObject({ status: 'InService', configName: endpoint, variants: [{ variantName: 'AllTraffic', modelName: endpoint }] });

    // modelgate's record of the endpoint (from its event, through DescribeEndpoint → config → model), in the table.
    const db = new DynamoDBClient({
      endpoint: `http://127.0.0.1:${ports.MODELGATE_DYNAMODB_PORT}`,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const store = dynamoStore({ client: documentClient(db), table: 'modelgate-local-governance' });
    const [record, version] = await Promise.all([store.getEndpoint(endpoint), store.getVersion({ group: 'credit-default-demo', version: 1 })]).finally(() => db.destroy());
    expect(record).toMatchObject({
      name: endpoint,
      arn: `arn:aws:sagemaker:us-east-1:000000000000:endpoint/${endpoint}`,
      status: 'InService',
      configName: endpoint,
      served: [{ variant: 'AllTraffic', model: endpoint, modelPackageArn: v1, group: 'credit-default-demo', version: 1 }],
    });
    expect(record?.deletedAt).toBeUndefined();
    // Every notice the record owed is sent (the deployment of an approved version owed none).
    expect(record?.pendingEffects).toEqual({});
    expect(version).toMatchObject({ status: 'Rejected', servedBy: [`${endpoint}/AllTraffic`], decision: { outcome: 'Rejected', revokedFor: 's3://acme-ml-datasets-000000000000/credit/applications/2026-11-01/train/' } });

    // The operators' functions, through the stack's Lambda endpoint.
    const lambdaUrl = `http://127.0.0.1:${ports.MODELGATE_LAMBDA_PORT}`;
    const lineage = await invokeFunction(lambdaUrl, 'modelgate-local-getLineage', { modelPackageArn: v1 });
    expect(lineage.ok).toBe(true);
    expect((lineage.result as LineageDocument).endpoints).toEqual([{ endpoint, variant: 'AllTraffic' }]);
    expect((lineage.result as LineageDocument).audit.entries.map((e) => e.action)).toEqual(expect.arrayContaining(['version.revoked', 'deployment.unapproved']));
    const listed = await invokeFunction(lambdaUrl, 'modelgate-local-listUnapprovedDeployments', {});
    expect(listed.ok).toBe(true);
    expect((listed.result as { deployments: UnapprovedDeploymentRow[] }).deployments).toEqual([
      expect.objectContaining({ endpoint, variant: 'AllTraffic', model: endpoint, modelPackageArn: v1, group: 'credit-default-demo', version: 1, reason: 'revoked', action: 'follow-up' }),
    ]);

    // The SNS outbox: one message per reviewer, the rejection notice, the revocation's notices.
    const outbox = readdirSync(join(dir, 'outbox'))
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => JSON.parse(readFileSync(join(dir, 'outbox', f), 'utf8')) as OutboxMessage);
    for (const v of [v1, v1.replace(/1$/, '3')]) {
      expect(outbox.filter((m) => m.attributes.event === 'review-requested' && m.message.includes(`Model package: ${v}\n`)).map((m) => m.attributes.reviewer).sort()).toEqual([
        'ml-lead@acme-bank.example',
        'risk-officer@acme-bank.example',
      ]);
    }
    expect(outbox.filter((m) => m.attributes.event === 'version-rejected')).toHaveLength(1);
    // The endpoint is named once: by the revocation (the deployment served an approved version).
    const revokedNotice = outbox.filter((m) => m.attributes.event === 'approval-revoked');
    expect(revokedNotice).toEqual([expect.objectContaining({ topic: 'modelgate-local-governance', subject: 'Approval revoked: credit-default-demo v1', attributes: expect.objectContaining({ deployed: 'true' }) })]);
    expect(revokedNotice[0]?.message).toContain(`${endpoint} (variant AllTraffic)`);
    const deploymentNotices = outbox.filter((m) => m.attributes.event === 'deployment-unapproved');
    expect(deploymentNotices).toEqual([
      expect.objectContaining({
        topic: 'modelgate-local-governance',
        subject: `Unapproved deployment: ${endpoint}`,
        attributes: { event: 'deployment-unapproved', endpoint, group: 'credit-default-demo' },
      }),
    ]);
    expect(deploymentNotices[0]?.message).toContain(`Endpoint ${endpoint} (arn:aws:sagemaker:us-east-1:000000000000:endpoint/${endpoint}) now serves a model version that modelgate has not approved:\n`);
    expect(deploymentNotices[0]?.message).toContain(`  - variant AllTraffic: ${v1}: revoked: `);
    // …sent after the revocation was decided, not when the endpoint was deployed.
    expect(Date.parse(deploymentNotices[0]?.at ?? '')).toBeGreaterThanOrEqual(Date.parse(version?.decision?.at ?? 'x'));
  },
  TIMEOUT,
);

it(
  "runs every line of the README's operator runbook against the stack after the demo (--local for --stage prod --region eu-west-1): each exits 0 with one JSON document on stdout",
  async () => {
    const lines = runbookLines();
    // One line per operator command, so a command left out of the runbook fails here.
    expect(new Set(lines.map((l) => l.split(' ')[2]))).toEqual(new Set(COMMANDS.map((c) => c.name)));
    // --local needs no AWS settings: none is passed on.
    const cliEnv: NodeJS.ProcessEnv = Object.fromEntries(Object.entries({ ...env, NODE_OPTIONS: '--no-warnings' }).filter(([k]) => !k.startsWith('AWS_')));
    for (const [i, line] of lines.entries()) {
      // The one state the demo does not leave: version 3's review expired (see the README).
      if (line.startsWith('npx modelgate sweep-reviews ')) await expireReview('credit-default-demo', 3);
      const argv = shellWords(line.replace(' --stage prod --region eu-west-1', ' --local'));
      // The first line through npx itself (the root package's own bin), the rest through that
      // bin directly: npx spends seconds setting up its cache entry on each call.
      const [command, args] = i === 0 ? ['npx', argv.slice(1)] : [process.execPath, [join(REPO_ROOT, 'bin', 'modelgate.js'), ...argv.slice(2)]];
      const res = spawnSync(command, args, { cwd: REPO_ROOT, env: cliEnv, encoding: 'utf8', timeout: 60_000 });
      // On a failure, the line and what it printed (stderr: the function's error).
      expect({ line, status: res.status, stderr: res.status === 0 ? '' : res.stderr }).toEqual({ line, status: 0, stderr: '' });
      let parsed: unknown;
      expect(() => (parsed = JSON.parse(res.stdout))).not.toThrow();
      expect(res.stdout).toBe(`${JSON.stringify(parsed, null, 2)}\n`);
    }
  },
  TIMEOUT,
);

it(
  'Ctrl-C leaves nothing: the stack exits, every port is free, no process uses the data folder',
  async () => {
    // Ctrl-C stops everything: the stack exits, every port is free, no process uses the data folder.
    stack?.kill('SIGINT');
    expect(await exited(stack as ChildProcess)).toBe(0);
    for (const port of Object.values(ports)) expect(await portIsFree(port)).toBe(true);
    const leftovers = spawnSync('pgrep', ['-f', dir], { encoding: 'utf8' }).stdout.trim();
    expect(leftovers).toBe('');
  },
  TIMEOUT,
);
