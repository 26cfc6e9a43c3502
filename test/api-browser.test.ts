// The API's browser-facing documents in real headless Chromium: the message HTML endpoint opened
// directly (no UI frame around it) runs no script yet shows its cid: image; the docs page renders.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './helpers/server.js';
import { launchBrowser, type TestBrowser } from './helpers/browser.js';

const PNG_2x2 = 'iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAYAAABytg0kAAAAFklEQVR42mP8z8DwnwEIGBkYGBgYAAAkBgIBnq1LFAAAAABJRU5ErkJggg==';

let server: TestServer;
let browser: TestBrowser;
before(async () => {
  server = await startTestServer();
  browser = await launchBrowser();
});
after(async () => {
  await browser.close();
  await server.close();
});

test('the HTML endpoint opened in a tab runs no script, inline or in attributes, and shows its cid: image', async () => {
  const raw = [
    'From: evil@example.test',
    'To: you@example.test',
    'Subject: hostile',
    'Content-Type: multipart/related; boundary="r"',
    '',
    '--r',
    'Content-Type: text/html; charset=utf-8',
    '',
    '<html><body><h1 id="h">Hello</h1>',
    '<script>document.title = "pwned-inline"</script>',
    '<img id="bad" src="/nope" onerror="document.title = \'pwned-attr\'">',
    '<img id="logo" src="cid:logo@example.test">',
    '<iframe src="/api/info"></iframe>',
    '</body></html>',
    '--r',
    'Content-Type: image/png',
    'Content-ID: <logo@example.test>',
    'Content-Transfer-Encoding: base64',
    '',
    PNG_2x2,
    '--r--',
    '',
  ].join('\r\n');
  const res = await fetch(`${server.httpUrl}/api/messages`, { method: 'POST', body: raw, headers: { 'content-type': 'message/rfc822' } });
  const { ids } = (await res.json()) as { ids: string[] };
  const page = await browser.context.newPage();
  const violations: string[] = [];
  page.on('console', (m) => violations.push(m.text()));
  await page.goto(`${server.httpUrl}/api/messages/${ids[0]}/html`);
  await page.waitForFunction(() => {
    const img = document.getElementById('logo') as HTMLImageElement | null;
    return img !== null && img.complete && img.naturalWidth === 2;
  }, undefined, { polling: 50 });
  // frame-src 'none': the frame exists but never loads the API.
  assert.deepEqual(page.frames().slice(1).map((f) => f.url().startsWith('http')), [false]);
  assert.equal(await page.textContent('#h'), 'Hello');
  assert.equal(await page.title(), '');
  assert.ok(violations.some((v) => /Content Security Policy/i.test(v)), 'the browser reported the blocked script');
  await page.close();
});

test('the API docs page renders the operations from the OpenAPI document', async () => {
  const page = await browser.context.newPage();
  await page.goto(`${server.httpUrl}/api/docs/`);
  await page.waitForSelector('[data-path="/api/wait"]', { timeout: 10_000 });
  assert.ok((await page.locator('.opblock').count()) >= 10);
  await page.close();
});
