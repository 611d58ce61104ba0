// Headless Chromium for the console's browser tests and screenshots: Debian's `chromium`
// package driven by playwright-core (which downloads nothing itself). Chromium runs with a fresh
// profile and without its background networking, which would otherwise knock on the closed
// network. Under CI (CI=true) a missing browser fails the run; elsewhere the tests say how to
// install it and skip.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = process.env.DEFERBASE_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const INSTALL_HINT = `Chromium is not installed at ${CHROMIUM}: the web console's browser tests need Debian's chromium package (as root: apt-get install -y chromium), or set DEFERBASE_CHROMIUM to a Chromium binary.`;

export function chromiumAvailable(): boolean {
  try {
    fs.accessSync(CHROMIUM, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchBrowser(viewport = { width: 1360, height: 860 }): Promise<Browser> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'deferbase-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
    timeout: 30000,
  });
  return {
    context,
    async close() {
      await context.close().catch(() => undefined);
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Skips the calling suite when Chromium is missing (with the install hint), or fails it under
 * CI, where .ci/run installs it. Call at the top of a describe's before().
 */
export function requireChromium(ctx: Mocha.Context): void {
  if (chromiumAvailable()) return;
  if (process.env.CI === 'true') throw new Error(INSTALL_HINT);
  console.log(`      (skipped) ${INSTALL_HINT}`);
  ctx.skip();
}
