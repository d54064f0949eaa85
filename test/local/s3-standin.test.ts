/**
 * The local S3 stand-in (local/s3/server.ts: s3rver behind a wrapper), driven by the real
 * @aws-sdk/client-s3 through AWS_ENDPOINT_URL_S3, path-style, as the local stack uses it.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { jest } from '@jest/globals';
import { GetObjectCommand, ListBucketsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { s3Reports } from '../../shared/aws/s3.js';
import { startS3StandIn, type S3StandIn } from '../../local/s3/server.js';

const BUCKET = 'modelgate-test-reports';
const KEY = 'evaluations/churn/v3/report.json';

/** A JSON evaluation report with non-ASCII text and no trailing newline: its exact bytes matter (sha256 digest). */
const REPORT = Buffer.from(
  JSON.stringify({ model: 'churn', version: 3, metrics: { auc: 0.912345678901234, f1: 0.8 }, note: 'évaluation ✓ — 学習' }, null, 2),
  'utf8',
);
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

async function failure(p: Promise<unknown>): Promise<{ name: string; status?: number; message: string }> {
  try {
    await p;
  } catch (e) {
    const err = e as Error & { $metadata?: { httpStatusCode?: number } };
    return { name: err.name, status: err.$metadata?.httpStatusCode, message: err.message };
  }
  throw new Error('expected the call to fail');
}

describe('local S3 stand-in (s3rver), through the real S3 client', () => {
  let dir: string;
  let s3: S3StandIn;
  let client: S3Client;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'modelgate-s3-'));
    s3 = await startS3StandIn({ directory: join(dir, 'data'), buckets: [BUCKET] });
    process.env['AWS_ENDPOINT_URL_S3'] = s3.url;
    process.env['AWS_REGION'] ??= 'us-east-1';
    process.env['AWS_ACCESS_KEY_ID'] ??= 'test';
    process.env['AWS_SECRET_ACCESS_KEY'] ??= 'test';
    client = new S3Client({ forcePathStyle: true });
  });

  afterAll(async () => {
    client?.destroy();
    await s3?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates the buckets at start, in the directory', async () => {
    expect(s3.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const { Buckets } = await client.send(new ListBucketsCommand({}));
    expect(Buckets?.map((b) => b.Name)).toEqual([BUCKET]);
    expect(existsSync(join(dir, 'data', BUCKET))).toBe(true);
  });

  it('round-trips a JSON evaluation report byte for byte', async () => {
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: KEY, Body: REPORT, ContentType: 'application/json' }));
    const out = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: KEY }));
    expect(out.ContentLength).toBe(REPORT.byteLength);
    expect(out.ContentType).toBe('application/json');
    const body = await out.Body?.transformToByteArray();
    expect(Buffer.from(body ?? new Uint8Array()).equals(REPORT)).toBe(true);
    expect(sha256(body ?? new Uint8Array())).toBe(sha256(REPORT));
  });

  it('a missing key is NoSuchKey, a missing bucket NoSuchBucket (both 404)', async () => {
    expect(await failure(client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'evaluations/none.json' })))).toMatchObject({ name: 'NoSuchKey', status: 404 });
    expect(await failure(client.send(new GetObjectCommand({ Bucket: 'modelgate-test-nobucket', Key: KEY })))).toMatchObject({ name: 'NoSuchBucket', status: 404 });
  });

  it("modelgate's s3Reports adapter reads the report, and reports a missing one as unreadable", async () => {
    const reports = s3Reports(client);
    const read = await reports.read(`s3://${BUCKET}/${KEY}`);
    expect('body' in read && sha256(read.body)).toBe(sha256(REPORT));
    expect(await reports.read(`s3://${BUCKET}/evaluations/none.json`)).toEqual({ unreadable: `NoSuchKey reading s3://${BUCKET}/evaluations/none.json` });
  });

  it('accepts any access key (s3rver itself knows only S3RVER)', async () => {
    const other = new S3Client({ forcePathStyle: true, credentials: { accessKeyId: 'some-other-key', secretAccessKey: 'x' } });
    try {
      const out = await other.send(new GetObjectCommand({ Bucket: BUCKET, Key: KEY }));
      expect(await out.Body?.transformToString()).toBe(REPORT.toString('utf8'));
    } finally {
      other.destroy();
    }
  });

  it('with an IP-literal endpoint the SDK goes path-style even without forcePathStyle', async () => {
    const defaults = new S3Client({});
    try {
      const out = await defaults.send(new GetObjectCommand({ Bucket: BUCKET, Key: KEY }));
      expect(out.ContentLength).toBe(REPORT.byteLength);
      await out.Body?.transformToByteArray();
    } finally {
      defaults.destroy();
    }
  });

  it('refuses a streamed upload in aws-chunked encoding instead of storing the chunk framing', async () => {
    const stream = (): Readable => Readable.from([REPORT]);
    // The SDK warns that it cannot retry a streamed request; that is expected here.
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const e = await failure(client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'streamed.json', Body: stream(), ContentLength: REPORT.byteLength })));
    warn.mockRestore();
    expect(e).toMatchObject({ name: 'InvalidRequest', status: 400 });
    expect(e.message).toMatch(/aws-chunked uploads are not supported by the local S3 stand-in/);

    // The workaround the message names: no flexible checksum unless required, so a plain body.
    const plain = new S3Client({ forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' });
    try {
      await plain.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'streamed.json', Body: stream(), ContentLength: REPORT.byteLength }));
      const out = await plain.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'streamed.json' }));
      expect(Buffer.from((await out.Body?.transformToByteArray()) ?? []).equals(REPORT)).toBe(true);
    } finally {
      plain.destroy();
    }
  });

  it('keeps the data across a restart; the buckets already there are kept as they are', async () => {
    const port = s3.port;
    await s3.close();
    s3 = await startS3StandIn({ port, directory: join(dir, 'data'), buckets: [BUCKET, 'modelgate-test-more'] });
    const out = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: KEY }));
    expect(sha256((await out.Body?.transformToByteArray()) ?? new Uint8Array())).toBe(sha256(REPORT));
    const { Buckets } = await client.send(new ListBucketsCommand({}));
    expect(Buckets?.map((b) => b.Name).sort()).toEqual(['modelgate-test-more', BUCKET]);
  });

  it('refuses a port in use and an invalid bucket name at start (rejects, does not crash)', async () => {
    await expect(startS3StandIn({ port: s3.port, directory: join(dir, 'data') })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    await expect(startS3StandIn({ directory: join(dir, 'data'), buckets: ['Not_A_Bucket'] })).rejects.toThrow(/not a valid S3 bucket name/);
  });
});
