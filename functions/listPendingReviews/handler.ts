import { lambdaHandler } from '#shared/handler.js';
import { listPendingReviews } from '#shared/usecases/pending.js';
import { wire } from '#shared/wire/deps.js';
import { storePort } from '#shared/wire/store.js';

/** Only the ports listPendingReviews uses (store): its bundle holds no other AWS client. */
const deps = wire('listPendingReviews', { store: storePort });

/** Operator: `serverless invoke -f listPendingReviews --data '{"limit":25}'`. */
export const handler = lambdaHandler('listPendingReviews', { subject: 'listPendingReviews request' }, async (payload: unknown) => listPendingReviews(deps, payload));
