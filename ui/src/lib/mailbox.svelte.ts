// The page's one controller: the list, the open message and the live connection, and the
// actions that touch more than one of them (opening marks read, deleting closes the reader).
// Components render its getters and call its methods.
import { api } from './api.ts';
import { EventStream, type ConnectionStatus, type ChangeEvent } from './events.ts';
import { Inbox } from './inbox.svelte.ts';
import { Reader } from './reader.svelte.ts';

export class Mailbox {
  readonly inbox = new Inbox();
  readonly reader = new Reader();
  #status = $state<ConnectionStatus>('connecting');
  /** When the next reconnect attempt is due (ms since the epoch), while one is waited for. */
  #retryAt = $state<number | null>(null);
  /** The clock the countdown reads; ticks only while a retry is waited for. */
  #now = $state(Date.now());
  #tick: ReturnType<typeof setInterval> | null = null;
  #notice = $state<string | null>(null);
  #stream: EventStream;

  constructor() {
    this.#stream = new EventStream({
      event: (e) => this.#onEvent(e),
      synced: (kind, counts) => {
        this.inbox.setCounts(counts);
        // Resumed: the missed events were replayed and applied; nothing to reload. Fresh: the first
        // page may predate the subscription, so an arrival in between would be missing; load again.
        if (kind !== 'resumed') this.inbox.revalidate();
      },
      status: (status, retryInMs) => {
        this.#status = status;
        this.#setRetry(retryInMs);
      },
    });
  }

  get status(): ConnectionStatus {
    return this.#status;
  }
  /** Whole seconds until the next reconnect attempt, counting down (null: none is waited for). */
  get retryInS(): number | null {
    return this.#retryAt === null ? null : Math.max(0, Math.ceil((this.#retryAt - this.#now) / 1000));
  }
  /** The last action's outcome, for the live region. */
  get notice(): string | null {
    return this.#notice;
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
    // Both at once: the first screen does not wait for the WebSocket handshake.
    void this.inbox.reload();
    this.#stream.start();
    window.addEventListener('online', () => this.#stream.retryNow());
  }

  reconnect(): void {
    this.#stream.retryNow();
  }

  /** Opens a message and marks it read through the API (the API's own reads never do). */
  async open(id: string): Promise<void> {
    this.inbox.highlight(id);
    const message = await this.reader.open(id);
    if (message && !message.read) {
      this.inbox.markLocally(id, true);
      this.reader.setRead(true);
      try {
        await api.setRead(id, true);
      } catch (err) {
        this.inbox.markLocally(id, false);
        this.reader.setRead(false);
        this.#notice = `could not mark it read: ${(err as Error).message}`;
      }
    }
  }

  openHighlighted(): void {
    const id = this.inbox.highlighted ?? this.inbox.at(0)?.id;
    if (id) void this.open(id);
  }

  /** The message an action applies to: the open one, else the highlighted one. */
  #target(): { id: string; read: boolean } | null {
    const id = this.reader.id ?? this.inbox.highlighted;
    if (id === null) return null;
    const row = this.inbox.find(id);
    const read = this.reader.id === id && this.reader.message ? this.reader.message.read : (row?.read ?? false);
    return { id, read };
  }

  async toggleRead(): Promise<void> {
    const target = this.#target();
    if (!target) return;
    const read = !target.read;
    this.inbox.markLocally(target.id, read);
    if (this.reader.id === target.id) this.reader.setRead(read);
    try {
      await api.setRead(target.id, read);
      this.#notice = read ? 'Marked read' : 'Marked unread';
    } catch (err) {
      this.inbox.markLocally(target.id, !read);
      if (this.reader.id === target.id) this.reader.setRead(!read);
      this.#notice = `could not change the read state: ${(err as Error).message}`;
    }
  }

  async remove(): Promise<void> {
    const target = this.#target();
    if (!target) return;
    this.inbox.highlight(target.id);
    try {
      await api.remove(target.id);
      this.#afterDelete([target.id]);
      // The next message is highlighted, not opened: opening would mark it read unasked.
      this.#notice = 'Message deleted';
    } catch (err) {
      this.#notice = `could not delete: ${(err as Error).message}`;
    }
  }

  /** Deletes every message in the current inbox (or all); the caller has asked for confirmation. */
  async removeAll(): Promise<void> {
    try {
      const { deleted } = await api.removeAll(this.inbox.inbox);
      this.reader.close();
      this.#notice = `${deleted} message${deleted === 1 ? '' : 's'} deleted`;
      await this.inbox.reload();
    } catch (err) {
      this.#notice = `could not delete: ${(err as Error).message}`;
    }
  }

  #afterDelete(ids: string[]): void {
    this.inbox.removeLocally(ids);
    if (this.reader.id !== null && ids.includes(this.reader.id)) this.reader.close();
  }

  #onEvent(event: ChangeEvent): void {
    this.inbox.apply(event);
    switch (event.type) {
      case 'updated':
        if (event.data.id === this.reader.id) this.reader.setRead(event.data.read);
        break;
      case 'deleted':
      case 'evicted':
        if (this.reader.id !== null && event.data.messages.some((m) => m.id === this.reader.id)) this.reader.close();
        break;
      case 'cleared':
        if (this.reader.message && (event.data.inbox === null || event.data.inbox === this.reader.message.inbox)) this.reader.close();
        break;
      case 'added':
      case 'counts':
        break;
    }
  }
}
