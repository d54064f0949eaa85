/**
 * The audit entries of issue 9 (shared/domain/audit.ts): new entries for a change, the leaf an
 * entry makes in the Merkle log, and what the leaf does not cover. The log itself is
 * merkle.test.ts's; the write path's items come from the store's own `auditEntryItem`.
 */
import canonicalize from 'canonicalize';
import fc from 'fast-check';
import {
  REVIEW_LINKS_SCOPE,
  SEQUENCING_ATTRIBUTES,
  TRAINING_SCOPE,
  UncanonicalEntry,
  auditEntries,
  entryLeaf,
  entryLeafHash,
  groupScope,
  sequencedEntryProblems,
  type AuditEvent,
} from '../../shared/domain/audit.js';
import { leafHash, toHex } from '../../shared/domain/merkle.js';
import { auditEntryItem } from '../../shared/store/dynamo-store.js';

const T0 = Date.parse('2026-11-27T09:44:02Z');
const ARN = 'arn:aws:sagemaker:us-east-1:123456789012:model-package/fraud-detector/1';

const event = (n: number): AuditEvent => ({
  action: n === 1 ? 'version.registered' : `step-${n}`,
  subject: ARN,
  actor: n % 2 ? 'sagemaker' : 'arn:aws:sts::123456789012:assumed-role/PlatformAdmin/asmith',
  detail: { n, passed: n % 2 === 0, reasons: [`reason ${n}`], gate: { auc: 0.81, threshold: 0.85 } },
});

/** An id generator that hands out `id-1`, `id-2`, … and counts its calls. */
function ids(prefix = 'id') {
  const gen = Object.assign(() => `${prefix}-${++gen.calls}`, { calls: 0 });
  return gen;
}

/** The item the write path stores for entry `n` of one change (keys and the unsequenced index included). */
function storedItem(n = 1, position = 0): Record<string, unknown> {
  const [entry] = auditEntries(groupScope('fraud-detector'), [event(n)], T0, () => `entry-${n}`);
  if (!entry) throw new Error('no entry');
  return auditEntryItem({ ...entry, position });
}

/** The same item as the sequencer leaves it: its log index, out of the unsequenced index. */
function sequencedItem(index: number, n = 1): Record<string, unknown> {
  const { GSI2PK: _pk, GSI2SK: _sk, ...rest } = storedItem(n);
  return { ...rest, logIndex: index };
}

const text = (leaf: Uint8Array): string => new TextDecoder().decode(leaf);
const hex = (item: Record<string, unknown>): string => toHex(entryLeafHash(item));

/** The same JSON value with every object's keys in another order (as DynamoDB may return them). */
function reordered(value: unknown, rotate: number): unknown {
  if (Array.isArray(value)) return value.map((v) => reordered(v, rotate));
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    const r = entries.length ? rotate % entries.length : 0;
    return Object.fromEntries([...entries.slice(r), ...entries.slice(0, r)].reverse().map(([k, v]) => [k, reordered(v, rotate + 1)]));
  }
  return value;
}

/**
 * Objects as the store reads them (Object.fromEntries, store/attributes.ts) and as an export line
 * parses: fast-check's dictionaries have a null prototype, which entryLeaf does not take for JSON.
 */
const plain = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
const detailArb = fc.dictionary(fc.string(), fc.jsonValue()).map(plain);

const eventArb: fc.Arbitrary<AuditEvent> = fc.record({
  action: fc.string({ minLength: 1 }),
  subject: fc.string({ minLength: 1 }),
  actor: fc.string({ minLength: 1 }),
  detail: detailArb,
});
/** Any time toISOString accepts (Date's range: ±8.64e15 ms). */
const timeArb = fc.integer({ min: -8.64e15, max: 8.64e15 });

describe('scopes', () => {
  it('names one scope per group whatever the case of its name, and the two fixed scopes', () => {
    expect(groupScope('Fraud-Detector')).toBe('group:fraud-detector');
    expect(groupScope('fraud-detector')).toBe(groupScope('FRAUD-DETECTOR'));
    expect([TRAINING_SCOPE, REVIEW_LINKS_SCOPE]).toEqual(['training-jobs', 'review-links']);
  });
});

describe('auditEntries', () => {
  it('gives the change one id from the generator, each event its position 0..n-1, the scope and one `at` for the whole change', () => {
    const newId = ids();
    const entries = auditEntries(groupScope('fraud-detector'), [event(1), event(2), event(3)], T0, newId);

    expect(entries).toEqual([
      { id: 'id-1', scope: 'group:fraud-detector', at: '2026-11-27T09:44:02.000Z', position: 0, ...event(1) },
      { id: 'id-1', scope: 'group:fraud-detector', at: '2026-11-27T09:44:02.000Z', position: 1, ...event(2) },
      { id: 'id-1', scope: 'group:fraud-detector', at: '2026-11-27T09:44:02.000Z', position: 2, ...event(3) },
    ]);
    // One id per change: its entries sort together (the key is <at>#<id>#<position>).
    expect(newId.calls).toBe(1);
    // Not sequenced yet: the sequencer sets logIndex.
    expect(entries.every((e) => !('logIndex' in e))).toBe(true);
  });

  it('makes no entry and asks for no id when the change has no event', () => {
    const newId = ids();
    expect(auditEntries(TRAINING_SCOPE, [], T0, newId)).toEqual([]);
    expect(newId.calls).toBe(0);
  });

  it('keeps only the event fields (an event object with more on it does not leak into the entry)', () => {
    const extra = { ...event(1), logIndex: 7, GSI2PK: 'x' } as AuditEvent;
    const [entry] = auditEntries(TRAINING_SCOPE, [extra], T0, ids());
    expect(Object.keys(entry ?? {}).sort()).toEqual(['action', 'actor', 'at', 'detail', 'id', 'position', 'scope', 'subject']);
  });

  it('property: one id per change, positions 0..n-1, one `at` (the ISO time of now), events unchanged', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.array(eventArb, { maxLength: 20 }), timeArb, (scope, events, now) => {
        const newId = ids('x');
        const entries = auditEntries(scope, events, now, newId);
        expect(entries.map((e) => e.id)).toEqual(events.map(() => 'x-1'));
        expect(newId.calls).toBe(events.length ? 1 : 0);
        expect(entries.map((e) => e.position)).toEqual(events.map((_, i) => i));
        expect(new Set(entries.map((e) => e.at)).size).toBeLessThanOrEqual(1);
        for (const e of entries) expect(Date.parse(e.at)).toBe(now);
        expect(entries.every((e) => e.scope === scope)).toBe(true);
        expect(entries.map(({ action, subject, actor, detail }) => ({ action, subject, actor, detail }))).toEqual(events);
      }),
    );
  });
});

describe('entryLeaf', () => {
  it('is the RFC 8785 canonical JSON of the stored item without the sequencing attributes', () => {
    const item = storedItem();
    const leaf = text(entryLeaf(item));

    expect(SEQUENCING_ATTRIBUTES).toEqual(['logIndex', 'GSI2PK', 'GSI2SK']);
    const { GSI2PK: _pk, GSI2SK: _sk, ...covered } = item;
    expect(JSON.parse(leaf)).toEqual(covered);
    // Keys sorted, no white space: the canonical form, keys and type included.
    expect(leaf.startsWith('{"GSI1PK":"AUDITOF#arn:aws:sagemaker:')).toBe(true);
    expect(leaf).toContain('"PK":"AUDIT#group:fraud-detector","SK":"ENTRY#2026-11-27T09:44:02.000Z#entry-1#000"');
    expect(leaf).toContain('"detail":{"gate":{"auc":0.81,"threshold":0.85},"n":1,"passed":false,"reasons":["reason 1"]}');
    expect(leaf).not.toContain('GSI2');
    expect(leaf).not.toMatch(/":\s|,\s"/);
  });

  it('has the leaf hash of RFC 9162 (0x00 prefix) over its bytes', () => {
    const item = storedItem();
    expect(toHex(entryLeafHash(item))).toBe(toHex(leafHash(entryLeaf(item))));
    expect(hex(item)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('does not depend on key order, at the top or nested in detail', () => {
    const item = storedItem();
    const readBack = reordered(item, 1) as Record<string, unknown>;
    expect(Object.keys(readBack)).not.toEqual(Object.keys(item));
    expect(text(entryLeaf(readBack))).toBe(text(entryLeaf(item)));
  });

  it('is the same before and after sequencing: logIndex and the unsequenced index are not covered', () => {
    const before = storedItem();
    expect(hex(sequencedItem(0))).toBe(hex(before));
    expect(hex(sequencedItem(41))).toBe(hex(before));
    expect(hex({ ...before, GSI2PK: 'AUDIT#ELSEWHERE', GSI2SK: 'x' })).toBe(hex(before));
  });

  const covered = Object.keys(storedItem()).filter((k) => !(SEQUENCING_ATTRIBUTES as readonly string[]).includes(k));

  it('covers every attribute the write path stores', () => {
    expect(covered.sort()).toEqual(['GSI1PK', 'GSI1SK', 'PK', 'SK', 'action', 'actor', 'at', 'detail', 'id', 'position', 'scope', 'subject', 'type']);
  });

  it.each(covered)('changes when %s changes, and when it is removed', (attribute) => {
    const item = storedItem();
    const value = item[attribute];
    const changed = typeof value === 'number' ? value + 1 : typeof value === 'string' ? `${value}x` : { ...(value as object), n: 2 };
    const { [attribute]: _removed, ...without } = item;

    expect(hex({ ...item, [attribute]: changed })).not.toBe(hex(item));
    expect(hex(without)).not.toBe(hex(item));
  });

  it('changes when an attribute is added', () => {
    expect(hex({ ...storedItem(), approvedBy: 'someone' })).not.toBe(hex(storedItem()));
  });

  it('changes with the position, so two identical events of one change have different leaves', () => {
    const [a, b] = auditEntries(TRAINING_SCOPE, [event(1), event(1)], T0, () => 'same-id');
    if (!a || !b) throw new Error('two entries expected');
    expect(hex(auditEntryItem(a))).not.toBe(hex(auditEntryItem(b)));
  });

  it.each<[string, unknown, string]>([
    ['a Set', new Set(['a', 'b']), 'entry.detail.value is not a JSON value'],
    ['undefined', undefined, 'entry.detail.value is not a JSON value'],
    ['NaN', Number.NaN, 'entry.detail.value is not a finite number'],
    ['Infinity', Number.POSITIVE_INFINITY, 'entry.detail.value is not a finite number'],
    ['a Uint8Array (a binary attribute)', new Uint8Array([1, 2, 3]), 'entry.detail.value is not a JSON value'],
    ['a Date', new Date(T0), 'entry.detail.value is not a JSON value'],
    ['a bigint', 10n, 'entry.detail.value is not a JSON value'],
  ])('refuses %s in an entry with an UncanonicalEntry naming where it is', (_what, value, reason) => {
    const item = { ...storedItem(), detail: { ok: 1, value } };
    let thrown: unknown;
    try {
      entryLeaf(item);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(UncanonicalEntry);
    expect(thrown).toMatchObject({ name: 'UncanonicalEntry', reason, message: `audit entry cannot be hashed: ${reason}` });
    expect(() => entryLeafHash(item)).toThrow(UncanonicalEntry);
  });

  it('refuses an unhashable value at the top level and deep inside lists', () => {
    expect(() => entryLeaf({ ...storedItem(), actor: undefined })).toThrow(new UncanonicalEntry('entry.actor is not a JSON value'));
    expect(() => entryLeaf({ ...storedItem(), detail: { results: [{ actual: 0.9 }, { actual: Number.NaN }] } })).toThrow(
      new UncanonicalEntry('entry.detail.results[1].actual is not a finite number'),
    );
    expect(() => entryLeaf({ ...storedItem(), detail: { reviewers: new Set(['a@x.example']) } })).toThrow(UncanonicalEntry);
  });

  it('ignores what it does not cover even when it is not JSON (the sequencing attributes are left out first)', () => {
    expect(hex({ ...storedItem(), logIndex: Number.NaN })).toBe(hex(storedItem()));
  });

  it('property: a detail read back with its keys in any order has the same leaf', () => {
    fc.assert(
      fc.property(detailArb, fc.nat(), (detail, rotate) => {
        const item = { ...storedItem(), detail };
        expect(hex(reordered(item, rotate) as Record<string, unknown>)).toBe(hex(item));
      }),
    );
  });

  it('property: any other value of a covered attribute gives another leaf', () => {
    const item = storedItem();
    fc.assert(
      fc.property(fc.constantFrom(...covered), fc.jsonValue().map(plain), (attribute, value) => {
        // Only a value that is another JSON value (0 and -0, say, are one number in JSON).
        fc.pre(canonicalize(value) !== canonicalize(item[attribute]));
        expect(hex({ ...item, [attribute]: value })).not.toBe(hex(item));
      }),
    );
  });

  it('property: any change inside detail gives another leaf', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue(), { minKeys: 1 }).map(plain), fc.string(), (detail, extra) => {
        const [key] = Object.keys(detail);
        if (key === undefined) return;
        fc.pre(canonicalize(detail[key]) !== canonicalize({ changed: extra }));
        const item = { ...storedItem(), detail };
        expect(hex({ ...item, detail: { ...detail, [key]: { changed: extra } } })).not.toBe(hex(item));
      }),
    );
  });
});

describe('sequencedEntryProblems', () => {
  it('finds nothing wrong with an entry the log holds at its logIndex and that left the unsequenced index', () => {
    expect(sequencedEntryProblems(sequencedItem(0), 0)).toEqual([]);
    expect(sequencedEntryProblems(sequencedItem(17), 17)).toEqual([]);
  });

  it('names an entry whose logIndex is not its place in the log', () => {
    expect(sequencedEntryProblems(sequencedItem(3), 4)).toEqual(['logIndex is 3, the log holds it at 4']);
    expect(sequencedEntryProblems({ ...sequencedItem(3), logIndex: '4' }, 4)).toEqual(['logIndex is "4", the log holds it at 4']);
  });

  it('names an entry that has no logIndex', () => {
    const { logIndex: _i, ...unindexed } = sequencedItem(0);
    expect(sequencedEntryProblems(unindexed, 0)).toEqual(['logIndex is null, the log holds it at 0']);
  });

  it('names each unsequenced marker a sequenced entry still carries, with every other problem', () => {
    expect(sequencedEntryProblems({ ...storedItem(), logIndex: 2 }, 2)).toEqual(['a sequenced entry carries GSI2PK', 'a sequenced entry carries GSI2SK']);
    expect(sequencedEntryProblems(storedItem(), 5)).toEqual([
      'logIndex is null, the log holds it at 5',
      'a sequenced entry carries GSI2PK',
      'a sequenced entry carries GSI2SK',
    ]);
  });

  it('property: no problem exactly when the logIndex is the index asked about', () => {
    fc.assert(
      fc.property(fc.nat(), fc.nat(), (logIndex, index) => {
        expect(sequencedEntryProblems(sequencedItem(logIndex), index).length === 0).toBe(logIndex === index);
      }),
    );
  });
});
