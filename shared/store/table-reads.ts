import { BatchGetCommand, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { OwnKeysClient } from './attributes.js';

type Item = Record<string, unknown>;

/** BatchGetItem's limit on keys per request. */
const BATCH_GET_KEYS = 100;

/**
 * The two multi-request reads both DynamoDB adapters make (the governance store and the audit
 * log's store), over the store's own marshalling (./attributes.ts).
 */
export function tableReads(client: OwnKeysClient, table: string) {
  return {
    /**
     * Consistent BatchGetItem of every key (duplicates read once), 100 keys a request; unprocessed
     * keys (throttling) are retried with backoff until all are read. Missing items are left out.
     */
    async batchGet(wanted: readonly Item[]): Promise<Item[]> {
      const unique = [...new Map(wanted.map((k) => [`${String(k.PK)}\u0000${String(k.SK)}`, { PK: k.PK, SK: k.SK }])).values()];
      const found: Item[] = [];
      for (let start = 0; start < unique.length; start += BATCH_GET_KEYS) {
        let pending: Item[] = unique.slice(start, start + BATCH_GET_KEYS);
        for (let attempt = 0; pending.length > 0; attempt++) {
          if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 25 * 2 ** attempt)));
          const out = await client.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: pending, ConsistentRead: true } } }));
          found.push(...(out.Responses?.[table] ?? []));
          pending = (out.UnprocessedKeys?.[table]?.Keys as Item[] | undefined) ?? [];
        }
      }
      return found;
    },

    /** Every page of a Query. */
    async queryAll(input: Omit<QueryCommandInput, 'TableName'>): Promise<Item[]> {
      const items: Item[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const out = await client.send(new QueryCommand({ ...input, TableName: table, ExclusiveStartKey: start }));
        items.push(...(out.Items ?? []));
        start = out.LastEvaluatedKey;
      } while (start);
      return items;
    },
  };
}
