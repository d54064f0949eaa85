import { lambdaHandler } from '#shared/handler.js';
import { getLineage } from '#shared/usecases/lineage.js';
import { wire } from '#shared/wire/deps.js';
import { storePort } from '#shared/wire/store.js';

/** Only the ports getLineage uses (store): its bundle holds no other AWS client. */
const deps = wire('getLineage', { store: storePort });

/** Operator: `serverless invoke -f getLineage --path events/get-lineage.json`. */
export const handler = lambdaHandler('getLineage', { subject: 'getLineage request' }, async (payload: unknown) => getLineage(deps, payload));
