// Every real-world corpus message through every GET endpoint of a message, and every one of its
// parts: hostile and broken mail gets answers, never a 5xx.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { apiApp, type ApiApp } from './helpers/api-app.js';
import { loadCorpus, type CorpusMessage } from './helpers/corpus.js';

let api: ApiApp;
let corpus: Array<CorpusMessage & { id: string }>;

before(async () => {
  api = await apiApp({ maxMessages: 0, maxBytes: 0 });
  corpus = loadCorpus().map((m) => ({ ...m, id: api.add(m.raw, { rcptTo: ['corpus@example.test'] }).id }));
});
after(() => api.close());

test('every corpus message is served by get, raw, html, links and each of its parts without a 5xx', async () => {
  assert.ok(corpus.length > 400, `corpus has ${corpus.length} messages`);
  let parts = 0;
  let withHtml = 0;
  for (const m of corpus) {
    const base = `/api/messages/${m.id}`;
    const full = await api.app.inject({ url: base });
    assert.equal(full.statusCode, 200, `${m.name}: ${full.body.slice(0, 200)}`);
    const body = full.json() as { id: string; headers: unknown[]; parts: Array<{ partId: string; size: number }>; problems: string[] };
    assert.equal(body.id, m.id);

    const raw = await api.app.inject({ url: `${base}/raw` });
    assert.equal(raw.statusCode, 200, m.name);
    assert.ok(raw.rawPayload.equals(m.raw), `${m.name}: raw bytes`);

    const html = await api.app.inject({ url: `${base}/html` });
    assert.ok(html.statusCode === 200 || html.statusCode === 404, `${m.name}: html ${html.statusCode}`);
    if (html.statusCode === 200) {
      withHtml++;
      assert.match(String(html.headers['content-security-policy']), /script-src 'none'/);
    }

    const links = await api.app.inject({ url: `${base}/links` });
    assert.equal(links.statusCode, 200, `${m.name}: links ${links.body.slice(0, 200)}`);

    for (const part of body.parts) {
      const res = await api.app.inject({ url: `${base}/parts/${encodeURIComponent(part.partId)}` });
      assert.equal(res.statusCode, 200, `${m.name} part ${part.partId}: ${res.statusCode}`);
      assert.equal(res.rawPayload.length, part.size, `${m.name} part ${part.partId}: size`);
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.match(String(res.headers['content-disposition']), /^(inline|attachment); filename="[\x20-\x7e]*"/);
      if (/svg/i.test(String(res.headers['content-type']))) assert.match(String(res.headers['content-disposition']), /^attachment/);
      parts++;
    }
  }
  // The corpus is known to hold HTML mail and hundreds of attachments (see its README).
  assert.ok(withHtml > 50, `${withHtml} messages with HTML`);
  assert.ok(parts > 500, `${parts} parts served`);
});

test('the whole corpus lists and searches page by page without a 5xx', async () => {
  const queries = ['', 'the', 'from:example', 'to:corpus@example.test', 'has:attachment', '-is:read larger:10KB', 'subject:"re:" OR header:X-Mailer', '"multipart"'];
  for (const q of queries) {
    let cursor: string | null = null;
    let seen = 0;
    let total = -1;
    do {
      const res: { statusCode: number; body: string; json(): unknown } = await api.app.inject({ url: `/api/messages?limit=200&q=${encodeURIComponent(q)}${cursor ? `&cursor=${cursor}` : ''}` });
      assert.equal(res.statusCode, 200, `${q}: ${res.body.slice(0, 200)}`);
      const page = res.json() as { total: number; messages: unknown[]; next: string | null };
      total = page.total;
      seen += page.messages.length;
      cursor = page.next;
    } while (cursor !== null);
    assert.equal(seen, total, `${q}: pages add up to the total`);
  }
  const all = (await api.app.inject({ url: '/api/messages?limit=1' })).json() as { total: number };
  assert.equal(all.total, corpus.length);
});
