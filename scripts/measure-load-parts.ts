/**
 * What each part of a bundle adds to a function's module load (the cold-start bench's question,
 * taken apart): `npx tsx scripts/measure-load-parts.ts`. It builds, with the bundles' own esbuild
 * options and plugins (minified, ESM, node22, zod with English only), a baseline that constructs
 * the DynamoDB document client (getPolicy's only client), the same plus one part each (zod, zod/mini,
 * the Powertools Tracer, the X-Ray SDK alone, the Powertools logger + metrics + middy, modelgate's
 * event and policy schemas), and getPolicy's real handler; then times `node` importing each, in a
 * process of its own with AWS_EXECUTION_ENV set (the tracer on, as on AWS), MODELGATE_BENCH_RUNS
 * times each (default 9), interleaved, and prints the medians and their ratio to the baseline.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { REPO_ROOT } from './dynamodb-local.js';

const RUNS = Number(process.env.MODELGATE_BENCH_RUNS ?? 9);
const exported = createRequire(import.meta.url)(join(REPO_ROOT, 'build', 'esbuild-plugins.cjs')) as unknown;
const plugins = (Array.isArray(exported) ? exported : Object.values(exported as Record<string, unknown>)).filter(
  (p): p is Plugin => typeof p === 'object' && p !== null && 'setup' in p,
);

const base = `import { DynamoDBClient } from '@aws-sdk/client-dynamodb'; import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'; globalThis.c = DynamoDBDocumentClient.from(new DynamoDBClient({}));`;
const parts: Record<string, string> = {
  'baseline (DynamoDB document client)': base,
  '+ zod': `${base} import { z } from 'zod'; globalThis.s = z.object({ a: z.string() });`,
  '+ zod/mini': `${base} import * as z from 'zod/mini'; globalThis.s = z.object({ a: z.string() });`,
  '+ Powertools Tracer': `${base} import { Tracer } from '@aws-lambda-powertools/tracer'; globalThis.t = new Tracer();`,
  '+ aws-xray-sdk-core alone': `${base} import AWSXRay from 'aws-xray-sdk-core'; globalThis.x = AWSXRay;`,
  '+ Powertools logger, metrics, middy': `${base} import { Logger } from '@aws-lambda-powertools/logger'; import { Metrics } from '@aws-lambda-powertools/metrics'; import middy from '@middy/core'; globalThis.l = new Logger(); globalThis.m = new Metrics({ namespace: 'x' }); globalThis.h = middy();`,
  "+ modelgate's event and policy schemas": `${base} import * as e from '${REPO_ROOT}/shared/schemas/events.ts'; import * as p from '${REPO_ROOT}/shared/domain/policy.ts'; globalThis.e = e; globalThis.p = p;`,
  'getPolicy handler': `import { handler } from '${REPO_ROOT}/functions/getPolicy/handler.ts'; globalThis.h = handler;`,
};

const dir = mkdtempSync(join(tmpdir(), 'modelgate-load-parts-'));
try {
  const files = await Promise.all(
    Object.values(parts).map(async (source, i) => {
      const entry = join(dir, `part${i}.ts`);
      writeFileSync(entry, source);
      const outfile = join(dir, `part${i}.mjs`);
      await build({
        entryPoints: [entry], outfile, bundle: true, minify: true, keepNames: true, platform: 'node', format: 'esm', target: 'node22',
        mainFields: ['module', 'main'], plugins, logLevel: 'error', absWorkingDir: REPO_ROOT, nodePaths: [join(REPO_ROOT, 'node_modules')],
        banner: { js: "import { createRequire as __modelgateCreateRequire } from 'node:module'; const require = __modelgateCreateRequire(import.meta.url);" },
      });
      return outfile;
    }),
  );
  const env = { ...process.env, AWS_REGION: 'us-east-1', AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x', TABLE_NAME: 't', REVIEWERS_TOPIC_ARN: 'x', GOVERNANCE_TOPIC_ARN: 'x', REVIEW_BASE_URL: 'https://reviews.example.com', NODE_OPTIONS: '' };
  const times: number[][] = files.map(() => []);
  for (let run = 0; run < RUNS; run++) {
    files.forEach((file, i) => {
      const out = spawnSync(process.execPath, ['--input-type=module', '-e', `const t = process.hrtime.bigint(); await import(${JSON.stringify(file)}); console.log(Number(process.hrtime.bigint() - t) / 1e6)`], { env, encoding: 'utf8' });
      if (out.status !== 0) throw new Error(`${Object.keys(parts)[i]}: ${out.stderr.slice(0, 400)}`);
      times[i]?.push(Number(out.stdout.trim()));
    });
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
  const baseline = median(times[0] ?? []);
  Object.keys(parts).forEach((name, i) => {
    const m = median(times[i] ?? []);
    console.log(`${name.padEnd(40)} ${m.toFixed(1).padStart(7)} ms  ${(m / baseline).toFixed(2)}x`);
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
