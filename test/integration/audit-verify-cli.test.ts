/**
 * `npm run audit:verify -- <export folder>` (scripts/audit-verify.ts) on export folders built in
 * a temp dir the way exportAuditTrail writes them: entries.jsonl with the stored entry items
 * (keys.ts shapes), checkpoints/<logSize 16>.json signed locally (the KMS format), public-key.pem
 * and manifest.json. A few runs spawn the real CLI (exit codes, what it prints); the other
 * tampers call `runVerify`, which the CLI's main calls, in this process.
 */
import { sequencedEntryItem } from '../support/audit-log.js';
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StoredItem } from '../../shared/audit-log-ports.js';
import { entryLeafHash } from '../../shared/domain/audit.js';
import { signCheckpointLocally, type CheckpointBody } from '../../shared/domain/checkpoint.js';
import { rootOf, toHex } from '../../shared/domain/merkle.js';
import { runVerify } from '../../scripts/audit-verify.js';

const REPO = join(import.meta.dirname, '..', '..');
const KEY_ID = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const T0 = Date.parse('2026-11-27T09:00:00.000Z');

function newKey() {
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    privatePem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    publicPem: pair.publicKey.export({ type: 'spki', format: 'pem' }) as string,
  };
}
type Key = ReturnType<typeof newKey>;

const KEY = newKey();
const MALLORY = newKey();

function storedEntry(index: number): StoredItem {
  const scope = index % 3 === 0 ? 'training-jobs' : 'group:fraud-detector';
  const at = new Date(T0 + index * 1000).toISOString();
  const id = `entry${index.toString(36).padStart(4, '0')}`;
  const subject = `arn:aws:sagemaker:us-east-1:123456789012:model-package/fraud-detector/${index + 1}`;
  const detail = { policyVersion: 1, results: [{ metric: 'trainingJob:validation:auc', actual: 0.91, threshold: 0.85, passed: true }] };
  return sequencedEntryItem({ id, scope, at, position: index % 2, action: 'version.gate-passed', subject, actor: 'sagemaker', detail }, index);
}

const ENTRIES = Array.from({ length: 24 }, (_, i) => storedEntry(i));
const name = (logSize: number): string => String(logSize).padStart(16, '0');

interface CheckpointFile {
  logSize: number;
  json: { checkpoint: CheckpointBody; signature: string };
}

function checkpoint(entries: readonly StoredItem[], logSize: number, key: Key = KEY): CheckpointFile {
  const checkpoint: CheckpointBody = {
    logSize,
    rootHash: toHex(rootOf(entries.slice(0, logSize).map(entryLeafHash))),
    time: new Date(T0 + 3_600_000 + logSize * 60_000).toISOString(),
    keyId: KEY_ID,
  };
  return { logSize, json: { checkpoint, signature: signCheckpointLocally(checkpoint, key.privatePem) } };
}

const CHECKPOINTS = [5, 12, 20].map((s) => checkpoint(ENTRIES, s));
const ROOT_20 = CHECKPOINTS[2]?.json.checkpoint.rootHash as string;

let scratch: string;
let folders = 0;

/** Writes an export folder; `checkpoints` as files named by their logSize unless given a name. */
function writeExport(
  spec: {
    entries?: readonly unknown[];
    entriesText?: string;
    checkpoints?: ReadonlyArray<CheckpointFile & { fileName?: string }>;
    publicKeyPem?: string;
  } = {},
): string {
  const folder = join(scratch, `export-${++folders}`);
  const entries = spec.entries ?? ENTRIES.slice(0, 20);
  const checkpoints: ReadonlyArray<CheckpointFile & { fileName?: string }> = spec.checkpoints ?? CHECKPOINTS;
  mkdirSync(join(folder, 'checkpoints'), { recursive: true });
  writeFileSync(join(folder, 'entries.jsonl'), spec.entriesText ?? entries.map((e) => `${JSON.stringify(e)}\n`).join(''));
  for (const c of checkpoints) writeFileSync(join(folder, 'checkpoints', c.fileName ?? `${name(c.logSize)}.json`), JSON.stringify(c.json));
  writeFileSync(join(folder, 'public-key.pem'), spec.publicKeyPem ?? KEY.publicPem);
  writeFileSync(
    join(folder, 'manifest.json'),
    JSON.stringify({ format: 'modelgate-audit-export/v1', exportedAt: '2026-11-28T10:00:00.000Z', logSize: entries.length, checkpoints: checkpoints.length, keyId: KEY_ID }),
  );
  return folder;
}

function writeKey(pem: string): string {
  const file = join(scratch, `key-${++folders}.pem`);
  writeFileSync(file, pem);
  return file;
}

/** The CLI as an auditor runs it (`npm run audit:verify` is `tsx scripts/audit-verify.ts`). */
function cli(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string; last: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/audit-verify.ts', ...args], {
      cwd: REPO,
      env: { ...process.env, NODE_OPTIONS: '--no-warnings' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const lines = (code === 2 ? stderr : stdout).trimEnd().split('\n');
      resolve({ code, stdout, stderr, last: lines[lines.length - 1] ?? '' });
    });
  });
}

const lastLine = (run: { lines: string[] }): string => run.lines[run.lines.length - 1] ?? '';

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'modelgate-audit-verify-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('the audit:verify CLI (spawned)', () => {
  it('a good export: exit 0, what it read and checked, the warning about the export’s own key, then the verified line', async () => {
    const run = await cli([writeExport()]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines).toContain(
      'warning: the public key was read from the export; pass --public-key with the key from KMS GetPublicKey to check it independently',
    );
    expect(lines.some((l) => l.startsWith('entries: 20 read from '))).toBe(true);
    expect(lines.some((l) => l.startsWith('checkpoints: 3 read from '))).toBe(true);
    expect(lines.some((l) => l.startsWith('unanchored:'))).toBe(false);
    expect(run.last).toBe(`verified: 20 entries, 3 checkpoints, root ${ROOT_20}`);
    // Nothing secret or signed is printed: no signature, no key.
    for (const c of CHECKPOINTS) expect(run.stdout).not.toContain(c.json.signature);
    expect(run.stdout).not.toContain(KEY.publicPem.split('\n')[1]);
  });

  it('an edited entry: exit 1 and the broken line naming the checkpoint and the entry range', async () => {
    const entries = ENTRIES.slice(0, 20).map((e, i) => (i === 7 ? { ...e, actor: 'arn:aws:iam::123456789012:user/mallory' } : e));
    const run = await cli([writeExport({ entries })]);
    expect(run.code).toBe(1);
    expect(run.last).toBe(
      "broken: the entries do not have the checkpoint's root: the first changed entry is among entries 5 to 11, at checkpoint 0000000000000012",
    );
  });

  it('--public-key with a different key: exit 1, the first checkpoint does not verify', async () => {
    const run = await cli(['--public-key', writeKey(MALLORY.publicPem), writeExport()]);
    expect(run.code).toBe(1);
    expect(run.stdout).not.toContain('warning: the public key was read from the export');
    expect(run.last).toBe('broken: its signature does not verify with the public key, at checkpoint 0000000000000005');
  });

  it('entries after the newest checkpoint: the unanchored line before the verified line, which counts only covered entries', async () => {
    const run = await cli([writeExport({ entries: ENTRIES })]);
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines.slice(-2)).toEqual([
      `unanchored: 4 entries after the newest checkpoint (from index 20, oldest ${ENTRIES[20]?.at}): not covered by any signature yet`,
      `verified: 20 entries, 3 checkpoints, root ${ROOT_20}`,
    ]);
  });

  it('a line of entries.jsonl that is not JSON: exit 1, the line and its entry', async () => {
    const text = ENTRIES.slice(0, 20).map((e, i) => (i === 9 ? '{"PK": "AUDIT#training-jobs",\n' : `${JSON.stringify(e)}\n`)).join('');
    const run = await cli([writeExport({ entriesText: text })]);
    expect(run.code).toBe(1);
    expect(run.last).toBe('broken: entries.jsonl line 10 is not JSON, at entry 9');
  });

  it('usage errors exit 2 on stderr: no folder, and a folder without entries.jsonl', async () => {
    const none = await cli([]);
    expect(none.code).toBe(2);
    expect(none.stdout).toBe('');
    expect(none.stderr).toContain('no export folder given');
    expect(none.last).toMatch(/^usage: npm run audit:verify -- /);
    const folder = writeExport();
    rmSync(join(folder, 'entries.jsonl'));
    const missing = await cli([folder]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`no entries.jsonl in ${folder}`);
  });
});

describe('runVerify: the export-side tampers', () => {
  const broken = async (folder: string, options: Parameters<typeof runVerify>[1] = {}) => {
    const run = await runVerify(folder, options);
    expect(run.code).toBe(1);
    return lastLine(run);
  };
  const good = ENTRIES.slice(0, 20);

  it('a deleted middle entry', async () => {
    expect(await broken(writeExport({ entries: good.filter((_, i) => i !== 13) }))).toBe(
      'broken: the entry is out of place (its logIndex is 14), at entry 13',
    );
  });

  it('two entries reordered', async () => {
    const entries = [...good];
    [entries[3], entries[4]] = [entries[4] as StoredItem, entries[3] as StoredItem];
    expect(await broken(writeExport({ entries }))).toBe('broken: the entry is out of place (its logIndex is 4), at entry 3');
  });

  it('the last entry deleted (it is below the newest checkpoint)', async () => {
    expect(await broken(writeExport({ entries: good.slice(0, 19) }))).toBe(
      'broken: the checkpoint covers 20 entries, only 19 are present, at checkpoint 0000000000000020',
    );
  });

  it('the export’s entries stop before the newest checkpoint’s size', async () => {
    expect(await broken(writeExport({ entries: good.slice(0, 14) }))).toBe(
      'broken: the checkpoint covers 20 entries, only 14 are present, at checkpoint 0000000000000020',
    );
  });

  it('every entry deleted', async () => {
    expect(await broken(writeExport({ entries: [] }))).toBe('broken: the checkpoint covers 5 entries, only 0 are present, at checkpoint 0000000000000005');
  });

  it('an entry edited and everything an export could recompute recomputed: caught by the signed root', async () => {
    // An export holds no leaf hashes; the only thing to recompute is the checkpoints, and the key
    // does not allow it: a checkpoint re-made over the edited entries fails its signature.
    const entries = good.map((e, i) => (i === 2 ? { ...e, detail: { policyVersion: 2 } } : e));
    expect(await broken(writeExport({ entries }))).toBe(
      "broken: the entries do not have the checkpoint's root: the first changed entry is among entries 0 to 4, at checkpoint 0000000000000005",
    );
    const resigned = [5, 12, 20].map((s) => checkpoint(entries, s, MALLORY));
    // With the forger's key placed in the export, the export agrees with itself: only the key
    // from KMS (--public-key) tells. This is why the CLI warns about the export's own key.
    const forged = writeExport({ entries, checkpoints: resigned, publicKeyPem: MALLORY.publicPem });
    const selfConsistent = await runVerify(forged);
    expect(selfConsistent.code).toBe(0);
    expect(selfConsistent.lines).toContain(
      'warning: the public key was read from the export; pass --public-key with the key from KMS GetPublicKey to check it independently',
    );
    expect(await broken(forged, { publicKey: writeKey(KEY.publicPem) })).toBe(
      'broken: its signature does not verify with the public key, at checkpoint 0000000000000005',
    );
  });

  it('an attribute added to an entry', async () => {
    const entries = good.map((e, i) => (i === 16 ? { ...e, approvedBy: 'mallory' } : e));
    expect(await broken(writeExport({ entries }))).toBe(
      "broken: the entries do not have the checkpoint's root: the first changed entry is among entries 12 to 19, at checkpoint 0000000000000020",
    );
  });

  it('an entry moved to another index key (GSI1PK changed)', async () => {
    const entries = good.map((e, i) => (i === 0 ? { ...e, GSI1PK: 'AUDITOF#arn:aws:sagemaker:us-east-1:123456789012:model-package/other/1' } : e));
    expect(await broken(writeExport({ entries }))).toBe(
      "broken: the entries do not have the checkpoint's root: the first changed entry is among entries 0 to 4, at checkpoint 0000000000000005",
    );
  });

  it('a checkpoint replaced with one signed by another key', async () => {
    const checkpoints = CHECKPOINTS.map((c) => (c.logSize === 12 ? checkpoint(good, 12, MALLORY) : c));
    expect(await broken(writeExport({ checkpoints }))).toBe('broken: its signature does not verify with the public key, at checkpoint 0000000000000012');
  });

  it('the newest checkpoint rolled back to an older one (its file name kept)', async () => {
    const checkpoints = CHECKPOINTS.map((c) => (c.logSize === 20 ? { ...(CHECKPOINTS[1] as CheckpointFile), fileName: `${name(20)}.json` } : c));
    expect(await broken(writeExport({ checkpoints }))).toBe("broken: the checkpoint's logSize is 12, its name says 20, at checkpoint 0000000000000020");
  });

  it('two checkpoints swapped', async () => {
    const [c5, c12, c20] = CHECKPOINTS as [CheckpointFile, CheckpointFile, CheckpointFile];
    const checkpoints = [{ ...c12, fileName: `${name(5)}.json` }, { ...c5, fileName: `${name(12)}.json` }, c20];
    expect(await broken(writeExport({ checkpoints }))).toBe("broken: the checkpoint's logSize is 12, its name says 5, at checkpoint 0000000000000005");
  });

  it('a checkpoint file that is not JSON', async () => {
    const folder = writeExport();
    writeFileSync(join(folder, 'checkpoints', `${name(12)}.json`), '{"checkpoint": ');
    expect(await broken(folder)).toBe('broken: the file is not a JSON object {"checkpoint", "signature"}, at checkpoint 0000000000000012');
  });

  it('entries cut and the newest checkpoint removed from the export: only the bucket’s checkpoints (--checkpoints) show it', async () => {
    const folder = writeExport({ entries: good.slice(0, 14), checkpoints: CHECKPOINTS.slice(0, 2) });
    const exportOnly = await runVerify(folder, { publicKey: writeKey(KEY.publicPem) });
    expect(exportOnly.code).toBe(0);
    expect(lastLine(exportOnly)).toBe(`verified: 12 entries, 2 checkpoints, root ${CHECKPOINTS[1]?.json.checkpoint.rootHash}`);
    const bucket = join(scratch, `bucket-${++folders}`);
    mkdirSync(bucket);
    for (const c of CHECKPOINTS) writeFileSync(join(bucket, `${name(c.logSize)}.json`), JSON.stringify(c.json));
    const run = await runVerify(folder, { publicKey: writeKey(KEY.publicPem), checkpoints: bucket });
    expect(run.lines).not.toContain(
      'note: the checkpoints were read from the export; pass --checkpoints with the checkpoints downloaded from the bucket to check them independently',
    );
    expect(lastLine(run)).toBe('broken: the checkpoint covers 20 entries, only 14 are present, at checkpoint 0000000000000020');
  });

  it('no checkpoint at all: verified covers 0 entries, and the unanchored window is every entry, loudly', async () => {
    const run = await runVerify(writeExport({ checkpoints: [] }));
    expect(run.code).toBe(0);
    expect(run.lines.slice(-3)).toEqual([
      'warning: no checkpoint at all: no entry of this export is covered by a signature',
      `unanchored: 20 entries after the newest checkpoint (from index 0, oldest ${good[0]?.at}): not covered by any signature yet`,
      'verified: 0 entries, 0 checkpoints, root e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    ]);
  });

  it('the manifest is not trusted: a manifest that disagrees is only a note', async () => {
    const folder = writeExport();
    writeFileSync(join(folder, 'manifest.json'), JSON.stringify({ format: 'modelgate-audit-export/v1', exportedAt: 'x', logSize: 99, checkpoints: 7, keyId: 'k' }));
    const run = await runVerify(folder);
    expect(run.code).toBe(0);
    expect(run.lines).toContain('note: the manifest says logSize 99 and 7 checkpoints; the folders hold 20 entries and 3 checkpoints');
  });

  it('a public key file that is not a P-256 public key, and a missing --checkpoints folder, are usage errors (exit 2)', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const keyFile = writeKey(rsa);
    const bad = await runVerify(writeExport(), { publicKey: keyFile });
    expect(bad.code).toBe(2);
    expect(bad.lines[0]).toBe(`the public key in ${keyFile} is not an EC P-256 public key`);
    const noDir = await runVerify(writeExport(), { checkpoints: join(scratch, 'nowhere') });
    expect(noDir.code).toBe(2);
    expect(noDir.lines[0]).toBe(`no such checkpoints folder: ${join(scratch, 'nowhere')}`);
    const noKey = writeExport();
    rmSync(join(noKey, 'public-key.pem'));
    expect((await runVerify(noKey)).lines[0]).toBe(`no public-key.pem in ${noKey}: pass --public-key <pem file>`);
  });

  it('an entries line that is JSON but not an object', async () => {
    const text = good.map((e, i) => (i === 4 ? '"just a string"\n' : `${JSON.stringify(e)}\n`)).join('');
    expect(await broken(writeExport({ entriesText: text }))).toBe('broken: the entry is not a JSON object, at entry 4');
  });
});
