// Results computed from a message's raw bytes (a full parse, the message checks), cached by the
// Buffer the store holds for that message, without ever holding the Buffer: the store keeps small
// messages as views of slabs (4 MB to 1 GB), so a cached key would keep a deleted message's whole slab alive.
// The LRU (least recently used first: a Map iterates in insertion order, a hit is re-inserted)
// holds the results, each with a weak reference back to its key. Concurrent asks for one message
// share one computation.

export interface RawCacheOptions<V> {
  maxEntries: number;
  /** A bound on the results' total weight (bytes, say); a result heavier than all of it is not kept. */
  maxWeight?: number;
  weigh?: (value: V) => number;
  /** Whether a result is worth keeping (an error that may pass is not). */
  keep?: (value: V) => boolean;
}

export class RawCache<V extends object> {
  readonly #options: Required<RawCacheOptions<V>>;
  readonly #byRaw = new WeakMap<Buffer, V>();
  readonly #lru = new Map<V, { key: WeakRef<Buffer>; weight: number }>();
  readonly #inFlight = new Map<Buffer, Promise<V>>();
  #weight = 0;

  constructor(options: RawCacheOptions<V>) {
    this.#options = { maxWeight: Infinity, weigh: () => 0, keep: () => true, ...options };
  }

  /** The result for `raw`: remembered, being computed, or computed now by `compute`. */
  get(raw: Buffer, compute: () => Promise<V>): Promise<V> {
    const hit = this.#byRaw.get(raw);
    const slot = hit && this.#lru.get(hit);
    if (hit && slot) {
      this.#lru.delete(hit);
      this.#lru.set(hit, slot);
      return Promise.resolve(hit);
    }
    let pending = this.#inFlight.get(raw);
    if (!pending) {
      pending = compute().then(
        (value) => {
          this.#inFlight.delete(raw);
          this.#remember(raw, value);
          return value;
        },
        (err: unknown) => {
          this.#inFlight.delete(raw);
          throw err;
        },
      );
      this.#inFlight.set(raw, pending);
    }
    return pending;
  }

  #remember(raw: Buffer, value: V): void {
    const { maxEntries, maxWeight, weigh, keep } = this.#options;
    if (!keep(value)) return;
    const weight = weigh(value);
    // A result heavier than the whole budget would only evict everything else for one look.
    if (weight > maxWeight) return;
    this.#byRaw.set(raw, value);
    this.#lru.set(value, { key: new WeakRef(raw), weight });
    this.#weight += weight;
    for (const [old, slot] of this.#lru) {
      if (this.#lru.size <= maxEntries && this.#weight <= maxWeight) break;
      this.#lru.delete(old);
      this.#weight -= slot.weight;
      const k = slot.key.deref();
      if (k && this.#byRaw.get(k) === old) this.#byRaw.delete(k);
    }
  }
}
