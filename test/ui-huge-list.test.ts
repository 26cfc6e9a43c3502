// The list past the height a browser lays out, in a real headless Chromium: with 250,000
// messages (17 million px of rows at 68 px, more than MAX_LIST_PX) the spacer stays under the
// limit, its scrollbar is scaled onto the rows, the end of the scrollbar shows the oldest
// message, and a jump anywhere shows the rows the API lists at that position.
// Needs the built UI (dist/ui): `npm test` builds it first; alone, run `npm run build:ui` once.
import { test, describe, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { startTestServer, type TestServer } from './helpers/server.js';
import { collectPageProblems, launchBrowser, type TestBrowser } from './helpers/browser.js';
import { MAX_LIST_PX } from '../ui/src/lib/list-scale.js';

const COUNT = 250_000;
/** The list's row height (MessageList.svelte). */
const ROW = 68;

const subjectOf = (n: number): string => `Bulk ${String(n).padStart(6, '0')}`;

interface ShownRow {
  index: number;
  subject: string;
}

describe('the inbox UI with more rows than a browser lays out', () => {
  let server: TestServer;
  let chromium: TestBrowser;
  let page: Page;
  const pageProblems: string[] = [];

  /** The rows inside the viewport once every one of them is loaded (no placeholder left there). */
  async function shownRows(): Promise<ShownRow[]> {
    const handle = await page.waitForFunction(() => {
      const viewport = document.querySelector<HTMLElement>('[data-testid=message-list]')!;
      const view = viewport.getBoundingClientRect();
      const rows: { index: number; subject: string }[] = [];
      for (const el of viewport.querySelectorAll<HTMLElement>('.row')) {
        const box = el.getBoundingClientRect();
        // Rows wholly inside the view.
        if (box.top < view.top - 1 || box.bottom > view.bottom + 1) continue;
        if (el.classList.contains('placeholder')) return null;
        rows.push({ index: Number(el.getAttribute('aria-posinset')) - 1, subject: el.querySelector('.subject')!.textContent!.replace(/^Unread:\s*/, '').trim() });
      }
      return rows.length === 0 ? null : rows.sort((a, b) => a.index - b.index);
    });
    return (await handle.jsonValue()) as ShownRow[];
  }

  /** Drags the scrollbar to a fraction of its range, as a user would. */
  async function scrollToFraction(fraction: number): Promise<void> {
    await page.getByTestId('message-list').evaluate((el, f) => {
      el.scrollTop = f * (el.scrollHeight - el.clientHeight);
    }, fraction);
  }

  before(async () => {
    server = await startTestServer({ maxMessages: 0, maxBytes: 0 });
    const envelope = { mailFrom: 'bulk@example.test', rcptTo: ['bob@example.test'], helo: 'test', remoteAddress: '127.0.0.1', authUser: null, tls: false };
    for (let n = 0; n < COUNT; n++) {
      server.store.add({ raw: Buffer.from(`From: bulk@example.test\r\nTo: bob@example.test\r\nSubject: ${subjectOf(n)}\r\n\r\nBody.\r\n`), inbox: 'default', envelope });
    }
    chromium = await launchBrowser();
    page = await chromium.context.newPage();
    collectPageProblems(page, pageProblems);
    await page.goto(server.httpUrl);
    await page.getByTestId('list-count').filter({ hasText: /^\s*250,000 messages/ }).waitFor({ timeout: 60_000 });
  });

  after(async () => {
    await chromium?.close();
    await server?.close();
  });

  afterEach(() => {
    const problems = pageProblems.splice(0);
    assert.deepEqual(problems, [], 'the page logged no errors during this test');
  });

  test('the spacer stays under the layout limit and is scaled onto the rows', async () => {
    const { height, scale } = await page.getByTestId('message-list').evaluate((el) => ({ height: el.scrollHeight, scale: Number(el.dataset.scrollScale) }));
    assert.ok(height <= MAX_LIST_PX + 20 * ROW, `scroll height ${height}`);
    assert.ok(scale > 1, `scaled: ${scale}`);
    const top = await shownRows();
    assert.equal(top[0]!.index, 0);
    assert.equal(top[0]!.subject, subjectOf(COUNT - 1), 'newest first');
  });

  test('the end of the scrollbar shows the oldest message', async () => {
    await scrollToFraction(1);
    const rows = await shownRows();
    const last = rows[rows.length - 1]!;
    assert.equal(last.index, COUNT - 1);
    assert.equal(last.subject, subjectOf(0));
  });

  test('a jump of the scrollbar shows the rows the API lists at that position, in order', async () => {
    for (const fraction of [0.5, 0.9, 0.25]) {
      await scrollToFraction(fraction);
      const rows = await shownRows();
      const first = rows[0]!.index;
      const expected = Math.round(fraction * (COUNT - 1));
      assert.ok(Math.abs(first - expected) < 30, `at ${fraction}: first row ${first}, about ${expected}`);
      assert.deepEqual(rows.map((r) => r.index), rows.map((_, i) => first + i), 'consecutive rows');
      for (const row of rows) assert.equal(row.subject, subjectOf(COUNT - 1 - row.index), `row ${row.index}`);
      assert.ok(rows.length >= 5, `a screenful: ${rows.length}`);
    }
  });

  test('the keyboard reaches the oldest message with End and comes back with Home', async () => {
    await scrollToFraction(0);
    await page.getByTestId('message-list').focus();
    await page.keyboard.press('End');
    await page.waitForFunction(() => document.querySelector('.row.highlighted')?.getAttribute('aria-posinset') === '250000');
    const end = await shownRows();
    assert.equal(end[end.length - 1]!.subject, subjectOf(0));
    await page.keyboard.press('Home');
    await page.waitForFunction(() => document.querySelector('.row.highlighted')?.getAttribute('aria-posinset') === '1');
    const top = await shownRows();
    assert.equal(top[0]!.subject, subjectOf(COUNT - 1));
  });
});
