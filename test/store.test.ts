// The store on its own: ordering, paging, counters, eviction by count and bytes, and the
// event for every change.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStore } from '../server/store/memory-store.js';
import type { StoreEvent } from '../server/store/store.js';
import type { IncomingMessage } from '../server/store/types.js';

function incoming(subject: string, inbox = 'default', bodyBytes = 10): IncomingMessage {
  return {
    raw: Buffer.from(`Subject: ${subject}\r\nTo: x@example.test\r\n\r\n${'b'.repeat(bodyBytes)}\r\n`),
    inbox,
    envelope: { mailFrom: 'a@example.test', rcptTo: ['x@example.test'], helo: 'h', remoteAddress: '127.0.0.1', authUser: null, tls: false },
  };
}

function record(store: MemoryStore): StoreEvent[] {
  const events: StoreEvent[] = [];
  store.subscribe((e) => events.push(e));
  return events;
}

describe('MemoryStore', () => {
  it('lists newest first and pages with a cursor without skipping or repeating', () => {
    const store = new MemoryStore({ maxMessages: 0, maxBytes: 0 });
    for (let i = 0; i < 25; i++) store.add(incoming(`m${i}`));
    const seen: string[] = [];
    let cursor: number | undefined;
    for (;;) {
      const page = store.list({ limit: 10, beforeSeq: cursor });
      assert.equal(page.total, 25);
      seen.push(...page.messages.map((m) => m.headers.subject));
      if (page.nextBeforeSeq === null) break;
      cursor = page.nextBeforeSeq;
    }
    assert.deepEqual(seen, Array.from({ length: 25 }, (_, i) => `m${24 - i}`));
  });

  it('counts matches over the whole store while paging a filtered list', () => {
    const store = new MemoryStore({ maxMessages: 0, maxBytes: 0 });
    for (let i = 0; i < 30; i++) store.add(incoming(`m${i}`, i % 3 === 0 ? 'a' : 'b'));
    const match = (m: { headers: { subject: string } }): boolean => Number(m.headers.subject.slice(1)) % 2 === 0;
    const first = store.list({ limit: 4, match, inbox: 'b' });
    assert.equal(first.messages.length, 4);
    const second = store.list({ limit: 4, match, inbox: 'b', beforeSeq: first.nextBeforeSeq! });
    assert.equal(second.total, first.total);
    assert.equal(first.total, 10);
  });

  it('keeps per-inbox and global counters through read changes and deletes', () => {
    const store = new MemoryStore({ maxMessages: 0, maxBytes: 0 });
    const a = store.add(incoming('1', 'ci-1'));
    store.add(incoming('2', 'ci-1'));
    const c = store.add(incoming('3', 'ci-2'));
    store.setRead(a.id, true);
    assert.deepEqual(store.inboxes().sort((x, y) => x.name.localeCompare(y.name)), [
      { name: 'ci-1', total: 2, unread: 1 },
      { name: 'ci-2', total: 1, unread: 1 },
    ]);
    store.delete([c.id]);
    assert.deepEqual(store.inboxes(), [{ name: 'ci-1', total: 2, unread: 1 }]);
    assert.equal(store.counts().unread, 1);
    assert.equal(store.clear('ci-1'), 2);
    assert.deepEqual(store.counts(), { messages: 0, unread: 0, bytes: 0 });
  });

  it('evicts the oldest at insert time when the count limit is reached, with an event', () => {
    const store = new MemoryStore({ maxMessages: 3, maxBytes: 0 });
    const events = record(store);
    const first = store.add(incoming('1'));
    store.add(incoming('2'));
    store.add(incoming('3'));
    store.add(incoming('4'));
    assert.equal(store.get(first.id), undefined);
    assert.equal(store.counts().messages, 3);
    const evicted = events.find((e) => e.type === 'evicted');
    assert.deepEqual(evicted, { type: 'evicted', messages: [{ id: first.id, inbox: 'default' }] });
    // The eviction is announced before the message that caused it.
    assert.ok(events.indexOf(evicted!) < events.findIndex((e) => e.type === 'added' && e.message.headers.subject === '4'));
  });

  it('evicts the oldest to stay within the byte budget', () => {
    const one = incoming('x', 'default', 1000).raw.length;
    const store = new MemoryStore({ maxMessages: 0, maxBytes: one * 3 });
    const ids = Array.from({ length: 5 }, (_, i) => store.add(incoming(String(i), 'default', 1000)).id);
    assert.equal(store.counts().messages, 3);
    assert.ok(store.counts().bytes <= one * 3);
    assert.deepEqual(ids.map((id) => store.get(id) !== undefined), [false, false, true, true, true]);
  });

  it('emits added, updated, deleted and cleared in order, and no update when nothing changes', () => {
    const store = new MemoryStore({ maxMessages: 0, maxBytes: 0 });
    const events = record(store);
    const m = store.add(incoming('x'));
    store.setRead(m.id, true);
    store.setRead(m.id, true);
    store.delete([m.id, 'unknown']);
    store.clear();
    assert.deepEqual(events.map((e) => e.type), ['added', 'updated', 'deleted', 'cleared']);
  });

  it('finds messages after a point with since(), across deletions and compaction', () => {
    const store = new MemoryStore({ maxMessages: 0, maxBytes: 0 });
    const all = Array.from({ length: 3000 }, (_, i) => store.add(incoming(String(i))));
    store.delete(all.slice(0, 2500).filter((_, i) => i % 2 === 0).map((m) => m.id));
    store.delete(all.slice(0, 2000).map((m) => m.id));
    const point = all[2989]!.seq;
    assert.deepEqual(store.since(point).map((m) => m.headers.subject), Array.from({ length: 10 }, (_, i) => String(2990 + i)));
    // 1250 odd-indexed-out deletions, then 1000 more of the first 2000: 750 left.
    assert.equal(store.list({ limit: 5000 }).messages.length, 750);
  });

  it('never lets a deleted message show another message\'s bytes to a reader still holding it', () => {
    // Regression: an emptied slab was refilled from offset 0 while a queued parse or a reply
    // being written still held a view of the old message (GET /api/messages/A answered B).
    const store = new MemoryStore({ maxMessages: 0, maxBytes: 0 });
    const a = store.add(incoming('AAAA'));
    const heldByAReader = a.raw;
    const before = Buffer.from(heldByAReader);
    store.delete([a.id]);
    store.add(incoming('BBBB'));
    assert.ok(heldByAReader.equals(before), heldByAReader.toString('latin1'));
  });
});
