import { KMSClient } from '@aws-sdk/client-kms';
import { tracer } from '../../tracer.js';

let kms: KMSClient | undefined;

/** The KMS client: only the checkpoint signer uses it (and only off stage local). Built on first use, traced. */
export const kmsClient = (): KMSClient => (kms ??= tracer.captureAWSv3Client(new KMSClient({})));
