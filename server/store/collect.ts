// A full garbage collection after the store lets go of a lot of raw bytes. Evicted and deleted
// messages' bytes (a large message's own Buffer, an emptied slab) are freed only when V8 next
// collects the old generation, and V8 waits for its external memory to grow by about 64 MB past
// the last collection before it does: under a steady stream at the byte budget, the freed bytes
// of a whole budget and more sat in the process (bench soak: ArrayBuffers 170 MB for 64 MB of mail).
// Asking for a collection once as much as a quarter of what the store holds has been let go keeps
// that bounded; it runs at most once a second, between turns, and only with work to free.
// Measured (bench soak, 1 minute, 64 MB budget): highest RSS 432-450 MB -> 383 MB, ArrayBuffers at
// most 170 -> 137 MB; a collection every ~6 s under that load, each a 47-77 ms pause (1% of the time).
// A forced collection is not incremental: the price of a bounded process, paid only while mail
// is evicted or deleted by the tens of megabytes.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Collect = () => void;

/** V8's gc(), exposed for this process at first use when it was not started with --expose-gc. */
let gc: Collect | null = null;
function gcFunction(): Collect {
  if (gc) return gc;
  const own = (globalThis as { gc?: Collect }).gc;
  if (own) return (gc = own);
  setFlagsFromString('--expose-gc');
  return (gc = runInNewContext('gc') as Collect);
}

const MIN_INTERVAL_MS = 1000;
/**
 * A collection waits at least this long after it is due: what was let go may still be referenced
 * for a moment (a reply being written, the indexer's queue, which drops gone messages once it
 * next runs, 25 ms after the last arrival at the earliest).
 */
const SETTLE_MS = 200;
/** Freed bytes that warrant a collection even while the store holds little. */
const MIN_FREED = 16 * 1024 * 1024;

/** One for the process, as the collection is: every store's releases count toward the same one. */
class Collector {
  #freed = 0;
  #lastAt = -Infinity;
  #pending: NodeJS.Timeout | null = null;

  /** `bytes` of raw mail are no longer the store's; `held`: what it still holds. */
  freed(bytes: number, held: number): void {
    this.#freed += bytes;
    if (this.#pending !== null || this.#freed < Math.max(MIN_FREED, held / 4)) return;
    const wait = Math.max(SETTLE_MS, this.#lastAt + MIN_INTERVAL_MS - performance.now());
    this.#pending = setTimeout(() => this.#collect(), wait);
    this.#pending.unref();
  }

  #collect(retries = 2): void {
    this.#pending = null;
    const freed = this.#freed;
    this.#freed = 0;
    this.#lastAt = performance.now();
    const before = process.memoryUsage().arrayBuffers;
    gcFunction()();
    if (retries === 0) return;
    // Still referenced when it ran (the indexer's queue of a large backlog, a reply being written):
    // try again a little later, as no further release may come to ask for it.
    this.#pending = setTimeout(() => {
      this.#pending = null;
      if (before - process.memoryUsage().arrayBuffers >= freed / 2) return;
      this.#freed += freed;
      this.#pending = setTimeout(() => this.#collect(retries - 1), MIN_INTERVAL_MS);
      this.#pending.unref();
    }, SETTLE_MS);
    this.#pending.unref();
  }
}

export const collector = new Collector();
