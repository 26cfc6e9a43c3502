// Issue 20's numbered items, each as a new user met it, in a real headless Chromium against a real
// Mailpen fed over SMTP: what the keys act on, the search box, the inbox menu after Delete all,
// URLs and history, the offline state, keys after a click into the mail, one scroll, the phone
// layout. (Item 10, the axe-core audit, is test/ui-axe.test.ts.)
// Needs the built UI (dist/ui): `npm test` builds it first; alone, run `npm run build:ui` once.
import { test, describe, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import nodemailer, { type SendMailOptions } from 'nodemailer';
import type { Page } from 'playwright-core';
import { startTestServer, type TestServer } from './helpers/server.js';
import { launchBrowser, type TestBrowser } from './helpers/browser.js';

interface ListBody {
  total: number;
  messages: { id: string; subject: string; read: boolean; inbox: string }[];
}

/** An HTML mail 600 px wide, as newsletters are. */
const WIDE_HTML = `<!doctype html><html><body style="margin:0">
<table width="600" style="width:600px;background:#eef" cellpadding="0" cellspacing="0"><tr><td style="height:1400px;vertical-align:top">
<h1 id="wide">Six hundred pixels</h1><p id="right-edge" style="text-align:right">right edge</p></td></tr></table></body></html>`;

describe('inbox UI, round two (issue 20)', () => {
  let server: TestServer;
  let chromium: TestBrowser;
  let transport: ReturnType<typeof nodemailer.createTransport>;

  const send = (subject: string, extra: SendMailOptions = {}) =>
    transport.sendMail({ from: 'Shop <shop@example.test>', to: 'bob@example.test', subject, text: `Body of ${subject}.`, ...extra });

  async function list(q = ''): Promise<ListBody> {
    return (await (await fetch(`${server.httpUrl}/api/messages?q=${encodeURIComponent(q)}`)).json()) as ListBody;
  }

  async function idOf(subject: string): Promise<string> {
    const found = (await list(`subject:"${subject}"`)).messages.find((m) => m.subject === subject);
    assert.ok(found, `the API has "${subject}"`);
    return found.id;
  }

  async function readFlag(id: string): Promise<boolean> {
    return ((await (await fetch(`${server.httpUrl}/api/messages/${id}`)).json()) as { read: boolean }).read;
  }

  /** A new page on the inbox (or a path under it), live. */
  async function open(path = '/', viewport = { width: 1280, height: 800 }): Promise<Page> {
    const page = await chromium.context.newPage();
    await page.setViewportSize(viewport);
    await page.goto(`${server.httpUrl}${path}`);
    await page.getByTestId('connection').filter({ hasText: 'Live' }).waitFor();
    return page;
  }

  const row = (page: Page, subject: string) => page.locator('[role=option]', { hasText: subject });
  const highlightedSubject = async (page: Page) => ((await page.locator('[role=option].highlighted .subject').textContent()) ?? '').replace(/^Unread:\s*/, '');

  before(async () => {
    server = await startTestServer();
    transport = nodemailer.createTransport({ host: '127.0.0.1', port: server.smtpPort, secure: false, ignoreTLS: true });
    chromium = await launchBrowser();
  });

  after(async () => {
    await chromium?.close();
    transport?.close();
    await server?.close();
  });

  beforeEach(async () => {
    await fetch(`${server.httpUrl}/api/messages`, { method: 'DELETE' });
  });

  test('1. d and u act on the highlighted row, not the open message; a delete offers Undo', async () => {
    // Newest first: A on top, then B, then C.
    for (const s of ['Item C', 'Item B', 'Item A']) await send(s);
    const page = await open();
    try {
      await row(page, 'Item C').waitFor();
      await row(page, 'Item A').click();
      await page.getByTestId('reader-subject').filter({ hasText: 'Item A' }).waitFor();
      const [a, c] = [await idOf('Item A'), await idOf('Item C')];
      await page.waitForFunction((id) => !document.getElementById(`row-${id}`)?.classList.contains('unread'), a);
      await page.keyboard.press('j');
      await page.keyboard.press('j');
      assert.equal(await highlightedSubject(page), 'Item C');

      await page.keyboard.press('u'); // C was unread: now read; A, open, stays read
      await page.waitForFunction((id) => !document.getElementById(`row-${id}`)?.classList.contains('unread'), c);
      assert.equal(await readFlag(c), true);
      assert.equal(await readFlag(a), true);

      await page.keyboard.press('d');
      await row(page, 'Item C').waitFor({ state: 'detached' });
      assert.equal((await fetch(`${server.httpUrl}/api/messages/${c}`)).status, 404);
      assert.equal((await fetch(`${server.httpUrl}/api/messages/${a}`)).status, 200, 'the open message was not deleted');
      assert.equal(await page.getByTestId('reader-subject').textContent(), 'Item A', 'the open message stays open');

      const notice = page.getByTestId('notice');
      await notice.filter({ hasText: 'Deleted' }).waitFor();
      await notice.getByRole('button', { name: 'Undo' }).click();
      await row(page, 'Item C').waitFor();
      const back = (await list('subject:"Item C"')).messages;
      assert.equal(back.length, 1);
      assert.equal(back[0]!.read, true, 'it comes back as it was: read');
    } finally {
      await page.close();
    }
  });

  test('2. Esc in the search box empties it and the list is the full list again', async () => {
    for (const s of ['Disk alpha full', 'Disk beta full', 'Disk gamma full']) await send(s);
    const page = await open();
    try {
      await row(page, 'Disk gamma full').waitFor();
      await page.keyboard.press('/');
      await page.keyboard.type('subject:alpha');
      await page.waitForFunction(() => document.querySelectorAll('[role=option]').length === 1);
      await page.keyboard.press('Escape');
      assert.equal(await page.getByLabel('Search messages').inputValue(), '');
      await page.waitForFunction(() => document.querySelectorAll('[role=option]').length === 3);
      assert.match((await page.getByTestId('list-count').textContent()) ?? '', /^\s*3 messages/);
      // A second Esc leaves the box; the keys work again.
      await page.keyboard.press('Escape');
      await page.keyboard.press('j');
      assert.equal(await highlightedSubject(page), 'Disk gamma full');
    } finally {
      await page.close();
    }
  });

  test('3. a half-typed query is not searched: the last results stay and a quiet hint says why', async () => {
    for (const s of ['Report alpha', 'Report beta']) await send(s);
    const page = await open();
    const searched: string[] = [];
    page.on('request', (r) => {
      const url = new URL(r.url());
      if (url.pathname === '/api/messages' && url.searchParams.has('q')) searched.push(url.searchParams.get('q')!);
    });
    try {
      await row(page, 'Report beta').waitFor();
      const box = page.getByLabel('Search messages');
      await box.fill('subject:alpha');
      await page.waitForFunction(() => document.querySelectorAll('[role=option]').length === 1);
      await box.pressSequentially(' from:');
      const hint = page.getByTestId('query-problem');
      await hint.filter({ hasText: '"from:" needs a value' }).waitFor();
      assert.match((await hint.textContent()) ?? '', /from:ann/, 'with a syntax hint');
      assert.equal(await page.locator('[role=option]').count(), 1, 'the last good results stay');
      assert.match((await row(page, 'Report alpha').textContent()) ?? '', /Report alpha/);
      assert.equal(await page.getByRole('alert').count(), 0, 'no error, and no "Nothing matches"');
      assert.equal(await page.getByTestId('empty').count(), 0);
      assert.ok(!searched.some((q) => q.includes('from:') && !/from:\S/.test(q)), `never searched a half query: ${JSON.stringify(searched)}`);

      await box.pressSequentially('shop');
      await hint.waitFor({ state: 'detached' });
      await page.waitForFunction(() => document.querySelectorAll('[role=option]').length === 1);
      assert.equal(await box.getAttribute('aria-invalid'), 'false');
    } finally {
      await page.close();
    }
  });

  test('4. Delete all in a named inbox falls back to every inbox, not a blank menu', async () => {
    const staging = nodemailer.createTransport({ host: '127.0.0.1', port: server.smtpPort, secure: false, ignoreTLS: true, auth: { user: 'staging', pass: 'x' } });
    await staging.sendMail({ from: 'ci@example.test', to: 'qa@example.test', subject: 'Staging only', text: 's' });
    staging.close();
    await send('Default stays');
    const page = await open();
    try {
      const menu = page.getByTestId('inbox-select');
      await page.locator('[data-testid=inbox-select] option', { hasText: /^staging / }).waitFor({ state: 'attached' });
      await menu.selectOption('staging');
      await page.waitForFunction(() => document.querySelectorAll('[role=option]').length === 1);
      page.once('dialog', (d) => void d.accept());
      await page.getByRole('button', { name: 'Delete all' }).click();
      await row(page, 'Default stays').waitFor();
      assert.equal(await menu.inputValue(), '');
      assert.match((await menu.locator('option:checked').textContent()) ?? '', /^All inboxes/);
      await page.waitForFunction(() => ![...document.querySelectorAll('[data-testid=inbox-select] option')].some((o) => o.textContent?.startsWith('staging')));
      assert.equal((await list()).total, 1);
    } finally {
      await page.close();
    }
  });

  test('4b. an inbox named in the address with no mail is still the one the menu shows', async () => {
    await send('Somewhere else');
    const page = await open('/?inbox=nobody-yet');
    try {
      const menu = page.getByTestId('inbox-select');
      assert.equal(await menu.inputValue(), 'nobody-yet');
      assert.match((await menu.locator('option:checked').textContent()) ?? '', /^nobody-yet \(0\)/);
    } finally {
      await page.close();
    }
  });

  test('5. message, search and inbox have URLs: reload restores the view, Back and Forward walk it', async () => {
    for (const s of ['Link alpha', 'Link beta']) await send(s);
    const page = await open();
    try {
      await row(page, 'Link beta').waitFor();
      await page.getByLabel('Search messages').fill('subject:alpha');
      await page.waitForURL((u) => u.searchParams.get('q') === 'subject:alpha');
      await row(page, 'Link alpha').click();
      const id = await idOf('Link alpha');
      await page.waitForURL((u) => u.searchParams.get('m') === id);

      await page.reload();
      await page.getByTestId('reader-subject').filter({ hasText: 'Link alpha' }).waitFor();
      assert.equal(await page.getByLabel('Search messages').inputValue(), 'subject:alpha');
      await page.waitForFunction(() => document.querySelectorAll('[role=option]').length === 1);

      await page.goBack();
      await page.waitForURL((u) => !u.searchParams.has('m') && u.searchParams.get('q') === 'subject:alpha');
      await page.getByTestId('reader-subject').waitFor({ state: 'detached' });
      await page.goBack();
      await page.waitForURL((u) => u.search === '');
      await page.waitForFunction(() => document.querySelectorAll('[role=option]').length === 2);
      assert.equal(await page.getByLabel('Search messages').inputValue(), '');

      await page.goForward();
      await page.goForward();
      await page.getByTestId('reader-subject').filter({ hasText: 'Link alpha' }).waitFor();

      // A shared link opens the message in a fresh tab.
      const other = await open(`/?m=${encodeURIComponent(id)}`);
      await other.getByTestId('reader-subject').filter({ hasText: 'Link alpha' }).waitFor();
      await other.close();

      // Esc closes the message and goes Back to the list entry, so Forward opens it again.
      await page.keyboard.press('Escape');
      await page.waitForURL((u) => !u.searchParams.has('m'));
      await page.goForward();
      await page.getByTestId('reader-subject').filter({ hasText: 'Link alpha' }).waitFor();

      await page.getByTestId('inbox-select').selectOption('default');
      await page.waitForURL((u) => u.searchParams.get('inbox') === 'default');
    } finally {
      await page.close();
    }
  });

  test('6. offline: a banner, actions off, words instead of "Failed to fetch", back at once on online or focus, stale errors cleared', async () => {
    for (const s of ['Net one', 'Net two']) await send(s);
    const sockets: import('node:stream').Duplex[] = [];
    const onUpgrade = (_req: unknown, socket: import('node:stream').Duplex): void => void sockets.push(socket);
    server.app.server.on('upgrade', onUpgrade);
    const page = await chromium.context.newPage();
    await page.addInitScript(() => {
      const Native = window.WebSocket;
      const w = window as unknown as { sockets: number };
      w.sockets = 0;
      window.WebSocket = class extends Native {
        constructor(url: string | URL, protocols?: string | string[]) {
          super(url, protocols);
          w.sockets++;
        }
      };
    });
    try {
      await page.goto(server.httpUrl);
      await page.getByTestId('connection').filter({ hasText: 'Live' }).waitFor();
      await row(page, 'Net two').click();
      await page.getByTestId('reader-subject').filter({ hasText: 'Net two' }).waitFor();

      await chromium.context.setOffline(true);
      for (const socket of sockets.splice(0)) socket.destroy();
      const banner = page.getByTestId('offline-banner');
      await banner.waitFor();
      assert.equal(await banner.getAttribute('role'), 'alert');
      assert.match((await banner.textContent()) ?? '', /Lost the connection/);
      assert.equal(await page.getByRole('button', { name: 'Delete all' }).isDisabled(), true);
      assert.equal(await page.getByRole('button', { name: 'Delete', exact: true }).isDisabled(), true);

      await row(page, 'Net one').click();
      const readerError = page.getByTestId('reader').getByRole('alert');
      await readerError.waitFor();
      assert.match((await readerError.textContent()) ?? '', /not reachable/);
      assert.doesNotMatch((await page.locator('body').textContent()) ?? '', /Failed to fetch/);

      // Focus tries at once, whatever the backoff says (offline here, so it fails again).
      const made = await page.evaluate(() => {
        const w = window as unknown as { sockets: number };
        const before = w.sockets;
        window.dispatchEvent(new Event('focus'));
        return w.sockets - before;
      });
      assert.equal(made, 1, 'a focus opened a connection there and then');

      await chromium.context.setOffline(false); // fires 'online': connects at once
      await page.getByTestId('connection').filter({ hasText: 'Live' }).waitFor();
      await banner.waitFor({ state: 'detached' });
      await page.getByTestId('reader-subject').filter({ hasText: 'Net one' }).waitFor();
      assert.equal(await page.getByRole('alert').count(), 0, 'no stale error left');
      assert.equal(await page.getByRole('button', { name: 'Delete all' }).isDisabled(), false);
    } finally {
      await chromium.context.setOffline(false);
      server.app.server.off('upgrade', onUpgrade);
      await page.close();
    }
  });

  test('7. the keys work after a click into the mail (Ctrl+C still copies from it); Esc closes the reader; 1-6 switch tabs, which reset for the next message', async () => {
    await send('Plain second', { text: 'second' });
    await send('Framed first', { html: '<h1 id="inside">Click me</h1><p id="code" style="font-size:30px">Your code is 123456 today</p>' });
    const page = await open();
    await chromium.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.httpUrl });
    try {
      await row(page, 'Framed first').click();
      const frame = page.frameLocator('[data-testid=html-frame]');
      await frame.locator('#inside').click();
      // Picking a code in the mail and copying it works as in any page.
      const code = (await frame.locator('#code').boundingBox())!;
      await page.mouse.dblclick(code.x + 200, code.y + code.height / 2);
      await page.keyboard.press('Control+c');
      await page.waitForFunction(async () => (await navigator.clipboard.readText()) === '123456');
      // The pointer leaves the mail: the keys are the page's again.
      const list = (await page.getByTestId('message-list').boundingBox())!;
      await page.mouse.move(list.x + 20, list.y + list.height - 20, { steps: 5 });
      await page.keyboard.press('j');
      assert.equal(await highlightedSubject(page), 'Plain second', 'j moved the highlight after a click in the frame');
      await page.keyboard.press('4');
      assert.equal(await page.getByRole('tab', { name: 'Source' }).getAttribute('aria-selected'), 'true');
      await page.getByTestId('raw-source').filter({ hasText: 'Subject: Framed first' }).waitFor();
      await page.keyboard.press('3');
      assert.equal(await page.getByRole('tab', { name: 'Headers' }).getAttribute('aria-selected'), 'true');
      await page.keyboard.press('4');
      await page.keyboard.press('Enter'); // opens the highlighted one
      await page.getByTestId('reader-subject').filter({ hasText: 'Plain second' }).waitFor();
      assert.equal(await page.getByRole('tab', { name: 'Text' }).getAttribute('aria-selected'), 'true', 'the next message opens on its body, not Source');
      await page.keyboard.press('Escape');
      await page.getByTestId('reader-subject').waitFor({ state: 'detached' });
    } finally {
      await chromium.context.clearPermissions();
      await page.close();
    }
  });

  test('8. at 1280x720 the reader scrolls once: the mail frame fills the pane, nothing around it scrolls', async () => {
    await send('Tall newsletter', { html: WIDE_HTML });
    const page = await open('/', { width: 1280, height: 720 });
    try {
      await row(page, 'Tall newsletter').click();
      await page.frameLocator('[data-testid=html-frame]').locator('#wide').waitFor();
      const scrollers = await page.evaluate(() =>
        [...document.querySelectorAll<HTMLElement>('body *')]
          .filter((el) => el.closest('[data-testid=reader]') && el.scrollHeight > el.clientHeight + 1 && ['auto', 'scroll'].includes(getComputedStyle(el).overflowY))
          .map((el) => el.className || el.tagName),
      );
      assert.deepEqual(scrollers, [], 'no scrolling box in the reader besides the frame');
      const frame = await page.getByTestId('html-frame').boundingBox();
      assert.ok(frame && frame.height >= 300 && frame.y + frame.height <= 720 + 1, `the frame fills the pane within the window: ${JSON.stringify(frame)}`);
      const frameScrolls = await page.frame({ url: /\/html/ })!.evaluate(() => document.scrollingElement!.scrollHeight > document.scrollingElement!.clientHeight);
      assert.equal(frameScrolls, true, 'the one scroll is the mail itself');
    } finally {
      await page.close();
    }
  });

  test('9. on a phone: one row of controls, list or reader, the 600 px mail reachable by scrolling, no width buttons, Back to the list', async () => {
    await send('Wide on a phone', { html: WIDE_HTML });
    const page = await open('/', { width: 390, height: 844 });
    try {
      const bar = await page.locator('header.bar').boundingBox();
      assert.ok(bar && bar.height <= 56, `the toolbar is one row: ${bar?.height}px`);
      await row(page, 'Wide on a phone').click();
      await page.getByTestId('reader-subject').filter({ hasText: 'Wide on a phone' }).waitFor();
      assert.equal(await page.getByTestId('message-list').isVisible(), false, 'the reader replaces the list');
      assert.equal(await page.getByTestId('preview-widths').isVisible(), false);
      const body = await page.getByTestId('html-frame').boundingBox();
      assert.ok(body && body.x >= 0 && body.x + body.width <= 390 + 1, `the frame fits the screen: ${JSON.stringify(body)}`);
      assert.ok(body.y < 844 / 2, `the mail starts in the top half: ${body.y}px`);
      const mail = page.frame({ url: /\/html/ })!;
      await mail.locator('#wide').waitFor();
      const sideways = await mail.evaluate(() => {
        const root = document.scrollingElement!;
        root.scrollLeft = 10_000;
        return { scrollable: root.scrollWidth > root.clientWidth, moved: root.scrollLeft > 0 };
      });
      assert.deepEqual(sideways, { scrollable: true, moved: true }, 'the right part of the mail is reachable');
      await page.goBack();
      await page.getByTestId('message-list').waitFor();
      await row(page, 'Wide on a phone').waitFor();
    } finally {
      await page.close();
    }
  });
});
