// What the store does after the 250 and what it keeps: search through the body word index
// (before and after background indexing, for waiters, across evictions), raw bytes copied into
// slabs, headers read on demand past the recent cache, shared envelopes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStore } from '../server/store/memory-store.js';
import type { StoredMessage } from '../server/store/store.js';
import type { Envelope, IncomingMessage } from '../server/store/types.js';
import { compileSearch } from '../server/search/match.js';
import { Recent } from '../server/store/recent.js';

const envelope: Envelope = { mailFrom: 'a@example.test', rcptTo: ['x@example.test'], helo: 'h', remoteAddress: '127.0.0.1', authUser: null, tls: false };

function incoming(subject: string, body: string, extra: Partial<IncomingMessage> = {}): IncomingMessage {
  return {
    raw: Buffer.from(`Subject: ${subject}\r\nTo: x@example.test\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${body}\r\n`),
    inbox: 'default',
    envelope,
    ...extra,
  };
}

function search(store: MemoryStore, q: string): string[] {
  const match = compileSearch(q, store);
  return store.list({ match, limit: 1000 }).messages.map((m) => m.headers.subject);
}

describe('store search index', () => {
  it('finds a body word at once, before background indexing has run', () => {
    const store = new MemoryStore({ maxMessages: 0, maxBytes: 0 });
    store.add(incoming('one', 'nothing here'));
    store.add(incoming('two', 'the word kumquat is here'));
    assert.deepEqual(search(store, 'kumquat'), ['two']);
    assert.deepEqual(search(store, 'KUMQ'), ['two'], 'a part of a word, in another case');
  });

  it('answers from the bodies themselves while a long backlog waits for the background indexer', async () => {
    const store = new MemoryStore({ maxMessages: 0, maxBytes: 0 });
    for (let i = 0; i < 2500; i++) store.add(incoming(`m${i}`, `filler text number${i}z`));
    assert.deepEqual(search(store, 'number7z'), ['m7']);
    assert.deepEqual(search(store, '"text number2499z"'), ['m2499']);
    await store.settled();
    assert.deepEqual(search(store, 'number7z'), ['m7']);
  });

  it('matches a message that arrives after the search was compiled (a pending wait)', () => {
    const store = new MemoryStore({ maxMessages: 0, maxBytes: 0 });
    store.add(incoming('old', 'plain words'));
    const match = compileSearch('pomegranate', store);
    // The predicate is used once before the message exists, as a wait does on the stored ones.
    store.forEachNewest((m) => void match(m));
    const late = store.add(incoming('late', 'a pomegranate arrives'));
    const other = store.add(incoming('other', 'an apple arrives'));
    assert.equal(match(late), true);
    assert.equal(match(other), false);
  });

  it('checks terms with punctuation or spaces against the body itself', () => {
    const store = new MemoryStore({ maxMessages: 0, maxBytes: 0 });
    store.add(incoming('hyphen', 'see foo-bar baz for details'));
    store.add(incoming('split', 'foo and bar are apart'));
    assert.deepEqual(search(store, 'o-b'), ['hyphen']);
    assert.deepEqual(search(store, '"bar baz"'), ['hyphen']);
    assert.deepEqual(search(store, '"baz bar"'), []);
    assert.deepEqual(search(store, 'foo').sort(), ['hyphen', 'split']);
  });

  it('folds case as the search does, long s included', () => {
    const store = new MemoryStore({ maxMessages: 0, maxBytes: 0 });
    store.add(incoming('long s', 'a \u017fecret kept'));
    store.add(incoming('accents', 'ÉCOLE and Straße'));
    assert.deepEqual(search(store, 'secret'), ['long s']);
    assert.deepEqual(search(store, 'école'), ['accents']);
    assert.deepEqual(search(store, 'STRASSE'), [], 'ß is not expanded, as with a case-insensitive RegExp');
  });

  it('finds attachment names and never matches messages that are gone', () => {
    const store = new MemoryStore({ maxMessages: 0, maxBytes: 0 });
    const raw =
      'Subject: with file\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n' +
      '--b\r\nContent-Type: application/pdf; name="Quarterly-Report.pdf"\r\nContent-Disposition: attachment; filename="Quarterly-Report.pdf"\r\n\r\nJVBER\r\n--b--\r\n';
    const m = store.add({ raw: Buffer.from(raw), inbox: 'default', envelope });
    store.add(incoming('plain', 'quarterly numbers inside'));
    assert.deepEqual(search(store, 'quarterly-report').sort(), ['with file']);
    store.delete([m.id]);
    assert.deepEqual(search(store, 'quarterly-report'), []);
    assert.deepEqual(search(store, 'quarterly'), ['plain']);
  });

  it('settles once background indexing has caught up, and searches stay right through many evictions', async () => {
    // 600 distinct words a message and room for 5: evictions leave most postings stale, which rebuilds the index.
    const store = new MemoryStore({ maxMessages: 5, maxBytes: 0 });
    for (let i = 0; i < 400; i++) {
      const words = Array.from({ length: 600 }, (_, k) => `w${i}x${k}`).join(' ');
      store.add(incoming(`m${i}`, `${words} marker${i}end`));
    }
    await store.settled();
    assert.deepEqual(search(store, 'marker399end'), ['m399']);
    assert.deepEqual(search(store, 'marker394end'), [], 'evicted');
    assert.deepEqual(search(store, 'w397x5'), ['m397']);
    assert.equal(search(store, 'marker').length, 5);
  });
});

describe('store holding', () => {
  it('keeps the exact bytes: a copy of a small message, a large one as given', () => {
    const store = new MemoryStore({ maxMessages: 0, maxBytes: 0 });
    const small = Buffer.from('Subject: small\r\n\r\nbody\r\n');
    const expected = Buffer.from(small);
    const large = Buffer.concat([Buffer.from('Subject: large\r\n\r\n'), Buffer.alloc(200 * 1024, 0x61), Buffer.from('\r\n')]);
    const a = store.add({ raw: small, inbox: 'default', envelope });
    const b = store.add({ raw: large, inbox: 'default', envelope });
    // The sender's buffer may be reused (a socket read); what was stored must not change with it.
    small.fill(0x7a);
    assert.deepEqual(store.get(a.id)!.raw, expected);
    assert.equal(store.get(b.id)!.raw.length, large.length);
    assert.ok(store.get(b.id)!.raw.equals(large));
  });

  it('moves the few messages left in mostly emptied slabs, so deleting most mail frees its memory', () => {
    const store = new MemoryStore({ maxMessages: 0, maxBytes: 0 });
    const kept: Array<{ id: string; raw: Buffer }> = [];
    const doomed: string[] = [];
    for (let i = 0; i < 12_000; i++) {
      const m = store.add(incoming(`m${i}`, `${i} `.padEnd(2000, 'x')));
      if (i % 100 === 0) kept.push({ id: m.id, raw: Buffer.from(m.raw) });
      else doomed.push(m.id);
    }
    const slabsBefore = store.slabCount;
    // 4, 4, 4, 6 and 9 MB: slabs grow with the store (server/store/raw-arena.ts).
    assert.ok(slabsBefore >= 5, `${slabsBefore} slabs for 24 MB`);
    store.delete(doomed);
    assert.ok(store.slabCount <= 2, `${store.slabCount} slabs left for ${kept.length} messages`);
    for (const k of kept) assert.ok(store.get(k.id)!.raw.equals(k.raw));
    assert.deepEqual(search(store, 'subject:m11900'), ['m11900']);
  });

  it('reads headers on demand for messages far beyond the recent-parse cache', () => {
    const store = new MemoryStore({ maxMessages: 0, maxBytes: 0 });
    const first = store.add(incoming('=?UTF-8?B?w6l0w6k=?= first', 'body'));
    for (let i = 0; i < 5000; i++) store.summary(store.add(incoming(`filler ${i}`, 'x')));
    assert.equal(store.get(first.id)!.headers.subject, 'été first');
    assert.equal(store.summary(store.get(first.id)!).subject, 'été first');
    assert.deepEqual(search(store, 'subject:été'), ['été first']);
  });

  it('says a header problem once in the summary (headers and body scan both read the header block)', () => {
    const store = new MemoryStore({ maxMessages: 0, maxBytes: 0 });
    const m = store.add({ raw: Buffer.from('Subject: x\r\nbad line\r\n\r\nbody\r\n'), inbox: 'default', envelope });
    assert.deepEqual(store.summary(m).problems, ['1 header line(s) without a name were ignored']);
  });

  it('shares identical envelopes and keeps different ones apart', () => {
    const store = new MemoryStore({ maxMessages: 0, maxBytes: 0 });
    const a = store.add(incoming('a', 'x'));
    const b = store.add(incoming('b', 'x', { envelope: { ...envelope, rcptTo: [...envelope.rcptTo] } }));
    const c = store.add(incoming('c', 'x', { envelope: { ...envelope, rcptTo: ['x@example.test', 'hidden@example.test'] } }));
    assert.equal(a.envelope, b.envelope);
    assert.deepEqual(c.envelope.rcptTo, ['x@example.test', 'hidden@example.test']);
    assert.deepEqual(search(store, 'to:hidden@example.test'), ['c']);
    const ids = (ms: StoredMessage[]): string[] => ms.map((m) => m.id);
    assert.deepEqual(ids(store.since(0)), [a.id, b.id, c.id]);
  });
});

describe('recent-parse cache', () => {
  it('forgets the least recently used first, by count and by weight', () => {
    const recent = new Recent<string, string>(3, 100, (v) => v.length);
    recent.set('a', 'x'.repeat(10));
    recent.set('b', 'x'.repeat(10));
    recent.set('c', 'x'.repeat(10));
    assert.ok(recent.get('a'), 'a is used again, so b is now the oldest');
    recent.set('d', 'x'.repeat(10));
    assert.equal(recent.get('b'), undefined);
    assert.ok(recent.get('a') && recent.get('c') && recent.get('d'));
    // One heavy entry pushes out the oldest until the weight is a sixteenth under its bound
    // (93.75 here): a, c, and d as well (95), not one entry at each set after.
    recent.set('e', 'x'.repeat(85));
    assert.equal(recent.get('a'), undefined);
    assert.equal(recent.get('c'), undefined);
    assert.equal(recent.get('d'), undefined);
    assert.ok(recent.get('e'));
    recent.set('g', 'x'.repeat(5));
    assert.ok(recent.get('e') && recent.get('g'), 'under the bound again: nothing more goes');
    recent.set('f', 'y', 200);
    assert.equal(recent.get('e'), undefined, 'an explicit weight counts too');
  });
});
