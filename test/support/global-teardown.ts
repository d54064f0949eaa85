/**
 * jest globalTeardown: stops the DynamoDB Local that global-setup.ts started (same process).
 * Type imports only: see the note in global-setup.ts.
 */
import type { GlobalWithHandle } from './global-setup.js';

export default async function globalTeardown(): Promise<void> {
  const g = globalThis as GlobalWithHandle;
  const handle = g.__modelgateDynamoDbLocal;
  delete g.__modelgateDynamoDbLocal;
  await handle?.stop();
}
