// Raw bytes of small messages, copied end to end into large slabs; a message's Buffer is a view
// of its slab. Kept as they came, most of them were slices of a 64 KB socket read or of Buffer's
// 8 KB pool, each holding on to the rest of it, and a Buffer of its own costs ~150 bytes of
// bookkeeping; at 100,000 messages of 2 KB either was 4-8% on top of the raw size (bench: memory).
//
// A slab is freed once none of its messages is stored. Eviction takes the oldest first, so slabs
// empty in the order they filled; deletions can leave a few messages holding a mostly empty slab,
// so the store moves the survivors of sparse slabs into a slab of their own (sparseSlabs()). The
// current slab counts too, by what has been written of it: it may be half of what the store held.
//
// Slabs grow with the store, half of what it holds (4 MB at least; at most a sixteenth of the byte
// budget, and 1 GB). V8 starts a full collection each time its external memory
// (every ArrayBuffer, so every slab) grows 64 MB past the last one: with slabs of a fixed 4 MB, one
// every ~32,000 messages of 2 KB, each marking a heap that grows with the store, so ingest slowed
// as the store filled (bench million: 39 full collections, the last 100,000 messages at 0.63-0.82
// of the rate of the first; 23 collections and 0.74-0.82 with a quarter, 256 MB at most; 0.78-0.89
// with a half, 1 GB). A slab's pages are only resident once written, so a large slab costs no
// memory before it fills.

import { collector } from './collect.js';

/** Messages up to this size are copied into a slab; larger ones keep their own Buffer. */
export const ARENA_MAX_MESSAGE = 64 * 1024;
const MIN_SLAB = 4 * 1024 * 1024;
/** Without a byte budget. */
const MAX_SLAB = 1024 * 1024 * 1024;
/** A slab less full than this is sparse... */
const SPARSE_FILL = 0.25;
/** ...and sparse slabs are emptied once they waste this much, and a quarter of what is live. */
const COMPACT_AFTER_WASTE = 16 * 1024 * 1024;

interface Slab {
  bytes: Buffer;
  /** Bytes of stored messages in the slab. */
  live: number;
}

/** The largest slab for a store of `maxBytes` (0: no budget). */
export function maxSlabFor(maxBytes: number): number {
  return maxBytes > 0 ? Math.min(MAX_SLAB, Math.max(MIN_SLAB, Math.floor(maxBytes / 16))) : MAX_SLAB;
}

export class RawArena {
  readonly #maxSlab: number;
  #slabs = new Map<ArrayBufferLike, Slab>();
  #current: Slab | null = null;
  #used = 0;
  #live = 0;
  /** Bytes of held messages too large for a slab (each its own Buffer). */
  #large = 0;

  constructor(maxSlab = MIN_SLAB) {
    this.#maxSlab = Math.max(MIN_SLAB, maxSlab);
  }

  /**
   * A copy of a small message in the current slab; a large one as it is (a copy would double the
   * peak). Bytes already in one of the slabs are shared, not copied: a message routed to several
   * inboxes is one entry per inbox over the same bytes (server/routing/), each counted until released.
   */
  hold(raw: Buffer): Buffer {
    const length = raw.length;
    if (length > ARENA_MAX_MESSAGE) {
      this.#large += length;
      return raw;
    }
    const owner = this.#slabs.get(raw.buffer);
    if (owner !== undefined) {
      owner.live += length;
      this.#live += length;
      return raw;
    }
    return this.#copy(raw);
  }

  #copy(raw: Buffer): Buffer {
    const length = raw.length;
    if (this.#current === null || this.#used + length > this.#current.bytes.length) {
      const size = Math.min(this.#maxSlab, Math.max(MIN_SLAB, Math.floor(this.#live / 2)));
      this.#current = { bytes: Buffer.allocUnsafeSlow(size), live: 0 };
      this.#slabs.set(this.#current.bytes.buffer, this.#current);
      this.#used = 0;
    }
    const view = this.#current.bytes.subarray(this.#used, this.#used + length);
    raw.copy(view);
    this.#used += length;
    this.#current.live += length;
    this.#live += length;
    return view;
  }

  /** A message left the store. */
  release(raw: Buffer): void {
    const slab = this.#slabs.get(raw.buffer);
    if (!slab) {
      // A large message's own bytes: freed at V8's next full collection.
      collector.freed(raw.length, this.#live + this.#large);
      this.#large -= raw.length;
      return;
    }
    slab.live -= raw.length;
    this.#live -= raw.length;
    if (slab.live > 0) return;
    collector.freed(slab.bytes.length, this.#live + this.#large);
    // Never fill an emptied slab again: views of its old messages may still be in flight (a reply
    // being written, a parse queued), and rewinding would show them another message's bytes.
    // A new slab is cheap; the old one is collected once the last view goes.
    this.#slabs.delete(raw.buffer);
    if (slab === this.#current) this.#current = null;
  }

  /** Slabs worth emptying (their messages held again elsewhere), or null while the waste is small. */
  sparseSlabs(): Set<ArrayBufferLike> | null {
    let waste = 0;
    const sparse = new Set<ArrayBufferLike>();
    for (const [buffer, slab] of this.#slabs) {
      const written = slab === this.#current ? this.#used : slab.bytes.length;
      if (slab.live >= written * SPARSE_FILL) continue;
      sparse.add(buffer);
      waste += written - slab.live;
    }
    return waste >= COMPACT_AFTER_WASTE && waste * 4 >= this.#live ? sparse : null;
  }

  /** Moves a message out of a sparse slab; the bytes are the same, the Buffer is new. */
  move(raw: Buffer): Buffer {
    // Never into a current slab that is sparse itself (being emptied): the survivors go to a new
    // one, sized by what is left.
    if (this.#current !== null && this.#current.live < this.#used * SPARSE_FILL) this.#current = null;
    const moved = this.#copy(raw);
    this.release(raw);
    return moved;
  }

  /** Every message left the store at once (clear()): the slabs go, and so do their bytes. */
  clear(): void {
    collector.freed(this.#live + this.#large, 0);
    this.#slabs.clear();
    this.#current = null;
    this.#used = 0;
    this.#live = 0;
    this.#large = 0;
  }

  /** Slabs allocated now, for tests. */
  get slabCount(): number {
    return this.#slabs.size;
  }
}
