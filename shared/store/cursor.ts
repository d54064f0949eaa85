import { createHash } from 'node:crypto';
import { ValidationError } from '../domain/errors.js';

/**
 * Page cursors: opaque to callers, and checked before any request.
 *
 * A cursor is the query's LastEvaluatedKey with a binding to the query it came from (index,
 * partition key value, sort key prefix), base64url JSON. Decoding checks the binding and then that
 * the key is exactly what that query's LastEvaluatedKey can be: the table's and the index's key
 * attributes and nothing else, each a non-empty string within DynamoDB's key sizes, the partition
 * key equal to the query's, the sort key under the query's prefix, the table key of the kind of item
 * the index holds. A cursor from another query, a hand-made or truncated one therefore gets a
 * ValidationError('cursor') instead of reaching DynamoDB (which would answer a raw
 * ValidationException, or start the page somewhere else).
 *
 * No HMAC: the store has no key of its own to sign with, and a cursor grants nothing. A key that
 * passes these checks is a position within the same query, which the caller could reach by paging.
 */
export interface CursorShape {
  /** The index queried; undefined for the table. */
  index?: 'GSI1' | 'GSI2';
  /** The query's partition key attribute and its value (`= :pk`). */
  partition: { name: string; value: string };
  /** The query's sort key attribute and its `begins_with` prefix ('' when the query has none). */
  sort: { name: string; prefix: string };
  /** On an index: the prefixes the table's PK and SK may have (the kinds of item the index holds). */
  table?: { PK: readonly string[]; SK: readonly string[] };
}

/** Longer than any cursor modelgate issues (keys are at most 2048 + 1024 bytes each, twice). */
export const MAX_CURSOR_CHARS = 8192;
const PARTITION_KEY_BYTES = 2048;
const SORT_KEY_BYTES = 1024;

const binding = (shape: CursorShape): string =>
  createHash('sha256')
    .update(JSON.stringify([shape.index ?? 'table', shape.partition.name, shape.partition.value, shape.sort.name, shape.sort.prefix]))
    .digest('base64url')
    .slice(0, 16);

export function encodeCursor(shape: CursorShape, key: Record<string, unknown> | undefined): string | undefined {
  return key ? Buffer.from(JSON.stringify({ q: binding(shape), k: key })).toString('base64url') : undefined;
}

const refuse = (why: string): never => {
  throw new ValidationError('cursor', [`not a cursor returned by a previous page of this query (${why})`]);
};

export function decodeCursor(shape: CursorShape, cursor: string | undefined): Record<string, string> | undefined {
  if (cursor === undefined) return undefined;
  if (cursor.length === 0 || cursor.length > MAX_CURSOR_CHARS) return refuse(`length ${cursor.length}`);
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) return refuse('not base64url');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return refuse('not JSON');
  }
  if (!isObject(parsed) || !sameKeys(parsed, ['k', 'q'])) return refuse('not a cursor object');
  if (parsed.q !== binding(shape)) return refuse('issued for another query');
  const key = parsed.k;
  if (!isObject(key)) return refuse('no key');

  const tableKeys = { PK: key.PK, SK: key.SK };
  const expected = shape.index ? [shape.partition.name, shape.sort.name, 'PK', 'SK'] : ['PK', 'SK'];
  if (!sameKeys(key, expected)) return refuse('wrong key attributes');
  const out: Record<string, string> = {};
  for (const name of expected) {
    const v = key[name];
    if (typeof v !== 'string' || v.length === 0) return refuse(`${name} is not a non-empty string`);
    const max = name.endsWith('PK') ? PARTITION_KEY_BYTES : SORT_KEY_BYTES;
    if (Buffer.byteLength(v, 'utf8') > max) return refuse(`${name} too long`);
    out[name] = v;
  }
  if (out[shape.partition.name] !== shape.partition.value) return refuse(`${shape.partition.name} of another query`);
  if (!(out[shape.sort.name] ?? '').startsWith(shape.sort.prefix)) return refuse(`${shape.sort.name} outside the query's prefix`);
  if (shape.index && shape.table) {
    const { PK: pks, SK: sks } = shape.table;
    if (!pks.some((p) => String(tableKeys.PK).startsWith(p))) return refuse('PK of another kind of item');
    if (!sks.some((p) => String(tableKeys.SK).startsWith(p))) return refuse('SK of another kind of item');
  }
  return out;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Exactly these own keys (a `__proto__` key that JSON.parse made an own property counts too). */
const sameKeys = (o: Record<string, unknown>, names: readonly string[]): boolean => {
  const own = Object.keys(o).sort();
  const want = [...names].sort();
  return own.length === want.length && own.every((k, i) => k === want[i]);
};
