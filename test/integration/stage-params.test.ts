/**
 * Stage prod without MODELGATE_REVIEW_BASE_URL (issue 12, item 6): commands that only read or
 * invoke resolve serverless.yml without it, while packaging (and deploying, which packages first)
 * fails at once, naming it (local/plugins/deploy-settings-guard.cjs). The real osls runs offline:
 * `print` resolves every variable without calling AWS, and the guard stops `package` before
 * anything is bundled. `deploy` is never run here; its hooks are checked on the plugin itself.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const REPO = join(import.meta.dirname, '..', '..');
// The organisation: stage prod has none by default (README "Deploying"); the tests that are not
// about it pass one.
const ORGANISATION = ['--param=organisationName=Acme Bank model risk', '--param=organisationContact=model-risk@acme-bank.example'];

function sls(args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; output: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(join(REPO, 'node_modules', '.bin', 'serverless'), args, { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let output = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      output += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, output, ms: Date.now() - started });
    });
  });
}

/** The environment of an operator who has not set MODELGATE_REVIEW_BASE_URL (and no AWS credentials are needed). */
function withoutReviewBaseUrl(): NodeJS.ProcessEnv {
  const { MODELGATE_REVIEW_BASE_URL: _unset, ...rest } = process.env;
  return { ...rest, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off', NODE_OPTIONS: '' };
}

describe('stage prod without MODELGATE_REVIEW_BASE_URL', () => {
  it('`serverless print --stage prod` resolves the whole file (what invoke, info and logs resolve first) without it', async () => {
    const run = await sls(['print', '--stage', 'prod', '--region', 'eu-west-1', '--format', 'json', ...ORGANISATION], withoutReviewBaseUrl());

    expect(run.output).not.toContain('MODELGATE_REVIEW_BASE_URL');
    expect(run.code).toBe(0);
    const config = JSON.parse(run.stdout) as { provider: { stage: string; region: string; environment: Record<string, unknown> } };
    expect(config.provider).toMatchObject({ stage: 'prod', region: 'eu-west-1' });
    expect(config.provider.environment.REVIEW_BASE_URL).toBe('');
  }, 70_000);

  it('`serverless print --stage prod` with it carries the origin into every function', async () => {
    const run = await sls(['print', '--stage', 'prod', '--region', 'eu-west-1', '--format', 'json', ...ORGANISATION], { ...withoutReviewBaseUrl(), MODELGATE_REVIEW_BASE_URL: 'https://modelgate.acme-bank.example' });

    expect(run.code).toBe(0);
    expect((JSON.parse(run.stdout) as { provider: { environment: Record<string, unknown> } }).provider.environment.REVIEW_BASE_URL).toBe('https://modelgate.acme-bank.example');
  }, 70_000);

  it('`serverless package --stage prod` fails before bundling, naming MODELGATE_REVIEW_BASE_URL, and writes no package', async () => {
    const out = mkdtempSync(join(tmpdir(), 'modelgate-prod-package-'));
    try {
      const run = await sls(['package', '--stage', 'prod', '--region', 'eu-west-1', '--package', join(out, 'pkg'), ...ORGANISATION], withoutReviewBaseUrl());

      expect(run.code).not.toBe(0);
      expect(run.code).not.toBeNull(); // null: killed by the timeout
      expect(run.output).toContain('Stage prod has no review base URL: set MODELGATE_REVIEW_BASE_URL to the public origin of the review page');
      // osls prints its "Packaging modelgate for stage prod" banner first; nothing is bundled or written.
      expect(run.output).not.toMatch(/Compiling|esbuild/i);
      expect(existsSync(join(out, 'pkg'))).toBe(false);
      expect(run.ms).toBeLessThan(30_000);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 70_000);
});

describe('stage prod without an organisation', () => {
  it('`serverless print --stage prod` resolves without organisationName, organisationContact or MODELGATE_REVIEW_BASE_URL', async () => {
    const run = await sls(['print', '--stage', 'prod', '--region', 'eu-west-1', '--format', 'json'], withoutReviewBaseUrl());

    expect(run.code).toBe(0);
    const config = JSON.parse(run.stdout) as { functions: Record<string, { environment?: Record<string, unknown> }> };
    expect(config.functions.putPolicy?.environment?.ORGANISATION_NAME).toBe('');
  }, 70_000);

  it('`serverless package --stage prod` fails before bundling, naming both parameters and the functions that need them', async () => {
    const out = mkdtempSync(join(tmpdir(), 'modelgate-prod-package-'));
    try {
      const run = await sls(['package', '--stage', 'prod', '--region', 'eu-west-1', '--package', join(out, 'pkg')], { ...withoutReviewBaseUrl(), MODELGATE_REVIEW_BASE_URL: 'https://modelgate.acme-bank.example' });

      expect(run.code).not.toBe(0);
      expect(run.code).not.toBeNull();
      expect(run.output).toContain('Stage prod does not name the organisation that sends its pages and messages: set organisationName and organisationContact');
      expect(run.output).toContain('putPolicy (ORGANISATION_NAME)');
      expect(run.output).not.toMatch(/Compiling|esbuild/i);
      expect(existsSync(join(out, 'pkg'))).toBe(false);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 70_000);
});

describe('the guard plugin (local/plugins/deploy-settings-guard.cjs)', () => {
  type Hooks = Record<string, () => void>;
  const Guard = createRequire(import.meta.url)('../../local/plugins/deploy-settings-guard.cjs') as new (sls: unknown, options: unknown) => { hooks: Hooks };
  class FrameworkError extends Error {
    constructor(
      message: string,
      readonly code: string,
    ) {
      super(message);
    }
  }
  const guard = (reviewBaseUrl: unknown) =>
    new Guard({ service: { provider: { stage: 'prod', environment: { REVIEW_BASE_URL: reviewBaseUrl } } }, classes: { Error: FrameworkError } }, { stage: 'prod' }).hooks;

  it('hooks packaging, deploying a package and deploying one function, and nothing else', () => {
    expect(Object.keys(guard('')).sort()).toEqual(['before:deploy:deploy', 'before:deploy:function:initialize', 'before:package:initialize']);
  });

  it.each(['before:package:initialize', 'before:deploy:deploy', 'before:deploy:function:initialize'])('%s refuses an empty REVIEW_BASE_URL with the Framework error, naming the variable', (hook) => {
    let thrown: unknown;
    try {
      guard('  ')[hook]?.();
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(FrameworkError);
    expect(thrown).toMatchObject({ code: 'MODELGATE_REVIEW_BASE_URL_MISSING', message: expect.stringContaining('set MODELGATE_REVIEW_BASE_URL') });
  });

  it('refuses a function whose ORGANISATION_CONTACT resolved empty, naming it, and lets a named organisation through', () => {
    const withOrganisation = (contact: string) =>
      new Guard(
        {
          service: {
            provider: { stage: 'prod', environment: { REVIEW_BASE_URL: 'https://modelgate.acme-bank.example' } },
            functions: { review: { environment: { ORGANISATION_NAME: 'Acme Bank model risk', ORGANISATION_CONTACT: contact } }, getPolicy: {} },
          },
          classes: { Error: FrameworkError },
        },
        { stage: 'prod' },
      ).hooks;
    expect(() => withOrganisation('')['before:package:initialize']?.()).toThrow(
      expect.objectContaining({ code: 'MODELGATE_ORGANISATION_MISSING', message: expect.stringContaining('set organisationContact') }),
    );
    expect(() => withOrganisation('')['before:package:initialize']?.()).toThrow(/Needed by review \(ORGANISATION_CONTACT\)\.$/);
    expect(() => withOrganisation('model-risk@acme-bank.example')['before:package:initialize']?.()).not.toThrow();
  });

  it.each([
    ['an origin', 'https://modelgate.acme-bank.example'],
    ["the default stages' HTTP API endpoint (a CloudFormation reference)", { 'Fn::GetAtt': ['HttpApi', 'ApiEndpoint'] }],
  ])('lets %s through', (_what, value) => {
    const hooks = guard(value);
    for (const hook of Object.values(hooks)) expect(() => hook()).not.toThrow();
  });
});
