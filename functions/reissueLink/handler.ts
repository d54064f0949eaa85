import { lambdaHandler } from '#shared/handler.js';
import { reissueLink } from '#shared/usecases/links.js';
import { wire } from '#shared/wire/deps.js';
import { keysPort } from '#shared/wire/keys.js';
import { notifierPort } from '#shared/wire/sns.js';
import { storePort } from '#shared/wire/store.js';

/** Only the ports reissueLink uses (store, notifier, keys): its bundle holds no other AWS client. */
const deps = wire('reissueLink', { store: storePort, notifier: notifierPort, keys: keysPort });

/** Operator: `serverless invoke -f reissueLink --path events/reissue-link.json`. */
export const handler = lambdaHandler('reissueLink', { subject: 'reissueLink request' }, async (payload: unknown) => reissueLink(deps, payload));
