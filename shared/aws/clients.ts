import { dynamoClient } from './clients/dynamo.js';
import { kmsClient } from './clients/kms.js';
import { s3Client } from './clients/s3.js';
import { sageMakerClient } from './clients/sagemaker.js';
import { snsClient } from './clients/sns.js';

export { documentClient } from './clients/dynamo.js';

/**
 * Every client, for tests and scripts. One client per AWS service per process, with the default
 * configuration, so that AWS_REGION and AWS_ENDPOINT_URL_<SERVICE> point them at local services
 * without a code path of their own; each is built on first use.
 *
 * No function imports this module: it imports every SDK client, and a function's bundle holds
 * only the clients it uses (each from shared/aws/clients/<service>.ts, through shared/wire/).
 */
export const clients = {
  dynamo: dynamoClient,
  sagemaker: sageMakerClient,
  sns: snsClient,
  s3: s3Client,
  kms: kmsClient,
};
