// Search (`q`) semantics, case by case, through inject() on the real app over a real store.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { apiApp, textMail, type ApiApp } from './helpers/api-app.js';

let api: ApiApp;
const ids: Record<string, string> = {};

function multipartWithAttachment(headers: Record<string, string>, body: string, filename: string): string {
  const head = Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join('\n');
  return `${head}
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: text/plain; charset=utf-8

${body}
--b1
Content-Type: application/pdf
Content-Disposition: attachment; filename="${filename}"
Content-Transfer-Encoding: base64

JVBERi0xLjQK
--b1--
`;
}

before(async () => {
  api = await apiApp();
  ids.reset = api.add(
    textMail(
      {
        From: 'Alice Example <alice@example.test>',
        To: 'Bob <bob@example.test>',
        Cc: 'carol@example.test',
        // "Réinitialisez votre mot de passe", RFC 2047 encoded.
        Subject: '=?UTF-8?B?UsOpaW5pdGlhbGlzZXogdm90cmUgbW90IGRlIHBhc3Nl?=',
      },
      'Click https://app.test/reset?t=1 to choose a new password.',
    ),
    { rcptTo: ['bob@example.test', 'carol@example.test', 'dave-bcc@example.test'], mailFrom: 'alice@example.test', receivedAt: new Date('2024-01-10T12:00:00Z') },
  ).id;
  ids.report = api.add(
    multipartWithAttachment({ From: 'bob@example.test', To: 'alice@example.test', Subject: 'Weekly report' }, 'Numbers are up.', 'report-q1.pdf'),
    { rcptTo: ['alice@example.test'], inbox: 'team', receivedAt: new Date('2024-02-15T09:00:00Z') },
  ).id;
  ids.order = api.add(
    textMail({ From: 'Shop <noreply@shop.test>', To: 'alice@example.test', Subject: 'Your order shipped', 'X-Order-Id': '12345', 'Message-ID': '<order-12345@shop.test>' }, 'Tracking number ZX-99, on its way.'),
    { rcptTo: ['alice@example.test'], receivedAt: new Date('2024-03-20T18:30:00Z') },
  ).id;
  api.store.setRead(ids.order, true);
  ids.big = api.add(textMail({ From: 'news@letters.test', To: 'all@example.test', Subject: 'Big newsletter' }, 'lorem ipsum '.repeat(2000)), {
    rcptTo: ['all@example.test'],
  }).id;
});

after(() => api.close());

async function search(q: string, extra = ''): Promise<string[]> {
  const res = await api.app.inject({ url: `/api/messages?q=${encodeURIComponent(q)}${extra}` });
  assert.equal(res.statusCode, 200, `${q}: ${res.body}`);
  const body = res.json() as { total: number; messages: Array<{ id: string }> };
  assert.equal(body.total, body.messages.length);
  const names = Object.fromEntries(Object.entries(ids).map(([k, v]) => [v, k]));
  return body.messages.map((m) => names[m.id]!).sort();
}

describe('free words and phrases', () => {
  test('an RFC 2047 encoded subject is found by its decoded text, case-insensitively', async () => {
    assert.deepEqual(await search('RÉINITIALISEZ'), ['reset']);
    assert.deepEqual(await search('réinitialisez'), ['reset']);
  });
  test('free words must all match, anywhere: subject, addresses, body', async () => {
    assert.deepEqual(await search('mot passe'), ['reset']);
    assert.deepEqual(await search('shop.test'), ['order']);
    assert.deepEqual(await search('tracking'), ['order']);
    assert.deepEqual(await search('tracking weekly'), []);
  });
  test('a free word finds an attachment by its file name', async () => {
    assert.deepEqual(await search('report-q1.pdf'), ['report']);
  });
  test('a quoted phrase matches words together and in order', async () => {
    assert.deepEqual(await search('"number ZX-99"'), ['order']);
    assert.deepEqual(await search('"ZX-99 number"'), []);
    assert.deepEqual(await search('"votre mot"'), ['reset']);
  });
  test('a URL is searched as text, not read as a field', async () => {
    assert.deepEqual(await search('https://app.test/reset?t=1'), ['reset']);
    assert.deepEqual(await search('https://app.test/other'), []);
  });
  test('an empty query lists everything', async () => {
    assert.deepEqual(await search(''), ['big', 'order', 'report', 'reset']);
  });
  test('a link that only an href holds (HTML-only mail) is found by its URL or host, and stays out of the snippet', async () => {
    const local = await apiApp();
    try {
      const html = [
        'From: app@example.test',
        'To: bob@example.test',
        'Subject: Reset',
        'Content-Type: text/html; charset=utf-8',
        '',
        '<p>Click <a href="https://links.test/reset?t=abc&amp;u=2">here</a> or <a href=\'mailto:help@support.test\'>write to us</a>.</p>',
        '<a href="javascript:steal()">x</a>',
      ].join('\n');
      const id = local.add(html).id;
      const found = async (q: string): Promise<string[]> =>
        ((await local.app.inject({ url: `/api/messages?q=${encodeURIComponent(q)}` })).json() as { messages: Array<{ id: string }> }).messages.map((m) => m.id);
      assert.deepEqual(await found('links.test'), [id]);
      assert.deepEqual(await found('https://links.test/reset?t=abc&u=2'), [id], 'entities in the href are decoded');
      assert.deepEqual(await found('support.test'), [id], 'mailto: links too');
      assert.deepEqual(await found('steal'), [], 'javascript: is not a link');
      const { snippet } = (await local.app.inject({ url: `/api/messages/${id}` })).json() as { snippet: string };
      assert.equal(snippet, 'Click here or write to us . x');
    } finally {
      await local.close();
    }
  });
});

describe('field terms', () => {
  test('from: matches the From name or address and the envelope sender', async () => {
    assert.deepEqual(await search('from:alice'), ['reset']);
    assert.deepEqual(await search('from:"Alice Example"'), ['reset']);
    assert.deepEqual(await search('from:SHOP'), ['order']);
  });
  test('to: matches To, Cc and envelope recipients, so a Bcc recipient is found', async () => {
    assert.deepEqual(await search('to:dave-bcc@example.test'), ['reset']);
    assert.deepEqual(await search('to:carol'), ['reset']);
    assert.deepEqual(await search('to:bob'), ['reset']);
  });
  test('cc: matches only the Cc header', async () => {
    assert.deepEqual(await search('cc:carol'), ['reset']);
    assert.deepEqual(await search('cc:bob'), []);
  });
  test('subject: matches the decoded subject only', async () => {
    assert.deepEqual(await search('subject:order'), ['order']);
    assert.deepEqual(await search('subject:"weekly report"'), ['report']);
    assert.deepEqual(await search('subject:tracking'), []);
  });
  test('inbox: and the inbox parameter select one inbox', async () => {
    assert.deepEqual(await search('inbox:team'), ['report']);
    assert.deepEqual(await search('inbox:Team'), [], 'inbox names are exact: case counts');
    assert.deepEqual(await search('inbox:tea'), []);
    assert.deepEqual(await search('', '&inbox=team'), ['report']);
    assert.deepEqual(await search('weekly', '&inbox=default'), []);
  });
  test('header:Name:value matches any header, and header:Name its presence', async () => {
    assert.deepEqual(await search('header:X-Order-Id:12345'), ['order']);
    assert.deepEqual(await search('header:x-order-id'), ['order']);
    assert.deepEqual(await search('header:X-Order-Id:999'), []);
  });
  test('header:Message-ID matches the id with or without its brackets, from the search fields', async () => {
    assert.deepEqual(await search('header:Message-ID:order-12345'), ['order']);
    assert.deepEqual(await search('header:message-id:<order-12345@shop.test>'), ['order']);
    assert.deepEqual(await search('header:Message-ID:ORDER-12345@SHOP'), ['order']);
    assert.deepEqual(await search('header:Message-ID:order-99'), []);
    assert.deepEqual(await search('-header:Message-ID:order-12345 header:X-Order-Id'), []);
  });
  test('has:attachment, is:read and is:unread', async () => {
    assert.deepEqual(await search('has:attachment'), ['report']);
    assert.deepEqual(await search('is:read'), ['order']);
    assert.deepEqual(await search('is:unread'), ['big', 'report', 'reset']);
  });
  test('before: and after: compare the time received', async () => {
    assert.deepEqual(await search('before:2024-02-01'), ['reset']);
    assert.deepEqual(await search('after:2024-03-01'), ['big', 'order']);
    assert.deepEqual(await search('after:2024-02-01 before:2024-03-01'), ['report']);
    assert.deepEqual(await search('before:2024-03-20T18:30:00Z'), ['report', 'reset']);
  });
  test('an epoch number of up to 10 digits is seconds (date +%s), of 13 digits milliseconds', async () => {
    const march = Date.parse('2024-03-01T00:00:00Z');
    assert.deepEqual(await search(`after:${march / 1000}`), ['big', 'order']);
    assert.deepEqual(await search(`after:${march}`), ['big', 'order']);
    assert.deepEqual(await search(`before:${Date.parse('2024-02-01T00:00:00Z') / 1000}`), ['reset']);
    assert.deepEqual(await search(`after:${Math.floor(Date.now() / 1000) + 60}`), []);
  });
  test('larger: and smaller: compare the raw size, with units', async () => {
    assert.deepEqual(await search('larger:10KB'), ['big']);
    assert.deepEqual(await search('smaller:10kb'), ['order', 'report', 'reset']);
    assert.deepEqual(await search('larger:1MB'), []);
  });
});

describe('negation, OR and groups', () => {
  test('a leading - negates a term', async () => {
    assert.deepEqual(await search('-from:alice'), ['big', 'order', 'report']);
    assert.deepEqual(await search('to:alice -has:attachment'), ['order']);
    assert.deepEqual(await search('-"lorem ipsum"'), ['order', 'report', 'reset']);
  });
  test('OR between terms matches either', async () => {
    assert.deepEqual(await search('subject:order OR subject:weekly'), ['order', 'report']);
    assert.deepEqual(await search('from:alice OR from:bob OR from:shop'), ['order', 'report', 'reset']);
  });
  test('terms side by side bind tighter than OR; parentheses group', async () => {
    assert.deepEqual(await search('from:bob has:attachment OR is:read'), ['order', 'report']);
    assert.deepEqual(await search('(from:alice OR from:bob) -has:attachment'), ['reset']);
    assert.deepEqual(await search('-(from:alice OR from:bob)'), ['big', 'order']);
  });
  test('a lower-case "or" is an ordinary word', async () => {
    assert.deepEqual(await search('weekly or tracking'), []);
    assert.deepEqual(await search('weekly OR tracking'), ['order', 'report']);
  });
});

describe('queries that do not parse', () => {
  const bad: Array<[string, RegExp]> = [
    ['from:', /needs a value/],
    ['"unclosed', /unclosed quote/],
    ['foo:bar', /unknown field "foo:"/],
    ['is:maybe', /is:read, is:unread or is:tagged/],
    ['has:wings', /has:attachment/],
    ['before:yesterday', /not a date/],
    ['after:17000000000', /not a date.*epoch seconds \(10 digits\)/],
    ['larger:huge', /not a size/],
    ['alice OR', /OR/],
    ['OR alice', /OR/],
    ['(alice', /unclosed "\("/],
    ['(', /unclosed "\("/],
    ['-(', /unclosed "\("/],
    ['alice)', /unexpected "\)"/],
    [')', /unexpected "\)"/],
    ['()', /empty group/],
    ['(alice OR)', /"OR" needs a term on both sides/],
    ['""', /empty phrase/],
    ['"   "', /empty phrase/],
    ['subject:""', /"subject:" needs a value/],
    ['header::x', /header name/],
  ];
  for (const [q, reason] of bad) {
    test(`${JSON.stringify(q)} is a 400 that says why`, async () => {
      const res = await api.app.inject({ url: `/api/messages?q=${encodeURIComponent(q)}` });
      assert.equal(res.statusCode, 400);
      const body = res.json() as { statusCode: number; error: string; message: string };
      assert.equal(body.statusCode, 400);
      assert.equal(body.error, 'Bad Request');
      assert.match(body.message, reason);
    });
  }
  test('DELETE with an empty phrase ("") is a 400 and deletes nothing', async () => {
    const before = api.store.counts().messages;
    const res = await api.app.inject({ method: 'DELETE', url: `/api/messages?q=${encodeURIComponent('""')}` });
    assert.equal(res.statusCode, 400);
    assert.match((res.json() as { message: string }).message, /empty phrase/);
    assert.equal(api.store.counts().messages, before);
  });
  test('DELETE with a query that does not parse is a 400 and deletes nothing', async () => {
    const before = api.store.counts().messages;
    const res = await api.app.inject({ method: 'DELETE', url: `/api/messages?q=${encodeURIComponent('from:')}` });
    assert.equal(res.statusCode, 400);
    assert.equal(api.store.counts().messages, before);
  });
});

describe('arbitrary input', () => {
  test('any q, cursor or after string is answered 200, 400, 404 or 408, never a 5xx', async () => {
    const fc = await import('fast-check');
    const pieces = fc.constantFrom('from:', 'to:', 'header:', 'is:', 'has:', 'before:', 'larger:', '"', '(', ')', '-', ' OR ', ' ', ':', '\\', '*', '[', '\u0000', 'é', '😀');
    const input = fc.array(fc.oneof(pieces, fc.string({ maxLength: 6 })), { maxLength: 12 }).map((a) => a.join(''));
    await fc.assert(
      fc.asyncProperty(input, async (s) => {
        for (const url of [
          `/api/messages?q=${encodeURIComponent(s)}`,
          `/api/messages?cursor=${encodeURIComponent(s)}`,
          `/api/wait?timeout=0&after=${encodeURIComponent(s)}`,
          `/api/wait?timeout=0&q=${encodeURIComponent(s)}`,
        ]) {
          const res = await api.app.inject({ url });
          assert.ok([200, 400, 404, 408].includes(res.statusCode), `${url}: ${res.statusCode} ${res.body}`);
          assert.equal(typeof (res.json() as object), 'object');
        }
      }),
      { numRuns: 300 },
    );
  });
  test('broken percent-encoding in the path or query is never a 5xx', async () => {
    for (const url of ['/api/messages?q=%ZZ', '/api/messages?q=%FF%FE', '/api/messages/%ZZ', '/api/messages/%C0%AF/raw', '/api/wait?after=%E0%A4&timeout=0']) {
      const res = await api.app.inject({ url });
      assert.ok(res.statusCode < 500, `${url}: ${res.statusCode} ${res.body}`);
      assert.equal(typeof (res.json() as object), 'object');
    }
  });
});
