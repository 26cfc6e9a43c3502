// Web pages on other origins, opened in a real Chromium, against a real Mailpen. Chromium maps
// test host names to 127.0.0.1 (--host-resolver-rules), so a page can be truly cross-site
// (evil.test), same-site on another port (127.0.0.1:<other port>), configured (friend.test, in
// MAILPEN_ALLOWED_ORIGINS: the control that proves the attack page would notice success), or a
// DNS-rebinding page (rebind.test resolving to Mailpen itself).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { chromium, type BrowserContext, type Response } from 'playwright-core';
import WebSocket from 'ws';
import { CHROMIUM } from './helpers/browser.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { sendRaw, queuedId } from './helpers/smtp-client.js';

/** What the attack page tries, each reported by name: the result text, or "blocked: <error>". */
const ATTACK = `
const api = new URLSearchParams(location.search).get('api');
const out = {};
async function attempt(name, fn) {
  try { out[name] = await fn(); } catch (e) { out[name] = 'blocked: ' + e.name; }
}
await attempt('read', async () => {
  const r = await fetch(api + '/api/messages');
  return 'read ' + r.status + ' ' + (await r.text()).slice(0, 60);
});
await attempt('read with credentials', async () => {
  const r = await fetch(api + '/api/messages', { credentials: 'include' });
  return 'read ' + r.status;
});
await attempt('delete all', async () => {
  const r = await fetch(api + '/api/messages', { method: 'DELETE' });
  return 'deleted ' + r.status;
});
await attempt('upload (simple request)', async () => {
  const r = await fetch(api + '/api/messages', { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: 'Subject: csrf upload\\r\\n\\r\\nx\\r\\n' });
  return 'sent ' + r.type;
});
await attempt('mark read (simple request)', async () => {
  const r = await fetch(api + '/api/messages/' + new URLSearchParams(location.search).get('id'), { method: 'PATCH', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: '{"read":true}' });
  return 'sent ' + r.type;
});
await attempt('event stream', () => new Promise((resolve) => {
  const ws = new WebSocket(api.replace(/^http/, 'ws') + '/api/events');
  ws.onmessage = (e) => { resolve('received ' + String(e.data).slice(0, 40)); ws.close(); };
  ws.onerror = () => resolve('ws error');
  ws.onclose = () => resolve('ws closed');
}));
await attempt('form post', () => new Promise((resolve) => {
  const frame = document.createElement('iframe');
  frame.name = 'sink';
  document.body.append(frame);
  const form = document.createElement('form');
  form.method = 'POST';
  form.action = api + '/api/messages';
  form.enctype = 'text/plain';
  form.target = 'sink';
  const input = document.createElement('input');
  input.name = 'Subject: csrf form\\r\\n\\r\\nx';
  input.value = '';
  form.append(input);
  document.body.append(form);
  frame.onload = () => resolve('submitted');
  form.submit();
}));
await attempt('script include', () => new Promise((resolve) => {
  const s = document.createElement('script');
  s.src = api + '/api/messages';
  s.onload = () => resolve('script loaded');
  s.onerror = () => resolve('script error');
  document.head.append(s);
}));
// A read by timing: /api/wait answers at once when a message matches and only after its timeout
// when none does, so even an answer the page cannot read would tell it what the mail says.
await attempt('wait by image', () => new Promise((resolve) => {
  const img = new Image();
  img.onload = () => resolve('image loaded');
  img.onerror = () => resolve('image error');
  img.src = api + '/api/wait?after=0&timeout=3&q=secret';
}));
await attempt('wait by frame', () => new Promise((resolve) => {
  const frame = document.createElement('iframe');
  frame.onload = () => resolve('frame loaded');
  frame.src = api + '/api/wait?after=0&timeout=3&q=nothing-matches-this';
  document.body.append(frame);
}));
window.report = out;
document.title = 'done';
`;

/** Serves the attack page on any host name it is reached by. */
function attackServer(): Server {
  return createServer((req, res) => {
    if (req.url?.startsWith('/attack')) {
      res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><title>attack</title><script type="module">${ATTACK}</script>`);
    } else {
      res.writeHead(404).end();
    }
  });
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

interface ListBody {
  total: number;
  messages: Array<{ id: string; subject: string; read: boolean }>;
}

describe('other web pages against Mailpen', () => {
  let mailpen: TestServer;
  let attacker: Server;
  let attackPort: number;
  let context: BrowserContext;
  let profile: string;
  let id: string;

  before(async () => {
    attacker = attackServer();
    attackPort = await listen(attacker);
    mailpen = await startTestServer({ allowedOrigins: [`http://friend.test:${attackPort}`], allowedHosts: ['mailpen.test'] });
    id = queuedId(await sendRaw(mailpen.smtpPort, Buffer.from('Subject: the secret\r\n\r\npassword reset link\r\n')));
    profile = await mkdtemp(join(tmpdir(), 'mailpen-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
        '--host-resolver-rules=MAP evil.test 127.0.0.1, MAP friend.test 127.0.0.1, MAP rebind.test 127.0.0.1, MAP mailpen.test 127.0.0.1',
      ],
    });
  });

  after(async () => {
    await context?.close();
    await rm(profile, { recursive: true, force: true });
    await mailpen?.close();
    attacker?.closeAllConnections();
    await new Promise((resolve) => attacker?.close(resolve));
  });

  /** Status of every answer Mailpen gave the attack page, by path, as the browser saw it. */
  let answers: Array<{ path: string; status: number }> = [];

  async function attackFrom(origin: string): Promise<Record<string, string>> {
    const page = await context.newPage();
    answers = [];
    // On the context: a cross-site frame runs in a process of its own, whose answers the page misses.
    const onResponse = (r: Response): void => {
      const url = new URL(r.url());
      if (url.port === String(mailpen.http.port)) answers.push({ path: url.pathname, status: r.status() });
    };
    context.on('response', onResponse);
    try {
      await page.goto(`${origin}/attack?api=${encodeURIComponent(`http://127.0.0.1:${mailpen.http.port}`)}&id=${id}`);
      await page.waitForFunction(() => document.title === 'done', undefined, { timeout: 15_000 });
      return (await page.evaluate(() => (window as unknown as { report: Record<string, string> }).report));
    } finally {
      context.off('response', onResponse);
      await page.close();
    }
  }

  async function storeIsUntouched(): Promise<void> {
    const list = (await (await fetch(`${mailpen.httpUrl}/api/messages`)).json()) as ListBody;
    assert.deepEqual(list.messages.map((m) => [m.subject, m.read]), [['the secret', false]], 'nothing uploaded, deleted or marked read');
  }

  for (const [label, host] of [['a cross-site page (evil.test)', 'evil.test'], ['a same-site page on another port', '127.0.0.1']] as const) {
    it(`${label} cannot read the API, open the event stream, or change anything`, async () => {
      const report = await attackFrom(`http://${host}:${attackPort}`);
      assert.match(report.read!, /^blocked: TypeError/, `read: ${report.read}`);
      assert.match(report['read with credentials']!, /^blocked: TypeError/);
      assert.match(report['delete all']!, /^blocked: TypeError/);
      assert.match(report['event stream']!, /^ws (error|closed)$/, `event stream: ${report['event stream']}`);
      assert.equal(report['script include'], 'script error');
      // Refused before the wait runs, so its timing says nothing. (The browser reports no answer for
      // the frame, which it blocks; test/security.test.ts checks the navigation case on the server.)
      const waits = answers.filter((a) => a.path === '/api/wait');
      assert.ok(waits.length >= 1, JSON.stringify(answers));
      assert.ok(waits.every((a) => a.status === 403), JSON.stringify(waits));
      await storeIsUntouched();
    });
  }

  it('a page in MAILPEN_ALLOWED_ORIGINS can (the control: the attack page notices success)', async () => {
    const report = await attackFrom(`http://friend.test:${attackPort}`);
    assert.match(report.read!, /^read 200 \{"total":1/);
    assert.match(report['event stream']!, /^received \{"type":/);
    const list = (await (await fetch(`${mailpen.httpUrl}/api/messages`)).json()) as ListBody;
    // Its DELETE went through (the secret is gone), then both of its uploads.
    assert.deepEqual(list.messages.map((m) => m.subject).sort(), ['csrf form', 'csrf upload']);
    // Back to the state the other cases expect.
    assert.equal((await fetch(`${mailpen.httpUrl}/api/messages`, { method: 'DELETE' })).status, 200);
    id = queuedId(await sendRaw(mailpen.smtpPort, Buffer.from('Subject: the secret\r\n\r\npassword reset link\r\n')));
  });

  it('a DNS-rebinding page (a foreign name resolving to Mailpen) gets 421 for the UI, the API and the event stream', async () => {
    const page = await context.newPage();
    try {
      const res = await page.goto(`http://rebind.test:${mailpen.http.port}/`);
      assert.equal(res?.status(), 421);
      const inPage = await page.evaluate(async (port) => {
        const api = await fetch('/api/messages').then((r) => r.status);
        const ws = await new Promise<string>((resolve) => {
          const s = new WebSocket(`ws://rebind.test:${port}/api/events`);
          s.onopen = () => resolve('open');
          s.onerror = () => resolve('error');
        });
        return { api, ws };
      }, mailpen.http.port);
      assert.deepEqual(inPage, { api: 421, ws: 'error' });
      // The same server under a configured name: the control that proves the name resolves.
      const ok = await page.goto(`http://mailpen.test:${mailpen.http.port}/healthz`);
      assert.equal(ok?.status(), 200);
    } finally {
      await page.close();
    }
    await storeIsUntouched();
  });

  it('refuses a rebinding Host with the same 421 over plain HTTP and at the WebSocket upgrade', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: mailpen.http.port, path: '/api/messages', headers: { host: `attacker.example:${mailpen.http.port}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 421);
    const upgrade = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${mailpen.http.port}/api/events`, { headers: { host: 'attacker.example' } });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => {
        ws.close();
        resolve(101);
      });
      ws.on('error', () => undefined);
    });
    assert.equal(upgrade, 421);
  });
});
