/**
 * jest globalSetup: one DynamoDB Local (in memory) for the whole test run.
 *
 * Runs in jest's parent process before any worker starts; workers inherit process.env, so the
 * endpoint set here reaches every test file (the SDK reads AWS_ENDPOINT_URL_DYNAMODB itself).
 * Each test file then makes its own table with `newTable()` from ./dynamo.ts.
 *
 * Gotcha: jest hands this file to ts-jest, which (type: module + NodeNext) emits ESM, and Node
 * then loads it natively: static relative imports bypass jest's resolver and `moduleNameMapper`,
 * so `import ... from '../../scripts/dynamodb-local.js'` cannot be found (there is only a .ts).
 * Hence only type imports here, and the library is loaded through tsx's `tsImport`.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DynamoDbLocalHandle } from '../../scripts/dynamodb-local.js';

type DynamoDbLocalModule = typeof import('../../scripts/dynamodb-local.js');

/** Where the handle lives between globalSetup and globalTeardown (same process). */
export type GlobalWithHandle = typeof globalThis & { __modelgateDynamoDbLocal?: DynamoDbLocalHandle };

export default async function globalSetup(_globalConfig: unknown, projectConfig: { rootDir: string }): Promise<void> {
  const { tsImport } = await import('tsx/esm/api');
  const script = pathToFileURL(join(projectConfig.rootDir, 'scripts', 'dynamodb-local.ts')).href;
  const { assertJava, startDynamoDbLocal } = (await tsImport(script, script)) as DynamoDbLocalModule;

  assertJava(); // `npm test` without Java 17+ stops here, with install instructions
  const started = Date.now();
  const handle = await startDynamoDbLocal({});
  (globalThis as GlobalWithHandle).__modelgateDynamoDbLocal = handle;

  process.env['AWS_ENDPOINT_URL_DYNAMODB'] = handle.endpoint;
  process.env['MODELGATE_DYNAMODB_LOCAL_STARTUP_MS'] = String(Date.now() - started);
  process.env['AWS_REGION'] ??= 'us-east-1';
  if (!process.env['AWS_ACCESS_KEY_ID'] || !process.env['AWS_SECRET_ACCESS_KEY']) {
    // DynamoDB Local runs with -sharedDb, so the values do not matter; they only have to exist
    // so that the SDK's credential chain never reaches for a real profile.
    process.env['AWS_ACCESS_KEY_ID'] = 'test';
    process.env['AWS_SECRET_ACCESS_KEY'] = 'test';
    delete process.env['AWS_SESSION_TOKEN'];
  }
}
