import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { REPO_ROOT } from '../scripts/dynamodb-local.js';

/** The evaluation reports that the sample events name: events/local-aws/s3/<bucket>/<key>. */
const ROOT = join(REPO_ROOT, 'events', 'local-aws', 's3');

export function sampleBuckets(): string[] {
  return existsSync(ROOT) ? readdirSync(ROOT) : [];
}

/** Puts every sample report into the S3 endpoint that AWS_ENDPOINT_URL_S3 names. */
export async function seedSampleReports(): Promise<void> {
  const client = new S3Client({ forcePathStyle: true });
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? walk(join(dir, f)) : [join(dir, f)]));
  for (const bucket of sampleBuckets()) {
    for (const file of walk(join(ROOT, bucket))) {
      const key = relative(join(ROOT, bucket), file).split('\\').join('/');
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: readFileSync(file), ContentType: 'application/json' }));
    }
  }
  client.destroy();
}
