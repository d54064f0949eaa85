/**
 * `npm run audit:verify -- [--public-key <pem file>] [--checkpoints <dir>] <export folder>`:
 * verifies an export of the audit log (exportAuditTrail) offline, with the checkpoint key's public
 * key alone: no AWS call, no table. The folder holds
 *
 *   entries.jsonl                   one stored entry item per line, in log order (line i: logIndex i)
 *   checkpoints/<logSize 16>.json   {"checkpoint": {...}, "signature": "<base64 DER>"}
 *   public-key.pem                  the checkpoint key's public key
 *   manifest.json                   informational only: nothing is taken from it
 *
 * An export proves nothing about itself: whoever wrote the entries could have written the
 * checkpoints and the key too. So an auditor passes `--public-key` with the key from KMS
 * GetPublicKey (PEM, or the base64 DER `aws kms get-public-key --query PublicKey --output text`
 * prints) and `--checkpoints` with the checkpoints downloaded from the Object Lock bucket.
 *
 * Output: a few lines of what was read and checked, then as the LAST line exactly one of
 *   verified: <entries covered by checkpoints> entries, <m> checkpoints, root <hex>   (exit 0)
 *   broken: <what>, at <entry i | checkpoint <16 digits>>                            (exit 1)
 * Usage errors (no folder, no entries.jsonl, no or unusable public key) exit 2.
 *
 * The checks are shared/domain/log-verify.ts `verifyLog`; this file only reads the folder.
 */
import { createReadStream, existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { publicKeyProblem, verifyLog, type LogReport } from '../shared/domain/log-verify.js';

export interface VerifyOptions {
  /** A file with the public key (PEM "PUBLIC KEY" or base64 DER SPKI); default `<folder>/public-key.pem`. */
  publicKey?: string;
  /** A folder of checkpoint files; default `<folder>/checkpoints`. */
  checkpoints?: string;
  /** Epoch ms (the unanchored window's age); default Date.now(). */
  now?: number;
}

export interface VerifyRun {
  /** 0 verified, 1 broken, 2 usage error. */
  code: 0 | 1 | 2;
  /** What to print, the verdict last (for code 2: the error, for stderr). */
  lines: string[];
  /** The verifier's report (absent for a usage error or a line that is not JSON). */
  report?: LogReport;
}

export const USAGE = 'usage: npm run audit:verify -- [--public-key <pem file>] [--checkpoints <dir>] <export folder>';

class UsageError extends Error {}

const isDirectory = (path: string): boolean => existsSync(path) && statSync(path).isDirectory();

/** Reads entries.jsonl line by line; stops at the first line that is not JSON. */
async function readEntries(file: string): Promise<{ entries: Record<string, unknown>[]; badLine?: number }> {
  const entries: Record<string, unknown>[] = [];
  const input = createReadStream(file, { encoding: 'utf8' });
  const lines = createInterface({ input, crlfDelay: Infinity });
  let n = 0;
  try {
    for await (const line of lines) {
      n += 1;
      try {
        // Anything that parses is passed on as it is: verifyLog says what is wrong with a non-object.
        entries.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        return { entries, badLine: n };
      }
    }
  } finally {
    lines.close();
    input.destroy(); // closing the interface leaves the stream open when it stopped early
  }
  return { entries };
}

function readCheckpoints(dir: string): Array<{ name: string; raw: unknown }> {
  return readdirSync(dir, { withFileTypes: true })
    .filter((f) => f.isFile() && !f.name.startsWith('.'))
    .map((f) => {
      let raw: unknown;
      try {
        raw = JSON.parse(readFileSync(join(dir, f.name), 'utf8'));
      } catch {
        raw = undefined; // verifyLog: "the file is not a JSON object"
      }
      return { name: f.name, raw };
    });
}

/** The manifest, for information: a note when it disagrees with what the folder holds. */
function manifestLines(folder: string, entries: number, checkpoints: number): string[] {
  const file = join(folder, 'manifest.json');
  if (!existsSync(file)) return ['manifest: none (not needed: nothing is taken from it)'];
  let manifest: Record<string, unknown>;
  try {
    manifest = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return ['manifest: not JSON (ignored: nothing is taken from it)'];
  }
  const said = Array.isArray(manifest.checkpoints) ? manifest.checkpoints.length : manifest.checkpoints;
  const lines = [`manifest: ${String(manifest.format)}, exported ${String(manifest.exportedAt)} (informational: nothing is taken from it)`];
  if (manifest.logSize !== entries || said !== checkpoints) {
    lines.push(`note: the manifest says logSize ${String(manifest.logSize)} and ${String(said)} checkpoints; the folders hold ${entries} entries and ${checkpoints} checkpoints`);
  }
  return lines;
}

/** Verifies the export in `folder`; what the CLI prints and its exit code. */
export async function runVerify(folder: string, options: VerifyOptions = {}): Promise<VerifyRun> {
  try {
    return await verifyFolder(folder, options);
  } catch (e) {
    if (e instanceof UsageError) return { code: 2, lines: [e.message, USAGE] };
    throw e;
  }
}

async function verifyFolder(folder: string, options: VerifyOptions): Promise<VerifyRun> {
  if (!isDirectory(folder)) throw new UsageError(`not an export folder: ${folder}`);
  const entriesFile = join(folder, 'entries.jsonl');
  if (!existsSync(entriesFile)) throw new UsageError(`no entries.jsonl in ${folder}`);

  const keyFile = options.publicKey ?? join(folder, 'public-key.pem');
  if (!existsSync(keyFile)) {
    throw new UsageError(options.publicKey ? `no such public key file: ${keyFile}` : `no public-key.pem in ${folder}: pass --public-key <pem file>`);
  }
  const publicKey = readFileSync(keyFile, 'utf8');
  const keyProblem = publicKeyProblem(publicKey);
  if (keyProblem !== undefined) throw new UsageError(`the public key in ${keyFile} is ${keyProblem}`);

  const checkpointDir = options.checkpoints ?? join(folder, 'checkpoints');
  if (options.checkpoints !== undefined && !isDirectory(checkpointDir)) throw new UsageError(`no such checkpoints folder: ${checkpointDir}`);
  const checkpoints = isDirectory(checkpointDir) ? readCheckpoints(checkpointDir) : [];

  const lines: string[] = [];
  const { entries, badLine } = await readEntries(entriesFile);
  lines.push(`entries: ${entries.length}${badLine === undefined ? '' : ' (then a line that is not JSON)'} read from ${entriesFile}`);
  lines.push(`checkpoints: ${checkpoints.length} read from ${isDirectory(checkpointDir) ? checkpointDir : `${checkpointDir} (no such folder)`}`);
  lines.push(`public key: ${keyFile}`);
  if (options.publicKey === undefined) {
    lines.push('warning: the public key was read from the export; pass --public-key with the key from KMS GetPublicKey to check it independently');
  }
  if (options.checkpoints === undefined) {
    lines.push('note: the checkpoints were read from the export; pass --checkpoints with the checkpoints downloaded from the bucket to check them independently');
  }
  lines.push(...manifestLines(folder, entries.length, checkpoints.length));

  if (badLine !== undefined) {
    // An earlier entry's problem comes first (the report names the first problem).
    const before = verifyLog({ entries, checkpoints: [], publicKey });
    const verdict = before.ok ? `broken: entries.jsonl line ${badLine} is not JSON, at entry ${badLine - 1}` : `broken: ${before.what}, at ${before.at}`;
    return { code: 1, lines: [...lines, verdict], ...(before.ok ? {} : { report: before }) };
  }

  const report = verifyLog({ entries, checkpoints, publicKey, now: options.now ?? Date.now() });
  if (!report.ok) return { code: 1, lines: [...lines, `broken: ${report.what}, at ${report.at}`], report };

  lines.push(
    `checked: ${report.entries} entries (place in the log, sequencing marks, leaf hash), ${report.checkpoints} checkpoints (name, signature, order, the root of the entries they cover, consistency with the one before)`,
  );
  const window = report.unanchored;
  if (window !== undefined) {
    if (report.checkpoints === 0) lines.push('warning: no checkpoint at all: no entry of this export is covered by a signature');
    lines.push(
      `unanchored: ${window.count} entries after the newest checkpoint (from index ${window.fromIndex}, oldest ${window.oldestAt ?? 'unknown'}): not covered by any signature yet`,
    );
  }
  lines.push(`verified: ${report.logSize} entries, ${report.checkpoints} checkpoints, root ${report.root}`);
  return { code: 0, lines, report };
}

/** The CLI: parses argv, prints, returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let parsed: ReturnType<typeof parseCli>;
  try {
    parsed = parseCli(argv);
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    console.error(USAGE);
    return 2;
  }
  const run = await runVerify(resolve(parsed.folder), parsed.options);
  const print = run.code === 2 ? console.error : console.log;
  for (const line of run.lines) print(line);
  return run.code;
}

function parseCli(argv: readonly string[]): { folder: string; options: VerifyOptions } {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { 'public-key': { type: 'string' }, checkpoints: { type: 'string' } },
  });
  if (positionals.length !== 1) throw new Error(positionals.length === 0 ? 'no export folder given' : 'give exactly one export folder');
  const options: VerifyOptions = {};
  if (values['public-key'] !== undefined) options.publicKey = resolve(values['public-key']);
  if (values.checkpoints !== undefined) options.checkpoints = resolve(values.checkpoints);
  return { folder: positionals[0] as string, options };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = await main(process.argv.slice(2));
}
