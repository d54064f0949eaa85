import { randomBytes } from 'node:crypto';
import { clients } from './aws/clients.js';
import { signingKeys } from './aws/signing-keys.js';
import { s3Reports } from './aws/s3.js';
import { sageMakerRegistry } from './aws/sagemaker.js';
import { sageMakerModelCards } from './aws/model-cards.js';
import { snsNotifier, snsSubscriptions } from './aws/sns.js';
import { config, requiredSetting } from './config.js';
import type { Deps } from './ports.js';
import { dynamoStore } from './store/dynamo-store.js';

/** 128 random bits, URL-safe: review ids and link ids. */
export const newId = (): string => randomBytes(16).toString('base64url');

let deps: Deps | undefined;

/** The production wiring, built once per cold start. Tests build their own `Deps`. */
export function productionDeps(): Deps {
  if (deps) return deps;
  const cfg = config();
  deps = {
    store: dynamoStore({ client: clients.dynamo(), table: cfg.TABLE_NAME }),
    keys: signingKeys({ stage: cfg.STAGE, ...(cfg.REVIEW_SIGNING_KEY_PARAMETER ? { parameterName: cfg.REVIEW_SIGNING_KEY_PARAMETER } : {}) }),
    registry: sageMakerRegistry(clients.sagemaker()),
    notifier: snsNotifier(clients.sns(), { reviewers: cfg.REVIEWERS_TOPIC_ARN, governance: cfg.GOVERNANCE_TOPIC_ARN }),
    subscriptions: snsSubscriptions(clients.sns(), cfg.REVIEWERS_TOPIC_ARN),
    modelCards: sageMakerModelCards(clients.sagemaker()),
    reports: s3Reports(clients.s3()),
    clock: { now: () => Date.now() },
    newId,
    reviewBaseUrl: cfg.REVIEW_BASE_URL,
    // Read when a page or message is made: only the functions that make them are given the
    // organisation (serverless.yml), so another one starts without it, and one that was left out
    // by mistake fails at its first page or message with the variable's name, sending nothing.
    organisation: {
      get name() {
        return requiredSetting('ORGANISATION_NAME', cfg);
      },
      get contact() {
        return requiredSetting('ORGANISATION_CONTACT', cfg);
      },
    },
  };
  return deps;
}
