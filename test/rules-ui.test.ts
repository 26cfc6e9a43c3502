// The fault rules panel in a real headless Chromium against a real Mailpen: it lists the rules
// with their hit counts, counts a firing as it happens (the rule-fired event), and switches a rule
// off or deletes it through the API. Needs the built UI (dist/ui): `npm test` builds it first;
// alone, run `npm run build:ui` once.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import nodemailer from 'nodemailer';
import { startTestServer, type TestServer } from './helpers/server.js';
import { collectPageProblems, launchBrowser, type TestBrowser } from './helpers/browser.js';

describe('fault rules panel in Chromium', () => {
  let server: TestServer;
  let chromium: TestBrowser;
  let page: Page;
  const pageProblems: string[] = [];

  const rules = async (): Promise<Array<{ id: string; enabled: boolean; hits: number }>> =>
    ((await (await fetch(`${server.httpUrl}/api/rules`)).json()) as { rules: Array<{ id: string; enabled: boolean; hits: number }> }).rules;

  before(async () => {
    server = await startTestServer();
    const res = await fetch(`${server.httpUrl}/api/rules`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([
        { id: 'full', stage: 'rcpt', match: 'to:full@example.test', reply: { code: 552, enhanced: '5.2.2', text: 'mailbox full' }, times: 1 },
        { id: 'grey', stage: 'rcpt', inbox: 'team-a', greylist: {} },
      ]),
    });
    assert.equal(res.status, 200);
    chromium = await launchBrowser();
    page = await chromium.context.newPage();
    collectPageProblems(page, pageProblems);
    await page.goto(server.httpUrl);
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
  });

  after(async () => {
    await chromium?.close();
    await server?.close();
  });

  async function openPanel(): Promise<void> {
    const button = page.getByRole('button', { name: 'Fault rules' });
    if (!(await button.isVisible())) await page.getByRole('button', { name: 'More' }).click();
    await button.click();
    await page.getByRole('dialog', { name: 'Fault rules' }).waitFor();
  }

  test('lists each rule with its stage, match, action and hit count, and counts a firing as it happens', async () => {
    await openPanel();
    const full = page.locator('tr[data-rule="full"]');
    await full.waitFor();
    assert.match(await full.innerText(), /rcpt\s+to:full@example\.test\s+times 1\s+552 5\.2\.2 mailbox full\s+0/);
    assert.match(await page.locator('tr[data-rule="grey"]').innerText(), /inbox team-a[\s\S]*greylist/);
    const mailer = nodemailer.createTransport({ host: '127.0.0.1', port: server.smtpPort, ignoreTLS: true });
    await assert.rejects(mailer.sendMail({ from: 'a@example.test', to: 'full@example.test', subject: 'x', text: 'x' }), (e: { responseCode: number }) => e.responseCode === 552);
    mailer.close();
    await full.getByTestId('hits').filter({ hasText: '1' }).waitFor();
  });

  test('switches a rule off and deletes another through the API', async () => {
    await page.getByRole('checkbox', { name: 'Rule full on' }).uncheck();
    await page.locator('tr.off[data-rule="full"]').waitFor();
    assert.deepEqual((await rules()).map((r) => [r.id, r.enabled]), [['full', false], ['grey', true]]);
    await page.getByRole('button', { name: 'Delete rule grey' }).click();
    await page.locator('tr[data-rule="grey"]').waitFor({ state: 'detached' });
    assert.deepEqual((await rules()).map((r) => r.id), ['full']);
    await page.getByRole('dialog', { name: 'Fault rules' }).getByRole('button', { name: 'Close' }).click();
    await page.getByRole('dialog', { name: 'Fault rules' }).waitFor({ state: 'hidden' });
    assert.deepEqual(pageProblems, []);
  });
});
