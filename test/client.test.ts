// mailpen/client (client/index.ts) against a real Mailpen on port 0, with mail sent over real
// SMTP by nodemailer using the SMTP settings client.inbox() hands out. Node 20 has no global
// WebSocket, so events() gets the `ws` package's, as the README tells Node 20 users to do.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import WebSocket from 'ws';
import { startTestServer, type TestServer } from './helpers/server.js';
import { createClient, MailpenClient, MailpenError, MailpenTimeoutError, searchQuery, type Inbox, type MailpenEvent, type WebSocketConstructor } from '../client/index.js';

let server: TestServer;
let client: MailpenClient;
before(async () => {
  server = await startTestServer();
  client = createClient({ baseUrl: server.httpUrl, WebSocket: WebSocket as unknown as WebSocketConstructor });
});
after(() => server.close());

const signup = readFileSync(join(import.meta.dirname, 'fixtures/codes/36-multipart-welcome.eml'));

/** What an application under test does: send over SMTP with the settings it was given. */
async function sendInto(inbox: Inbox, mail: { to: string; subject: string; text: string; html?: string }): Promise<void> {
  const transport = nodemailer.createTransport(inbox.smtp);
  try {
    await transport.sendMail({ from: 'app@example.test', ...mail });
  } finally {
    transport.close();
  }
}

describe('mailpen/client: messages', () => {
  it('uploads, lists, searches and reads a message: summary, full message, raw, html, links, codes', async () => {
    const uploaded = await client.upload(signup, { inbox: 'client-read' });
    assert.equal(uploaded.ids.length, 1);
    const id = uploaded.ids[0]!;

    const list = await client.messages({ inbox: 'client-read' });
    assert.deepEqual(
      list.messages.map((m) => m.id),
      [id],
    );
    assert.equal(list.next, null);
    assert.equal((await client.search('subject:"confirm your account"', { inbox: 'client-read' })).total, 1);
    assert.equal((await client.search('subject:nothing-like-this', { inbox: 'client-read' })).total, 0);

    const message = await client.message(id);
    assert.equal(message.subject, 'Welcome! Confirm your account');
    assert.match(message.text ?? '', /Your confirmation code: 246810/);
    assert.deepEqual(new TextDecoder().decode(await client.raw(id)), signup.toString('utf8'));
    assert.match(await client.html(id), /font-size:30px/);
    assert.deepEqual(await client.links(id), ['https://app.test/confirm?c=246810&u=9912']);
    assert.deepEqual(await client.codes(id), [{ code: '246810', context: 'Your confirmation code: 246810' }]);
  });

  it('marks read and unread, deletes one and deletes by selection', async () => {
    const { ids } = await client.upload(`Subject: a\r\n\r\none\r\n`, { inbox: 'client-change' });
    const { ids: more } = await client.upload(`Subject: b\r\n\r\ntwo\r\n`, { inbox: 'client-change' });
    await client.markRead(ids[0]!);
    assert.equal((await client.message(ids[0]!)).read, true);
    await client.markRead([ids[0]!, more[0]!], false);
    assert.equal((await client.messages({ inbox: 'client-change' })).unread, 2);
    await client.delete(ids[0]!);
    assert.deepEqual(
      (await client.messages({ inbox: 'client-change' })).messages.map((m) => m.id),
      more,
    );
    assert.equal(await client.deleteMessages({ inbox: 'client-change' }), 1);
    assert.deepEqual(
      (await client.inboxes()).filter((i) => i.name === 'client-change').map((i) => i.total),
      [],
    );
  });

  it('throws the API error as MailpenError with statusCode, error and message', async () => {
    await assert.rejects(client.message('nosuchmessage'), (err: unknown) => {
      assert.ok(err instanceof MailpenError);
      assert.equal(err.statusCode, 404);
      assert.equal(err.error, 'Not Found');
      assert.match(err.message, /^GET \/api\/messages\/nosuchmessage: 404 Not Found: /);
      assert.deepEqual(Object.keys(err.body).sort(), ['error', 'message', 'statusCode']);
      assert.equal(err.body.statusCode, 404);
      return true;
    });
    await assert.rejects(client.search('from:'), (err: unknown) => err instanceof MailpenError && err.statusCode === 400 && /from:/.test(err.message));
  });
});

describe('mailpen/client: waitFor', () => {
  it('returns the message with its codes and links in one call', async () => {
    const since = Date.now();
    const { ids } = await client.upload(signup, { inbox: 'client-wait' });
    const found = await client.waitFor({ inbox: 'client-wait', subject: 'Confirm your', after: since, include: ['codes', 'links'] });
    assert.equal(found.id, ids[0]);
    assert.deepEqual(found.codes, [{ code: '246810', context: 'Your confirmation code: 246810' }]);
    assert.deepEqual(found.links, ['https://app.test/confirm?c=246810&u=9912']);
  });

  it('turns a 408 into MailpenTimeoutError naming the query and the inbox', async () => {
    await assert.rejects(client.waitFor({ to: 'nobody@example.test', subject: 'never "sent"', inbox: 'client-none', timeout: 0 }), (err: unknown) => {
      assert.ok(err instanceof MailpenTimeoutError);
      assert.equal(err.statusCode, 408);
      assert.match(err.body.message, /no matching message arrived within 0 s/);
      assert.equal(err.query, 'subject:"never" subject:"sent" to:"nobody@example.test"');
      assert.equal(err.message, 'no message matching "subject:\\"never\\" subject:\\"sent\\" to:\\"nobody@example.test\\"" in inbox "client-none" arrived within 0 s');
      return true;
    });
  });

  it('stops waiting when its AbortSignal aborts', async () => {
    const controller = new AbortController();
    const pending = client.waitFor({ to: 'abort@example.test', timeout: 30_000, signal: controller.signal });
    controller.abort();
    await assert.rejects(pending, (err: unknown) => err instanceof Error && err.name === 'AbortError');
  });

  it('refuses a timeout beyond what one wait may take, in milliseconds', async () => {
    await assert.rejects(client.waitFor({ timeout: 61_000 }), RangeError);
  });

  it('builds the search query from field filters', () => {
    assert.equal(searchQuery({ q: 'a OR b', subject: 'reset', to: 'bob@x.test' }), '(a OR b) subject:"reset" to:"bob@x.test"');
    assert.equal(searchQuery({}), '');
  });
});

describe('mailpen/client: isolated inboxes', () => {
  it('gives each inbox a fresh name and SMTP settings whose AUTH user is the inbox', async () => {
    const a = await client.inbox();
    const b = await client.inbox({ prefix: 'signup' });
    assert.notEqual(a.name, b.name);
    assert.match(b.name, /^signup-[0-9a-z]{18}$/);
    assert.deepEqual(a.smtp, {
      host: '127.0.0.1',
      port: server.smtpPort,
      secure: false,
      auth: { user: a.name, pass: 'mailpen' },
      url: `smtp://${a.name}:mailpen@127.0.0.1:${server.smtpPort}`,
    });
  });

  it('200 inboxes used at once each see only their own mail, with its code', async () => {
    const inboxes = await Promise.all(Array.from({ length: 200 }, () => client.inbox()));
    // Every test sends to the same address with the same subject: only the inbox tells them apart.
    const results = await Promise.all(
      inboxes.map(async (inbox, i) => {
        const waiting = inbox.waitFor({ subject: 'Your code', timeout: 30_000 });
        await sendInto(inbox, { to: 'same@example.test', subject: 'Your code', text: `Your verification code is ${100000 + i}.` });
        return waiting;
      }),
    );
    results.forEach((found, i) => {
      assert.equal(found.inbox, inboxes[i]!.name);
      assert.deepEqual(
        found.codes.map((c) => c.code),
        [String(100000 + i)],
      );
    });
    const lists = await Promise.all(inboxes.map((inbox) => inbox.messages()));
    assert.deepEqual(
      lists.map((l) => l.total),
      inboxes.map(() => 1),
    );
  });

  it('waitFor sees mail sent before the call; waitForCode answers the code; clear empties only that inbox', async () => {
    const mine = await client.inbox();
    const other = await client.inbox();
    await sendInto(mine, { to: 'me@example.test', subject: 'Login', text: 'Your login code: 551234' });
    await sendInto(other, { to: 'me@example.test', subject: 'Login', text: 'Your login code: 999111' });
    assert.equal(await mine.waitForCode({ subject: 'Login' }), '551234');
    assert.equal(await mine.clear(), 1);
    assert.equal((await mine.messages()).total, 0);
    assert.equal((await other.messages()).total, 1);
  });
});

describe('mailpen/client: events', () => {
  it('yields events as an async iterator and resumes by seq after a drop, missing nothing', async () => {
    const sockets: WebSocket[] = [];
    // The platform WebSocket, recorded so the test can cut the connection like a network drop.
    const Recording = class extends WebSocket {
      constructor(url: string, options?: WebSocket.ClientOptions) {
        super(url, options);
        sockets.push(this);
      }
    };
    const watcher = createClient({ baseUrl: server.httpUrl, WebSocket: Recording as unknown as WebSocketConstructor });
    const controller = new AbortController();
    const seen: MailpenEvent[] = [];
    const stream = watcher.events({ inbox: 'client-events', signal: controller.signal, retryDelay: 10 });
    const next = async (type: MailpenEvent['type']): Promise<MailpenEvent> => {
      for (;;) {
        const r = await stream.next();
        if (r.done) throw new Error('the stream ended');
        seen.push(r.value);
        if (r.value.type === type) return r.value;
      }
    };
    await next('hello');
    await client.upload('Subject: first\r\n\r\n1\r\n', { inbox: 'client-events' });
    const first = await next('added');
    assert.equal(first.type === 'added' && first.data.message.subject, 'first');

    // Dropped: two messages arrive while it is away; the stream reconnects with since=<seq>.
    sockets[0]!.terminate();
    await client.upload('Subject: second\r\n\r\n2\r\n', { inbox: 'client-events' });
    await client.upload('Subject: third\r\n\r\n3\r\n', { inbox: 'client-events' });
    const second = await next('added');
    const third = await next('added');
    assert.equal(second.type === 'added' && second.data.message.subject, 'second');
    assert.equal(third.type === 'added' && third.data.message.subject, 'third');
    assert.ok(sockets.length >= 2, 'it reconnected');
    assert.ok(!seen.some((e) => e.type === 'resync'), 'replayed, not resynced');
    const adds = seen.filter((e) => e.type === 'added').map((e) => e.seq);
    assert.deepEqual(adds, [...adds].sort((x, y) => x - y));

    controller.abort();
    assert.deepEqual(await stream.next(), { done: true, value: undefined });
  });
});

describe('mailpen/client: credentials', () => {
  it('sends the token to the API and the event stream, and a refused stream throws instead of retrying', async () => {
    const guarded = await startTestServer({ apiToken: 'sesame' });
    try {
      const WS = WebSocket as unknown as WebSocketConstructor;
      const withToken = createClient({ baseUrl: guarded.httpUrl, token: 'sesame', WebSocket: WS });
      assert.deepEqual(await withToken.inboxes(), []);
      const controller = new AbortController();
      const stream = withToken.events({ signal: controller.signal });
      assert.equal((await stream.next()).value?.type, 'hello');
      controller.abort();
      await stream.next();

      const without = createClient({ baseUrl: guarded.httpUrl, WebSocket: WS });
      await assert.rejects(without.inboxes(), (err: unknown) => err instanceof MailpenError && err.statusCode === 401);
      await assert.rejects(without.events().next(), (err: unknown) => err instanceof MailpenError && err.statusCode === 401);
    } finally {
      await guarded.close();
    }
  });
});
