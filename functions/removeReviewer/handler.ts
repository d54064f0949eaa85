import { lambdaHandler } from '#shared/handler.js';
import { removeReviewer } from '#shared/usecases/reviewers.js';
import { wire } from '#shared/wire/deps.js';
import { notifierPort, subscriptionsPort } from '#shared/wire/sns.js';
import { storePort } from '#shared/wire/store.js';

/** Only the ports removeReviewer uses (store, subscriptions, notifier): its bundle holds no other AWS client. */
const deps = wire('removeReviewer', { store: storePort, subscriptions: subscriptionsPort, notifier: notifierPort });

/** Operator: `serverless invoke -f removeReviewer --path events/remove-reviewer.json`. */
export const handler = lambdaHandler('removeReviewer', { subject: 'removeReviewer request' }, async (payload: unknown) => removeReviewer(deps, payload));
