/**
 * A headless Chromium for browser tests: Debian's `chromium` package driven by playwright-core
 * (no browser download). Missing, it fails the test with the command that installs it.
 *
 *   const { browser, close } = await launchChromium();
 *   afterAll(() => close());
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export async function launchChromium(): Promise<{ browser: Browser; close(): Promise<void> }> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} not found: the browser tests drive Debian's chromium. Install it with ` +
        '`apt-get update && apt-get install -y --no-install-recommends chromium` (as root), then run the tests again.',
    );
  }
  // launch() (unlike launchPersistentContext) gives Chromium a fresh temporary profile of its own
  // and deletes it on close: nothing is carried over between runs (cookies, cache, HSTS).
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    browser,
    close: () => browser.close(),
  };
}
