// The event stream client: one WebSocket to /api/events, reconnected with backoff, resumed from
// the last seq it saw so nothing is lost across a drop. It knows nothing of Svelte; the state
// classes give it callbacks.
import type { ChangeEvent, Counts, MailpenEvent } from '../../../server/events/vocabulary.ts';

export type { ChangeEvent, Counts, MailpenEvent };

export type ConnectionStatus = 'connecting' | 'live' | 'reconnecting';

/**
 * How the client stands after (re)connecting: `fresh` (first connection: load everything),
 * `resumed` (missed events were replayed: nothing to reload), `resync` (they were not: reload).
 */
export type SyncKind = 'fresh' | 'resumed' | 'resync';

export interface StreamHandlers {
  event(event: ChangeEvent): void;
  synced(kind: SyncKind, counts: Counts): void;
  status(status: ConnectionStatus, retryInMs: number | null): void;
}

const FIRST_RETRY_MS = 500;
/**
 * A server restarted in about a second was found 16 s later with a 15 s cap. One local
 * connection attempt every 5 s costs nothing; focus and `online` also try at once (mailbox).
 */
const MAX_RETRY_MS = 5_000;

export class EventStream {
  readonly #handlers: StreamHandlers;
  readonly #rows: number;
  #ws: WebSocket | null = null;
  #lastSeq: number | null = null;
  #epoch: string | null = null;
  #retryMs = FIRST_RETRY_MS;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #stopped = false;

  /** `rows`: the most arrivals a frame carries with their rows (the list's first page). */
  constructor(handlers: StreamHandlers, rows: number) {
    this.#handlers = handlers;
    this.#rows = rows;
  }

  start(): void {
    this.#stopped = false;
    this.#connect();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#ws?.close();
  }

  /** Reconnects now instead of waiting out the backoff (the user asked, or the tab came back online). */
  retryNow(): void {
    if (this.#ws || this.#stopped) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#connect();
  }

  #url(): string {
    const url = new URL('/api/events', location.href);
    // Asked for by name: MAILPEN_EVENTS_FORMAT=mailpit gives Mailpit's frames to clients that do not ask.
    url.searchParams.set('format', 'mailpen');
    // The changes of one server turn in one frame (a JSON array): a burst of mail is a few
    // frames a second instead of thousands, for the server and for this tab.
    url.searchParams.set('batch', '1');
    // A page of rows a frame: in a burst the rest arrive as references, fetched when scrolled to.
    // Summarizing thousands of messages a second for every open tab halved the server's rate.
    url.searchParams.set('rows', String(this.#rows));
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    if (this.#lastSeq !== null && this.#epoch !== null) {
      url.searchParams.set('since', String(this.#lastSeq));
      url.searchParams.set('epoch', this.#epoch);
    }
    return url.href;
  }

  #connect(): void {
    this.#timer = null;
    const resuming = this.#lastSeq !== null;
    this.#handlers.status(resuming ? 'reconnecting' : 'connecting', null);
    const ws = new WebSocket(this.#url());
    this.#ws = ws;
    ws.onmessage = (message) => {
      let frame: MailpenEvent | MailpenEvent[];
      try {
        frame = JSON.parse(String(message.data)) as MailpenEvent | MailpenEvent[];
      } catch {
        return;
      }
      for (const event of Array.isArray(frame) ? frame : [frame]) this.#receive(event, resuming);
    };
    ws.onclose = () => {
      if (this.#ws !== ws) return;
      this.#ws = null;
      if (this.#stopped) return;
      // Jittered so many tabs do not reconnect in lockstep after a restart.
      const delay = Math.round(this.#retryMs * (0.75 + Math.random() * 0.5));
      this.#retryMs = Math.min(this.#retryMs * 2, MAX_RETRY_MS);
      this.#handlers.status('reconnecting', delay);
      this.#timer = setTimeout(() => this.#connect(), delay);
    };
  }

  #receive(event: MailpenEvent, resuming: boolean): void {
    switch (event.type) {
      case 'hello':
        this.#epoch = event.data.epoch;
        this.#lastSeq = event.seq;
        this.#retryMs = FIRST_RETRY_MS;
        this.#handlers.status('live', null);
        this.#handlers.synced(resuming ? 'resumed' : 'fresh', event.data.counts);
        return;
      case 'resync':
        this.#epoch = event.data.epoch;
        this.#lastSeq = event.seq;
        this.#retryMs = FIRST_RETRY_MS;
        this.#handlers.status('live', null);
        this.#handlers.synced('resync', event.data.counts);
        return;
      default:
        this.#lastSeq = event.seq;
        this.#handlers.event(event);
    }
  }
}
