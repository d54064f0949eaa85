import { lambdaHandler } from '#shared/handler.js';
import { addReviewer } from '#shared/usecases/reviewers.js';
import { wire } from '#shared/wire/deps.js';
import { keysPort } from '#shared/wire/keys.js';
import { notifierPort, subscriptionsPort } from '#shared/wire/sns.js';
import { storePort } from '#shared/wire/store.js';

/** Only the ports addReviewer uses (store, subscriptions, notifier, keys): its bundle holds no other AWS client. */
const deps = wire('addReviewer', { store: storePort, subscriptions: subscriptionsPort, notifier: notifierPort, keys: keysPort });

/** Operator: `serverless invoke -f addReviewer --path events/add-reviewer.json`. */
export const handler = lambdaHandler('addReviewer', { subject: 'addReviewer request' }, async (payload: unknown) => addReviewer(deps, payload));
