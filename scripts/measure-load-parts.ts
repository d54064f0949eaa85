/**
 * What each part of a bundle adds to a function's module load (the cold-start bench's question,
 * taken apart): `npx tsx scripts/measure-load-parts.ts`. It builds, with the bundles' own esbuild
 * options (minified, ESM, node22, keepNames), a baseline that constructs the DynamoDB document
 * client captured by the Powertools Tracer (getPolicy's only client, built as
 * shared/aws/clients/dynamo.ts builds it: the cold-start bench's baseline), the same plus one part
 * each (classic zod, modelgate's zod/mini, the Powertools logger, metrics and parser middleware
 * with middy, the handler factory, the DynamoDB store, every SageMaker event schema), and
 * getPolicy's real handler; then times `node` importing each, in a process of its own with
 * AWS_EXECUTION_ENV set (the tracer on, as on AWS), MODELGATE_BENCH_RUNS times each (default 15),
 * interleaved, and prints the medians and their ratio to the baseline.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { REPO_ROOT } from './dynamodb-local.js';

const RUNS = Number(process.env.MODELGATE_BENCH_RUNS ?? 15);
const base = `import { DynamoDBClient } from '@aws-sdk/client-dynamodb'; import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'; import { Tracer } from '@aws-lambda-powertools/tracer'; const tracer = new Tracer({ serviceName: 'modelgate' }); globalThis.c = DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient({})), { marshallOptions: { removeUndefinedValues: true } });`;
const parts: Record<string, string> = {
  'baseline (traced DynamoDB document client)': base,
  '+ classic zod': `${base} import { z } from 'zod'; globalThis.s = z.object({ a: z.string() });`,
  "+ zod/mini (shared/schemas/zod.ts)": `${base} import * as z from '${REPO_ROOT}/shared/schemas/zod.ts'; globalThis.s = z.object({ a: z.string() });`,
  '+ Powertools logger, metrics, parser, middy': `${base} import { Logger } from '@aws-lambda-powertools/logger'; import { Metrics } from '@aws-lambda-powertools/metrics'; import { parser } from '@aws-lambda-powertools/parser/middleware'; import middy from '@middy/core'; globalThis.l = new Logger(); globalThis.m = new Metrics({ namespace: 'x' }); globalThis.p = parser; globalThis.h = middy();`,
  '+ the handler factory (shared/handler.ts)': `${base} import * as h from '${REPO_ROOT}/shared/handler.ts'; globalThis.h = h;`,
  '+ the DynamoDB store': `${base} import * as s from '${REPO_ROOT}/shared/store/dynamo-store.ts'; globalThis.s = s;`,
  '+ every SageMaker event schema': `${base} import * as e from '${REPO_ROOT}/shared/schemas/events.ts'; globalThis.e = e;`,
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
        mainFields: ['module', 'main'], logLevel: 'error', absWorkingDir: REPO_ROOT, nodePaths: [join(REPO_ROOT, 'node_modules')],
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
    console.log(`${name.padEnd(46)} ${m.toFixed(1).padStart(7)} ms  ${(m / baseline).toFixed(2)}x`);
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
