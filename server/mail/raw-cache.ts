// Results computed from a message's raw bytes (a full parse, the message checks), cached by where
// the bytes are, without ever holding them: the store keeps small messages in slabs (4 MB to
// 1 GB), so a cached key would keep a deleted message's whole slab alive. The key is the bytes'
// ArrayBuffer (weakly), their offset in it and their length, not the Buffer object: the store
// makes a new view of a message's bytes each time they are asked for (a Buffer kept per message
// was 96 bytes of heap, bench: memory), and any view of the same bytes finds the same result.
// The LRU (least recently used first: a Map iterates in insertion order, a hit is re-inserted)
// holds the results, each with a weak reference back to its ArrayBuffer. Concurrent asks for one
// message share one computation.

export interface RawCacheOptions<V> {
  maxEntries: number;
  /** A bound on the results' total weight (bytes, say); a result heavier than all of it is not kept. */
  maxWeight?: number;
  weigh?: (value: V) => number;
  /** Whether a result is worth keeping (an error that may pass is not). */
  keep?: (value: V) => boolean;
}

interface Slot {
  buffer: WeakRef<ArrayBufferLike>;
  at: number | string;
  weight: number;
}

/**
 * Where in its ArrayBuffer a view's bytes are, as a key: one number (exact below 2^53) for an
 * offset below 2 GB and a length below 2 MB, as every message in a slab has; a string otherwise.
 */
function placeOf(raw: Buffer): number | string {
  const { byteOffset, length } = raw;
  return byteOffset < 2 ** 31 && length < 2 ** 21 ? byteOffset * 2 ** 21 + length : `${byteOffset}:${length}`;
}

export class RawCache<V extends object> {
  readonly #options: Required<RawCacheOptions<V>>;
  /** ArrayBuffer → place (placeOf) → result. */
  readonly #byBuffer = new WeakMap<ArrayBufferLike, Map<number | string, V>>();
  readonly #lru = new Map<V, Slot>();
  readonly #inFlight = new Map<ArrayBufferLike, Map<number | string, Promise<V>>>();
  #weight = 0;

  constructor(options: RawCacheOptions<V>) {
    this.#options = { maxWeight: Infinity, weigh: () => 0, keep: () => true, ...options };
  }

  /** The result for `raw`: remembered, being computed, or computed now by `compute`. */
  get(raw: Buffer, compute: () => Promise<V>): Promise<V> {
    const buffer = raw.buffer;
    const at = placeOf(raw);
    const hit = this.#byBuffer.get(buffer)?.get(at);
    const slot = hit && this.#lru.get(hit);
    if (hit && slot) {
      this.#lru.delete(hit);
      this.#lru.set(hit, slot);
      return Promise.resolve(hit);
    }
    let flying = this.#inFlight.get(buffer);
    let pending = flying?.get(at);
    if (!pending) {
      const done = (): void => {
        flying!.delete(at);
        if (flying!.size === 0) this.#inFlight.delete(buffer);
      };
      pending = compute().then(
        (value) => {
          done();
          this.#remember(buffer, at, value);
          return value;
        },
        (err: unknown) => {
          done();
          throw err;
        },
      );
      if (!flying) this.#inFlight.set(buffer, (flying = new Map()));
      flying.set(at, pending);
    }
    return pending;
  }

  #remember(buffer: ArrayBufferLike, at: number | string, value: V): void {
    const { maxEntries, maxWeight, weigh, keep } = this.#options;
    if (!keep(value)) return;
    const weight = weigh(value);
    // A result heavier than the whole budget would only evict everything else for one look.
    if (weight > maxWeight) return;
    let places = this.#byBuffer.get(buffer);
    if (!places) this.#byBuffer.set(buffer, (places = new Map()));
    places.set(at, value);
    this.#lru.set(value, { buffer: new WeakRef(buffer), at, weight });
    this.#weight += weight;
    for (const [old, slot] of this.#lru) {
      if (this.#lru.size <= maxEntries && this.#weight <= maxWeight) break;
      this.#lru.delete(old);
      this.#weight -= slot.weight;
      const b = slot.buffer.deref();
      const oldPlaces = b && this.#byBuffer.get(b);
      if (oldPlaces && oldPlaces.get(slot.at) === old) {
        oldPlaces.delete(slot.at);
        if (oldPlaces.size === 0) this.#byBuffer.delete(b);
      }
    }
  }
}
