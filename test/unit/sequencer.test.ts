/**
 * The sequencer's pure planning (shared/usecases/sequencer.ts) against merkle.ts's own appends,
 * and its retry bound and refusal of unhashable entries on an in-memory log.
 */
import fc from 'fast-check';
import type { AuditLogStore, LogAppend, LogHead, StoredItem } from '../../shared/audit-log-ports.js';
import { UncanonicalEntry } from '../../shared/domain/audit.js';
import { Conflict } from '../../shared/domain/errors.js';
import { appendLeaves, edgeRefs, emptyRoot, leafHash, toHex, type RightEdge } from '../../shared/domain/merkle.js';
import { logger } from '../../shared/logger.js';
import { MAX_APPEND_ATTEMPTS, appendOperations, nextAppend, planAppends, sequenceEntries } from '../../shared/usecases/sequencer.js';

logger.setLogLevel('SILENT');

/** A right edge of `size` with arbitrary hashes: appendLeaves checks only its shape. */
const edgeOfSize = (size: number): RightEdge => ({ size, nodes: edgeRefs(size).map((r) => ({ ...r, hash: leafHash(Uint8Array.of(r.level, r.index % 256)) })) });
const leaves = (n: number) => Array.from({ length: n }, (_, i) => leafHash(Uint8Array.of(i % 256, Math.floor(i / 256))));
const sizes = fc.oneof(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER - 200 }));

describe('appendOperations', () => {
  it('is the head, every node appendLeaves creates and one entry update per leaf, for any log size (up to 2^53)', () => {
    fc.assert(
      fc.property(sizes, fc.integer({ min: 1, max: 40 }), (size, count) => {
        const created = appendLeaves(edgeOfSize(size), leaves(count)).nodes.length;
        expect(appendOperations(size, count)).toBe(1 + created + count);
      }),
      { numRuns: 300 },
    );
  });
});

describe('planAppends', () => {
  it('covers every leaf in order, each append at most 30 leaves and 100 operations, each cut as late as it can be', () => {
    fc.assert(
      fc.property(sizes, fc.integer({ min: 0, max: 400 }), (size, count) => {
        const plan = planAppends(size, count);
        expect(plan.reduce((a, b) => a + b, 0)).toBe(count);
        let at = size;
        plan.forEach((k, i) => {
          expect(k).toBeGreaterThanOrEqual(1);
          expect(k).toBeLessThanOrEqual(30);
          expect(appendOperations(at, k)).toBeLessThanOrEqual(100);
          // Not the last: one more leaf would break a limit.
          if (i < plan.length - 1) expect(k === 30 || appendOperations(at, k + 1) > 100).toBe(true);
          at += k;
        });
      }),
      { numRuns: 300 },
    );
  });

  it('100 leaves on an empty log: 30, 30, 30, 10; on a log whose size has many set bits the first append is shorter', () => {
    expect(planAppends(0, 100)).toEqual([30, 30, 30, 10]);
    expect(planAppends(0, 0)).toEqual([]);
    // 2^40 − 1 leaves: the first leaf merges 40 times, so 30 leaves would need 91 + 40 − 4 operations.
    const [first] = planAppends(2 ** 40 - 1, 30);
    expect(first).toBeLessThan(30);
    expect(appendOperations(2 ** 40 - 1, first ?? 0)).toBeLessThanOrEqual(100);
  });
});

describe('nextAppend', () => {
  it('writes the new head (size, root, edge), every created node and the leaves with their entries, all in hex', () => {
    const hashes = leaves(5);
    const empty: LogHead = { size: 0, rootHash: toHex(emptyRoot()), edge: [] };
    const change = nextAppend(empty, hashes.map((hash, i) => ({ entry: { PK: 'AUDIT#s', SK: `ENTRY#${i}` }, hash })), '2026-11-27T12:00:00.000Z');
    const expected = appendLeaves({ size: 0, nodes: [] }, hashes);
    expect(change.expectedSize).toBe(0);
    expect(change.head).toEqual({
      size: 5,
      rootHash: toHex(expected.root),
      edge: expected.edge.nodes.map((n) => ({ level: n.level, index: n.index, hash: toHex(n.hash) })),
      updatedAt: '2026-11-27T12:00:00.000Z',
    });
    expect(change.nodes).toHaveLength(expected.nodes.length);
    expect(change.leaves.map((l) => [l.index, l.entry.SK, l.hash])).toEqual(hashes.map((h, i) => [i, `ENTRY#${i}`, toHex(h)]));
  });
});

/** An in-memory log whose `append` answers what `answer` says. */
function memoryLog(entries: StoredItem[], answer: (change: LogAppend) => 'committed' | 'conflict') {
  const state: { head: LogHead } = { head: { size: 0, rootHash: toHex(emptyRoot()), edge: [] } };
  const appends: LogAppend[] = [];
  const log: Pick<AuditLogStore, 'readHead' | 'readEntries' | 'append'> = {
    readHead: async () => state.head,
    readEntries: async (keys) => entries.filter((e) => keys.some((k) => k.PK === e.PK && k.SK === e.SK)),
    append: async (change) => {
      appends.push(change);
      const result = answer(change);
      if (result === 'committed') {
        expect(change.expectedSize).toBe(state.head.size);
        state.head = change.head;
        for (const l of change.leaves) {
          const e = entries.find((x) => x.PK === l.entry.PK && x.SK === l.entry.SK);
          if (e) e.logIndex = l.index;
        }
      }
      return result;
    },
  };
  return { log: log as AuditLogStore, appends, state };
}

const entry = (i: number): StoredItem => ({ PK: 'AUDIT#training-jobs', SK: `ENTRY#2026-11-27T12:00:00.000Z#000#${i}`, type: 'AuditEntry', at: '2026-11-27T12:00:00.000Z', detail: { i } });
const clock = { now: () => Date.parse('2026-11-27T12:00:00Z') };

describe('sequenceEntries on an in-memory log', () => {
  it(`gives up after ${MAX_APPEND_ATTEMPTS} lost races with a retryable Conflict`, async () => {
    const { log, appends } = memoryLog([entry(1), entry(2)], () => 'conflict');
    const error = await sequenceEntries({ log, clock }, [entry(1), entry(2)].map(({ PK, SK }) => ({ PK: String(PK), SK: String(SK) }))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Conflict);
    expect((error as Conflict).retryable).toBe(true);
    expect(appends).toHaveLength(MAX_APPEND_ATTEMPTS);
  });

  it('goes on after a lost race: the entries placed meanwhile are skipped, the rest appended after them', async () => {
    const all = [entry(1), entry(2), entry(3)];
    let first = true;
    const memory = memoryLog(all, () => {
      if (!first) return 'committed';
      first = false;
      // Another sequencer placed entry 2 just before this append.
      const other = nextAppend(memory.state.head, [{ entry: { PK: 'AUDIT#training-jobs', SK: String(all[1]?.SK) }, hash: leafHash(Uint8Array.of(2)) }], 'then');
      memory.state.head = other.head;
      (all[1] as StoredItem).logIndex = 0;
      return 'conflict';
    });
    const report = await sequenceEntries({ log: memory.log, clock }, all.map(({ PK, SK }) => ({ PK: String(PK), SK: String(SK) })));
    expect(report).toMatchObject({ sequenced: 2, skipped: 1, missing: 0, logSize: 3 });
    expect(all.map((e) => e.logIndex)).toEqual([1, 0, 2]);
    const retry = memory.appends[1];
    expect(retry?.expectedSize).toBe(1);
    expect(retry?.leaves.map((l) => [l.index, l.entry.SK])).toEqual([[1, all[0]?.SK], [2, all[2]?.SK]]);
  });

  it('an entry that cannot be hashed (a Set, say) fails the batch before anything is appended', async () => {
    const bad: StoredItem = { ...entry(2), detail: { reviewers: new Set(['a']) } };
    const { log, appends } = memoryLog([entry(1), bad], () => 'committed');
    await expect(sequenceEntries({ log, clock }, [entry(1), bad].map(({ PK, SK }) => ({ PK: String(PK), SK: String(SK) })))).rejects.toBeInstanceOf(UncanonicalEntry);
    expect(appends).toHaveLength(0);
  });
});
