// The Checks tab in a real headless Chromium against a real Mailpen: the three checks at a glance,
// details on demand, and a finding's link showing the header or source line it is about.
// Needs the built UI (dist/ui): `npm test` builds it first; alone, run `npm run build:ui` once.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { startTestServer, type TestServer } from './helpers/server.js';
import { launchBrowser, type TestBrowser } from './helpers/browser.js';

const fixture = (name: string): Buffer => readFileSync(new URL(`./fixtures/checks/${name}`, import.meta.url));
const crlf = (b: Buffer): string => b.toString('latin1').replace(/\r?\n/g, '\r\n');

describe('Checks tab in Chromium', () => {
  let server: TestServer;
  let chromium: TestBrowser;
  let page: Page;
  const pageProblems: string[] = [];

  async function upload(raw: string | Buffer): Promise<void> {
    const res = await fetch(`${server.httpUrl}/api/messages`, { method: 'POST', body: typeof raw === 'string' ? raw : new Uint8Array(raw) });
    assert.equal(res.status, 201);
  }

  /** Opens the message with this subject and its Checks tab, and waits for the checks. */
  async function openChecks(subject: string): Promise<void> {
    await page.locator('[role=option]', { hasText: subject }).click();
    await page.getByTestId('reader-subject').filter({ hasText: subject }).waitFor();
    await page.getByRole('tab', { name: 'Checks' }).click();
    await page.getByTestId('glance-lint').waitFor();
  }

  /** The text the page marks with the "finding" highlight, or null when none. */
  const highlighted = (): Promise<string | null> =>
    page.evaluate(() => {
      const h = CSS.highlights.get('finding');
      const range = h ? ([...h][0] as Range | undefined) : undefined;
      return range ? range.toString() : null;
    });

  before(async () => {
    server = await startTestServer();
    await upload(crlf(fixture('flexbox-svg.eml')));
    await upload(crlf(fixture('newsletter-no-one-click.eml')));
    // Byte for byte: its faults include line ends and raw bytes.
    await upload(fixture('faults.eml'));
    chromium = await launchBrowser();
    page = await chromium.context.newPage();
    page.on('pageerror', (err) => pageProblems.push(`uncaught: ${err.message}`));
    page.on('console', (msg) => {
      // Each message opens on its HTML, whose remote images (cdn.example) fail to resolve: the
      // mail's, not the page's. The page's own errors come from its own origin.
      const from = msg.location().url;
      if (msg.type() === 'error' && from.startsWith(server.httpUrl) && !from.includes('/api/messages/')) pageProblems.push(`${msg.text()} (${from})`);
    });
    await page.goto(server.httpUrl);
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
  });

  after(async () => {
    await chromium?.close();
    await server?.close();
  });

  test('flexbox and SVG show as not supported in Outlook for Windows, with the score at a glance', async () => {
    await openChecks('New dashboard layout');
    assert.match((await page.getByTestId('glance-html').textContent()) ?? '', /HTML support\s*\d+%\s*supported · \d+% partial · \d+% not/);
    assert.match((await page.getByTestId('glance-spam').textContent()) ?? '', /Not configured/);
    const features = page.getByTestId('features');
    const feature = (title: string) => features.locator('details').filter({ has: page.locator('.title', { hasText: new RegExp(`^${title}$`) }) });
    const flex = feature('display:flex');
    await flex.locator('summary').click();
    assert.match((await flex.textContent()) ?? '', /used 2×/);
    assert.match((await flex.textContent()) ?? '', /Not supported:[^\n]*Outlook Windows/);
    assert.match((await flex.textContent()) ?? '', /line 5:10 display: flex/);
    const svg = feature('Embedded <svg> image');
    await svg.locator('summary').click();
    assert.match((await svg.textContent()) ?? '', /Not supported:[^\n]*Outlook Windows/);
    // "Show HTML" goes to the HTML tab.
    await flex.getByRole('button', { name: 'Show HTML' }).click();
    assert.equal(await page.getByRole('tab', { name: 'HTML' }).getAttribute('aria-selected'), 'true');
  });

  test('a bulk newsletter without one-click unsubscribe: the finding links to its List-Unsubscribe header', async () => {
    await openChecks('This week: five things we shipped');
    assert.match((await page.getByTestId('glance-lint').textContent()) ?? '', /0 errors · 1 warning/);
    const finding = page.getByTestId('findings').locator('li', { hasText: 'one-click unsubscribe cannot work' });
    await finding.locator('summary').click();
    assert.match((await finding.textContent()) ?? '', /RFC 8058/);
    await finding.getByRole('button', { name: 'Show in Headers: List-Unsubscribe' }).click();
    assert.equal(await page.getByRole('tab', { name: 'Headers' }).getAttribute('aria-selected'), 'true');
    await page.waitForFunction(() => CSS.highlights.has('finding'));
    assert.match((await highlighted()) ?? '', /^List-Unsubscribe\s*<mailto:unsubscribe@news\.example\?subject=unsubscribe>$/);
  });

  test('a line over 998 octets: the finding shows that line of the source', async () => {
    await openChecks('Faults');
    assert.match((await page.getByTestId('glance-lint').textContent()) ?? '', /5 errors/);
    const finding = page.getByTestId('findings').locator('li', { hasText: 'longer than 998 octets' });
    await finding.getByRole('button', { name: 'Show in Source, line 15' }).click();
    assert.equal(await page.getByRole('tab', { name: 'Source' }).getAttribute('aria-selected'), 'true');
    await page.waitForFunction(() => (CSS.highlights.get('finding')?.size ?? 0) > 0 && [...CSS.highlights.get('finding')!][0]!.toString().startsWith('<p>x'));
    assert.equal(((await highlighted()) ?? '').replace(/\r$/, ''), `<p>${'x'.repeat(1200)}</p>`);
  });

  test('the page logged no error', () => {
    assert.deepEqual(pageProblems, []);
  });
});
