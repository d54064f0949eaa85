import { lambdaHandler } from '#shared/handler.js';
import { reconcile } from '#shared/usecases/reconcile.js';
import { wire } from '#shared/wire/deps.js';
import { keysPort } from '#shared/wire/keys.js';
import { reportsPort } from '#shared/wire/reports.js';
import { registryPort } from '#shared/wire/sagemaker.js';
import { notifierPort } from '#shared/wire/sns.js';
import { storePort } from '#shared/wire/store.js';

/** Only the ports reconcile uses (store, registry, reports, notifier, keys): its bundle holds no other AWS client. */
const deps = wire('reconcile', { store: storePort, registry: registryPort, reports: reportsPort, notifier: notifierPort, keys: keysPort });

/**
 * Operator: `serverless invoke -f reconcile --data '{"modelPackageGroupName":"fraud-detector","dryRun":true}'`.
 * Also the daily EventBridge schedule, whose Scheduled Event reconciles every governed group.
 */
export const handler = lambdaHandler('reconcile', { subject: 'reconcile request' }, async (payload: unknown) => reconcile(deps, payload));
