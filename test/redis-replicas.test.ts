// Several Mailpen replicas sharing one store on Redis (MAILPEN_STORE=redis://..., issue 15), against a
// real redis-server started here on a free port with the append-only file on. Each test has a Redis
// database of its own, except the one that stops Redis, which has a server of its own.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis, type TestRedis } from './helpers/redis.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { startChildServer } from './helpers/child-server.js';
import { Redis } from 'ioredis';
import { LOG_KEY } from '../server/store/redis/log.js';
import { RawSmtp, queuedId, sendRaw, type Reply } from './helpers/smtp-client.js';
import { Frames, ids, json, message, waitFor } from './helpers/replicas.js';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventHub } from '../server/events/hub.js';
import { createLogger } from '../server/log.js';
import { MemoryStore } from '../server/store/memory-store.js';

let redis: TestRedis;
let nextDb = 1;
const servers: TestServer[] = [];

async function replica(db: number, overrides: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
  const server = await startTestServer({ store: redis.url(db), ...overrides });
  servers.push(server);
  return server;
}

before(async () => {
  redis = await startRedis();
});

after(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await redis.destroy();
});

describe('several replicas on one Redis', () => {
  test('mail accepted by one replica is listed, searched, waited for, marked read, tagged and deleted through the others', async () => {
    const db = nextDb++;
    const [a, b, c] = [await replica(db), await replica(db), await replica(db)];
    // A wait on C that is pending before the message exists anywhere.
    const waiting = json(`${c.httpUrl}/api/wait?q=${encodeURIComponent('subject:"first of three"')}&timeout=30`);
    const reply = await sendRaw(a.smtpPort, message(1, 'first of three'));
    assert.equal(reply.code, 250);
    const id = queuedId(reply);
    const waited = await waiting;
    assert.equal(waited.status, 200);
    assert.equal(waited.body.id, id, 'the wait on another replica answers the message with the id SMTP gave');

    await waitFor('B lists it', async () => (await ids(b)).includes(id));
    const found = await json(`${b.httpUrl}/api/messages?q=${encodeURIComponent('subject:"first of three"')}`);
    assert.deepEqual(found.body.messages.map((m: { id: string }) => m.id), [id]);
    const full = await json(`${b.httpUrl}/api/messages/${id}`);
    assert.equal(full.status, 200);
    assert.equal(full.body.subject, 'first of three');
    const raw = await fetch(`${c.httpUrl}/api/messages/${id}/raw`);
    assert.deepEqual(Buffer.from(await raw.arrayBuffer()), message(1, 'first of three'));

    assert.equal((await json(`${b.httpUrl}/api/messages/${id}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"read":true}' })).status, 200);
    await waitFor('A sees it read', async () => (await json(`${a.httpUrl}/api/messages/${id}`)).body.read === true);
    await waitFor('C sees it read', async () => (await json(`${c.httpUrl}/api/messages/${id}`)).body.read === true);

    assert.equal((await json(`${c.httpUrl}/api/messages/${id}/tags`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"tags":["seen-on-c"]}' })).status, 200);
    await waitFor('A sees the tag', async () => (await json(`${a.httpUrl}/api/messages/${id}`)).body.tags?.includes('seen-on-c'));

    assert.deepEqual((await json(`${c.httpUrl}/api/messages/${id}`, { method: 'DELETE' })).body, { deleted: 1 });
    await waitFor('A no longer has it', async () => (await json(`${a.httpUrl}/api/messages/${id}`)).status === 404);
    await waitFor('B no longer has it', async () => (await json(`${b.httpUrl}/api/messages/${id}`)).status === 404);
  });

  test('every search form answers on each replica what one in-memory Mailpen answers for the same mail', async () => {
    const db = nextDb++;
    const [a, b] = [await replica(db), await replica(db)];
    const single = await startTestServer();
    servers.push(single);
    const mail = [
      'From: a@example.test\r\nTo: b@example.test\r\nSubject: plain\r\nX-Custom: yes\r\n\r\nThe quick brown fox jumps over the lazy dog.\r\n',
      'From: a@example.test\r\nTo: b@example.test\r\nSubject: folded\r\n\r\nThe LAZY\r\n  dog, again.\r\n',
      'From: a@example.test\r\nTo: b@example.test\r\nSubject: html\r\nMIME-Version: 1.0\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n<p>a lazy=20dog in html</p>\r\n',
      'From: a@example.test\r\nTo: b@example.test\r\nSubject: attached\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b2\r\n\r\n--b2\r\nContent-Type: text/plain\r\n\r\nsee file.\r\n--b2\r\nContent-Type: application/octet-stream; name=dog.bin\r\nContent-Disposition: attachment; filename=dog.bin\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC\r\n--b2--\r\n',
    ];
    for (const raw of mail) {
      assert.equal((await sendRaw(a.smtpPort, Buffer.from(raw))).code, 250);
      assert.equal((await sendRaw(single.smtpPort, Buffer.from(raw))).code, 250);
    }
    await waitFor('B has them all', async () => (await ids(b)).length === mail.length);
    const subjects = async (server: TestServer, q: string): Promise<string[]> => {
      const { status, body } = await json(`${server.httpUrl}/api/messages?q=${encodeURIComponent(q)}`);
      assert.equal(status, 200, `${q}: ${JSON.stringify(body)}`);
      assert.equal(body.total, body.messages.length);
      return body.messages.map((m: { subject: string }) => m.subject).sort();
    };
    const queries = ['"lazy dog"', '-"lazy dog"', 'dog', '"dog,"', 'header:X-Custom', 'header:X-Custom:yes', 'header:X-Nothing', 'has:attachment', 'lazy OR file', '"."'];
    for (const q of queries) {
      const expected = await subjects(single, q);
      assert.deepEqual(await subjects(a, q), expected, `A: ${q}`);
      assert.deepEqual(await subjects(b, q), expected, `B: ${q}`);
    }
    // And the answers are the ones the language defines, not just equal.
    assert.deepEqual(await subjects(b, '"lazy dog"'), ['folded', 'html', 'plain']);
    assert.deepEqual(await subjects(b, 'has:attachment'), ['attached']);
    assert.deepEqual(await subjects(b, 'header:X-Nothing'), []);
  });

  test("Mailpit's has:inline and the tag counts (/api/tags, Mailpit's Tags) answer on each replica what one in-memory Mailpen answers, after tag changes and deletions", async () => {
    const db = nextDb++;
    const [a, b] = [await replica(db), await replica(db)];
    const single = await startTestServer();
    servers.push(single);
    const mail = [
      // Quotes a Content-ID line in its text: not inline.
      'From: a@example.test\r\nTo: b+quoted@example.test\r\nSubject: quoted\r\nX-Tags: alpha, Beta\r\n\r\nA header pasted into a reply:\r\nContent-ID: <x@y>\r\n',
      // An image shown by cid:, its Content-ID on its part header: inline.
      'From: a@example.test\r\nTo: b@example.test\r\nSubject: inline\r\nX-Tags: alpha\r\nMIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=rel\r\n\r\n--rel\r\nContent-Type: text/html\r\n\r\n<img src="cid:logo@y">\r\n--rel\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\nContent-ID: <logo@y>\r\n\r\niVBORw0KGgo=\r\n--rel--\r\n',
      // An attachment without a Content-ID: not inline.
      'From: a@example.test\r\nTo: b+files@example.test\r\nSubject: attached\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b2\r\n\r\n--b2\r\nContent-Type: text/plain\r\n\r\nsee file.\r\n--b2\r\nContent-Type: application/octet-stream; name=a.bin\r\nContent-Disposition: attachment; filename=a.bin\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC\r\n--b2--\r\n',
      'From: a@example.test\r\nTo: b@example.test\r\nSubject: untagged\r\n\r\nnothing here\r\n',
    ];
    for (const raw of mail) {
      assert.equal((await sendRaw(a.smtpPort, Buffer.from(raw))).code, 250);
      assert.equal((await sendRaw(single.smtpPort, Buffer.from(raw))).code, 250);
    }
    await waitFor('B has them all', async () => (await ids(b)).length === mail.length);
    // The replica answers from its view's shortcuts (tag counts, the MIME shape), as one process does,
    // rather than walking every message for the tags and reading every body for has:inline.
    for (const server of [a, b]) {
      assert.equal(typeof server.store.tagCounts, 'function', 'the replica passes tagCounts to its view');
      assert.equal(typeof server.store.hasInline, 'function', 'the replica passes hasInline to its view');
    }
    const mailpitSubjects = async (server: TestServer, query: string): Promise<string[]> => {
      const { status, body } = await json(`${server.httpUrl}/api/v1/search?query=${encodeURIComponent(query)}`);
      assert.equal(status, 200, `${query}: ${JSON.stringify(body)}`);
      return body.messages.map((m: { Subject: string }) => m.Subject).sort();
    };
    // Every answer that carries tags: Mailpen's counts, and Mailpit's tags, list, search and info.
    const tagAnswers = async (server: TestServer) => ({
      counts: (await json(`${server.httpUrl}/api/tags`)).body.tags,
      mailpitTags: (await json(`${server.httpUrl}/api/v1/tags`)).body,
      mailpitList: (await json(`${server.httpUrl}/api/v1/messages`)).body.tags,
      mailpitSearch: (await json(`${server.httpUrl}/api/v1/search?query=from%3Aexample.test`)).body.tags,
      mailpitInfo: (await json(`${server.httpUrl}/api/v1/info`)).body.Tags,
    });
    const compare = async (when: string, counts: Array<{ name: string; messages: number }>): Promise<void> => {
      const expected = await tagAnswers(single);
      assert.deepEqual(expected.counts, counts, `${when}: the in-memory Mailpen`);
      assert.deepEqual(expected.mailpitTags, counts.map((t) => t.name));
      assert.deepEqual(expected.mailpitInfo, Object.fromEntries(counts.map((t) => [t.name, t.messages])));
      for (const [name, server] of [['A', a], ['B', b]] as const) {
        // Another replica applies a write when it reads it from the log: wait for it to agree.
        let last: unknown;
        await waitFor(`${name} ${when}`, async () => {
          last = await tagAnswers(server);
          return JSON.stringify(last) === JSON.stringify(expected);
        }, 5_000).catch(() => assert.deepEqual(last, expected, `${name}: ${when}`));
      }
    };
    const forms = ['has:inline', '-has:inline', 'has:inlines subject:inline', 'has:attachment', '"Content-ID"'];
    const compareForms = async (when: string): Promise<void> => {
      for (const q of forms) {
        const expected = await mailpitSubjects(single, q);
        assert.deepEqual(await mailpitSubjects(a, q), expected, `A: ${q} (${when})`);
        assert.deepEqual(await mailpitSubjects(b, q), expected, `B: ${q} (${when})`);
      }
      assert.deepEqual(await mailpitSubjects(b, 'has:inline'), ['inline'], `B: has:inline is the part with a Content-ID header (${when})`);
      assert.deepEqual(await mailpitSubjects(b, '-has:inline'), ['attached', 'quoted', 'untagged'], when);
    };
    // Right after the mail (some not indexed yet), and once every replica has indexed it.
    await compareForms('as it arrives');
    await compare('as it arrives', [
      { name: 'alpha', messages: 2 },
      { name: 'Beta', messages: 1 },
      { name: 'files', messages: 1 },
      { name: 'quoted', messages: 1 },
    ]);
    await Promise.all([a, b, single].map((s) => s.store.settled()));
    await compareForms('indexed');

    // The same writes on both sides, by subject (the ids differ): tags set through B, a deletion through A.
    const idOf = async (server: TestServer, subject: string): Promise<string> => {
      const { body } = await json(`${server.httpUrl}/api/messages?q=${encodeURIComponent(`subject:${subject}`)}`);
      assert.equal(body.messages.length, 1, `${subject} on ${server.httpUrl}`);
      return body.messages[0].id;
    };
    const setTags = async (server: TestServer, subject: string, tags: string[]): Promise<void> => {
      const res = await json(`${server.httpUrl}/api/messages/${await idOf(server, subject)}/tags`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tags }) });
      assert.equal(res.status, 200);
    };
    const remove = async (server: TestServer, subject: string): Promise<void> => {
      assert.deepEqual((await json(`${server.httpUrl}/api/messages/${await idOf(server, subject)}`, { method: 'DELETE' })).body, { deleted: 1 });
    };
    await setTags(b, 'untagged', ['gamma', 'alpha']);
    await setTags(single, 'untagged', ['gamma', 'alpha']);
    await setTags(b, 'quoted', []);
    await setTags(single, 'quoted', []);
    await compare('after tag changes', [
      { name: 'alpha', messages: 2 },
      { name: 'files', messages: 1 },
      { name: 'gamma', messages: 1 },
    ]);
    await remove(a, 'inline');
    await remove(single, 'inline');
    await remove(a, 'attached');
    await remove(single, 'attached');
    await compare('after deletions', [
      { name: 'alpha', messages: 1 },
      { name: 'gamma', messages: 1 },
    ]);
    await waitFor('B has the deletions', async () => (await ids(b)).length === 2);
    for (const q of forms) assert.deepEqual(await mailpitSubjects(b, q), await mailpitSubjects(single, q), `B: ${q} after deletions`);
    assert.deepEqual(await mailpitSubjects(b, 'has:inline'), []);
  });

  test('the event stream is one sequence: a client that leaves replica A resumes on replica B by seq with exactly the changes it missed', async () => {
    const db = nextDb++;
    const [a, b, c] = [await replica(db), await replica(db), await replica(db)];
    // C's client stays connected throughout: what every client should have seen, with the same seqs.
    const witness = await Frames.open(c);
    const onA = await Frames.open(a);
    const first = await Promise.all([1, 2, 3].map(async (i) => queuedId(await sendRaw(a.smtpPort, message(`resume-${i}`)))));
    await waitFor('A sends the three added events', () => onA.changes.filter((e) => e.type === 'added').length === 3);
    const hello = onA.frames.find((f) => f.type === 'hello')!;
    const last = onA.frames.at(-1)!;
    await onA.close();

    // Missed: mail through B and C, a read flag on C, a deletion on B, a tag on A.
    const missed = [queuedId(await sendRaw(b.smtpPort, message('resume-4'))), queuedId(await sendRaw(c.smtpPort, message('resume-5')))];
    await waitFor('C has both', async () => (await ids(c)).includes(missed[0]!) && (await ids(c)).includes(missed[1]!));
    await json(`${c.httpUrl}/api/messages/${first[0]}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"read":true}' });
    await waitFor('B sees it read', async () => (await json(`${b.httpUrl}/api/messages/${first[0]}`)).body.read === true);
    await json(`${b.httpUrl}/api/messages/${first[1]}`, { method: 'DELETE' });
    await waitFor('A has the deletion', async () => (await json(`${a.httpUrl}/api/messages/${first[1]}`)).status === 404);
    await json(`${a.httpUrl}/api/messages/${first[2]}/tags`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"tags":["resumed"]}' });
    await waitFor('the witness has seen all of it', () => witness.changes.length >= 3 + 2 + 1 + 1 + 1);

    const resumed = await Frames.open(b, `?since=${last.seq}&epoch=${hello.data.epoch}`);
    await waitFor('B replays and says hello', () => resumed.frames.some((f) => f.type === 'hello'));
    assert.ok(!resumed.frames.some((f) => f.type === 'resync'), JSON.stringify(resumed.frames));
    const expected = witness.changes.filter((e) => e.seq > last.seq);
    assert.deepEqual(
      resumed.changes.map((e) => [e.seq, e.type]),
      expected.map((e) => [e.seq, e.type]),
      'the same changes, with the same seqs, as a client that never left',
    );
    assert.deepEqual(
      resumed.changes.filter((e) => e.type === 'added').map((e) => e.type === 'added' && e.data.message.id),
      missed,
    );
    const seqs = resumed.changes.map((e) => e.seq);
    assert.deepEqual(seqs, [...new Set(seqs)].sort((x, y) => x - y), 'each once, in order');
    // And live from there on B: the next change follows on.
    const next = queuedId(await sendRaw(a.smtpPort, message('resume-6')));
    await waitFor('B sends the next one live', () => resumed.changes.some((e) => e.type === 'added' && e.data.message.id === next));
    await Promise.all([witness.close(), resumed.close()]);
  });

  test('fault rules and routing set through one replica are in force on every replica, and after a restart of them all', async () => {
    const db = nextDb++;
    const [a, b] = [await replica(db), await replica(db)];
    const put = (server: TestServer, path: string, body: unknown) =>
      json(`${server.httpUrl}${path}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const rule = { id: 'no-bob', stage: 'rcpt', match: 'to:bob@example.test', reply: { code: 550, enhanced: '5.1.1', text: 'no such user here' } };
    assert.equal((await put(a, '/api/rules', [rule])).status, 200);
    await waitFor('B refuses bob', async () => (await sendRaw(b.smtpPort, message('to-bob'), { to: ['bob@example.test'] })).code === 550);
    assert.deepEqual((await json(`${b.httpUrl}/api/rules`)).body.rules.map((r: { id: string }) => r.id), ['no-bob']);
    // Switched off on B: A takes mail for bob again.
    assert.equal((await json(`${b.httpUrl}/api/rules/no-bob`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"enabled":false}' })).status, 200);
    await waitFor('A takes bob again', async () => (await sendRaw(a.smtpPort, message('to-bob-2'), { to: ['bob@example.test'] })).code === 250);

    assert.equal((await put(b, '/api/routing', { modes: ['subaddress', 'auth'] })).status, 200);
    await waitFor('A routes by subaddress', async () => (await json(`${a.httpUrl}/api/routing`)).body.modes[0] === 'subaddress');
    const routed = queuedId(await sendRaw(a.smtpPort, message('routed'), { to: ['x+team@example.test'] }));
    await waitFor('B holds it in inbox team', async () => (await json(`${b.httpUrl}/api/messages/${routed}`)).body?.inbox === 'team');

    await Promise.all([a.close(), b.close()]);
    const again = await replica(db);
    assert.deepEqual((await json(`${again.httpUrl}/api/routing`)).body.modes, ['subaddress', 'auth']);
    const rules = (await json(`${again.httpUrl}/api/rules`)).body.rules;
    assert.deepEqual(rules.map((r: { id: string; enabled: boolean }) => [r.id, r.enabled]), [['no-bob', false]]);
  });

  test('a message for two inboxes is one copy in each on every replica, with the ids of the 250', async () => {
    const db = nextDb++;
    const a = await replica(db, { routing: ['subaddress', 'auth'] });
    const b = await replica(db, { routing: ['subaddress', 'auth'] });
    const reply = await sendRaw(a.smtpPort, message('two-inboxes'), { to: ['x+one@example.test', 'y+two@example.test'] });
    assert.equal(reply.code, 250);
    const sent = reply.text.replace(/^.*queued as /, '').split(' ').sort();
    assert.equal(sent.length, 2);
    await waitFor('B holds both copies', async () => JSON.stringify(await ids(b)) === JSON.stringify(sent));
    const inboxes = (await json(`${b.httpUrl}/api/inboxes`)).body;
    assert.ok(JSON.stringify(inboxes).includes('"one"') && JSON.stringify(inboxes).includes('"two"'), JSON.stringify(inboxes));
  });

  test('the limit on messages is global: every replica evicts the same oldest ones, each eviction one event', async () => {
    const db = nextDb++;
    const a = await replica(db, { maxMessages: 5 });
    const b = await replica(db, { maxMessages: 5 });
    const evictedOn = { a: [] as string[][], b: [] as string[][] };
    a.store.subscribe((e) => e.type === 'evicted' && evictedOn.a.push(e.messages.map((m) => m.id)));
    b.store.subscribe((e) => e.type === 'evicted' && evictedOn.b.push(e.messages.map((m) => m.id)));
    const sent: string[] = [];
    for (let i = 0; i < 12; i++) sent.push(queuedId(await sendRaw((i % 2 ? a : b).smtpPort, message(`evict-${i}`))));
    const newest = sent.slice(-5).sort();
    await waitFor('A holds the newest five', async () => JSON.stringify(await ids(a)) === JSON.stringify(newest));
    await waitFor('B holds the newest five', async () => JSON.stringify(await ids(b)) === JSON.stringify(newest));
    const oldest = sent.slice(0, 7).map((id) => [id]);
    assert.deepEqual(evictedOn.a, oldest);
    assert.deepEqual(evictedOn.b, oldest);
    // Redis holds what is held, not everything ever sent: the log is trimmed as mail is evicted,
    // and a replica that starts now catches up to the same five from what is left.
    const redisClient = new Redis(redis.url(db));
    try {
      await waitFor('the log trimmed to the five held', async () => (await redisClient.xlen(LOG_KEY)) <= 5);
    } finally {
      redisClient.disconnect();
    }
    const late = await replica(db, { maxMessages: 5 });
    assert.deepEqual(await ids(late), newest);
    const more = queuedId(await sendRaw(late.smtpPort, message('evict-after-trim')));
    const five = JSON.stringify([...sent.slice(-4), more].sort());
    for (const [name, server] of [['A', a], ['B', b], ['the late one', late]] as const) {
      await waitFor(`${name} holds the newest five`, async () => JSON.stringify(await ids(server)) === five);
    }
  });

  test('deleting everything on one replica while another takes mail leaves every replica, and a new one, with the same messages; the log is trimmed to the clear', async () => {
    const db = nextDb++;
    const a = await replica(db);
    const b = await replica(db);
    let sent = 0;
    let done = false;
    const sender = async (n: number): Promise<void> => {
      for (let i = 0; !done; i++) if ((await sendRaw(a.smtpPort, message(`clear-${n}-${i}`))).code === 250) sent++;
    };
    const senders = [0, 1, 2].map(sender);
    await waitFor('30 sent', () => sent >= 30);
    assert.equal((await json(`${b.httpUrl}/api/messages`, { method: 'DELETE' })).status, 200);
    const mark = sent;
    await waitFor('30 more sent', () => sent >= mark + 30);
    done = true;
    await Promise.all(senders);
    const onA = await waitFor('A and B to agree', async () => {
      const [x, y] = [await ids(a), await ids(b)];
      return JSON.stringify(x) === JSON.stringify(y) && x;
    });
    assert.ok(onA.length > 0 && onA.length < sent, `${onA.length} of ${sent} kept`);
    const late = await replica(db);
    assert.deepEqual(await ids(late), onA);
    const redisClient = new Redis(redis.url(db));
    try {
      // Trimmed in the background, once every live replica has said it read that far.
      await waitFor('the log trimmed to what is held', async () => (await redisClient.xlen(LOG_KEY)) <= onA.length + 1);
    } finally {
      redisClient.disconnect();
    }
  });

  test('a replica refuses to start on a log an earlier Mailpen wrote (stream ids from the clock), saying what to do', async () => {
    const db = nextDb++;
    const admin = new Redis(redis.url(db));
    try {
      await admin.xadd(LOG_KEY, '*', 'm', '{"op":"clear","inbox":null,"origin":{"replica":"old","applied":true}}');
    } finally {
      admin.disconnect();
    }
    await assert.rejects(startTestServer({ store: redis.url(db) }), /written by an earlier Mailpen/);
  });

  test('a replica started later catches up before it serves: its first answer lists every message', async () => {
    const db = nextDb++;
    const a = await replica(db);
    const sent = await Promise.all(Array.from({ length: 30 }, async (_, i) => queuedId(await sendRaw(a.smtpPort, message(`catch-up-${i}`)))));
    await json(`${a.httpUrl}/api/messages/${sent[0]}`, { method: 'DELETE' });
    const late = await replica(db);
    assert.deepEqual(await ids(late), sent.slice(1).sort());
  });

  test('every message that got a 250 is there after the replica that took it is killed with SIGKILL mid-stream', async () => {
    const db = nextDb++;
    const child = await startChildServer([], { MAILPEN_STORE: redis.url(db) });
    // A second replica that stays up: it must hold everything the killed one acknowledged, at once.
    const other = await replica(db);
    const acknowledged: string[] = [];
    // Four senders in parallel; the kill comes while they are still sending.
    let killed = false;
    const sender = async (n: number): Promise<void> => {
      for (let i = 0; !killed; i++) {
        const reply = await sendRaw(child.smtpPort, message(`kill-${n}-${i}`)).catch(() => null);
        if (reply?.code === 250) acknowledged.push(queuedId(reply));
      }
    };
    const senders = [0, 1, 2, 3].map(sender);
    await waitFor('40 acknowledged messages', () => acknowledged.length >= 40);
    child.child.kill('SIGKILL');
    killed = true;
    await Promise.all(senders);
    await waitFor('the child to exit', () => child.exited() !== null);
    const onOther = await waitFor('the other replica to hold every acknowledged message', async () => {
      const held = new Set(await ids(other));
      return acknowledged.every((id) => held.has(id)) && held;
    });
    assert.ok(onOther.size >= acknowledged.length);
    assert.equal((await sendRaw(other.smtpPort, message('after-the-kill'))).code, 250, 'the other replica goes on taking mail');
    const survivor = await replica(db);
    const held = new Set(await ids(survivor));
    const lost = acknowledged.filter((id) => !held.has(id));
    assert.deepEqual(lost, [], `${lost.length} of ${acknowledged.length} acknowledged messages lost`);
  });

  test('a restart of every replica shows the same mail, read flags and deletions as before', async () => {
    const db = nextDb++;
    const a = await replica(db);
    const b = await replica(db);
    const sent = await Promise.all(Array.from({ length: 10 }, async (_, i) => queuedId(await sendRaw((i % 2 ? a : b).smtpPort, message(`restart-${i}`)))));
    await json(`${a.httpUrl}/api/messages/${sent[3]}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"read":true}' });
    await json(`${b.httpUrl}/api/messages/${sent[4]}`, { method: 'DELETE' });
    await waitFor('A has the deletion', async () => (await json(`${a.httpUrl}/api/messages/${sent[4]}`)).status === 404);
    await waitFor('B has the read flag', async () => (await json(`${b.httpUrl}/api/messages/${sent[3]}`)).body.read === true);
    await Promise.all([a.close(), b.close()]);
    const again = await replica(db);
    assert.deepEqual(await ids(again), sent.filter((_, i) => i !== 4).sort());
    assert.equal((await json(`${again.httpUrl}/api/messages/${sent[3]}`)).body.read, true);
    assert.equal((await json(`${again.httpUrl}/api/messages/${sent[5]}`)).body.read, false);
  });
});

/** A store numbered as a shared one is (ReplicatedStore's `events`), by entry, without Redis: the test sets the entry. */
class SharedNumbering extends MemoryStore {
  entry = 0;
  get events(): { seq: number; epoch: string } {
    return { seq: this.entry * 10_000, epoch: 'shared-log' };
  }
}

describe('the event hub on a store shared by replicas', () => {
  test('a client resuming from a seq another replica reached first waits here until this one reaches it, then gets what follows, none twice', async () => {
    const store = new SharedNumbering({ maxMessages: 0, maxBytes: 0 });
    store.entry = 1;
    const hub = new EventHub(store, createLogger({ logLevel: 'silent', logFormat: 'json' }));
    const http = createServer();
    http.on('upgrade', (req, socket, head) => hub.accept(req, socket, head, new URL(req.url ?? '/', 'http://127.0.0.1')));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const envelope = { mailFrom: 'a@example.test', rcptTo: ['b@example.test'], helo: 'test', remoteAddress: '127.0.0.1', authUser: null, tls: false };
    try {
      // The client saw entry 3 on another replica; this one has applied entry 1 only.
      const client = await Frames.open({ http: http.address() as AddressInfo }, '?since=30000&epoch=shared-log');
      const added: string[] = [];
      for (const entry of [2, 3, 4]) {
        store.entry = entry;
        added.push(store.add({ raw: message(`ahead-${entry}`), envelope, inbox: 'default' }).id);
      }
      await waitFor('hello', () => client.frames.some((f) => f.type === 'hello'));
      await waitFor('entry 4', () => client.changes.length > 0);
      assert.ok(!client.frames.some((f) => f.type === 'resync'), JSON.stringify(client.frames));
      assert.deepEqual(client.changes.map((e) => [e.seq, e.type === 'added' && e.data.message.id]), [[40_000, added[2]]]);
      await client.close();
    } finally {
      await hub.close();
      http.close();
    }
  });
});

describe('when Redis is unreachable', () => {
  let own: TestRedis;
  before(async () => {
    own = await startRedis();
  });
  after(async () => {
    await own.destroy();
  });

  test('SMTP answers 451 4.3.0 and keeps the session, the API answers 503 with the reason, /healthz is not ready; after Redis returns the same session delivers and nothing acknowledged is lost', async () => {
    const a = await startTestServer({ store: own.url(0) });
    servers.push(a);
    const before = queuedId(await sendRaw(a.smtpPort, message('before-stop')));

    const { client } = await RawSmtp.connect(a.smtpPort);
    assert.equal((await client.command('EHLO test.example')).code, 250);
    await own.stop();
    await waitFor('healthz not ready', async () => (await json(`${a.httpUrl}/healthz`)).status === 503);
    const health = await json(`${a.httpUrl}/healthz`);
    assert.equal(health.body.status, 'unavailable');
    assert.match(health.body.reason, /Redis/);

    assert.equal((await client.command('MAIL FROM:<s@example.test>')).code, 250);
    assert.equal((await client.command('RCPT TO:<r@example.test>')).code, 250);
    const refused: Reply = await client.data(message('during-stop'));
    assert.equal(refused.code, 451);
    assert.match(refused.text, /^4\.3\.0 /);
    // Counted where an operator looks (the metrics answer from the replica, Redis or not).
    const metrics = await (await fetch(`${a.httpUrl}/metrics`)).text();
    assert.match(metrics, /^mailpen_messages_refused_total\{reason="store_unavailable"\} 1$/m);

    const patch = await json(`${a.httpUrl}/api/messages/${before}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"read":true}' });
    assert.equal(patch.status, 503);
    assert.match(patch.body.message, /Redis/);
    // A rule or routing change is refused too, rather than kept on this replica alone.
    const rules = await json(`${a.httpUrl}/api/rules`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '[]' });
    assert.equal(rules.status, 503);
    const routing = await json(`${a.httpUrl}/api/routing`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"modes":["subaddress"]}' });
    assert.equal(routing.status, 503);
    assert.deepEqual((await json(`${a.httpUrl}/api/routing`)).body.modes, ['auth']);
    // Reads go on from the replica's view.
    assert.equal((await json(`${a.httpUrl}/api/messages/${before}`)).status, 200);

    await own.start();
    await waitFor('healthz ready again', async () => (await json(`${a.httpUrl}/healthz`)).status === 200);
    // The same session, still open, retries and gets its 250.
    assert.equal((await client.command('RSET')).code, 250);
    assert.equal((await client.command('MAIL FROM:<s@example.test>')).code, 250);
    assert.equal((await client.command('RCPT TO:<r@example.test>')).code, 250);
    const retried = await client.data(message('during-stop'));
    assert.equal(retried.code, 250, retried.text);
    await client.quit();

    const fresh = await startTestServer({ store: own.url(0) });
    servers.push(fresh);
    assert.deepEqual(await ids(fresh), [before, queuedId(retried)].sort());
  });

  test('a replica whose Redis comes back without the log (no persistence) says it is not ready instead of serving what Redis lost', async () => {
    const a = await startTestServer({ store: own.url(2) });
    servers.push(a);
    queuedId(await sendRaw(a.smtpPort, message('before-the-loss')));
    const admin = new Redis(own.url(2));
    try {
      // What a Redis restarted without its append-only file looks like to a replica: empty, and a new connection.
      await admin.flushdb();
      await admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
    } finally {
      admin.disconnect();
    }
    // Unreachable for a moment (the connection was cut), then not ready for good, with the reason.
    const health = await waitFor('healthz to say the log was lost', async () => {
      const h = await json(`${a.httpUrl}/healthz`);
      return /lost the shared log/.test(h.body?.reason ?? '') && h;
    });
    assert.equal(health.status, 503);
    const refused = await sendRaw(a.smtpPort, message('after-the-loss'));
    assert.equal(refused.code, 451);
  });

  test('under load, senders that retry on 451 lose nothing acknowledged across a Redis stop and start', async () => {
    const a = await startTestServer({ store: own.url(1) });
    servers.push(a);
    const acknowledged: string[] = [];
    let refusals = 0;
    let done = false;
    const sender = async (n: number): Promise<void> => {
      for (let i = 0; !done; i++) {
        const reply = await sendRaw(a.smtpPort, message(`load-${n}-${i}`)).catch(() => null);
        if (reply?.code === 250) acknowledged.push(queuedId(reply));
        else if (reply?.code === 451) {
          refusals++;
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    };
    const senders = [0, 1, 2].map(sender);
    await waitFor('some acknowledged', () => acknowledged.length >= 20);
    await own.stop();
    await waitFor('a 451', () => refusals > 0);
    await own.start();
    const mark = acknowledged.length;
    await waitFor('acknowledged again after the restart', () => acknowledged.length >= mark + 20);
    done = true;
    await Promise.all(senders);
    const fresh = await startTestServer({ store: own.url(1) });
    servers.push(fresh);
    const held = new Set(await ids(fresh));
    assert.deepEqual(acknowledged.filter((id) => !held.has(id)), []);
  });
});
