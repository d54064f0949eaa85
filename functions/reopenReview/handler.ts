import { lambdaHandler } from '#shared/handler.js';
import { reopenReview } from '#shared/usecases/links.js';
import { wire } from '#shared/wire/deps.js';
import { keysPort } from '#shared/wire/keys.js';
import { notifierPort } from '#shared/wire/sns.js';
import { storePort } from '#shared/wire/store.js';

/** Only the ports reopenReview uses (store, notifier, keys): its bundle holds no other AWS client. */
const deps = wire('reopenReview', { store: storePort, notifier: notifierPort, keys: keysPort });

/** Operator: `serverless invoke -f reopenReview --path events/reopen-review.json`. */
export const handler = lambdaHandler('reopenReview', { subject: 'reopenReview request' }, async (payload: unknown) => reopenReview(deps, payload));
