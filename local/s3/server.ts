/**
 * A local stand-in for Amazon S3, for development only (never deployed): s3rver 3.7.1 (a Koa
 * app that keeps buckets and objects as files under `directory`) behind a small wrapper.
 *
 * The real `@aws-sdk/client-s3` talks to it through AWS_ENDPOINT_URL_S3, path-style
 * (`forcePathStyle: true`; with an IP-literal endpoint such as 127.0.0.1 the SDK uses path-style
 * by itself). What the wrapper adds to s3rver:
 * - buckets created at start when missing, the directory created, the data kept across restarts;
 * - any access key is accepted (s3rver knows only the key id S3RVER, and checks no SigV4
 *   signature anyway), so the same dummy credentials as for the other stand-ins work;
 * - uploads in `aws-chunked` encoding are refused with InvalidRequest. s3rver does not decode
 *   them and would store the chunk framing and checksum trailer as the object's bytes; the SDK
 *   sends them for a *stream* Body under its default `requestChecksumCalculation:
 *   'WHEN_SUPPORTED'`. A Buffer/string Body, or `requestChecksumCalculation: 'WHEN_REQUIRED'`,
 *   uploads plainly;
 * - a port already in use rejects the start promise (s3rver's own run() crashes the process);
 * - quiet by default (s3rver logs every request through winston).
 */
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import S3rver from 's3rver';
import AWSAccount from 's3rver/lib/models/account.js';
import S3Error from 's3rver/lib/models/error.js';

export interface S3StandInOptions {
  /** 0 (the default) picks a free port; the handle tells which. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Where s3rver keeps buckets (directories) and objects (files); created if missing. */
  directory: string;
  /** Bucket names to create at start if missing (existing ones and their objects are kept). */
  buckets?: string[];
  /** Let s3rver log each request to the console (default false). */
  log?: boolean;
}

export interface S3StandIn {
  /** The endpoint for AWS_ENDPOINT_URL_S3, e.g. http://127.0.0.1:4569 */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** S3's rules for a bucket name (without the rarer ones: no IP-address form, no xn-- prefix). */
const BUCKET_NAME = /^(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

let anyAccessKey = false;
/** s3rver looks the request's access key id up in one registry per process; answer every id. */
function acceptAnyAccessKey(): void {
  if (anyAccessKey) return;
  anyAccessKey = true;
  const { registry, DUMMY_ACCOUNT } = AWSAccount;
  const get = registry.get.bind(registry);
  registry.get = (id: string) => get(id) ?? DUMMY_ACCOUNT;
}

export async function startS3StandIn(opts: S3StandInOptions): Promise<S3StandIn> {
  const host = opts.host ?? '127.0.0.1';
  const buckets = opts.buckets ?? [];
  for (const name of buckets) {
    if (!BUCKET_NAME.test(name)) throw new Error(`not a valid S3 bucket name: ${JSON.stringify(name)}`);
  }
  await mkdir(opts.directory, { recursive: true });
  acceptAnyAccessKey();

  const s3rver = new S3rver({
    address: host,
    directory: opts.directory,
    silent: !opts.log,
    configureBuckets: buckets.map((name) => ({ name })),
  });
  // Before s3rver's own middleware (Koa composes the list when callback() is called, below).
  s3rver.middleware.unshift(async (ctx, next) => {
    const encoding = ctx.get('content-encoding');
    const sha = ctx.get('x-amz-content-sha256');
    if (/aws-chunked/i.test(encoding) || sha.startsWith('STREAMING-')) {
      ctx.req.resume(); // let the client finish sending, so that it reads the answer
      throw new S3Error(
        'InvalidRequest',
        'aws-chunked uploads are not supported by the local S3 stand-in (s3rver would store the chunk framing): ' +
          "send a Buffer or string Body, or create the S3Client with requestChecksumCalculation: 'WHEN_REQUIRED'",
      );
    }
    await next();
  });
  await s3rver.configureBuckets();

  const closeLogger = (): void => {
    s3rver.logger.exceptions.unhandle();
    s3rver.logger.close();
  };
  const server = createServer(s3rver.callback());
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    closeLogger();
    throw e;
  }
  const port = (server.address() as AddressInfo).port;
  const clientHost = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;

  return {
    url: `http://${clientHost}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => {
          closeLogger();
          if (err) reject(err);
          else resolve();
        });
        server.closeAllConnections();
      }),
  };
}
