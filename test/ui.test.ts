// The inbox UI in a real headless Chromium against a real Mailpen fed over SMTP by nodemailer.
// Needs the built UI (dist/ui): `npm test` builds it first; alone, run `npm run build:ui` once.
import { test, describe, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import nodemailer from 'nodemailer';
import type { Page } from 'playwright-core';
import { startTestServer, type TestServer } from './helpers/server.js';
import { launchBrowser, type TestBrowser } from './helpers/browser.js';
import { Sink, PNG } from './helpers/sink.js';

/** WCAG 2 contrast ratio of two computed rgb()/rgba() colours (alpha ignored: ours are opaque). */
function contrast(a: string, b: string): number {
  const luminance = (css: string): number => {
    const [r, g, b] = (css.match(/\d+(\.\d+)?/g) ?? []).slice(0, 3).map((v) => {
      const c = Number(v) / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
  };
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

interface ListBody {
  total: number;
  messages: { id: string; subject: string; read: boolean }[];
}

describe('inbox UI in Chromium', () => {
  let server: TestServer;
  let chromium: TestBrowser;
  let page: Page;
  let transport: ReturnType<typeof nodemailer.createTransport>;
  const pageProblems: string[] = [];

  async function idOf(subject: string): Promise<string> {
    const res = await fetch(`${server.httpUrl}/api/messages?q=${encodeURIComponent(`subject:"${subject}"`)}`);
    const body = (await res.json()) as ListBody;
    const found = body.messages.find((m) => m.subject === subject);
    assert.ok(found, `the API has "${subject}"`);
    return found.id;
  }

  const row = (subject: string) => page.locator('[role=option]', { hasText: subject });

  before(async () => {
    server = await startTestServer();
    transport = nodemailer.createTransport({ host: '127.0.0.1', port: server.smtpPort, secure: false, ignoreTLS: true });
    chromium = await launchBrowser();
    page = await chromium.context.newPage();
    page.on('pageerror', (err) => pageProblems.push(`uncaught: ${err.message}`));
    page.on('console', (msg) => {
      // Messages from the message frame (blocked script, refused by its CSP) are the point of the
      // sandbox; the page's own errors are bugs.
      const from = msg.location().url;
      if (msg.type() === 'error' && !from.includes('/api/messages/')) pageProblems.push(`${msg.text()} (${from})`);
    });
    await page.goto(server.httpUrl);
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
  });

  after(async () => {
    await chromium?.close();
    transport?.close();
    await server?.close();
  });

  // Each test owns this check: what the page logged while it ran (a hook failure fails that test).
  afterEach(() => {
    const problems = pageProblems.splice(0);
    assert.deepEqual(problems, [], 'the page itself logged no errors and no Content-Security-Policy violations during this test');
  });

  test('mail sent over SMTP appears in the open page without a reload, bold and counted in the title', async () => {
    // A reload would lose this mark.
    await page.evaluate(() => ((window as unknown as { mark: string }).mark = 'same page'));
    await transport.sendMail({ from: 'Shop <shop@example.test>', to: 'bob@example.test', subject: 'Your receipt 1001', text: 'Thanks.' });
    await row('Your receipt 1001').waitFor();
    assert.equal(await page.evaluate(() => (window as unknown as { mark?: string }).mark), 'same page');
    assert.match(await row('Your receipt 1001').getAttribute('class') ?? '', /\bunread\b/);
    assert.equal(await row('Your receipt 1001').locator('.subject').evaluate((el) => getComputedStyle(el).fontWeight), '700');
    await page.waitForFunction(() => /^\(\d+\) Mailpen$/.test(document.title));
  });

  test('opening a message renders its HTML with the inline image, its text, envelope and attachments, and marks it read', async () => {
    const responses: { url: string; status: number; type: string }[] = [];
    page.on('response', (r) => responses.push({ url: r.url(), status: r.status(), type: r.headers()['content-type'] ?? '' }));
    await transport.sendMail({
      from: 'Shop <shop@example.test>',
      to: 'bob@example.test',
      bcc: 'audit@example.test',
      subject: 'Invoice with logo',
      text: 'Plain text body: invoice 42 attached.',
      html: '<h1 id="greeting">Invoice 42</h1><p><img id="logo" src="cid:logo@shop" alt="logo"></p>',
      attachments: [
        { filename: 'logo.png', content: PNG, cid: 'logo@shop' },
        { filename: 'invoice-42.pdf', content: Buffer.from('%PDF-1.4 fake invoice'), contentType: 'application/pdf' },
        { filename: 'chart.png', content: PNG, contentType: 'image/png' },
      ],
    });
    await row('Invoice with logo').click();
    const id = await idOf('Invoice with logo');

    const frame = page.frameLocator('[data-testid=html-frame]');
    assert.equal(await frame.locator('#greeting').textContent(), 'Invoice 42');
    // The cid: image was fetched from the parts endpoint and decoded as a 2x2 image.
    await frame.locator('#logo').waitFor();
    const logo = responses.find((r) => r.url.includes(`/api/messages/${id}/parts/`) && r.type.startsWith('image/png'));
    assert.ok(logo, `the inline image was requested and served: ${JSON.stringify(responses.map((r) => r.url))}`);
    assert.equal(logo.status, 200);
    const frameBox = await page.locator('[data-testid=html-frame]').getAttribute('sandbox');
    assert.equal(frameBox, 'allow-popups allow-popups-to-escape-sandbox');

    const attachments = page.getByTestId('attachments');
    assert.match(await attachments.textContent() ?? '', /invoice-42\.pdf/);
    assert.match(await attachments.textContent() ?? '', /\d+(\.\d)? (B|KB)/);
    const pdfHref = await attachments.getByRole('link', { name: 'invoice-42.pdf' }).getAttribute('href');
    assert.ok(pdfHref);
    const pdf = await fetch(new URL(pdfHref, server.httpUrl));
    assert.equal(Buffer.from(await pdf.arrayBuffer()).toString(), '%PDF-1.4 fake invoice');
    const preview = attachments.getByRole('img', { name: 'Preview of chart.png' });
    await page.waitForFunction(
      (el) => (el as HTMLImageElement).complete && (el as HTMLImageElement).naturalWidth === 2,
      await preview.elementHandle(),
    );

    assert.match(await page.getByTestId('envelope').textContent() ?? '', /<audit@example\.test>/);

    await page.getByRole('tab', { name: 'Text' }).click();
    assert.equal(await page.getByTestId('text-body').textContent(), 'Plain text body: invoice 42 attached.');

    // Opening marked it read through the API.
    await page.waitForFunction((sel) => !document.querySelector(sel)?.classList.contains('unread'), `#row-${id}`);
    const stored = (await (await fetch(`${server.httpUrl}/api/messages/${id}`)).json()) as { read: boolean };
    assert.equal(stored.read, true);

    await page.getByRole('tab', { name: 'Headers' }).click();
    assert.match(await page.getByRole('tabpanel').textContent() ?? '', /Message-ID/i);
    await page.getByRole('tab', { name: 'Source' }).click();
    await page.getByRole('tabpanel').filter({ hasText: 'Subject: Invoice with logo' }).waitFor();
    assert.match(await page.getByRole('tabpanel').textContent() ?? '', /Content-Type: multipart\//);

    await page.getByRole('tab', { name: 'HTML' }).click();
    const frameWidth = () => page.getByTestId('html-frame').evaluate((el) => el.clientWidth);
    await page.getByRole('button', { name: 'Phone' }).click();
    assert.equal(await frameWidth(), 375);
    await page.getByRole('button', { name: 'Tablet' }).click();
    assert.ok((await frameWidth()) <= 768);
    await page.getByRole('button', { name: 'Desktop' }).click();
  });

  test('the inbox menu switches to one inbox (one per SMTP AUTH user) and shows its counts', async () => {
    const staging = nodemailer.createTransport({ host: '127.0.0.1', port: server.smtpPort, secure: false, ignoreTLS: true, auth: { user: 'staging', pass: 'any' } });
    await staging.sendMail({ from: 'ci@example.test', to: 'qa@example.test', subject: 'Staging build 77', text: 'green' });
    staging.close();
    await row('Staging build 77').waitFor();
    const menu = page.getByLabel('Inbox');
    await page.locator('[data-testid=inbox-select] option', { hasText: /^staging \(1, 1 unread\)$/ }).waitFor({ state: 'attached' });
    await menu.selectOption('staging');
    await page.waitForFunction(() => document.querySelectorAll('[role=option]').length === 1);
    assert.match(await page.locator('[role=option]').textContent() ?? '', /Staging build 77/);
    await menu.selectOption('');
    await row('Your receipt 1001').waitFor();
  });

  test('follows the system theme and switches on request', async () => {
    const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    await page.emulateMedia({ colorScheme: 'dark' });
    assert.equal(await background(), 'rgb(21, 24, 29)');

    await page.emulateMedia({ colorScheme: 'light' });
    assert.equal(await background(), 'rgb(255, 255, 255)');
    const button = page.getByRole('button', { name: /^Theme/ });
    await button.click(); // system -> light
    await button.click(); // light -> dark, over a light system
    assert.equal(await background(), 'rgb(21, 24, 29)');
    await button.click(); // back to system
    assert.equal(await background(), 'rgb(255, 255, 255)');
  });

  test('shows mail as written for a white page under the dark theme (no light text on the white frame)', async () => {
    const dark = await chromium.context.newPage();
    try {
      await dark.emulateMedia({ colorScheme: 'dark' });
      await dark.goto(server.httpUrl);
      await dark.locator('[role=option]', { hasText: 'Invoice with logo' }).click();
      const heading = dark.frameLocator('[data-testid=html-frame]').locator('#greeting');
      assert.equal(await heading.textContent(), 'Invoice 42');
      assert.equal(await heading.evaluate((el) => getComputedStyle(el).color), 'rgb(0, 0, 0)');
      // A message that supports dark itself gets its own canvas only when the frame's scheme
      // differs from its own (see MessageView.svelte); in the page's dark scheme it was white on white.
      const frameScheme = await dark.locator('[data-testid=html-frame]').evaluate((el) => getComputedStyle(el).colorScheme);
      assert.equal(frameScheme, 'light');
    } finally {
      await dark.close();
    }
  });

  test('buttons, the search box and the inbox menu have borders of at least 3:1 against their background in both themes', async () => {
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      // Colours read in the page, ratios worked out here (tsx would wrap named helpers in the page script).
      const colours = await page.evaluate(() =>
        [...document.querySelectorAll<HTMLElement>('header button:not(:disabled), #search, [data-testid=inbox-select]')].map((el) => ({
          control: el.id || el.textContent?.trim() || el.tagName,
          border: getComputedStyle(el).borderTopColor,
          background: getComputedStyle(el).backgroundColor,
          page: getComputedStyle(document.body).backgroundColor,
        })),
      );
      const ratios = colours.map((c) => ({ control: c.control, own: contrast(c.border, c.background), page: contrast(c.border, c.page) }));
      assert.ok(ratios.length >= 4, `found the controls: ${JSON.stringify(ratios)}`);
      for (const r of ratios) {
        assert.ok(r.own >= 3 && r.page >= 3, `${scheme}: ${r.control} border ${r.own.toFixed(2)}:1 on its background, ${r.page.toFixed(2)}:1 on the page`);
      }
    }
    await page.emulateMedia({ colorScheme: 'light' });
  });

  test('the search box narrows the list with the API query language', async () => {
    await transport.sendMail({ from: 'alerts@example.test', to: 'ops@example.test', subject: 'Disk alpha almost full', text: 'alpha' });
    await transport.sendMail({ from: 'alerts@example.test', to: 'ops@example.test', subject: 'Disk beta almost full', text: 'beta' });
    await row('Disk beta almost full').waitFor();
    const before = await page.locator('[role=option]').count();
    assert.ok(before >= 4);

    await page.keyboard.press('/');
    await page.keyboard.type('subject:alpha');
    await page.waitForFunction(() => document.querySelectorAll('[role=option]').length === 1);
    assert.match(await page.locator('[role=option]').textContent() ?? '', /Disk alpha almost full/);
    assert.match(await page.getByTestId('list-count').textContent() ?? '', /^\s*1 message\b/);

    await page.getByLabel('Search messages').fill('');
    await page.waitForFunction((n) => document.querySelectorAll('[role=option]').length === n, before);
  });

  test('delete removes the message from the list and the store; delete all asks first', async () => {
    await row('Disk beta almost full').click();
    await page.getByTestId('reader-subject').filter({ hasText: 'Disk beta almost full' }).waitFor();
    const id = await idOf('Disk beta almost full');
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    await row('Disk beta almost full').waitFor({ state: 'detached' });
    assert.equal((await fetch(`${server.httpUrl}/api/messages/${id}`)).status, 404);

    // Declined: nothing is deleted.
    page.once('dialog', (d) => void d.dismiss());
    await page.getByRole('button', { name: 'Delete all' }).click();
    assert.ok(((await (await fetch(`${server.httpUrl}/api/messages`)).json()) as ListBody).total > 0);

    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Delete all' }).click();
    await page.waitForFunction(() => document.querySelectorAll('[role=option]').length === 0);
    assert.equal(((await (await fetch(`${server.httpUrl}/api/messages`)).json()) as ListBody).total, 0);
  });

  test('keyboard: j/k move, Enter opens, u toggles read, d deletes', async () => {
    for (const n of [1, 2, 3]) await transport.sendMail({ from: 'k@example.test', to: 'bob@example.test', subject: `Key test ${n}`, text: `n${n}` });
    await row('Key test 3').waitFor();
    await row('Key test 1').waitFor();
    await page.locator('body').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('j'); // Key test 3 (newest)
    await page.keyboard.press('j'); // Key test 2
    await page.keyboard.press('k'); // Key test 3
    await page.keyboard.press('j'); // Key test 2
    await page.keyboard.press('Enter');
    await page.getByTestId('reader-subject').filter({ hasText: 'Key test 2' }).waitFor();
    const id = await idOf('Key test 2');
    await page.waitForFunction((sel) => !document.querySelector(sel)?.classList.contains('unread'), `#row-${id}`);
    await page.keyboard.press('u');
    await page.waitForFunction((sel) => document.querySelector(sel)?.classList.contains('unread'), `#row-${id}`);
    assert.equal(((await (await fetch(`${server.httpUrl}/api/messages/${id}`)).json()) as { read: boolean }).read, false);
    await page.keyboard.press('d');
    await row('Key test 2').waitFor({ state: 'detached' });
    assert.equal((await fetch(`${server.httpUrl}/api/messages/${id}`)).status, 404);
    await page.keyboard.press('?');
    await page.getByRole('dialog', { name: 'Keyboard' }).waitFor();
    await page.keyboard.press('Escape');
    await page.getByRole('dialog', { name: 'Keyboard' }).waitFor({ state: 'hidden' });
  });

  test('deleting during a search takes a deleted unread message off the unread count too', async () => {
    for (const n of [1, 2, 3, 4]) await transport.sendMail({ from: 't@example.test', to: 'bob@example.test', subject: `Tally ${n}`, text: `t${n}` });
    await row('Tally 4').waitFor();
    await page.getByLabel('Search messages').fill('subject:tally is:unread');
    await page.getByTestId('list-count').filter({ hasText: /^\s*4 messages, 4 unread\s*$/ }).waitFor();
    await page.locator('body').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('j');
    await page.keyboard.press('d');
    await row('Tally 4').waitFor({ state: 'detached' });
    const api = (await (await fetch(`${server.httpUrl}/api/messages?q=${encodeURIComponent('subject:tally is:unread')}`)).json()) as { total: number; unread: number };
    assert.deepEqual([api.total, api.unread], [3, 3]);
    assert.match((await page.getByTestId('list-count').textContent()) ?? '', /^\s*3 messages, 3 unread\s*$/);
    await page.getByLabel('Search messages').fill('');
    await page.getByTestId('list-count').filter({ hasNotText: /^\s*3 messages, 3 unread\s*$/ }).waitFor();
  });

  test('a message with <script>, onerror= handlers and javascript: links runs none of them', async () => {
    const sink = new Sink();
    const origin = await sink.listen();
    const call = (what: string) => `fetch('${origin}/${what}');new Image().src='${origin}/${what}-img'`;
    try {
      const html = [
        `<script>${call('script')}</script>`,
        `<img src="missing.png" onerror="${call('onerror')}">`,
        `<svg onload="${call('svg-onload')}"></svg>`,
        `<body onload="${call('body-onload')}">`,
        `<a id="js-link" href="javascript:${call('js-link')}">click me</a>`,
        `<form action="${origin}/form"><button id="submit">go</button></form>`,
        // Deletes every message if anything here can run with the page's origin.
        `<script>fetch('/api/messages',{method:'DELETE'});parent.fetch&&parent.fetch('/api/messages',{method:'DELETE'})</script>`,
        // Controls: an image (allowed by the frame's policy) proves the frame rendered and could reach
        // the sink; a plain link (no target) proves clicks in the frame work and open a new tab.
        `<img id="control" src="${origin}/control.png">`,
        `<a id="control-link" href="${origin}/control-link">new tab</a>`,
      ].join('\n');
      await transport.sendMail({ from: 'mallory@example.test', to: 'bob@example.test', subject: 'Hostile HTML', html, text: 'hostile' });
      await transport.sendMail({ from: 'keep@example.test', to: 'bob@example.test', subject: 'Bystander', text: 'still here' });
      await row('Hostile HTML').click();
      const frame = page.frameLocator('[data-testid=html-frame]');
      await sink.waitFor('/control.png');

      await frame.locator('#js-link').click();
      await frame.locator('#submit').click();
      const popup = page.context().waitForEvent('page');
      await frame.locator('#control-link').click();
      await sink.waitFor('/control-link');
      const tab = await popup;
      assert.equal(tab.url(), `${origin}/control-link`, 'the link opened in a new tab');
      await tab.close();
      assert.equal(await page.locator('[data-testid=html-frame]').count(), 1, 'the message stayed in its frame');
      // Anything the mail's own document loads has loaded (or failed) once its frame fired `load`;
      // the control link was clicked after the other links, and its request has arrived above.
      const mailFrame = page.frames().find((f) => f.parentFrame() === page.mainFrame() && f.url().includes('/html'));
      assert.ok(mailFrame, 'the mail frame is there');
      await mailFrame.waitForLoadState('load');

      // The new tab's own favicon request is the browser's, not the message's.
      const payloadHits = sink.hits.filter((h) => !h.startsWith('/control') && h !== '/favicon.ico');
      assert.deepEqual(payloadHits, [], 'no payload reached the sink');
      const list = (await (await fetch(`${server.httpUrl}/api/messages`)).json()) as ListBody;
      assert.ok(list.messages.some((m) => m.subject === 'Bystander'), 'no payload deleted mail');
      assert.ok(list.messages.some((m) => m.subject === 'Hostile HTML'));
    } finally {
      await sink.close();
    }
  });
});

describe('inbox UI across a dropped connection', () => {
  test('catches up through seq: mail that arrived while the socket was down shows without reloading the list', async () => {
    const server = await startTestServer();
    const chromium = await launchBrowser();
    // The server side of every event-stream socket, to cut the connection as a network drop would.
    const sockets: import('node:stream').Duplex[] = [];
    server.app.server.on('upgrade', (_req: unknown, socket: import('node:stream').Duplex) => sockets.push(socket));
    try {
      const page = await chromium.context.newPage();
      const streams: string[] = [];
      const listRequests: string[] = [];
      page.on('websocket', (ws) => streams.push(ws.url()));
      page.on('request', (r) => {
        if (new URL(r.url()).pathname === '/api/messages') listRequests.push(r.url());
      });
      await page.goto(server.httpUrl);
      const status = page.getByTestId('connection');
      await status.filter({ hasText: 'Live' }).waitFor();
      const listedBefore = listRequests.length;

      for (const socket of sockets.splice(0)) socket.destroy();
      await status.filter({ hasText: /Offline|Reconnecting/ }).waitFor();
      const transport = nodemailer.createTransport({ host: '127.0.0.1', port: server.smtpPort, secure: false, ignoreTLS: true });
      await transport.sendMail({ from: 'a@example.test', to: 'b@example.test', subject: 'Sent during the drop', text: 'hi' });
      transport.close();

      await page.locator('[role=option]', { hasText: 'Sent during the drop' }).waitFor({ timeout: 20_000 });
      await status.filter({ hasText: 'Live' }).waitFor();
      assert.equal(streams.length, 2);
      assert.match(streams[1]!, /[?&]since=\d+&epoch=[\w-]+/, 'the reconnect resumed from the last seq');
      assert.equal(listRequests.length, listedBefore, 'no list reload: the missed event was replayed');
    } finally {
      await chromium.close();
      await server.close();
    }
  });
});

describe('inbox UI across a server restart', () => {
  test('shows the connection dropping, reconnects with backoff and reloads from the new server', async () => {
    let server = await startTestServer();
    const port = server.http.port;
    const chromium = await launchBrowser();
    try {
      const page = await chromium.context.newPage();
      await page.goto(server.httpUrl);
      const status = page.getByTestId('connection');
      await status.filter({ hasText: 'Live' }).waitFor();

      await server.close();
      await status.filter({ hasText: /Offline|Reconnecting/ }).waitFor();
      assert.doesNotMatch(await status.textContent() ?? '', /Live/);

      server = await startTestServer({ http: { host: '127.0.0.1', port } });
      const transport = nodemailer.createTransport({ host: '127.0.0.1', port: server.smtpPort, secure: false, ignoreTLS: true });
      await transport.sendMail({ from: 'a@example.test', to: 'b@example.test', subject: 'After the restart', text: 'hi' });
      transport.close();
      await status.filter({ hasText: 'Live' }).waitFor({ timeout: 20_000 });
      await page.locator('[role=option]', { hasText: 'After the restart' }).waitFor();
    } finally {
      await chromium.close();
      await server.close();
    }
  });
});

describe('inbox UI while the server is down', () => {
  test('counts the seconds to the next reconnect down, with only the state in the live region', async () => {
    const server = await startTestServer();
    let closed = false;
    const chromium = await launchBrowser();
    try {
      const page = await chromium.context.newPage();
      await page.goto(server.httpUrl);
      const status = page.getByTestId('connection');
      await status.filter({ hasText: 'Live' }).waitFor();
      await server.close();
      closed = true;
      // Backoff doubles from half a second; wait for a wait long enough to count down.
      const waiting = status.filter({ hasText: /retrying in ([3-9]|\d\d) s/ });
      await waiting.waitFor({ timeout: 15_000 });
      const n = Number(/retrying in (\d+) s/.exec((await waiting.textContent()) ?? '')![1]);
      await status.filter({ hasText: `retrying in ${n - 1} s` }).waitFor({ timeout: 3000 });
      assert.equal((await status.getByRole('status').textContent())?.trim(), 'Offline', 'the live region says the state, not the count');
    } finally {
      await chromium.close();
      if (!closed) await server.close();
    }
  });
});
