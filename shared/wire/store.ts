import { dynamoClient } from '../aws/clients/dynamo.js';
import { config } from '../config.js';
import type { GovernanceStore } from '../ports.js';
import { dynamoStore } from '../store/dynamo-store.js';

let store: GovernanceStore | undefined;

/** The governance table (DynamoDB): one store per process, shared by every Deps built in it. */
export const storePort = (): GovernanceStore => (store ??= dynamoStore({ client: dynamoClient(), table: config().TABLE_NAME }));
