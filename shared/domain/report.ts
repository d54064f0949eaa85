import { createHash } from 'node:crypto';

/**
 * An evaluation report as the gate reads it. `ContentDigest` (`sha256:<hex>`, SageMaker's
 * MetricsSource) is verified when present; a mismatch, an unknown algorithm or a body that is not
 * JSON makes the report unreadable, and every rule that needs it fails (fail closed).
 */
export function readReport(body: Uint8Array, digest: string | undefined): { values: unknown } | { unreadable: string } {
  if (digest !== undefined) {
    const m = /^sha256:([0-9a-f]{64})$/i.exec(digest.trim());
    if (!m?.[1]) return { unreadable: `unsupported ContentDigest ${digest}` };
    const actual = createHash('sha256').update(body).digest('hex');
    if (actual !== m[1].toLowerCase()) return { unreadable: `ContentDigest mismatch (expected sha256:${m[1].toLowerCase()}, got sha256:${actual})` };
  }
  try {
    return { values: JSON.parse(Buffer.from(body).toString('utf8')) as unknown };
  } catch {
    return { unreadable: 'not valid JSON' };
  }
}
