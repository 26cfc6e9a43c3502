// The page's one controller: the list, the open message, the live connection and the address
// bar, and the actions that touch more than one of them (opening marks read, deleting closes
// the reader). Components render its getters and call its methods.
//
// One model for actions: the keys move the highlight (j/k), and d, u and Enter act on the
// highlighted row; opening a message highlights it. A button in the reader acts on the message
// it shows.
import { api } from './api.ts';
import { EventStream, type ConnectionStatus, type ChangeEvent } from './events.ts';
import { FIRST_PAGE, Inbox, unhandled } from './inbox.svelte.ts';
import { Reader } from './reader.svelte.ts';
import { readAddress, writeAddress } from './address.ts';
import { Selection } from './selection.svelte.ts';
import { Notifier } from './notify.svelte.ts';

/** How long "Deleted · Undo" stays offered. */
export const UNDO_MS = 8000;
/** Undo keeps the bytes of what it may restore: up to this many messages at once. */
const UNDO_MAX = 50;

export interface Notice {
  readonly text: string;
  /** Takes the action back, while the notice is shown. */
  readonly undo: (() => void) | null;
}

/** Marks the history entries this page pushed for an open message: closing it goes Back to the list. */
interface HistoryState {
  mailpen: 'opened' | 'view';
}

export class Mailbox {
  readonly inbox = new Inbox();
  readonly reader = new Reader();
  readonly selection = new Selection();
  readonly notifier = new Notifier();
  #status = $state<ConnectionStatus>('connecting');
  /** Whether the stream was ever live: before that, a failure is "cannot reach", not "lost". */
  #everLive = $state(false);
  /** When the next reconnect attempt is due (ms since the epoch), while one is waited for. */
  #retryAt = $state<number | null>(null);
  /** The clock the countdown reads; ticks only while a retry is waited for. */
  #now = $state(Date.now());
  #tick: ReturnType<typeof setInterval> | null = null;
  #notice = $state.raw<Notice | null>(null);
  #noticeTimer: ReturnType<typeof setTimeout> | null = null;
  /** What the search box shows; the list is for the last of it that parsed (`inbox.query`). */
  #searchText = $state('');
  /** Where to send mail, for the empty inbox: the host this page came from, Mailpen's SMTP port. */
  #smtp = $state.raw<{ host: string; port: number } | null>(null);
  /** Fault rules fired since the page loaded: the rules panel reloads its hit counts when it moves. */
  #rulesFired = $state(0);
  #stream: EventStream;

  constructor() {
    this.#stream = new EventStream({
      event: (e) => this.#onEvent(e),
      synced: (kind, counts) => {
        this.#everLive = true;
        this.inbox.setCounts(counts);
        this.inbox.clearError();
        this.reader.retry();
        // Resumed: the missed events were replayed and applied; nothing to reload. Fresh: the first
        // page may predate the subscription, so an arrival in between would be missing; load again.
        if (kind !== 'resumed') this.inbox.revalidate();
      },
      status: (status, retryInMs) => {
        this.#status = status;
        this.#setRetry(retryInMs);
      },
    }, FIRST_PAGE);
  }

  get rulesFired(): number {
    return this.#rulesFired;
  }

  get status(): ConnectionStatus {
    return this.#status;
  }
  /** The server cannot be reached: what needs it is disabled, a banner says so. */
  get offline(): boolean {
    return this.#status === 'reconnecting' || (this.#status === 'connecting' && this.inbox.error !== null);
  }
  get everLive(): boolean {
    return this.#everLive;
  }
  /** Whole seconds until the next reconnect attempt, counting down (null: none is waited for). */
  get retryInS(): number | null {
    return this.#retryAt === null ? null : Math.max(0, Math.ceil((this.#retryAt - this.#now) / 1000));
  }
  /** The last action's outcome, shown for a few seconds (and read out by the live region). */
  get notice(): Notice | null {
    return this.#notice;
  }
  get searchText(): string {
    return this.#searchText;
  }
  get smtp(): { host: string; port: number } | null {
    return this.#smtp;
  }

  #setRetry(retryInMs: number | null): void {
    if (this.#tick !== null) clearInterval(this.#tick);
    this.#tick = null;
    this.#now = Date.now();
    this.#retryAt = retryInMs === null ? null : this.#now + retryInMs;
    // A quarter second, so the shown second changes close to when it should (the text only
    // changes once a second).
    if (retryInMs !== null) this.#tick = setInterval(() => (this.#now = Date.now()), 250);
  }

  start(): void {
    const address = readAddress(location.search);
    this.#searchText = address.q;
    // Both at once: the first screen does not wait for the WebSocket handshake.
    void this.inbox.view(address.inbox, address.q).then(() => {
      if (!this.inbox.loaded && !this.inbox.loading) void this.inbox.reload();
    });
    if (address.message !== null) void this.open(address.message, 'none');
    this.#stream.start();
    void api.info().then(
      (info) => (this.#smtp = { host: location.hostname, port: info.ports.smtp }),
      () => undefined,
    );
    // The server may be back long before the backoff's next try: try at once when the user
    // comes back to the tab or the network returns.
    const retry = (): void => this.#stream.retryNow();
    window.addEventListener('online', retry);
    window.addEventListener('focus', retry);
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') retry();
    });
    window.addEventListener('popstate', () => this.#fromAddress());
  }

  reconnect(): void {
    this.#stream.retryNow();
  }

  /** The search box changed: the list follows once the text parses. */
  setSearchText(text: string): void {
    this.#searchText = text;
  }

  async search(text = this.#searchText): Promise<void> {
    this.#searchText = text;
    const before = this.inbox.query;
    await this.inbox.search(text);
    const after = this.inbox.query;
    if (after !== before) this.selection.clear();
    // Starting or ending a search is a place to come Back to; refining one is not.
    if (after !== before) this.#commit(before === '' || after === '' ? 'push' : 'replace');
  }

  async switchInbox(inbox: string | null): Promise<void> {
    const changed = inbox !== this.inbox.inbox;
    if (changed) this.selection.clear();
    const reload = this.inbox.switchInbox(inbox);
    if (changed) this.#commit('push');
    await reload;
  }

  /**
   * Opens a message and marks it read through the API (the API's own reads never do). From the
   * list it is a new history entry (Back returns to the list, on a phone too); from another open
   * message it replaces that one's.
   */
  async open(id: string, history: 'auto' | 'none' = 'auto'): Promise<void> {
    const wasOpen = this.reader.id !== null;
    this.inbox.highlight(id);
    const opening = this.reader.open(id);
    if (history === 'auto') this.#commit(wasOpen ? 'replace' : 'push', wasOpen ? undefined : 'opened');
    const message = await opening;
    if (message && !message.read) {
      this.inbox.setRead(id, true);
      this.reader.setRead(true);
      try {
        await api.setRead(id, true);
      } catch (err) {
        this.inbox.setRead(id, false);
        this.reader.setRead(false);
        this.#say(`Could not mark it read: ${(err as Error).message}`);
      }
    }
  }

  /** Closes the reader: Back, when opening it made the history entry (so Forward opens it again). */
  close(): void {
    if (this.reader.id === null) return;
    this.reader.close();
    if ((history.state as HistoryState | null)?.mailpen === 'opened') history.back();
    else this.#commit('replace');
  }

  openHighlighted(): void {
    const id = this.inbox.highlighted ?? this.inbox.at(0)?.id;
    if (id) void this.open(id);
  }

  /** The read flag of a message the page shows (the reader's copy is the freshest). */
  #readOf(id: string): boolean {
    if (this.reader.id === id && this.reader.message) return this.reader.message.read;
    return this.inbox.find(id)?.read ?? false;
  }

  /** Flips read/unread: the highlighted message (the `u` key), or the one given (the reader's button). */
  async toggleRead(id: string | null = this.inbox.highlighted): Promise<void> {
    if (id === null) return;
    const read = !this.#readOf(id);
    this.inbox.setRead(id, read);
    if (this.reader.id === id) this.reader.setRead(read);
    try {
      await api.setRead(id, read);
      this.#say(read ? 'Marked read' : 'Marked unread');
    } catch (err) {
      this.inbox.setRead(id, !read);
      if (this.reader.id === id) this.reader.setRead(!read);
      this.#say(`Could not change the read state: ${(err as Error).message}`);
    }
  }

  /**
   * Deletes the highlighted message (the `d` key), or the one given (the reader's button), and
   * offers Undo for a few seconds: its exact bytes, read first, are stored again in its inbox.
   */
  async remove(id: string | null = this.inbox.highlighted): Promise<void> {
    if (id === null) return;
    const row = this.inbox.find(id);
    const shown = this.reader.id === id ? this.reader.message : null;
    const inbox = row?.inbox ?? shown?.inbox ?? this.inbox.inbox ?? 'default';
    const read = this.#readOf(id);
    this.inbox.highlight(id);
    try {
      const raw = await api.rawBytes(id).catch(() => null);
      await api.remove(id);
      this.#afterDelete([id]);
      // The next message is highlighted, not opened: opening would mark it read unasked.
      this.#say('Deleted', raw === null ? null : () => void this.#restore([{ raw, inbox, read }]));
    } catch (err) {
      this.#say(`Could not delete: ${(err as Error).message}`);
    }
  }

  async #restore(copies: { raw: Blob; inbox: string; read: boolean }[]): Promise<void> {
    try {
      // Oldest first, so they stand in the list in the order they stood before.
      for (const { raw, inbox, read } of copies.slice().reverse()) {
        const { ids } = await api.upload(raw, inbox);
        if (read && ids[0] !== undefined) await api.setRead(ids[0], true);
      }
      this.#say('Restored');
    } catch (err) {
      this.#say(`Could not undo: ${(err as Error).message}`);
    }
  }

  /** `x`: picks or unpicks the highlighted row. */
  toggleSelectHighlighted(): void {
    const id = this.inbox.highlighted;
    if (id !== null) this.selection.toggle(id, this.inbox.highlightedIndex);
  }

  /** Marks the picked messages read, or unread when every one of them is read already. */
  async markSelected(read?: boolean): Promise<void> {
    const ids = [...this.selection.ids];
    if (ids.length === 0) return;
    const to = read ?? !ids.every((id) => this.#readOf(id));
    for (const id of ids) this.inbox.setRead(id, to);
    if (this.reader.id !== null && ids.includes(this.reader.id)) this.reader.setRead(to);
    try {
      const { updated } = await api.setReadMany(ids, to);
      this.#say(`Marked ${updated} ${to ? 'read' : 'unread'}`);
    } catch (err) {
      for (const id of ids) this.inbox.setRead(id, !to);
      this.#say(`Could not change the read state: ${(err as Error).message}`);
    }
  }

  /** Deletes the picked messages; Undo stores their bytes again (for up to UNDO_MAX of them). */
  async removeSelected(): Promise<void> {
    const ids = [...this.selection.ids];
    if (ids.length === 0) return;
    const copies = ids.map((id) => ({ id, inbox: this.inbox.find(id)?.inbox ?? this.inbox.inbox ?? 'default', read: this.#readOf(id) }));
    const raws = ids.length <= UNDO_MAX ? await Promise.all(ids.map((id) => api.rawBytes(id).catch(() => null))) : [];
    const results = await Promise.allSettled(ids.map((id) => api.remove(id)));
    // A message someone else deleted meanwhile (404) is gone all the same.
    const gone = ids.filter((_, i) => {
      const r = results[i]!;
      return r.status === 'fulfilled' || (r.reason instanceof Error && 'status' in r.reason && r.reason.status === 404);
    });
    this.#afterDelete(gone);
    this.selection.forget(gone);
    const failed = ids.length - gone.length;
    const restorable = raws.length === ids.length && raws.every((r) => r !== null);
    const undo = restorable ? () => void this.#restore(copies.map((c, i) => ({ raw: raws[i]!, inbox: c.inbox, read: c.read }))) : null;
    this.#say(`Deleted ${gone.length}${failed ? `; ${failed} could not be deleted` : ''}`, undo);
  }

  /** Marks everything the list shows (this search, this inbox) read. */
  async markAllRead(): Promise<void> {
    try {
      const { updated } = await api.setReadWhere({ q: this.inbox.query, inbox: this.inbox.inbox }, true);
      this.#say(`Marked ${updated} read`);
    } catch (err) {
      this.#say(`Could not mark them read: ${(err as Error).message}`);
    }
  }

  /** Deletes every message in the current inbox (or all); the caller has asked for confirmation. */
  async removeAll(): Promise<void> {
    try {
      const { deleted } = await api.removeAll(this.inbox.inbox);
      this.close();
      this.#say(`${deleted} message${deleted === 1 ? '' : 's'} deleted`);
      // An emptied inbox no longer exists: the menu would name nothing. Back to every inbox.
      if (this.inbox.inbox !== null) await this.switchInbox(null);
      else await this.inbox.reload();
    } catch (err) {
      this.#say(`Could not delete: ${(err as Error).message}`);
    }
  }

  dismissNotice(): void {
    if (this.#noticeTimer) clearTimeout(this.#noticeTimer);
    this.#noticeTimer = null;
    this.#notice = null;
  }

  #say(text: string, undo: (() => void) | null = null): void {
    if (this.#noticeTimer) clearTimeout(this.#noticeTimer);
    const notice: Notice = { text, undo: undo ? () => (this.dismissNotice(), undo()) : null };
    this.#notice = notice;
    this.#noticeTimer = setTimeout(() => {
      if (this.#notice === notice) this.#notice = null;
    }, UNDO_MS);
  }

  #afterDelete(ids: string[]): void {
    this.inbox.removeLocally(ids);
    if (this.reader.id !== null && ids.includes(this.reader.id)) this.close();
  }

  /** Writes the current view into the address bar. */
  #commit(mode: 'push' | 'replace', mark: HistoryState['mailpen'] = 'view'): void {
    const search = writeAddress({ inbox: this.inbox.inbox, q: this.inbox.query, message: this.reader.id });
    if (search === location.search) return;
    const url = `${location.pathname}${search}`;
    if (mode === 'push') history.pushState({ mailpen: mark } satisfies HistoryState, '', url);
    else history.replaceState(history.state, '', url);
  }

  /** Back or Forward: show what the address says. */
  #fromAddress(): void {
    const address = readAddress(location.search);
    this.#searchText = address.q;
    this.selection.clear();
    void this.inbox.view(address.inbox, address.q);
    if (address.message === null) this.reader.close();
    else if (address.message !== this.reader.id) void this.open(address.message, 'none');
  }

  #onEvent(event: ChangeEvent): void {
    this.inbox.apply(event);
    switch (event.type) {
      case 'updated':
        if (event.data.id === this.reader.id) this.reader.setRead(event.data.read);
        return;
      case 'deleted':
      case 'evicted':
        this.selection.forget(event.data.messages.map((m) => m.id));
        if (this.reader.id !== null && event.data.messages.some((m) => m.id === this.reader.id)) this.close();
        return;
      case 'cleared':
        this.selection.clear();
        if (this.reader.message && (event.data.inbox === null || event.data.inbox === this.reader.message.inbox)) this.close();
        return;
      case 'added':
        this.notifier.added(event.data.message, (id) => void this.open(id));
        return;
      case 'arrived':
        // Past a frame's page of rows, in a burst: the newest of it came as 'added' and notified.
        return;
      case 'counts':
        return;
      case 'rule-fired':
        this.#rulesFired++;
        return;
      default:
        return unhandled(event);
    }
  }
}
