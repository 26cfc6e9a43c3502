// GET /api/wait over real HTTP against a real server, with mail sent over real SMTP.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import nodemailer from 'nodemailer';
import { startTestServer, type TestServer } from './helpers/server.js';
import { sendRaw, queuedId } from './helpers/smtp-client.js';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

function mail(to: string, subject: string): Buffer {
  return Buffer.from(`From: app@example.test\r\nTo: ${to}\r\nSubject: ${subject}\r\n\r\nHello ${to}.\r\n`);
}

async function send(to: string, subject: string): Promise<string> {
  return queuedId(await sendRaw(server.smtpPort, mail(to, subject), { to: [to] }));
}

function wait(query: Record<string, string>, init: RequestInit = {}): Promise<Response> {
  return fetch(`${server.httpUrl}/api/wait?${new URLSearchParams(query)}`, init);
}

async function waiters(): Promise<number> {
  const info = (await (await fetch(`${server.httpUrl}/api/info`)).json()) as { counts: { waiters: number } };
  return info.counts.waiters;
}

/** Until the server holds `n` waiters: the wait requests are in and registered. */
async function untilWaiters(n: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while ((await waiters()) !== n) {
    if (Date.now() > deadline) throw new Error(`waiters never reached ${n} (now ${await waiters()})`);
    await new Promise((r) => setImmediate(r));
  }
}

describe('GET /api/wait', () => {
  test('returns the message that arrives after the call', async () => {
    const pending = wait({ q: 'to:arrives-later@example.test', timeout: '10' });
    await untilWaiters(1);
    const id = await send('arrives-later@example.test', 'later');
    const res = await pending;
    assert.equal(res.status, 200);
    const m = (await res.json()) as { id: string; subject: string };
    assert.equal(m.id, id);
    assert.equal(m.subject, 'later');
    assert.equal(await waiters(), 0);
  });

  test('returns at once a message that arrived before the call but after `after` (an id)', async () => {
    const marker = await send('someone@example.test', 'marker');
    const id = await send('sent-first@example.test', 'sent first');
    const started = Date.now();
    const res = await wait({ q: 'to:sent-first@example.test', after: marker, timeout: '10' });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { id: string }).id, id);
    assert.ok(Date.now() - started < 2000);
  });

  test('returns at once a message that arrived after `after` given as a time', async () => {
    const since = new Date().toISOString();
    const id = await send('after-time@example.test', 'after a time');
    const res = await wait({ q: 'to:after-time@example.test', after: since, timeout: '10' });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { id: string }).id, id);
    const epoch = await wait({ q: 'to:after-time@example.test', after: String(Date.parse(since)), timeout: '0' });
    assert.equal(epoch.status, 200);
  });

  test('`after` in epoch seconds (date +%s) is a time, not milliseconds in 1970', async () => {
    await send('after-seconds@example.test', 'before the second');
    const nextMinute = String(Math.floor(Date.now() / 1000) + 60);
    const res = await wait({ q: 'to:after-seconds@example.test', after: nextMinute, timeout: '0' });
    assert.equal(res.status, 408, 'a message from before that second does not count');
    const thisSecond = String(Math.floor(Date.now() / 1000) - 1);
    assert.equal((await wait({ q: 'to:after-seconds@example.test', after: thisSecond, timeout: '0' })).status, 200);
  });

  test('`after=0` means any message, however old', async () => {
    const id = await send('after-zero@example.test', 'old');
    await send('after-zero@example.test', 'newer');
    const res = await wait({ q: 'to:after-zero@example.test', after: '0', timeout: '0' });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { id: string }).id, id);
  });

  test('a body word finds the message, whether it arrives during the wait or just before it', async () => {
    const word = `tok${Date.now().toString(36)}`;
    const pending = wait({ q: word, timeout: '10' });
    await untilWaiters(1);
    const body = (w: string) => Buffer.from(`From: app@example.test\r\nTo: body@example.test\r\nSubject: plain\r\n\r\nYour code is ${w}.\r\n`);
    const during = queuedId(await sendRaw(server.smtpPort, body(word), { to: ['body@example.test'] }));
    assert.equal(((await (await pending).json()) as { id: string }).id, during);

    const marker = await send('someone@example.test', 'marker');
    const word2 = `${word}x`;
    const early = queuedId(await sendRaw(server.smtpPort, body(word2), { to: ['body@example.test'] }));
    const res = await wait({ q: word2, after: marker, timeout: '10' });
    assert.equal(((await res.json()) as { id: string }).id, early);
  });

  test('with several matches after the point, returns the oldest', async () => {
    const marker = await send('someone@example.test', 'marker');
    const first = await send('twice@example.test', 'one');
    await send('twice@example.test', 'two');
    const res = await wait({ q: 'to:twice@example.test', after: marker });
    assert.equal(((await res.json()) as { id: string }).id, first);
  });

  test('without `after`, a message from before the call does not count', async () => {
    await send('before-call@example.test', 'too early');
    const res = await wait({ q: 'to:before-call@example.test', timeout: '0.2' });
    assert.equal(res.status, 408);
  });

  test('times out with 408 and a JSON error when nothing matching arrives', async () => {
    const started = Date.now();
    const pending = wait({ q: 'to:nobody@example.test', timeout: '0.5' });
    await send('somebody-else@example.test', 'not for the waiter');
    const res = await pending;
    assert.equal(res.status, 408);
    assert.ok(Date.now() - started >= 450, 'waited for the timeout');
    const body = (await res.json()) as { statusCode: number; error: string; message: string };
    assert.equal(body.statusCode, 408);
    assert.match(body.message, /no matching message arrived within 0.5 s/);
    assert.equal(await waiters(), 0);
  });

  test('inbox narrows the wait to one inbox', async () => {
    const pending = wait({ q: 'subject:routed', inbox: 'team-a', timeout: '10' });
    await untilWaiters(1);
    const raw = 'From: a@example.test\r\nTo: b@example.test\r\nSubject: routed\r\n\r\nx\r\n';
    const other = await fetch(`${server.httpUrl}/api/messages?inbox=team-b`, { method: 'POST', body: raw, headers: { 'content-type': 'message/rfc822' } });
    assert.equal(other.status, 201);
    const mine = await fetch(`${server.httpUrl}/api/messages?inbox=team-a`, { method: 'POST', body: raw, headers: { 'content-type': 'message/rfc822' } });
    const { ids } = (await mine.json()) as { ids: string[] };
    const res = await pending;
    assert.deepEqual([((await res.json()) as { id: string; inbox: string }).id], ids);
  });

  test('many waiters each get their own message, and hold nothing once answered', async () => {
    const n = 150;
    const pending = Array.from({ length: n }, (_, i) => wait({ q: `to:many-${i}@example.test`, timeout: '20' }));
    await untilWaiters(n);
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: server.smtpPort, secure: false, ignoreTLS: true, pool: true, maxConnections: 5 });
    const sent = await Promise.all(
      Array.from({ length: n }, (_, i) => transport.sendMail({ from: 'app@example.test', to: `many-${i}@example.test`, subject: `many ${i}`, text: 'hi' })),
    );
    transport.close();
    assert.equal(sent.length, n);
    const answers = await Promise.all(pending.map(async (p) => ((await (await p).json()) as { subject: string }).subject));
    assert.deepEqual(answers, Array.from({ length: n }, (_, i) => `many ${i}`));
    assert.equal(await waiters(), 0);
  });

  test('a waiter whose client disconnects is released then, long before its 60 s timeout', async () => {
    // A plain socket-level client: destroying the request closes its connection, as a killed test run would.
    const request = http.get(`${server.httpUrl}/api/wait?q=to:gone@example.test&timeout=60`);
    const failed = new Promise<Error>((resolve) => request.on('error', resolve));
    await untilWaiters(1);
    request.destroy();
    assert.match((await failed).message, /socket hang up/);
    await untilWaiters(0);
  });

  test('pending waits are answered 503 when the server stops', async () => {
    const local = await startTestServer();
    const pending = fetch(`${local.httpUrl}/api/wait?q=to:never@example.test&timeout=60`);
    const deadline = Date.now() + 5000;
    while (((await (await fetch(`${local.httpUrl}/api/info`)).json()) as { counts: { waiters: number } }).counts.waiters !== 1) {
      if (Date.now() > deadline) throw new Error('waiter never registered');
    }
    const closing = local.close();
    const res = await pending;
    assert.equal(res.status, 503);
    assert.match(((await res.json()) as { message: string }).message, /shutting down/);
    await closing;
  });
});
