/**
 * The operator CLI (cli/program.ts), in process: the Lambda client is aws-sdk-client-mock's (every
 * LambdaClient the CLI builds is mocked), and each test asserts the exact InvokeCommand the CLI
 * sent, its stdout, stderr and exit code. `--local` talks to a real HTTP server that speaks the
 * Lambda Invoke API, as serverless-offline does. Assertions read `mock.commandCalls(...)` (see
 * adapters.test.ts for why not aws-sdk-client-mock-jest).
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvokeCommand, LambdaClient, ResourceNotFoundException, type InvokeCommandInput, type LambdaClientConfig } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { COMMANDS, runCli } from '../../cli/program.js';

let lambda = mockClient(LambdaClient);
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzSECRETzz';
const ARN = 'arn:aws:sagemaker:us-east-1:000000000000:model-package/credit-default-demo/1';
const PROD = ['--stage', 'prod', '--region', 'eu-west-1'];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  configs: LambdaClientConfig[];
}

async function cli(argv: string[], env: NodeJS.ProcessEnv = { AWS_SECRET_ACCESS_KEY: SECRET }): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const configs: LambdaClientConfig[] = [];
  const code = await runCli(argv, {
    env,
    makeClient: (config) => {
      configs.push(structuredClone(config)); // as given: the SDK adds to the credentials object
      return new LambdaClient(config);
    },
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
  });
  return { code, stdout, stderr, configs };
}

const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const returns = (result: unknown) => lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: bytes(result) as never });

/** The one InvokeCommand sent, with its payload decoded. */
function invoked(): Omit<InvokeCommandInput, 'Payload'> & { Payload: unknown } {
  const calls = lambda.commandCalls(InvokeCommand);
  expect(calls).toHaveLength(1);
  const input = calls[0]?.args[0].input as InvokeCommandInput;
  return { ...input, Payload: JSON.parse(new TextDecoder().decode(input.Payload as Uint8Array)) as unknown };
}

beforeEach(() => lambda.reset());

describe('help', () => {
  it('`--help` lists every subcommand (one per operator function) and exits 0 without invoking anything', async () => {
    const run = await cli(['--help']);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^Usage: modelgate <command> \[flags\]/);
    const listed = [...run.stdout.matchAll(/^ {2}([a-z-]+) \[options\]/gm)].map((m) => m[1]);
    expect(listed).toEqual(COMMANDS.map((c) => c.name));
    expect(listed).toEqual([
      'get-lineage',
      'dataset-impact',
      'list-unapproved-deployments',
      'put-policy',
      'get-policy',
      'add-reviewer',
      'remove-reviewer',
      'list-pending-reviews',
      'sweep-reviews',
      'reconcile',
      'reissue-link',
      'reopen-review',
      'get-audit-trail',
      'verify-audit-trail',
      'checkpoint-audit-log',
      'export-audit-trail',
      'export-model-card',
    ]);
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(0);
  });

  it("a subcommand's `--help` names its function, its flags and the common ones, with an example", async () => {
    const run = await cli(['get-lineage', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage: modelgate get-lineage [options]');
    expect(run.stdout).toContain('Invokes the function getLineage (modelgate-<stage>-getLineage).');
    for (const flag of ['--arn <modelPackageArn>', '--group <name>', '--version <n>', '--stage <stage>', '--region <region>', '--local', '--output <format>', '--data <json>', '--path <file>'])
      expect(run.stdout).toContain(flag);
    expect(run.stdout).toContain('(default: "dev")');
    expect(run.stdout).toContain('npx modelgate get-lineage --group credit-default-demo --version 1 --stage prod --region eu-west-1');
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(0);
  });

  it('no command at all prints the help to stderr and exits 2', async () => {
    const run = await cli([]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('Usage: modelgate <command> [flags]');
  });
});

describe('invoking a function', () => {
  it('JSON output: invokes modelgate-<stage>-<function> in the region with the flags as the payload; stdout is the result as one JSON document', async () => {
    const result = { modelPackageArn: ARN, status: 'Rejected', endpoints: [{ endpoint: 'credit-default-1', variant: 'AllTraffic' }] };
    returns(result);
    const run = await cli(['get-lineage', '--group', 'credit-default-demo', '--version', '1', ...PROD]);
    expect(run.code).toBe(0);
    expect(invoked()).toEqual({ FunctionName: 'modelgate-prod-getLineage', InvocationType: 'RequestResponse', Payload: { modelPackageGroupName: 'credit-default-demo', version: 1 } });
    expect(run.configs).toEqual([{ region: 'eu-west-1' }]);
    expect(JSON.parse(run.stdout)).toEqual(result);
    expect(run.stdout).toBe(`${JSON.stringify(result, null, 2)}\n`);
    expect(run.stderr).toBe('');
  });

  it('the stage defaults to dev and the region to $AWS_REGION', async () => {
    returns({ policy: { version: 3 } });
    const run = await cli(['get-policy', '--group', 'credit-default-demo', '--version', 'all'], { AWS_REGION: 'ap-southeast-2' });
    expect(run.code).toBe(0);
    expect(invoked()).toEqual({ FunctionName: 'modelgate-dev-getPolicy', InvocationType: 'RequestResponse', Payload: { modelPackageGroupName: 'credit-default-demo', version: 'all' } });
    expect(run.configs).toEqual([{ region: 'ap-southeast-2' }]);
  });

  it('table output: the rows of a list-like result as an aligned text table, and the next page\'s cursor', async () => {
    returns({
      items: [
        { group: 'credit-default-demo', version: 3, openedAt: '2026-11-01T09:00:00.000Z', approvals: 0, requiredApprovals: 1, waitingFor: ['risk-officer@acme-bank.example', 'ml-lead@acme-bank.example'] },
        { group: 'fraud-detector', version: 12, stage: 'Production', openedAt: '2026-11-02T10:30:00.000Z', approvals: 1, requiredApprovals: 2, waitingFor: ['ml-lead@acme-bank.example'] },
      ],
      cursor: 'eyJuZXh0IjoxfQ',
    });
    const run = await cli(['list-pending-reviews', '--limit', '2', '--output', 'table', ...PROD]);
    expect(run.code).toBe(0);
    expect(invoked().Payload).toEqual({ limit: 2 });
    expect(run.stdout).toBe(
      [
        'group                version  openedAt                  approvals  requiredApprovals  waitingFor                                                 stage',
        '-------------------  -------  ------------------------  ---------  -----------------  ---------------------------------------------------------  ----------',
        'credit-default-demo  3        2026-11-01T09:00:00.000Z  0          1                  risk-officer@acme-bank.example, ml-lead@acme-bank.example',
        'fraud-detector       12       2026-11-02T10:30:00.000Z  1          2                  ml-lead@acme-bank.example                                  Production',
        'next page: --cursor eyJuZXh0IjoxfQ',
        '',
      ].join('\n'),
    );
  });

  it('table output of a result that is not a list: its fields, one a row; an empty list says (none)', async () => {
    returns({ verified: true, logSize: 42, window: { sequenced: 42 } });
    const fields = await cli(['verify-audit-trail', '--full', '--output', 'table', ...PROD]);
    expect(invoked().Payload).toEqual({ full: true });
    expect(fields.stdout).toBe(['field     value', '--------  ----------------', 'verified  true', 'logSize   42', 'window    {"sequenced":42}', ''].join('\n'));
    lambda.reset();
    returns({ deployments: [], requests: 1 });
    const empty = await cli(['list-unapproved-deployments', '--all', '--output', 'table', ...PROD]);
    expect(empty.code).toBe(0);
    expect(empty.stdout).toBe('(none)\n');
  });

  it.each<[string[], string, Record<string, unknown>]>([
    [['get-lineage', '--arn', ARN], 'getLineage', { modelPackageArn: ARN }],
    [
      ['dataset-impact', '--s3-uri', 's3://acme-ml-datasets-000000000000/credit/', '--revoke', '--dry-run', '--reason', 'DPO-4471', '--changed-by', 'arn:aws:sts::000000000000:assumed-role/IncidentResponder/op'],
      'datasetImpact',
      { s3Uri: 's3://acme-ml-datasets-000000000000/credit/', revoke: true, dryRun: true, reason: 'DPO-4471', changedBy: 'arn:aws:sts::000000000000:assumed-role/IncidentResponder/op' },
    ],
    [['dataset-impact', '--s3-uri', 's3://b', '--limit', '10', '--cursor', 'abc'], 'datasetImpact', { s3Uri: 's3://b', limit: 10, cursor: 'abc' }],
    [['list-unapproved-deployments', '--all', '--limit', '100'], 'listUnapprovedDeployments', { all: true, limit: 100 }],
    [['get-policy', '--group', 'g', '--version', '2'], 'getPolicy', { modelPackageGroupName: 'g', version: 2 }],
    [
      ['add-reviewer', '--group', 'g', '--reviewer', 'model-risk@acme-bank.example', '--changed-by', 'me', '--reason', 'MRM-1'],
      'addReviewer',
      { modelPackageGroupName: 'g', reviewer: 'model-risk@acme-bank.example', changedBy: 'me', reason: 'MRM-1' },
    ],
    [
      ['remove-reviewer', '--group', 'g', '--reviewer', 'ml-lead@acme-bank.example', '--required-approvals', '1', '--changed-by', 'me'],
      'removeReviewer',
      { modelPackageGroupName: 'g', reviewer: 'ml-lead@acme-bank.example', requiredApprovals: 1, changedBy: 'me' },
    ],
    [['list-pending-reviews'], 'listPendingReviews', {}],
    [['sweep-reviews'], 'sweepReviews', {}],
    [['reconcile', '--group', 'g', '--dry-run'], 'reconcile', { modelPackageGroupName: 'g', dryRun: true }],
    [['reconcile'], 'reconcile', {}],
    [
      ['reissue-link', '--arn', ARN, '--reviewer', 'risk-officer@acme-bank.example', '--changed-by', 'me', '--reason', 'INC-4471'],
      'reissueLink',
      { modelPackageArn: ARN, reviewer: 'risk-officer@acme-bank.example', changedBy: 'me', reason: 'INC-4471' },
    ],
    [['reopen-review', '--arn', ARN, '--changed-by', 'me'], 'reopenReview', { modelPackageArn: ARN, changedBy: 'me' }],
    [
      ['get-audit-trail', '--group', 'g', '--from', '2026-11-01T00:00:00Z', '--to', '2026-12-01T00:00:00Z', '--limit', '500', '--proofs'],
      'getAuditTrail',
      { modelPackageGroupName: 'g', from: '2026-11-01T00:00:00Z', to: '2026-12-01T00:00:00Z', limit: 500, proofs: true },
    ],
    [['get-audit-trail', '--arn', ARN], 'getAuditTrail', { modelPackageArn: ARN }],
    [['get-audit-trail', '--scope', 'review-links', '--cursor', 'c'], 'getAuditTrail', { scope: 'review-links', cursor: 'c' }],
    [['verify-audit-trail'], 'verifyAuditTrail', {}],
    [['checkpoint-audit-log'], 'checkpointAuditLog', {}],
    [['export-audit-trail'], 'exportAuditTrail', {}],
    [['export-model-card', '--group', 'g', '--version', '4', '--format', 'markdown', '--push'], 'exportModelCard', { modelPackageGroupName: 'g', version: 4, format: 'markdown', pushToSageMaker: true }],
    [['get-lineage', '--data', '{"modelPackageArn":"x"}'], 'getLineage', { modelPackageArn: 'x' }],
    [['reconcile', '--data', '{"modelPackageGroupName":"a","dryRun":true}', '--group', 'b'], 'reconcile', { modelPackageGroupName: 'b', dryRun: true }],
  ])('%j invokes %s with exactly the payload the flags say', async (argv, fn, payload) => {
    returns({ ok: true });
    const run = await cli([...argv, ...PROD]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(invoked()).toEqual({ FunctionName: `modelgate-prod-${fn}`, InvocationType: 'RequestResponse', Payload: payload });
  });

  it('put-policy sends the policy file, with --changed-by and --reason over the file\'s; --path sends a sample as it is', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modelgate-cli-'));
    try {
      const policy = { modelPackageGroupName: 'g', rules: [{ metric: 'validation:auc', source: 'trainingJob', comparison: '>=', threshold: 0.85 }], reviewers: ['a@b.example'], requiredApprovals: 1, changedBy: 'file' };
      writeFileSync(join(dir, 'policy.json'), JSON.stringify(policy));
      returns({ outcome: 'created' });
      const run = await cli(['put-policy', '--file', join(dir, 'policy.json'), '--changed-by', 'me', '--reason', 'MRM-9', ...PROD]);
      expect(run.code).toBe(0);
      expect(invoked()).toEqual({ FunctionName: 'modelgate-prod-putPolicy', InvocationType: 'RequestResponse', Payload: { ...policy, changedBy: 'me', reason: 'MRM-9' } });
      lambda.reset();
      returns({ items: [] });
      const sample = await cli(['list-pending-reviews', '--path', join(dir, 'policy.json'), ...PROD]);
      expect(sample.code).toBe(0);
      expect(invoked().Payload).toEqual(policy);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a wrong command line: exit 2, a message naming the problem, nothing invoked', () => {
  it.each<[string, string[], RegExp]>([
    ['an unknown flag', ['get-lineage', '--arm', ARN], /error: unknown option '--arm'/],
    ['an unknown command', ['get-lineages', '--arn', ARN], /error: unknown command 'get-lineages'/],
    ['a missing required flag', ['reissue-link', '--arn', ARN], /error: missing --reviewer, --changed-by/],
    ['half a version reference', ['get-lineage', '--group', 'credit-default-demo'], /error: missing --version/],
    ['no version reference', ['get-lineage'], /error: missing --arn, or --group and --version/],
    ['both version references', ['get-lineage', '--arn', ARN, '--version', '1'], /error: give --arn, or --group and --version, not both/],
    ['two trail subjects', ['get-audit-trail', '--arn', ARN, '--group', 'g'], /error: give one of --arn, --group and --scope/],
    ['a bad number', ['list-pending-reviews', '--limit', 'ten'], /error: option '--limit <n>' argument 'ten' is invalid\. expected a whole number of at least 1\./],
    ['a bad choice', ['list-pending-reviews', '--output', 'yaml'], /error: option '--output <format>' argument 'yaml' is invalid\. Allowed choices are json, table\./],
    ['a missing value', ['get-policy', '--stage', 'prod', '--region', 'eu-west-1', '--group'], /error: option '--group <name>' argument missing/],
    ['--local with --stage', ['sweep-reviews', '--local', '--stage', 'prod'], /error: option '--local' cannot be used with option '--stage <stage>'/],
    ['--data that is not JSON', ['reconcile', '--data', '{group'], /error: --data: not JSON/],
    ['--data and --path', ['reconcile', '--data', '{}', '--path', 'events/reconcile.json'], /error: give --data or --path, not both/],
    ['a policy file that is not there', ['put-policy', '--file', 'no-such-policy.json'], /error: --file no-such-policy\.json: no such file/],
    ['a bad stage', ['sweep-reviews', '--stage', 'prod;rm', '--region', 'eu-west-1'], /error: --stage prod;rm: expected letters, digits and hyphens/],
  ])('%s', async (_what, argv, message) => {
    const run = await cli(argv.includes('--stage') ? argv : [...argv, ...PROD]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(message);
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(0);
  });

  it('no region: the message says how to give one', async () => {
    const run = await cli(['sweep-reviews', '--stage', 'prod'], {});
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('error: no region: give --region <region> or set AWS_REGION (or --local for the local stack)');
    expect(run.configs).toEqual([]);
  });
});

describe('a failed invocation: exit 1, the error on stderr, nothing on stdout', () => {
  it("a function error prints the function's error type and message, not its stack trace, nor any credential", async () => {
    const token = 'v1.eyJyZXZpZXdJZCI6IjAxSjkifQ.c2lnbmF0dXJl';
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: bytes({
        errorType: 'ReviewChangeRefused',
        errorMessage: 'risk-officer@acme-bank.example already voted on this review (already-voted)',
        trace: [`ReviewChangeRefused: at reissue (token ${token})`],
      }) as never,
    });
    const run = await cli(['reissue-link', '--arn', ARN, '--reviewer', 'risk-officer@acme-bank.example', '--changed-by', 'me', ...PROD]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe('modelgate-prod-reissueLink failed: ReviewChangeRefused: risk-officer@acme-bank.example already voted on this review (already-voted)\n');
    expect(run.stderr).not.toContain(token);
    expect(run.stderr).not.toContain(SECRET);
  });

  it('Lambda refusing the call (no such function) says which function', async () => {
    lambda.on(InvokeCommand).rejects(new ResourceNotFoundException({ message: 'Function not found: arn:aws:lambda:eu-west-1:123456789012:function:modelgate-prod-sweepReviews', $metadata: {} }));
    const run = await cli(['sweep-reviews', ...PROD]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      'could not invoke modelgate-prod-sweepReviews: ResourceNotFoundException: Function not found: arn:aws:lambda:eu-west-1:123456789012:function:modelgate-prod-sweepReviews\n',
    );
  });
});

describe('--local', () => {
  /** A stand-in for serverless-offline's Lambda Invoke API: records each request, answers from `reply`. */
  async function localLambda(reply: (fn: string) => { status?: number; headers?: Record<string, string>; body: unknown }) {
    const requests: Array<{ method: string; url: string; invocationType: string | undefined; body: unknown }> = [];
    const server = createServer(async (req: IncomingMessage, res) => {
      let body = '';
      for await (const chunk of req) body += String(chunk);
      requests.push({ method: req.method ?? '', url: req.url ?? '', invocationType: req.headers['x-amz-invocation-type'] as string | undefined, body: JSON.parse(body) as unknown });
      const fn = /functions\/([^/]+)\/invocations/.exec(req.url ?? '')?.[1] ?? '';
      const r = reply(fn);
      res.writeHead(r.status ?? 200, { 'content-type': 'application/json', ...r.headers }).end(JSON.stringify(r.body));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return { port: (server.address() as AddressInfo).port, requests, close: () => new Promise((r) => server.close(r)) };
  }

  it("invokes modelgate-local-<function> at the local stack's Lambda endpoint ($MODELGATE_LAMBDA_PORT), with no AWS region or credentials needed", async () => {
    lambda.restore(); // the real client, over HTTP
    const stack = await localLambda(() => ({ body: { items: [{ logIndex: 0, action: 'policy.created' }] } }));
    try {
      const run = await cli(['get-audit-trail', '--group', 'credit-default-demo', '--local'], { MODELGATE_LAMBDA_PORT: String(stack.port) });
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.configs).toEqual([{ endpoint: `http://127.0.0.1:${stack.port}`, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }]);
      expect(stack.requests).toEqual([
        { method: 'POST', url: '/2015-03-31/functions/modelgate-local-getAuditTrail/invocations', invocationType: 'RequestResponse', body: { modelPackageGroupName: 'credit-default-demo' } },
      ]);
      expect(JSON.parse(run.stdout)).toEqual({ items: [{ logIndex: 0, action: 'policy.created' }] });
    } finally {
      await stack.close();
      lambda = mockClient(LambdaClient);
    }
  });

  it('the local default port is 3002; a function error from the local stack is exit 1 with its message', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, FunctionError: 'Unhandled', Payload: bytes({ errorType: 'Error', errorMessage: 'invalid getLineage request: give modelPackageArn, or modelPackageGroupName and version' }) as never });
    const run = await cli(['get-lineage', '--data', '{}', '--local'], {});
    expect(run.code).toBe(1);
    expect(run.configs[0]?.endpoint).toBe('http://127.0.0.1:3002');
    expect(invoked()).toEqual({ FunctionName: 'modelgate-local-getLineage', InvocationType: 'RequestResponse', Payload: {} });
    expect(run.stderr).toBe('modelgate-local-getLineage failed: Error: invalid getLineage request: give modelPackageArn, or modelPackageGroupName and version\n');
  });
});
