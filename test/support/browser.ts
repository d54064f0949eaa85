/**
 * A headless Chromium for browser tests: the Chromium that the npm package `@sparticuz/chromium`
 * ships inside itself (a dev dependency, so `npm ci` brings it: nothing is downloaded and nothing
 * is installed from Debian), driven by playwright-core. One code path on every machine.
 *
 *   const { browser, close } = await launchChromium();
 *   afterAll(() => close());
 *
 * The package holds the browser brotli-compressed; `executablePath()` unpacks it into
 * `os.tmpdir()` on first use (a few seconds). Used as is, that has three problems for tests, which
 * `chromiumExecutable()` solves:
 * - it returns `<tmpdir>/chromium` as soon as that file *exists*, so a second process that starts
 *   while the first is still writing it launches half a binary, and an interrupted unpack is used
 *   for ever after;
 * - the binary is written with mode 0700, so a root-owned `/tmp/chromium` cannot be run (or
 *   replaced: /tmp is sticky) by a normal user, and vice versa;
 * - another version of the package finds the old binary and uses it.
 * So each user (uid) has a cache directory of their own, with one folder per package version. The
 * package unpacks in a child process whose TMPDIR is a fresh staging folder, and the folder is
 * renamed into place only when the unpack is complete: a rename is atomic, so any caller sees
 * either no binary or a whole one. Two callers at once may both unpack; the first rename wins and
 * the other caller discards its copy and uses the winner's.
 *
 * The binary links only libraries that Debian's base image has (libnss3, libnspr4, libexpat1) and
 * uses the system's fontconfig and fonts; the package's Amazon Linux libraries are not used.
 */
import { execFile } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type Browser } from 'playwright-core';

const execFileAsync = promisify(execFile);

/**
 * Chromium's switches for a closed network and a test run as root. Without the background
 * networking switches, Chromium keeps opening connections (component updates, sync, QUIC probes)
 * that this machine's network refuses. `--no-sandbox`: the sandbox cannot start as root. The
 * package's own `chromium.args` are not used: they are for AWS Lambda and include
 * `--disable-web-security` and `--single-process`, which would change what the page's security
 * headers are tested against.
 */
export const CHROMIUM_FLAGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];

/** A staging folder older than this belongs to an unpack that died (one takes seconds). */
const STALE_STAGING_MS = 60 * 60 * 1000;

const require = createRequire(import.meta.url);

/** The package's entry module and its version (package.json is not in its `exports`). */
function sparticuzPackage(): { entry: string; version: string } {
  const entry = require.resolve('@sparticuz/chromium');
  const manifest = JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version: string };
  return { entry, version: manifest.version };
}

const uid = (): string => String(process.getuid?.() ?? 'user');

/**
 * The current user's cache directory: `MODELGATE_CHROMIUM_CACHE`, else `<tmpdir>/modelgate-chromium-<uid>`
 * (per uid, so that root's and a normal user's runs never share or block each other's binary).
 */
export function chromiumCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env['MODELGATE_CHROMIUM_CACHE'] || join(tmpdir(), `modelgate-chromium-${uid()}`);
}

/**
 * Creates the cache directory (0700) and refuses one that is not a real directory of this user's
 * that only they can write: in a shared /tmp, anyone could have created the name first.
 */
function ownCacheDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  const problem = !st.isDirectory()
    ? 'is not a directory (a symbolic link?)'
    : process.getuid && st.uid !== process.getuid()
      ? `belongs to uid ${st.uid}, not to this user (uid ${process.getuid()})`
      : (st.mode & 0o022) !== 0
        ? 'is writable by other users'
        : undefined;
  if (problem) {
    throw new Error(`the Chromium cache ${dir} ${problem}: remove it, or set MODELGATE_CHROMIUM_CACHE to a directory of your own`);
  }
}

/** Removes staging folders that an unpack which died (a killed test run) left behind. */
function removeStaleStaging(dir: string, now: number): void {
  for (const name of readdirSync(dir)) {
    if (!name.startsWith('.unpack-')) continue;
    const path = join(dir, name);
    try {
      if (now - statSync(path).mtimeMs > STALE_STAGING_MS) rmSync(path, { recursive: true, force: true });
    } catch {
      // another process removed it meanwhile
    }
  }
}

/**
 * Unpacks the package's Chromium into `into` with the package's own code, in a child process
 * whose TMPDIR is `into` (the package unpacks into `os.tmpdir()`), and returns the binary's path.
 */
async function unpackWithPackage(into: string): Promise<string> {
  const { entry } = sparticuzPackage();
  const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: into };
  // These make the package take its AWS Lambda / Vercel path (Amazon Linux libraries, LD_LIBRARY_PATH).
  for (const name of ['AWS_EXECUTION_ENV', 'AWS_LAMBDA_JS_RUNTIME', 'CODEBUILD_BUILD_IMAGE', 'VERCEL', 'NODE_OPTIONS']) delete env[name];
  const script = `const { default: chromium } = await import(${JSON.stringify(pathToFileURL(entry).href)}); process.stdout.write(await chromium.executablePath());`;
  const { stdout } = await execFileAsync(process.execPath, ['--input-type=module', '--eval', script], { env, timeout: 120_000 });
  return stdout.trim();
}

export interface ChromiumExecutableOptions {
  /** Default: `chromiumCacheDir()`. */
  cacheDir?: string;
  /** Unpacks the browser into the given (empty) folder and returns the binary's path. Default: the package's own unpacking. */
  unpack?: (into: string) => Promise<string>;
  /** Default: the installed package's version. */
  version?: string;
}

/** The path of the unpacked Chromium binary, unpacking it on first use (see the top of this file). */
export async function chromiumExecutable(opts: ChromiumExecutableOptions = {}): Promise<string> {
  const dir = opts.cacheDir ?? chromiumCacheDir();
  const version = opts.version ?? sparticuzPackage().version;
  const unpack = opts.unpack ?? unpackWithPackage;
  ownCacheDir(dir);
  const target = join(dir, version);
  const binary = join(target, 'chromium');
  if (isFile(binary)) return binary;

  removeStaleStaging(dir, Date.now());
  const staging = mkdtempSync(join(dir, `.unpack-${version}-`));
  try {
    const unpacked = await unpack(staging);
    if (unpacked !== join(staging, 'chromium') || !isFile(unpacked)) {
      throw new Error(`unpacking Chromium gave ${unpacked}, expected ${join(staging, 'chromium')}`);
    }
    try {
      renameSync(staging, target);
    } catch (e) {
      // Another process renamed its complete unpack into place first: use that one.
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true }); // gone already after our own rename
  }
  if (!isFile(binary)) throw new Error(`Chromium is not at ${binary} after unpacking`);
  return binary;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export async function launchChromium(): Promise<{ browser: Browser; close(): Promise<void> }> {
  const executablePath = await chromiumExecutable();
  // launch() (unlike launchPersistentContext) gives Chromium a fresh temporary profile of its own
  // and deletes it on close: nothing is carried over between runs (cookies, cache, HSTS).
  const browser = await chromium.launch({ executablePath, args: [...CHROMIUM_FLAGS] });
  return {
    browser,
    close: () => browser.close(),
  };
}
