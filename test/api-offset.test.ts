// GET /api/messages?offset=N: a page that starts N messages down the newest-first list, for a
// view that jumps far instead of paging there. Checked against the same list walked whole.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { apiApp, textMail, type ApiApp } from './helpers/api-app.js';

interface ListBody {
  total: number;
  unread: number;
  messages: { id: string; subject: string; inbox: string }[];
  next: string | null;
}

describe('listing from an offset', () => {
  let api: ApiApp;
  const list = async (query: string): Promise<ListBody> => {
    const res = await api.app.inject({ url: `/api/messages?${query}` });
    assert.equal(res.statusCode, 200, `${query}: ${res.body}`);
    return res.json() as ListBody;
  };
  /** Every message the query selects, newest first, through the whole list at once. */
  const whole = async (query: string): Promise<string[]> => (await list(`limit=1000&${query}`)).messages.map((m) => m.subject);

  before(async () => {
    api = await apiApp();
    // 300 messages over two inboxes; every third one says "invoice".
    for (let i = 0; i < 300; i++) {
      api.add(textMail({ Subject: `msg ${i}${i % 3 === 0 ? ' invoice' : ''}`, To: 'bob@example.test' }), { inbox: i % 2 === 0 ? 'even' : 'odd' });
    }
  });

  after(() => api.close());

  test('a page from an offset is the slice of the newest-first list at that position, and its next cursor goes on from there', async () => {
    const all = await whole('');
    const page = await list('offset=120&limit=10');
    assert.equal(page.total, 300);
    assert.deepEqual(page.messages.map((m) => m.subject), all.slice(120, 130));
    assert.equal(page.messages[0]!.subject, 'msg 179');
    const after = await list(`cursor=${page.next}&limit=10`);
    assert.deepEqual(after.messages.map((m) => m.subject), all.slice(130, 140));
    assert.deepEqual((await list('offset=0&limit=5')).messages.map((m) => m.subject), all.slice(0, 5));
  });

  test('the last page from an offset has no next cursor; an offset past the end is an empty page with the total', async () => {
    const all = await whole('');
    const last = await list('offset=295&limit=10');
    assert.deepEqual(last.messages.map((m) => m.subject), all.slice(295));
    assert.equal(last.next, null);
    const beyond = await list('offset=5000&limit=10');
    assert.deepEqual(beyond.messages, []);
    assert.equal(beyond.next, null);
    assert.equal(beyond.total, 300);
  });

  test('with inbox and q, the offset counts only what matches, and totals cover the whole match', async () => {
    for (const query of ['inbox=odd', `q=${encodeURIComponent('subject:invoice')}`, `inbox=even&q=${encodeURIComponent('subject:invoice')}`]) {
      const all = await whole(query);
      assert.ok(all.length > 40, query);
      for (const offset of [0, 7, all.length - 3]) {
        const page = await list(`${query}&offset=${offset}&limit=20`);
        assert.equal(page.total, all.length, query);
        assert.deepEqual(page.messages.map((m) => m.subject), all.slice(offset, offset + 20), `${query} offset=${offset}`);
        assert.equal(page.next === null, offset + 20 >= all.length, `${query} offset=${offset}`);
        if (page.next !== null) {
          const more = await list(`${query}&cursor=${page.next}&limit=5`);
          assert.deepEqual(more.messages.map((m) => m.subject), all.slice(offset + 20, offset + 25), `${query} after offset=${offset}`);
        }
      }
    }
  });

  test('after deletions the offset still counts live messages only', async () => {
    const local = await apiApp();
    try {
      const ids = Array.from({ length: 60 }, (_, i) => local.add(textMail({ Subject: `d ${i}` })).id);
      local.store.delete(ids.filter((_, i) => i % 4 === 1));
      const all = (await local.app.inject({ url: '/api/messages?limit=1000' })).json() as ListBody;
      assert.equal(all.total, 45);
      for (const offset of [0, 1, 10, 30, 44]) {
        const page = (await local.app.inject({ url: `/api/messages?offset=${offset}&limit=8` })).json() as ListBody;
        assert.deepEqual(page.messages.map((m) => m.id), all.messages.slice(offset, offset + 8).map((m) => m.id), `offset=${offset}`);
      }
    } finally {
      await local.close();
    }
  });

  test('a bad offset, or an offset with a cursor, is a 400 that says why', async () => {
    const cases: Array<[string, RegExp]> = [
      ['offset=-1', /offset/],
      ['offset=1.5', /offset/],
      ['offset=ten', /offset/],
      ['offset=10000001', /offset/],
      ['offset=10&cursor=5', /either cursor or offset/],
      ['offset=0&cursor=5', /either cursor or offset/],
    ];
    for (const [query, reason] of cases) {
      const res = await api.app.inject({ url: `/api/messages?${query}` });
      assert.equal(res.statusCode, 400, `${query}: ${res.body}`);
      assert.match((res.json() as { message: string }).message, reason, query);
    }
  });

  test('the OpenAPI document describes offset on the list', async () => {
    const doc = (await api.app.inject({ url: '/api/openapi.json' })).json() as {
      paths: Record<string, { get?: { parameters?: { name: string; in: string; description?: string; schema?: { maximum?: number } }[] } }>;
    };
    const offset = doc.paths['/api/messages']?.get?.parameters?.find((p) => p.name === 'offset');
    assert.ok(offset, 'offset is a documented parameter');
    assert.equal(offset.in, 'query');
    assert.match(offset.description ?? '', /cursor/);
    assert.equal(offset.schema?.maximum, 10_000_000);
  });
});
