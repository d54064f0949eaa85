/**
 * SNS subscription filter policies, the part of them the local stand-in understands.
 *
 * Scope MessageAttributes only (the default, and what modelgate uses). Every key of the policy
 * names a message attribute; its value is an array of conditions, of which one has to match
 * (OR), and every key has to match (AND). Conditions understood: an exact string, an exact
 * number, and `{"exists": true|false}`. Anything else (prefix, anything-but, numeric ranges,
 * MessageBody scope, …) is refused when the subscription is made, so that a policy the
 * stand-in cannot evaluate fails loudly instead of silently matching nothing.
 */

export type Condition = string | number | { exists: boolean };
export type FilterPolicy = ReadonlyMap<string, readonly Condition[]>;

/** A message attribute as Publish carries it (MessageAttributes.entry.N.Value.*). */
export interface MessageAttribute {
  dataType: string;
  stringValue?: string;
  binaryValue?: string;
}

export class FilterPolicyError extends Error {}

const SUPPORTED = 'the local SNS stand-in supports exact strings, numbers and {"exists": true|false} only';

/** Parses and checks a FilterPolicy attribute. An empty string or `{}` means "no filter". */
export function parseFilterPolicy(text: string): FilterPolicy | undefined {
  if (text.trim() === '') return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new FilterPolicyError('FilterPolicy: failed to parse JSON');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new FilterPolicyError('FilterPolicy: must be a JSON object');
  const entries = Object.entries(doc as Record<string, unknown>);
  if (entries.length === 0) return undefined;
  const policy = new Map<string, Condition[]>();
  for (const [key, value] of entries) {
    if (!Array.isArray(value)) {
      throw new FilterPolicyError(
        typeof value === 'object' && value !== null
          ? `FilterPolicy: "${key}": nested keys belong to MessageBody scope, and ${SUPPORTED} in MessageAttributes scope`
          : `FilterPolicy: "${key}" must be an array of conditions`,
      );
    }
    if (value.length === 0) throw new FilterPolicyError(`FilterPolicy: "${key}": empty array of conditions`);
    policy.set(key, value.map((c) => condition(key, c)));
  }
  return policy;
}

function condition(key: string, c: unknown): Condition {
  if (typeof c === 'string') return c;
  if (typeof c === 'number' && Number.isFinite(c)) return c;
  if (typeof c === 'object' && c !== null && !Array.isArray(c)) {
    const ops = Object.keys(c);
    const exists = (c as { exists?: unknown }).exists;
    if (ops.length === 1 && typeof exists === 'boolean') return { exists };
    throw new FilterPolicyError(`FilterPolicy: "${key}": operator ${JSON.stringify(ops.join(','))}: ${SUPPORTED}`);
  }
  throw new FilterPolicyError(`FilterPolicy: "${key}": condition ${JSON.stringify(c)}: ${SUPPORTED}`);
}

/** Whether a message with these attributes passes the policy (no policy: every message). */
export function matches(policy: FilterPolicy | undefined, attributes: ReadonlyMap<string, MessageAttribute>): boolean {
  if (!policy) return true;
  for (const [key, conditions] of policy) {
    const attribute = attributes.get(key);
    if (!conditions.some((c) => satisfies(c, attribute))) return false;
  }
  return true;
}

function satisfies(c: Condition, attribute: MessageAttribute | undefined): boolean {
  if (typeof c === 'object') return c.exists === (attribute !== undefined);
  if (!attribute || attribute.stringValue === undefined) return false; // Binary attributes are never matched
  const values = attributeValues(attribute);
  return values.some((v) => (typeof c === 'string' ? v === c : typeof v === 'number' && v === c));
}

/** The values a condition is compared with: String.Array matches on any of its elements. */
function attributeValues(attribute: MessageAttribute): Array<string | number> {
  const raw = attribute.stringValue ?? '';
  if (attribute.dataType === 'String.Array') {
    try {
      const parsed: unknown = JSON.parse(raw);
      return Array.isArray(parsed) ? parsed.filter((v): v is string | number => typeof v === 'string' || typeof v === 'number') : [];
    } catch {
      return [];
    }
  }
  if (attribute.dataType === 'Number' || attribute.dataType.startsWith('Number.')) return [Number(raw)];
  return [raw];
}

/** The policy as canonical JSON (keys sorted), to compare two policies regardless of spacing and key order. */
export function canonicalPolicy(text: string): string {
  const sort = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sort)
      : typeof v === 'object' && v !== null
        ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort((v as Record<string, unknown>)[k])]))
        : v;
  try {
    return JSON.stringify(sort(JSON.parse(text)));
  } catch {
    return text;
  }
}
