// Any message Mailpen accepted, however odd, can be listed, fetched, searched and waited for
// without a 5xx. One mail with a 70,000-character display name in From made every list page that
// held it, the message itself and /api/wait answer 500 ("from" is required): the summary dropped
// the only sender address instead of cutting it. Generated messages (fast-check, a fixed number
// of runs) go in over the real upload endpoint and out through every read route.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { apiApp, type ApiApp } from './helpers/api-app.js';

const long = (n: number): fc.Arbitrary<string> => fc.constantFrom('a', 'é', ' ', '"', ',', '<', '@', '=?utf-8?q?x?=', '\t', '(').map((u) => u.repeat(Math.ceil(n / u.length)));

const addressValue = fc.oneof(
  fc.constantFrom('a@example.test', '<a@example.test>', '"Ann" <ann@example.test>', 'undisclosed-recipients:;', '', '<>', '@', 'a@', '"unclosed <a@b>', '=?utf-8?B?QW5u?= <ann@x.test>'),
  long(70_000).map((name) => `"${name}" <big@example.test>`),
  long(70_000).map((local) => `${local}@example.test`),
  long(70_000),
  fc.integer({ min: 1, max: 3000 }).map((n) => Array.from({ length: n }, (_, i) => `u${i}@example.test`).join(', ')),
  fc.string({ maxLength: 40 }),
);

const headerLine = fc.oneof(
  addressValue.map((v) => `From: ${v}`),
  addressValue.map((v) => `To: ${v}`),
  addressValue.map((v) => `Cc: ${v}`),
  fc.oneof(fc.string({ maxLength: 60 }), long(40_000)).map((v) => `Subject: ${v}`),
  fc.constantFrom('Date: not a date', 'Date: Tue, 4 Jun 2024 10:00:00 +0000', 'Message-ID: <<<>>>', 'Message-ID: ', 'MIME-Version: 1.0',
    'Content-Type: multipart/mixed', 'Content-Type: multipart/mixed; boundary=""', 'Content-Type: text/html; charset=bogus',
    'Content-Transfer-Encoding: base64', 'Content-Transfer-Encoding: quoted-printable', 'X-Empty:', ' folded continuation with no header', 'no colon here'),
  long(20_000).map((v) => `X-Long: ${v}`),
);

const body = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.constantFrom('<a href="', '<html><a href="http://x.test/', '--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--', '=\r\n=ZZ=4', '!!!not base64!!!', '').map((u) => u.repeat(50)),
  fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a).toString('latin1')),
);

const message = fc.tuple(fc.array(headerLine, { maxLength: 8 }), body).map(([headers, b]) => Buffer.from(`${headers.join('\r\n')}\r\n\r\n${b}\r\n`, 'latin1'));

describe('any accepted message can be read back', () => {
  let api: ApiApp;
  before(async () => {
    api = await apiApp({ maxMessages: 0, maxBytes: 0 });
  });
  after(() => api.close());

  const get = async (url: string): Promise<{ status: number; body: string }> => {
    const res = await api.app.inject({ method: 'GET', url });
    return { status: res.statusCode, body: res.body };
  };

  it('is listed, fetched whole and in parts, searched and waited for, never with a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(message, async (raw) => {
        const up = await api.app.inject({ method: 'POST', url: '/api/messages', payload: raw, headers: { 'content-type': 'message/rfc822' } });
        assert.equal(up.statusCode, 201, up.body);
        const id = (JSON.parse(up.body) as { ids: string[] }).ids[0]!;
        const list = await get('/api/messages?limit=5');
        assert.equal(list.status, 200, list.body.slice(0, 300));
        assert.ok((JSON.parse(list.body) as { messages: Array<{ id: string }> }).messages.some((m) => m.id === id));
        const one = await get(`/api/messages/${id}`);
        assert.equal(one.status, 200, one.body.slice(0, 300));
        const detail = JSON.parse(one.body) as { from: unknown; parts: Array<{ partId: string }> };
        assert.ok(detail.from !== undefined);
        for (const url of [`/api/messages/${id}/raw`, `/api/messages/${id}/html`, `/api/messages/${id}/links`, ...detail.parts.map((p) => `/api/messages/${id}/parts/${p.partId}`)]) {
          const r = await get(url);
          assert.ok(r.status < 500, `${url}: ${r.status} ${r.body.slice(0, 200)}`);
        }
        for (const q of ['example', 'from:a', 'to:u1', 'subject:x', 'header:X-Long', '"a a"', '-from:nobody']) {
          const r = await get(`/api/messages?q=${encodeURIComponent(q)}&limit=5`);
          assert.equal(r.status, 200, `${q}: ${r.body.slice(0, 200)}`);
        }
        const waited = await get(`/api/wait?after=0&timeout=1&q=${encodeURIComponent('-subject:"no such words here"')}`);
        assert.equal(waited.status, 200, waited.body.slice(0, 300));
      }),
      { numRuns: 80 },
    );
  });

  it('lists a message whose From is one 70,000-character display name, with the name cut and the cut said', async () => {
    const raw = `From: "${'x'.repeat(70_000)}" <big@example.test>\r\nSubject: big name\r\n\r\nbody\r\n`;
    const up = await api.app.inject({ method: 'POST', url: '/api/messages', payload: raw, headers: { 'content-type': 'message/rfc822' } });
    const id = (JSON.parse(up.body) as { ids: string[] }).ids[0]!;
    const list = await get(`/api/messages?q=${encodeURIComponent('subject:"big name"')}`);
    assert.equal(list.status, 200);
    const row = (JSON.parse(list.body) as { messages: Array<{ id: string; from: { name: string; address: string }; problems?: string[] }> }).messages[0]!;
    assert.equal(row.id, id);
    assert.equal(row.from.address, 'big@example.test');
    assert.equal(row.from.name.length, 1024);
    assert.equal((await get(`/api/messages/${id}`)).status, 200);
    assert.equal((await get(`/api/wait?after=0&q=${encodeURIComponent('from:big@example.test')}`)).status, 200);
  });
});
