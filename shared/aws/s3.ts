import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { parseS3Uri } from '../domain/lineage.js';
import type { ReportReader } from '../ports.js';

/** Evaluation reports are small JSON documents; anything larger is refused rather than buffered. */
const MAX_REPORT_BYTES = 5 * 1024 * 1024;
/** Errors that mean "this report cannot be read" (fail closed), not "try again later". */
const PERMANENT = new Set(['NoSuchKey', 'NoSuchBucket', 'AccessDenied', 'NotFound', 'InvalidObjectState']);

export function s3Reports(client: S3Client): ReportReader {
  return {
    async read(uri) {
      const { bucket, key } = parseS3Uri(uri);
      try {
        const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        if ((out.ContentLength ?? 0) > MAX_REPORT_BYTES) return { unreadable: `larger than ${MAX_REPORT_BYTES} bytes` };
        if (!out.Body) return { unreadable: 'empty body' };
        const body = await out.Body.transformToByteArray();
        // ContentLength can be absent; the size is checked again on what was read.
        return body.byteLength > MAX_REPORT_BYTES ? { unreadable: `larger than ${MAX_REPORT_BYTES} bytes` } : { body };
      } catch (e) {
        if (e instanceof Error && PERMANENT.has(e.name)) return { unreadable: `${e.name} reading ${uri}` };
        throw e;
      }
    },
  };
}
