/**
 * Issue 8, defect 10: with POWERTOOLS_LOGGER_LOG_EVENT=true, no handler logs its event, so no log
 * line carries a review token (the review route's path holds it) or its signature. The review
 * handler's 500 line keeps the error text (`errorMessage`; Powertools drops `message`), and a
 * shown page is logged with its review id.
 *
 * The real handlers, production wiring (stage local), DynamoDB Local; SageMaker, SNS and S3 mocked.
 * Powertools writes JSON lines to process.stdout and process.stderr (its own Console); the test captures both.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { DescribeTrainingJobCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { S3Client } from '@aws-sdk/client-s3';
import { jest } from '@jest/globals';
import { reviewRequest as request } from '../support/http.js';
import { newTable, type TestTable } from '../support/dynamo.js';

const sm = mockClient(SageMakerClient);
const sns = mockClient(SNSClient);
const s3 = mockClient(S3Client);
const RISK = 'risk-officer@acme-bank.example';
const LEAD = 'ml-lead@acme-bank.example';
const FUNCTIONS_DIR = join(process.cwd(), 'functions');
const FUNCTION_NAMES = readdirSync(FUNCTIONS_DIR).sort();

type Handler = (event: unknown, context: Context) => Promise<unknown>;
type Story = typeof import('../support/story.js');
let story: Story;
let table: TestTable;

const context = (name: string) =>
  ({
    functionName: `modelgate-test-${name}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:modelgate-test-${name}`,
    memoryLimitInMB: '512',
    awsRequestId: 'c0ffee00-0000-4000-8000-00000000000a',
    getRemainingTimeInMillis: () => 10_000,
  }) as unknown as Context;

const load = async (name: string) => ((await import(`../../functions/${name}/handler.js`)) as { handler: Handler }).handler;

/** The review route's event; a POST carries an urlencoded form. */
const reviewRequest = (method: 'GET' | 'POST', token: string, body?: string) =>
  request(method, token, body ? { body, headers: { 'content-type': 'application/x-www-form-urlencoded' } } : {});

/** Runs `fn` and returns what Powertools wrote meanwhile (stdout; WARN and ERROR go to stderr), one string per line. */
async function captured(fn: () => Promise<unknown>): Promise<string[]> {
  const chunks: string[] = [];
  const record = (chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  };
  const spies = [jest.spyOn(process.stdout, 'write').mockImplementation(record), jest.spyOn(process.stderr, 'write').mockImplementation(record)];
  try {
    await fn();
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  return chunks.join('').split('\n').filter((l) => l.trim() !== '');
}
const parsed = (lines: string[]) => lines.map((l) => JSON.parse(l) as Record<string, unknown>);

beforeAll(async () => {
  table = await newTable('handler-logs');
  Object.assign(process.env, {
    TABLE_NAME: table.tableName,
    REVIEWERS_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:modelgate-test-reviewers',
    GOVERNANCE_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:modelgate-test-governance',
    REVIEW_BASE_URL: 'https://modelgate.acme-bank.example',
    // Every page and message names the organisation (serverless.yml's stage local defaults).
    ORGANISATION_NAME: 'Acme Bank model risk',
    ORGANISATION_CONTACT: 'model-risk@acme-bank.example',
    STAGE: 'local',
    REVIEW_SIGNING_KEY_PARAMETER: '',
    POWERTOOLS_LOG_LEVEL: 'INFO',
    // What must never make a handler log its event.
    POWERTOOLS_LOGGER_LOG_EVENT: 'true',
  });
  // Every module that creates the logger is loaded only now, after the environment is set.
  story = await import('../support/story.js');
});
afterAll(() => table.drop());

describe('POWERTOOLS_LOGGER_LOG_EVENT=true logs no event and no token', () => {
  it('the gate and the review handler (GET, POST, and the 500 path) log no token, the 500 line keeps errorMessage, a GET names its review', async () => {
    const s = story.story('logs');
    story.resetMocks(sm, sns, s3);
    sm.on(DescribeTrainingJobCommand).resolves(s.describe('training-job-completed.json', { 'validation:auc': 0.912 }) as never);
    const { putPolicy } = await import('../../shared/usecases/policies.js');
    const training = await load('onTrainingJobStateChange');
    const gate = await load('onModelPackageStateChange');
    const review = await load('review');
    const { productionDeps } = await import('../../shared/wiring.js');
    await putPolicy(productionDeps(), s.policy());

    const lines: string[] = [];
    lines.push(...(await captured(() => training(s.raw('training-job-completed.json'), context('onTrainingJobStateChange')))));
    lines.push(...(await captured(() => gate(s.raw('model-package-pending.json'), context('onModelPackageStateChange')))));
    const tokens = story.reviewTokens(sns.commandCalls(PublishCommand).map((c) => c.args[0].input));
    const risk = tokens[RISK] ?? '';
    const lead = tokens[LEAD] ?? '';
    expect(risk).toMatch(/^v1\./);
    expect(lead).toMatch(/^v1\./);

    let shown: unknown;
    const getLines = await captured(async () => (shown = await review(reviewRequest('GET', risk), context('review'))));
    let voted: unknown;
    const postLines = await captured(async () => (voted = await review(reviewRequest('POST', risk, 'decision=approve'), context('review'))));
    // The 500 path: the table cannot be read.
    const store = productionDeps().store;
    const failing = jest.spyOn(store, 'loadReviewContext').mockRejectedValueOnce(new Error('DynamoDB is unreachable (test)'));
    let failed: unknown;
    const errorLines = await captured(async () => (failed = await review(reviewRequest('GET', lead), context('review'))));
    failing.mockRestore();
    lines.push(...getLines, ...postLines, ...errorLines);

    expect(shown).toMatchObject({ statusCode: 200 });
    expect(voted).toMatchObject({ statusCode: 200 });
    expect(failed).toMatchObject({ statusCode: 500 });
    expect(lines.length).toBeGreaterThan(4);
    const secrets = [risk, lead].flatMap((t) => [t, t.split('.')[3] ?? '', t.split('.')[2] ?? '']).filter((x) => x.length > 10);
    for (const line of lines) {
      for (const secret of secrets) expect(line).not.toContain(secret);
      expect(line).not.toContain('/reviews/v1.');
    }
    expect(parsed(lines).map((l) => l.message)).not.toContain('Lambda invocation event');

    const page = parsed(getLines).find((l) => l.message === 'review page shown');
    const version = await productionDeps().store.getVersion({ group: s.group, version: 1 });
    expect(page).toMatchObject({ level: 'INFO', reviewId: version?.review?.id, modelPackageArn: s.arn(1), function_name: 'modelgate-test-review' });
    const error = parsed(errorLines).find((l) => l.message === 'review request failed');
    expect(error).toMatchObject({ level: 'ERROR', error: 'Error', errorMessage: 'DynamoDB is unreachable (test)' });
    expect(parsed(errorLines).map((l) => l.message)).not.toContain('The key "message" is a reserved key and will be dropped.');
  });

  it.each(FUNCTION_NAMES)('%s, invoked, does not log its event', async (name) => {
    story.resetMocks(sm, sns, s3);
    const MARKER = `event-marker-${name}-7f3a9c`;
    const handler = await load(name);
    const event =
      name === 'review'
        ? reviewRequest('GET', `v1.local.${MARKER}.AAAA`)
        : { note: MARKER, detail: { note: MARKER }, source: 'modelgate.test', 'detail-type': MARKER };

    const lines = await captured(() => handler(event, context(name)).catch((e: unknown) => e));

    for (const line of lines) expect(line).not.toContain(MARKER);
    expect(parsed(lines).map((l) => l.message)).not.toContain('Lambda invocation event');
  });
});

/** The calls of `callee` (a plain identifier) in a TypeScript file. */
function callsOf(file: string, callee: string): ts.CallExpression[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const calls: ts.CallExpression[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === callee) calls.push(node);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return calls;
}

describe('every handler passes logEvent: false to injectLambdaContext (source guard)', () => {
  it('shared/handler.ts, the one handler factory, calls injectLambdaContext once, with logEvent: false', () => {
    const calls = callsOf(join(process.cwd(), 'shared', 'handler.ts'), 'injectLambdaContext');

    expect(calls).toHaveLength(1);
    const options = calls[0]?.arguments[1];
    expect(options && ts.isObjectLiteralExpression(options)).toBe(true);
    const logEvent = (options as ts.ObjectLiteralExpression).properties.find(
      (p): p is ts.PropertyAssignment => ts.isPropertyAssignment(p) && ts.isIdentifier(p.name) && p.name.text === 'logEvent',
    );
    expect(logEvent?.initializer.kind).toBe(ts.SyntaxKind.FalseKeyword);
  });

  it.each(FUNCTION_NAMES)('functions/%s/handler.ts is made by the factory (one lambdaHandler call, its own name) and sets up no logger middleware of its own', (name) => {
    const file = join(FUNCTIONS_DIR, name, 'handler.ts');
    const made = callsOf(file, 'lambdaHandler');

    expect(made).toHaveLength(1);
    const first = made[0]?.arguments[0];
    expect(first && ts.isStringLiteral(first) ? first.text : undefined).toBe(name);
    expect(callsOf(file, 'injectLambdaContext')).toHaveLength(0);
    expect(callsOf(file, 'middy')).toHaveLength(0);
  });
});
