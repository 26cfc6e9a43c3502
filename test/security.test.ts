// The HTTP edge's defences, through inject() on the real app: Host checks (DNS rebinding), CORS,
// cross-site state changes, optional auth, security headers, and the cap on pending waits.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig, type Config } from '../server/config.js';
import { createLogger } from '../server/log.js';
import { MemoryStore } from '../server/store/memory-store.js';
import { buildApp, type App } from '../server/http/app.js';
import { hostName, hostAllowed, credentialsValid } from '../server/http/security.js';
import { MessageParser } from '../server/mail/parse.js';
import { startTestServer } from './helpers/server.js';
import WebSocket from 'ws';

async function appWith(overrides: Partial<Config> = {}): Promise<App> {
  const config = loadConfig([], {}, { http: { host: '127.0.0.1', port: 8025 }, logLevel: 'silent', ...overrides });
  const store = new MemoryStore({ maxMessages: config.maxMessages, maxBytes: config.maxBytes });
  return buildApp({
    config,
    store,
    // Never asked to parse here: closed with the process (its workers start on demand).
    parser: new MessageParser({ workers: 1, timeoutMs: config.parseTimeout }),
    log: createLogger({ logLevel: 'silent', logFormat: 'json' }),
    runtime: { startedAt: new Date(), version: 'test', ports: { smtp: 1025, smtps: null, http: 8025 } },
  });
}

const basic = (user: string, pass: string): string => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

describe('Host header (DNS rebinding) while bound to loopback', () => {
  let app: App;
  before(async () => {
    app = await appWith();
  });
  after(() => app.close());

  for (const host of ['localhost', 'localhost:8025', '127.0.0.1:8025', '[::1]:8025', 'mailpen.localhost:8025', '10.0.0.7', 'LOCALHOST.:8025']) {
    it(`answers Host ${host}`, async () => {
      const res = await app.inject({ url: '/healthz', headers: { host } });
      assert.equal(res.statusCode, 200);
    });
  }

  for (const host of ['evil.example', 'evil.example:8025', 'localhost.evil.example', '127.0.0.1.nip.io:8025', 'localhost:8025@evil.example']) {
    it(`refuses Host ${host} with 421 and the JSON error shape`, async () => {
      const res = await app.inject({ url: '/healthz', headers: { host } });
      assert.equal(res.statusCode, 421);
      const body = res.json() as { statusCode: number; error: string; message: string };
      assert.equal(body.statusCode, 421);
      assert.match(body.message, /DNS-rebinding/);
    });
  }

  it('refuses a rebinding Host before routing, also for unknown paths', async () => {
    const res = await app.inject({ method: 'DELETE', url: '/api/messages', headers: { host: 'evil.example' } });
    assert.equal(res.statusCode, 421);
  });
});

describe('Host header with configured names or all interfaces', () => {
  it('accepts a configured name and still refuses others', async () => {
    const app = await appWith({ allowedHosts: ['mailpen.test'] });
    try {
      assert.equal((await app.inject({ url: '/healthz', headers: { host: 'mailpen.test:8025' } })).statusCode, 200);
      assert.equal((await app.inject({ url: '/healthz', headers: { host: 'other.test:8025' } })).statusCode, 421);
    } finally {
      await app.close();
    }
  });

  it('accepts any Host when bound to all interfaces without configured names (the container)', async () => {
    const app = await appWith({ http: { host: '0.0.0.0', port: 8025 } });
    try {
      assert.equal((await app.inject({ url: '/healthz', headers: { host: 'mailpen:8025' } })).statusCode, 200);
    } finally {
      await app.close();
    }
  });

  it('reads host names the way browsers write them', () => {
    assert.equal(hostName('[::1]:8025'), '::1');
    assert.equal(hostName('Example.TEST.:80'), 'example.test');
    assert.equal(hostAllowed('[::ffff:127.0.0.1]:1', { http: { host: '127.0.0.1', port: 1 }, allowedHosts: [] }), true);
    assert.equal(hostAllowed('a:b:c', { http: { host: '127.0.0.1', port: 1 }, allowedHosts: [] }), false);
  });
});

describe('cross-site requests', () => {
  let app: App;
  before(async () => {
    app = await appWith();
  });
  after(() => app.close());

  it('refuses a DELETE whose Origin is another site', async () => {
    const res = await app.inject({ method: 'DELETE', url: '/api/messages', headers: { host: 'localhost:8025', origin: 'http://evil.example' } });
    assert.equal(res.statusCode, 403);
    assert.match(res.json<{ message: string }>().message, /cross-origin DELETE refused/);
  });

  it('refuses a POST from a sandboxed frame (Origin: null)', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/messages', headers: { host: 'localhost:8025', origin: 'null' }, payload: 'x' });
    assert.equal(res.statusCode, 403);
  });

  it('refuses a PATCH that the browser marks cross-site even without an Origin', async () => {
    const res = await app.inject({ method: 'PATCH', url: '/api/messages/x', headers: { host: 'localhost:8025', 'sec-fetch-site': 'cross-site' }, payload: {} });
    assert.equal(res.statusCode, 403);
  });

  it('refuses a same-site page on another port (localhost:3000 is same-site with localhost:8025)', async () => {
    const res = await app.inject({
      method: 'DELETE', url: '/api/messages',
      headers: { host: 'localhost:8025', origin: 'http://localhost:3000', 'sec-fetch-site': 'same-site' },
    });
    assert.equal(res.statusCode, 403);
  });

  it('lets the UI itself change state (same origin)', async () => {
    const res = await app.inject({
      method: 'DELETE', url: '/no-such-route',
      headers: { host: 'localhost:8025', origin: 'http://localhost:8025', 'sec-fetch-site': 'same-origin' },
    });
    assert.equal(res.statusCode, 404, 'reached routing');
  });

  it('lets clients that are not browsers change state (no Origin, no Sec-Fetch-Site)', async () => {
    const res = await app.inject({ method: 'DELETE', url: '/no-such-route', headers: { host: 'localhost:8025' } });
    assert.equal(res.statusCode, 404, 'reached routing');
  });

  it('refuses cross-site reads a page could embed or fetch, but allows navigations to the UI and images of parts', async () => {
    const embed = await app.inject({ url: '/healthz', headers: { host: 'localhost:8025', 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'script' } });
    assert.equal(embed.statusCode, 403);
    const fetched = await app.inject({ url: '/healthz', headers: { host: 'localhost:8025', 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'cors', 'sec-fetch-dest': 'empty', origin: 'http://evil.example' } });
    assert.equal(fetched.statusCode, 403);
    assert.equal(fetched.headers['access-control-allow-origin'], undefined);
    const navigation = await app.inject({ url: '/healthz', headers: { host: 'localhost:8025', 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' } });
    assert.equal(navigation.statusCode, 200);
    // The sandboxed mail frame's cid: images: reaches routing (404 for an unknown message), not refused.
    const part = await app.inject({ url: '/api/messages/nope/parts/1', headers: { host: 'localhost:8025', 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image' } });
    assert.equal(part.statusCode, 404);
  });

  it('refuses cross-site images and frames anywhere else, since how long an answer takes is a read', async () => {
    // /api/wait?q= answers at once when a message matches and after its timeout when none does.
    const cases = [
      { 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image' },
      { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'iframe' },
      { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' },
    ];
    for (const site of ['cross-site', 'same-site']) {
      for (const fetchHeaders of cases) {
        for (const url of ['/api/wait?after=0&timeout=5&q=reset', '/api/messages?q=reset', '/healthz']) {
          if (url === '/healthz' && fetchHeaders['sec-fetch-mode'] === 'navigate') continue;
          const res = await app.inject({ url, headers: { host: 'localhost:8025', 'sec-fetch-site': site, ...fetchHeaders } });
          assert.equal(res.statusCode, 403, `${site} ${JSON.stringify(fetchHeaders)} ${url}`);
        }
      }
    }
    // The UI and the API docs can still be linked to from elsewhere.
    for (const url of ['/', '/api/docs']) {
      const res = await app.inject({ url, headers: { host: 'localhost:8025', 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' } });
      assert.notEqual(res.statusCode, 403, url);
    }
  });
});

describe('CORS', () => {
  it('is off by default: no Access-Control headers, preflights not answered', async () => {
    const app = await appWith();
    try {
      const pre = await app.inject({
        method: 'OPTIONS', url: '/api/messages',
        headers: { host: 'localhost:8025', origin: 'http://localhost:3000', 'access-control-request-method': 'DELETE' },
      });
      assert.notEqual(pre.statusCode, 204);
      assert.equal(pre.headers['access-control-allow-origin'], undefined);
    } finally {
      await app.close();
    }
  });

  it('lets configured origins call the API, preflight included, and no others', async () => {
    const app = await appWith({ allowedOrigins: ['http://localhost:3000'] });
    try {
      const pre = await app.inject({
        method: 'OPTIONS', url: '/api/messages',
        headers: { host: 'localhost:8025', origin: 'http://localhost:3000', 'access-control-request-method': 'DELETE', 'access-control-request-headers': 'content-type' },
      });
      assert.equal(pre.statusCode, 204);
      assert.equal(pre.headers['access-control-allow-origin'], 'http://localhost:3000');
      assert.match(String(pre.headers['access-control-allow-methods']), /DELETE/);
      const get = await app.inject({ url: '/healthz', headers: { host: 'localhost:8025', origin: 'http://localhost:3000', 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'cors' } });
      assert.equal(get.statusCode, 200);
      assert.equal(get.headers['access-control-allow-origin'], 'http://localhost:3000');
      assert.match(String(get.headers.vary), /Origin/);
      const del = await app.inject({ method: 'DELETE', url: '/no-such-route', headers: { host: 'localhost:8025', origin: 'http://localhost:3000', 'sec-fetch-site': 'same-site' } });
      assert.equal(del.statusCode, 404, 'a configured origin reaches routing');
      const other = await app.inject({ url: '/healthz', headers: { host: 'localhost:8025', origin: 'http://localhost:4000', 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'cors' } });
      assert.equal(other.statusCode, 403);
      assert.equal(other.headers['access-control-allow-origin'], undefined);
    } finally {
      await app.close();
    }
  });
});

describe('authentication', () => {
  it('asks for HTTP Basic on the UI and API, accepts configured users, and keeps /healthz open', async () => {
    const app = await appWith({ uiAuth: new Map([['dev', 's3cret:with-colon']]) });
    try {
      const none = await app.inject({ url: '/', headers: { host: 'localhost:8025' } });
      assert.equal(none.statusCode, 401);
      assert.match(String(none.headers['www-authenticate']), /^Basic realm="Mailpen"/);
      assert.equal(none.json<{ statusCode: number }>().statusCode, 401);
      const wrong = await app.inject({ url: '/api/messages', headers: { host: 'localhost:8025', authorization: basic('dev', 'nope') } });
      assert.equal(wrong.statusCode, 401);
      const unknown = await app.inject({ url: '/api/messages', headers: { host: 'localhost:8025', authorization: basic('eve', 's3cret:with-colon') } });
      assert.equal(unknown.statusCode, 401);
      const right = await app.inject({ url: '/api/inboxes', headers: { host: 'localhost:8025', authorization: basic('dev', 's3cret:with-colon') } });
      assert.equal(right.statusCode, 200);
      const health = await app.inject({ url: '/healthz', headers: { host: 'localhost:8025' } });
      assert.equal(health.statusCode, 200);
    } finally {
      await app.close();
    }
  });

  it('accepts the bearer token and refuses a wrong one', async () => {
    const app = await appWith({ apiToken: 'tok-123' });
    try {
      const none = await app.inject({ url: '/api/messages', headers: { host: 'localhost:8025' } });
      assert.equal(none.statusCode, 401);
      assert.match(String(none.headers['www-authenticate']), /^Bearer/);
      const wrong = await app.inject({ url: '/api/messages', headers: { host: 'localhost:8025', authorization: 'Bearer tok-12' } });
      assert.equal(wrong.statusCode, 401);
      const right = await app.inject({ url: '/api/inboxes', headers: { host: 'localhost:8025', authorization: 'Bearer tok-123' } });
      assert.equal(right.statusCode, 200);
    } finally {
      await app.close();
    }
  });

  it('checks credentials only after the Host, so a rebinding page gets no login prompt', async () => {
    const app = await appWith({ uiAuth: new Map([['dev', 'pw']]) });
    try {
      const res = await app.inject({ url: '/', headers: { host: 'evil.example' } });
      assert.equal(res.statusCode, 421);
      assert.equal(res.headers['www-authenticate'], undefined);
    } finally {
      await app.close();
    }
  });

  it('compares credentials of any shape without throwing', () => {
    const config = { uiAuth: new Map([['u', 'p']]), apiToken: 't' };
    for (const h of ['', 'Basic', 'Basic !!!', 'Basic ' + Buffer.from('no-colon').toString('base64'), 'Bearer', 'Digest x', 'Bearer ' + 'x'.repeat(10_000)]) {
      assert.equal(credentialsValid(h, config), false, h.slice(0, 20));
    }
    assert.equal(credentialsValid(basic('u', 'p'), config), true);
    assert.equal(credentialsValid('bearer t', config), true);
  });
});

describe('security headers', () => {
  let app: App;
  before(async () => {
    app = await appWith();
    app.get('/own-policy', async (_req, reply) => reply.header('content-security-policy', "default-src 'none'; sandbox").send('x'));
  });
  after(() => app.close());

  it('sends a CSP without inline script, nosniff, no-referrer and no framing by other sites', async () => {
    for (const url of ['/healthz', '/', '/no-such-route']) {
      const res = await app.inject({ url, headers: { host: 'localhost:8025' } });
      const csp = String(res.headers['content-security-policy']);
      const scriptSrc = /script-src ([^;]*)/.exec(csp)?.[1];
      // Only the UI's build: not inline, and not any same-origin path (parts carry a sender's bytes).
      assert.equal(scriptSrc, 'localhost:8025/assets/', `${url}: ${csp}`);
      assert.match(csp, /frame-ancestors '(self|none)'/);
      assert.match(csp, /object-src 'none'/);
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.equal(res.headers['referrer-policy'], 'no-referrer');
    }
  });

  it('lets the API docs page load its own scripts, and falls back to self for a Host CSP cannot name', async () => {
    const docs = await app.inject({ url: '/api/docs', headers: { host: 'localhost:8025' } });
    assert.match(String(docs.headers['content-security-policy']), /script-src localhost:8025\/assets\/ localhost:8025\/api\/docs\/;/);
    const v6 = await app.inject({ url: '/healthz', headers: { host: '[::1]:8025' } });
    assert.match(String(v6.headers['content-security-policy']), /script-src 'self';/);
  });

  it("keeps a route's own CSP", async () => {
    const res = await app.inject({ url: '/own-policy', headers: { host: 'localhost:8025' } });
    assert.equal(res.headers['content-security-policy'], "default-src 'none'; sandbox");
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
  });
});

describe('pending waits', () => {
  it('answers 503 past MAILPEN_MAX_WAITS and accepts waits again once some end', async () => {
    const server = await startTestServer({ maxWaits: 2 });
    try {
      const held = [new AbortController(), new AbortController()];
      const pending = held.map((c) => fetch(`${server.httpUrl}/api/wait?q=never&timeout=30`, { signal: c.signal }).catch((e: Error) => e));
      // The two waits are registered once the third one sees them; poll until the cap is reached.
      let third: Response | undefined;
      for (let i = 0; i < 100; i++) {
        third = await fetch(`${server.httpUrl}/api/w%61it?q=never&timeout=0`);
        if (third.status === 503) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(third?.status, 503);
      assert.match((await third!.json() as { message: string }).message, /MAILPEN_MAX_WAITS/);
      // A client that gives up frees its place.
      held[0]!.abort();
      await pending[0];
      let after: Response | undefined;
      for (let i = 0; i < 100; i++) {
        after = await fetch(`${server.httpUrl}/api/wait?q=never&timeout=0`);
        if (after.status !== 503) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(after?.status, 408, 'a wait runs (and times out) once a place is free');
      held[1]!.abort();
      await pending[1];
    } finally {
      await server.close();
    }
  });
});

describe('authentication at the event stream', () => {
  it('refuses an upgrade without credentials (401) and accepts Basic or the bearer token', async () => {
    const server = await startTestServer({ uiAuth: new Map([['dev', 'pw']]), apiToken: 'tok' });
    try {
      const url = `ws://127.0.0.1:${server.http.port}/api/events`;
      const status = (headers: Record<string, string>): Promise<number> =>
        new Promise((resolve) => {
          const ws = new WebSocket(url, { headers });
          ws.on('open', () => {
            ws.close();
            resolve(101);
          });
          ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
          ws.on('error', () => undefined);
        });
      assert.equal(await status({}), 401);
      assert.equal(await status({ authorization: basic('dev', 'wrong') }), 401);
      assert.equal(await status({ authorization: basic('dev', 'pw') }), 101);
      assert.equal(await status({ authorization: 'Bearer tok' }), 101);
    } finally {
      await server.close();
    }
  });
});
