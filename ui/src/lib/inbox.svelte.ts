// The message list as the page shows it: newest first, loaded in runs of rows around where the
// user looks (never all of it: 100,000 messages are a few hundred rows in memory), kept current
// by the event stream. Scrolling on from a run continues it by cursor; a jump far away (the
// scrollbar dragged to the middle) loads the page there directly by offset.
//
// This class coordinates: the rows are a RowWindow (row-window.ts, rune-free), the keyboard's
// place is a Cursor (cursor.svelte.ts); here are the requests, their races, the counts, the
// search and the events.
import { api, ApiError, type MessageSummary } from './api.ts';
import type { ChangeEvent, Counts } from './events.ts';
import { RowWindow, endOf } from './row-window.ts';
import { Cursor } from './cursor.svelte.ts';
import { queryProblem } from './query-check.ts';

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

export class Inbox {
  readonly cursor = new Cursor();
  #rows = $state.raw(RowWindow.empty);
  #counts = $state.raw<Counts>({ total: 0, unread: 0, inboxes: [] });
  #countsSeen = $state(false);
  /** The API's total and unread for the current search (only used while one is active). */
  #matched = $state.raw({ total: 0, unread: 0 });
  /** The search the rows are for: the last one that parsed. */
  #query = $state('');
  /** Why the text in the search box is not searched yet (it does not parse), or null. */
  #queryProblem = $state<string | null>(null);
  #inbox = $state<string | null>(null);
  #loaded = $state(false);
  #loading = $state(false);
  #fetching = $state(false);
  #error = $state<string | null>(null);
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
  get queryProblem(): string | null {
    return this.#queryProblem;
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
    return this.cursor.highlighted;
  }
  get highlightedIndex(): number {
    const id = this.cursor.highlighted;
    return id === null ? -1 : this.#rows.indexOf(id);
  }
  /** A row the keyboard moved to that is still loading. */
  get wanted(): number | null {
    return this.cursor.wanted;
  }
  /** The row the keyboard is on, loaded or not (-1: none). */
  get focusIndex(): number {
    return this.cursor.index(this.#rows);
  }
  /** The message at a position of the list, if loaded. */
  at(index: number): MessageSummary | undefined {
    return this.#rows.at(index);
  }

  find(id: string): MessageSummary | undefined {
    return this.#rows.find(id);
  }

  /** Messages the list has rows for: what matches, loaded or not yet. */
  get total(): number {
    // A run that reaches the end knows exactly where it is; counts are coalesced and may lag.
    const end = this.#rows.end;
    if (end !== null) return end;
    let total: number;
    // Until the stream's first counts, the first page's own total stands.
    if (this.#query !== '' || !this.#countsSeen) total = this.#matched.total;
    else if (this.#inbox === null) total = this.#counts.total;
    else total = this.#counts.inboxes.find((i) => i.name === this.#inbox)?.total ?? 0;
    return Math.max(total, this.#rows.loadedEnd);
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

  /**
   * Searches for what the box shows. Text that does not parse (half typed: `from:`) is not
   * searched: the rows of the last search that did stay, and `queryProblem` says why.
   */
  search(text: string): Promise<void> {
    const q = text.trim();
    const problem = queryProblem(q);
    this.#queryProblem = problem;
    if (problem !== null || q === this.#query) return Promise.resolve();
    this.#query = q;
    return this.reload();
  }

  switchInbox(inbox: string | null): Promise<void> {
    if (inbox === this.#inbox) return Promise.resolve();
    this.#inbox = inbox;
    return this.reload();
  }

  /** Search and inbox at once (from the address bar): one reload, not two. */
  view(inbox: string | null, text: string): Promise<void> {
    const q = text.trim();
    const problem = queryProblem(q);
    this.#queryProblem = problem;
    const query = problem === null ? q : this.#query;
    if (inbox === this.#inbox && query === this.#query) return Promise.resolve();
    this.#inbox = inbox;
    this.#query = query;
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
      this.#rows = RowWindow.first(page);
      this.#matched = { total: page.total, unread: page.unread };
      this.#error = null;
      this.#failed = null;
      this.#loaded = true;
      const pending = this.#pending ?? [];
      this.#pending = null;
      // The page may have been answered before or after the arrivals that came meanwhile. The last
      // of them that it holds says: it was answered after that one, so every arrival up to it is in
      // the page or below it (older than its rows), never above. Only those after it move the rows.
      let reflected = -1;
      pending.forEach((e, i) => {
        if (arrivalIds(e).some((id) => this.#rows.indexOf(id) >= 0)) reflected = i;
      });
      pending.forEach((event, i) => {
        if (i > reflected || arrivalIds(event).length === 0) this.apply(event);
      });
    } catch (err) {
      if (generation !== this.#generation) return;
      this.#pending = null;
      if (err instanceof ApiError && err.status === 400) {
        // The server refused a query the page's own check let through: the rows stay as they were.
        this.#queryProblem = err.message;
      } else {
        this.#error = `Could not load messages: ${(err as Error).message}`;
      }
    } finally {
      if (generation === this.#generation) {
        this.#loading = false;
        if (this.#again) void this.reload();
      }
    }
  }

  /** Forgets a load error (the connection is back, and a reload follows). */
  clearError(): void {
    this.#error = null;
    this.#failed = null;
  }

  /**
   * The list shows rows first..last-1: loads what of them is not loaded yet, one page at a time
   * (called again as each page lands, until the rows on screen are all there).
   */
  show(first: number, last: number): void {
    if (this.#fetching || this.#pending !== null || !this.#loaded) return;
    const gap = this.#rows.missing(first, last, this.total);
    if (gap === null) return;
    const key = `${gap.from}-${gap.to}`;
    if (this.#failed && this.#failed.key === key && Date.now() - this.#failed.at < RETRY_AFTER_MS) return;
    void this.#fetch(gap.from, gap.to, key);
  }

  /** Loads rows from..to-1: after the run that ends at `from` by its cursor, else by offset. */
  async #fetch(from: number, to: number, key: string): Promise<void> {
    const generation = this.#generation;
    const arrivals = this.#arrivals;
    const removals = this.#removals;
    const rows = this.#rows;
    const above = rows.runEndingAt(from);
    const wanted = Math.min(MAX_PAGE, Math.max(NEXT_PAGE, to - from));
    let offset: number | undefined;
    let cursor: string | null = null;
    if (above) {
      cursor = above.next;
    } else {
      // Not asking again for rows loaded just above. Scrolling up to a run: the page that ends
      // where it starts; a jump: a page centred on the missing rows (the user may scroll either way).
      const below = rows.startsAt(to);
      offset = Math.max(rows.loadedAbove(from), below ? to - wanted : from - Math.floor((wanted - (to - from)) / 2));
    }
    const limit = offset === undefined ? wanted : Math.max(to - offset, wanted);
    this.#fetching = true;
    try {
      const page = await api.list({ inbox: this.#inbox, q: this.#query, limit: Math.min(MAX_PAGE, limit), cursor, offset });
      if (generation !== this.#generation || removals !== this.#removals) return;
      const run = { messages: page.messages, next: page.next, last: page.next === null };
      if (cursor !== null) {
        // Arrivals above moved the run along; it is found by its cursor.
        const before = this.#rows.runBefore(cursor);
        if (!before) return;
        this.#rows = this.#rows.insert({ start: endOf(before), ...run });
      } else {
        if (arrivals !== this.#arrivals) return;
        // Past the end (the list shrank): the answer's total says where the end is.
        const start = page.messages.length === 0 ? Math.min(offset!, page.total) : offset!;
        this.#rows = this.#rows.insert({ start, ...run });
      }
      this.#matched = { total: page.total, unread: page.unread };
      this.#failed = null;
      this.cursor.land(this.#rows);
    } catch (err) {
      if (generation !== this.#generation) return;
      this.#failed = { key, at: Date.now() };
      this.#error = `Could not load more messages: ${(err as Error).message}`;
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
        if (this.#rows.indexOf(m.id) >= 0) return;
        this.#arrivals++;
        this.#rows = this.#rows.prepend(m);
        this.cursor.shiftDown();
        this.#prepended++;
        return;
      }
      case 'arrived': {
        // Arrivals of a burst sent without their rows: the list makes room for them at the top,
        // loaded like any rows when they are in view. One already loaded (a reload's page) is not
        // counted twice.
        if (this.#query !== '') return this.#refreshSoon();
        const here = event.data.messages.filter((m) => (this.#inbox === null || m.inbox === this.#inbox) && this.#rows.indexOf(m.id) < 0).length;
        if (here === 0) return;
        this.#arrivals++;
        this.#rows = this.#rows.shift(here);
        this.cursor.shiftDown(here);
        this.#prepended += here;
        return;
      }
      case 'updated':
        if (event.data.tags) this.#rows = this.#rows.setTags(event.data.id, event.data.tags);
        return this.setRead(event.data.id, event.data.read);
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
        return this.setCounts(event.data);
      case 'rule-fired':
        return;
      default:
        return unhandled(event);
    }
  }

  /** Sets a row's read flag: from the stream, or at once for a change this page made itself. */
  setRead(id: string, read: boolean): void {
    const rows = this.#rows.setRead(id, read);
    if (rows === this.#rows) return;
    this.#rows = rows;
    if (this.#query !== '') this.#matched = { total: this.#matched.total, unread: Math.max(0, this.#matched.unread + (read ? -1 : 1)) };
  }

  /** The row the keyboard is on. */
  highlight(id: string | null): void {
    this.cursor.set(id);
  }

  /** Moves the highlight by `delta` rows (Infinity: to the end); returns the id now highlighted. */
  move(delta: number): string | null {
    this.cursor.move(delta, this.total, this.#rows);
    return this.cursor.highlighted;
  }

  /** Takes rows this page deleted out at once; their events, when they come back, change nothing. */
  removeLocally(ids: string[]): void {
    const refs = ids.map((id) => ({ id, inbox: this.find(id)?.inbox ?? this.#inbox ?? '' }));
    for (const id of ids) this.#removedHere.add(id);
    this.#remove(refs, false);
  }

  #remove(refs: { id: string; inbox: string }[], oldest: boolean): void {
    const relevant = refs.filter((r) => this.#inbox === null || r.inbox === this.#inbox);
    if (relevant.length === 0) return;
    const ids = new Set(relevant.map((r) => r.id));
    const highlightedAt = this.highlightedIndex;
    const { window, found, unread } = this.#rows.remove(ids, oldest);
    this.#removals++;
    this.#rows = window;
    // The search's counts are the API's, from before: a removed row takes itself off them.
    if (this.#query !== '') this.#matched = { total: Math.max(0, this.#matched.total - found.size), unread: Math.max(0, this.#matched.unread - unread) };
    this.cursor.afterRemoval(ids, highlightedAt, this.total, window);
  }

  #refreshSoon(): void {
    if (this.#refreshTimer) return;
    this.#refreshTimer = setTimeout(() => {
      this.#refreshTimer = null;
      void this.reload();
    }, REFRESH_DELAY_MS);
  }
}

/** The messages an event says arrived (added, or arrived without rows); none for any other event. */
function arrivalIds(event: ChangeEvent): string[] {
  if (event.type === 'added') return [event.data.message.id];
  if (event.type === 'arrived') return event.data.messages.map((m) => m.id);
  return [];
}

/** The end of every `switch` on an event: a new event type does not compile until it is handled. */
export function unhandled(event: never): never {
  throw new Error(`unhandled event ${JSON.stringify(event)}`);
}
