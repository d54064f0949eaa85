import { SSMClient } from '@aws-sdk/client-ssm';
import { tracer } from '../../tracer.js';

let ssm: SSMClient | undefined;

/**
 * The SSM client behind the Powertools parameter providers (signing keys, the OIDC client secret),
 * built on first use, traced. Each provider keeps its own cache (signing-keys.ts says why); they
 * share the client.
 */
export const ssmClient = (): SSMClient => (ssm ??= tracer.captureAWSv3Client(new SSMClient({})));
