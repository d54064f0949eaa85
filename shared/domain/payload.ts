import * as z from '../schemas/zod.js';
import { ValidationError, describeIssues } from './errors.js';

/**
 * How an operator payload's problems are worded. zod's defaults are written for programmers
 * ("Invalid input: expected string, received undefined", "Unrecognized key: \"role\"", and a bare
 * "Invalid input" for a union); an operator typing `--data '{…}'` needs to read which field is
 * missing, what it should hold, and which fields exist. A schema's own message (a regex's
 * "must be a versioned model package ARN") still wins: zod applies a schema-level message before
 * this map. Values are never echoed beyond their type: a payload may hold customer metadata.
 */
const article = (what: string): string => (/^[aeiou]/.test(what) ? `an ${what}` : `a ${what}`);

const NAMES: Record<string, string> = { int: 'integer', object: 'JSON object', array: 'array', string: 'string', number: 'number', boolean: 'boolean' };

function describeType(expected: string): string {
  return article(NAMES[expected] ?? expected);
}

function describeValue(input: unknown): string {
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'an array';
  if (typeof input === 'object') return 'an object';
  if (typeof input === 'number' && !Number.isInteger(input)) return 'a fractional number';
  return describeType(typeof input);
}

/** The alternatives a union accepts, from the issues of each branch ("a number, or \"all\""). */
function alternatives(branches: ReadonlyArray<ReadonlyArray<z.core.$ZodIssue>>): string | undefined {
  const said = branches.flatMap((issues) =>
    issues.flatMap((i) => {
      if (i.path.length > 0) return [];
      if (i.code === 'invalid_type') return [describeType(i.expected)];
      if (i.code === 'invalid_value') return i.values.map((v) => JSON.stringify(v));
      return [];
    }),
  );
  const unique = [...new Set(said)];
  if (unique.length === 0) return undefined;
  return unique.length === 1 ? (unique[0] ?? '') : `${unique.slice(0, -1).join(', ')} or ${unique.at(-1) ?? ''}`;
}

/** The top-level fields of a (strict) object schema, for "unknown field" messages. */
function fieldsOf(schema: z.core.$ZodType): string[] | undefined {
  const shape = (schema as { shape?: unknown }).shape;
  return shape && typeof shape === 'object' ? Object.keys(shape) : undefined;
}

/** A zod error map for operator payloads (`z.safeParse(schema, payload, { error: operatorErrors(schema) })`). */
export function operatorErrors(schema?: z.core.$ZodType): z.core.$ZodErrorMap {
  const fields = schema ? fieldsOf(schema) : undefined;
  return (iss) => {
    // A field's `z.describe('…')` says what it holds ("a versioned model package ARN"), better than its type.
    const described = iss.inst ? z.globalRegistry.get(iss.inst as z.core.$ZodType)?.description : undefined;
    switch (iss.code) {
      case 'invalid_type': {
        if (iss.input === undefined) return `required: ${described ?? describeType(iss.expected)}`;
        if (iss.expected === 'object' && (iss.path ?? []).length === 0) return `the payload must be a JSON object, not ${describeValue(iss.input)}`;
        return `must be ${described ?? describeType(iss.expected)}, not ${describeValue(iss.input)}`;
      }
      case 'invalid_value':
        return iss.values.length === 1 ? `must be ${JSON.stringify(iss.values[0])}` : `must be one of ${iss.values.map((v) => JSON.stringify(v)).join(', ')}`;
      case 'invalid_union': {
        const accepted = alternatives(iss.errors);
        return accepted ? `must be ${accepted}` : undefined;
      }
      case 'unrecognized_keys': {
        const unknown = `unknown field${iss.keys.length > 1 ? 's' : ''} ${iss.keys.map((k) => JSON.stringify(k)).join(', ')}`;
        if ((iss.path ?? []).length > 0 || !fields) return unknown;
        return fields.length ? `${unknown}: the fields are ${fields.join(', ')}` : `${unknown}: this request takes no fields ({})`;
      }
      case 'too_small':
        if (iss.origin === 'string' && iss.minimum === 1) return 'must not be empty';
        return undefined;
      default:
        return undefined;
    }
  };
}

/** Parses an operator payload, or throws a ValidationError naming each field and what it expects. */
export function parsePayload<T extends z.core.$ZodType>(schema: T, payload: unknown, subject: string): z.infer<T> {
  const parsed = z.safeParse(schema, payload, { error: operatorErrors(schema) });
  if (!parsed.success) throw new ValidationError(subject, describeIssues(parsed.error.issues));
  return parsed.data;
}

/** The problems of an operator payload, worded as `parsePayload` words them (empty: none). */
export function payloadProblems(schema: z.core.$ZodType, payload: unknown): string[] {
  const parsed = z.safeParse(schema, payload, { error: operatorErrors(schema) });
  return parsed.success ? [] : describeIssues(parsed.error.issues);
}
