// Mail taken through the HTTP API (an upload, Mailpit's send, a provider API) on replicas that share
// one real redis-server: it is ordered by the shared log before any replica applies it, as SMTP's
// mail is, so at the store's limit every replica holds and evicts exactly the same messages; and
// while Redis cannot take it, each of those routes answers 503 with the reason, in its API's own
// error shape, and stores nothing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis, type TestRedis } from './helpers/redis.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { queuedId, sendRaw } from './helpers/smtp-client.js';
import { Frames, json, listedIds, message, waitFor } from './helpers/replicas.js';
import type { ChangeEvent } from '../server/events/vocabulary.js';

/** The ways mail comes in: SMTP, and the three HTTP edges that used to apply it before the log ordered it. */
const ROUTES = ['smtp', 'upload', 'mailpit', 'postmark'] as const;
type Route = (typeof ROUTES)[number];
const HTTP_ROUTES = ['upload', 'mailpit', 'postmark', 'sendgrid'] as const;
type HttpRoute = (typeof HTTP_ROUTES)[number];

const POSTMARK_TOKEN = 'postmark-token';
const SENDGRID_KEY = 'sendgrid-key';

/** The answer's status and body: JSON when it is, else its text (a plain "internal error" fails an assertion, not the parse). */
async function answer(url: string, init: RequestInit): Promise<{ status: number; body: any }> {
  const res = await fetch(url, init);
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) };
  } catch {
    return { status: res.status, body: text };
  }
}

/** One message through one HTTP edge, as its clients send it; the answer as it came. */
async function post(route: HttpRoute, server: TestServer, n: string): Promise<{ status: number; body: any }> {
  const asJson = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    answer(`${server.httpUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const subject = `replica test ${n}`;
  switch (route) {
    case 'upload':
      return answer(`${server.httpUrl}/api/messages`, { method: 'POST', headers: { 'content-type': 'message/rfc822' }, body: new Uint8Array(message(n)) });
    case 'mailpit':
      return asJson('/api/v1/send', { From: { Email: 'a@example.test' }, To: [{ Email: 'b@example.test' }], Subject: subject, Text: `body ${n}` });
    case 'postmark':
      return asJson('/postmark/email', { From: 'a@example.test', To: 'b@example.test', Subject: subject, TextBody: `body ${n}` }, { 'x-postmark-server-token': POSTMARK_TOKEN });
    case 'sendgrid':
      return asJson(
        '/sendgrid/v3/mail/send',
        { personalizations: [{ to: [{ email: 'b@example.test' }] }], from: { email: 'a@example.test' }, subject, content: [{ type: 'text/plain', value: `body ${n}` }] },
        { authorization: `Bearer ${SENDGRID_KEY}` },
      );
  }
}

/** One message through `route`; its id, once the replica has answered that it is stored. */
async function send(route: Route, server: TestServer, n: string): Promise<string> {
  if (route === 'smtp') {
    const reply = await sendRaw(server.smtpPort, message(n));
    assert.equal(reply.code, 250, reply.text);
    return queuedId(reply);
  }
  const { status, body } = await post(route, server, n);
  const id = route === 'upload' ? body?.ids?.[0] : route === 'mailpit' ? body?.ID : body?.MessageID;
  assert.ok(status < 300 && typeof id === 'string', `${route}: ${status} ${JSON.stringify(body)}`);
  return id;
}

/** What a replica's event stream announced of adds and evictions: seq, kind and ids, in order. */
function announced(frames: Frames): Array<[number, string, string[]]> {
  return frames.changes
    .filter((e): e is Extract<ChangeEvent, { type: 'added' | 'evicted' }> => e.type === 'added' || e.type === 'evicted')
    .map((e) => [e.seq, e.type, e.type === 'added' ? [e.data.message.id] : e.data.messages.map((m) => m.id)]);
}

const evictedIds = (frames: Frames): string[] => announced(frames).flatMap(([, type, ids]) => (type === 'evicted' ? ids : []));
const addedIds = (frames: Frames): string[] => announced(frames).flatMap(([, type, ids]) => (type === 'added' ? ids : []));

let redis: TestRedis;
let nextDb = 1;
const servers: TestServer[] = [];
const clients: Frames[] = [];

/** A replica on database `db` of the shared redis-server, keeping at most 5 messages. */
async function replica(db: number): Promise<TestServer> {
  const server = await startTestServer({ store: redis.url(db), maxMessages: 5 });
  servers.push(server);
  return server;
}

async function watch(server: TestServer): Promise<Frames> {
  const frames = await Frames.open(server);
  clients.push(frames);
  return frames;
}

before(async () => {
  redis = await startRedis();
});

after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(servers.map((s) => s.close()));
  await redis.destroy();
});

describe('mail taken through the HTTP API on replicas sharing Redis, at a limit of 5 messages', () => {
  test('sent one after another through upload, Mailpit send, Postmark and SMTP on both replicas: both hold the newest five in send order and announce the same evictions, oldest first, with the same seqs', async () => {
    const db = nextDb++;
    const [a, b] = [await replica(db), await replica(db)];
    const [onA, onB] = [await watch(a), await watch(b)];
    const sent: string[] = [];
    // Every route on both replicas: round r sends route k to A when r + k is odd, else to B.
    for (let round = 0; round < 4; round++) {
      for (const [k, route] of ROUTES.entries()) sent.push(await send(route, (round + k) % 2 ? a : b, `in-turn-${round}-${route}`));
    }
    assert.equal(new Set(sent).size, 16);

    const newest = sent.slice(-5).reverse();
    await waitFor('A lists the newest five', async () => JSON.stringify(await listedIds(a)) === JSON.stringify(newest));
    await waitFor('B lists the newest five', async () => JSON.stringify(await listedIds(b)) === JSON.stringify(newest));
    await waitFor('both announce 11 evictions', () => evictedIds(onA).length === 11 && evictedIds(onB).length === 11);
    assert.deepEqual(evictedIds(onA), sent.slice(0, 11), 'A evicts the oldest eleven, in the order they were sent');
    assert.deepEqual(addedIds(onA), sent, 'A announces every message in the order they were sent');
    assert.deepEqual(announced(onB), announced(onA), 'B announces the same adds and evictions, with the same seqs');
  });

  test('sent all at once through upload, Mailpit send, Postmark and SMTP on both replicas: both hold the same five in the same order and announce the same evictions with the same seqs', async () => {
    const db = nextDb++;
    const [a, b] = [await replica(db), await replica(db)];
    const [onA, onB] = [await watch(a), await watch(b)];
    // 48 messages in flight together, each route to both replicas.
    const sent = await Promise.all(
      Array.from({ length: 48 }, (_, i) => send(ROUTES[i % ROUTES.length]!, Math.floor(i / ROUTES.length) % 2 ? a : b, `at-once-${i}`)),
    );
    assert.equal(new Set(sent).size, 48);

    await waitFor('both announce every add and 43 evictions', () =>
      [onA, onB].every((f) => addedIds(f).length === 48 && evictedIds(f).length === 43),
    );
    const [heldA, heldB] = [await listedIds(a), await listedIds(b)];
    assert.equal(heldA.length, 5);
    assert.deepEqual(heldB, heldA, 'B holds the same five as A, in the same order');
    assert.deepEqual(announced(onB), announced(onA), 'B announces the same adds and evictions as A, with the same seqs');
    // And they are what the log's order says: the last five added, the first 43 evicted.
    const added = addedIds(onA);
    assert.deepEqual([...added].sort(), [...sent].sort(), 'every message answered is announced once');
    assert.deepEqual(heldA, added.slice(-5).reverse());
    assert.deepEqual(evictedIds(onA), added.slice(0, 43));
  });
});

describe('mail taken through the HTTP API while Redis is stopped', () => {
  let own: TestRedis;
  before(async () => {
    own = await startRedis();
  });
  after(async () => {
    await own.destroy();
  });

  test('upload, Mailpit send, Postmark and SendGrid answer 503 with the reason in their own error shape (not 500), store nothing, and take mail again once Redis is back', async () => {
    const a = await startTestServer({ store: own.url(0) });
    servers.push(a);
    const kept = await send('upload', a, 'before-the-stop');

    await own.stop();
    await waitFor('healthz not ready', async () => (await json(`${a.httpUrl}/healthz`)).status === 503);

    const upload = await post('upload', a, 'stopped-upload');
    assert.equal(upload.status, 503, JSON.stringify(upload.body));
    assert.equal(upload.body.statusCode, 503);
    assert.match(upload.body.message, /Redis/);

    const mailpit = await post('mailpit', a, 'stopped-mailpit');
    assert.equal(mailpit.status, 503, JSON.stringify(mailpit.body));
    assert.deepEqual(Object.keys(mailpit.body), ['Error']);
    assert.match(mailpit.body.Error, /Redis/);

    const postmark = await post('postmark', a, 'stopped-postmark');
    assert.equal(postmark.status, 503, JSON.stringify(postmark.body));
    assert.equal(typeof postmark.body.ErrorCode, 'number');
    assert.match(postmark.body.Message, /Redis/);

    const sendgrid = await post('sendgrid', a, 'stopped-sendgrid');
    assert.equal(sendgrid.status, 503, JSON.stringify(sendgrid.body));
    assert.match(sendgrid.body.errors[0].message, /Redis/);

    assert.deepEqual(await listedIds(a), [kept], 'the replica that refused them holds none of them');

    await own.start();
    await waitFor('healthz ready again', async () => (await json(`${a.httpUrl}/healthz`)).status === 200);
    // Nothing of the refused mail reached the log either: a replica started now reads only what was kept.
    const fresh = await startTestServer({ store: own.url(0), maxMessages: 5 });
    servers.push(fresh);
    assert.deepEqual(await listedIds(fresh), [kept]);
    const after = await send('postmark', a, 'after-the-restart');
    await waitFor('the new replica has the mail taken after the restart', async () => JSON.stringify(await listedIds(fresh)) === JSON.stringify([after, kept]));
  });
});
