import { lambdaHandler } from '#shared/handler.js';
import { putPolicy } from '#shared/usecases/policies.js';
import { wire } from '#shared/wire/deps.js';
import { notifierPort } from '#shared/wire/sns.js';
import { storePort } from '#shared/wire/store.js';

/** Only the ports putPolicy uses (store, notifier): its bundle holds no other AWS client. */
const deps = wire('putPolicy', { store: storePort, notifier: notifierPort });

/** Operator: `serverless invoke -f putPolicy --path events/policy-fraud-detector.json`. */
export const handler = lambdaHandler('putPolicy', { subject: 'policy' }, async (payload: unknown) => putPolicy(deps, payload));
