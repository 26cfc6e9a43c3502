// The inbox UI shows which provider API a message came through, in its envelope view (real
// Chromium, a real Mailpen, the official resend SDK). Needs the built UI: `npm run build:ui`.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Resend } from 'resend';
import { startTestServer, type TestServer } from './helpers/server.js';
import { launchBrowser, type TestBrowser } from './helpers/browser.js';

describe('provider API origin in the inbox UI', () => {
  let server: TestServer;
  let chromium: TestBrowser;
  before(async () => {
    server = await startTestServer();
    chromium = await launchBrowser();
  });
  after(async () => {
    await chromium.close();
    await server.close();
  });

  test('the envelope view names the API and key a message came through, and says nothing of one for SMTP mail', async () => {
    const sent = await new Resend('re_ui_key', { baseUrl: `${server.httpUrl}/resend` }).emails.send({
      from: 'app@example.test',
      to: 'ann@example.test',
      bcc: 'hidden@example.test',
      subject: 'Sent through Resend',
      text: 'hello',
    });
    assert.equal(sent.error, null);
    const page = await chromium.context.newPage();
    await page.goto(server.httpUrl);
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
    await page.locator('[role=option]', { hasText: 'Sent through Resend' }).click();
    const via = page.getByTestId('envelope-via');
    await via.waitFor({ state: 'attached' });
    assert.equal((await via.textContent())?.trim(), 'Resend API (key re_ui_key)');
    assert.match((await page.getByTestId('envelope').textContent()) ?? '', /<hidden@example\.test>/);
  });
});
