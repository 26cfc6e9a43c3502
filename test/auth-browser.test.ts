// The UI behind HTTP Basic auth in a real Chromium: the browser's credentials carry the page,
// the API calls and the event stream's upgrade, so mail still appears live. Without them, the
// browser gets the login challenge and no data.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { CHROMIUM } from './helpers/browser.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { sendRaw } from './helpers/smtp-client.js';

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

describe('the UI behind HTTP Basic auth', () => {
  let server: TestServer;
  const profiles: string[] = [];
  const contexts: BrowserContext[] = [];

  async function browser(httpCredentials?: { username: string; password: string }): Promise<BrowserContext> {
    const profile = await mkdtemp(join(tmpdir(), 'mailpen-chromium-'));
    profiles.push(profile);
    const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, ...(httpCredentials ? { httpCredentials } : {}) });
    contexts.push(context);
    return context;
  }

  before(async () => {
    server = await startTestServer({ uiAuth: new Map([['dev', 's3cret']]) });
  });
  after(async () => {
    for (const c of contexts) await c.close();
    for (const p of profiles) await rm(p, { recursive: true, force: true });
    await server.close();
  });

  it('works with the credentials: the list loads and new mail arrives live', async () => {
    const context = await browser({ username: 'dev', password: 's3cret' });
    const page = await context.newPage();
    await page.goto(server.httpUrl);
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
    await sendRaw(server.smtpPort, Buffer.from('Subject: behind auth\r\n\r\nhello\r\n'));
    await page.locator('[role=option]', { hasText: 'behind auth' }).waitFor();
  });

  it('gets the login challenge and no data without them', async () => {
    const context = await browser();
    const page = await context.newPage();
    // Headless Chromium has no one to type a password: the challenge ends the navigation.
    await assert.rejects(page.goto(server.httpUrl), /ERR_INVALID_AUTH_CREDENTIALS/);
    const res = await context.request.get(`${server.httpUrl}/api/messages`);
    assert.equal(res.status(), 401);
    assert.match(res.headers()['www-authenticate'] ?? '', /^Basic realm="Mailpen"/);
    assert.doesNotMatch(await res.text(), /behind auth/);
  });
});
