// The top bar's switch that blocks remote content (tracking pixels, remote fonts and styles) in
// the HTML view, in a real Chromium: on before the first message opens, that message's remote URLs
// are never requested while its own cid: image still shows; "load it for this message" lets them
// in (the control that proves they would have been requested); the choice is remembered across
// reloads, the exception not.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { startTestServer, type TestServer } from './helpers/server.js';
import { launchBrowser, type TestBrowser } from './helpers/browser.js';
import { sendRaw, queuedId } from './helpers/smtp-client.js';

/** A 2x2 red PNG. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP4z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==', 'base64');

function message(subject: string, sink: string): Buffer {
  const html = [
    `<style>@import url("${sink}/import.css"); body { background: url("${sink}/background.png") } @font-face { font-family: far; src: url("${sink}/font.woff") } p { font-family: far }</style>`,
    `<link rel="stylesheet" href="${sink}/link.css">`,
    `<p id="marker">${subject}</p>`,
    `<img id="pixel" src="${sink}/pixel.png" width="1" height="1">`,
    '<img id="own" src="cid:logo@example.test">',
  ].join('\r\n');
  return Buffer.from(
    [
      `Subject: ${subject}`,
      'From: news@example.test',
      'To: dev@example.test',
      'Content-Type: multipart/related; boundary="rel"',
      '',
      '--rel',
      'Content-Type: text/html; charset=utf-8',
      '',
      html,
      '--rel',
      'Content-Type: image/png',
      'Content-Transfer-Encoding: base64',
      'Content-ID: <logo@example.test>',
      '',
      PNG.toString('base64'),
      '--rel--',
      '',
    ].join('\r\n'),
  );
}

describe('blocking remote content in the HTML view', () => {
  let server: TestServer;
  let browser: TestBrowser;
  let page: Page;
  let sink: Server;
  let S: string;
  const hits: string[] = [];

  before(async () => {
    sink = createServer((req, res) => {
      hits.push(req.url ?? '');
      if (req.url?.endsWith('.png')) res.writeHead(200, { 'content-type': 'image/png' }).end(PNG);
      else if (req.url?.endsWith('.css')) res.writeHead(200, { 'content-type': 'text/css' }).end('p { color: red }');
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
    S = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;
    server = await startTestServer();
    browser = await launchBrowser();
    page = await browser.context.newPage();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    sink?.closeAllConnections();
    await new Promise((resolve) => sink?.close(resolve));
  });

  const frame = () => page.frameLocator('[data-testid=html-frame]');

  async function open(subject: string): Promise<void> {
    await page.locator('[role=option]', { hasText: subject }).click();
    await page.getByTestId('reader-subject').filter({ hasText: subject }).waitFor();
    await frame().locator('#marker', { hasText: subject }).waitFor();
    // The message's own image is in: the frame has done its loading.
    await frame().locator('#own').evaluate((img: HTMLImageElement) => (img.complete ? undefined : new Promise((r) => img.addEventListener('load', r))));
    assert.ok(await frame().locator('#own').evaluate((img: HTMLImageElement) => img.naturalWidth > 0), 'the cid: image shows');
  }

  const blockSwitch = () => page.getByRole('checkbox', { name: 'Block remote content' });

  it('with the top-bar switch on before any message is opened, the first one loads nothing remote; let in for it, all of it', async () => {
    queuedId(await sendRaw(server.smtpPort, message('Newsletter one', S)));
    await page.goto(server.httpUrl);
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
    await page.locator('[role=option]', { hasText: 'Newsletter one' }).waitFor();
    // Turned on from the keyboard in a fresh profile, with no message open yet.
    await blockSwitch().focus();
    await page.keyboard.press('Space');
    assert.equal(await blockSwitch().isChecked(), true);

    await open('Newsletter one');
    assert.match((await page.locator('[data-testid=html-frame]').getAttribute('src')) ?? '', /\?remote=block$/);
    assert.equal(await frame().locator('#pixel').evaluate((img: HTMLImageElement) => img.naturalWidth), 0, 'the pixel did not load');
    const blockedHits = [...hits];

    await page.getByRole('button', { name: 'Load it for this message' }).click();
    await frame().locator('#marker', { hasText: 'Newsletter one' }).waitFor();
    await frame().locator('#pixel').evaluate((img: HTMLImageElement) => (img.complete && img.naturalWidth > 0 ? undefined : new Promise((r) => img.addEventListener('load', r))));
    assert.deepEqual(blockedHits, [], 'nothing remote was requested while blocked');
    for (const path of ['/pixel.png', '/import.css', '/link.css', '/background.png']) assert.ok(hits.includes(path), `${path} once let in: ${hits.join(' ')}`);
  });

  it('remembers "block" across a reload, but not the exception for one message', async () => {
    await page.reload();
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
    assert.equal(await blockSwitch().isChecked(), true);
    await open('Newsletter one');
    assert.match((await page.locator('[data-testid=html-frame]').getAttribute('src')) ?? '', /\?remote=block$/);
  });

  it('with the switch off, a message loads its remote content', async () => {
    await blockSwitch().uncheck();
    hits.length = 0;
    queuedId(await sendRaw(server.smtpPort, message('Newsletter two', S)));
    await open('Newsletter two');
    await frame().locator('#pixel').evaluate((img: HTMLImageElement) => (img.complete && img.naturalWidth > 0 ? undefined : new Promise((r) => img.addEventListener('load', r))));
    assert.ok(hits.includes('/pixel.png'), `switch off: ${hits.join(' ')}`);
    assert.equal(await page.getByTestId('remote-content').count(), 0, 'no per-message control while nothing is blocked');
  });

  it('has the server enforce it: the blocked view CSP names no remote source', async () => {
    const list = (await (await fetch(`${server.httpUrl}/api/messages`)).json()) as { messages: Array<{ id: string }> };
    const id = list.messages[0]!.id;
    const blocked = (await fetch(`${server.httpUrl}/api/messages/${id}/html?remote=block`)).headers.get('content-security-policy') ?? '';
    const allowed = (await fetch(`${server.httpUrl}/api/messages/${id}/html`)).headers.get('content-security-policy') ?? '';
    assert.doesNotMatch(blocked, /https?:/);
    assert.match(blocked, /script-src 'none'/);
    assert.match(allowed, /img-src 'self' data: https: http:/);
    assert.equal((await fetch(`${server.httpUrl}/api/messages/${id}/html?remote=maybe`)).status, 400);
  });
});
