import { SNSClient } from '@aws-sdk/client-sns';
import { tracer } from '../../tracer.js';

let sns: SNSClient | undefined;

/** The SNS client (messages, reviewers' subscriptions), built on first use, traced. */
export const snsClient = (): SNSClient => (sns ??= tracer.captureAWSv3Client(new SNSClient({})));
