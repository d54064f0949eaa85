/**
 * Cold start, module load (issue 12 item 5): each function's deployable bundle against a bundle
 * that only builds the AWS SDK clients that function builds, and nothing else.
 *
 *   NODE_OPTIONS=--no-warnings tsx scripts/bench-coldstart.ts      (the last step of `npm run bench`)
 *
 * 1. `serverless package --stage dev` into a folder of its own (its own esbuild work folder, as the
 *    template test does), so what is measured is what `serverless deploy` would upload.
 * 2. For every function, the SDK clients its bundle holds: esbuild's metafile of the same entry
 *    with the same options (which `@aws-sdk/client-*` packages are among its inputs). Per-function
 *    wiring (shared/wire/) means these are the clients its wiring builds.
 * 3. A baseline per function, built here with esbuild and the options of serverless.yml
 *    custom.esbuild (bundle, ESM, node22, minify, keepNames, the same banner): an
 *    entry that imports and constructs exactly those clients, as shared/aws/clients/ builds them,
 *    and nothing else. That is: each client captured by the Powertools Tracer (item 2 of issue 12
 *    requires every SDK client to be traced, so the X-Ray SDK is part of building a client), and
 *    the DynamoDB one wrapped in the document client. The printed ratio is against this baseline.
 *    A second baseline constructs the same clients untraced (no Tracer, no X-Ray SDK); the ratio
 *    against it goes to stderr, so that what the tracing costs stays visible
 *    (MODELGATE_BENCH_UNTRACED_BASELINE=0 skips it).
 * 4. Module load: `node` imports the bundle and reports how long the import took (measured inside
 *    the process, so Node's own start-up is left out), then exits. The child gets the environment
 *    of a Lambda execution environment that matters at load (AWS_EXECUTION_ENV, so the tracer is
 *    on as it is on AWS; the function's own variables from the template). Runs alternate function
 *    and baseline, one process at a time (2 cores), MODELGATE_BENCH_RUNS each (default 15); the
 *    ratio is the median of the function's runs over the median of the baseline's.
 *
 * Prints one line per function:
 *   cold start <function>: <ratio>x its SDK-only baseline (<bundle KiB> KiB zipped)
 * Details (clients, medians in ms) go to stderr.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, type BuildOptions } from 'esbuild';
import { parse } from 'yaml';
import { REPO, lambdaFunctions, packageStage, unzipTo } from '../test/support/lambda-bundles.js';

const RUNS = Number(process.env.MODELGATE_BENCH_RUNS ?? 15);
// MODELGATE_BENCH_FUNCTIONS=getPolicy,review measures those functions alone.
const ONLY = process.env.MODELGATE_BENCH_FUNCTIONS?.split(',').filter(Boolean);
// The untraced baseline as well (stderr): MODELGATE_BENCH_UNTRACED_BASELINE=0 leaves it out.
const WITH_UNTRACED = process.env.MODELGATE_BENCH_UNTRACED_BASELINE !== '0';

/** The SDK clients a function may build, by package: how the baseline constructs each. */
const CLIENTS: Record<string, { imports: string; construct: string }> = {
  '@aws-sdk/client-dynamodb': {
    imports: "import { DynamoDBClient } from '@aws-sdk/client-dynamodb';\nimport { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';",
    construct: 'DynamoDBDocumentClient.from(capture(new DynamoDBClient({})), { marshallOptions: { removeUndefinedValues: true } })',
  },
  '@aws-sdk/client-sagemaker': { imports: "import { SageMakerClient } from '@aws-sdk/client-sagemaker';", construct: 'capture(new SageMakerClient({}))' },
  '@aws-sdk/client-sns': { imports: "import { SNSClient } from '@aws-sdk/client-sns';", construct: 'capture(new SNSClient({}))' },
  '@aws-sdk/client-s3': { imports: "import { S3Client } from '@aws-sdk/client-s3';", construct: 'capture(new S3Client({}))' },
  '@aws-sdk/client-ssm': { imports: "import { SSMClient } from '@aws-sdk/client-ssm';", construct: 'capture(new SSMClient({}))' },
  '@aws-sdk/client-kms': { imports: "import { KMSClient } from '@aws-sdk/client-kms';", construct: 'capture(new KMSClient({}))' },
};

/** serverless.yml custom.esbuild, as esbuild options (the deployable stage's values of its params). */
function esbuildOptions(): BuildOptions {
  const require = createRequire(import.meta.url);
  const yml = parse(require('node:fs').readFileSync(join(REPO, 'serverless.yml'), 'utf8')) as {
    custom: { esbuild: { target: string; platform: 'node'; format: 'esm'; mainFields: string[]; keepNames: boolean; banner: { js: string } } };
    params: { default: { minify: boolean } };
  };
  const e = yml.custom.esbuild;
  return {
    bundle: true,
    minify: yml.params.default.minify,
    keepNames: e.keepNames,
    target: e.target,
    platform: e.platform,
    format: e.format,
    mainFields: e.mainFields,
    banner: e.banner,
    absWorkingDir: REPO,
    logLevel: 'warning',
    // The bundles' one plugin (build/esbuild-plugins.cjs) moves source maps out of the zips; the
    // baselines, like the zips, carry none, so it is left out.
  };
}

/** The @aws-sdk/client-* packages among the inputs of a function's bundle. */
async function clientsOf(entry: string, options: BuildOptions): Promise<string[]> {
  const result = await build({ ...options, entryPoints: [entry], write: false, metafile: true, outdir: join(tmpdir(), 'modelgate-bench-meta') });
  const found = new Set<string>();
  for (const input of Object.keys(result.metafile.inputs)) {
    const m = /node_modules\/(@aws-sdk\/client-[a-z0-9-]+)\//.exec(input);
    if (m?.[1]) found.add(m[1]);
  }
  const unknown = [...found].filter((c) => !CLIENTS[c]);
  if (unknown.length) throw new Error(`${entry}: no baseline for ${unknown.join(', ')}`);
  return [...found].sort();
}

async function baseline(dir: string, clients: string[], withTracer: boolean, options: BuildOptions): Promise<string> {
  mkdirSync(dir, { recursive: true });
  // The entry lives in the repository (its imports resolve from node_modules), in a folder that
  // is removed at the end.
  const entry = join(dir, 'entry.mjs');
  const source = [
    ...clients.map((c) => CLIENTS[c]?.imports),
    withTracer ? "import { Tracer } from '@aws-lambda-powertools/tracer';\nconst tracer = new Tracer({ serviceName: 'modelgate' });\nconst capture = (c) => tracer.captureAWSv3Client(c);" : 'const capture = (c) => c;',
    `export const clients = [${clients.map((c) => CLIENTS[c]?.construct).join(', ')}];`,
  ].join('\n');
  writeFileSync(entry, `${source}\n`);
  const outfile = join(dir, 'handler.mjs');
  await build({ ...options, entryPoints: [entry], outfile });
  return outfile;
}

const LOAD = 'const t = process.hrtime.bigint(); await import(process.argv[1]); process.stdout.write(String(Number(process.hrtime.bigint() - t) / 1e6)); process.exit(0);';

function loadMs(file: string, env: Record<string, string>): number {
  const out = spawnSync(process.execPath, ['--input-type=module', '-e', LOAD, file], { env, encoding: 'utf8', timeout: 30_000 });
  const ms = Number(out.stdout);
  if (out.status !== 0 || !Number.isFinite(ms)) throw new Error(`loading ${file} failed (${out.status}): ${out.stderr}`);
  return ms;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
};

const started = Date.now();
const pkg = await packageStage('dev', 'bench-coldstart');
const work = mkdtempSync(join(tmpdir(), 'modelgate-bench-coldstart-'));
const baselines = join(REPO, '.esbuild', `bench-coldstart-baselines-${process.pid}`);
try {
  const options = esbuildOptions();
  const specs = lambdaFunctions(pkg.template).filter((spec) => !ONLY || ONLY.includes(spec.name));
  for (const spec of specs) {
    const zip = join(pkg.dir, `${spec.name}.zip`);
    const entries = unzipTo(zip, join(work, spec.name));
    const bundle = join(work, spec.name, `functions/${spec.name}/handler.mjs`);
    if (!entries.includes(`functions/${spec.name}/handler.mjs`)) throw new Error(`${zip} has no handler.mjs`);
    const clients = await clientsOf(join('functions', spec.name, 'handler.ts'), options);
    const sdk = await baseline(join(baselines, spec.name, 'sdk'), clients, true, options);
    const untraced = WITH_UNTRACED ? await baseline(join(baselines, spec.name, 'untraced'), clients, false, options) : undefined;
    // What a Lambda execution environment has at load: its variables (strings only; the template's
    // references are not resolved at load, so a placeholder stands in) and AWS_EXECUTION_ENV.
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      AWS_REGION: 'us-east-1',
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
      AWS_LAMBDA_FUNCTION_NAME: spec.functionName,
      ...Object.fromEntries(Object.entries(spec.variables).map(([k, v]) => [k, typeof v === 'string' ? v : 'resolved-by-cloudformation'])),
    };
    const fn: number[] = [];
    const base: number[] = [];
    const untracedRuns: number[] = [];
    loadMs(bundle, env); // a first load warms the file cache for both
    loadMs(sdk, env);
    for (let i = 0; i < RUNS; i++) {
      fn.push(loadMs(bundle, env));
      base.push(loadMs(sdk, env));
      if (untraced) untracedRuns.push(loadMs(untraced, env));
    }
    const ratio = median(fn) / median(base);
    const kib = Math.round(statSync(zip).size / 1024);
    console.log(`cold start ${spec.name}: ${ratio.toFixed(2)}x its SDK-only baseline (${kib} KiB zipped)`);
    console.error(
      `  ${spec.name}: clients ${clients.map((c) => c.replace('@aws-sdk/client-', '')).join(', ')}; median load ${median(fn).toFixed(1)} ms, baseline ${median(base).toFixed(1)} ms` +
        (untraced ? `; untraced baseline ${median(untracedRuns).toFixed(1)} ms (${(median(fn) / median(untracedRuns)).toFixed(2)}x)` : ''),
    );
  }
  console.error(`  (${RUNS} runs each, ${Math.round((Date.now() - started) / 1000)} s in all, packaging ${Math.round(pkg.ms / 1000)} s)`);
} finally {
  pkg.remove();
  rmSync(work, { recursive: true, force: true });
  rmSync(baselines, { recursive: true, force: true });
}
