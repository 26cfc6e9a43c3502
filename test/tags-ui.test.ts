// Tags in the UI (issue 12), in a real headless Chromium against a real Mailpen: a list row shows
// the tags a message carries by itself (X-Tags, a plus-address), the message view edits them
// through PUT /api/messages/:id/tags, and the row follows through the updated event. Needs the
// built UI (dist/ui): `npm test` builds it first; alone, run `npm run build:ui` once.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import nodemailer from 'nodemailer';
import { startTestServer, type TestServer } from './helpers/server.js';
import { collectPageProblems, launchBrowser, type TestBrowser } from './helpers/browser.js';

describe('tags in the UI', () => {
  let server: TestServer;
  let chromium: TestBrowser;
  let page: Page;
  const pageProblems: string[] = [];

  before(async () => {
    server = await startTestServer();
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

  test('a row shows X-Tags and plus-address tags; the view edits them and the row follows', async () => {
    const mailer = nodemailer.createTransport({ host: '127.0.0.1', port: server.smtpPort, ignoreTLS: true });
    await mailer.sendMail({ from: 'app@example.test', to: 'bob+signup@example.test', subject: 'Welcome', text: 'hi', headers: { 'X-Tags': 'onboarding' } });
    mailer.close();
    const row = page.getByRole('option').filter({ hasText: 'Welcome' });
    await row.waitFor();
    await row.getByTestId('row-tags').filter({ hasText: 'onboarding' }).waitFor();
    assert.deepEqual(await row.locator('.chip').allInnerTexts(), ['onboarding', 'signup']);

    await row.click();
    const tags = page.getByTestId('reader-tags');
    await tags.getByText('signup').waitFor();
    await tags.getByRole('button', { name: 'Edit tags' }).click();
    const input = tags.getByRole('textbox', { name: 'Tags, separated by commas' });
    await input.fill('checked, signup');
    await input.press('Enter');
    await tags.getByRole('button', { name: 'Edit tags' }).waitFor();
    assert.deepEqual(await tags.locator('.chip').allInnerTexts(), ['checked', 'signup']);
    await row.locator('.chip').filter({ hasText: 'checked' }).waitFor();
    assert.deepEqual(await row.locator('.chip').allInnerTexts(), ['checked', 'signup'], 'the row follows the updated event');
    let id = '';
    server.store.forEachNewest((m) => ((id = m.id), false));
    assert.deepEqual(server.store.get(id)!.tags, ['checked', 'signup']);
    assert.deepEqual(pageProblems, []);
  });
});
