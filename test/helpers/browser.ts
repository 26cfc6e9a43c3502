// Debian's Chromium driven by playwright-core (which downloads no browser of its own), headless,
// with a throwaway profile and nothing that phones home.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface TestBrowser {
  /** One browser profile (a fresh --user-data-dir); open pages with context.newPage(). */
  context: BrowserContext;
  close(): Promise<void>;
}

/**
 * `bypassCSP`: the page's CSP (script-src 'self') lets a test inject a script of its own
 * (axe-core); only for tests that audit the page, never for those that test its walls.
 */
export async function launchBrowser(viewport = { width: 1280, height: 800 }, options: { bypassCSP?: boolean } = {}): Promise<TestBrowser> {
  const profile = await mkdtemp(join(tmpdir(), 'mailpen-chromium-'));
  // playwright passes the profile as --user-data-dir itself.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    bypassCSP: options.bypassCSP ?? false,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/**
 * What went wrong inside a page: each uncaught error ("uncaught: <message>") and each console error,
 * pushed onto `into` as it happens. A test asserts the list empty, or splices it to see what is new.
 */
export function collectPageProblems(page: Page, into: string[] = []): string[] {
  page.on('pageerror', (err) => into.push(`uncaught: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') into.push(msg.text());
  });
  return into;
}
