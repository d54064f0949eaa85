import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';

/**
 * modelgate's zod: zod 4's tree-shakable `zod/mini` API, with English messages. Every schema module
 * imports `z` from here, never from `zod` or `zod/mini` directly (eslint's no-restricted-imports
 * enforces it).
 *
 * Why mini: classic zod builds a method object for every schema and cannot be tree-shaken, which
 * put about 200 KiB and 20–30 ms into every function's cold start (issue 12; the README's
 * "Cold start" section has the figures).
 *
 * Why here: classic zod registers its English locale ("Invalid input: expected string, received
 * number") when it builds its first schema; zod/mini registers none, and every built-in message
 * would read "Invalid input". A module that builds a schema imports this one first, so English is
 * set before any schema parses, in every function, test and script.
 */
z.config(en());

export * from 'zod/mini';

/**
 * A schema built at module load, that a bundle may leave out (this module's own export, next to
 * zod's): `export const X = /* @__PURE__ *\/ z.schema(() => z.object(…))`. Building a schema runs
 * code (zod's `.check()` is a method call), so esbuild keeps every top-level schema of every module a function imports, used or not; the
 * annotation at the call tells it that this call may be dropped when nothing uses `X`. So a
 * function that imports one helper from a module does not build that module's other schemas at
 * its cold start (getPolicy built every SageMaker event schema through one import of
 * shared/domain/policy.ts). The schema is built as before, at load, when it is used.
 */
export function schema<T>(build: () => T): T {
  return build();
}
