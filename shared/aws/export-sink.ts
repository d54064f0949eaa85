import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ExportSink } from '../audit-log-ports.js';
import { ValidationError } from '../domain/errors.js';

/**
 * Where exportAuditTrail writes its files: an S3 prefix, or on stage `local` a folder. Each file
 * is named by a relative path of plain segments (`entries/000001.jsonl`, `group:fraud/…`):
 * no absolute path, no `.` or `..`, no empty segment, no backslash, so that a path can neither
 * leave the export's folder nor name two different S3 keys that one folder path would merge.
 */
const SEGMENT = /^[A-Za-z0-9._:@+=-]{1,255}$/;

export function exportPathProblems(relativePath: string): string[] {
  if (relativePath.length === 0 || relativePath.length > 1024) return ['must be 1-1024 characters'];
  const segments = relativePath.split('/');
  if (segments.some((s) => s === '.' || s === '..' || !SEGMENT.test(s))) {
    return ['must be relative: "/"-separated segments of letters, digits and ._:@+=- (no empty, "." or ".." segment)'];
  }
  return [];
}

function checkPath(relativePath: string): void {
  const problems = exportPathProblems(relativePath);
  if (problems.length) throw new ValidationError(`export path ${JSON.stringify(relativePath.slice(0, 100))}`, problems);
}

/** Content types by extension: the exports are JSON documents and JSON Lines. */
function contentType(relativePath: string): string {
  if (relativePath.endsWith('.json')) return 'application/json';
  if (relativePath.endsWith('.jsonl') || relativePath.endsWith('.ndjson')) return 'application/x-ndjson';
  return 'text/plain; charset=utf-8';
}

const trimSlashes = (prefix: string): string => prefix.replace(/^\/+|\/+$/g, '');

/**
 * One PutObject per file under `s3://<bucket>/<prefix>/`. IAM: s3:PutObject on
 * `arn:aws:s3:::<bucket>/<prefix>*` for the export function.
 */
export function s3ExportSink(client: S3Client, bucket: string, prefix: string): ExportSink {
  const base = trimSlashes(prefix);
  if (base) checkPath(base);
  return {
    location: `s3://${bucket}/${base ? `${base}/` : ''}`,
    async write(relativePath, body) {
      checkPath(relativePath);
      await client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: base ? `${base}/${relativePath}` : relativePath,
          // A string Body: the SDK sends it plainly (not aws-chunked), with its checksum in a header.
          Body: body,
          ContentType: contentType(relativePath),
          ChecksumAlgorithm: 'SHA256',
        }),
      );
    },
  };
}

/**
 * Stage `local`: files under `dir`, or under its subfolder `prefix` (the same rule as an S3
 * prefix), created as needed, subfolders too; location is the absolute folder.
 */
export function folderExportSink(dir: string, prefix = ''): ExportSink {
  const base = trimSlashes(prefix);
  if (base) checkPath(base);
  const root = resolve(dir, ...(base ? base.split('/') : []));
  return {
    location: root,
    async write(relativePath, body) {
      checkPath(relativePath);
      const file = join(root, ...relativePath.split('/'));
      // checkPath already rules out leaving the folder; this keeps it true whatever the checks become.
      if (!file.startsWith(root + sep)) throw new ValidationError('export path', ['must stay inside the export folder']);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, body, 'utf8');
    },
  };
}
