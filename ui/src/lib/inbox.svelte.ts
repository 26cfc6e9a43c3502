// The message list as the page shows it: newest first, paged in from the API as the user scrolls
// (never all of it: 100,000 messages are a few hundred rows in memory until scrolled to), kept
// current by the event stream.
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

export class Inbox {
  #messages = $state.raw<MessageSummary[]>([]);
  #counts = $state.raw<Counts>({ total: 0, unread: 0, inboxes: [] });
  #countsSeen = $state(false);
  /** The API's total and unread for the current search (only used while one is active). */
  #matched = $state.raw({ total: 0, unread: 0 });
  #next = $state<string | null>(null);
  #query = $state('');
  #inbox = $state<string | null>(null);
  #loaded = $state(false);
  #loading = $state(false);
  #loadingMore = $state(false);
  #error = $state<string | null>(null);
  #highlighted = $state<string | null>(null);
  /** Rows added above the loaded ones since the page opened; the list keeps its scroll position by it. */
  #prepended = $state(0);

  /** Bumped by every reload, so the answer to an older request is ignored. */
  #generation = 0;
  /** Events that arrived while a reload was in flight, applied on top of its answer. */
  #pending: ChangeEvent[] | null = null;
  #refreshTimer: ReturnType<typeof setTimeout> | null = null;
  /** A reload was asked for while one was in flight; run it once that one has shown its answer. */
  #again = false;

  get messages(): MessageSummary[] {
    return this.#messages;
  }
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
  get loadingMore(): boolean {
    return this.#loadingMore;
  }
  get error(): string | null {
    return this.#error;
  }
  get hasMore(): boolean {
    return this.#next !== null;
  }
  get prepended(): number {
    return this.#prepended;
  }
  get highlighted(): string | null {
    return this.#highlighted;
  }
  get highlightedIndex(): number {
    const id = this.#highlighted;
    return id === null ? -1 : this.#messages.findIndex((m) => m.id === id);
  }

  /** Messages the list has rows for: what matches, loaded or not yet. */
  get total(): number {
    let total: number;
    // Until the stream's first counts, the first page's own total stands.
    if (this.#query !== '' || !this.#countsSeen) total = this.#matched.total;
    else if (this.#inbox === null) total = this.#counts.total;
    else total = this.#counts.inboxes.find((i) => i.name === this.#inbox)?.total ?? 0;
    // Counts are coalesced and may lag a fresh arrival; a finished list knows exactly.
    return this.#next === null ? this.#messages.length : Math.max(total, this.#messages.length);
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
      this.#messages = page.messages;
      this.#matched = { total: page.total, unread: page.unread };
      this.#next = page.next;
      this.#error = null;
      this.#loaded = true;
      const pending = this.#pending ?? [];
      this.#pending = null;
      for (const event of pending) this.apply(event);
    } catch (err) {
      if (generation !== this.#generation) return;
      this.#pending = null;
      this.#error = err instanceof ApiError && err.status === 400 ? err.message : `could not load messages: ${String((err as Error).message ?? err)}`;
      if (err instanceof ApiError && err.status === 400) {
        this.#messages = [];
        this.#next = null;
        this.#matched = { total: 0, unread: 0 };
      }
    } finally {
      if (generation === this.#generation) {
        this.#loading = false;
        if (this.#again) void this.reload();
      }
    }
  }

  /** Loads pages until at least `rows` rows are loaded (or there are no more). */
  async loadMore(rows: number): Promise<void> {
    if (this.#loadingMore || this.#next === null || this.#pending !== null || rows <= this.#messages.length) return;
    const generation = this.#generation;
    this.#loadingMore = true;
    try {
      const limit = Math.min(MAX_PAGE, Math.max(NEXT_PAGE, rows - this.#messages.length + FIRST_PAGE));
      const page = await api.list({ inbox: this.#inbox, q: this.#query, limit, cursor: this.#next });
      if (generation !== this.#generation) return;
      // Pages are cut by arrival order, so a page never repeats a row of the previous one.
      this.#messages = this.#messages.concat(page.messages);
      this.#next = page.next;
    } catch (err) {
      if (generation === this.#generation) this.#error = `could not load more messages: ${(err as Error).message}`;
    } finally {
      this.#loadingMore = false;
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
        if (this.#messages.some((x) => x.id === m.id)) return;
        this.#messages = [m, ...this.#messages];
        this.#prepended++;
        return;
      }
      case 'updated': {
        const { id, read } = event.data;
        const i = this.#messages.findIndex((m) => m.id === id);
        if (i < 0 || this.#messages[i]!.read === read) return;
        const next = this.#messages.slice();
        next[i] = { ...next[i]!, read };
        this.#messages = next;
        if (this.#query !== '') this.#matched = { total: this.#matched.total, unread: this.#matched.unread + (read ? -1 : 1) };
        return;
      }
      case 'deleted':
      case 'evicted':
        return this.#forget(new Set(event.data.messages.map((m) => m.id)));
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
  }

  /** Moves the highlight by `delta` rows; returns the id now highlighted. */
  move(delta: number): string | null {
    if (this.#messages.length === 0) return null;
    const at = this.highlightedIndex;
    const target = at < 0 ? 0 : Math.max(0, Math.min(this.#messages.length - 1, at + delta));
    this.#highlighted = this.#messages[target]!.id;
    if (target >= this.#messages.length - 5) void this.loadMore(this.#messages.length + NEXT_PAGE);
    return this.#highlighted;
  }

  /** Reflects a change this page made itself, before its event comes back. */
  markLocally(id: string, read: boolean): void {
    this.apply({ type: 'updated', seq: 0, data: { id, inbox: '', read } });
  }

  removeLocally(ids: string[]): void {
    this.#forget(new Set(ids));
  }

  #forget(ids: Set<string>): void {
    const before = this.#messages.length;
    const highlightedAt = this.highlightedIndex;
    const kept = this.#messages.filter((m) => !ids.has(m.id));
    if (kept.length === before) return;
    this.#messages = kept;
    if (this.#query !== '') {
      const removed = before - kept.length;
      this.#matched = { total: Math.max(0, this.#matched.total - removed), unread: this.#matched.unread };
    }
    // The highlight moves to the row that took the removed one's place.
    if (this.#highlighted !== null && ids.has(this.#highlighted)) {
      this.#highlighted = kept[Math.min(highlightedAt, kept.length - 1)]?.id ?? null;
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
