import { S3Client } from '@aws-sdk/client-s3';
import { tracer } from '../../tracer.js';

let s3: S3Client | undefined;

/**
 * The S3 client (evaluation reports, checkpoints, exports), built on first use, traced. A custom
 * S3 endpoint (a local stand-in on 127.0.0.1) cannot take the bucket as a host name, so path-style
 * addressing goes with it; on AWS the default (virtual-hosted style) stays.
 */
export const s3Client = (): S3Client =>
  (s3 ??= tracer.captureAWSv3Client(new S3Client({ forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL) })));
