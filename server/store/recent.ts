// A bounded map that forgets the least recently used entries: what the store keeps of parsed
// headers and body scans, so a list page or a burst of live events does not parse twice, while
// 100,000 stored messages do not keep 100,000 parses. Bounded by count and by weight (about the
// bytes an entry holds): 4,096 body scans of 64 KB of text each would otherwise be 256 MB.

export class Recent<K, V> {
  readonly #maxEntries: number;
  readonly #maxWeight: number;
  readonly #weigh: (value: V) => number;
  /** Least recently used first: a Map iterates in insertion order and a hit is re-inserted. */
  #map = new Map<K, { value: V; weight: number }>();
  #weight = 0;

  constructor(maxEntries: number, maxWeight = Infinity, weigh: (value: V) => number = () => 1) {
    this.#maxEntries = maxEntries;
    this.#maxWeight = maxWeight;
    this.#weigh = weigh;
  }

  get(key: K): V | undefined {
    const slot = this.#map.get(key);
    if (slot === undefined) return undefined;
    this.#map.delete(key);
    this.#map.set(key, slot);
    return slot.value;
  }

  /** `weight` defaults to what the constructor's weigh() says. */
  set(key: K, value: V, weight = this.#weigh(value)): void {
    this.delete(key);
    this.#map.set(key, { value, weight });
    this.#weight += weight;
    if (this.#map.size <= this.#maxEntries && this.#weight <= this.#maxWeight) return;
    // Over either bound, down to a sixteenth below it at once: finding the oldest entry walks past
    // every one deleted since the Map last compacted itself, thousands when one is dropped per
    // set (3% of ingest with a live client, bench ingest profiled; then 2% more once the weight
    // bound, still trimmed one entry a set, was the one reached).
    const entries = this.#map.size > this.#maxEntries ? this.#maxEntries - (this.#maxEntries >> 4) : this.#maxEntries;
    const toWeight = this.#weight > this.#maxWeight ? this.#maxWeight - this.#maxWeight / 16 : this.#maxWeight;
    for (const [oldest, slot] of this.#map) {
      if (this.#map.size <= entries && this.#weight <= toWeight) break;
      this.#map.delete(oldest);
      this.#weight -= slot.weight;
    }
  }

  delete(key: K): void {
    const slot = this.#map.get(key);
    if (slot === undefined) return;
    this.#map.delete(key);
    this.#weight -= slot.weight;
  }

  clear(): void {
    this.#map.clear();
    this.#weight = 0;
  }
}
