import { z } from 'zod';

/**
 * SageMaker's events carry timestamps as ISO strings, epoch-millisecond numbers and
 * epoch-millisecond strings (DESIGN.md). All become epoch milliseconds here.
 */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

export function parseTimestamp(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? normaliseEpoch(value) : undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return normaliseEpoch(Number(trimmed));
  // Date.parse alone accepts nonsense ("model-1" is 2001-01-01 in V8): only ISO 8601 is a date here.
  if (!ISO_8601.test(trimmed)) return undefined;
  const ms = Date.parse(trimmed);
  return Number.isNaN(ms) ? undefined : ms;
}

// Epoch seconds (10 digits) would otherwise read as 1970; SageMaker sends milliseconds, but the
// SDK's own JSON (DescribeModelPackage over the JSON protocol) uses fractional seconds.
function normaliseEpoch(n: number): number {
  return n < 1e11 ? Math.round(n * 1000) : Math.round(n);
}

export const TimestampSchema = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const ms = parseTimestamp(v);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `not a timestamp: ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  return ms;
});

export const iso = (ms: number): string => new Date(ms).toISOString();
