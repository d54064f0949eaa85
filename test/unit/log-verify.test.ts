/**
 * verifyLog (shared/domain/log-verify.ts): the audit log's entries against its signed
 * checkpoints, as the offline verifier (scripts/audit-verify.ts) and the table path use it.
 * Logs are built the way the write path stores entries (keys.ts shapes, entryLeafHash) and the
 * checkpoints are signed with signCheckpointLocally, each property run with a fresh P-256 key.
 */
import { sequencedEntryItem } from '../support/audit-log.js';
import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import type { StoredItem } from '../../shared/audit-log-ports.js';
import { entryLeafHash } from '../../shared/domain/audit.js';
import { signCheckpointLocally, type CheckpointBody } from '../../shared/domain/checkpoint.js';
import { proofNodes, publicKeyProblem, verifyLog, type LogReport } from '../../shared/domain/log-verify.js';
import { appendLeaves, consistencyProof, emptyEdge, emptyRoot, leafHash, nodeMap, rootOf, toHex } from '../../shared/domain/merkle.js';
import { gsi } from '../../shared/store/keys.js';

// ------------------------------------------------------------------------------------------------
// Building logs

interface Key {
  privatePem: string;
  publicPem: string;
  /** The base64 of the DER SPKI (the PEM's body, one line). */
  publicB64: string;
}

function newKey(): Key {
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    privatePem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    publicPem: pair.publicKey.export({ type: 'spki', format: 'pem' }) as string,
    publicB64: (pair.publicKey.export({ type: 'spki', format: 'der' }) as Buffer).toString('base64'),
  };
}

const T0 = Date.parse('2026-11-27T09:00:00.000Z');
const KEY_ID = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const SCOPES = ['group:fraud-detector', 'training-jobs', 'review-links'];

/** An entry item as the write path stores it, once the sequencer placed it at `index`. */
function storedEntry(index: number, seed = 0, detail: unknown = { n: index, seed }): StoredItem {
  const scope = SCOPES[(index + seed) % SCOPES.length] as string;
  const at = new Date(T0 + index * 1000).toISOString();
  const id = `id${seed.toString(36)}x${index.toString(36)}`;
  const subject = `arn:aws:sagemaker:us-east-1:123456789012:model-package/fraud-detector/${index + 1}`;
  const action = index % 2 ? 'version.gate-passed' : 'version.recorded';
  return sequencedEntryItem({ id, scope, at, position: index % 2, action, subject, actor: 'sagemaker', detail: detail as Record<string, unknown> }, index);
}

const checkpointName = (logSize: number): string => `${String(logSize).padStart(16, '0')}.json`;

function signedCheckpoint(entries: readonly StoredItem[], logSize: number, key: Key, time = new Date(T0 + 3_600_000 + logSize * 60_000).toISOString()) {
  const body: CheckpointBody = { logSize, rootHash: toHex(rootOf(entries.slice(0, logSize).map(entryLeafHash))), time, keyId: KEY_ID };
  return { name: checkpointName(logSize), raw: { checkpoint: body, signature: signCheckpointLocally(body, key.privatePem) } };
}

type CheckpointFile = ReturnType<typeof signedCheckpoint>;

interface Log {
  entries: StoredItem[];
  checkpoints: CheckpointFile[];
  key: Key;
}

function buildLog(n: number, sizes: readonly number[], key: Key, seed = 0): Log {
  const entries = Array.from({ length: n }, (_, i) => storedEntry(i, seed));
  return { entries, checkpoints: [...new Set(sizes)].sort((a, b) => a - b).map((s) => signedCheckpoint(entries, s, key)), key };
}

const verify = (log: Log, extra: Partial<Parameters<typeof verifyLog>[0]> = {}): LogReport =>
  verifyLog({ entries: log.entries, checkpoints: log.checkpoints, publicKey: log.key.publicPem, ...extra });

const newestSize = (log: Log): number => Math.max(0, ...log.checkpoints.map((c) => c.raw.checkpoint.logSize));

/** The report as JSON holds no signature and no key material. */
function expectNoSecrets(report: LogReport, log: Log, also: readonly string[] = []): void {
  const text = JSON.stringify(report);
  for (const c of log.checkpoints) expect(text).not.toContain(c.raw.signature);
  for (const s of also) expect(text).not.toContain(s);
  for (const keyText of [log.key.publicB64, log.key.privatePem]) {
    // Any 24-character piece of the key's base64 (a PEM line is 64).
    for (const line of keyText.split('\n').filter((l) => !l.startsWith('-----') && l.length >= 24)) expect(text).not.toContain(line.slice(0, 24));
  }
}

// ------------------------------------------------------------------------------------------------

describe('verifyLog: a log as the sequencer writes it', () => {
  const key = newKey();

  it('verifies entries and checkpoints, reporting the newest root and no unanchored window', () => {
    const log = buildLog(13, [5, 8, 13], key);
    expect(verify(log)).toEqual({
      ok: true,
      entries: 13,
      checkpoints: 3,
      root: log.checkpoints[2]?.raw.checkpoint.rootHash,
      logSize: 13,
      unanchored: undefined,
    });
  });

  it('entries after the newest checkpoint are unanchored: count, first index, its at, and its age given now', () => {
    const log = buildLog(13, [5, 8], key);
    const now = T0 + 86_400_000;
    expect(verify(log, { now })).toEqual({
      ok: true,
      entries: 13,
      checkpoints: 2,
      root: log.checkpoints[1]?.raw.checkpoint.rootHash,
      logSize: 8,
      unanchored: { count: 5, fromIndex: 8, oldestAt: log.entries[8]?.at, ageMs: now - T0 - 8000 },
    });
  });

  it('without any checkpoint every entry is unanchored (ok: nothing contradicts), with the empty root', () => {
    const log = buildLog(4, [], key);
    expect(verify(log)).toEqual({
      ok: true,
      entries: 4,
      checkpoints: 0,
      root: toHex(emptyRoot()),
      logSize: 0,
      unanchored: { count: 4, fromIndex: 0, oldestAt: log.entries[0]?.at },
    });
  });

  it('an empty log, with or without the size-0 checkpoint, verifies', () => {
    expect(verify(buildLog(0, [], key))).toMatchObject({ ok: true, entries: 0, checkpoints: 0, logSize: 0, unanchored: undefined });
    expect(verify(buildLog(0, [0], key))).toEqual({ ok: true, entries: 0, checkpoints: 1, root: toHex(emptyRoot()), logSize: 0, unanchored: undefined });
  });

  it('checkpoints are checked in name order whatever order they are given in', () => {
    const log = buildLog(9, [2, 4, 9], key);
    expect(verify({ ...log, checkpoints: [...log.checkpoints].reverse() })).toMatchObject({ ok: true, logSize: 9, checkpoints: 3 });
  });

  it('a public key given as base64 DER (KMS GetPublicKey) works like the PEM', () => {
    const log = buildLog(6, [6], key);
    expect(verifyLog({ entries: log.entries, checkpoints: log.checkpoints, publicKey: key.publicB64 })).toMatchObject({ ok: true, logSize: 6 });
  });
});

describe('verifyLog: each contradiction, reported where it is', () => {
  const key = newKey();
  const log = buildLog(12, [4, 8, 12], key);
  const at = (report: LogReport) => (report.ok ? report : { what: report.what, at: report.at });
  const withEntries = (entries: StoredItem[]): Log => ({ ...log, entries });
  const withCheckpoints = (checkpoints: CheckpointFile[]): Log => ({ ...log, checkpoints });
  const edit = (i: number, change: Record<string, unknown>): StoredItem[] => log.entries.map((e, j) => (j === i ? { ...e, ...change } : e));

  it('an edited entry: the checkpoint whose range holds it', () => {
    expect(at(verify(withEntries(edit(5, { actor: 'mallory' }))))).toEqual({
      what: "the entries do not have the checkpoint's root: the first changed entry is among entries 4 to 7",
      at: 'checkpoint 0000000000000008',
    });
  });

  it('a deleted middle entry: the next one is out of place', () => {
    expect(at(verify(withEntries(log.entries.filter((_, i) => i !== 6))))).toEqual({
      what: 'the entry is out of place (its logIndex is 7)',
      at: 'entry 6',
    });
  });

  it('two entries swapped: out of place at the first', () => {
    const swapped = [...log.entries];
    [swapped[2], swapped[9]] = [swapped[9] as StoredItem, swapped[2] as StoredItem];
    expect(at(verify(withEntries(swapped)))).toEqual({ what: 'the entry is out of place (its logIndex is 9)', at: 'entry 2' });
  });

  it('an entry without logIndex, and one still marked unsequenced', () => {
    const { logIndex: _, ...noIndex } = log.entries[3] as StoredItem;
    expect(at(verify(withEntries(log.entries.map((e, i) => (i === 3 ? noIndex : e)))))).toEqual({
      what: 'the entry is out of place (its logIndex is null)',
      at: 'entry 3',
    });
    expect(at(verify(withEntries(edit(3, gsi.unsequenced('2026-11-27T09:00:03.000Z', 0, 'x')))))).toEqual({
      what: 'the entry is malformed: a sequenced entry carries GSI2PK; a sequenced entry carries GSI2SK',
      at: 'entry 3',
    });
  });

  it('an entry that is not an object, or cannot be hashed', () => {
    expect(at(verify(withEntries(log.entries.map((e, i) => (i === 1 ? (['not', 'an', 'entry'] as unknown as StoredItem) : e)))))).toEqual({
      what: 'the entry is not a JSON object',
      at: 'entry 1',
    });
    expect(at(verify(withEntries(edit(2, { detail: { tags: new Set(['a']) } }))))).toEqual({
      what: 'the entry cannot be hashed: entry.detail.tags is not a JSON value',
      at: 'entry 2',
    });
  });

  it('an added attribute, and a moved index key (GSI1PK), change the leaf', () => {
    expect(at(verify(withEntries(edit(0, { note: 'added later' }))))).toEqual({
      what: "the entries do not have the checkpoint's root: the first changed entry is among entries 0 to 3",
      at: 'checkpoint 0000000000000004',
    });
    expect(at(verify(withEntries(edit(9, { GSI1PK: 'AUDITOF#arn:aws:sagemaker:us-east-1:123456789012:model-package/other/1' }))))).toEqual({
      what: "the entries do not have the checkpoint's root: the first changed entry is among entries 8 to 11",
      at: 'checkpoint 0000000000000012',
    });
  });

  it('entries cut below the newest checkpoint: it covers more than are present', () => {
    expect(at(verify(withEntries(log.entries.slice(0, 11))))).toEqual({
      what: 'the checkpoint covers 12 entries, only 11 are present',
      at: 'checkpoint 0000000000000012',
    });
    expect(at(verify(withEntries([])))).toEqual({ what: 'the checkpoint covers 4 entries, only 0 are present', at: 'checkpoint 0000000000000004' });
  });

  it('a checkpoint signed by another key', () => {
    const other = signedCheckpoint(log.entries, 8, newKey());
    expect(at(verify(withCheckpoints(log.checkpoints.map((c) => (c.name === other.name ? other : c)))))).toEqual({
      what: 'its signature does not verify with the public key',
      at: 'checkpoint 0000000000000008',
    });
  });

  it('a checkpoint body changed after signing, or given a member the signature does not cover', () => {
    const changed = (c: CheckpointFile, body: Record<string, unknown>) => ({ ...c, raw: { ...c.raw, checkpoint: { ...c.raw.checkpoint, ...body } } });
    const otherRoot = toHex(rootOf([leafHash(new Uint8Array([1]))]));
    expect(at(verify(withCheckpoints(log.checkpoints.map((c, i) => (i === 1 ? changed(c, { rootHash: otherRoot }) : c)))))).toEqual({
      what: 'its signature does not verify with the public key',
      at: 'checkpoint 0000000000000008',
    });
    expect(at(verify(withCheckpoints(log.checkpoints.map((c, i) => (i === 1 ? changed(c, { note: 'x' }) : c)))))).toEqual({
      what: 'the checkpoint is malformed: unknown members: note',
      at: 'checkpoint 0000000000000008',
    });
  });

  it('a signature that is not a DER ECDSA signature', () => {
    const bad = log.checkpoints.map((c, i) => (i === 0 ? { ...c, raw: { ...c.raw, signature: 'bm90IGEgc2lnbmF0dXJl' } } : c));
    expect(at(verify(withCheckpoints(bad)))).toEqual({ what: 'its signature is not a base64 DER ECDSA P-256 signature', at: 'checkpoint 0000000000000004' });
  });

  it('the newest checkpoint rolled back (an older one under its name), and two checkpoints swapped', () => {
    const rolledBack = log.checkpoints.map((c, i) => (i === 2 ? { ...c, raw: (log.checkpoints[1] as CheckpointFile).raw } : c));
    expect(at(verify(withCheckpoints(rolledBack)))).toEqual({ what: "the checkpoint's logSize is 8, its name says 12", at: 'checkpoint 0000000000000012' });
    const [c4, c8, c12] = log.checkpoints as [CheckpointFile, CheckpointFile, CheckpointFile];
    const swapped = [{ ...c4, raw: c8.raw }, { ...c8, raw: c4.raw }, c12];
    expect(at(verify(withCheckpoints(swapped)))).toEqual({ what: "the checkpoint's logSize is 8, its name says 4", at: 'checkpoint 0000000000000004' });
  });

  it('a file that is not a checkpoint', () => {
    expect(at(verify(withCheckpoints([...log.checkpoints, { name: 'notes.txt', raw: {} } as unknown as CheckpointFile])))).toEqual({
      what: 'the file name is not <logSize, 16 digits>.json',
      at: 'checkpoint notes.txt',
    });
    expect(at(verify(withCheckpoints([{ name: checkpointName(4), raw: 'garbage' } as unknown as CheckpointFile])))).toEqual({
      what: 'the file is not a JSON object {"checkpoint", "signature"}',
      at: 'checkpoint 0000000000000004',
    });
  });

  it('a later checkpoint with an earlier time (re-signed by the key, so only the order shows it)', () => {
    const early = signedCheckpoint(log.entries, 12, key, new Date(T0).toISOString());
    expect(at(verify(withCheckpoints([log.checkpoints[0] as CheckpointFile, log.checkpoints[1] as CheckpointFile, early])))).toEqual({
      what: 'the checkpoint is older than the one before it (checkpoint 0000000000000008)',
      at: 'checkpoint 0000000000000012',
    });
  });

  it('a fork: two checkpoint files of one size with different roots, both signed (a verifier given both)', () => {
    const otherEntries = buildLog(8, [], key, 1).entries;
    const fork = signedCheckpoint(otherEntries, 8, key, new Date(T0 + 7_200_000).toISOString());
    expect(fork.name).toBe(checkpointName(8));
    expect(at(verify(withCheckpoints([log.checkpoints[0] as CheckpointFile, log.checkpoints[1] as CheckpointFile, fork])))).toEqual({
      what: 'the checkpoint has another root than the one before it at the same size, a fork (checkpoint 0000000000000008)',
      at: 'checkpoint 0000000000000008',
    });
  });

  it('a malformed public key, with checkpoints to check', () => {
    expect(at(verifyLog({ entries: log.entries, checkpoints: log.checkpoints, publicKey: 'not a key' }))).toEqual({
      what: 'the public key is malformed, so no signature can be checked',
      at: 'checkpoint 0000000000000004',
    });
    expect(publicKeyProblem('not a key')).toMatch(/not a public key/);
    expect(publicKeyProblem(generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey.export({ type: 'spki', format: 'pem' }) as string)).toBe(
      'not an EC P-256 public key',
    );
    expect(publicKeyProblem(key.publicPem)).toBeUndefined();
  });

  it('the entries come first: an out-of-place entry is reported even when a checkpoint is also broken', () => {
    const both: Log = { ...withEntries(log.entries.filter((_, i) => i !== 10)), checkpoints: [] };
    both.checkpoints = log.checkpoints.map((c, i) => (i === 0 ? { ...c, raw: { ...c.raw, signature: 'AAAA' } } : c));
    expect(at(verify(both))).toEqual({ what: 'the entry is out of place (its logIndex is 11)', at: 'entry 10' });
  });

  it('a tampered entry after the newest checkpoint is not provable offline: unanchored, never "verified" as covered', () => {
    const short = buildLog(12, [8], key);
    const report = verify({ ...short, entries: short.entries.map((e, i) => (i === 10 ? { ...e, actor: 'mallory' } : e)) });
    expect(report).toMatchObject({ ok: true, logSize: 8, unanchored: { count: 4, fromIndex: 8 } });
  });
});

describe('verifyLog on the table path (storedLeafHashes)', () => {
  const key = newKey();
  const log = buildLog(10, [6], key);
  const stored = log.entries.map((e) => toHex(entryLeafHash(e)));

  it('verifies when every stored leaf is the entry’s hash', () => {
    expect(verify(log, { storedLeafHashes: stored })).toMatchObject({ ok: true, logSize: 6, unanchored: { count: 4, fromIndex: 6 } });
  });

  it('an entry edited after the newest checkpoint no longer matches its leaf (caught though unanchored)', () => {
    const edited = { ...log, entries: log.entries.map((e, i) => (i === 8 ? { ...e, detail: { n: 'edited' } } : e)) };
    expect(verify(edited, { storedLeafHashes: stored })).toMatchObject({ ok: false, what: 'the entry does not match its leaf in the log', at: 'entry 8' });
  });

  it('an entry and its leaf both rewritten: the checkpoint root still catches it', () => {
    const entries = log.entries.map((e, i) => (i === 2 ? { ...e, detail: { n: 'edited' } } : e));
    const leaves = entries.map((e) => toHex(entryLeafHash(e)));
    expect(verify({ ...log, entries }, { storedLeafHashes: leaves })).toMatchObject({ ok: false, at: 'checkpoint 0000000000000006' });
  });

  it('a leaf the log holds without its entry, and an entry without its leaf', () => {
    expect(verify({ ...log, entries: log.entries.slice(0, 9) }, { storedLeafHashes: stored })).toMatchObject({
      ok: false,
      what: 'the log holds 10 leaves, only 9 entries are present',
      at: 'entry 9',
    });
    expect(verify(log, { storedLeafHashes: stored.slice(0, 7) })).toMatchObject({ ok: false, what: 'the log holds no leaf for the entry', at: 'entry 7' });
  });
});

describe('the consistency proof between checkpoints reads only the old edge and the appended nodes', () => {
  it('for every 0 ≤ m ≤ n ≤ 130 it equals the proof from the whole tree', () => {
    const N = 130;
    const leaves = Array.from({ length: N }, (_, i) => leafHash(new TextEncoder().encode(`leaf ${i}`)));
    const whole = nodeMap(appendLeaves(emptyEdge(), leaves).nodes);
    for (let m = 0; m <= N; m++) {
      const old = appendLeaves(emptyEdge(), leaves.slice(0, m));
      for (let n = m; n <= N; n += 1 + (n % 3)) {
        const next = appendLeaves(old.edge, leaves.slice(m, n));
        const got = consistencyProof(m, n, proofNodes(old.edge, next.nodes)).map(toHex);
        if (got.join() !== consistencyProof(m, n, whole).map(toHex).join()) throw new Error(`proof ${m} → ${n} differs`);
      }
    }
  });
});

// ------------------------------------------------------------------------------------------------
// Properties

const FIELDS = ['PK', 'SK', 'GSI1PK', 'GSI1SK', 'type', 'id', 'scope', 'at', 'position', 'action', 'subject', 'actor', 'detail'] as const;

type Mutation =
  | { kind: 'field'; entry: number; field: (typeof FIELDS)[number] }
  | { kind: 'drop'; entry: number }
  | { kind: 'swap'; a: number; b: number }
  | { kind: 'attribute'; entry: number; name: string }
  | { kind: 'signature'; checkpoint: number; how: 'other-body' | 'other-key' | 'flip' }
  | { kind: 'body'; checkpoint: number; member: 'rootHash' | 'time' | 'keyId' | 'logSize' | 'extra' }
  | { kind: 'swap-checkpoints'; a: number; b: number }
  | { kind: 'older'; checkpoint: number }
  | { kind: 'cut'; keep: number };

const logArb = fc.integer({ min: 0, max: 40 }).chain((n) =>
  fc.record({
    n: fc.constant(n),
    sizes: fc.uniqueArray(fc.integer({ min: 0, max: n }), { maxLength: 5 }),
    seed: fc.nat({ max: 1000 }),
    details: fc.array(fc.jsonValue({ maxDepth: 2 }), { minLength: n, maxLength: n }),
  }),
);

function makeLog(spec: { n: number; sizes: number[]; seed: number; details: unknown[] }): Log {
  const key = newKey();
  const entries = Array.from({ length: spec.n }, (_, i) => storedEntry(i, spec.seed, spec.details[i]));
  return { entries, checkpoints: [...spec.sizes].sort((a, b) => a - b).map((s) => signedCheckpoint(entries, s, key)), key };
}

function mutationArb(log: Log): fc.Arbitrary<Mutation> {
  const n = log.entries.length;
  const m = log.checkpoints.length;
  const options: fc.Arbitrary<Mutation>[] = [];
  if (n >= 1) {
    const entry = fc.integer({ min: 0, max: n - 1 });
    options.push(fc.record({ kind: fc.constant('field' as const), entry, field: fc.constantFrom(...FIELDS) }));
    options.push(fc.record({ kind: fc.constant('drop' as const), entry }));
    options.push(fc.record({ kind: fc.constant('attribute' as const), entry, name: fc.constantFrom('note', 'ttl', 'GSI3PK', 'approvedBy') }));
  }
  if (n >= 2) {
    options.push(
      fc
        .uniqueArray(fc.integer({ min: 0, max: n - 1 }), { minLength: 2, maxLength: 2 })
        .map(([a, b]) => ({ kind: 'swap' as const, a: Math.min(a as number, b as number), b: Math.max(a as number, b as number) })),
    );
  }
  if (m >= 1) {
    const checkpoint = fc.integer({ min: 0, max: m - 1 });
    options.push(fc.record({ kind: fc.constant('signature' as const), checkpoint, how: fc.constantFrom('other-body' as const, 'other-key' as const, 'flip' as const) }));
    options.push(fc.record({ kind: fc.constant('body' as const), checkpoint, member: fc.constantFrom('rootHash' as const, 'time' as const, 'keyId' as const, 'logSize' as const, 'extra' as const) }));
  }
  if (m >= 2) {
    options.push(
      fc
        .uniqueArray(fc.integer({ min: 0, max: m - 1 }), { minLength: 2, maxLength: 2 })
        .map(([a, b]) => ({ kind: 'swap-checkpoints' as const, a: Math.min(a as number, b as number), b: Math.max(a as number, b as number) })),
    );
    options.push(fc.integer({ min: 1, max: m - 1 }).map((checkpoint) => ({ kind: 'older' as const, checkpoint })));
  }
  const newest = newestSize(log);
  if (newest >= 1) options.push(fc.integer({ min: 0, max: newest - 1 }).map((keep) => ({ kind: 'cut' as const, keep })));
  return fc.oneof(...options);
}

/** Another value of the same field: a string that differs from whatever was there. */
const otherValue = (old: unknown): string => `${JSON.stringify(old) ?? 'undefined'}~`;

function apply(log: Log, mutation: Mutation): { log: Log; signatures: string[] } {
  const entries = [...log.entries];
  const checkpoints = log.checkpoints.map((c) => ({ ...c, raw: { ...c.raw, checkpoint: { ...c.raw.checkpoint } } }));
  const signatures: string[] = [];
  const cp = (i: number): CheckpointFile => checkpoints[i] as CheckpointFile;
  switch (mutation.kind) {
    case 'field': {
      const e = entries[mutation.entry] as StoredItem;
      entries[mutation.entry] = { ...e, [mutation.field]: otherValue(e[mutation.field]) };
      break;
    }
    case 'drop':
      entries.splice(mutation.entry, 1);
      break;
    case 'swap':
      [entries[mutation.a], entries[mutation.b]] = [entries[mutation.b] as StoredItem, entries[mutation.a] as StoredItem];
      break;
    case 'attribute':
      entries[mutation.entry] = { ...(entries[mutation.entry] as StoredItem), [mutation.name]: 'added' };
      break;
    case 'signature': {
      const c = cp(mutation.checkpoint);
      const body = c.raw.checkpoint;
      if (mutation.how === 'other-body') {
        c.raw.signature = signCheckpointLocally({ ...body, time: new Date(Date.parse(body.time) + 1).toISOString() }, log.key.privatePem);
      } else if (mutation.how === 'other-key') {
        c.raw.signature = signCheckpointLocally(body, newKey().privatePem);
      } else {
        const bytes = Buffer.from(c.raw.signature, 'base64');
        const last = bytes.length - 1;
        bytes[last] = (bytes[last] ?? 0) ^ 0x01;
        c.raw.signature = bytes.toString('base64');
      }
      signatures.push(c.raw.signature);
      break;
    }
    case 'body': {
      const body = cp(mutation.checkpoint).raw.checkpoint as unknown as Record<string, unknown>;
      if (mutation.member === 'rootHash') body.rootHash = toHex(leafHash(new TextEncoder().encode(String(body.rootHash))));
      if (mutation.member === 'time') body.time = new Date(Date.parse(String(body.time)) - 1).toISOString();
      if (mutation.member === 'keyId') body.keyId = `${String(body.keyId)}-2`;
      if (mutation.member === 'logSize') body.logSize = Number(body.logSize) + 1;
      if (mutation.member === 'extra') body.comment = 'unsigned';
      break;
    }
    case 'swap-checkpoints': {
      const [a, b] = [cp(mutation.a).raw, cp(mutation.b).raw];
      cp(mutation.a).raw = b;
      cp(mutation.b).raw = a;
      break;
    }
    case 'older':
      cp(mutation.checkpoint).raw = cp(mutation.checkpoint - 1).raw;
      break;
    case 'cut':
      entries.splice(mutation.keep);
      break;
  }
  return { log: { ...log, entries, checkpoints }, signatures };
}

/**
 * What the report must be: where a contradiction is reported, or, for a change wholly after the
 * newest checkpoint that leaves every position right, the unanchored count that remains.
 */
function expected(log: Log, mutation: Mutation): { at: string } | { unanchored: number } {
  const n = log.entries.length;
  const newest = newestSize(log);
  const sizes = log.checkpoints.map((c) => c.raw.checkpoint.logSize);
  /** The first checkpoint that covers entry i. */
  const covering = (i: number): string => `checkpoint ${checkpointName(sizes.find((s) => s > i) as number).slice(0, 16)}`;
  const nameOf = (k: number): string => `checkpoint ${(log.checkpoints[k] as CheckpointFile).name.slice(0, 16)}`;
  switch (mutation.kind) {
    case 'field':
    case 'attribute':
      return mutation.entry < newest ? { at: covering(mutation.entry) } : { unanchored: n - newest };
    case 'drop':
      if (mutation.entry < n - 1) return { at: `entry ${mutation.entry}` };
      return mutation.entry < newest ? { at: nameOf(log.checkpoints.length - 1) } : { unanchored: n - 1 - newest };
    case 'swap':
      return { at: `entry ${mutation.a}` };
    case 'signature':
    case 'body':
    case 'older':
      return { at: nameOf(mutation.checkpoint) };
    case 'swap-checkpoints':
      return { at: nameOf(mutation.a) };
    case 'cut':
      return { at: covering(mutation.keep) };
  }
}

describe('verifyLog properties', () => {
  it('any log of random entries, with checkpoints at random sizes signed by a random key, verifies', () => {
    fc.assert(
      fc.property(logArb, (spec) => {
        const log = makeLog(spec);
        const newest = newestSize(log);
        const report = verify(log);
        expect(report).toEqual({
          ok: true,
          entries: spec.n,
          checkpoints: log.checkpoints.length,
          root: toHex(rootOf(log.entries.slice(0, newest).map(entryLeafHash))),
          logSize: newest,
          unanchored: spec.n > newest ? { count: spec.n - newest, fromIndex: newest, oldestAt: log.entries[newest]?.at } : undefined,
        });
        expect(verify(log, { storedLeafHashes: log.entries.map((e) => toHex(entryLeafHash(e))) })).toEqual(report);
        expectNoSecrets(report, log);
      }),
      { numRuns: 80, seed: 9162, endOnFailure: true },
    );
  });

  it('any single mutation is reported where it is, or, only when wholly after the newest checkpoint, as the unanchored rest', () => {
    fc.assert(
      fc.property(
        logArb.filter((spec) => spec.n > 0 || spec.sizes.length > 0).chain((spec) => {
          const log = makeLog(spec);
          return fc.tuple(fc.constant(log), mutationArb(log));
        }),
        ([log, mutation]) => {
          const { log: mutated, signatures } = apply(log, mutation);
          const report = verify(mutated);
          const want = expected(log, mutation);
          if ('at' in want) {
            expect({ ok: report.ok, at: report.ok ? undefined : report.at }).toEqual({ ok: false, at: want.at });
          } else {
            expect(report.ok).toBe(true);
            expect(report.ok && (report.unanchored?.count ?? 0)).toBe(want.unanchored);
            // Never more covered than the newest checkpoint: the change is in no verified range.
            expect(report.ok && report.logSize).toBe(newestSize(log));
          }
          expectNoSecrets(report, mutated, signatures);
        },
      ),
      // No shrinking: it takes minutes here (every step builds and signs a log anew), and a
      // counterexample of at most 40 entries and one mutation is readable as it is.
      { numRuns: 400, seed: 6962, endOnFailure: true },
    );
  });
});
