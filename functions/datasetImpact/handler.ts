import { lambdaHandler } from '#shared/handler.js';
import { datasetImpact } from '#shared/usecases/impact.js';
import { wire } from '#shared/wire/deps.js';
import { registryPort } from '#shared/wire/sagemaker.js';
import { notifierPort } from '#shared/wire/sns.js';
import { storePort } from '#shared/wire/store.js';

/** Only the ports datasetImpact uses (store, registry, notifier): its bundle holds no other AWS client. */
const deps = wire('datasetImpact', { store: storePort, registry: registryPort, notifier: notifierPort });

/** Operator: `serverless invoke -f datasetImpact --path events/dataset-impact.json`. */
export const handler = lambdaHandler('datasetImpact', { subject: 'datasetImpact request' }, async (payload: unknown) => datasetImpact(deps, payload));
