// mailpen/client in a browser: the built module (dist/client/index.js) loaded by Debian's
// Chromium into a page of Mailpen's own origin, using the browser's fetch and WebSocket.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM } from './helpers/browser.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const ROOT = join(import.meta.dirname, '..');

let server: TestServer;
let browser: Browser;
before(async () => {
  const built = await stat(join(ROOT, 'dist/client/index.js')).catch(() => null);
  const sources = await Promise.all((await readdir(join(ROOT, 'client'))).map((f) => stat(join(ROOT, 'client', f))));
  if (!built || sources.some((s) => s.mtimeMs > built.mtimeMs)) {
    await promisify(execFile)(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'client/tsconfig.json')]);
  }
  server = await startTestServer();
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking'] });
});
after(async () => {
  await browser?.close();
  await server?.close();
});

describe('mailpen/client in a browser', () => {
  it('waits for a message with its code and follows the event stream with the browser WebSocket', async () => {
    // The UI's CSP allows scripts from its own origin only; the module is served there by route.
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    await page.route(`${server.httpUrl}/__client/index.js`, (route) => route.fulfill({ path: join(ROOT, 'dist/client/index.js'), contentType: 'text/javascript' }));
    await page.goto(server.httpUrl);
    const result = await page.evaluate(async () => {
      const { createClient } = await import(`${location.origin}/__client/index.js`);
      const client = createClient({ baseUrl: location.origin });
      const controller = new AbortController();
      const stream = client.events({ inbox: 'browser', signal: controller.signal });
      const hello = await stream.next();
      const inbox = await client.inbox({ name: 'browser' });
      await client.upload('Subject: Sign in\r\n\r\nYour login code is 551234\r\n', { inbox: inbox.name });
      const mail = await inbox.waitFor({ subject: 'Sign in' });
      let added;
      for (;;) {
        const next = await stream.next();
        if (next.value.type === 'added') {
          added = next.value.data.message.subject;
          break;
        }
      }
      controller.abort();
      return { hello: hello.value.type, codes: mail.codes.map((c: { code: string }) => c.code), added, smtpHost: inbox.smtp.host };
    });
    assert.deepEqual(result, { hello: 'hello', codes: ['551234'], added: 'Sign in', smtpHost: '127.0.0.1' });
    await context.close();
  });
});
