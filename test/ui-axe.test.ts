// An axe-core audit of every view of the inbox UI (issue 20, item 10), in a real headless
// Chromium against a real Mailpen: the list, a message in each tab, a search, a query that does
// not parse, the offline banner, the keys dialog, the empty inbox and the phone layout, in the
// light and the dark theme. Zero violations of any impact. The mail's own HTML (a sandboxed
// frame the page does not control) is left out.
// Needs the built UI (dist/ui): `npm test` builds it first; alone, run `npm run build:ui` once.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import nodemailer from 'nodemailer';
import type { Page } from 'playwright-core';
import { startTestServer, type TestServer } from './helpers/server.js';
import { launchBrowser, type TestBrowser } from './helpers/browser.js';
import { PNG } from './helpers/sink.js';

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

const axeSource = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

describe('axe-core finds no violations in any view of the inbox UI', () => {
  let server: TestServer;
  let chromium: TestBrowser;
  let transport: ReturnType<typeof nodemailer.createTransport>;

  /** Runs axe on the page as it stands; the violations as readable lines. */
  async function audit(page: Page, view: string): Promise<string[]> {
    if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: axeSource });
    const violations = (await page.evaluate(async () => {
      const axe = (window as unknown as { axe: { run(context: unknown, options: unknown): Promise<{ violations: unknown[] }> } }).axe;
      const result = await axe.run(document, { iframes: false, resultTypes: ['violations'] });
      return result.violations;
    })) as AxeViolation[];
    return violations.map((v) => `${view}: ${v.id} (${v.impact}) ${v.help}: ${v.nodes.map((n) => `${n.target.join(' ')} ${n.failureSummary ?? ''}`).join(' | ')}`);
  }

  async function open(scheme: 'light' | 'dark', viewport = { width: 1280, height: 800 }, path = '/'): Promise<Page> {
    const page = await chromium.context.newPage();
    await page.setViewportSize(viewport);
    await page.emulateMedia({ colorScheme: scheme });
    await page.goto(`${server.httpUrl}${path}`);
    await page.getByTestId('connection').filter({ hasText: 'Live' }).waitFor();
    return page;
  }

  before(async () => {
    server = await startTestServer();
    transport = nodemailer.createTransport({ host: '127.0.0.1', port: server.smtpPort, secure: false, ignoreTLS: true });
    chromium = await launchBrowser(undefined, { bypassCSP: true });
  });

  after(async () => {
    await chromium?.close();
    transport?.close();
    await server?.close();
  });

  test('the empty inbox, with where to send mail', async () => {
    const found: string[] = [];
    for (const scheme of ['light', 'dark'] as const) {
      const page = await open(scheme);
      await page.getByTestId('empty').filter({ hasText: 'swaks' }).waitFor();
      found.push(...(await audit(page, `${scheme} empty`)));
      await page.setViewportSize({ width: 390, height: 844 });
      found.push(...(await audit(page, `${scheme} phone empty`)));
      await page.close();
    }
    assert.deepEqual(found, []);
  });

  test('the list, a message in every tab, search, errors, the keys dialog and the phone layout', async () => {
    const staging = nodemailer.createTransport({ host: '127.0.0.1', port: server.smtpPort, secure: false, ignoreTLS: true, auth: { user: 'staging', pass: 'x' } });
    await staging.sendMail({ from: 'ci@example.test', to: 'qa@example.test', subject: 'Staging build', text: 'green' });
    staging.close();
    // Enough rows to scroll the highlighted one out of the rendered window; one mbox upload is
    // quicker than 30 SMTP sessions.
    const mbox = Array.from({ length: 30 }, (_, n) => `From s${n}@example.test Mon Jan  1 00:00:00 2024\nFrom: Sender ${n} <s${n}@example.test>\nTo: bob@example.test\nSubject: Filler ${n}\n\nfiller ${n}\n`).join('\n');
    const uploaded = await fetch(`${server.httpUrl}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/mbox' }, body: mbox });
    assert.equal(((await uploaded.json()) as { ids: string[] }).ids.length, 30);
    await transport.sendMail({
      from: 'Shop <shop@example.test>',
      to: 'bob@example.test',
      bcc: 'audit@example.test',
      subject: 'Invoice with logo',
      text: 'Invoice 42: https://shop.example.test/invoice/42',
      html: '<h1>Invoice 42</h1><p><img src="cid:logo@shop" alt="logo"> <a href="https://shop.example.test/invoice/42">view</a></p>',
      attachments: [
        { filename: 'logo.png', content: PNG, cid: 'logo@shop' },
        { filename: 'invoice-42.pdf', content: Buffer.from('%PDF-1.4'), contentType: 'application/pdf' },
        { filename: 'chart.png', content: PNG, contentType: 'image/png' },
      ],
    });

    const found: string[] = [];
    for (const scheme of ['light', 'dark'] as const) {
      const page = await open(scheme);
      const invoice = page.locator('[role=option]', { hasText: 'Invoice with logo' });
      await invoice.waitFor();
      found.push(...(await audit(page, `${scheme} list`)));

      // The highlighted row scrolled out of the rendered window: no dangling active descendant.
      await page.locator('body').click({ position: { x: 5, y: 300 } });
      await page.keyboard.press('j');
      await page.getByTestId('message-list').evaluate((el) => (el.scrollTop = el.scrollHeight));
      await page.waitForFunction(() => !document.querySelector('[role=option].highlighted'));
      found.push(...(await audit(page, `${scheme} list scrolled past the highlight`)));
      await page.getByTestId('message-list').evaluate((el) => (el.scrollTop = 0));

      await invoice.click();
      await page.frameLocator('[data-testid=html-frame]').locator('h1').waitFor();
      found.push(...(await audit(page, `${scheme} message HTML`)));
      for (const [tab, ready] of [
        ['Text', '[data-testid=text-body]'],
        ['Headers', '[data-header]'],
        ['Source', '[data-testid=raw-source]:not(:empty)'],
        ['Links', '[data-testid=links]'],
        ['Checks', '[data-testid=reader] [role=tabpanel] :is(table, ul, section, details)'],
      ] as const) {
        await page.getByRole('tab', { name: tab }).click();
        await page.locator(ready).first().waitFor();
        found.push(...(await audit(page, `${scheme} message ${tab}`)));
      }

      await page.getByLabel('Search messages').fill('subject:filler');
      await page.waitForFunction(() => document.querySelectorAll('[role=option]').length > 0 && !document.querySelector('[role=option] .subject')?.textContent?.includes('Invoice'));
      found.push(...(await audit(page, `${scheme} search`)));
      await page.getByLabel('Search messages').fill('subject:filler from:');
      await page.getByTestId('query-problem').waitFor();
      found.push(...(await audit(page, `${scheme} query that does not parse`)));
      await page.getByLabel('Search messages').fill('subject:"no such thing at all"');
      await page.getByTestId('empty').waitFor();
      found.push(...(await audit(page, `${scheme} nothing matches`)));
      await page.getByLabel('Search messages').fill('');
      await invoice.waitFor();

      await page.keyboard.press('Escape');
      await page.keyboard.press('?');
      await page.getByRole('dialog', { name: 'Keyboard' }).waitFor();
      found.push(...(await audit(page, `${scheme} keys dialog`)));
      await page.keyboard.press('Escape');
      await page.close();

      const phone = await open(scheme, { width: 390, height: 844 });
      await phone.locator('[role=option]', { hasText: 'Invoice with logo' }).waitFor();
      found.push(...(await audit(phone, `${scheme} phone list`)));
      await phone.getByRole('button', { name: 'More' }).click();
      found.push(...(await audit(phone, `${scheme} phone menu`)));
      await phone.getByRole('button', { name: 'More' }).click();
      await phone.locator('[role=option]', { hasText: 'Invoice with logo' }).click();
      await phone.frameLocator('[data-testid=html-frame]').locator('h1').waitFor();
      found.push(...(await audit(phone, `${scheme} phone message`)));
      await phone.close();
    }
    assert.deepEqual(found, []);
  });

  test('the offline banner and the reader error while the server cannot be reached', async () => {
    const found: string[] = [];
    const sockets: import('node:stream').Duplex[] = [];
    const onUpgrade = (_req: unknown, socket: import('node:stream').Duplex): void => void sockets.push(socket);
    server.app.server.on('upgrade', onUpgrade);
    for (const n of [1, 2]) await transport.sendMail({ from: 'net@example.test', to: 'bob@example.test', subject: `Offline ${n}`, text: `o${n}` });
    try {
      for (const scheme of ['light', 'dark'] as const) {
        const page = await open(scheme);
        await page.locator('[role=option]', { hasText: 'Offline 1' }).waitFor();
        await chromium.context.setOffline(true);
        for (const socket of sockets.splice(0)) socket.destroy();
        await page.getByTestId('offline-banner').waitFor();
        await page.locator('[role=option]', { hasText: 'Offline 2' }).click();
        await page.getByTestId('reader').getByRole('alert').waitFor();
        found.push(...(await audit(page, `${scheme} offline`)));
        await chromium.context.setOffline(false);
        await page.close();
      }
    } finally {
      await chromium.context.setOffline(false);
      server.app.server.off('upgrade', onUpgrade);
    }
    assert.deepEqual(found, []);
  });
});
