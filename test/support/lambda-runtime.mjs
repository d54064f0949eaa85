/**
 * A stand-in for AWS Lambda's Node.js runtime, for one function unpacked from its deployment zip:
 * plain `node` (no jest, no tsx, no loader hooks), started by test/support/lambda-bundles.ts with
 * the function's environment, an IPC channel, and the zip's contents as the working directory.
 *
 * Init (the cold start), as the runtime does it: `_HANDLER` (`functions/x/handler.handler`) names
 * the module and its export, resolved under `LAMBDA_TASK_ROOT` in the runtime's order: the bare
 * name, then `.js` (loaded with require() when no package.json says "type": "module"), then `.mjs`
 * (import()), then `.cjs`. The parent learns which file was loaded, so a stray `handler.js` in a
 * zip (which Lambda would load first, as CommonJS) shows.
 *
 * Then one invocation per message `{ id, event }`, one at a time, answered `{ id, ok, result }` or
 * `{ id, ok: false, error: { name, message, problems } }`: what `serverless invoke` shows.
 * Disconnecting the channel ends the process.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import process from 'node:process';
import { pathToFileURL } from 'node:url';

const send = (message) => new Promise((resolve) => process.send(message, undefined, undefined, () => resolve()));

const errorOf = (e) => ({
  name: e instanceof Error ? e.name : typeof e,
  message: e instanceof Error ? e.message : String(e),
  ...(e && Array.isArray(e.problems) ? { problems: e.problems } : {}),
});

async function loadHandler() {
  const spec = process.env._HANDLER ?? '';
  const dot = spec.lastIndexOf('.');
  const base = join(process.env.LAMBDA_TASK_ROOT ?? process.cwd(), spec.slice(0, dot));
  const exportName = spec.slice(dot + 1);
  const require = createRequire(join(process.env.LAMBDA_TASK_ROOT ?? process.cwd(), 'index.js'));
  const hasTypeModule = (() => {
    try {
      return require(join(process.env.LAMBDA_TASK_ROOT ?? process.cwd(), 'package.json')).type === 'module';
    } catch {
      return false;
    }
  })();
  const candidates = [
    [base, () => require(base)],
    [`${base}.js`, () => (hasTypeModule ? import(pathToFileURL(`${base}.js`).href) : require(`${base}.js`))],
    [`${base}.mjs`, () => import(pathToFileURL(`${base}.mjs`).href)],
    [`${base}.cjs`, () => require(`${base}.cjs`)],
  ];
  for (const [file, load] of candidates) {
    if (!existsSync(file)) continue;
    const mod = await load();
    return { file, handler: mod[exportName] };
  }
  throw new Error(`no module for handler ${spec} under ${process.env.LAMBDA_TASK_ROOT}`);
}

function context() {
  const fn = process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'function';
  const deadline = Date.now() + Number(process.env.MODELGATE_TIMEOUT_MS ?? 30_000);
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: fn,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION ?? '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION}:123456789012:function:${fn}`,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${fn}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

let loaded;
try {
  loaded = await loadHandler();
  if (typeof loaded.handler !== 'function') throw new Error(`${loaded.file} does not export a function named as in ${process.env._HANDLER}`);
  await send({ ready: true, file: loaded.file });
} catch (e) {
  await send({ ready: false, file: loaded?.file, error: errorOf(e) });
  process.exit(1);
}

let queue = Promise.resolve();
process.on('message', (message) => {
  queue = queue.then(async () => {
    try {
      const result = await loaded.handler(message.event, context());
      await send({ id: message.id, ok: true, result: result ?? null });
    } catch (e) {
      await send({ id: message.id, ok: false, error: errorOf(e) });
    }
  });
});
process.on('disconnect', () => process.exit(0));
