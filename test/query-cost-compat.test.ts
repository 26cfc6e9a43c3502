// Issue #16, the routes beside GET /api/messages: Mailpit's search (GET/DELETE /api/v1/search,
// PUT /api/v1/messages with Search), MailHog's /api/v2/search and GET /api/wait's first look at
// the stored messages run their predicate through the same sliced walk (server/search/
// sliced-match.ts). As in test/query-cost.test.ts, costs are compared as ratios within one run,
// never against a clock.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileMailpitSearch } from '../server/http/compat/mailpit/search.js';
import { apiApp } from './helpers/api-app.js';
import { assertSliced, ticking } from './helpers/timer-gaps.js';

describe('query cost, compatibility routes', () => {
  it("a Mailpit search that decodes every body lets timers run between its slices, where the same walk in one piece holds them", async () => {
    const local = await apiApp();
    try {
      // 2 KB HTML bodies: no shortcut, each one decoded (~30 µs); more than the recent-body cache holds.
      const html = '<p>A line of <b>text</b> in a <a href="https://example.test/x">message</a>, with words.</p>\n'.repeat(24);
      for (let i = 0; i < 9000; i++) local.add(`From: a@example.test\nTo: b@example.test\nSubject: m${i}\nContent-Type: text/html\n\n${html}<p>${i}</p>\n`);
      await local.store.settled();
      const query = ',';
      // The app's first request compiles its schemas: not what is measured.
      await local.app.inject({ url: '/api/v1/search?limit=1&query=x' });
      // In one piece, as list() walks with the compiled predicate (what the route did before).
      const t0 = performance.now();
      const whole = local.store.list({ match: compileMailpitSearch(query, undefined, local.store), limit: 50 }).total;
      const inOnePiece = performance.now() - t0;
      // Through the route, timers ticking meanwhile.
      const run = await assertSliced(local.app, `/api/v1/search?limit=50&query=${encodeURIComponent(query)}`, inOnePiece, ({ res }) => {
        assert.equal(res.statusCode, 200);
        const body = JSON.parse(res.body) as { messages_count: number; count: number };
        assert.equal(body.messages_count, whole);
        assert.equal(body.count, 50);
        assert.equal(whole, 9000);
      });
      console.log(`# Mailpit search: ${inOnePiece.toFixed(1)} ms in one piece; sliced ${run.elapsed.toFixed(1)} ms, longest timer gap ${run.longestGap.toFixed(1)} ms, ${run.ticks} ticks`);
    } finally {
      await local.close();
    }
  });

  it("MailHog's search, GET /api/wait over stored messages and Mailpit's DELETE by search let timers in, with the same answers", async () => {
    const local = await apiApp();
    try {
      const html = '<p>A line of <b>text</b> in a <a href="https://example.test/x">message</a>, with words.</p>\n'.repeat(24);
      const first = local.add(`From: a@example.test\nTo: b@example.test\nSubject: m0\nContent-Type: text/html\n\n${html}<p>0</p>\n`);
      for (let i = 1; i < 9000; i++) local.add(`From: a@example.test\nTo: b@example.test\nSubject: m${i}\nContent-Type: text/html\n\n${html}<p>${i}</p>\n`);
      await local.store.settled();
      await local.app.inject({ url: '/api/v2/search?kind=containing&query=x&limit=1' });
      // MailHog reads every raw message (none has the needle): the cheapest walk here, still sliced.
      const mailhog = await ticking(local.app, { url: '/api/v2/search?kind=containing&query=no-such-text&limit=5' });
      assert.equal(mailhog.res.statusCode, 200);
      assert.equal(JSON.parse(mailhog.res.body).total, 0);
      assert.ok(mailhog.ticks >= 2, `MailHog search: ${mailhog.ticks} ticks`);
      // A wait after a moment before every message: they are all searched, the oldest match answers.
      const wait = await ticking(local.app, { url: `/api/wait?after=0&q=${encodeURIComponent('","')}&timeout=1` });
      assert.equal(wait.res.statusCode, 200);
      assert.equal(JSON.parse(wait.res.body).id, first.id);
      assert.ok(wait.ticks >= 4, `wait: ${wait.ticks} ticks`);
      const deleted = await ticking(local.app, { method: 'DELETE', url: `/api/v1/search?query=${encodeURIComponent(',')}` });
      assert.equal(deleted.res.statusCode, 200);
      assert.equal(local.store.counts().messages, 0);
      assert.ok(deleted.ticks >= 4, `Mailpit DELETE by search: ${deleted.ticks} ticks`);
      console.log(`# ticks: MailHog search ${mailhog.ticks}, wait ${wait.ticks}, Mailpit DELETE ${deleted.ticks}`);
    } finally {
      await local.close();
    }
  });
});
