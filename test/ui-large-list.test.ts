// The virtualized list with 20,000 messages in a real headless Chromium: a jump of the scrollbar
// to the middle shows the right messages there (loaded by offset, not by walking every page
// above), and live changes keep the rows where they belong.
// Needs the built UI (dist/ui): `npm test` builds it first; alone, run `npm run build:ui` once.
import { test, describe, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { startTestServer, type TestServer } from './helpers/server.js';
import { collectPageProblems, launchBrowser, type TestBrowser } from './helpers/browser.js';

const COUNT = 20_000;
/** The list's row height (MessageList.svelte). */
const ROW = 68;

/** Subject of the message stored n-th (0: the oldest). Zero-padded, so none contains another. */
const subjectOf = (n: number): string => `Bulk ${String(n).padStart(5, '0')}`;

interface ShownRow {
  index: number;
  subject: string;
}

interface ListBody {
  total: number;
  messages: { id: string; subject: string }[];
}

describe('the inbox UI with 20,000 messages', () => {
  let server: TestServer;
  let chromium: TestBrowser;
  let page: Page;
  const listRequests: string[] = [];
  const pageProblems: string[] = [];
  /** Events the page's stream received, every frame's. */
  const streamEvents: Array<{ type: string; data: { messages?: unknown[] } }> = [];

  function store(subject: string): string {
    const raw = Buffer.from(`From: bulk@example.test\r\nTo: bob@example.test\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(' ', '-')}@example.test>\r\n\r\nBody of ${subject}.\r\n`);
    return server.store.add({
      raw,
      inbox: 'default',
      envelope: { mailFrom: 'bulk@example.test', rcptTo: ['bob@example.test'], helo: 'test', remoteAddress: '127.0.0.1', authUser: null, tls: false },
    }).id;
  }

  /** The rows inside the viewport once every one of them is loaded (no placeholder left there). */
  async function shownRows(): Promise<ShownRow[]> {
    // No named functions inside: tsx would wrap them in a helper the page does not have.
    const handle = await page.waitForFunction(() => {
      const viewport = document.querySelector<HTMLElement>('[data-testid=message-list]')!;
      const view = viewport.getBoundingClientRect();
      const rows: { index: number; subject: string }[] = [];
      for (const el of viewport.querySelectorAll<HTMLElement>('.row')) {
        const box = el.getBoundingClientRect();
        if (box.bottom <= view.top || box.top >= view.bottom) continue;
        if (el.classList.contains('placeholder')) return null;
        rows.push({ index: Number(el.getAttribute('aria-posinset')) - 1, subject: el.querySelector('.subject')!.textContent!.replace(/^Unread:\s*/, '').trim() });
      }
      return rows.length === 0 ? null : rows.sort((a, b) => a.index - b.index);
    });
    return (await handle.jsonValue()) as ShownRow[];
  }

  async function scrollToRow(index: number): Promise<void> {
    await page.getByTestId('message-list').evaluate((el, top) => {
      el.scrollTop = top;
    }, index * ROW);
  }

  const firstVisibleRow = (): Promise<number> => page.getByTestId('message-list').evaluate((el, row) => Math.floor(el.scrollTop / row), ROW);

  /** What the API itself lists at these positions, newest first. */
  async function apiSubjects(offset: number, limit: number): Promise<string[]> {
    const body = (await (await fetch(`${server.httpUrl}/api/messages?offset=${offset}&limit=${limit}`)).json()) as ListBody;
    return body.messages.map((m) => m.subject);
  }

  /** Rows shown and the API agree, row by row, and the rows are the ones the scroll position covers. */
  async function assertShownMatchApi(): Promise<ShownRow[]> {
    const rows = await shownRows();
    const first = rows[0]!.index;
    assert.deepEqual(rows.map((r) => r.index), rows.map((_, i) => first + i), 'consecutive rows');
    const scrolledTo = await firstVisibleRow();
    assert.ok(Math.abs(first - scrolledTo) <= 1, `the rows shown start where the list is scrolled to (${first}, scrolled to ${scrolledTo}, ${JSON.stringify(rows)})`);
    assert.deepEqual(rows.map((r) => r.subject), await apiSubjects(first, rows.length));
    return rows;
  }

  before(async () => {
    server = await startTestServer({ maxMessages: 0 });
    for (let n = 0; n < COUNT; n++) store(subjectOf(n));
    chromium = await launchBrowser();
    page = await chromium.context.newPage();
    collectPageProblems(page, pageProblems);
    page.on('request', (r) => {
      const url = new URL(r.url());
      if (url.pathname === '/api/messages') listRequests.push(url.search);
    });
    page.on('websocket', (ws) =>
      ws.on('framereceived', ({ payload }) => {
        const frame = JSON.parse(String(payload)) as (typeof streamEvents)[number] | (typeof streamEvents)[number][];
        streamEvents.push(...(Array.isArray(frame) ? frame : [frame]));
      }),
    );
    await page.goto(server.httpUrl);
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
    await page.getByTestId('list-count').filter({ hasText: /^\s*20,000 messages/ }).waitFor();
  });

  after(async () => {
    await chromium?.close();
    await server?.close();
  });

  // Each test owns this check: what the page logged while it ran (a hook failure fails that test).
  afterEach(() => {
    const problems = pageProblems.splice(0);
    assert.deepEqual(problems, [], 'the page logged no errors during this test');
  });

  test('jumping the scrollbar to the middle shows the messages at that position, loaded by offset', async () => {
    const top = await shownRows();
    assert.equal(top[0]!.index, 0);
    assert.equal(top[0]!.subject, subjectOf(COUNT - 1), 'newest first');

    const before = listRequests.length;
    await scrollToRow(10_000);
    const rows = await assertShownMatchApi();
    for (const row of rows) assert.equal(row.subject, subjectOf(COUNT - 1 - row.index), `row ${row.index}`);
    assert.ok(rows.length >= 8, `a screenful of rows: ${rows.length}`);
    const jump = listRequests.slice(before);
    assert.ok(jump.length >= 1 && jump.length <= 2, `one page for the jump, not a walk: ${JSON.stringify(jump)}`);
    assert.match(jump[0]!, /[?&]offset=\d+/);
    assert.doesNotMatch(jump.join(' '), /cursor=/);

    // Scrolling on a little from there continues the loaded rows by cursor, rows still right.
    await scrollToRow(10_400);
    for (const row of await assertShownMatchApi()) assert.equal(row.subject, subjectOf(COUNT - 1 - row.index));
    // And back up above the page that was loaded.
    await scrollToRow(9_700);
    for (const row of await assertShownMatchApi()) assert.equal(row.subject, subjectOf(COUNT - 1 - row.index));
  });

  test('mail arriving above keeps a reader in the middle on the same messages', async () => {
    await scrollToRow(12_000);
    const before = await assertShownMatchApi();
    store('Arrived while reading');
    await page.getByTestId('list-count').filter({ hasText: /^\s*20,001 messages/ }).waitFor();
    const after = await assertShownMatchApi();
    assert.equal(after[0]!.index, before[0]!.index + 1, 'every row moved down one, and so did the scroll position');
    assert.deepEqual(after.map((r) => r.subject), before.map((r) => r.subject), 'the same messages stay in view');
    await scrollToRow(0);
    const top = await shownRows();
    assert.equal(top[0]!.subject, 'Arrived while reading');
    assert.equal(top[1]!.subject, subjectOf(COUNT - 1));
  });

  test('a deletion far above the rows in view leaves them right: they are reloaded where they now are', async () => {
    await scrollToRow(15_000);
    await assertShownMatchApi();
    // Row 3,000 has not been loaded: the page cannot know where it was.
    const [victim] = (await (await fetch(`${server.httpUrl}/api/messages?offset=3000&limit=1`)).json() as ListBody).messages;
    assert.ok(victim);
    const res = await fetch(`${server.httpUrl}/api/messages/${victim.id}`, { method: 'DELETE' });
    assert.equal(res.status, 200);
    await page.getByTestId('list-count').filter({ hasText: /^\s*20,000 messages/ }).waitFor();
    const rows = await assertShownMatchApi();
    assert.ok(!rows.some((r) => r.subject === victim.subject));
  });

  test('End and Home move the highlight to the last and first message, loading them where needed', async () => {
    const list = page.getByTestId('message-list');
    await list.focus();
    await page.keyboard.press('End');
    await page.locator('[role=option].highlighted', { hasText: subjectOf(0) }).waitFor();
    assert.equal(await page.locator('[role=option].highlighted').getAttribute('aria-posinset'), '20000');
    await page.keyboard.press('ArrowUp');
    await page.locator('[role=option].highlighted', { hasText: subjectOf(1) }).waitFor();
    await page.keyboard.press('Home');
    await page.locator('[role=option].highlighted', { hasText: 'Arrived while reading' }).waitFor();
    assert.equal(await list.evaluate((el) => el.scrollTop), 0);
  });

  test('a page asked for by offset while mail arrived is not placed one row off: it is asked for again', async () => {
    // The server may answer before or after the arrival; the page cannot tell which.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let heldOne!: () => void;
    const holding = new Promise<void>((resolve) => (heldOne = resolve));
    let offsetRequests = 0;
    await page.route(/\/api\/messages\?.*offset=/, async (route) => {
      offsetRequests++;
      if (offsetRequests === 1) {
        heldOne();
        await held;
      }
      await route.continue();
    });
    try {
      await scrollToRow(5_000);
      await holding;
      store('Arrived during the jump');
      await page.getByTestId('list-count').filter({ hasText: /^\s*20,001 messages/ }).waitFor();
      release();
      // Two arrivals above (this one and the one earlier) and one deletion, far above: row r is
      // the message stored COUNT - r th, as the API also says.
      const rows = await assertShownMatchApi();
      for (const row of rows) assert.equal(row.subject, subjectOf(COUNT - row.index), `row ${row.index}`);
      assert.ok(offsetRequests >= 2, `the held answer was dropped and the page asked again (${offsetRequests} requests)`);
    } finally {
      release();
      await page.unroute(/\/api\/messages\?.*offset=/);
    }
  });

  test('a burst, sent to the page as a page of rows and references to the rest, keeps a reader in the middle on the same messages and every row right', async () => {
    const total = ((await (await fetch(`${server.httpUrl}/api/messages?limit=1`)).json()) as ListBody).total;
    await scrollToRow(8_000);
    const before = await assertShownMatchApi();
    const eventsBefore = streamEvents.length;
    // One turn: the page's stream (?rows=50) gets the newest 50 with rows, the 450 before as references.
    const BURST = 500;
    for (let i = 0; i < BURST; i++) store(`Burst ${String(i).padStart(3, '0')}`);
    await page.getByTestId('list-count').filter({ hasText: new RegExp(`^\\s*${(total + BURST).toLocaleString('en-US')} messages`) }).waitFor();
    const burst = streamEvents.slice(eventsBefore);
    const referenced = burst.filter((e) => e.type === 'arrived').reduce((n, e) => n + e.data.messages!.length, 0);
    assert.equal(referenced, BURST - 50, 'the arrivals past a page of rows came as references');
    assert.equal(burst.filter((e) => e.type === 'added').length, 50);

    const after = await assertShownMatchApi();
    assert.equal(after[0]!.index, before[0]!.index + BURST, 'every row moved down by the burst, and so did the scroll position');
    assert.deepEqual(after.map((r) => r.subject), before.map((r) => r.subject), 'the same messages stay in view');
    // The top: the rows that came with the burst; below them, the referenced ones, loaded when shown.
    await scrollToRow(0);
    const top = await assertShownMatchApi();
    assert.equal(top[0]!.subject, 'Burst 499');
    await scrollToRow(300);
    for (const row of await assertShownMatchApi()) assert.equal(row.subject, `Burst ${String(BURST - 1 - row.index).padStart(3, '0')}`, `row ${row.index}`);
  });

  test('a burst while the first page is on its way does not push that page down: it was answered after the burst, and its rows are the newest', async () => {
    const total = ((await (await fetch(`${server.httpUrl}/api/messages?limit=1`)).json()) as ListBody).total;
    const search = page.getByLabel('Search messages');
    await search.fill(`subject:"${subjectOf(1)}"`);
    await page.getByTestId('list-count').filter({ hasText: /^\s*1 message/ }).waitFor();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let heldOne!: () => void;
    const holding = new Promise<void>((resolve) => (heldOne = resolve));
    let firstPages = 0;
    // The list's first page, asked for again when the search is cleared: no search, no offset, no cursor.
    const firstPage = (url: URL): boolean =>
      url.pathname === '/api/messages' && !url.searchParams.get('q') && !url.searchParams.has('offset') && !url.searchParams.has('cursor');
    await page.route(firstPage, async (route) => {
      if (++firstPages === 1) {
        heldOne();
        await held;
      }
      await route.continue();
    });
    try {
      await search.fill('');
      await holding;
      // The burst reaches the page while that page is held: 950 references, then 50 rows. (Past the
      // 300 rows a gap is filled with at once, so a page pushed down would still be in view at 960.)
      const eventsBefore = streamEvents.length;
      const BURST = 1000;
      for (let i = 0; i < BURST; i++) store(`Held ${String(i).padStart(3, '0')}`);
      for (let tries = 0; tries < 50 && !streamEvents.slice(eventsBefore).some((e) => e.type === 'added'); tries++) await new Promise((r) => setTimeout(r, 100));
      assert.ok(streamEvents.slice(eventsBefore).some((e) => e.type === 'arrived'), 'the burst came as references and rows');
      release();
      await page.getByTestId('list-count').filter({ hasText: new RegExp(`^\\s*${(total + BURST).toLocaleString('en-US')} messages`) }).waitFor();
      const top = await assertShownMatchApi();
      assert.equal(top[0]!.subject, 'Held 999', 'the newest first, where the page put it');
      // Below the page: the burst's older messages, loaded where they are.
      await scrollToRow(960);
      for (const row of await assertShownMatchApi()) if (row.index < BURST) assert.equal(row.subject, `Held ${String(BURST - 1 - row.index).padStart(3, '0')}`, `row ${row.index}`);
      assert.equal(firstPages, 1, 'no second load hid it');
    } finally {
      release();
      await page.unroute(firstPage);
    }
  });
});
