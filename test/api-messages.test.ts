// The message endpoints through inject() on the real app, and through real HTTP after a real
// SMTP send with nodemailer.
import type { MessagePart } from '../server/mail/parsed.js';
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { InjectOptions } from 'fastify';
import nodemailer from 'nodemailer';
import { apiApp, textMail, type ApiApp } from './helpers/api-app.js';
import { startTestServer, type TestServer } from './helpers/server.js';

interface Summary {
  id: string;
  inbox: string;
  subject: string;
  read: boolean;
  attachments: number;
  envelope: { from: string; to: string[] };
}
interface ListBody {
  total: number;
  unread: number;
  messages: Summary[];
  next: string | null;
}
type Part = MessagePart;
interface MessageBody extends Omit<Summary, 'envelope'> {
  envelope: { from: string; to: string[]; helo: string; remoteAddress: string; authUser: string | null; tls: boolean };
  headers: Array<{ name: string; value: string }>;
  text: string | null;
  html: string | null;
  parts: Part[];
  replyTo: Array<{ name: string; address: string }>;
  messageId: string | null;
  date: string | null;
  problems: string[];
}

const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

/** A message with repeated headers, text and HTML, an inline cid image, and three attachments. */
const RICH = `Received: from a.test by b.test; Mon, 1 Jan 2024 10:00:00 +0000
Received: from c.test by a.test; Mon, 1 Jan 2024 09:59:00 +0000
From: =?UTF-8?Q?Zo=C3=A9?= <zoe@example.test>
To: bob@example.test
Reply-To: Support <help@example.test>
Subject: =?UTF-8?Q?Confirme_ton_adresse_=E2=9C=89?=
Date: Mon, 1 Jan 2024 10:00:00 +0000
Message-ID: <rich-1@example.test>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: multipart/related; boundary="rel"

--rel
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/plain; charset=utf-8

Confirm: https://app.test/confirm?token=abc.
Docs at https://docs.test/start (read them).
--alt
Content-Type: text/html; charset=utf-8

<p><a href="https://app.test/confirm?token=abc&amp;x=1">Confirm</a>
<a href='javascript:alert(1)'>no</a> <a href="https://app.test/confirm?token=abc&amp;x=1">again</a>
<img src="cid:logo@example.test"> <script>alert(1)</script></p>
--alt--
--rel
Content-Type: image/png
Content-ID: <logo@example.test>
Content-Transfer-Encoding: base64

${PNG.toString('base64')}
--rel--
--outer
Content-Type: application/pdf; name="=?UTF-8?Q?R=C3=A9sum=C3=A9_2024.pdf?="
Content-Disposition: attachment; filename*=UTF-8''R%C3%A9sum%C3%A9%202024.pdf
Content-Transfer-Encoding: base64

JVBERi0xLjQK
--outer
Content-Type: image/svg+xml
Content-Disposition: inline; filename="evil.svg"

<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>
--outer
Content-Type: text/html
Content-Disposition: attachment; filename="../../etc/page\\".html"

<script>alert(1)</script>
--outer--
`;

describe('messages over inject()', () => {
  let api: ApiApp;
  let rich: string;
  before(async () => {
    api = await apiApp({ maxMessageSize: 64 * 1024 });
    rich = api.add(RICH, { rcptTo: ['bob@example.test', 'hidden@example.test'] }).id;
  });
  after(() => api.close());

  const get = (url: string) => api.app.inject({ url });

  test('GET /api/messages/:id returns headers in order with repeats, decoded, text, html and parts', async () => {
    const res = await get(`/api/messages/${rich}`);
    assert.equal(res.statusCode, 200);
    const m = res.json() as MessageBody;
    assert.equal(m.subject, 'Confirme ton adresse ✉');
    assert.deepEqual(m.headers.slice(0, 3).map((h) => h.name), ['Received', 'Received', 'From']);
    assert.equal(m.headers[2]!.value, 'Zoé <zoe@example.test>');
    assert.deepEqual(m.replyTo, [{ name: 'Support', address: 'help@example.test' }]);
    assert.equal(m.messageId, 'rich-1@example.test');
    assert.equal(m.date, '2024-01-01T10:00:00.000Z');
    assert.match(m.text!, /Confirm: https:\/\/app\.test\/confirm\?token=abc\./);
    assert.match(m.html!, /cid:logo@example\.test/);
    assert.deepEqual(m.envelope.to, ['bob@example.test', 'hidden@example.test']);
    const byType = new Map(m.parts.map((p) => [p.contentType, p]));
    assert.equal(byType.get('image/png')!.contentId, 'logo@example.test');
    assert.equal(byType.get('image/png')!.disposition, 'inline');
    assert.equal(byType.get('image/png')!.size, PNG.length);
    assert.equal(byType.get('application/pdf')!.filename, 'Résumé 2024.pdf');
    assert.equal(byType.get('application/pdf')!.disposition, 'attachment');
    assert.equal(new Set(m.parts.map((p) => p.partId)).size, m.parts.length);
  });

  test('reading a message never marks it read; PATCH does', async () => {
    await get(`/api/messages/${rich}`);
    await get(`/api/messages/${rich}/html`);
    await get(`/api/messages/${rich}/raw`);
    assert.equal(api.store.get(rich)!.read, false);
    const res = await api.app.inject({ method: 'PATCH', url: `/api/messages/${rich}`, payload: { read: true } });
    assert.equal(res.statusCode, 200);
    assert.equal((res.json() as Summary).read, true);
    assert.equal(api.store.get(rich)!.read, true);
    await api.app.inject({ method: 'PATCH', url: `/api/messages/${rich}`, payload: { read: false } });
    assert.equal(api.store.get(rich)!.read, false);
  });

  test('raw is the exact bytes as message/rfc822, and ?download names it <id>.eml', async () => {
    const res = await get(`/api/messages/${rich}/raw`);
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'message/rfc822');
    assert.ok(res.rawPayload.equals(api.store.get(rich)!.raw));
    assert.equal(res.headers['content-disposition'], undefined);
    const dl = await get(`/api/messages/${rich}/raw?download`);
    assert.equal(dl.headers['content-disposition'], `attachment; filename="${rich}.eml"`);
  });

  test('parts: decoded bytes, RFC 6266 filenames, images inline but never SVG, nosniff', async () => {
    const m = (await get(`/api/messages/${rich}`)).json() as MessageBody;
    const part = (type: string) => m.parts.find((p) => p.contentType === type)!;

    const png = await get(`/api/messages/${rich}/parts/${part('image/png').partId}`);
    assert.equal(png.statusCode, 200);
    assert.equal(png.headers['content-type'], 'image/png');
    assert.match(String(png.headers['content-disposition']), /^inline; /);
    assert.equal(png.headers['x-content-type-options'], 'nosniff');
    assert.ok(png.rawPayload.equals(PNG));

    const pdf = await get(`/api/messages/${rich}/parts/${part('application/pdf').partId}`);
    assert.equal(pdf.headers['content-disposition'], `attachment; filename="R_sum_ 2024.pdf"; filename*=UTF-8''R%C3%A9sum%C3%A9%202024.pdf`);
    assert.equal(pdf.rawPayload.toString('latin1'), '%PDF-1.4\n');

    const svg = await get(`/api/messages/${rich}/parts/${part('image/svg+xml').partId}`);
    assert.match(String(svg.headers['content-disposition']), /^attachment; filename="evil.svg"/);
    assert.equal(svg.headers['x-content-type-options'], 'nosniff');

    const html = await get(`/api/messages/${rich}/parts/${part('text/html').partId}`);
    const disposition = String(html.headers['content-disposition']);
    assert.match(disposition, /^attachment; /);
    assert.doesNotMatch(disposition, /\/|\\|filename="[^"]*"[^;]*"/, 'no path separators, no broken quoting');

    const missing = await get(`/api/messages/${rich}/parts/99`);
    assert.equal(missing.statusCode, 404);
    assert.match((missing.json() as { message: string }).message, /no part "99"/);
  });

  test('html: cid: rewritten to the parts endpoint, served under a CSP that forbids script', async () => {
    const m = (await get(`/api/messages/${rich}`)).json() as MessageBody;
    const png = m.parts.find((p) => p.contentType === 'image/png')!;
    const res = await get(`/api/messages/${rich}/html`);
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/html/);
    const csp = String(res.headers['content-security-policy']);
    for (const directive of ["default-src 'none'", "img-src 'self' data: https: http:", "style-src 'unsafe-inline'", "script-src 'none'"]) {
      assert.ok(csp.includes(directive), `${directive} in ${csp}`);
    }
    assert.ok(res.body.includes(`src="/api/messages/${rich}/parts/${png.partId}"`));
    assert.ok(!res.body.includes('cid:logo'));
  });

  test('html: every link opens a new tab, whatever target the mail gave it', async () => {
    // target=_self would load the linked page into the sandboxed frame, which the UI refuses.
    const id = api.add(
      'Subject: targets\r\nContent-Type: text/html\r\n\r\n<!DOCTYPE html><p>aim at target=_self</p>' +
        '<a target="_self" href="https://a.test">a</a><A HREF=https://b.test TARGET=_parent>b</A><area target=\'_top\' href="https://c.test">\r\n',
    ).id;
    const res = await get(`/api/messages/${id}/html`);
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /^<!DOCTYPE html><base target="_blank">/);
    assert.doesNotMatch(res.body, /_self"|_parent|_top/);
    assert.equal(res.body.match(/target="_blank"/g)?.length, 4, res.body);
    assert.ok(res.body.includes('<p>aim at target=_self</p>'), 'text that is not a tag is left alone');
  });

  test('html of a message without an HTML body is a 404', async () => {
    const id = api.add(textMail({ Subject: 'plain' })).id;
    const res = await get(`/api/messages/${id}/html`);
    assert.equal(res.statusCode, 404);
    assert.match((res.json() as { message: string }).message, /no HTML body/);
  });

  test('links: HTML hrefs then text URLs, in order, without repeats or javascript:', async () => {
    const res = await get(`/api/messages/${rich}/links`);
    assert.deepEqual((res.json() as { links: string[] }).links, [
      'https://app.test/confirm?token=abc&x=1',
      'https://app.test/confirm?token=abc',
      'https://docs.test/start',
    ]);
  });

  test('an unknown id is a 404 in the one error shape, on every message endpoint', async () => {
    for (const suffix of ['', '/raw', '/html', '/links', '/parts/1']) {
      const res = await get(`/api/messages/nosuchmessage${suffix}`);
      assert.equal(res.statusCode, 404, suffix);
      assert.deepEqual(Object.keys(res.json() as object).sort(), ['error', 'message', 'statusCode']);
    }
    for (const method of ['PATCH', 'DELETE'] as const) {
      const res = await api.app.inject({ method, url: '/api/messages/nosuchmessage', payload: method === 'PATCH' ? { read: true } : undefined });
      assert.equal(res.statusCode, 404, method);
    }
  });

  test('malformed input is a 400 that says what is wrong, never a 500', async () => {
    const cases: Array<[InjectOptions, RegExp]> = [
      [{ url: '/api/messages?limit=0' }, /limit/],
      [{ url: '/api/messages?limit=1001' }, /limit/],
      [{ url: '/api/messages?limit=ten' }, /limit/],
      [{ url: '/api/messages?cursor=abc' }, /cursor/],
      [{ method: 'PATCH', url: `/api/messages/${rich}`, payload: { read: 'yes' } }, /read/],
      [{ method: 'PATCH', url: `/api/messages/${rich}`, payload: {} }, /read/],
      [{ method: 'PATCH', url: `/api/messages/${rich}`, headers: { 'content-type': 'application/json' }, payload: '{"read":' }, /JSON/i],
      [{ method: 'PATCH', url: '/api/messages', payload: { ids: [{}], read: true } }, /ids/],
      [{ method: 'PATCH', url: '/api/messages', payload: { ids: [rich], q: 'x', read: true } }, /either ids, or q/],
      [{ url: '/api/wait?timeout=61' }, /timeout/],
      [{ url: '/api/wait?after=yesterday' }, /neither a message id nor a time/],
      [{ method: 'POST', url: '/api/messages' }, /raw message/],
    ];
    for (const [request, reason] of cases) {
      const res = await api.app.inject(request);
      assert.equal(res.statusCode, 400, `${JSON.stringify(request)}: ${res.body}`);
      assert.match((res.json() as { message: string }).message, reason);
    }
  });

  test('a path with broken percent-encoding gets the one error shape, not fastify\'s own', async () => {
    for (const url of ['/api/messages/%E0%A4%A', '/api/messages/%ZZ/raw']) {
      const res = await api.app.inject({ url });
      assert.equal(res.statusCode, 400, url);
      const body = res.json() as Record<string, unknown>;
      assert.deepEqual(Object.keys(body).sort(), ['error', 'message', 'statusCode'], res.body);
      assert.equal(body.error, 'Bad Request');
      assert.match(String(body.message), /not a valid url/);
    }
  });

  test('a value outside a fixed set is refused with the values accepted, not "must match a schema in anyOf"', async () => {
    const res = await api.app.inject({ url: `/api/messages/${rich}/html?remote=x` });
    assert.equal(res.statusCode, 400);
    const { message } = res.json() as { message: string };
    assert.match(message, /remote must be equal to one of the allowed values \(allow, block\)/);
    assert.doesNotMatch(message, /anyOf|constant/);
    assert.equal((await api.app.inject({ url: `/api/messages/${rich}/html?remote=block` })).statusCode, 200);
  });

  test('every status the API answers has its name in the error body (421 is Misdirected Request)', async () => {
    const res = await api.app.inject({ url: '/api/messages', headers: { host: 'rebound.example' } });
    assert.equal(res.statusCode, 421);
    assert.equal((res.json() as { error: string }).error, 'Misdirected Request');
  });

  test('paging with the cursor visits every message once, newest first', async () => {
    const local = await apiApp();
    try {
      const added = Array.from({ length: 7 }, (_, i) => local.add(textMail({ Subject: `page ${i}` })).id);
      const seen: string[] = [];
      let cursor: string | null = '';
      let pages = 0;
      while (cursor !== null) {
        const res = await local.app.inject({ url: `/api/messages?limit=3${cursor ? `&cursor=${cursor}` : ''}` });
        const body = res.json() as ListBody;
        assert.equal(body.total, 7);
        seen.push(...body.messages.map((m) => m.id));
        cursor = body.next;
        pages++;
      }
      assert.equal(pages, 3);
      assert.deepEqual(seen, added.reverse());
      const filtered = (await local.app.inject({ url: `/api/messages?limit=2&q=${encodeURIComponent('subject:"page 1" OR subject:"page 5" OR subject:"page 6"')}` })).json() as ListBody;
      assert.equal(filtered.total, 3);
      assert.deepEqual(filtered.messages.map((m) => m.subject), ['page 6', 'page 5']);
      const rest = (await local.app.inject({ url: `/api/messages?limit=2&cursor=${filtered.next}&q=${encodeURIComponent('subject:"page 1" OR subject:"page 5" OR subject:"page 6"')}` })).json() as ListBody;
      assert.deepEqual(rest.messages.map((m) => m.subject), ['page 1']);
      assert.equal(rest.next, null);
      assert.equal((await local.app.inject({ url: '/api/messages' })).json().messages.length, 7);
    } finally {
      await local.close();
    }
  });

  test('bulk PATCH by ids and by query; bulk DELETE by inbox, by query, then everything', async () => {
    const local = await apiApp();
    try {
      const a = local.add(textMail({ Subject: 'alpha' }), { inbox: 'one' }).id;
      const b = local.add(textMail({ Subject: 'beta' }), { inbox: 'one' }).id;
      local.add(textMail({ Subject: 'gamma' }), { inbox: 'two' });
      local.add(textMail({ Subject: 'delta' }), { inbox: 'two' });
      const byIds = await local.app.inject({ method: 'PATCH', url: '/api/messages', payload: { ids: [a, b, 'nosuch'], read: true } });
      assert.deepEqual(byIds.json(), { updated: 2 });
      const byQuery = await local.app.inject({ method: 'PATCH', url: '/api/messages', payload: { q: 'subject:gamma', inbox: 'two', read: true } });
      assert.deepEqual(byQuery.json(), { updated: 1 });
      assert.deepEqual((await local.app.inject({ url: '/api/inboxes' })).json(), {
        inboxes: [
          { name: 'one', total: 2, unread: 0 },
          { name: 'two', total: 2, unread: 1 },
        ],
      });
      const list = (await local.app.inject({ url: '/api/messages' })).json() as ListBody;
      assert.deepEqual([list.total, list.unread], [4, 1]);

      assert.deepEqual((await local.app.inject({ method: 'DELETE', url: `/api/messages/${a}` })).json(), { deleted: 1 });
      assert.equal((await local.app.inject({ url: `/api/messages/${a}` })).statusCode, 404);
      assert.deepEqual((await local.app.inject({ method: 'DELETE', url: '/api/messages?inbox=one' })).json(), { deleted: 1 });
      assert.deepEqual((await local.app.inject({ method: 'DELETE', url: '/api/messages?inbox=nosuchinbox' })).json(), { deleted: 0 });
      assert.deepEqual((await local.app.inject({ method: 'DELETE', url: '/api/messages?q=subject:delta' })).json(), { deleted: 1 });
      assert.deepEqual((await local.app.inject({ url: '/api/messages' })).json().messages.map((m: Summary) => m.subject), ['gamma']);
      local.add(textMail({ Subject: 'epsilon' }), { inbox: 'three' });
      assert.deepEqual((await local.app.inject({ method: 'DELETE', url: '/api/messages' })).json(), { deleted: 2 });
      assert.equal(local.store.counts().messages, 0);
    } finally {
      await local.close();
    }
  });

  test('POST /api/messages stores a raw message with the envelope from its headers (Bcc too)', async () => {
    const raw = 'From: Ann <ann@example.test>\r\nTo: bob@example.test\r\nCc: cat@example.test\r\nBcc: dan@example.test\r\nSubject: uploaded\r\n\r\nHi.\r\n';
    const res = await api.app.inject({ method: 'POST', url: '/api/messages?inbox=uploads', headers: { 'content-type': 'message/rfc822' }, payload: raw });
    assert.equal(res.statusCode, 201);
    const { ids } = res.json() as { ids: string[] };
    assert.equal(ids.length, 1);
    const stored = api.store.get(ids[0]!)!;
    assert.equal(stored.raw.toString(), raw);
    assert.equal(stored.inbox, 'uploads');
    assert.deepEqual(stored.envelope.rcptTo, ['bob@example.test', 'cat@example.test', 'dan@example.test']);
    assert.equal(stored.envelope.mailFrom, 'ann@example.test');
    const found = (await get(`/api/messages?q=${encodeURIComponent('to:dan@example.test')}`)).json() as ListBody;
    assert.deepEqual(found.messages.map((m) => m.id), ids);
  });

  test('POST /api/messages splits an mbox file into messages, default inbox', async () => {
    const mbox = 'From ann@example.test Mon Jan  1 00:00:00 2024\nFrom: ann@example.test\nSubject: first\n\n>From the top.\n\nFrom bob@example.test Mon Jan  1 00:00:01 2024\nFrom: bob@example.test\nSubject: second\n\nBye.\n';
    const res = await api.app.inject({ method: 'POST', url: '/api/messages', headers: { 'content-type': 'application/mbox' }, payload: mbox });
    assert.equal(res.statusCode, 201);
    const { ids } = res.json() as { ids: string[] };
    assert.deepEqual(ids.map((id) => api.store.summary(api.store.get(id)!).subject), ['first', 'second']);
    assert.ok(api.store.get(ids[0]!)!.raw.toString().includes('\nFrom the top.'));
    assert.equal(api.store.get(ids[1]!)!.inbox, 'default');
  });

  test('POST /api/messages over the message size limit is a 413 and stores nothing', async () => {
    const before = api.store.counts().messages;
    const big = 'Subject: big\r\n\r\n' + 'x'.repeat(70 * 1024);
    const res = await api.app.inject({ method: 'POST', url: '/api/messages', headers: { 'content-type': 'message/rfc822' }, payload: big });
    assert.equal(res.statusCode, 413);
    assert.match((res.json() as { message: string }).message, /limit/);
    assert.equal(api.store.counts().messages, before);
  });

  test('an mbox larger than the message size limit is stored message by message; one too big is refused and said', async () => {
    const local = await apiApp({ maxMessageSize: 64 * 1024 });
    try {
      const message = (subject: string, size: number) => `From x@example.test Mon Jan  1 00:00:00 2024\nFrom: x@example.test\nTo: y@example.test\nSubject: ${subject}\n\n${'y'.repeat(size)}\n`;
      const mbox = message('one', 40 * 1024) + message('huge', 70 * 1024) + message('three', 40 * 1024);
      const res = await local.app.inject({ method: 'POST', url: '/api/messages', headers: { 'content-type': 'application/mbox' }, payload: mbox });
      assert.equal(res.statusCode, 201, res.body);
      const body = res.json() as { ids: string[]; rejected: Array<{ message: number; reason: string }> };
      assert.deepEqual(body.ids.map((id) => local.store.summary(local.store.get(id)!).subject), ['one', 'three']);
      assert.equal(body.rejected.length, 1);
      assert.equal(body.rejected[0]!.message, 2);
      assert.match(body.rejected[0]!.reason, /the limit is 65536 \(MAILPEN_MAX_MESSAGE_SIZE\)/);
    } finally {
      await local.close();
    }
  });

  test('an mbox over MAILPEN_MAX_UPLOAD_SIZE is a 413 that names the setting, and stores nothing', async () => {
    const local = await apiApp({ maxMessageSize: 64 * 1024, maxUploadSize: 100 * 1024 });
    try {
      const mbox = Array.from({ length: 5 }, (_, i) => `From x@example.test Mon Jan  1 00:00:00 2024\nSubject: m${i}\n\n${'z'.repeat(30 * 1024)}\n`).join('');
      const res = await local.app.inject({ method: 'POST', url: '/api/messages', headers: { 'content-type': 'application/mbox' }, payload: mbox });
      assert.equal(res.statusCode, 413);
      assert.match((res.json() as { message: string }).message, /MAILPEN_MAX_UPLOAD_SIZE/);
      assert.equal(local.store.counts().messages, 0);
    } finally {
      await local.close();
    }
  });

  test('an upload keeps the first max-recipients recipients, as SMTP does, and says how many it dropped', async () => {
    const local = await apiApp({ maxRecipients: 3 });
    try {
      const raw = 'From: a@example.test\r\nTo: r1@example.test, r2@example.test\r\nCc: r3@example.test, r4@example.test\r\nBcc: r5@example.test\r\nSubject: many\r\n\r\nHi.\r\n';
      const res = await local.app.inject({ method: 'POST', url: '/api/messages', headers: { 'content-type': 'message/rfc822' }, payload: raw });
      assert.equal(res.statusCode, 201);
      const body = res.json() as { ids: string[]; notes: Array<{ message: number; note: string }> };
      assert.deepEqual(local.store.get(body.ids[0]!)!.envelope.rcptTo, ['r1@example.test', 'r2@example.test', 'r3@example.test']);
      assert.equal(body.notes.length, 1);
      assert.match(body.notes[0]!.note, /2 of its 5 recipients dropped: the limit is 3 \(MAILPEN_MAX_RECIPIENTS\)/);
    } finally {
      await local.close();
    }
  });

  test('GET /api/info reports version, ports, limits and counts', async () => {
    const info = (await get('/api/info')).json() as Record<string, any>;
    assert.equal(info.version, 'test');
    assert.deepEqual(info.ports, { smtp: 1025, smtps: null, http: 8025 });
    assert.equal(info.limits.maxMessageSize, 64 * 1024);
    assert.equal(info.counts.messages, api.store.counts().messages);
    assert.equal(info.counts.waiters, 0);
    assert.ok(info.uptime >= 0);
  });

  test("the OpenAPI document lists the API, the docs page renders, /api/v1 and /api/v2 are Mailpit's and MailHog's", async () => {
    const doc = (await get('/api/openapi.json')).json() as { openapi: string; paths: Record<string, object> };
    assert.match(doc.openapi, /^3\./);
    for (const path of ['/api/messages', '/api/messages/{id}', '/api/messages/{id}/raw', '/api/messages/{id}/parts/{partId}', '/api/messages/{id}/html', '/api/messages/{id}/links', '/api/inboxes', '/api/wait', '/api/info']) {
      assert.ok(doc.paths[path], `${path} documented`);
    }
    const docs = await get('/api/docs/');
    assert.equal(docs.statusCode, 200);
    assert.match(docs.body, /swagger/i);
    // Mailpit's and MailHog's lists (test/compat-mailpit.test.ts, test/compat-mailhog.test.ts).
    assert.ok('messages_count' in ((await get('/api/v1/messages')).json() as object));
    assert.ok('items' in ((await get('/api/v2/messages')).json() as object));
  });
});

describe('messages over real HTTP after a real SMTP send', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  test('a nodemailer message is listed, searched by a Bcc recipient, read, followed and deleted', async () => {
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: server.smtpPort, secure: false, ignoreTLS: true });
    const info = await transport.sendMail({
      from: 'App <app@example.test>',
      to: 'user@example.test',
      bcc: 'audit@example.test',
      subject: 'Réinitialisation du mot de passe',
      text: 'Reset: https://app.test/reset?token=xyz',
      html: '<p><a href="https://app.test/reset?token=xyz">Reset</a></p>',
      attachments: [{ filename: 'notes.txt', content: 'hello notes' }],
    });
    transport.close();
    assert.match(info.response, /^250 /);

    const list = (await (await fetch(`${server.httpUrl}/api/messages?q=${encodeURIComponent('to:audit@example.test')}`)).json()) as ListBody;
    assert.equal(list.total, 1);
    const summary = list.messages[0]!;
    assert.equal(summary.subject, 'Réinitialisation du mot de passe');
    assert.equal(summary.attachments, 1);

    const bySubject = (await (await fetch(`${server.httpUrl}/api/messages?q=${encodeURIComponent('réinitialisation')}`)).json()) as ListBody;
    assert.deepEqual(bySubject.messages.map((m) => m.id), [summary.id]);

    const full = (await (await fetch(`${server.httpUrl}/api/messages/${summary.id}`)).json()) as MessageBody;
    // The whole SMTP envelope, as the transaction said it.
    assert.deepEqual(full.envelope, {
      from: 'app@example.test',
      to: ['user@example.test', 'audit@example.test'],
      helo: full.envelope.helo,
      remoteAddress: '127.0.0.1',
      authUser: null,
      tls: false,
    });
    assert.ok(full.envelope.helo.length > 0, 'the HELO name is kept');
    const notes = full.parts.find((p) => p.filename === 'notes.txt')!;
    const part = await fetch(`${server.httpUrl}/api/messages/${summary.id}/parts/${notes.partId}`);
    assert.equal(part.headers.get('content-disposition'), 'attachment; filename="notes.txt"');
    assert.equal(await part.text(), 'hello notes');

    const { links } = (await (await fetch(`${server.httpUrl}/api/messages/${summary.id}/links`)).json()) as { links: string[] };
    assert.deepEqual(links, ['https://app.test/reset?token=xyz']);

    const deleted = await fetch(`${server.httpUrl}/api/messages/${summary.id}`, { method: 'DELETE' });
    assert.deepEqual(await deleted.json(), { deleted: 1 });
    assert.equal((await fetch(`${server.httpUrl}/api/messages/${summary.id}`)).status, 404);
  });
});
