// Property tests, each a fixed number of runs (a slow machine takes longer, it does not check
// less): random and mutated input where a sender or an API client controls it. The search language answers a value or a QueryError (a 400), fast; any bytes
// at all can be stored, summarized, scanned and parsed; random and mutated SMTP sessions leave
// the server up and answering. A failure prints fast-check's seed and the shrunk input.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import WebSocket from 'ws';
import fc from 'fast-check';
import { parseQuery, QueryError } from '../server/search/query.js';
import { compileSearch } from '../server/search/match.js';
import { MemoryStore } from '../server/store/memory-store.js';
import { MessageParser } from '../server/mail/parse.js';
import { summarizeHeaders } from '../server/mail/summary.js';
import { scanBody } from '../server/mail/scan.js';
import { loadCorpus } from './helpers/corpus.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { sendRaw, queuedId } from './helpers/smtp-client.js';

const ENVELOPE = { mailFrom: 'a@example.test', rcptTo: ['b@example.test'], helo: 'fuzz', remoteAddress: '127.0.0.1', authUser: null, tls: false };


// ---- the search language -------------------------------------------------------------------

const fieldName = fc.constantFrom('from', 'to', 'cc', 'subject', 'inbox', 'header', 'has', 'is', 'before', 'after', 'larger', 'smaller', 'FROM', 'bogus', '');
const fieldValue = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom('attachment', 'read', 'unread', '2024-01-01', '2024-13-45', 'yesterday', '1700000000000', '10k', '5MB', '1.5GB', '-1', '1e400',
    '99999999999999999999999', 'X-Mailer:', 'Name:value', ':', '"', '\\', '*', '.*', '(?=', '\u0000', '\ud800', '😀'),
);
const term = fc
  .tuple(fc.constantFrom('', '-', '--'), fc.option(fieldName), fieldValue, fc.boolean())
  .map(([neg, field, value, quoted]) => `${neg}${field === null ? '' : `${field}:`}${quoted ? `"${value}"` : value}`);
const queryText = fc.oneof(
  fc.array(fc.oneof(term, fc.constantFrom('OR', 'or', '(', ')', '-(', '""', '"', ' ', '\t', '\n')), { maxLength: 30 }).map((parts) => parts.join(' ')),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.integer({ min: 0, max: 400 }).map((n) => '('.repeat(n) + 'a' + ')'.repeat(n)),
  fc.integer({ min: 0, max: 700 }).map((n) => Array.from({ length: n }, (_, i) => `w${i}`).join(' OR ')),
  fc.integer({ min: 0, max: 1200 }).map((n) => '-'.repeat(n) + 'x'),
);

describe('search language under fuzzing', () => {
  const store = new MemoryStore({ maxMessages: 0, maxBytes: 0 });
  before(() => {
    for (const m of loadCorpus().slice(0, 60)) store.add({ raw: m.raw, inbox: 'default', envelope: ENVELOPE });
  });

  it('parses to a query or a QueryError with a reason, never anything else, and fast', () => {
    let slowest = 0;
    fc.assert(
      fc.property(queryText, (q) => {
        const started = performance.now();
        try {
          parseQuery(q);
        } catch (err) {
          if (!(err instanceof QueryError)) throw err;
          assert.ok(err.message.length > 0);
        }
        slowest = Math.max(slowest, performance.now() - started);
      }),
      { numRuns: 5000 },
    );
    // Catastrophic backtracking takes seconds on inputs this size; a GC pause or a busy machine
    // takes tens of milliseconds. The bound is between the two, so it never flakes.
    assert.ok(slowest < 1000, `slowest parse took ${slowest.toFixed(1)} ms`);
  });

  it('compiles and runs any query that parses over real messages without throwing', () => {
    const messages: Parameters<ReturnType<typeof compileSearch>>[0][] = [];
    store.forEachNewest((m) => {
      messages.push(m);
    });
    fc.assert(
      fc.property(queryText, (q) => {
        let predicate;
        try {
          predicate = compileSearch(q, store);
        } catch (err) {
          if (err instanceof QueryError) return;
          throw err;
        }
        for (const m of messages) assert.equal(typeof predicate(m), 'boolean');
      }),
      { numRuns: 1500 },
    );
  });
});

describe('API query parameters under fuzzing', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
    for (const m of loadCorpus().slice(0, 30)) server.store.add({ raw: m.raw, inbox: 'default', envelope: ENVELOPE });
  });
  after(() => server.close());

  it('answers list (fuzzed q, limit, cursor and offset), delete-by-query and wait with 2xx or a 4xx reason, never a 5xx', async () => {
    const total = server.store.counts().messages;
    const param = fc.oneof(queryText, fc.string({ maxLength: 30 }), fc.constantFrom('-1', '0', '1e9', 'NaN', '', '[]', '{}', '%', '%zz'));
    await fc.assert(
      fc.asyncProperty(queryText, param, param, async (q, limit, other) => {
        const qs = (o: Record<string, string>): string => new URLSearchParams(o).toString();
        for (const paging of [{ cursor: other }, { offset: other }] as Array<Record<string, string>>) {
          const list = await server.app.inject({ url: `/api/messages?${qs({ q, limit, ...paging })}` });
          assert.ok(list.statusCode === 200 || list.statusCode === 400, `list ${list.statusCode} ${list.body.slice(0, 200)}`);
          if (list.statusCode === 400) assert.ok(list.json<{ message: string }>().message.length > 0);
        }
        // Scoped to an inbox with no mail, so a query that parses deletes nothing either.
        const del = await server.app.inject({ method: 'DELETE', url: `/api/messages?${qs({ q, inbox: 'nobody-here' })}` });
        assert.ok(del.statusCode < 500, `delete ${del.statusCode} ${del.body.slice(0, 200)}`);
        const wait = await server.app.inject({ url: `/api/wait?${qs({ q, timeout: '0', after: other })}` });
        assert.ok(wait.statusCode < 500 || wait.statusCode === 503, `wait ${wait.statusCode} ${wait.body.slice(0, 200)}`);
      }),
      { numRuns: 400 },
    );
    assert.equal(server.store.counts().messages, total, 'no fuzzed query deleted anything');
  });
});

// ---- message handling ----------------------------------------------------------------------

/** Pieces that steer a mutation into the MIME and header code paths rather than plain text. */
const SPICE = [
  '\r\n\r\n', '\n', '\r', '--', '--b\r\n', 'Content-Type: multipart/mixed; boundary=b\r\n', 'Content-Type: message/rfc822\r\n',
  'Content-Transfer-Encoding: base64\r\n', 'Content-Transfer-Encoding: quoted-printable\r\n', '=?utf-8?b?', '=?x?q?=ff?=', '?=', '=\r\n', '=XY',
  'charset="utf-7"', "filename*0*=utf-8''%", '\u0000', '\u00ff', ' \t', ': ', 'From: <', '>', '"', ';', '\\',
].map((s) => Buffer.from(s, 'latin1'));

function mutate(raw: Buffer, ops: Array<[number, number, number]>): Buffer {
  let out = raw;
  for (const [kind, at, n] of ops) {
    const pos = out.length === 0 ? 0 : at % (out.length + 1);
    switch (kind % 5) {
      case 0: // flip a byte
        if (out.length > 0) {
          out = Buffer.from(out);
          out[pos % out.length] = n & 0xff;
        }
        break;
      case 1: // truncate
        out = out.subarray(0, pos);
        break;
      case 2: // insert a spice
        out = Buffer.concat([out.subarray(0, pos), SPICE[n % SPICE.length]!, out.subarray(pos)]);
        break;
      case 3: // duplicate a slice
        out = Buffer.concat([out.subarray(0, pos), out.subarray(pos, pos + (n % 4096)), out.subarray(pos)]);
        break;
      default: // drop a slice
        out = Buffer.concat([out.subarray(0, pos), out.subarray(pos + (n % 512))]);
    }
  }
  return out;
}

describe('message handling under fuzzing', () => {
  const corpus = loadCorpus();
  const parser = new MessageParser({ workers: 2, timeoutMs: 5000 });
  after(() => parser.close());
  const mutated = fc
    .tuple(fc.nat({ max: corpus.length - 1 }), fc.array(fc.tuple(fc.nat(), fc.nat(), fc.nat()), { minLength: 1, maxLength: 8 }))
    .map(([i, ops]) => mutate(corpus[i]!.raw, ops));
  const randomBytes = fc.uint8Array({ maxLength: 4096 }).map((a) => Buffer.from(a));
  const spiced = fc.array(fc.oneof(fc.constantFrom(...SPICE), fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a))), { maxLength: 60 }).map((parts) => Buffer.concat(parts));
  const anyMessage = fc.oneof(mutated, randomBytes, spiced);

  it('stores, summarizes and scans any bytes without throwing', () => {
    const store = new MemoryStore({ maxMessages: 500, maxBytes: 0 });
    fc.assert(
      fc.property(anyMessage, (raw) => {
        const m = store.add({ raw, inbox: 'default', envelope: ENVELOPE });
        const summary = store.summary(m);
        assert.equal(summary.size, raw.length);
        assert.ok(Array.isArray(summary.problems));
        summarizeHeaders(raw);
        scanBody(raw);
      }),
      { numRuns: 3000 },
    );
  });

  it('parses any bytes fully (in the workers), never rejecting', async () => {
    await fc.assert(
      fc.asyncProperty(anyMessage, async (raw) => {
        const parsed = await parser.parse(raw);
        assert.ok(Array.isArray(parsed.headers));
        assert.ok(Array.isArray(parsed.parts));
        for (const p of parsed.parts) assert.match(p.partId, /^[0-9.]+$/);
      }),
      { numRuns: 400 },
    );
  });
});

// ---- SMTP sessions -------------------------------------------------------------------------

const VERBS = ['HELO', 'EHLO', 'MAIL FROM:', 'RCPT TO:', 'DATA', 'RSET', 'NOOP', 'VRFY', 'EXPN', 'HELP', 'AUTH PLAIN', 'AUTH LOGIN', 'AUTH CRAM-MD5', 'STARTTLS', 'BDAT 10', 'XCLIENT', 'XFORWARD', 'QUIT', ''];
const smtpArg = fc.oneof(
  fc.constantFrom('<a@example.test>', '<>', '<@relay:a@b>', '<"quoted local"@example.test>', 'a@example.test', '<a@[127.0.0.1]>', '<a@b> SIZE=99999999999', '<a@b> BODY=8BITMIME SMTPUTF8', '<ünï@é.test>', 'AGE6YQ==', '*'),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.nat({ max: 20_000 }).map((n) => 'x'.repeat(n)),
);
const line = fc.oneof(
  fc.tuple(fc.constantFrom(...VERBS), smtpArg).map(([v, a]) => `${v}${v.endsWith(':') ? '' : ' '}${a}`),
  fc.string({ unit: 'binary', maxLength: 100 }),
  fc.constantFrom('.', '..', '.\r', '\u0000', 'Subject: x', ''),
);
const session = fc.array(line, { minLength: 1, maxLength: 40 });

/** Writes a session's lines after the greeting (pipelined, line endings varied), then waits for close or gives up. */
function runSession(port: number, lines: string[], endings: string[]): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    };
    const timer = setTimeout(done, 1500);
    socket.on('error', done);
    socket.on('close', done);
    // After the greeting: smtp-server drops clients that talk first, which would test nothing else.
    socket.once('data', () => {
      const body = lines.map((l, i) => l + endings[i % endings.length]).join('');
      // Leave DATA if a session entered it, then leave.
      // Half-close after it: the server sees the end of input as a client would send it.
      socket.end(Buffer.from(body + '\r\n.\r\nQUIT\r\n', 'utf8'));
      socket.on('data', () => undefined);
    });
  });
}

describe('SMTP sessions under fuzzing', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ maxConnections: 50 });
  });
  after(() => server.close());

  it('survives random and mutated sessions, and still takes mail and answers HTTP', async () => {
    let sessions = 0;
    await fc.assert(
      fc.asyncProperty(
        // Four sessions at once: concurrency is part of what a server must survive.
        fc.array(
          fc.tuple(
            fc.oneof(
              session,
              // A well-formed transaction with one line mutated: close to what real clients get wrong.
              fc.tuple(fc.nat({ max: 6 }), line).map(([i, l]) => {
                const good = ['EHLO fuzz', 'MAIL FROM:<a@example.test>', 'RCPT TO:<b@example.test>', 'DATA', 'Subject: fuzz', '', 'body'];
                good[i] = l;
                return good;
              }),
            ),
            fc.array(fc.constantFrom('\r\n', '\n', '\r', '\r\r\n'), { minLength: 1, maxLength: 3 }),
          ),
          { minLength: 4, maxLength: 4 },
        ),
        async (batch) => {
          sessions += batch.length;
          await Promise.all(batch.map(([lines, endings]) => runSession(server.smtpPort, lines, endings)));
        },
      ),
      { numRuns: 100 },
    );
    assert.ok(sessions >= 40, `only ${sessions} sessions ran`);

    const reply = await sendRaw(server.smtpPort, Buffer.from('Subject: after the fuzz\r\n\r\nstill taking mail\r\n'));
    assert.equal(reply.code, 250);
    const id = queuedId(reply);
    const health = await fetch(`${server.httpUrl}/healthz`);
    assert.equal(health.status, 200);
    // Everything the sessions managed to store is served without a 5xx.
    const list = (await (await fetch(`${server.httpUrl}/api/messages?limit=1000`)).json()) as { messages: Array<{ id: string }> };
    assert.ok(list.messages.some((m) => m.id === id));
    for (const m of list.messages) {
      for (const path of ['', '/raw', '/links']) {
        const res = await fetch(`${server.httpUrl}/api/messages/${m.id}${path}`);
        assert.ok(res.status < 500, `${path || 'get'} ${m.id}: ${res.status}`);
        await res.arrayBuffer();
      }
    }
  });
});

describe('event-stream clients under fuzzing', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it('survives garbage after the upgrade and garbage upgrades, and a well-behaved client keeps receiving', async () => {
    const watcher = new WebSocket(`ws://127.0.0.1:${server.http.port}/api/events`);
    const frames: string[] = [];
    watcher.on('message', (data: Buffer) => frames.push(data.toString()));
    await new Promise((resolve) => watcher.once('open', resolve));

    const upgrade = (extra: string): string =>
      `GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:${server.http.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${extra}\r\n`;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          // A valid handshake, then random bytes as frames (unmasked, oversized, bad opcodes...).
          fc.uint8Array({ minLength: 1, maxLength: 9000 }).map((b) => Buffer.concat([Buffer.from(upgrade('')), Buffer.from(b)])),
          // A handshake with random extra headers or a broken key.
          fc.string({ unit: 'binary', maxLength: 200 }).map((h) => Buffer.from(upgrade(`X-Fuzz: ${h.replace(/[\r\n]/g, ' ')}\r\n`), 'latin1')),
          fc.string({ unit: 'binary', maxLength: 300 }).map((h) => Buffer.from(`GET /api/events HTTP/1.1\r\nUpgrade: websocket\r\n${h}\r\n\r\n`, 'latin1')),
        ),
        (bytes) =>
          new Promise<void>((resolve) => {
            const socket = net.connect({ port: server.http.port, host: '127.0.0.1' }, () => socket.end(bytes));
            const timer = setTimeout(() => socket.destroy(), 1000);
            socket.on('data', () => undefined);
            socket.on('error', () => undefined);
            socket.on('close', () => {
              clearTimeout(timer);
              resolve();
            });
          }),
      ),
      { numRuns: 150 },
    );

    const reply = await sendRaw(server.smtpPort, Buffer.from('Subject: after the websocket fuzz\r\n\r\nok\r\n'));
    const id = queuedId(reply);
    const deadline = Date.now() + 5000;
    while (!frames.some((f) => f.includes(id)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(frames.some((f) => f.includes(`"type":"added"`) && f.includes(id)), 'the watcher got the new message');
    watcher.close();
  });
});
