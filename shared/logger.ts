import { Logger } from '@aws-lambda-powertools/logger';

/** One logger per process. Never log a review link, a token, a signature or a secret. */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'modelgate' });
