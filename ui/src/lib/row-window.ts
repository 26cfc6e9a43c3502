// The rows of the message list the page holds: a sparse, newest-first window onto a list that may
// be 100,000 long, as runs of consecutive rows around where the user looked. No runes and no I/O:
// every change returns a new window (the inbox keeps it in one `$state.raw`), so it is tested
// on its own (test/row-window.test.ts) and Svelte sees each change as one assignment.
import type { MessageSummary } from './api.ts';

/**
 * Rows loaded one after another: positions start..start+messages.length-1 of the list. `next`
 * is the API's cursor for the rows after them (null when unknown); `last` says they reach the end.
 */
export interface Run {
  readonly start: number;
  readonly messages: readonly MessageSummary[];
  readonly next: string | null;
  readonly last: boolean;
}

export const endOf = (run: Run): number => run.start + run.messages.length;

/** What a removal found among the loaded rows. */
export interface Removal {
  readonly window: RowWindow;
  /** Ids of the removed messages that were loaded. */
  readonly found: ReadonlySet<string>;
  /** How many of those were unread. */
  readonly unread: number;
}

export class RowWindow {
  static readonly empty = new RowWindow([]);

  /** Sorted by start, apart (never touching), none past a run that reaches the end. */
  readonly runs: readonly Run[];

  private constructor(runs: readonly Run[]) {
    this.runs = runs;
  }

  /** A window of one run: the first page of a fresh load. */
  static first(page: { messages: readonly MessageSummary[]; next: string | null }): RowWindow {
    return new RowWindow([{ start: 0, messages: page.messages, next: page.next, last: page.next === null }]);
  }

  /** The run that reaches the end of the list, if loaded: then the list's length is known exactly. */
  get end(): number | null {
    const tail = this.runs.at(-1);
    return tail?.last ? endOf(tail) : null;
  }

  /** One past the last loaded row. */
  get loadedEnd(): number {
    const tail = this.runs.at(-1);
    return tail ? endOf(tail) : 0;
  }

  /** Whether every row of the list is loaded (one run from 0 to the end). */
  get complete(): boolean {
    const top = this.runs[0];
    return top !== undefined && top.start === 0 && top.last;
  }

  /** The message at a position of the list, if loaded. */
  at(index: number): MessageSummary | undefined {
    for (const run of this.runs) {
      if (index < run.start) return undefined;
      if (index < endOf(run)) return run.messages[index - run.start];
    }
    return undefined;
  }

  find(id: string): MessageSummary | undefined {
    for (const run of this.runs) {
      const m = run.messages.find((x) => x.id === id);
      if (m) return m;
    }
    return undefined;
  }

  /** The position of a loaded message (-1: not loaded). */
  indexOf(id: string): number {
    for (const run of this.runs) {
      const i = run.messages.findIndex((m) => m.id === id);
      if (i >= 0) return run.start + i;
    }
    return -1;
  }

  /** The first stretch of rows first..last-1 (last clipped to `total`) that is not loaded, or null. */
  missing(first: number, last: number, total: number): { from: number; to: number } | null {
    const end = Math.min(last, total);
    let from = -1;
    let to = -1;
    for (let i = Math.max(0, first); i < end; i++) {
      if (this.at(i) !== undefined) continue;
      if (from < 0) from = i;
      to = i + 1;
    }
    return from < 0 ? null : { from, to };
  }

  /** The run that ends at `index` and knows the cursor for what follows (a page by cursor continues it). */
  runEndingAt(index: number): Run | undefined {
    return this.runs.find((r) => endOf(r) === index && r.next !== null);
  }

  /** The run whose cursor is `cursor`: where a page asked for by that cursor lands, however far arrivals moved it. */
  runBefore(cursor: string): Run | undefined {
    return this.runs.find((r) => r.next === cursor);
  }

  /** One past the last loaded row at or above `index`. */
  loadedAbove(index: number): number {
    return this.runs.reduce((end, r) => (endOf(r) <= index ? Math.max(end, endOf(r)) : end), 0);
  }

  /** Whether a run starts exactly at `index`. */
  startsAt(index: number): boolean {
    return this.runs.some((r) => r.start === index);
  }

  /**
   * `add` put in: runs it overlaps or touches become one, `add`'s rows winning where both have one
   * (they are the newer answer). Runs past one that reaches the end are dropped.
   */
  insert(add: Run): RowWindow {
    const out: Run[] = [];
    let merged = add;
    for (const run of this.runs) {
      const mergedEnd = endOf(merged);
      const runEnd = endOf(run);
      if (runEnd < merged.start || run.start > mergedEnd) {
        out.push(run);
        continue;
      }
      const head = run.start < merged.start ? run.messages.slice(0, merged.start - run.start) : [];
      const tail = runEnd > mergedEnd ? run.messages.slice(mergedEnd - run.start) : [];
      const longer = runEnd > mergedEnd ? run : merged;
      merged = { start: Math.min(run.start, merged.start), messages: [...head, ...merged.messages, ...tail], next: longer.next, last: longer.last };
    }
    out.push(merged);
    out.sort((a, b) => a.start - b.start);
    const end = out.find((r) => r.last);
    return new RowWindow(end ? out.filter((r) => r.start <= endOf(end)) : out);
  }

  /** A new message at the top (newest first): it is row 0 and every row moves down one. */
  prepend(message: MessageSummary): RowWindow {
    const first = this.runs[0];
    if (first !== undefined && first.start === 0) {
      return new RowWindow([{ ...first, messages: [message, ...first.messages] }, ...this.runs.slice(1).map((r) => ({ ...r, start: r.start + 1 }))]);
    }
    // Nothing loaded at the top (arrivals without rows came first): a run of its own, the rows
    // below it loaded by position when they are in view.
    return new RowWindow([{ start: 0, messages: [message], next: null, last: false }, ...this.runs.map((r) => ({ ...r, start: r.start + 1 }))]);
  }

  /** `count` messages arrived at the top whose rows are not here: every row moves down by it. */
  shift(count: number): RowWindow {
    return count === 0 ? this : new RowWindow(this.runs.map((r) => ({ ...r, start: r.start + count })));
  }

  /** The same rows with one message's tags replaced (an updated event that carries them). */
  setTags(id: string, tags: string[]): RowWindow {
    return this.#change(id, (m) => ({ ...m, tags }));
  }

  /** The window with one message's read flag set; itself when that message is not loaded or already so. */
  setRead(id: string, read: boolean): RowWindow {
    return this.#change(id, (m) => (m.read === read ? m : { ...m, read }));
  }

  /** One loaded message replaced by `change` of it; itself when it is not loaded or `change` keeps it. */
  #change(id: string, change: (m: MessageSummary) => MessageSummary): RowWindow {
    for (let r = 0; r < this.runs.length; r++) {
      const run = this.runs[r]!;
      const i = run.messages.findIndex((m) => m.id === id);
      if (i < 0) continue;
      const changed = change(run.messages[i]!);
      if (changed === run.messages[i]) return this;
      const messages = run.messages.slice();
      messages[i] = changed;
      const runs = this.runs.slice();
      runs[r] = { ...run, messages };
      return new RowWindow(runs);
    }
    return this;
  }

  /**
   * Takes messages out; rows below them move up. One not loaded may lie anywhere below the run
   * at the top: the runs further down would be off by it, so they are dropped (the list loads
   * them again where they are on screen). `oldest` (evicted mail) lies below every run when it
   * is not loaded, and moves none.
   */
  remove(ids: ReadonlySet<string>, oldest: boolean): Removal {
    const found = new Set<string>();
    let unread = 0;
    let shift = 0;
    let runs = this.runs.map((run) => {
      const kept = run.messages.filter((m) => {
        if (!ids.has(m.id)) return true;
        found.add(m.id);
        if (!m.read) unread++;
        return false;
      });
      const removed = run.messages.length - kept.length;
      const moved = shift === 0 && removed === 0 ? run : { ...run, start: run.start - shift, messages: removed ? kept : run.messages };
      shift += removed;
      return moved;
    });
    if (!oldest && !this.complete && found.size < ids.size) runs = runs.filter((r) => r.start === 0);
    return { window: new RowWindow(runs), found, unread };
  }
}
