/**
 * The browser tests' Chromium cache (test/support/browser.ts): a binary is used only when it is
 * whole, whoever unpacks it and however many unpack it at once. The unpacking itself is replaced
 * here by a slow fake that writes the binary in two halves; the real package's unpacking and
 * launch are what review-page.test.ts runs.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromiumCacheDir, chromiumExecutable } from '../support/browser.js';

const WHOLE = 'ELF: the whole binary';
let root: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'modelgate-chromium-test-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** A fake unpack: half the binary, a pause (another caller runs meanwhile), then the rest. */
function slowUnpack(calls: string[], opts: { failAfterHalf?: boolean } = {}) {
  return async (into: string): Promise<string> => {
    calls.push(into);
    const binary = join(into, 'chromium');
    writeFileSync(binary, WHOLE.slice(0, 5), { mode: 0o700 });
    await sleep(50);
    if (opts.failAfterHalf) throw new Error('unpack interrupted');
    writeFileSync(binary, WHOLE, { mode: 0o700 });
    return binary;
  };
}

describe('the Chromium cache', () => {
  it('is per user: the uid is in the default directory, and MODELGATE_CHROMIUM_CACHE moves it', () => {
    expect(chromiumCacheDir({})).toBe(join(tmpdir(), `modelgate-chromium-${process.getuid?.()}`));
    expect(chromiumCacheDir({ MODELGATE_CHROMIUM_CACHE: '/srv/cache/chromium' })).toBe('/srv/cache/chromium');
  });

  it('two callers at once both get the whole binary, at one path, and no half-written copy is ever in place', async () => {
    const dir = join(root, 'cache');
    const calls: string[] = [];
    const seenDuringUnpack: boolean[] = [];
    const unpack = slowUnpack(calls);
    const watching = async (into: string) => {
      const done = unpack(into);
      await sleep(20); // mid-unpack: the half binary exists in the staging folder only
      seenDuringUnpack.push(existsSync(join(dir, '153.0.0', 'chromium')));
      return done;
    };

    const [a, b] = await Promise.all([
      chromiumExecutable({ cacheDir: dir, version: '153.0.0', unpack: watching }),
      chromiumExecutable({ cacheDir: dir, version: '153.0.0', unpack: watching }),
    ]);

    expect(a).toBe(join(dir, '153.0.0', 'chromium'));
    expect(b).toBe(a);
    expect(readFileSync(a, 'utf8')).toBe(WHOLE);
    expect(calls).toHaveLength(2); // both unpacked: neither waited for, nor used, the other's half
    expect(seenDuringUnpack).toEqual([false, false]);
    expect(readdirSync(dir)).toEqual(['153.0.0']); // both staging folders are gone
  });

  it('a later caller uses the binary without unpacking again; another version unpacks its own', async () => {
    const dir = join(root, 'cache');
    const calls: string[] = [];
    const first = await chromiumExecutable({ cacheDir: dir, version: '153.0.0', unpack: slowUnpack(calls) });

    const again = await chromiumExecutable({ cacheDir: dir, version: '153.0.0', unpack: slowUnpack(calls) });
    const other = await chromiumExecutable({ cacheDir: dir, version: '154.0.0', unpack: slowUnpack(calls) });

    expect(again).toBe(first);
    expect(other).toBe(join(dir, '154.0.0', 'chromium'));
    expect(calls).toHaveLength(2);
  });

  it('an interrupted unpack leaves nothing that a later run would use', async () => {
    const dir = join(root, 'cache');
    const calls: string[] = [];

    await expect(chromiumExecutable({ cacheDir: dir, version: '153.0.0', unpack: slowUnpack(calls, { failAfterHalf: true }) })).rejects.toThrow(
      'unpack interrupted',
    );
    expect(readdirSync(dir)).toEqual([]);
    const binary = await chromiumExecutable({ cacheDir: dir, version: '153.0.0', unpack: slowUnpack(calls) });

    expect(readFileSync(binary, 'utf8')).toBe(WHOLE);
    expect(calls).toHaveLength(2);
  });

  it("removes a killed run's staging folder once it is stale, and leaves a fresh one (someone is unpacking)", async () => {
    const dir = join(root, 'cache');
    mkdirSync(dir, { mode: 0o700 });
    const stale = join(dir, '.unpack-153.0.0-dead01');
    const fresh = join(dir, '.unpack-153.0.0-busy01');
    mkdirSync(stale);
    mkdirSync(fresh);
    const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
    utimesSync(stale, twoHoursAgo, twoHoursAgo);

    await chromiumExecutable({ cacheDir: dir, version: '153.0.0', unpack: slowUnpack([]) });

    expect(readdirSync(dir).sort()).toEqual(['.unpack-153.0.0-busy01', '153.0.0']);
  });

  it('refuses a cache directory that is a symbolic link, or that other users can write, and unpacks nothing there', async () => {
    const elsewhere = join(root, 'elsewhere');
    mkdirSync(elsewhere, { mode: 0o700 });
    const link = join(root, 'link');
    symlinkSync(elsewhere, link);
    const shared = join(root, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o777);
    const calls: string[] = [];

    await expect(chromiumExecutable({ cacheDir: link, version: '153.0.0', unpack: slowUnpack(calls) })).rejects.toThrow(/is not a directory/);
    await expect(chromiumExecutable({ cacheDir: shared, version: '153.0.0', unpack: slowUnpack(calls) })).rejects.toThrow(/writable by other users/);
    expect(calls).toEqual([]);
    expect(readdirSync(elsewhere)).toEqual([]);
    expect(readdirSync(shared)).toEqual([]);
  });
});
