import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand as QueryItemsCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type BatchGetCommandOutput,
  type BatchWriteCommandOutput,
  type DeleteCommandOutput,
  type DynamoDBDocumentClient,
  type GetCommandOutput,
  type PutCommandOutput,
  type QueryCommandOutput,
  type TransactWriteCommandOutput,
  type UpdateCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import { convertToAttr, convertToNative } from '@aws-sdk/util-dynamodb';
import { ValidationError } from '../domain/errors.js';

/**
 * Marshalling that keeps every key, and the store's write guard.
 *
 * lib-dynamodb's marshall and unmarshall (util-dynamodb 3.996) build maps with `map[key] = …` on a
 * `{}`. A map key that is legal in SageMaker and in DynamoDB then goes wrong: `__proto__` hits the
 * prototype setter and is lost in both directions, and a map with a `constructor` key is not
 * recognised as a map at all (marshall throws a TypeError). The low-level client's own JSON
 * serialisation keeps such keys (checked against DynamoDB Local), so the store marshals its items
 * here: maps and lists are built with `Object.fromEntries` (own data properties, no setter runs),
 * and every scalar, set and binary value still goes through util-dynamodb's `convertToAttr` /
 * `convertToNative` with the options the store's document client uses.
 *
 * `ownKeysClient(doc)` sends the document commands the store uses as their low-level commands
 * through the same client (same middleware, same retries, same errors), so the store's code keeps
 * its document-client shape.
 */

type Native = unknown;
type Item = Record<string, Native>;
type AttributeMap = Record<string, AttributeValue>;

const MARSHALL = { removeUndefinedValues: true, convertEmptyValues: false } as const;

const isContainer = (v: unknown): v is Record<string, unknown> => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};

/** A value that cannot be marshalled, with its path in the item (the sender names the item too). */
export class AttributeProblem extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
    this.name = 'AttributeProblem';
  }
}

const kept = (v: unknown): boolean => v !== undefined && typeof v !== 'function';

/**
 * A JavaScript number as DynamoDB's N, by its shortest round-trip text. util-dynamodb refuses any
 * number beyond ±2^53 (a metric of 1e20 included) unless it is wrapped in a NumberValue; a double
 * is exactly what modelgate holds, so it is stored as the double it is, and `fromAttribute` reads
 * it back as the same double. NaN and ±Infinity have no DynamoDB form.
 */
const numberAttribute = (n: number, path: string): AttributeValue => {
  if (!Number.isFinite(n)) throw new AttributeProblem(path, `${n} is not a number DynamoDB can store`);
  return { N: String(n) };
};

export function toAttribute(value: Native, path = '(value)'): AttributeValue {
  if (Array.isArray(value)) return { L: value.filter(kept).map((v, i) => toAttribute(v, `${path}.${i}`)) };
  if (isContainer(value)) return { M: toAttributeMap(value, path) };
  if (typeof value === 'number') return numberAttribute(value, path);
  try {
    return convertToAttr(value as Parameters<typeof convertToAttr>[0], MARSHALL);
  } catch (e) {
    throw new AttributeProblem(path, e instanceof Error ? e.message : String(e));
  }
}

export function toAttributeMap(item: Record<string, Native>, path?: string): AttributeMap {
  return Object.fromEntries(
    Object.entries(item)
      .filter(([, v]) => kept(v))
      .map(([k, v]) => [k, toAttribute(v, path === undefined ? k : `${path}.${k}`)]),
  ) as AttributeMap;
}

export function fromAttribute(value: AttributeValue): Native {
  if (value.M !== undefined) return fromAttributeMap(value.M);
  if (value.L !== undefined) return value.L.map(fromAttribute);
  // The double that was written (see numberAttribute); util-dynamodb would turn a large one into a BigInt.
  if (value.N !== undefined) return Number(value.N);
  return convertToNative(value);
}

export function fromAttributeMap(item: AttributeMap): Item {
  return Object.fromEntries(Object.entries(item).map(([k, v]) => [k, fromAttribute(v)]));
}

// ---------------------------------------------------------------------------------------------
// Size and shape guard

/** DynamoDB's limits (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html). */
export const DYNAMODB_LIMITS = {
  /** 400 KB, attribute names and values included. */
  itemBytes: 400 * 1024,
  transactItems: 100,
  /** 4 MB for a whole transaction. */
  transactBytes: 4 * 1024 * 1024,
  batchWriteItems: 25,
  partitionKeyBytes: 2048,
  sortKeyBytes: 1024,
  /** An attribute's (or map entry's) name: 1 byte to 64 KB. */
  nameBytes: 65_535,
} as const;

/** The key attributes of the table and its GSIs (serverless.yml): strings, never empty, within the key limits. */
const KEY_ATTRIBUTES: Record<string, 'partition' | 'sort'> = {
  PK: 'partition',
  SK: 'sort',
  GSI1PK: 'partition',
  GSI1SK: 'sort',
  GSI2PK: 'partition',
  GSI2SK: 'sort',
};

const utf8 = (s: string): number => Buffer.byteLength(s, 'utf8');

/**
 * A number's size: "1 byte per two significant digits, plus 1 byte" (DynamoDB developer guide,
 * "Item sizes and formats"); one more byte here, so that the estimate never under-counts.
 */
const numberBytes = (n: string): number => {
  const digits = n.replace(/^[-+]/, '').replace(/[eE].*$/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(digits.length, 1) / 2) + 2;
};

/**
 * The size DynamoDB counts for a value, by the rules of "Item sizes and formats": strings and
 * binaries by their bytes (UTF-8), numbers as above, null and booleans 1 byte, a list or map 3 bytes
 * plus 1 byte per element (and, in a map, each element's name). Sets get the same overhead as lists
 * (the guide gives them none): an estimate that is never below DynamoDB's own.
 */
export function attributeBytes(v: AttributeValue): number {
  if (v.S !== undefined) return utf8(v.S);
  if (v.N !== undefined) return numberBytes(v.N);
  if (v.B !== undefined) return v.B.byteLength;
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (v.L !== undefined) return 3 + v.L.reduce((n, e) => n + 1 + attributeBytes(e), 0);
  if (v.M !== undefined) return 3 + Object.entries(v.M).reduce((n, [k, e]) => n + 1 + utf8(k) + attributeBytes(e), 0);
  if (v.SS !== undefined) return 3 + v.SS.reduce((n, e) => n + 1 + utf8(e), 0);
  if (v.NS !== undefined) return 3 + v.NS.reduce((n, e) => n + 1 + numberBytes(e), 0);
  if (v.BS !== undefined) return 3 + v.BS.reduce((n, e) => n + 1 + e.byteLength, 0);
  return 0;
}

export function itemBytes(item: AttributeMap): number {
  return Object.entries(item).reduce((n, [k, v]) => n + utf8(k) + attributeBytes(v), 0);
}

/** `PK / SK` of an item or key, for error messages (no values of other attributes). */
const nameOf = (item: AttributeMap): string => [item.PK?.S, item.SK?.S].filter((s) => s !== undefined).join(' / ') || '(no key)';

/** The largest attribute, and within a map or list its largest element: `hyperparameters (…), largest entry hp_7 (…)`. */
function largest(item: AttributeMap): string {
  let best = { path: '', bytes: -1 };
  for (const [k, v] of Object.entries(item)) {
    const bytes = utf8(k) + attributeBytes(v);
    if (bytes > best.bytes) best = { path: k, bytes };
  }
  const top = item[best.path];
  const members: Array<[string, AttributeValue]> = top?.M ? Object.entries(top.M) : top?.L ? top.L.map((e, i) => [String(i), e]) : [];
  let inner = { name: '', bytes: -1 };
  for (const [k, e] of members) {
    const bytes = attributeBytes(e);
    if (bytes > inner.bytes) inner = { name: k, bytes };
  }
  return `${best.path} (${best.bytes} bytes)${inner.bytes >= 0 ? `, its largest entry: ${best.path}.${inner.name} (${inner.bytes} bytes)` : ''}`;
}

/**
 * DynamoDB's number range (developer guide, "Data types": 1E-130 to 9.9999999999999999999999999999999999999E+125,
 * positive or negative, or zero). A double such as a metric of 1e300 is outside it.
 */
const numberInRange = (n: string): boolean => {
  const x = Math.abs(Number(n));
  return x === 0 || (x >= 1e-130 && x < 1e126);
};

/**
 * Names and values DynamoDB refuses inside an item: an empty name or one over 64 KB (attributes
 * and map entries alike), a number outside DynamoDB's range. At most five, each by its path.
 */
function shapeProblems(map: AttributeMap, path = '', found: string[] = []): string[] {
  const visit = (v: AttributeValue, at: string) => {
    if (found.length >= 5) return;
    if (v.N !== undefined && !numberInRange(v.N)) found.push(`${at}: the number ${v.N} is outside DynamoDB's range (1E-130 to 1E+126)`);
    v.NS?.forEach((n) => numberInRange(n) || found.push(`${at}: the number ${n} is outside DynamoDB's range (1E-130 to 1E+126)`));
    if (v.M) shapeProblems(v.M, at, found);
    v.L?.forEach((e, i) => visit(e, `${at}.${i}`));
  };
  for (const [name, v] of Object.entries(map)) {
    if (found.length >= 5) break;
    const at = path ? `${path}.${name}` : name;
    if (name === '') found.push(`${path ? `${path}: a map entry` : 'an attribute'} with an empty name (DynamoDB refuses empty names)`);
    else if (utf8(name) > DYNAMODB_LIMITS.nameBytes) found.push(`${at.slice(0, 80)}…: a name over 64 KB`);
    visit(v, at);
  }
  return found;
}

/** The problems of one item (a Put's Item) or key (an Update's, Delete's, ConditionCheck's Key). */
function itemProblems(item: AttributeMap, whole: boolean): string[] {
  const problems: string[] = shapeProblems(item);
  for (const [name, kind] of Object.entries(KEY_ATTRIBUTES)) {
    const v = item[name];
    if (v === undefined) continue;
    if (v.S === undefined) {
      problems.push(`${name}: a key attribute must be a string`);
      continue;
    }
    const max = kind === 'partition' ? DYNAMODB_LIMITS.partitionKeyBytes : DYNAMODB_LIMITS.sortKeyBytes;
    const bytes = utf8(v.S);
    if (bytes === 0) problems.push(`${name}: a key attribute cannot be empty`);
    if (bytes > max) problems.push(`${name}: is ${bytes} bytes; DynamoDB allows at most ${max} for a ${kind} key`);
  }
  if (whole) {
    const bytes = itemBytes(item);
    if (bytes > DYNAMODB_LIMITS.itemBytes) {
      problems.push(`is ${bytes} bytes (estimated), over DynamoDB's 400 KB item limit; largest attribute: ${largest(item)}`);
    }
  }
  return problems;
}

interface Write {
  item: AttributeMap;
  /** A whole item (Put) rather than a key (Update, Delete, ConditionCheck). */
  whole: boolean;
}

/**
 * Refuses, before anything is sent, a write that DynamoDB would refuse with its own
 * ValidationException (which Lambda would retry and then dead-letter, naming nothing): an item over
 * 400 KB, a key attribute that is empty, not a string or too long, more than 100 operations (or
 * 4 MB) in a transaction, two operations on one item in a transaction.
 */
export function guardWrites(writes: Write[], opts: { transaction: boolean; maxItems: number }): void {
  const problems: string[] = [];
  if (writes.length > opts.maxItems) {
    problems.push(`${opts.transaction ? 'transaction' : 'batch'}: has ${writes.length} operations; DynamoDB allows at most ${opts.maxItems}`);
  }
  let total = 0;
  const seen = new Set<string>();
  for (const w of writes) {
    const name = nameOf(w.item);
    for (const p of itemProblems(w.item, w.whole)) problems.push(`item ${name}: ${p}`);
    total += itemBytes(w.item);
    const key = `${w.item.PK?.S ?? ''}\u0000${w.item.SK?.S ?? ''}`;
    if (seen.has(key)) problems.push(`item ${name}: written twice in one ${opts.transaction ? 'transaction' : 'batch'}`);
    seen.add(key);
  }
  if (opts.transaction && total > DYNAMODB_LIMITS.transactBytes) {
    problems.push(`transaction: is ${total} bytes (estimated); DynamoDB allows at most 4 MB`);
  }
  if (problems.length) throw new ValidationError('DynamoDB write', problems);
}

// ---------------------------------------------------------------------------------------------
// The document commands the store sends, as low-level commands

type TransactItem = NonNullable<TransactWriteCommand['input']['TransactItems']>[number];

const values = (v: Record<string, Native> | undefined) => (v === undefined ? {} : { ExpressionAttributeValues: toAttributeMap(v) });
const opt = <T>(v: AttributeMap | undefined, f: (m: AttributeMap) => T): T | undefined => (v === undefined ? undefined : f(v));

function transactItem(t: TransactItem): { low: NonNullable<TransactWriteItemsCommand['input']['TransactItems']>[number]; write: Write } {
  try {
    return transactItemOf(t);
  } catch (e) {
    if (!(e instanceof AttributeProblem)) throw e;
    const key = (t.Put?.Item ?? t.Update?.Key ?? t.Delete?.Key ?? t.ConditionCheck?.Key ?? {}) as Record<string, unknown>;
    throw new AttributeProblem(`item ${String(key['PK'])} / ${String(key['SK'])}: ${e.path}`, e.message.slice(e.path.length + 2));
  }
}

function transactItemOf(t: TransactItem): { low: NonNullable<TransactWriteItemsCommand['input']['TransactItems']>[number]; write: Write } {
  if (t.Put) {
    const Item = toAttributeMap(t.Put.Item ?? {});
    return { low: { Put: { ...t.Put, Item, ...values(t.Put.ExpressionAttributeValues) } }, write: { item: Item, whole: true } };
  }
  if (t.Update) {
    const Key = toAttributeMap(t.Update.Key ?? {});
    return { low: { Update: { ...t.Update, Key, ...values(t.Update.ExpressionAttributeValues) } }, write: { item: Key, whole: false } };
  }
  if (t.Delete) {
    const Key = toAttributeMap(t.Delete.Key ?? {});
    return { low: { Delete: { ...t.Delete, Key, ...values(t.Delete.ExpressionAttributeValues) } }, write: { item: Key, whole: false } };
  }
  if (t.ConditionCheck) {
    const Key = toAttributeMap(t.ConditionCheck.Key ?? {});
    return {
      low: { ConditionCheck: { ...t.ConditionCheck, Key, ...values(t.ConditionCheck.ExpressionAttributeValues) } },
      write: { item: Key, whole: false },
    };
  }
  throw new ValidationError('DynamoDB write', ['transaction: an operation that is neither Put, Update, Delete nor ConditionCheck']);
}

type Supported = GetCommand | PutCommand | UpdateCommand | DeleteCommand | QueryCommand | BatchGetCommand | BatchWriteCommand | TransactWriteCommand;
type OutputOf<C> = C extends GetCommand
  ? GetCommandOutput
  : C extends PutCommand
    ? PutCommandOutput
    : C extends UpdateCommand
      ? UpdateCommandOutput
      : C extends DeleteCommand
        ? DeleteCommandOutput
        : C extends QueryCommand
          ? QueryCommandOutput
          : C extends BatchGetCommand
            ? BatchGetCommandOutput
            : C extends BatchWriteCommand
              ? BatchWriteCommandOutput
              : C extends TransactWriteCommand
                ? TransactWriteCommandOutput
                : never;

export interface OwnKeysClient {
  send<C extends Supported>(command: C): Promise<OutputOf<C>>;
}

/**
 * The document client's commands, marshalled here (every key kept) and checked by `guardWrites`,
 * then sent as their low-level commands through the same client. Outputs come back in the
 * document client's shape.
 */
export function ownKeysClient(doc: DynamoDBDocumentClient): OwnKeysClient {
  const send = async (command: Supported): Promise<unknown> => {
    try {
      return await sendOwnKeys(command);
    } catch (e) {
      if (e instanceof AttributeProblem) {
        throw new ValidationError('DynamoDB write', [e.message.startsWith('item ') ? e.message : `${describe(command)}: ${e.message}`]);
      }
      throw e;
    }
  };
  /** The item a command is about, for a marshalling problem's message: its key, when it has one. */
  const describe = (command: Supported): string => {
    const input = command.input as { Item?: Record<string, unknown>; Key?: Record<string, unknown> };
    const key = input.Item ?? input.Key;
    return key && typeof key['PK'] === 'string' ? `item ${String(key['PK'])} / ${String(key['SK'])}` : command.constructor.name;
  };
  const sendOwnKeys = async (command: Supported): Promise<unknown> => {
    if (command instanceof GetCommand) {
      const { Key, ...rest } = command.input;
      const out = await doc.send(new GetItemCommand({ ...rest, Key: toAttributeMap(Key ?? {}) }));
      return { ...out, Item: opt(out.Item, fromAttributeMap) };
    }
    if (command instanceof PutCommand) {
      const { Item, ExpressionAttributeValues, ...rest } = command.input;
      const item = toAttributeMap(Item ?? {});
      guardWrites([{ item, whole: true }], { transaction: false, maxItems: 1 });
      const out = await doc.send(new PutItemCommand({ ...rest, Item: item, ...values(ExpressionAttributeValues) }));
      return { ...out, Attributes: opt(out.Attributes, fromAttributeMap) };
    }
    if (command instanceof UpdateCommand) {
      const { Key, ExpressionAttributeValues, ...rest } = command.input;
      const key = toAttributeMap(Key ?? {});
      guardWrites([{ item: key, whole: false }], { transaction: false, maxItems: 1 });
      const out = await doc.send(new UpdateItemCommand({ ...rest, Key: key, ...values(ExpressionAttributeValues) }));
      return { ...out, Attributes: opt(out.Attributes, fromAttributeMap) };
    }
    if (command instanceof DeleteCommand) {
      const { Key, ExpressionAttributeValues, ...rest } = command.input;
      const out = await doc.send(new DeleteItemCommand({ ...rest, Key: toAttributeMap(Key ?? {}), ...values(ExpressionAttributeValues) }));
      return { ...out, Attributes: opt(out.Attributes, fromAttributeMap) };
    }
    if (command instanceof QueryCommand) {
      const { ExpressionAttributeValues, ExclusiveStartKey, ...rest } = command.input;
      const out = await doc.send(
        new QueryItemsCommand({
          ...rest,
          ...values(ExpressionAttributeValues),
          ...(ExclusiveStartKey ? { ExclusiveStartKey: toAttributeMap(ExclusiveStartKey) } : {}),
        }),
      );
      return { ...out, Items: out.Items?.map(fromAttributeMap), LastEvaluatedKey: opt(out.LastEvaluatedKey, fromAttributeMap) };
    }
    if (command instanceof BatchGetCommand) {
      const requested = command.input.RequestItems ?? {};
      const out = await doc.send(
        new BatchGetItemCommand({
          ...command.input,
          RequestItems: Object.fromEntries(
            Object.entries(requested).map(([table, r]) => [table, { ...r, Keys: (r.Keys ?? []).map((k) => toAttributeMap(k)) }]),
          ),
        }),
      );
      return {
        ...out,
        Responses: out.Responses && Object.fromEntries(Object.entries(out.Responses).map(([t, items]) => [t, items.map(fromAttributeMap)])),
        UnprocessedKeys:
          out.UnprocessedKeys &&
          Object.fromEntries(Object.entries(out.UnprocessedKeys).map(([t, r]) => [t, { ...r, Keys: r.Keys?.map(fromAttributeMap) }])),
      };
    }
    if (command instanceof BatchWriteCommand) {
      const writes: Write[] = [];
      const RequestItems = Object.fromEntries(
        Object.entries(command.input.RequestItems ?? {}).map(([table, requests]) => [
          table,
          requests.map((r) => {
            if (r.PutRequest) {
              const item = toAttributeMap(r.PutRequest.Item ?? {});
              writes.push({ item, whole: true });
              return { PutRequest: { Item: item } };
            }
            const key = toAttributeMap(r.DeleteRequest?.Key ?? {});
            writes.push({ item: key, whole: false });
            return { DeleteRequest: { Key: key } };
          }),
        ]),
      );
      guardWrites(writes, { transaction: false, maxItems: DYNAMODB_LIMITS.batchWriteItems });
      const out = await doc.send(new BatchWriteItemCommand({ ...command.input, RequestItems }));
      return {
        ...out,
        UnprocessedItems:
          out.UnprocessedItems &&
          Object.fromEntries(
            Object.entries(out.UnprocessedItems).map(([t, rs]) => [
              t,
              rs.map((r) =>
                r.PutRequest ? { PutRequest: { Item: fromAttributeMap(r.PutRequest.Item ?? {}) } } : { DeleteRequest: { Key: fromAttributeMap(r.DeleteRequest?.Key ?? {}) } },
              ),
            ]),
          ),
      };
    }
    if (command instanceof TransactWriteCommand) {
      const converted = (command.input.TransactItems ?? []).map(transactItem);
      guardWrites(
        converted.map((c) => c.write),
        { transaction: true, maxItems: DYNAMODB_LIMITS.transactItems },
      );
      return doc.send(new TransactWriteItemsCommand({ ...command.input, TransactItems: converted.map((c) => c.low) }));
    }
    throw new TypeError('ownKeysClient: unsupported command');
  };
  return { send: send as OwnKeysClient['send'] };
}
