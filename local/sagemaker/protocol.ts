/**
 * SageMaker's wire protocol, awsJson1_1, as `@aws-sdk/client-sagemaker` speaks it:
 *
 *   POST /   Content-Type: application/x-amz-json-1.1   X-Amz-Target: SageMaker.<Operation>
 *   200      JSON body; timestamps are epoch SECONDS as JSON numbers (fractional allowed)
 *   4xx/5xx  {"__type": "<ErrorCode>", "message": "..."} and the header x-amzn-ErrorType
 *
 * What the SDK (AwsJson1_1Protocol in @aws-sdk/core, JsonCodec2 in @smithy/core) does with it:
 * - requests carry timestamps as `String(date.getTime() / 1000)`, i.e. fractional epoch seconds;
 * - responses: every member whose schema is a timestamp goes through `parseEpochTimestamp`, which
 *   returns `new Date(Math.round(seconds * 1000))`: milliseconds survive the round trip;
 * - errors: the code comes from `__type` first (anything before `#` and after `:` is stripped),
 *   then `code`, then the x-amzn-ErrorType header; the message from `message` or `Message`. A code
 *   that SageMaker's model does not declare (ValidationException is not declared!) becomes a
 *   `SageMakerServiceException` whose `.name` is the code; a declared one (ConflictException,
 *   ResourceNotFound, ...) becomes an instance of its own class.
 *
 * This module knows nothing about model packages: framing, errors, and reading a JSON input
 * with SageMaker's validation messages ("1 validation error detected: Value ... at '...' failed
 * to satisfy constraint: ...").
 */
import type { IncomingMessage } from 'node:http';

export const CONTENT_TYPE = 'application/x-amz-json-1.1';

/** An error as SageMaker answers it. `messageKey`: modeled errors (ConflictException) use `Message`. */
export class ServiceError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    readonly messageKey: 'message' | 'Message' = 'message',
  ) {
    super(message);
    this.name = code;
  }
}

export const validationError = (message: string): ServiceError => new ServiceError('ValidationException', message);

export function errorBody(e: ServiceError): string {
  return JSON.stringify({ __type: e.code, [e.messageKey]: e.message });
}

/**
 * JSON with Dates as epoch seconds (the awsJson default timestamp format). JSON.stringify hands a
 * replacer the value after `toJSON`, so the raw value is read from the holder (`this[key]`).
 */
export function serializeBody(value: unknown): string {
  return JSON.stringify(value, function (this: Record<string, unknown>, key: string, v: unknown) {
    const raw = this[key];
    return raw instanceof Date ? raw.getTime() / 1000 : v;
  });
}

/** `SageMaker.DescribeModelPackage` → { namespace: 'SageMaker', operation: 'DescribeModelPackage' }. */
export function parseTarget(header: string | string[] | undefined): { namespace: string; operation: string } | undefined {
  if (typeof header !== 'string') return undefined;
  const m = /^([A-Za-z0-9_]+)\.([A-Za-z0-9_]+)$/.exec(header.trim());
  return m?.[1] && m[2] ? { namespace: m[1], operation: m[2] } : undefined;
}

/**
 * The access key id of a SigV4 `Authorization` header (`AWS4-HMAC-SHA256 Credential=<AKID>/<date>/...`).
 * The signature itself is not checked: this is a local stand-in.
 */
export function accessKeyIdFrom(authorization: string | string[] | undefined): string | undefined {
  if (typeof authorization !== 'string') return undefined;
  return /Credential=([^/,\s]+)\//.exec(authorization)?.[1];
}

export async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new ServiceError('SerializationException', `Request body is larger than ${limit} bytes`, 413);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The request body as a JSON object (an empty body is `{}`, as the SDK sends for empty inputs). */
export function parseJsonObject(text: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ServiceError('SerializationException', 'Start of structure or map found where not expected, or the body is not JSON');
  }
  if (!isObject(value)) throw new ServiceError('SerializationException', 'The request body must be a JSON object');
  return value;
}

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

// ---------------------------------------------------------------------------------------------
// Input reading with SageMaker's (Coral's) validation messages.

/** `ModelPackageGroupName` → `modelPackageGroupName`, the member path Coral names in its messages. */
const memberPath = (name: string): string => name.charAt(0).toLowerCase() + name.slice(1);

/** One of SageMaker's (Coral's) validation errors, naming the member path. */
export const constraint = (value: unknown, name: string, rule: string): ServiceError =>
  validationError(
    `1 validation error detected: Value ${value === undefined || value === null ? 'null' : `'${typeof value === 'string' ? value : JSON.stringify(value)}'`} at '${memberPath(name)}' failed to satisfy constraint: ${rule}`,
  );

interface ListRule {
  min?: number;
  max?: number;
}

interface StringRule {
  max?: number;
  min?: number;
  pattern?: RegExp;
}

/**
 * Reads members of one JSON object, refusing wrong types and values as SageMaker would. `path` is
 * where the object sits in the request (`PrimaryContainer`, `ProductionVariants.2.member`), so that
 * a refusal names the member as Coral does (`primaryContainer.modelPackageName`).
 */
export class InputReader {
  constructor(
    readonly body: Record<string, unknown>,
    readonly path = '',
  ) {}

  /** The member's path in the request, as the messages name it (`primaryContainer.modelPackageName`). */
  pathOf(name: string): string {
    return this.path ? `${this.path}.${memberPath(name)}` : memberPath(name);
  }

  has(name: string): boolean {
    return this.body[name] !== undefined && this.body[name] !== null;
  }

  string(name: string, rule: StringRule & { required: true }): string;
  string(name: string, rule?: StringRule & { required?: false }): string | undefined;
  string(name: string, rule: StringRule & { required?: boolean } = {}): string | undefined {
    return checkString(this.body[name], this.pathOf(name), rule);
  }

  /** A list of strings (ModelPackageArnList), each checked by `member`; Coral names an item `<list>.<n>.member`. */
  stringList(name: string, rule: ListRule & { required: true; member?: StringRule }): string[];
  stringList(name: string, rule?: ListRule & { required?: false; member?: StringRule }): string[] | undefined;
  stringList(name: string, rule: ListRule & { required?: boolean; member?: StringRule } = {}): string[] | undefined {
    const v = this.body[name];
    if (v === undefined || v === null) {
      if (rule.required) throw constraint(v, this.pathOf(name), 'Member must not be null');
      return undefined;
    }
    if (!Array.isArray(v)) throw new ServiceError('SerializationException', `Expected a list for ${this.pathOf(name)}`);
    checkLength(v, this.pathOf(name), rule);
    return v.map((item, i) => checkString(item, `${this.pathOf(name)}.${i + 1}.member`, { ...rule.member, required: true }));
  }

  /** A list of structures (Containers, ProductionVariants), each as a reader of its own that knows its path. */
  objectList(name: string, rule: ListRule & { required: true }): InputReader[];
  objectList(name: string, rule?: ListRule & { required?: false }): InputReader[] | undefined;
  objectList(name: string, rule: ListRule & { required?: boolean } = {}): InputReader[] | undefined {
    const v = this.body[name];
    if (v === undefined || v === null) {
      if (rule.required) throw constraint(v, this.pathOf(name), 'Member must not be null');
      return undefined;
    }
    if (!Array.isArray(v)) throw new ServiceError('SerializationException', `Expected a list for ${this.pathOf(name)}`);
    checkLength(v, this.pathOf(name), rule);
    return v.map((item, i) => {
      const path = `${this.pathOf(name)}.${i + 1}.member`;
      if (!isObject(item)) throw new ServiceError('SerializationException', `Expected an object at ${path}`);
      return new InputReader(item, path);
    });
  }

  /** A nested structure as a reader of its own (`PrimaryContainer`, `ModelLifeCycle`). */
  child(name: string, opts: { required: true }): InputReader;
  child(name: string, opts?: { required?: false }): InputReader | undefined;
  child(name: string, opts: { required?: boolean } = {}): InputReader | undefined {
    const v = opts.required ? this.object(name, { required: true }) : this.object(name);
    return v === undefined ? undefined : new InputReader(v, this.pathOf(name));
  }

  /** A JSON number, fractional allowed (InitialVariantWeight). */
  number(name: string, range: { min?: number; max?: number } = {}): number | undefined {
    const v = this.body[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new ServiceError('SerializationException', `Expected a number for ${this.pathOf(name)}`);
    if (range.min !== undefined && v < range.min) throw constraint(v, this.pathOf(name), `Member must have value greater than or equal to ${range.min}`);
    if (range.max !== undefined && v > range.max) throw constraint(v, this.pathOf(name), `Member must have value less than or equal to ${range.max}`);
    return v;
  }

  enum<T extends string>(name: string, values: readonly T[]): T | undefined {
    const v = this.body[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v))
      throw constraint(v, this.pathOf(name), `Member must satisfy enum value set: [${values.join(', ')}]`);
    return v as T;
  }

  integer(name: string, range: { min: number; max: number }): number | undefined {
    const v = this.body[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v)) throw new ServiceError('SerializationException', `Expected an integer for ${name}`);
    if (v < range.min) throw constraint(v, this.pathOf(name), `Member must have value greater than or equal to ${range.min}`);
    if (v > range.max) throw constraint(v, this.pathOf(name), `Member must have value less than or equal to ${range.max}`);
    return v;
  }

  boolean(name: string): boolean | undefined {
    const v = this.body[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') throw new ServiceError('SerializationException', `Expected a boolean for ${name}`);
    return v;
  }

  /** An awsJson timestamp: epoch seconds (number, or numeric string) → epoch milliseconds. */
  timestamp(name: string): number | undefined {
    const v = this.body[name];
    if (v === undefined || v === null) return undefined;
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : NaN;
    if (!Number.isFinite(n)) throw new ServiceError('SerializationException', `Expected epoch seconds for ${name}`);
    return Math.round(n * 1000);
  }

  object(name: string, opts: { required: true }): Record<string, unknown>;
  object(name: string, opts?: { required?: false }): Record<string, unknown> | undefined;
  object(name: string, opts: { required?: boolean } = {}): Record<string, unknown> | undefined {
    const v = this.body[name];
    if (v === undefined || v === null) {
      if (opts.required) throw constraint(v, this.pathOf(name), 'Member must not be null');
      return undefined;
    }
    if (!isObject(v)) throw new ServiceError('SerializationException', `Expected an object for ${name}`);
    return v;
  }

  array(name: string): unknown[] | undefined {
    const v = this.body[name];
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v)) throw new ServiceError('SerializationException', `Expected a list for ${name}`);
    return v;
  }

  /** A map of strings to strings (HyperParameters, CustomerMetadataProperties). */
  stringMap(name: string, rule: { maxEntries?: number; maxValue?: number } = {}): Record<string, string> | undefined {
    const v = this.object(name);
    if (v === undefined) return undefined;
    const entries = Object.entries(v);
    if (rule.maxEntries !== undefined && entries.length > rule.maxEntries)
      throw constraint(v, this.pathOf(name), `Member must have length less than or equal to ${rule.maxEntries}`);
    for (const [k, value] of entries) {
      if (typeof value !== 'string') throw new ServiceError('SerializationException', `Expected a string value for ${name}.${k}`);
      if (rule.maxValue !== undefined && value.length > rule.maxValue)
        throw constraint(value, `${this.pathOf(name)}.${k}.member.value`, `Member must have length less than or equal to ${rule.maxValue}`);
    }
    return { ...(v as Record<string, string>) };
  }
}

function checkLength(list: unknown[], path: string, rule: { min?: number; max?: number }): void {
  if (rule.min !== undefined && list.length < rule.min)
    throw constraint(list, path, `Member must have length greater than or equal to ${rule.min}`);
  if (rule.max !== undefined && list.length > rule.max)
    throw constraint(list, path, `Member must have length less than or equal to ${rule.max}`);
}

function checkString(v: unknown, path: string, rule: StringRule & { required: true }): string;
function checkString(v: unknown, path: string, rule: StringRule & { required?: boolean }): string | undefined;
function checkString(v: unknown, path: string, rule: StringRule & { required?: boolean }): string | undefined {
  if (v === undefined || v === null) {
    if (rule.required) throw constraint(v, path, 'Member must not be null');
    return undefined;
  }
  if (typeof v !== 'string') throw new ServiceError('SerializationException', `Expected a string for ${path}`);
  if (rule.min !== undefined && v.length < rule.min) throw constraint(v, path, `Member must have length greater than or equal to ${rule.min}`);
  if (rule.max !== undefined && v.length > rule.max) throw constraint(v, path, `Member must have length less than or equal to ${rule.max}`);
  if (rule.pattern && !rule.pattern.test(v)) throw constraint(v, path, `Member must satisfy regular expression pattern: ${rule.pattern.source}`);
  return v;
}
