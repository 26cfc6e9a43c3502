// The messages picked for a bulk action (a row's checkbox, shift-click for a range, `x` on the
// highlighted row), by id: arrivals above move rows, not the picks. Deleted messages leave it.

export class Selection {
  #ids = $state.raw<ReadonlySet<string>>(new Set());
  /** The position last picked or unpicked: a shift-click picks from there. */
  #anchor: number | null = null;

  get ids(): ReadonlySet<string> {
    return this.#ids;
  }
  get size(): number {
    return this.#ids.size;
  }
  has(id: string): boolean {
    return this.#ids.has(id);
  }

  toggle(id: string, index: number): void {
    const ids = new Set(this.#ids);
    if (!ids.delete(id)) ids.add(id);
    this.#ids = ids;
    this.#anchor = index;
  }

  /** Picks every loaded row from the last pick to `index` (shift-click). */
  extend(index: number, idAt: (index: number) => string | undefined): void {
    const from = this.#anchor ?? index;
    const ids = new Set(this.#ids);
    for (let i = Math.min(from, index); i <= Math.max(from, index); i++) {
      const id = idAt(i);
      if (id !== undefined) ids.add(id);
    }
    this.#ids = ids;
    this.#anchor = index;
  }

  forget(removed: Iterable<string>): void {
    let ids: Set<string> | null = null;
    for (const id of removed) {
      if (!this.#ids.has(id)) continue;
      ids ??= new Set(this.#ids);
      ids.delete(id);
    }
    if (ids) this.#ids = ids;
  }

  clear(): void {
    if (this.#ids.size > 0) this.#ids = new Set();
    this.#anchor = null;
  }
}
