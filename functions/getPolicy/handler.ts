import { lambdaHandler } from '#shared/handler.js';
import { getPolicy } from '#shared/usecases/policies.js';
import { wire } from '#shared/wire/deps.js';
import { storePort } from '#shared/wire/store.js';

/** Only the ports getPolicy uses (store): its bundle holds no other AWS client. */
const deps = wire('getPolicy', { store: storePort });

/** Operator: `serverless invoke -f getPolicy --data '{"modelPackageGroupName":"fraud-detector"}'`. */
export const handler = lambdaHandler('getPolicy', { subject: 'getPolicy request' }, async (payload: unknown) => getPolicy(deps, payload));
