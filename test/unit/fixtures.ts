/**
 * Reads the sample events in `events/` and the AWS documentation samples in `test/fixtures`.
 * Paths are resolved from this file, not from the cwd.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const eventsDir = fileURLToPath(new URL('../../events/', import.meta.url));
const fixturesDir = fileURLToPath(new URL('../fixtures/', import.meta.url));

/** A fresh copy each call, so a test may mutate what it gets. */
export function loadEvent(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(`${eventsDir}${name}`, 'utf8')) as Record<string, unknown>;
}

export function loadFixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(`${fixturesDir}${name}`, 'utf8')) as Record<string, unknown>;
}

/** Names of the files in `events/` that start with `prefix`. */
export function eventNames(prefix: string): string[] {
  return readdirSync(eventsDir)
    .filter((f) => f.startsWith(prefix) && f.endsWith('.json'))
    .sort();
}

/** `event.detail` as a mutable record (the events are plain JSON). */
export function detailOf(event: Record<string, unknown>): Record<string, unknown> {
  return event['detail'] as Record<string, unknown>;
}

/** `arr[i]`, failing the test when it is absent (the project forbids non-null assertions). */
export function at<T>(arr: readonly T[] | undefined, i: number): T {
  const v = arr?.[i];
  if (v === undefined) throw new Error(`no element at index ${i}`);
  return v;
}

/** A copy of `obj` without `keys`. */
export function without<T extends object, K extends keyof T>(obj: T, ...keys: K[]): Omit<T, K> {
  const copy = { ...obj } as Record<PropertyKey, unknown>;
  for (const k of keys) delete copy[k];
  return copy as Omit<T, K>;
}
