import * as z from '../schemas/zod.js';

/**
 * SageMaker's events carry timestamps as ISO strings, epoch-millisecond numbers and
 * epoch-millisecond strings. All become epoch milliseconds here.
 */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * The largest |epoch ms| a `Date` holds (ECMA-262 "Time Values and Time Range": ±8.64e15 ms, that
 * is ±100,000,000 days). A value beyond it is refused here: `new Date(ms).toISOString()` would throw
 * a RangeError later, after the event was accepted.
 */
export const MAX_TIME_MS = 8.64e15;

// `Number("1" + "0".repeat(29))` is a finite 1e29 (and `Math.round` keeps it): only the range check refuses it.
const inDateRange = (ms: number): number | undefined => (Number.isFinite(ms) && Math.abs(ms) <= MAX_TIME_MS ? ms : undefined);

export function parseTimestamp(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? inDateRange(normaliseEpoch(value)) : undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return inDateRange(normaliseEpoch(Number(trimmed)));
  // Date.parse alone accepts nonsense ("model-1" is 2001-01-01 in V8): only ISO 8601 is a date here.
  if (!ISO_8601.test(trimmed)) return undefined;
  const ms = Date.parse(trimmed);
  return Number.isNaN(ms) ? undefined : inDateRange(ms);
}

// Epoch seconds (10 digits) would otherwise read as 1970; SageMaker sends milliseconds, but the
// SDK's own JSON (DescribeModelPackage over the JSON protocol) uses fractional seconds.
function normaliseEpoch(n: number): number {
  return n < 1e11 ? Math.round(n * 1000) : Math.round(n);
}

export const TimestampSchema = /* @__PURE__ */ z.schema(() => z.pipe(
  z.union([z.string(), z.number()]),
  z.transform((v: string | number, ctx) => {
    const ms = parseTimestamp(v);
    if (ms === undefined) {
      // The value is quoted only up to 40 characters: an error message is not a place for a whole payload.
      const shown = JSON.stringify(v);
      // zod/mini hands a transform the bare parse payload (no `addIssue`): the issue is pushed as
      // classic zod's `ctx.addIssue` pushed it, with the input.
      ctx.issues.push({
        code: 'custom',
        message: `not a timestamp: ${shown.length > 40 ? `${shown.slice(0, 40)}…` : shown}`,
        input: v,
      });
      return z.NEVER;
    }
    return ms;
  }),
));

export const iso = (ms: number): string => new Date(ms).toISOString();
