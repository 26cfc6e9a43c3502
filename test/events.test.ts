// The event stream (GET /api/events) through a real WebSocket client against a real server:
// ordering and numbering, resume by seq, resync, inbox filter, origin check, slow clients, shutdown.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { WebSocket } from 'ws';
import nodemailer from 'nodemailer';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestServer, type TestServer } from './helpers/server.js';
import { EventHub } from '../server/events/hub.js';
import { createLogger } from '../server/log.js';
import type { MailpenEvent } from '../server/events/vocabulary.js';
import type { Envelope } from '../server/store/types.js';

/** A WebSocket client that records every frame and lets a test await the one it expects. */
class EventClient {
  /** Every event received, a batch frame's in order. */
  readonly frames: MailpenEvent[] = [];
  /** How many events each WebSocket frame carried (a batch frame, ?batch=1, is an array). */
  readonly perFrame: number[] = [];
  readonly ws: WebSocket;
  readonly closed: Promise<number>;
  #waiters: Array<() => void> = [];

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data)) as MailpenEvent | MailpenEvent[];
      const events = Array.isArray(frame) ? frame : [frame];
      this.frames.push(...events);
      this.perFrame.push(events.length);
      for (const w of this.#waiters.splice(0)) w();
    });
    this.closed = new Promise((resolve) => ws.on('close', (code) => resolve(code)));
  }

  static async connect(url: string, headers: Record<string, string> = {}): Promise<EventClient> {
    const ws = new WebSocket(url, { headers });
    const client = new EventClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return client;
  }

  /** Resolves with the first recorded frame (from `from` on) that satisfies `match`. */
  async next<T extends MailpenEvent>(match: (e: MailpenEvent) => e is T, from = 0, timeoutMs = 5000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.slice(from).find(match);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no matching frame; got ${JSON.stringify(this.frames.map((f) => f.type))}`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 100).unref();
      });
    }
  }

  close(): void {
    this.ws.close();
  }
}

const isType =
  <K extends MailpenEvent['type']>(type: K) =>
  (e: MailpenEvent): e is Extract<MailpenEvent, { type: K }> =>
    e.type === type;

/** Status code of a refused upgrade (the ws client reports it as 'unexpected-response'). */
function upgradeStatus(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('error', (err) => {
      if (!/Unexpected server response/.test(err.message)) reject(err);
    });
  });
}

const ENVELOPE: Envelope = { mailFrom: 'app@example.test', rcptTo: ['bob@example.test'], helo: 'test', remoteAddress: '127.0.0.1', authUser: null, tls: false };

function rawMessage(subject: string): Buffer {
  return Buffer.from(`From: app@example.test\r\nTo: bob@example.test\r\nSubject: ${subject}\r\n\r\nHello.\r\n`);
}

describe('event stream', () => {
  let server: TestServer;
  let wsUrl: string;

  before(async () => {
    server = await startTestServer({ maxMessages: 50, allowedOrigins: ['http://localhost:5173'] });
    wsUrl = `ws://127.0.0.1:${server.http.port}/api/events`;
  });
  after(() => server.close());

  test('sends one numbered event per change, in order, each seq one more than the last', async () => {
    const client = await EventClient.connect(wsUrl);
    const hello = await client.next(isType('hello'));
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: server.smtpPort, secure: false, ignoreTLS: true });
    await transport.sendMail({ from: 'app@example.test', to: 'carol@example.test', bcc: 'audit@example.test', subject: 'Order 1', text: 'Thanks', html: '<p>Thanks</p>' });
    const added = await client.next(isType('added'));
    assert.equal(added.data.message.subject, 'Order 1');
    assert.deepEqual(added.data.message.envelope.to, ['carol@example.test', 'audit@example.test']);
    assert.equal('text' in added.data.message || 'html' in added.data.message || 'raw' in added.data.message, false, 'a summary, never a body');

    const id = added.data.message.id;
    server.store.setRead(id, true);
    server.store.delete([id]);
    server.store.add({ raw: rawMessage('Second'), envelope: ENVELOPE, inbox: 'default' });
    server.store.clear();
    await client.next(isType('cleared'));
    await client.next(isType('counts'), client.frames.indexOf(added) + 1);

    const changes = client.frames.slice(1);
    assert.deepEqual(
      changes.map((e) => e.seq),
      changes.map((_, i) => hello.seq + 1 + i),
      'seq rises by one per change',
    );
    assert.deepEqual(
      changes.filter((e) => e.type !== 'counts').map((e) => e.type),
      ['added', 'updated', 'deleted', 'added', 'cleared'],
    );
    const updated = changes.find(isType('updated'))!;
    assert.deepEqual(updated.data, { id, inbox: added.data.message.inbox, read: true, tags: [] });
    assert.deepEqual(changes.find(isType('deleted'))!.data.messages, [{ id, inbox: added.data.message.inbox }]);
    const counts = changes.find(isType('counts'))!;
    assert.equal(typeof counts.data.total, 'number');
    client.close();
    transport.close();
  });

  test('a batching client (?batch=1) gets a burst as one frame, in seq order, the same events a plain client gets one a frame', async () => {
    const plain = await EventClient.connect(wsUrl);
    const batched = await EventClient.connect(`${wsUrl}?batch=1`);
    const filtered = await EventClient.connect(`${wsUrl}?batch=1&inbox=burst-a`);
    const hello = await batched.next(isType('hello'));
    await plain.next(isType('hello'));
    await filtered.next(isType('hello'));
    // One turn of the event loop: ten changes, then a client that connects before they are sent.
    const added = Array.from({ length: 10 }, (_, i) =>
      server.store.add({ raw: rawMessage(`Burst ${i}`), envelope: ENVELOPE, inbox: i % 2 === 0 ? 'burst-a' : 'burst-b' }),
    );
    const late = await EventClient.connect(`${wsUrl}?batch=1&since=${hello.seq}&epoch=${server.app.events.epoch}`);
    await batched.next((e): e is MailpenEvent => e.type === 'added' && e.data.message.id === added[9]!.id);
    await plain.next((e): e is MailpenEvent => e.type === 'added' && e.data.message.id === added[9]!.id);
    await filtered.next((e): e is MailpenEvent => e.type === 'added' && e.data.message.id === added[8]!.id);
    await late.next(isType('hello'));
    const burst = (c: EventClient): MailpenEvent[] => c.frames.filter((e) => e.seq > hello.seq && e.type === 'added');
    assert.deepEqual(burst(batched).map((e) => e.seq), added.map((_, i) => hello.seq + 1 + i), 'every change, in seq order');
    assert.deepEqual(burst(plain), burst(batched), 'the same events either way');
    assert.equal(batched.perFrame[1], 10, 'the burst is one frame');
    assert.ok(plain.perFrame.every((n) => n === 1), 'a client that did not ask gets a frame an event');
    assert.deepEqual(burst(filtered).map((e) => e.type === 'added' && e.data.message.inbox), ['burst-a', 'burst-a', 'burst-a', 'burst-a', 'burst-a']);
    assert.equal(filtered.perFrame[1], 5, "an inbox's share of the burst is one frame too");
    // Connected after the changes, before they were sent: each replayed once, never sent twice.
    assert.deepEqual(burst(late).map((e) => e.seq), added.map((_, i) => hello.seq + 1 + i));
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(burst(late).length, 10, 'no change twice');
    for (const c of [plain, batched, filtered, late]) c.close();
  });

  test('reports evictions when the store makes room', async () => {
    const client = await EventClient.connect(wsUrl);
    await client.next(isType('hello'));
    server.store.clear();
    const first = server.store.add({ raw: rawMessage('oldest'), envelope: ENVELOPE, inbox: 'default' });
    for (let i = 1; i <= 50; i++) server.store.add({ raw: rawMessage(`filler ${i}`), envelope: ENVELOPE, inbox: 'default' });
    const evicted = await client.next(isType('evicted'));
    assert.deepEqual(evicted.data.messages, [{ id: first.id, inbox: 'default' }]);
    client.close();
  });

  test('a client that reconnects with its last seq receives exactly what it missed, then hello', async () => {
    const first = await EventClient.connect(wsUrl);
    const hello = await first.next(isType('hello'));
    first.close();
    await first.closed;
    for (const s of ['missed 1', 'missed 2', 'missed 3']) server.store.add({ raw: rawMessage(s), envelope: ENVELOPE, inbox: 'default' });

    const again = await EventClient.connect(`${wsUrl}?since=${hello.seq}&epoch=${hello.data.epoch}`);
    const caughtUp = await again.next(isType('hello'));
    const added = again.frames.filter(isType('added'));
    assert.deepEqual(added.map((e) => e.data.message.subject), ['missed 1', 'missed 2', 'missed 3']);
    assert.ok(again.frames.every((e) => e.type === 'hello' || e.seq > hello.seq), 'nothing from before since');
    assert.equal(caughtUp.seq, again.frames[again.frames.length - 2]!.seq, 'hello stands at the last replayed seq');
    assert.equal(again.frames.some((e) => e.type === 'resync'), false);
    again.close();
  });

  test('a client too far behind gets one resync instead of a partial replay', async () => {
    const first = await EventClient.connect(wsUrl);
    const hello = await first.next(isType('hello'));
    first.close();
    await first.closed;
    // More changes than the replay buffer holds (1000).
    for (let i = 0; i < 1100; i++) server.store.add({ raw: rawMessage(`burst ${i}`), envelope: ENVELOPE, inbox: 'default' });

    const again = await EventClient.connect(`${wsUrl}?since=${hello.seq}&epoch=${hello.data.epoch}`);
    const resync = await again.next(isType('resync'));
    assert.equal(again.frames.length, 1, 'the resync is the first frame: nothing partial before it');
    assert.ok(resync.seq >= hello.seq + 2200, 'the resync says where the stream stands now');
    assert.equal(resync.data.counts.total, 50);
    again.close();

    const stranger = await EventClient.connect(`${wsUrl}?since=${resync.seq}&epoch=not-this-server`);
    assert.match((await stranger.next(isType('resync'))).data.reason, /restarted/);
    stranger.close();

    // After the buffer has wrapped, a resume from within it still replays exactly what was missed.
    for (const s of ['after wrap 1', 'after wrap 2']) server.store.add({ raw: rawMessage(s), envelope: ENVELOPE, inbox: 'default' });
    const resumed = await EventClient.connect(`${wsUrl}?since=${resync.seq}&epoch=${resync.data.epoch}`);
    await resumed.next(isType('hello'));
    assert.deepEqual(resumed.frames.filter(isType('added')).map((e) => e.data.message.subject), ['after wrap 1', 'after wrap 2']);
    resumed.close();
  });

  test('a client whose missed events would flood its buffer gets a resync, not a replay it would be dropped for', async () => {
    // Its own server: all 200 must still be stored (a replay leaves out what was evicted since).
    const own = await startTestServer();
    const url = `ws://127.0.0.1:${own.http.port}/api/events`;
    const first = await EventClient.connect(url);
    const hello = await first.next(isType('hello'));
    first.close();
    await first.closed;
    // 200 summaries of 16 KiB: 3 MiB, over half the 4 MiB a client may have queued.
    const padding = 'y'.repeat(16 * 1024);
    for (let i = 0; i < 200; i++) own.store.add({ raw: rawMessage(`big ${i} ${padding}`), envelope: ENVELOPE, inbox: 'default' });
    const again = await EventClient.connect(`${url}?since=${hello.seq}&epoch=${hello.data.epoch}`);
    assert.match((await again.next(isType('resync'))).data.reason, /more was missed/);
    assert.equal(again.frames.length, 1);
    again.close();
    await own.close();
  });

  test('a client filtered by inbox receives only that inbox, counts for all', async () => {
    const client = await EventClient.connect(`${wsUrl}?inbox=alice`);
    await client.next(isType('hello'));
    // Only frames after the adds: a counts frame still due from the test before may come first.
    const from = client.frames.length;
    server.store.add({ raw: rawMessage('for bob'), envelope: ENVELOPE, inbox: 'bob' });
    server.store.add({ raw: rawMessage('for alice'), envelope: ENVELOPE, inbox: 'alice' });
    const counts = await client.next(isType('counts'), from);
    const added = client.frames.filter(isType('added'));
    assert.deepEqual(added.map((e) => e.data.message.subject), ['for alice']);
    assert.ok(counts.data.inboxes.some((i) => i.name === 'bob'));
    client.close();
  });

  test('refuses a foreign Origin with 403 at the upgrade; the own origin, configured ones and non-browsers connect', async () => {
    const port = server.http.port;
    assert.equal(await upgradeStatus(wsUrl, { Origin: 'https://evil.example' }), 403);
    assert.equal(await upgradeStatus(wsUrl, { Origin: 'null' }), 403);
    assert.equal(await upgradeStatus(wsUrl, { Origin: `http://127.0.0.1:${port + 1}` }), 403);
    assert.equal(await upgradeStatus(wsUrl, { Origin: `http://127.0.0.1:${port}` }), 101);
    assert.equal(await upgradeStatus(wsUrl, { Origin: 'http://localhost:5173' }), 101);
    assert.equal(await upgradeStatus(wsUrl, {}), 101);
    assert.equal(await upgradeStatus(`${wsUrl}?since=abc`, {}), 400);
  });

  test('a plain GET of the stream answers 426 with how to connect', async () => {
    const res = await fetch(`${server.httpUrl}/api/events`);
    assert.equal(res.status, 426);
    assert.match(((await res.json()) as { message: string }).message, /WebSocket/);
  });

  test('drops a stalled client while the others keep receiving every event', async () => {
    const stalled = await EventClient.connect(wsUrl);
    const healthy = await EventClient.connect(wsUrl);
    await stalled.next(isType('hello'));
    await healthy.next(isType('hello'));
    const start = healthy.frames.length;
    // Stop reading: the kernel buffers fill, then the server's send queue grows past its bound.
    stalled.ws.pause();
    let stalledGone = false;
    void stalled.closed.then(() => (stalledGone = true));
    const padding = 'x'.repeat(16 * 1024);
    // The bound is generous: loopback lets the paused client's kernel buffer grow to 32 MB here
    // (tcp_rmem), all of which the server can write before its own queue starts to grow.
    const bound = 12_000;
    // Counted from here: a client another test left behind must not hide this one's drop.
    const connected = server.app.events.clientCount;
    let sent = 0;
    while (sent < bound) {
      for (let i = 0; i < 50; i++, sent++) {
        server.store.add({ raw: rawMessage(`${sent} ${padding}`), envelope: ENVELOPE, inbox: 'default' });
      }
      await nextTurn();
      if (server.app.events.clientCount < connected) break;
    }
    assert.ok(sent < bound, `the stalled client was dropped before ${bound} messages of 16 KiB`);
    const last = await healthy.next((e): e is Extract<MailpenEvent, { type: 'added' }> => e.type === 'added' && e.data.message.subject.startsWith(`${sent - 1} `), start, 15000);
    const added = healthy.frames.slice(start).filter(isType('added'));
    assert.equal(added.length, sent, 'the healthy client received every event');
    assert.ok(last);
    stalled.ws.resume();
    assert.equal(await stalled.closed, 1006, 'the stalled client was cut off, not closed politely');
    assert.ok(stalledGone);
    assert.ok(stalled.frames.filter(isType('added')).length < sent, 'the stalled client did not get everything');
    healthy.close();
  });

  test('drops a client that stops answering pings', async () => {
    const hub = new EventHub(server.store, createLogger({ logLevel: 'silent', logFormat: 'json' }), { heartbeatMs: 50 });
    const http = createServer();
    http.on('upgrade', (req, socket, head) => hub.accept(req, socket, head, new URL(req.url ?? '/', 'http://127.0.0.1')));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}/api/events`;
    try {
      const answering = await EventClient.connect(url);
      const silent = new WebSocket(url, { autoPong: false });
      const silentClosed = new Promise<number>((resolve) => silent.on('close', (code) => resolve(code)));
      await new Promise((resolve) => silent.once('open', resolve));
      assert.equal(await silentClosed, 1006, 'cut off without a close handshake');
      assert.equal(answering.ws.readyState, WebSocket.OPEN, 'a client that answers stays');
      assert.equal(hub.clientCount, 1);
      answering.close();
    } finally {
      await hub.close();
      http.close();
    }
  });

  test('closes every socket with 1001 when the server shuts down', async () => {
    const own = await startTestServer();
    const client = await EventClient.connect(`ws://127.0.0.1:${own.http.port}/api/events`);
    await client.next(isType('hello'));
    await own.close();
    assert.equal(await client.closed, 1001);
  });
});


describe('event stream for a list (?rows=N): a page of rows a frame, the other arrivals as references', () => {
  let server: TestServer;
  let wsUrl: string;

  before(async () => {
    server = await startTestServer();
    wsUrl = `ws://127.0.0.1:${server.http.port}/api/events`;
  });
  after(() => server.close());

  /** Stores `count` messages in one turn, every third in inbox 'other'; their ids, oldest first. */
  function burst(count: number, label: string): Array<{ id: string; inbox: string }> {
    return Array.from({ length: count }, (_, i) => {
      const m = server.store.add({ raw: rawMessage(`${label} ${i}`), envelope: ENVELOPE, inbox: i % 3 === 2 ? 'other' : 'default' });
      return { id: m.id, inbox: m.inbox };
    });
  }

  /** The arrivals a client was told of after `since`, as it would list them: ids in seq order, and how. */
  function arrivals(c: EventClient, since: number): Array<{ id: string; how: 'added' | 'arrived'; seq: number }> {
    const out: Array<{ id: string; how: 'added' | 'arrived'; seq: number }> = [];
    for (const e of c.frames) {
      if (e.seq <= since) continue;
      if (e.type === 'added') out.push({ id: e.data.message.id, how: 'added', seq: e.seq });
      if (e.type === 'arrived') for (const m of e.data.messages) out.push({ id: m.id, how: 'arrived', seq: e.seq });
    }
    return out;
  }

  async function told(c: EventClient, id: string): Promise<void> {
    await c.next((e): e is MailpenEvent => (e.type === 'added' && e.data.message.id === id) || (e.type === 'arrived' && e.data.messages.some((m) => m.id === id)));
  }

  test('a burst reaches a rows client as its newest N arrivals with rows, the ones before as one arrived event, each once and in order', async () => {
    const list = await EventClient.connect(`${wsUrl}?batch=1&rows=20`);
    const inboxList = await EventClient.connect(`${wsUrl}?batch=1&rows=20&inbox=other`);
    const hello = await list.next(isType('hello'));
    await inboxList.next(isType('hello'));
    const sent = burst(300, 'Lean');
    await told(list, sent.at(-1)!.id);
    await told(inboxList, sent.filter((m) => m.inbox === 'other').at(-1)!.id);

    const got = arrivals(list, hello.seq);
    assert.deepEqual(got.map((a) => a.id), sent.map((m) => m.id), 'every arrival, once, oldest first');
    assert.deepEqual(got.map((a) => a.how), [...Array<string>(280).fill('arrived'), ...Array<string>(20).fill('added')], 'rows for the newest 20 only');
    const arrivedEvents = list.frames.filter((e) => e.seq > hello.seq && e.type === 'arrived');
    assert.equal(arrivedEvents.length, 1, 'the references before the rows are one event');
    const addedSeqs = got.filter((a) => a.how === 'added').map((a) => a.seq);
    assert.ok(arrivedEvents[0]!.seq > hello.seq && arrivedEvents[0]!.seq < addedSeqs[0]!, "the arrived event's seq is its last arrival's, before the rows");
    assert.deepEqual(addedSeqs, [...addedSeqs].sort((a, b) => a - b));
    assert.deepEqual(arrivedEvents[0]!.type === 'arrived' && arrivedEvents[0].data.messages.slice(0, 3), sent.slice(0, 3), 'references carry id and inbox');

    const other = sent.filter((m) => m.inbox === 'other');
    const gotOther = arrivals(inboxList, hello.seq);
    assert.deepEqual(gotOther.map((a) => a.id), other.map((m) => m.id), "an inbox's client hears of its inbox's arrivals only");
    assert.equal(gotOther.filter((a) => a.how === 'added').length, 20, "its rows are the newest 20 of its inbox's");
    list.close();
    inboxList.close();
  });

  test('with a client that wants every row connected too, that one gets every summary and the rows client still gets a page a frame', async () => {
    const full = await EventClient.connect(`${wsUrl}?batch=1`);
    const list = await EventClient.connect(`${wsUrl}?batch=1&rows=5`);
    const hello = await full.next(isType('hello'));
    await list.next(isType('hello'));
    const sent = burst(60, 'Mixed');
    await told(full, sent.at(-1)!.id);
    await told(list, sent.at(-1)!.id);
    const everyRow = arrivals(full, hello.seq);
    assert.deepEqual(everyRow.map((a) => a.id), sent.map((m) => m.id));
    assert.ok(everyRow.every((a) => a.how === 'added'), 'no references to a client that did not ask for rows=N');
    const page = arrivals(list, hello.seq);
    assert.deepEqual(page.map((a) => a.id), sent.map((m) => m.id));
    assert.equal(page.filter((a) => a.how === 'added').length, 5);
    assert.deepEqual(
      page.filter((a) => a.how === 'added').map((a) => a.seq),
      everyRow.slice(-5).map((a) => a.seq),
      'the same seqs for the same changes',
    );
    full.close();
    list.close();
    await Promise.all([full.closed, list.closed]);
  });

  test('an arrival deleted before its frame went out is not announced to a rows client; its deletion is', async () => {
    const list = await EventClient.connect(`${wsUrl}?batch=1&rows=50`);
    const hello = await list.next(isType('hello'));
    // Alone: a client that wants every row would have each arrival summarized as it is stored.
    assert.equal(server.app.events.clientCount, 1);
    const [gone, kept] = burst(2, 'Short-lived');
    server.store.delete([gone!.id]);
    const deleted = await list.next(isType('deleted'));
    assert.deepEqual(deleted.data.messages, [gone]);
    assert.deepEqual(arrivals(list, hello.seq).map((a) => a.id), [kept!.id]);
    list.close();
  });

  test('a rows client that resumes by seq gets what it missed with every row', async () => {
    const first = await EventClient.connect(`${wsUrl}?batch=1&rows=1`);
    const hello = await first.next(isType('hello'));
    first.close();
    await first.closed;
    const sent = burst(4, 'Missed');
    const again = await EventClient.connect(`${wsUrl}?batch=1&rows=1&since=${hello.seq}&epoch=${hello.data.epoch}`);
    await again.next(isType('hello'));
    const replayed = arrivals(again, hello.seq);
    assert.deepEqual(replayed.map((a) => a.id), sent.map((m) => m.id));
    assert.ok(replayed.every((a) => a.how === 'added'), 'a replay is not a burst: rows for all');
    again.close();
  });

  test('refuses rows outside 1 to 1000 with 400 at the upgrade, and takes 1 and 1000', async () => {
    for (const bad of ['0', '1001', 'x', '-1', '1.5', '']) assert.equal(await upgradeStatus(`${wsUrl}?rows=${bad}`, {}), 400, `rows=${bad}`);
    for (const good of ['1', '1000']) assert.equal(await upgradeStatus(`${wsUrl}?rows=${good}`, {}), 101, `rows=${good}`);
  });
});
