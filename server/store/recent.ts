// A bounded map that forgets the least recently used entry: what the store keeps of parsed
// headers and body scans, so a list page or a burst of live events does not parse twice, while
// 100,000 stored messages do not keep 100,000 parses.

export class Recent<K, V> {
  readonly #max: number;
  /** Least recently used first: a Map iterates in insertion order and a hit is re-inserted. */
  #map = new Map<K, V>();

  constructor(max: number) {
    this.#max = max;
  }

  get(key: K): V | undefined {
    const value = this.#map.get(key);
    if (value !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, value);
    }
    return value;
  }

  set(key: K, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size > this.#max) this.#map.delete(this.#map.keys().next().value as K);
  }

  delete(key: K): void {
    this.#map.delete(key);
  }

  clear(): void {
    this.#map.clear();
  }
}
