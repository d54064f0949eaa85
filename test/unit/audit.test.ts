import {
  GENESIS_HASH,
  appendToChain,
  emptyHead,
  groupChain,
  hashEntry,
  verifyChain,
  type AuditEntry,
  type AuditEvent,
} from '../../shared/domain/audit.js';
import { at, without } from './fixtures.js';

const CHAIN = groupChain('fraud-detector');
const T0 = Date.parse('2026-11-27T09:44:02Z');
const ARN = 'arn:aws:sagemaker:us-east-1:123456789012:model-package/fraud-detector/1';

const event = (n: number): AuditEvent => ({
  action: n === 1 ? 'version-registered' : `step-${n}`,
  subject: ARN,
  actor: n % 2 ? 'sagemaker' : 'arn:aws:sts::123456789012:assumed-role/PlatformAdmin/asmith',
  detail: { n, passed: n % 2 === 0, reasons: [`reason ${n}`] },
});

/** A chain of `n` entries built in two appends (so the second starts from a stored head). */
function chainOf(n: number): { entries: AuditEntry[]; head: ReturnType<typeof appendToChain>['head'] } {
  const first = appendToChain(emptyHead(CHAIN), [1, 2].filter((i) => i <= n).map(event), T0);
  const rest = appendToChain(first.head, Array.from({ length: Math.max(0, n - 2) }, (_, i) => event(i + 3)), T0 + 60_000);
  return { entries: [...first.entries, ...rest.entries], head: rest.head };
}

describe('appendToChain', () => {
  it('numbers entries 1..n and links each to the previous hash, starting from GENESIS', () => {
    const { entries, head } = chainOf(5);
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(entries[0]?.prevHash).toBe(GENESIS_HASH);
    expect(GENESIS_HASH).toBe('0'.repeat(64));
    for (let i = 1; i < entries.length; i++) expect(entries[i]?.prevHash).toBe(entries[i - 1]?.hash);
    expect(head).toEqual({ chain: CHAIN, seq: 5, hash: entries[4]?.hash });
  });

  it('stamps each entry with the chain, the time and a sha256 hex hash of its content', () => {
    const { entries } = appendToChain(emptyHead(CHAIN), [event(1)], T0);
    const e = at(entries, 0);
    expect(e.chain).toBe('group:fraud-detector');
    expect(e.at).toBe('2026-11-27T09:44:02.000Z');
    expect(e.hash).toMatch(/^[0-9a-f]{64}$/);
    const { hash, ...unsigned } = e;
    expect(hashEntry(unsigned)).toBe(hash);
    expect(e).toMatchObject(event(1));
  });

  it('returns the given head and no entries for no events', () => {
    const head = { chain: CHAIN, seq: 7, hash: 'a'.repeat(64) };
    expect(appendToChain(head, [], T0)).toEqual({ entries: [], head });
  });

  it('gives different hashes to identical events at different positions', () => {
    const { entries } = appendToChain(emptyHead(CHAIN), [event(1), event(1)], T0);
    expect(entries[0]?.hash).not.toBe(entries[1]?.hash);
  });
});

describe('verifyChain', () => {
  it('verifies an untouched chain and returns its head', () => {
    const { entries, head } = chainOf(5);
    expect(verifyChain(CHAIN, entries, head)).toEqual({ verified: true, entries: 5, head });
  });

  it('verifies an empty chain against an empty head', () => {
    expect(verifyChain(CHAIN, [], emptyHead(CHAIN))).toEqual({ verified: true, entries: 0, head: emptyHead(CHAIN) });
  });

  it('verifies a chain without a stored head', () => {
    const { entries, head } = chainOf(3);
    expect(verifyChain(CHAIN, entries)).toEqual({ verified: true, entries: 3, head });
  });

  it('detects an edited detail and reports the entry that was edited', () => {
    const { entries, head } = chainOf(5);
    const tampered = entries.map((e) => (e.seq === 3 ? { ...e, detail: { ...e.detail, passed: true, n: 3 } } : e));
    // Make sure the edit really changed something.
    expect(tampered[2]?.detail).not.toEqual(entries[2]?.detail);
    expect(verifyChain(CHAIN, tampered, head)).toEqual({ verified: false, seq: 3, reason: 'content does not match its hash' });
  });

  it('detects an edited actor', () => {
    const { entries, head } = chainOf(4);
    const tampered = entries.map((e) => (e.seq === 2 ? { ...e, actor: 'someone-else' } : e));
    expect(verifyChain(CHAIN, tampered, head)).toMatchObject({ verified: false, seq: 2 });
  });

  it('detects an edited hash at the entry whose hash was changed', () => {
    const { entries, head } = chainOf(5);
    const tampered = entries.map((e) => (e.seq === 2 ? { ...e, hash: 'f'.repeat(64) } : e));
    expect(verifyChain(CHAIN, tampered, head)).toMatchObject({ verified: false, seq: 2 });
  });

  it('detects an entry re-hashed after an edit, because the next link breaks', () => {
    const { entries, head } = chainOf(5);
    const tampered = entries.map((e) => {
      if (e.seq !== 2) return e;
      const unsigned = without({ ...e, detail: { n: 2, passed: false, reasons: ['rewritten'] } }, 'hash');
      return { ...unsigned, hash: hashEntry(unsigned) };
    });
    expect(verifyChain(CHAIN, tampered, head)).toEqual({ verified: false, seq: 3, reason: 'previous-hash link does not match' });
  });

  it('detects a removed middle entry as missing', () => {
    const { entries, head } = chainOf(5);
    const without3 = entries.filter((e) => e.seq !== 3);
    expect(verifyChain(CHAIN, without3, head)).toEqual({ verified: false, seq: 3, reason: 'entry 3 is missing' });
  });

  it('detects a removed first entry as missing', () => {
    const { entries, head } = chainOf(3);
    expect(verifyChain(CHAIN, entries.slice(1), head)).toEqual({ verified: false, seq: 1, reason: 'entry 1 is missing' });
  });

  it('detects reordered entries', () => {
    const { entries, head } = chainOf(5);
    const reordered = [0, 2, 1, 3, 4].map((i) => at(entries, i));
    const verdict = verifyChain(CHAIN, reordered, head);
    expect(verdict.verified).toBe(false);
    expect(verdict).toMatchObject({ seq: 2 });
  });

  it('detects entries renumbered to hide a removal', () => {
    const { entries, head } = chainOf(4);
    const renumbered = [at(entries, 0), { ...at(entries, 2), seq: 2 }, { ...at(entries, 3), seq: 3 }];
    expect(verifyChain(CHAIN, renumbered, { ...head, seq: 3, hash: at(entries, 3).hash })).toMatchObject({ verified: false, seq: 2 });
  });

  it('detects a truncated tail when the stored head says the chain is longer', () => {
    const { entries, head } = chainOf(5);
    expect(verifyChain(CHAIN, entries.slice(0, 3), head)).toEqual({
      verified: false,
      seq: 5,
      reason: 'stored head does not match the last entry',
    });
  });

  it('detects a stored head whose hash does not match the last entry', () => {
    const { entries, head } = chainOf(3);
    expect(verifyChain(CHAIN, entries, { ...head, hash: GENESIS_HASH })).toMatchObject({ verified: false, seq: 3 });
  });

  it('detects an entry from another chain', () => {
    const other = appendToChain(emptyHead(groupChain('churn')), [event(1)], T0).entries;
    expect(verifyChain(CHAIN, other)).toEqual({ verified: false, seq: 1, reason: 'entry belongs to chain group:churn' });
  });

  it('ignores storage attributes next to the entry (keys, item type)', () => {
    const { entries, head } = chainOf(3);
    const asStored = entries.map((e) => ({ ...e, PK: `AUDIT#${CHAIN}`, SK: `SEQ#${e.seq}`, type: 'AuditEntry' }));
    expect(verifyChain(CHAIN, asStored, head)).toMatchObject({ verified: true, entries: 3 });
  });
});

describe('hashEntry', () => {
  const base = {
    chain: CHAIN,
    seq: 1,
    at: '2026-11-27T09:44:02.000Z',
    prevHash: GENESIS_HASH,
    action: 'gate-evaluated',
    subject: ARN,
    actor: 'sagemaker',
  };

  it('does not depend on the key order in detail (canonical JSON), even in nested objects', () => {
    const a = hashEntry({ ...base, detail: { passed: false, policyVersion: 2, gate: { auc: 0.81, threshold: 0.85 } } });
    const b = hashEntry({ ...base, detail: { gate: { threshold: 0.85, auc: 0.81 }, policyVersion: 2, passed: false } });
    expect(a).toBe(b);
  });

  it('verifies a chain whose details were read back with their keys in another order', () => {
    const { entries, head } = appendToChain(emptyHead(CHAIN), [{ ...event(1), detail: { a: 1, b: { c: 2, d: 3 } } }], T0);
    const readBack = entries.map((e) => ({ ...e, detail: { b: { d: 3, c: 2 }, a: 1 } }));
    expect(verifyChain(CHAIN, readBack, head)).toMatchObject({ verified: true });
  });

  it('changes when a value in detail changes', () => {
    expect(hashEntry({ ...base, detail: { auc: 0.81 } })).not.toBe(hashEntry({ ...base, detail: { auc: 0.82 } }));
  });

  it.each(['chain', 'seq', 'at', 'prevHash', 'action', 'subject', 'actor'] as const)('changes when %s changes', (field) => {
    const changed = { ...base, detail: {}, [field]: field === 'seq' ? 2 : `${String(base[field])}x` };
    expect(hashEntry(changed)).not.toBe(hashEntry({ ...base, detail: {} }));
  });
});
