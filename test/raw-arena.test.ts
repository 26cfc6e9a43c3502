// The raw-byte slabs grow with the store (server/store/raw-arena.ts): V8 starts a full collection
// for every 64 MB its external memory grows, so fixed 4 MB slabs made ingest slow down as the store
// filled. Under a byte budget they stay a sixteenth of it, so a freed slab stays small.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RawArena, maxSlabFor } from '../server/store/raw-arena.js';

const MB = 1024 * 1024;

function message(i: number): Buffer {
  const raw = Buffer.alloc(60 * 1024, 0x61 + (i % 26));
  raw.writeUInt32BE(i, 0);
  return raw;
}

describe('raw arena slabs', () => {
  it('bounds the largest slab by the byte budget: a sixteenth, between 4 MB and 1 GB', () => {
    assert.equal(maxSlabFor(0), 1024 * MB, 'no budget');
    assert.equal(maxSlabFor(64 * MB), 4 * MB);
    assert.equal(maxSlabFor(512 * MB), 32 * MB);
    assert.equal(maxSlabFor(64 * 1024 * MB), 1024 * MB);
  });

  it('grows its slabs with what it holds when the budget allows, and keeps every message as it came', () => {
    const grown = new RawArena(maxSlabFor(0));
    const fixed = new RawArena(maxSlabFor(64 * MB));
    const held: Buffer[] = [];
    for (let i = 0; i < 3200; i++) {
      const raw = message(i);
      held.push(grown.hold(raw));
      fixed.hold(raw);
    }
    // 187.5 MB: 68 messages of 60 KB fill a 4 MB slab, so 48 of them at 4 MB. Grown: 4 MB slabs
    // until 8 MB is held, then each half of what is held: 4, 4, 4, 6, 9, 13.4, 20.2, 30.2, 45.4, 68 MB.
    assert.equal(fixed.slabCount, 48, 'a 64 MB budget keeps 4 MB slabs');
    assert.equal(grown.slabCount, 10, '187.5 MB in grown slabs');
    for (let i = 0; i < held.length; i += 97) assert.ok(held[i]!.equals(message(i)), `message ${i}`);
  });

  it('frees a grown slab once its last message is released', () => {
    const arena = new RawArena(maxSlabFor(0));
    const held = Array.from({ length: 1500 }, (_, i) => arena.hold(message(i)));
    const before = arena.slabCount;
    for (const raw of held.slice(0, 1000)) arena.release(raw);
    assert.ok(arena.slabCount < before, `${arena.slabCount} slabs of ${before} after releasing the oldest two thirds`);
    for (const raw of held.slice(1000)) arena.release(raw);
    assert.equal(arena.slabCount, 0);
  });

  it('moves the survivors out of a mostly emptied current slab too, into a slab sized by what is left', () => {
    const arena = new RawArena(maxSlabFor(0));
    let held = Array.from({ length: 1500 }, (_, i) => ({ i, raw: arena.hold(message(i)) }));
    // The last slab (30 MB, 27 MB of it written) is the current one; keep one message in a hundred.
    for (const h of held) if (h.i % 100 !== 0) arena.release(h.raw);
    held = held.filter((h) => h.i % 100 === 0);
    const current = held.at(-1)!.raw.buffer;
    assert.ok(current.byteLength > 16 * MB, `the last survivor is in the current slab, ${current.byteLength} bytes`);
    const sparse = arena.sparseSlabs();
    assert.ok(sparse, 'most of what was written is gone');
    assert.ok(held.every((h) => sparse.has(h.raw.buffer)), 'every slab with a survivor is sparse, the current one too');
    held = held.map((h) => ({ i: h.i, raw: arena.move(h.raw) }));
    assert.equal(arena.slabCount, 1, 'the survivors (15 × 60 KB) in one slab');
    assert.ok(held.every((h) => h.raw.buffer !== current && h.raw.buffer.byteLength === 4 * MB), 'a new 4 MB one: the 30 MB slab is let go');
    for (const h of held) assert.ok(h.raw.equals(message(h.i)), `message ${h.i}`);
  });
});

