import type { Deps } from './ports.js';
import { wire } from './wire/deps.js';
import { keysPort } from './wire/keys.js';
import { reportsPort } from './wire/reports.js';
import { modelCardsPort, registryPort } from './wire/sagemaker.js';
import { notifierPort, subscriptionsPort } from './wire/sns.js';
import { storePort } from './wire/store.js';

export { newId } from './wire/deps.js';

let deps: Deps | undefined;

/**
 * Every port, for tests and scripts (no function imports this module: each handler wires only the
 * ports its use case needs, see shared/wire/deps.ts). The ports are the same objects the handlers
 * get in this process (one store, one registry, ... per process), so a test that spies on
 * `productionDeps().store` sees the handlers' calls.
 */
export function productionDeps(): Deps {
  return (deps ??= wire('productionDeps', {
    store: storePort,
    keys: keysPort,
    registry: registryPort,
    notifier: notifierPort,
    subscriptions: subscriptionsPort,
    modelCards: modelCardsPort,
    reports: reportsPort,
  }));
}
