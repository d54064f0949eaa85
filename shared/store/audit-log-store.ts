import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import type { AuditLogStore, ItemKey, LogAppend, LogHead, LogLeaf, SignedCheckpoint, StoredItem, StoredNode } from '../audit-log-ports.js';
import type { CheckpointBody } from '../domain/checkpoint.js';
import { ValidationError } from '../domain/errors.js';
import { emptyRoot, fromHex, isHashHex, nodeKey, toHex, type NodeRef } from '../domain/merkle.js';
import type { CommitResult } from '../ports.js';
import { ownKeysClient } from './attributes.js';
import { tableReads } from './table-reads.js';
import { decodeCursor, encodeCursor, type CursorShape } from './cursor.js';
import { LOG_CHECKPOINTS, UNSEQUENCED_ENTRIES, keys } from './keys.js';

/**
 * The DynamoDB adapter of `AuditLogStore`: the Merkle log's head, its nodes and its checkpoints,
 * and the audit entries as the sequencer reads and marks them (keys.ts):
 *
 *   MLOG / HEAD                         { type: LogHead, size, rootHash, edge: [{level, index, hash}], updatedAt }
 *   MLOG#NODE#<level>#<index> / NODE    { type: LogNode, level, index, hash }   level 0 also: entryPK, entrySK, sequencedAt
 *   MLOG#CHECKPOINTS / <size 16>        { type: LogCheckpoint, checkpoint, signature, objectKey }
 *
 * Every node has a partition of its own, so a proof's nodes are one BatchGetItem of independent
 * keys, and a leaf is read by index without a Query. Hashes are lowercase hex. Items go through
 * the store's own marshalling and write guard (./attributes.ts), like the governance store's.
 */

type Item = Record<string, unknown>;
type TransactItem = NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>[number];

/** The unsequenced entries' page: GSI2 `AUDIT#UNSEQUENCED`, holding audit entries only. */
const UNSEQUENCED_PAGE: CursorShape = {
  index: 'GSI2',
  partition: { name: 'GSI2PK', value: UNSEQUENCED_ENTRIES },
  sort: { name: 'GSI2SK', prefix: '' },
  table: { PK: [keys.auditScope('')], SK: [keys.auditEntryPrefix] },
};

const EMPTY_ROOT_HEX = toHex(emptyRoot());

/**
 * The reasons a cancelled transaction counts as losing a race: a condition that failed (the head
 * moved, a node exists, an entry got its index) or a transaction on the same items at the same
 * time (DynamoDB cancels one of two concurrent transactions with `TransactionConflict`).
 * Anything else (throttling, a validation error) is thrown.
 */
const LOST_RACE = new Set(['None', 'ConditionalCheckFailed', 'TransactionConflict']);

export function auditLogStore({ client: documentClient, table }: { client: DynamoDBDocumentClient; table: string }): AuditLogStore {
  const client = ownKeysClient(documentClient);

  const reads = tableReads(client, table);
  const batchGet = (wanted: readonly ItemKey[]): Promise<Item[]> => reads.batchGet(wanted as unknown as Item[]);
  const queryAll = (input: { KeyConditionExpression: string; ExpressionAttributeValues: Item }): Promise<Item[]> => reads.queryAll({ ...input, ConsistentRead: true });

  const transact = async (items: TransactItem[]): Promise<CommitResult> => {
    try {
      await client.send(new TransactWriteCommand({ TransactItems: items }));
      return 'committed';
    } catch (e) {
      const reasons = e instanceof TransactionCanceledException ? (e.CancellationReasons ?? []) : undefined;
      if (reasons && reasons.length > 0 && reasons.every((r) => LOST_RACE.has(r.Code ?? 'None'))) return 'conflict';
      throw e;
    }
  };

  return {
    async readHead() {
      const out = await client.send(new GetCommand({ TableName: table, Key: keys.logHead(), ConsistentRead: true }));
      return out.Item ? headFrom(out.Item) : { size: 0, rootHash: EMPTY_ROOT_HEX, edge: [] };
    },

    // The raw items: the leaf hash covers the item exactly as stored (domain/audit.ts entryLeaf).
    readEntries: (entryKeys) => batchGet(entryKeys) as Promise<StoredItem[]>,

    async listUnsequenced({ limit, cursor }) {
      const out = await client.send(
        new QueryCommand({
          TableName: table,
          IndexName: 'GSI2',
          KeyConditionExpression: 'GSI2PK = :pk',
          ExpressionAttributeValues: { ':pk': UNSEQUENCED_ENTRIES },
          ProjectionExpression: 'PK, SK, #at',
          ExpressionAttributeNames: { '#at': 'at' },
          ScanIndexForward: true,
          Limit: limit,
          ExclusiveStartKey: decodeCursor(UNSEQUENCED_PAGE, cursor),
        }),
      );
      const next = encodeCursor(UNSEQUENCED_PAGE, out.LastEvaluatedKey);
      return {
        items: (out.Items ?? []).map((i) => ({ PK: String(i.PK), SK: String(i.SK), at: String(i.at) })),
        ...(next ? { cursor: next } : {}),
      };
    },

    async append(change: LogAppend) {
      return transact(appendItems(table, change));
    },

    async readNodes(refs: readonly NodeRef[]) {
      const items = await batchGet(refs.map((r) => keys.logNode(r.level, r.index)));
      const map = new Map<string, Uint8Array>();
      for (const i of items) {
        // A malformed hash is left out: the proof builders then name the node (MissingMerkleNode).
        if (typeof i.level === 'number' && typeof i.index === 'number' && isHashHex(i.hash)) {
          map.set(nodeKey({ level: i.level, index: i.index }), fromHex(i.hash));
        }
      }
      return map;
    },

    async readLeaves(from: number, to: number) {
      if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || to < from) {
        throw new ValidationError('leaf range', [`[${from}, ${to}) must be safe integers with 0 ≤ from ≤ to`]);
      }
      const wanted: ItemKey[] = [];
      for (let i = from; i < to; i++) wanted.push(keys.logNode(0, i));
      const leaves = (await batchGet(wanted)).map(leafFrom).filter((l): l is LogLeaf => l !== undefined);
      return leaves.sort((a, b) => a.index - b.index);
    },

    async latestCheckpoint() {
      const out = await client.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: 'PK = :pk',
          ExpressionAttributeValues: { ':pk': LOG_CHECKPOINTS },
          ScanIndexForward: false,
          Limit: 1,
          ConsistentRead: true,
        }),
      );
      const item = out.Items?.[0];
      return item ? checkpointFrom(item) : undefined;
    },

    async listCheckpoints() {
      const items = await queryAll({ KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': LOG_CHECKPOINTS } });
      return items.map(checkpointFrom);
    },

    async recordCheckpoint({ checkpoint, signature, objectKey }) {
      try {
        await client.send(
          new PutCommand({
            TableName: table,
            Item: { ...keys.logCheckpoint(checkpoint.logSize), type: 'LogCheckpoint', checkpoint, signature, objectKey },
            ConditionExpression: 'attribute_not_exists(PK)',
          }),
        );
        return 'committed';
      } catch (e) {
        if (e instanceof Error && e.name === 'ConditionalCheckFailedException') return 'conflict';
        throw e;
      }
    },
  };
}

/**
 * The one transaction of an append: the head (conditional on the size the sequencer read), every
 * new node (each written once, never updated), and each leaf's entry, which gets its `logIndex`
 * and leaves the unsequenced index (conditional on having no index yet). Any of these conditions
 * failing means another sequencer got there first: nothing is written and the caller re-reads.
 * The write guard (./attributes.ts) refuses more than 100 operations; the sequencer plans its
 * batches under that (usecases/sequencer.ts `planAppends`).
 */
function appendItems(table: string, change: LogAppend): TransactItem[] {
  const { expectedSize, head, nodes, leaves } = change;
  const problems: string[] = [];
  if (head.size !== expectedSize + leaves.length) problems.push(`head.size ${head.size} is not ${expectedSize} + ${leaves.length} leaves`);
  const leafAt = new Map(leaves.map((l) => [l.index, l]));
  const levelZero = nodes.filter((n) => n.level === 0);
  if (levelZero.length !== leaves.length) problems.push(`${levelZero.length} level-0 nodes for ${leaves.length} leaves`);
  for (const n of levelZero) {
    const leaf = leafAt.get(n.index);
    if (!leaf) problems.push(`level-0 node ${n.index} has no leaf`);
    else if (leaf.hash !== n.hash) problems.push(`leaf ${n.index}: its hash differs from its node's`);
  }
  if (problems.length) throw new ValidationError('log append', problems);

  const headItem: Item = {
    ...keys.logHead(),
    type: 'LogHead',
    size: head.size,
    rootHash: head.rootHash,
    edge: head.edge.map(({ level, index, hash }) => ({ level, index, hash })),
    ...(head.updatedAt ? { updatedAt: head.updatedAt } : {}),
  };
  return [
    {
      Put: {
        TableName: table,
        Item: headItem,
        ...(expectedSize === 0
          ? { ConditionExpression: 'attribute_not_exists(PK)' }
          : // `size` is a reserved word in DynamoDB expressions.
            { ConditionExpression: '#size = :expected', ExpressionAttributeNames: { '#size': 'size' }, ExpressionAttributeValues: { ':expected': expectedSize } }),
      },
    },
    ...nodes.map((n): TransactItem => {
      const leaf = n.level === 0 ? leafAt.get(n.index) : undefined;
      return {
        Put: {
          TableName: table,
          Item: {
            ...keys.logNode(n.level, n.index),
            type: 'LogNode',
            level: n.level,
            index: n.index,
            hash: n.hash,
            ...(leaf ? { entryPK: leaf.entry.PK, entrySK: leaf.entry.SK, sequencedAt: leaf.sequencedAt } : {}),
          },
          ConditionExpression: 'attribute_not_exists(PK)',
        },
      };
    }),
    ...leaves.map(
      (l): TransactItem => ({
        Update: {
          TableName: table,
          Key: { PK: l.entry.PK, SK: l.entry.SK },
          UpdateExpression: 'SET logIndex = :i REMOVE GSI2PK, GSI2SK',
          ConditionExpression: 'attribute_exists(PK) AND attribute_not_exists(logIndex)',
          ExpressionAttributeValues: { ':i': l.index },
        },
      }),
    ),
  ];
}

function headFrom(item: Item): LogHead {
  const edge = Array.isArray(item.edge) ? (item.edge as Item[]) : [];
  return {
    size: Number(item.size),
    rootHash: String(item.rootHash),
    edge: edge.map((n): StoredNode => ({ level: Number(n.level), index: Number(n.index), hash: String(n.hash) })),
    ...(typeof item.updatedAt === 'string' ? { updatedAt: item.updatedAt } : {}),
  };
}

function leafFrom(item: Item): LogLeaf | undefined {
  if (typeof item.index !== 'number' || typeof item.hash !== 'string') return undefined;
  return {
    index: item.index,
    hash: item.hash,
    entry: { PK: String(item.entryPK), SK: String(item.entrySK) },
    sequencedAt: String(item.sequencedAt),
  };
}

function checkpointFrom(item: Item): SignedCheckpoint {
  return { checkpoint: item.checkpoint as CheckpointBody, signature: String(item.signature) };
}
