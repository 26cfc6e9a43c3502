// The keyboard's place in the message list: the highlighted message, by id (an arrival above
// moves its row, not the highlight), or a row the keys moved to before it was loaded. What the
// keys move is what they act on (d, u, Enter, x): the mailbox reads this, never the open message.
import type { RowWindow } from './row-window.ts';

export class Cursor {
  #highlighted = $state<string | null>(null);
  /** A row the keyboard moved to before it was loaded; the highlight lands on it once it is. */
  #wanted = $state<number | null>(null);

  get highlighted(): string | null {
    return this.#highlighted;
  }
  /** A row the keyboard moved to that is still loading. */
  get wanted(): number | null {
    return this.#wanted;
  }

  set(id: string | null): void {
    this.#highlighted = id;
    this.#wanted = null;
  }

  /** Where the keyboard is (-1: nowhere), loaded or not. */
  index(rows: RowWindow): number {
    if (this.#wanted !== null) return this.#wanted;
    return this.#highlighted === null ? -1 : rows.indexOf(this.#highlighted);
  }

  /** Moves by `delta` rows (±Infinity: to an end) in a list of `total`; a row not loaded yet is waited for. */
  move(delta: number, total: number, rows: RowWindow): void {
    if (total === 0) return;
    const at = this.index(rows);
    // With no row highlighted yet, every key but End starts at the top.
    const target = at < 0 && delta !== Infinity ? 0 : Math.max(0, Math.min(total - 1, at + delta));
    const m = rows.at(target);
    if (m) this.set(m.id);
    else this.#wanted = target;
  }

  /** A row arrived above: a wanted position moves down with the rows. */
  shiftDown(rows = 1): void {
    if (this.#wanted !== null) this.#wanted += rows;
  }

  /**
   * After rows were removed: a wanted position stays inside the list, and a highlight on a
   * removed message moves to the row that took its place (`at`, its position before).
   */
  afterRemoval(removed: ReadonlySet<string>, at: number, total: number, rows: RowWindow): void {
    if (this.#wanted !== null) this.#wanted = Math.max(0, Math.min(this.#wanted, total - 1));
    if (this.#highlighted !== null && removed.has(this.#highlighted)) this.#highlighted = rows.at(Math.min(at, total - 1))?.id ?? null;
  }

  /** Rows were loaded: the highlight lands on the wanted row if it is among them. */
  land(rows: RowWindow): void {
    if (this.#wanted === null) return;
    const m = rows.at(this.#wanted);
    if (m) this.set(m.id);
  }
}
