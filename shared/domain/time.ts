import { z } from 'zod';

/**
 * SageMaker's events carry timestamps as ISO strings, epoch-millisecond numbers and
 * epoch-millisecond strings (DESIGN.md). All become epoch milliseconds here.
 */
export function parseTimestamp(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? normaliseEpoch(value) : undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return normaliseEpoch(Number(trimmed));
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
