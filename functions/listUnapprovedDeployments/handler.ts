import { lambdaHandler } from '#shared/handler.js';
import { listUnapprovedDeployments } from '#shared/usecases/deployments.js';
import { wire } from '#shared/wire/deps.js';
import { storePort } from '#shared/wire/store.js';

/** Only the ports listUnapprovedDeployments uses (store): its bundle holds no other AWS client. */
const deps = wire('listUnapprovedDeployments', { store: storePort });

/** Operator: `serverless invoke -f listUnapprovedDeployments --data '{"all":true}'`. */
export const handler = lambdaHandler('listUnapprovedDeployments', { subject: 'listUnapprovedDeployments request' }, async (payload: unknown) => listUnapprovedDeployments(deps, payload));
