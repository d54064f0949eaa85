import { isDeepStrictEqual } from 'node:util';
import { GetObjectCommand, PutObjectCommand, paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import { CheckpointObjectTaken, type CheckpointBucket, type SignedCheckpoint } from '../audit-log-ports.js';

export const CHECKPOINT_PREFIX = 'checkpoints/';

/** `checkpoints/<logSize, 16 digits>.json`: key order is log-size order. */
export const checkpointObjectKey = (logSize: number): string => `${CHECKPOINT_PREFIX}${String(logSize).padStart(16, '0')}.json`;

/** A checkpoint object is a few hundred bytes; anything much larger is not one and is not buffered. */
const MAX_OBJECT_BYTES = 64 * 1024;

const isNamed = (e: unknown, ...names: string[]): boolean =>
  e instanceof Error && (names.includes(e.name) || names.includes((e as { Code?: string }).Code ?? ''));

const httpStatus = (e: unknown): number | undefined => (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;

/**
 * The checkpoint bucket: S3 with Object Lock whose default retention (COMPLIANCE) locks every
 * object as it is written. No Object Lock header is sent: the bucket's default applies, and
 * sending one would need s3:PutObjectRetention.
 *
 * Each checkpoint is written once, `IfNoneMatch: '*'`: S3 refuses (412 PreconditionFailed) to
 * write over an existing key, so a checkpoint is never replaced, not even by a version of itself
 * (a versioned bucket would keep both). The SHA-256 checksum is asked for explicitly: S3 refuses
 * a PutObject without Content-MD5 or a checksum into a bucket with a default retention, and the
 * SDK's default checksum can be switched off by client configuration.
 *
 * The local S3 stand-in (s3rver 3.7.1, local/s3/server.ts) ignores If-None-Match on PUT: it
 * overwrites the object and answers 200. Locally an existing checkpoint object can therefore be
 * replaced; the table's record of each checkpoint (conditional on its log size) is still written once.
 *
 * IAM: s3:PutObject and s3:GetObject on `arn:aws:s3:::<bucket>/checkpoints/*` (GetObject for the
 * 412 case), s3:ListBucket on the bucket (listKeys; without it a missing object reads as 403).
 */
export function s3CheckpointBucket(client: S3Client, bucket: string): CheckpointBucket {
  const get = async (key: string): Promise<unknown> => {
    let text: string;
    try {
      const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      if ((out.ContentLength ?? 0) > MAX_OBJECT_BYTES) throw new Error(`checkpoint object ${key} is larger than ${MAX_OBJECT_BYTES} bytes`);
      text = (await out.Body?.transformToString('utf-8')) ?? '';
    } catch (e) {
      if (isNamed(e, 'NoSuchKey')) return undefined;
      throw e;
    }
    if (text.length > MAX_OBJECT_BYTES) throw new Error(`checkpoint object ${key} is larger than ${MAX_OBJECT_BYTES} bytes`);
    try {
      return JSON.parse(text) as unknown;
    } catch {
      // JSON.parse's message quotes the text: not passed on.
      throw new Error(`checkpoint object ${key} is not JSON`);
    }
  };

  return {
    async put(signed: SignedCheckpoint) {
      const key = checkpointObjectKey(signed.checkpoint.logSize);
      // Only the two members, in a fixed order: the object is exactly what was signed and its signature.
      const { logSize, rootHash, time, keyId } = signed.checkpoint;
      const object = { checkpoint: { logSize, rootHash, time, keyId }, signature: signed.signature };
      try {
        await client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: JSON.stringify(object),
            ContentType: 'application/json',
            ChecksumAlgorithm: 'SHA256',
            IfNoneMatch: '*',
          }),
        );
        return key;
      } catch (e) {
        if (!(isNamed(e, 'PreconditionFailed') || httpStatus(e) === 412)) throw e;
      }
      // The key is taken. The same checkpoint (a retry after a lost answer) is a success.
      const existing = await get(key);
      if (isDeepStrictEqual(existing, object)) return key;
      throw new CheckpointObjectTaken(key, existing);
    },

    async listKeys() {
      const found: string[] = [];
      for await (const page of paginateListObjectsV2({ client }, { Bucket: bucket, Prefix: CHECKPOINT_PREFIX })) {
        for (const o of page.Contents ?? []) if (o.Key) found.push(o.Key);
      }
      // S3 lists in UTF-8 binary order already; sorted again so a stand-in's order cannot matter.
      return found.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    },

    get,
  };
}
