// Every bound on what a sender or a client controls gives a clear answer. Past a structural
// bound a message is still stored, and shown raw with the reason; past a resource bound the
// client gets a protocol error (SMTP reply, HTTP status with the JSON error shape).
// Message size (552), recipients (452), connections (421) and idle time are in smtp.test.ts;
// parse time in parse-pool.test.ts; pending waits in security.test.ts.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { startTestServer, type TestServer } from './helpers/server.js';
import { RawSmtp, sendRaw, queuedId } from './helpers/smtp-client.js';
import { MAX_HEADER_BLOCK } from '../server/mail/headers.js';
import { MAX_DEPTH, MAX_PARTS } from '../server/mail/scan.js';
import { MAX_SUMMARY_ADDRESSES, MAX_SUMMARY_SUBJECT } from '../server/mail/summary.js';

interface Detail {
  problems: string[];
  headers: Array<{ name: string; value: string }>;
  text: string | null;
  parts: unknown[];
}

describe('limits on what a sender controls', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ maxMessageSize: 8 * 1024 * 1024, maxEventClients: 2 });
  });
  after(() => server.close());

  async function detail(id: string): Promise<Detail> {
    const res = await fetch(`${server.httpUrl}/api/messages/${id}`);
    assert.equal(res.status, 200);
    return (await res.json()) as Detail;
  }

  it(`stores a message whose header block passes ${MAX_HEADER_BLOCK / 1024 / 1024} MB and shows it raw with the reason`, async () => {
    const raw = Buffer.from(`Subject: huge headers\r\n${'X-Filler: abcdefghijklmnopqrstuvwxyz0123456789\r\n'.repeat(Math.ceil(MAX_HEADER_BLOCK / 40))}\r\nthe body\r\n`);
    assert.ok(raw.length > MAX_HEADER_BLOCK);
    const reply = await sendRaw(server.smtpPort, raw);
    assert.equal(reply.code, 250);
    const d = await detail(queuedId(reply));
    assert.ok(d.problems.some((p) => /header/i.test(p) && /shown raw|not read|larger/i.test(p)), d.problems.join('; '));
    const rawRes = await fetch(`${server.httpUrl}/api/messages/${queuedId(reply)}/raw`);
    assert.equal(Buffer.from(await rawRes.arrayBuffer()).length, raw.length, 'the bytes are all kept');
  });

  it(`stores a message with more than ${MAX_PARTS} MIME parts and says the rest were not read`, async () => {
    let body = 'Subject: many parts\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n';
    for (let i = 0; i < MAX_PARTS + 200; i++) body += `--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=p${i}\r\n\r\nx\r\n`;
    body += '--b--\r\n';
    const reply = await sendRaw(server.smtpPort, Buffer.from(body));
    assert.equal(reply.code, 250);
    const id = queuedId(reply);
    const summary = (await (await fetch(`${server.httpUrl}/api/messages?q=subject:"many parts"`)).json()) as { messages: Array<{ id: string; problems: string[]; attachments: number }> };
    const row = summary.messages.find((m) => m.id === id)!;
    assert.ok(row.problems.some((p) => p.includes(`more than ${MAX_PARTS} MIME parts`)), row.problems.join('; '));
    assert.ok(row.attachments <= MAX_PARTS);
    const d = await detail(id);
    assert.ok(d.problems.some((p) => /shown raw/.test(p)), d.problems.join('; '));
    assert.ok((d.text ?? '').includes('--b'), 'the raw body is shown');
  });

  it(`stores a message nested deeper than ${MAX_DEPTH} and says inner parts were not read`, async () => {
    const depth = MAX_DEPTH + 30;
    let body = 'Subject: deep\r\n';
    for (let i = 0; i < depth; i++) body += `Content-Type: multipart/mixed; boundary=d${i}\r\n\r\n--d${i}\r\n`;
    body += 'Content-Type: text/plain\r\n\r\ninnermost\r\n';
    for (let i = depth - 1; i >= 0; i--) body += `--d${i}--\r\n`;
    const reply = await sendRaw(server.smtpPort, Buffer.from(body));
    assert.equal(reply.code, 250);
    const list = (await (await fetch(`${server.httpUrl}/api/messages?q=subject:deep`)).json()) as { messages: Array<{ id: string; problems: string[] }> };
    const row = list.messages.find((m) => m.id === queuedId(reply))!;
    assert.ok(row.problems.some((p) => p.includes(`nesting deeper than ${MAX_DEPTH}`)), row.problems.join('; '));
    const d = await detail(queuedId(reply));
    assert.ok(Array.isArray(d.parts));
  });

  it('keeps list rows, events and search fields small whatever the header values, and the full view whole', async () => {
    const subject = `Long subject ${'word '.repeat(40_000)}end`;
    const to = Array.from({ length: MAX_SUMMARY_ADDRESSES + 500 }, (_, i) => `r${i}@example.test`).join(', ');
    const raw = Buffer.from(`Subject: ${subject}\r\nTo: ${to}\r\nCc: "${'N'.repeat(70_000)}" <a@example.test>\r\n\r\nbody\r\n`);
    const reply = await sendRaw(server.smtpPort, raw);
    assert.equal(reply.code, 250);
    const id = queuedId(reply);
    const list = (await (await fetch(`${server.httpUrl}/api/messages?q=${encodeURIComponent('subject:"Long subject word"')}`)).json()) as {
      messages: Array<{ id: string; subject: string; to: unknown[]; cc: unknown[]; problems: string[] }>;
    };
    const row = list.messages.find((m) => m.id === id)!;
    assert.ok(row, 'found by its subject');
    assert.equal(row.subject.length, MAX_SUMMARY_SUBJECT);
    assert.equal(row.to.length, MAX_SUMMARY_ADDRESSES);
    // A 70,000-character name is cut, not carried whole, and never dropped (a dropped From left
    // a message with no sender that no list could show).
    assert.deepEqual(row.cc, [{ name: 'N'.repeat(1024), address: 'a@example.test' }]);
    assert.ok(row.problems.some((p) => /Subject is \d+ characters/.test(p)), row.problems.join('; '));
    assert.ok(row.problems.some((p) => /To: lists and search keep 1000 of its 1500 addresses/.test(p)), row.problems.join('; '));
    assert.ok(row.problems.some((p) => /Cc: a name or address of 70000 characters; lists and search keep the first 1024/.test(p)), row.problems.join('; '));
    const d = await detail(id);
    assert.equal(d.headers.find((h) => h.name === 'Subject')?.value, subject, 'the full view keeps the whole value');
  });

  it('closes a session whose command line passes 16 KB with 421 and goes on serving others', async () => {
    const { client } = await RawSmtp.connect(server.smtpPort);
    await client.command('EHLO limits.test');
    const reply = await client.command(`MAIL FROM:<${'a'.repeat(20_000)}@example.test>`);
    assert.equal(reply.code, 421, reply.text);
    assert.match(reply.text, /too long/i);
    client.destroy();
    assert.equal((await sendRaw(server.smtpPort, Buffer.from('Subject: after a long line\r\n\r\nok\r\n'))).code, 250);
  });

  it('answers an upload over the size limit with 413 and the JSON error shape, storing nothing', async () => {
    const before = ((await (await fetch(`${server.httpUrl}/api/messages`)).json()) as { total: number }).total;
    const res = await fetch(`${server.httpUrl}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'message/rfc822' },
      body: Buffer.concat([Buffer.from('Subject: too big\r\n\r\n'), Buffer.alloc(9 * 1024 * 1024, 0x61)]),
    });
    assert.equal(res.status, 413);
    const body = (await res.json()) as { statusCode: number; error: string; message: string };
    assert.equal(body.statusCode, 413);
    assert.ok(body.message.length > 0);
    assert.equal(((await (await fetch(`${server.httpUrl}/api/messages`)).json()) as { total: number }).total, before);
  });

  it('refuses event-stream clients past MAILPEN_MAX_EVENT_CLIENTS with 503 at the upgrade, and takes one again when a place frees', async () => {
    const url = `ws://127.0.0.1:${server.http.port}/api/events`;
    const connect = (): Promise<{ ws: WebSocket; status: number }> =>
      new Promise((resolve) => {
        const ws = new WebSocket(url);
        ws.on('open', () => resolve({ ws, status: 101 }));
        ws.on('unexpected-response', (_req, res) => resolve({ ws, status: res.statusCode ?? 0 }));
        ws.on('error', () => undefined);
      });
    const first = await connect();
    const second = await connect();
    assert.deepEqual([first.status, second.status], [101, 101]);
    const third = await connect();
    assert.equal(third.status, 503);
    const closed = new Promise((resolve) => first.ws.once('close', resolve));
    first.ws.close();
    await closed;
    let again = await connect();
    for (let i = 0; again.status === 503 && i < 50; i++) {
      await new Promise((r) => setTimeout(r, 20));
      again = await connect();
    }
    assert.equal(again.status, 101);
    second.ws.close();
    again.ws.close();
  });
});
