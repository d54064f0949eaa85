import { Tracer } from '@aws-lambda-powertools/tracer';

/**
 * One tracer per process (Powertools Tracer over the AWS X-Ray SDK). Every SDK client is captured
 * where it is built (shared/aws/clients/), so each AWS call is a subsegment of the invocation's.
 *
 * The tracer turns itself off outside Lambda (no AWS_EXECUTION_ENV: jest, scripts, the local
 * stack), and stage `local` also sets POWERTOOLS_TRACE_ENABLED=false (serverless.yml): there is no
 * X-Ray daemon there, and a disabled tracer sends nothing and prints nothing.
 */
export const tracer = new Tracer({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'modelgate' });
