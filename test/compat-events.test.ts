// Mailpit compatibility (issue 12), the parts around the API: Mailpit's WebSocket frames on
// /api/events beside Mailpen's own (which a client gets, asked or not), asserting what
// mailpit-api's end-to-end suite asserts of mailpit-ws events; and Mailpit's and MailHog's
// environment variables, read by the real `mailpen` command.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import WebSocket from 'ws';
import { MailpitClient } from 'mailpit-api';
import { startTestServer, type TestServer } from './helpers/server.js';
import { assertShape, type Template } from './helpers/shape.js';
import { applyCompatEnv } from '../server/compat-env.js';

interface Frame {
  [key: string]: unknown;
}

/** A WebSocket client that keeps every frame and waits for the next one that matches. */
async function listen(url: string): Promise<{ next(match: (f: Frame) => boolean): Promise<Frame>; frames: Frame[]; close(): void }> {
  const ws = new WebSocket(url);
  const frames: Frame[] = [];
  const waiters: Array<{ match: (f: Frame) => boolean; resolve: (f: Frame) => void; from: number }> = [];
  let read = 0;
  ws.on('message', (data) => {
    frames.push(JSON.parse(String(data)) as Frame);
    for (const w of [...waiters]) {
      const i = frames.findIndex((f, n) => n >= w.from && w.match(f));
      if (i >= 0) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(frames[i]!);
      }
    }
  });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  return {
    frames,
    // Frames are consumed in order: each wait starts after the last frame a wait returned.
    next(match) {
      return new Promise((resolve) => {
        const i = frames.findIndex((f, n) => n >= read && match(f));
        const done = (f: Frame): void => {
          read = frames.indexOf(f) + 1;
          resolve(f);
        };
        if (i >= 0) return done(frames[i]!);
        waiters.push({ match, resolve: done, from: read });
      });
    },
    close: () => ws.close(),
  };
}

const address = { Address: String, Name: String };
const newData: Template = {
  Attachments: Number,
  Bcc: [],
  Cc: [],
  Created: String,
  From: address,
  ID: String,
  MessageID: String,
  Read: false,
  ReplyTo: [],
  Size: Number,
  Snippet: String,
  Subject: 'Event test',
  Tags: [],
  To: [address],
  Username: '',
};
const stats = (total: Template, unread: Template): Template => ({ Type: 'stats', Data: { Total: total, Unread: unread, Version: String } });
const ofType = (type: string) => (f: Frame) => f.Type === type;
const send = { From: { Email: 'a@example.test', Name: 'A' }, To: [{ Email: 'b@example.test', Name: 'B' }], Subject: 'Event test', Text: 'hello' };

describe('/api/events on a default server (MAILPEN_EVENTS_FORMAT=mailpen)', () => {
  let server: TestServer;
  let mailpit: MailpitClient;
  before(async () => {
    server = await startTestServer();
    mailpit = new MailpitClient(server.httpUrl);
  });
  after(() => server.close());
  const ws = (query = ''): string => `${server.httpUrl.replace('http', 'ws')}/api/events${query}`;

  it("a client that asks nothing gets Mailpen's frames, as before", async () => {
    const client = await listen(ws());
    assert.equal((await client.next(() => true)).type, 'hello');
    client.close();
  });

  it("?format=mailpit gets Mailpit's frames for new, update, delete and truncate, each followed by stats", async () => {
    const client = await listen(ws('?format=mailpit'));
    const { ID } = await mailpit.sendMessage(send);
    assertShape(await client.next(ofType('new')), { Type: 'new', Data: { ...(newData as object), ID } as Template });
    assertShape(await client.next(ofType('stats')), stats(1, 1));

    assert.equal(await mailpit.setReadStatus({ IDs: [ID], Read: true }), 'ok');
    assert.deepEqual(await client.next(ofType('update')), { Type: 'update', Data: { ID, Read: true } });
    assertShape(await client.next(ofType('stats')), stats(1, 0));

    assert.equal(await mailpit.setTags({ IDs: [ID], Tags: ['test-tag'] }), 'ok');
    assert.deepEqual(await client.next(ofType('update')), { Type: 'update', Data: { ID, Tags: ['test-tag'] } });

    const second = (await mailpit.sendMessage(send)).ID;
    await client.next(ofType('new'));
    assert.equal(await mailpit.deleteMessages({ IDs: [second] }), 'ok');
    assert.deepEqual(await client.next(ofType('delete')), { Type: 'delete', Data: { ID: second } });
    assertShape(await client.next(ofType('stats')), stats(1, Number));

    assert.equal(await mailpit.deleteMessages(), 'ok');
    assert.deepEqual(await client.next(ofType('truncate')), { Type: 'truncate', Data: null });
    assertShape(await client.next(ofType('stats')), stats(0, 0));
    assert.ok(client.frames.every((f) => typeof f.Type === 'string' && !('type' in f)), 'no Mailpen frame on a Mailpit connection');
    client.close();
  });

  it("Mailpen's own frames carry tags: in an added message's summary and in updated", async () => {
    const client = await listen(ws('?format=mailpen'));
    await client.next((f) => f.type === 'hello');
    const { ID } = await mailpit.sendMessage({ ...send, Tags: ['Signup'] });
    const added = (await client.next((f) => f.type === 'added')) as { data: { message: { id: string; tags: string[] } } };
    assert.deepEqual([added.data.message.id, added.data.message.tags], [ID, ['Signup']]);
    server.store.setTags(ID, ['Signup', 'Checked']);
    const updated = (await client.next((f) => f.type === 'updated')) as { data: unknown };
    assert.deepEqual(updated.data, { id: ID, inbox: 'default', read: false, tags: ['Checked', 'Signup'] });
    client.close();
  });

  it("Mailpit's and MailHog's WebSockets pass the same upgrade gate: another site's Origin is refused 403", async () => {
    for (const url of [ws('?format=mailpit'), `${server.httpUrl.replace('http', 'ws')}/api/v2/websocket`]) {
      const status = await new Promise<number>((resolve) => {
        const foreign = new WebSocket(url, { headers: { origin: 'https://evil.example' } });
        foreign.on('unexpected-response', (_req, response) => resolve(response.statusCode ?? 0));
        foreign.on('open', () => resolve(101));
        foreign.on('error', () => {});
      });
      assert.equal(status, 403, url);
    }
  });

  it('a format that is neither is refused with 400 and the reason', async () => {
    const res = await new Promise<number>((resolve) => {
      const bad = new WebSocket(ws('?format=mailhog'));
      bad.on('unexpected-response', (_req, response) => resolve(response.statusCode ?? 0));
      bad.on('error', () => {});
    });
    assert.equal(res, 400);
  });
});

describe('/api/events with MAILPEN_EVENTS_FORMAT=mailpit', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ eventsFormat: 'mailpit' });
  });
  after(() => server.close());
  const ws = (query = ''): string => `${server.httpUrl.replace('http', 'ws')}/api/events${query}`;

  it("a client that asks nothing (as mailpit-ws) gets Mailpit's frames", async () => {
    const client = await listen(ws());
    const { ID } = await new MailpitClient(server.httpUrl).sendMessage(send);
    assertShape(await client.next(ofType('new')), { Type: 'new', Data: { ...(newData as object), ID } as Template });
    client.close();
  });

  it("Mailpen's clients, which ask for format=mailpen, still get Mailpen's frames", async () => {
    const client = await listen(ws('?format=mailpen'));
    assert.equal((await client.next(() => true)).type, 'hello');
    client.close();
  });
});

describe("Mailpit's and MailHog's environment variables", () => {
  it('are read as the Mailpen settings they alias; a MAILPEN_ variable wins; others are named in warnings', () => {
    const { env, warnings } = applyCompatEnv({
      MP_UI_BIND_ADDR: '0.0.0.0:8025',
      MP_SMTP_BIND_ADDR: '0.0.0.0:1025',
      MP_MAX_MESSAGES: '5000',
      MAILPEN_MAX_MESSAGES: '7',
      MP_UI_AUTH: 'alice:one bob:two',
      MP_SMTP_AUTH_ACCEPT_ANY: 'true',
      MP_SMTP_REQUIRE_STARTTLS: 'true',
      MP_CHAOS_TRIGGERS: 'Sender:451:50',
      MP_ENABLE_CHAOS: 'true',
      MP_WEBHOOK_URL: 'http://hooks.example.test/mail',
      MP_DATABASE: '/data/mailpit.db',
      MP_NO_SUCH_THING: 'x',
      MH_STORAGE: 'memory',
    });
    assert.equal(env.MAILPEN_HTTP_ADDR, '0.0.0.0:8025');
    assert.equal(env.MAILPEN_SMTP_ADDR, '0.0.0.0:1025');
    assert.equal(env.MAILPEN_MAX_MESSAGES, '7', 'the Mailpen variable wins');
    assert.equal(env.MAILPEN_UI_AUTH, 'alice:one,bob:two');
    assert.equal(env.MAILPEN_SMTP_AUTH, 'optional');
    assert.equal(env.MAILPEN_SMTP_STARTTLS, 'required');
    assert.equal(env.MAILPEN_CHAOS_TRIGGERS, 'Sender:451:50');
    assert.equal(env.MAILPEN_WEBHOOK_URLS, 'http://hooks.example.test/mail');
    assert.deepEqual(warnings.sort(), [
      'MP_DATABASE is ignored: Mailpen keeps mail in memory only',
      'MP_MAX_MESSAGES is ignored: MAILPEN_MAX_MESSAGES is set and wins',
      'MP_NO_SUCH_THING is ignored: Mailpen has no such setting',
      "MP_WEBHOOK_URL read as MAILPEN_WEBHOOK_URLS: the POST body is Mailpen's message summary, not Mailpit's",
    ]);
  });

  it('MailHog: bind addresses, MH_STORAGE=memory accepted, another storage warned', () => {
    const { env, warnings } = applyCompatEnv({ MH_SMTP_BIND_ADDR: '0.0.0.0:1025', MH_API_BIND_ADDR: '0.0.0.0:8025', MH_UI_BIND_ADDR: '0.0.0.0:8025', MH_STORAGE: 'mongodb' });
    assert.equal(env.MAILPEN_SMTP_ADDR, '0.0.0.0:1025');
    assert.equal(env.MAILPEN_HTTP_ADDR, '0.0.0.0:8025');
    assert.deepEqual(warnings, ['MH_STORAGE is ignored: Mailpen keeps mail in memory only (MH_STORAGE=memory is accepted)']);
    // The image sets MAILPEN_HTTP_ADDR=0.0.0.0:8025: an alias with the same value is no conflict to warn about.
    assert.deepEqual(applyCompatEnv({ MAILPEN_HTTP_ADDR: '0.0.0.0:8025', MH_API_BIND_ADDR: '0.0.0.0:8025' }).warnings, []);
    assert.deepEqual(applyCompatEnv({ MAILPEN_HTTP_ADDR: '0.0.0.0:8025', MH_API_BIND_ADDR: '0.0.0.0:9000' }).warnings, ['MH_API_BIND_ADDR is ignored: MAILPEN_HTTP_ADDR is set and wins']);
    const split = applyCompatEnv({ MH_API_BIND_ADDR: '0.0.0.0:8025', MH_UI_BIND_ADDR: '0.0.0.0:8026' });
    assert.equal(split.env.MAILPEN_HTTP_ADDR, '0.0.0.0:8025');
    assert.match(split.warnings[0]!, /MH_UI_BIND_ADDR is ignored: MH_API_BIND_ADDR already set MAILPEN_HTTP_ADDR/);
  });

  it('the mailpen command started with Mailpit variables listens where they say, asks for MP_UI_AUTH and names the ignored ones', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/cli.ts'], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: {
        ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(MAILPEN|MP|MH)_/.test(k))),
        MP_SMTP_BIND_ADDR: '127.0.0.1:0',
        MP_UI_BIND_ADDR: '127.0.0.1:0',
        MP_UI_AUTH: 'alice:secret',
        MP_MAX_MESSAGES: '3',
        MP_DATABASE: '/data/mailpit.db',
        MP_CHAOS_TRIGGERS: 'Recipient:452:100',
        MAILPEN_LOG_FORMAT: 'json',
      },
    });
    const logs: Array<Record<string, unknown>> = [];
    const ready = new Promise<Record<string, unknown>>((resolve) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        if (entry.msg === 'Mailpen is listening') resolve(entry);
      });
    });
    try {
      const listening = await ready;
      const http = String(listening.http);
      assert.match(http, /^http:\/\/127\.0\.0\.1:\d+\/$/);
      assert.ok(logs.some((l) => l.level === 40 && l.msg === 'MP_DATABASE is ignored: Mailpen keeps mail in memory only'), 'a warning names MP_DATABASE');
      assert.equal((await fetch(new URL('/api/v1/info', http))).status, 401);
      const auth = { authorization: `Basic ${Buffer.from('alice:secret').toString('base64')}` };
      assert.equal((await fetch(new URL('/api/v1/info', http), { headers: auth })).status, 200);
      const chaos = (await (await fetch(new URL('/api/v1/chaos', http), { headers: auth })).json()) as { Recipient: { ErrorCode: number; Probability: number } };
      assert.deepEqual(chaos.Recipient, { ErrorCode: 452, Probability: 100 });
      const info = (await (await fetch(new URL('/api/info', http), { headers: auth })).json()) as { limits: { maxMessages: number } };
      assert.equal(info.limits.maxMessages, 3);
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  });
});
