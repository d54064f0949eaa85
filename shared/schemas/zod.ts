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
