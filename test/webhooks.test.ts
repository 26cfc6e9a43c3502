// Webhooks against a real local receiver (node:http on port 0) that records every request and can
// fail the first attempts, answer late, or hold requests until released; mail goes in over SMTP.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHmac } from 'node:crypto';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestServer, type TestServer } from './helpers/server.js';
import { sendRaw, queuedId } from './helpers/smtp-client.js';
import { loadConfig, ConfigError, type Config } from '../server/config.js';

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

type Behaviour = (attempt: number, req: Received, res: http.ServerResponse) => void;

/** A webhook receiver; `behave` decides each answer (the attempt counts requests from 1). */
class Receiver {
  readonly requests: Received[] = [];
  readonly #server: http.Server;
  readonly #waiters = new Set<() => void>();
  url = '';

  constructor(private behave: Behaviour = (_n, _r, res) => res.end('ok')) {
    this.#server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const received = { path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
        this.requests.push(received);
        this.behave(this.requests.length, received, res);
        for (const w of this.#waiters) w();
      });
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/hooks/mail`;
    return this;
  }

  /** Resolves once `check` holds over the requests so far. */
  until(check: (requests: Received[]) => boolean, what: string, ms = 15_000): Promise<void> {
    if (check(this.requests)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`receiver never saw ${what}; got ${this.requests.length} requests`));
      }, ms);
      const waiter = (): void => {
        if (!check(this.requests)) return;
        clearTimeout(timer);
        this.#waiters.delete(waiter);
        resolve();
      };
      this.#waiters.add(waiter);
    });
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

const mail = (subject: string, body = 'Hello.'): Buffer => Buffer.from(`From: app@example.test\r\nTo: bob@example.test\r\nSubject: ${subject}\r\n\r\n${body}\r\n`);

async function send(server: TestServer, subject: string, body?: string): Promise<string> {
  return queuedId(await sendRaw(server.smtpPort, mail(subject, body), { to: ['bob@example.test'] }));
}

async function info(server: TestServer): Promise<{ webhooks: { urls: number; queued: number; delivered: number; retries: number; failed: number; dropped: number } | null }> {
  return (await (await fetch(`${server.httpUrl}/api/info`)).json()) as never;
}

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function setup(behave: Behaviour | undefined, overrides: Partial<Config>): Promise<{ receiver: Receiver; server: TestServer }> {
  const receiver = await new Receiver(behave).start();
  const server = await startTestServer({ webhookUrls: [receiver.url], webhookRetry: 20, ...overrides });
  cleanups.push(() => receiver.close(), () => server.close());
  return { receiver, server };
}

const subjectOf = (r: Received): string => (JSON.parse(r.body) as { subject: string }).subject;

describe('webhooks', () => {
  test('POSTs each new message as the API list item, in order, with User-Agent, a delivery id and a valid HMAC-SHA256 signature', async () => {
    const { receiver, server } = await setup(undefined, { webhookSecret: 's3cret' });
    const ids = [await send(server, 'first'), await send(server, 'second'), await send(server, 'third')];
    await receiver.until((r) => r.length === 3, 'three deliveries');

    assert.deepEqual(receiver.requests.map(subjectOf), ['first', 'second', 'third']);
    const list = (await (await fetch(`${server.httpUrl}/api/messages`)).json()) as { messages: Array<{ id: string }> };
    for (const [i, r] of receiver.requests.entries()) {
      assert.equal(r.path, '/hooks/mail');
      assert.equal(r.headers['content-type'], 'application/json');
      assert.match(r.headers['user-agent'] ?? '', /^Mailpen\/\d+\.\d+\.\d+ \(webhook\)$/);
      assert.match(String(r.headers['x-mailpen-delivery']), /^[0-9a-f-]{36}$/);
      assert.equal(r.headers['x-mailpen-event'], 'message.added');
      const expected = `sha256=${createHmac('sha256', 's3cret').update(r.body).digest('hex')}`;
      assert.equal(r.headers['x-mailpen-signature'], expected);
      const summary = JSON.parse(r.body) as { id: string; inbox: string };
      assert.equal(summary.id, ids[i]);
      assert.equal(summary.inbox, 'default');
      // The same shape as the API's list item.
      assert.deepEqual(summary, list.messages.find((m) => m.id === summary.id));
    }
    assert.equal(new Set(receiver.requests.map((r) => r.headers['x-mailpen-delivery'])).size, 3);
    assert.deepEqual((await info(server)).webhooks, { urls: 1, queued: 0, delivered: 3, retries: 0, failed: 0, dropped: 0, retrying: 0 });
  });

  test('without a secret there is no signature header', async () => {
    const { receiver, server } = await setup(undefined, {});
    await send(server, 'unsigned');
    await receiver.until((r) => r.length === 1, 'one delivery');
    assert.equal(receiver.requests[0]!.headers['x-mailpen-signature'], undefined);
  });

  test('retries a receiver that fails the first 3 attempts, with the same delivery id, and keeps later mail behind it', async () => {
    const { receiver, server } = await setup((n, _r, res) => {
      res.statusCode = n <= 3 ? 500 : 200;
      res.end();
    }, {});
    await send(server, 'm1');
    await send(server, 'm2');
    await receiver.until((r) => r.length === 5, 'four attempts of m1 and one of m2');

    assert.deepEqual(receiver.requests.map(subjectOf), ['m1', 'm1', 'm1', 'm1', 'm2']);
    const m1 = receiver.requests.slice(0, 4);
    assert.equal(new Set(m1.map((r) => r.headers['x-mailpen-delivery'])).size, 1);
    assert.deepEqual(m1.map((r) => r.headers['x-mailpen-attempt']), ['1', '2', '3', '4']);
    await waitFor(async () => (await info(server)).webhooks?.delivered === 2, 'two delivered');
    assert.deepEqual((await info(server)).webhooks, { urls: 1, queued: 0, delivered: 2, retries: 3, failed: 0, dropped: 0, retrying: 0 });

    const metrics = await (await fetch(`${server.httpUrl}/metrics`)).text();
    assert.match(metrics, /^mailpen_webhook_deliveries_total 2$/m);
    assert.match(metrics, /^mailpen_webhook_retries_total 3$/m);
    assert.match(metrics, /^mailpen_webhook_dropped_total 0$/m);
  });

  test('a receiver slower than MAILPEN_WEBHOOK_TIMEOUT counts as a failure and is retried', async () => {
    const held: http.ServerResponse[] = [];
    const { receiver, server } = await setup((n, _r, res) => {
      // The first answer never comes (until the receiver closes); the second is at once.
      if (n === 1) held.push(res);
      else res.end('ok');
    }, { webhookTimeout: 200 });
    await send(server, 'slow');
    await receiver.until((r) => r.length === 2, 'a second attempt after the timeout');
    await waitFor(async () => (await info(server)).webhooks?.delivered === 1, 'delivered');
    assert.deepEqual(receiver.requests.map((r) => r.headers['x-mailpen-attempt']), ['1', '2']);
    assert.equal((await info(server)).webhooks?.retries, 1);
    for (const res of held) res.end();
  });

  test('a full queue drops the oldest waiting delivery, never the one on the wire, and counts it', async () => {
    const held: http.ServerResponse[] = [];
    const { receiver, server } = await setup((_n, _r, res) => held.push(res), { webhookQueue: 2 });
    await send(server, 'q1');
    await receiver.until((r) => r.length === 1, 'q1 on the wire');
    // Queue: q1 (sending), then q2; q3 drops q2; q4 drops q3.
    for (const s of ['q2', 'q3', 'q4']) await send(server, s);
    assert.deepEqual((await info(server)).webhooks, { urls: 1, queued: 2, delivered: 0, retries: 0, failed: 0, dropped: 2, retrying: 0 });
    const metrics = await (await fetch(`${server.httpUrl}/metrics`)).text();
    assert.match(metrics, /^mailpen_webhook_dropped_total 2$/m);
    assert.match(metrics, /^mailpen_webhook_queued 2$/m);

    held.shift()!.end('ok');
    await receiver.until((r) => r.length === 2, 'the next delivery');
    held.shift()!.end('ok');
    await waitFor(async () => (await info(server)).webhooks?.delivered === 2, 'two delivered');
    assert.deepEqual(receiver.requests.map(subjectOf), ['q1', 'q4']);
  });

  test('a full queue drops a delivery waiting for its retry, and the next one goes out at once', async () => {
    const { receiver, server } = await setup((_n, r, res) => {
      res.statusCode = subjectOf(r) === 'r1' ? 500 : 200;
      res.end();
    }, { webhookQueue: 1, webhookRetry: 60_000 });
    await send(server, 'r1');
    await receiver.until((r) => r.length === 1, 'the failing first attempt');
    await waitFor(async () => /^mailpen_webhook_retrying 1$/m.test(await (await fetch(`${server.httpUrl}/metrics`)).text()), 'r1 waiting for its retry');
    await send(server, 'r2');
    await receiver.until((r) => r.length === 2, 'r2, without waiting out r1\'s retry');
    await waitFor(async () => (await info(server)).webhooks?.delivered === 1, 'r2 delivered');
    assert.deepEqual(receiver.requests.map(subjectOf), ['r1', 'r2']);
    assert.deepEqual((await info(server)).webhooks, { urls: 1, queued: 0, delivered: 1, retries: 0, failed: 0, dropped: 1, retrying: 0 });
  });

  test('SMTP answers 250 while the receiver hangs: delivery never holds up mail', async () => {
    const held: http.ServerResponse[] = [];
    const { receiver, server } = await setup((_n, _r, res) => held.push(res), {});
    const ids = [await send(server, 'a'), await send(server, 'b'), await send(server, 'c')];
    assert.equal(ids.length, 3);
    await receiver.until((r) => r.length === 1, 'the first delivery');
    assert.equal((await info(server)).webhooks?.queued, 3);
    for (const res of held) res.end();
  });

  test('shutdown delivers what is queued before it closes', async () => {
    const { receiver, server } = await setup((n, _r, res) => {
      res.statusCode = n === 1 ? 503 : 200;
      res.end();
    }, {});
    await send(server, 'last words');
    await server.close();
    assert.deepEqual(receiver.requests.map(subjectOf), ['last words', 'last words']);
    assert.equal(receiver.requests.at(-1)!.headers['x-mailpen-attempt'], '2');
  });

  test('shutdown gives up on a receiver that never answers, after its bounded flush', async () => {
    const held: http.ServerResponse[] = [];
    const { receiver, server } = await setup((_n, _r, res) => held.push(res), {});
    await send(server, 'never acknowledged');
    await receiver.until((r) => r.length === 1, 'the delivery');
    // Resolves (FLUSH_MS, 3 s) although the request is still open: the test ends rather than hangs.
    await server.close();
    assert.equal(receiver.requests.length, 1);
    for (const res of held) res.end();
  });

  test('a URL found in mail is never fetched; only the configured URL gets requests', async () => {
    const { receiver, server } = await setup(undefined, {});
    const base = receiver.url.replace('/hooks/mail', '');
    const html = [
      'From: app@example.test',
      'To: bob@example.test',
      'Subject: links',
      'Content-Type: text/html',
      '',
      `<p><a href="${base}/from-mail-link">go</a><img src="${base}/from-mail-pixel.png"><link rel="stylesheet" href="${base}/from-mail.css"></p>`,
      '',
    ].join('\r\n');
    const id = queuedId(await sendRaw(server.smtpPort, Buffer.from(html), { to: ['bob@example.test'] }));
    for (const path of ['', '/html', '/links', '/raw']) assert.equal((await fetch(`${server.httpUrl}/api/messages/${id}${path}`)).status, 200);
    await receiver.until((r) => r.length === 1, 'the delivery');
    await server.close();
    assert.deepEqual(receiver.requests.map((r) => r.path), ['/hooks/mail']);
  });

  test('with a URL set, the Mailpen process connects to that receiver and nowhere else (no-outbound preload)', async () => {
    const receiver = await new Receiver().start();
    cleanups.push(() => receiver.close());
    const root = join(dirname(fileURLToPath(import.meta.url)), '..');
    const child = spawn(
      process.execPath,
      ['--import', import.meta.resolve('./helpers/no-outbound.mjs'), '--import', import.meta.resolve('tsx'), join(root, 'server/cli.ts'),
        '--smtp-addr', '127.0.0.1:0', '--http-addr', '127.0.0.1:0', '--log-format', 'json', '--webhook-urls', receiver.url],
      { env: { PATH: process.env.PATH, TSX_DISABLE_CACHE: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const stderr: string[] = [];
    createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const listening = await new Promise<Record<string, unknown>>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`mailpen exited with ${code}: ${stderr.join('\n')}`)));
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const entry = JSON.parse(line) as Record<string, unknown>;
        if (entry.msg === 'Mailpen is listening') resolve(entry);
      });
    });
    const smtpPort = Number(String(listening.smtp).split(':').pop());
    const base = receiver.url.replace('/hooks/mail', '');
    const body = `<a href="https://example.com/x">x</a><img src="${base}/pixel.png"> http://198.51.100.7/reset`;
    await sendRaw(smtpPort, Buffer.from(`From: a@example.test\r\nTo: b@example.test\r\nSubject: out\r\nContent-Type: text/html\r\n\r\n${body}\r\n`), { to: ['b@example.test'] });
    await receiver.until((r) => r.length === 1, 'the delivery');
    child.kill('SIGTERM');
    await exited;
    const port = new URL(receiver.url).port;
    // tsx's own IPC pipe is the loader's, not the server's.
    const outbound = stderr.filter((l) => l.startsWith('OUTBOUND') && !/ ipc .*tsx/.test(l));
    assert.ok(outbound.length > 0, 'the preload saw the webhook connection');
    for (const line of outbound) assert.match(line, new RegExp(`: tcp 127\\.0\\.0\\.1:${port}$`), line);
    assert.deepEqual(receiver.requests.map((r) => r.path), ['/hooks/mail']);
  });

  test('settings: http(s) URLs only; timeout, retry and queue must be above 0', () => {
    assert.deepEqual(loadConfig([], { MAILPEN_WEBHOOK_URLS: 'http://localhost:3000/a, https://hooks.test/b' }).webhookUrls, ['http://localhost:3000/a', 'https://hooks.test/b']);
    assert.deepEqual(loadConfig([], {}).webhookUrls, []);
    assert.throws(() => loadConfig([], { MAILPEN_WEBHOOK_URLS: 'ftp://files.test/' }), (e: unknown) => e instanceof ConfigError && /MAILPEN_WEBHOOK_URLS/.test(e.message));
    assert.throws(() => loadConfig([], { MAILPEN_WEBHOOK_URLS: 'not a url' }), ConfigError);
    assert.throws(() => loadConfig(['--webhook-queue', '0']), ConfigError);
    assert.throws(() => loadConfig(['--webhook-timeout', '0s']), ConfigError);
    assert.equal(loadConfig(['--webhook-retry', '250ms']).webhookRetry, 250);
  });
});

async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`never ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
