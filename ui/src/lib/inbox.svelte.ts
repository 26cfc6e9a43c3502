// The message list as the page shows it: newest first, loaded in runs of rows around where the
// user looks (never all of it: 100,000 messages are a few hundred rows in memory), kept current
// by the event stream. Scrolling on from a run continues it by cursor; a jump far away (the
// scrollbar dragged to the middle) loads the page there directly by offset.
import { api, ApiError, type MessageSummary } from './api.ts';
import type { ChangeEvent, Counts } from './events.ts';

/** Enough for the first screen on a tall monitor, small enough to arrive at once. */
export const FIRST_PAGE = 50;
/** Later pages are larger: fewer requests while scrolling far. */
const NEXT_PAGE = 300;
/** The API's own maximum. */
const MAX_PAGE = 1000;
/** With a search active, new mail may or may not match: ask again, at most this often. */
const REFRESH_DELAY_MS = 300;
/** After a page failed to load, the same rows are not asked for again before this. */
const RETRY_AFTER_MS = 1000;

/**
 * Rows loaded one after another: positions start..start+messages.length-1 of the list. `next`
 * is the API's cursor for the rows after them (null when unknown); `last` says they reach the end.
 */
interface Run {
  readonly start: number;
  readonly messages: MessageSummary[];
  readonly next: string | null;
  readonly last: boolean;
}

const endOf = (run: Run): number => run.start + run.messages.length;

/**
 * `runs` with `add` put in: runs it overlaps or touches become one, `add`'s rows winning where
 * both have one (they are the newer answer). Runs stay sorted, apart, and none lies past the end.
 */
function insertRun(runs: readonly Run[], add: Run): Run[] {
  const out: Run[] = [];
  let merged = add;
  for (const run of runs) {
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
  return end ? out.filter((r) => r.start <= endOf(end)) : out;
}

export class Inbox {
  #runs = $state.raw<Run[]>([]);
  #counts = $state.raw<Counts>({ total: 0, unread: 0, inboxes: [] });
  #countsSeen = $state(false);
  /** The API's total and unread for the current search (only used while one is active). */
  #matched = $state.raw({ total: 0, unread: 0 });
  #query = $state('');
  #inbox = $state<string | null>(null);
  #loaded = $state(false);
  #loading = $state(false);
  #fetching = $state(false);
  #error = $state<string | null>(null);
  #highlighted = $state<string | null>(null);
  /** A row the keyboard moved to before it was loaded; the highlight lands on it once it is. */
  #wanted = $state<number | null>(null);
  /** Rows added above the loaded ones since the page opened; the list keeps its scroll position by it. */
  #prepended = $state(0);

  /** Bumped by every reload, so the answer to an older request is ignored. */
  #generation = 0;
  /**
   * Bumped by every arrival and removal in the list. A page asked for by offset is placed only
   * if neither changed while it was on its way: the server may have answered before or after
   * the change, and the page's position would be off by it. A page by cursor follows its run
   * wherever arrivals move it, so only removals void it.
   */
  #arrivals = 0;
  #removals = 0;
  /** Ids this page deleted itself: their event, when it comes back, is not a second removal. */
  #removedHere = new Set<string>();
  #failed: { key: string; at: number } | null = null;
  /** Events that arrived while a reload was in flight, applied on top of its answer. */
  #pending: ChangeEvent[] | null = null;
  #refreshTimer: ReturnType<typeof setTimeout> | null = null;
  /** A reload was asked for while one was in flight; run it once that one has shown its answer. */
  #again = false;

  get query(): string {
    return this.#query;
  }
  get inbox(): string | null {
    return this.#inbox;
  }
  get counts(): Counts {
    return this.#counts;
  }
  get loaded(): boolean {
    return this.#loaded;
  }
  get loading(): boolean {
    return this.#loading;
  }
  /** A page of rows is on its way. */
  get fetching(): boolean {
    return this.#fetching;
  }
  get error(): string | null {
    return this.#error;
  }
  get prepended(): number {
    return this.#prepended;
  }
  get highlighted(): string | null {
    return this.#highlighted;
  }
  get highlightedIndex(): number {
    const id = this.#highlighted;
    return id === null ? -1 : this.#indexOf(id);
  }
  /** A row the keyboard moved to that is still loading. */
  get wanted(): number | null {
    return this.#wanted;
  }
  /** The row the keyboard is on, loaded or not (-1: none). */
  get focusIndex(): number {
    return this.#wanted ?? this.highlightedIndex;
  }
  /** The message at a position of the list, if loaded. */
  at(index: number): MessageSummary | undefined {
    for (const run of this.#runs) {
      if (index < run.start) return undefined;
      if (index < endOf(run)) return run.messages[index - run.start];
    }
    return undefined;
  }

  find(id: string): MessageSummary | undefined {
    for (const run of this.#runs) {
      const m = run.messages.find((x) => x.id === id);
      if (m) return m;
    }
    return undefined;
  }

  /** Messages the list has rows for: what matches, loaded or not yet. */
  get total(): number {
    // A run that reaches the end knows exactly where it is; counts are coalesced and may lag.
    const tail = this.#runs.at(-1);
    if (tail?.last) return endOf(tail);
    let total: number;
    // Until the stream's first counts, the first page's own total stands.
    if (this.#query !== '' || !this.#countsSeen) total = this.#matched.total;
    else if (this.#inbox === null) total = this.#counts.total;
    else total = this.#counts.inboxes.find((i) => i.name === this.#inbox)?.total ?? 0;
    return Math.max(total, tail ? endOf(tail) : 0);
  }

  /** Unread in what the list shows (the search, the inbox, or everything). */
  get unread(): number {
    if (this.#query !== '' || !this.#countsSeen) return this.#matched.unread;
    if (this.#inbox === null) return this.#counts.unread;
    return this.#counts.inboxes.find((i) => i.name === this.#inbox)?.unread ?? 0;
  }

  setCounts(counts: Counts): void {
    this.#counts = counts;
    this.#countsSeen = true;
  }

  search(query: string): Promise<void> {
    const q = query.trim();
    if (q === this.#query) return Promise.resolve();
    this.#query = q;
    return this.reload();
  }

  switchInbox(inbox: string | null): Promise<void> {
    if (inbox === this.#inbox) return Promise.resolve();
    this.#inbox = inbox;
    return this.reload();
  }

  /**
   * Reloads, but lets a reload in flight show its answer first (then reloads again): the first
   * screen does not wait for the second request.
   */
  revalidate(): void {
    if (this.#loading) this.#again = true;
    else void this.reload();
  }

  async reload(): Promise<void> {
    this.#again = false;
    const generation = ++this.#generation;
    this.#pending = [];
    this.#loading = true;
    try {
      const page = await api.list({ inbox: this.#inbox, q: this.#query, limit: FIRST_PAGE });
      if (generation !== this.#generation) return;
      this.#runs = [{ start: 0, messages: page.messages, next: page.next, last: page.next === null }];
      this.#matched = { total: page.total, unread: page.unread };
      this.#error = null;
      this.#failed = null;
      this.#loaded = true;
      const pending = this.#pending ?? [];
      this.#pending = null;
      for (const event of pending) this.apply(event);
    } catch (err) {
      if (generation !== this.#generation) return;
      this.#pending = null;
      this.#error = err instanceof ApiError && err.status === 400 ? err.message : `could not load messages: ${String((err as Error).message ?? err)}`;
      if (err instanceof ApiError && err.status === 400) {
        this.#runs = [];
        this.#matched = { total: 0, unread: 0 };
      }
    } finally {
      if (generation === this.#generation) {
        this.#loading = false;
        if (this.#again) void this.reload();
      }
    }
  }

  /**
   * The list shows rows first..last-1: loads what of them is not loaded yet, one page at a time
   * (called again as each page lands, until the rows on screen are all there).
   */
  show(first: number, last: number): void {
    if (this.#fetching || this.#pending !== null || !this.#loaded) return;
    const end = Math.min(last, this.total);
    let from = -1;
    let to = -1;
    for (let i = Math.max(0, first); i < end; i++) {
      if (this.at(i) !== undefined) continue;
      if (from < 0) from = i;
      to = i + 1;
    }
    if (from < 0) return;
    const key = `${from}-${to}`;
    if (this.#failed && this.#failed.key === key && Date.now() - this.#failed.at < RETRY_AFTER_MS) return;
    void this.#fetch(from, to, key);
  }

  /** Loads rows from..to-1: after the run that ends at `from` by its cursor, else by offset. */
  async #fetch(from: number, to: number, key: string): Promise<void> {
    const generation = this.#generation;
    const arrivals = this.#arrivals;
    const removals = this.#removals;
    const runs = this.#runs;
    const above = runs.find((r) => endOf(r) === from && r.next !== null);
    const wanted = Math.min(MAX_PAGE, Math.max(NEXT_PAGE, to - from));
    let offset: number | undefined;
    let cursor: string | null = null;
    if (above) {
      cursor = above.next;
    } else {
      // Not asking again for rows loaded just above. Scrolling up to a run: the page that ends
      // where it starts; a jump: a page centred on the missing rows (the user may scroll either way).
      const loadedAbove = runs.reduce((end, r) => (endOf(r) <= from ? Math.max(end, endOf(r)) : end), 0);
      const below = runs.some((r) => r.start === to);
      offset = Math.max(loadedAbove, below ? to - wanted : from - Math.floor((wanted - (to - from)) / 2));
    }
    const limit = offset === undefined ? wanted : Math.max(to - offset, wanted);
    this.#fetching = true;
    try {
      const page = await api.list({ inbox: this.#inbox, q: this.#query, limit: Math.min(MAX_PAGE, limit), cursor, offset });
      if (generation !== this.#generation || removals !== this.#removals) return;
      if (cursor !== null) {
        // Arrivals above moved the run along; it is found by its cursor.
        const run = this.#runs.find((r) => r.next === cursor);
        if (!run) return;
        this.#runs = insertRun(this.#runs, { start: endOf(run), messages: page.messages, next: page.next, last: page.next === null });
      } else {
        if (arrivals !== this.#arrivals) return;
        // Past the end (the list shrank): the answer's total says where the end is.
        const start = page.messages.length === 0 ? Math.min(offset!, page.total) : offset!;
        this.#runs = insertRun(this.#runs, { start, messages: page.messages, next: page.next, last: page.next === null });
      }
      this.#matched = { total: page.total, unread: page.unread };
      this.#failed = null;
      this.#landWanted();
    } catch (err) {
      if (generation !== this.#generation) return;
      this.#failed = { key, at: Date.now() };
      this.#error = `could not load more messages: ${(err as Error).message}`;
    } finally {
      this.#fetching = false;
    }
  }

  apply(event: ChangeEvent): void {
    if (this.#pending !== null) {
      this.#pending.push(event);
      if (event.type === 'counts') this.setCounts(event.data);
      return;
    }
    switch (event.type) {
      case 'added': {
        const m = event.data.message;
        if (this.#query !== '') return this.#refreshSoon();
        if (this.#inbox !== null && m.inbox !== this.#inbox) return;
        if (this.#indexOf(m.id) >= 0) return;
        // Newest first: it is row 0, and every row moves down one.
        this.#arrivals++;
        this.#runs = this.#runs.map((r) => (r.start === 0 ? { ...r, messages: [m, ...r.messages] } : { ...r, start: r.start + 1 }));
        if (this.#wanted !== null) this.#wanted++;
        this.#prepended++;
        return;
      }
      case 'updated': {
        const { id, read } = event.data;
        const runs = this.#runs.slice();
        for (let r = 0; r < runs.length; r++) {
          const run = runs[r]!;
          const i = run.messages.findIndex((m) => m.id === id);
          if (i < 0) continue;
          if (run.messages[i]!.read === read) return;
          const messages = run.messages.slice();
          messages[i] = { ...messages[i]!, read };
          runs[r] = { ...run, messages };
          this.#runs = runs;
          if (this.#query !== '') this.#matched = { total: this.#matched.total, unread: this.#matched.unread + (read ? -1 : 1) };
          return;
        }
        return;
      }
      case 'deleted': {
        const refs = event.data.messages.filter((m) => !this.#removedHere.delete(m.id));
        return this.#remove(refs, false);
      }
      case 'evicted':
        return this.#remove(event.data.messages, true);
      case 'cleared':
        if (event.data.inbox === null || this.#inbox === null || event.data.inbox === this.#inbox) void this.reload();
        return;
      case 'counts':
        this.setCounts(event.data);
        return;
    }
  }

  /** The row the keyboard is on. */
  highlight(id: string | null): void {
    this.#highlighted = id;
    this.#wanted = null;
  }

  /** Moves the highlight by `delta` rows (Infinity: to the end); returns the id now highlighted. */
  move(delta: number): string | null {
    const total = this.total;
    if (total === 0) return null;
    const at = this.focusIndex;
    // With no row highlighted yet, every key but End starts at the top.
    const target = at < 0 && delta !== Infinity ? 0 : Math.max(0, Math.min(total - 1, at + delta));
    const m = this.at(target);
    if (m) {
      this.#highlighted = m.id;
      this.#wanted = null;
    } else {
      // Not loaded yet: the list scrolls there, which loads it, and the highlight follows.
      this.#wanted = target;
    }
    return this.#highlighted;
  }

  /** Reflects a change this page made itself, before its event comes back. */
  markLocally(id: string, read: boolean): void {
    this.apply({ type: 'updated', seq: 0, data: { id, inbox: '', read } });
  }

  removeLocally(ids: string[]): void {
    const refs = ids.map((id) => ({ id, inbox: this.find(id)?.inbox ?? this.#inbox ?? '' }));
    for (const id of ids) this.#removedHere.add(id);
    this.#remove(refs, false);
  }

  #indexOf(id: string): number {
    for (const run of this.#runs) {
      const i = run.messages.findIndex((m) => m.id === id);
      if (i >= 0) return run.start + i;
    }
    return -1;
  }

  #landWanted(): void {
    if (this.#wanted === null) return;
    const m = this.at(this.#wanted);
    if (!m) return;
    this.#highlighted = m.id;
    this.#wanted = null;
  }

  /**
   * Takes removed messages out of the runs; rows below them move up. One not loaded may lie
   * anywhere below the run at the top: the runs further down would be off by it, so they are
   * dropped (the list loads them again where they are on screen). Evicted mail is the oldest,
   * so one not loaded lies below every run and moves none.
   */
  #remove(refs: { id: string; inbox: string }[], oldest: boolean): void {
    const relevant = refs.filter((r) => this.#inbox === null || r.inbox === this.#inbox);
    if (relevant.length === 0) return;
    const ids = new Set(relevant.map((r) => r.id));
    const highlightedAt = this.highlightedIndex;
    const found = new Set<string>();
    // The search's unread count is the API's, from before: a removed unread row takes one off it.
    let foundUnread = 0;
    let shift = 0;
    let runs = this.#runs.map((run) => {
      const kept = run.messages.filter((m) => {
        if (!ids.has(m.id)) return true;
        found.add(m.id);
        if (!m.read) foundUnread++;
        return false;
      });
      const removed = run.messages.length - kept.length;
      const moved = shift === 0 && removed === 0 ? run : { ...run, start: run.start - shift, messages: removed ? kept : run.messages };
      shift += removed;
      return moved;
    });
    const top = runs[0];
    const allLoaded = top !== undefined && top.start === 0 && top.last;
    if (!oldest && !allLoaded && found.size < ids.size) runs = runs.filter((r) => r.start === 0);
    this.#removals++;
    this.#runs = runs;
    if (this.#wanted !== null) this.#wanted = Math.max(0, Math.min(this.#wanted, this.total - 1));
    if (this.#query !== '') this.#matched = { total: Math.max(0, this.#matched.total - found.size), unread: Math.max(0, this.#matched.unread - foundUnread) };
    // The highlight moves to the row that took the removed one's place.
    if (this.#highlighted !== null && ids.has(this.#highlighted)) {
      this.#highlighted = this.at(Math.min(highlightedAt, this.total - 1))?.id ?? null;
    }
  }

  #refreshSoon(): void {
    if (this.#refreshTimer) return;
    this.#refreshTimer = setTimeout(() => {
      this.#refreshTimer = null;
      void this.reload();
    }, REFRESH_DELAY_MS);
  }
}
