// The event stream's fan-out: subscribes to the store, numbers each change, keeps the latest
// ones for clients that reconnect, and sends them to every connected WebSocket.
// The store knows nothing of this; the hub is one subscriber among possible others.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { WebSocketServer, WebSocket } from 'ws';
import type { Logger } from '../log.js';
import type { MessageStore, StoreEvent } from '../store/store.js';
import type { ChangeEvent, Counts, MailpenEvent, MessageRef } from './vocabulary.js';
import type { UpgradeTarget } from '../http/upgrade-gate.js';
import type { Refusal } from '../http/security.js';
import type { FiredListener } from '../rules/rules.js';

/** Where fault-rule firings come from (the rule set); the hub numbers and sends them like changes. */
export interface RuleFeed {
  subscribe(listener: FiredListener): () => void;
}

export const EVENTS_PATH = '/api/events';

export interface HubOptions {
  /** Changes kept for clients that resume; older ones get a resync. */
  replay?: number;
  /**
   * Bytes a client may have queued and unsent before it is dropped. A tab in a background
   * window or a stalled network must not make the server hold every message for it.
   */
  maxBufferedBytes?: number;
  /** A client that does not answer a ping within this interval is dropped. */
  heartbeatMs?: number;
  /**
   * How long after the last client leaves the hub keeps recording changes for a resume.
   * With nobody listening, and nobody who might come back, changes cost nothing.
   */
  resumeWindowMs?: number;
  /** Counts are sent at most this often, so a burst of mail sends a few count frames, not one each. */
  countsDelayMs?: number;
  /** Concurrent clients (MAILPEN_MAX_EVENT_CLIENTS); 503 at the upgrade above it; 0: no limit. */
  maxClients?: number;
}

const DEFAULTS = {
  replay: 1000,
  maxBufferedBytes: 4 * 1024 * 1024,
  heartbeatMs: 30_000,
  resumeWindowMs: 5 * 60_000,
  countsDelayMs: 200,
  maxClients: 0,
};

/** The client never needs to say more than a short resume frame. */
const MAX_CLIENT_FRAME = 4 * 1024;

interface Client {
  ws: WebSocket;
  /** Only events about this inbox (and global ones); null for all. */
  inbox: string | null;
  /** Asked with `?batch=1`: the changes of one turn arrive as one frame, a JSON array of events. */
  batch: boolean;
  /**
   * Asked with `?rows=N` (the UI): of a frame's arrivals, only the newest N come as `added` with
   * their rows, the others as `arrived` references. null: every `added` in full.
   */
  rows: number | null;
  alive: boolean;
}

/**
 * An `added` whose summary is made only when a client needs its row (#full): while every client
 * here asked for at most N rows a frame, or none is here. Summarizing a message (its headers
 * parsed, its body scanned, its row serialized) was most of what 5 open tabs cost a burst of mail.
 */
interface LazyAdded {
  seq: number;
  id: string;
  inbox: string;
  /** The summary once made; null once found gone. */
  full?: Recorded | null;
}

type Kept = Recorded | LazyAdded;

function seqOf(kept: Kept): number {
  return 'event' in kept ? kept.event.seq : kept.seq;
}

/** The most rows a `?rows=N` client may ask for a frame. */
const MAX_ROWS = 1000;

interface Recorded {
  event: ChangeEvent;
  /** The JSON of the unfiltered event, serialized once for every client. */
  frame: string;
}

/**
 * How long a client resuming from a seq this replica has not reached yet waits for it (the seq came
 * from another replica, which read the shared log a moment earlier) before it is told to resync.
 */
const AHEAD_WAIT_MS = 5000;

/** Sustained, frames go out at most once per this interval... */
const FLUSH_INTERVAL_MS = 10;
/**
 * ...or this one while every client asked for at most N rows a frame (the UI): 10 frames a second
 * is as fast as a list is read, and the rows of a frame are one page however many arrived.
 */
const ROWS_FLUSH_INTERVAL_MS = 100;
/** ...after this many at once: a message now and then, or a send-then-wait test, never waits. */
const FLUSH_BURST = 4;

export class EventHub implements UpgradeTarget {
  /** This process's, or the shared log's when the store is shared by replicas (one sequence for all). */
  readonly epoch: string;
  readonly #store: MessageStore;
  readonly #log: Logger;
  readonly #options: Required<HubOptions>;
  readonly #wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_FRAME, perMessageDeflate: false });
  readonly #clients = new Set<Client>();
  readonly #unsubscribe: () => void;
  readonly #heartbeat: NodeJS.Timeout;
  #countsTimer: NodeJS.Timeout | null = null;
  #seq = 0;
  /** Ring of the latest changes, oldest at #ringStart. */
  #ring: Kept[] = [];
  #ringStart = 0;
  /** Every change with a seq above this is in the ring; a resume from below it must resync. */
  #floor = 0;
  #lastClientLeftAt = -Infinity;
  #closed = false;
  /**
   * Changes recorded in this turn of the event loop, sent together once it ends (#flush). A burst
   * of mail is a handful of messages per turn: sent one frame and one socket write each, to every
   * client, the writes cost more than storing the mail (bench ingest: 5 clients, 0.55 of none).
   */
  #outbox: Kept[] = [];
  /** Connected clients that did not ask for `?rows=N`: while there is one, every `added` is summarized as it happens. */
  #fullClients = 0;
  #flushing: { immediate: NodeJS.Immediate } | { timer: NodeJS.Timeout } | null = null;
  /**
   * Flushes this hub may send at once (a token bucket, refilled one per FLUSH_INTERVAL_MS, at most
   * FLUSH_BURST). Mail sent now and then goes out at the end of its turn; a burst of 13,000
   * messages a second, 3 or 4 a turn, is one frame per client every 10 ms instead of every turn:
   * each frame is a socket write per client, and those writes were a sixth of the server's time
   * with 5 tabs open (bench ingest, profiled).
   */
  #flushTokens = FLUSH_BURST;
  #tokensAt = 0;

  constructor(store: MessageStore, log: Logger, options: HubOptions = {}, rules: RuleFeed | null = null) {
    this.#store = store;
    this.#log = log;
    this.#options = { ...DEFAULTS, ...options };
    this.epoch = store.events?.epoch ?? randomBytes(6).toString('base64url');
    // Shared: the seq the replicas have reached; whatever came before this hub started is not here.
    this.#seq = this.#floor = store.events?.seq ?? 0;
    const fromStore = store.subscribe((e) => this.#onStoreEvent(e));
    const fromRules = rules?.subscribe(({ rule, stage, action, code, inbox, hits }) =>
      // Shared store: a firing is this replica's own and takes the latest change's seq (see #onChange).
      this.#onChange((seq) => ({ type: 'rule-fired', seq, data: { rule, stage, action, code, inbox, hits } }), store.events ? this.#seq : undefined),
    );
    this.#unsubscribe = () => {
      fromStore();
      fromRules?.();
    };
    this.#heartbeat = setInterval(() => this.#beat(), this.#options.heartbeatMs).unref();
  }

  get seq(): number {
    return this.#seq;
  }

  get clientCount(): number {
    return this.#clients.size;
  }

  /**
   * Takes an upgrade the gate (server/http/upgrade-gate.ts) admitted: Host, Origin and credentials
   * are checked there. Says why not when its parameters are bad, it is full, or it is closing.
   */
  accept(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): Refusal | null {
    if (this.#closed) return { statusCode: 503, message: 'the server is shutting down' };
    if (this.#options.maxClients > 0 && this.#clients.size >= this.#options.maxClients) {
      return { statusCode: 503, message: 'too many event-stream clients; see MAILPEN_MAX_EVENT_CLIENTS' };
    }
    const sinceParam = url.searchParams.get('since');
    if (sinceParam !== null && !/^\d{1,15}$/.test(sinceParam)) {
      return { statusCode: 400, message: 'since must be the seq of the last event received (a whole number)' };
    }
    const since = sinceParam === null ? null : Number(sinceParam);
    const epoch = url.searchParams.get('epoch');
    const inbox = url.searchParams.get('inbox') || null;
    const batch = url.searchParams.get('batch') === '1';
    const rowsParam = url.searchParams.get('rows');
    if (rowsParam !== null && (!/^\d{1,4}$/.test(rowsParam) || Number(rowsParam) < 1 || Number(rowsParam) > MAX_ROWS)) {
      return { statusCode: 400, message: `rows must be a whole number from 1 to ${MAX_ROWS}: the most rows (added events) a frame carries` };
    }
    const rows = rowsParam === null ? null : Number(rowsParam);
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#whenAt(ws, epoch === this.epoch ? since : null, () => this.#accept(ws, inbox, since, epoch, batch, rows)));
    return null;
  }

  /** Closes every socket (1001, going away) and stops listening to the store. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe();
    clearInterval(this.#heartbeat);
    // What was recorded before the close still goes out, ahead of the close frame.
    this.#flush();
    if (this.#countsTimer) clearTimeout(this.#countsTimer);
    const closing = [...this.#clients].map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.ws.readyState === WebSocket.CLOSED) return resolve();
          c.ws.once('close', () => resolve());
          c.ws.close(1001, 'server shutting down');
          // A client that never answers the close frame must not hold the shutdown.
          setTimeout(() => c.ws.terminate(), 1000).unref();
        }),
    );
    await Promise.all(closing);
    this.#clients.clear();
    this.#wss.close();
  }

  #accept(ws: WebSocket, inbox: string | null, since: number | null, epoch: string | null, batch: boolean, rows: number | null): void {
    // The changes of this turn are in the ring already: sent now to the clients there were, the
    // new one gets them once, by replay, and never again in the flush.
    this.#flush();
    const client: Client = { ws, inbox, batch, rows, alive: true };
    this.#clients.add(client);
    if (rows === null) this.#fullClients++;
    ws.on('pong', () => (client.alive = true));
    ws.on('error', (err) => this.#log.debug({ err }, 'event stream client error'));
    ws.on('close', () => this.#remove(client));
    // Clients only listen; anything they send is ignored (heartbeats are protocol pings).
    if (since === null) {
      this.#send(client, JSON.stringify(this.#hello()));
      return;
    }
    const reason =
      epoch !== this.epoch
        ? 'the server restarted since your last event'
        : since > this.#seq
          ? 'that seq is in the future'
          : since < this.#floor
            ? 'the events you missed are no longer buffered'
            : null;
    const missed = reason === null ? this.#missedSince(since, client.inbox) : null;
    if (missed === null) {
      const resync: MailpenEvent = {
        type: 'resync',
        seq: this.#seq,
        data: { epoch: this.epoch, reason: reason ?? 'more was missed than is worth replaying', counts: this.#counts() },
      };
      this.#send(client, JSON.stringify(resync));
      return;
    }
    for (const frame of missed) this.#send(client, frame);
    this.#send(client, JSON.stringify(this.#hello()));
  }

  /**
   * The frames a client missed, or null when they would fill half its send buffer: replaying
   * them would get it dropped, and it would reconnect from the same seq and be dropped again.
   */
  #missedSince(since: number, inbox: string | null): string[] | null {
    const frames: string[] = [];
    let bytes = 0;
    for (let i = this.#ringStart; i < this.#ring.length; i++) {
      const kept = this.#ring[i]!;
      if (seqOf(kept) <= since) continue;
      const r = this.#full(kept);
      if (r === null) continue;
      const filtered = inbox === null ? r.event : forInbox(r.event, inbox);
      if (filtered === null) continue;
      const frame = filtered === r.event ? r.frame : JSON.stringify(filtered);
      bytes += frame.length;
      if (bytes > this.#options.maxBufferedBytes / 2) return null;
      frames.push(frame);
    }
    return frames;
  }

  /**
   * Runs `go` once this hub has reached `since`: at once, except on a shared store when the
   * client's seq came from a replica ahead of this one, then as soon as this one catches up (or
   * AHEAD_WAIT_MS passes and the client gets a resync).
   */
  #whenAt(ws: WebSocket, since: number | null, go: () => void): void {
    if (since === null || !this.#store.events || since <= this.#seq) return go();
    const onError = (err: Error): void => this.#log.debug({ err }, 'event stream client error');
    ws.on('error', onError);
    const deadline = Date.now() + AHEAD_WAIT_MS;
    const check = (): void => {
      if (ws.readyState !== WebSocket.OPEN) return;
      if (since > this.#seq && Date.now() < deadline && !this.#closed) return void setTimeout(check, 10);
      ws.off('error', onError);
      go();
    };
    check();
  }

  #remove(client: Client): void {
    if (!this.#clients.delete(client)) return;
    if (client.rows === null) this.#fullClients--;
    if (this.#clients.size === 0) this.#lastClientLeftAt = Date.now();
  }

  #hello(): MailpenEvent {
    return { type: 'hello', seq: this.#seq, data: { epoch: this.epoch, counts: this.#counts() } };
  }

  #counts(): Counts {
    const c = this.#store.counts();
    return { total: c.messages, unread: c.unread, inboxes: this.#store.inboxes() };
  }

  #recording(): boolean {
    // Shared: a client may come from another replica to resume here at any time.
    if (this.#store.events) return true;
    return this.#clients.size > 0 || Date.now() - this.#lastClientLeftAt < this.#options.resumeWindowMs;
  }

  #onStoreEvent(e: StoreEvent): void {
    // An `added` keeps only its id until a client needs its row: while nobody here would be sent
    // it in full (see LazyAdded). A shared store records every change for clients that may come
    // from another replica; a single Mailpen only while someone listens or may resume.
    const make =
      e.type === 'added' && this.#fullClients === 0
        ? (seq: number): Kept | ChangeEvent => ({ seq, id: e.message.id, inbox: e.message.inbox })
        : (seq: number): ChangeEvent => this.#toChange(e, seq);
    if (this.#onChange(make, this.#store.events?.seq)) this.#scheduleCounts();
  }

  /**
   * Numbers a change and records it; false when nobody listens or will resume (it is forgotten).
   * `given`: the seq a shared store gave it (the same on every replica), or, for what only this
   * replica sends (rule firings, counts), the latest change's: those do not advance a shared seq.
   */
  #onChange(make: (seq: number) => Kept | ChangeEvent, given?: number): boolean {
    const seq = given ?? ++this.#seq;
    this.#seq = Math.max(this.#seq, seq);
    if (!this.#recording()) {
      // Nobody listens and nobody will resume: forget, and make any old resume point resync.
      this.#floor = seq;
      this.#ring = [];
      this.#ringStart = 0;
      return false;
    }
    const made = make(seq);
    this.#record('type' in made ? { event: made, frame: JSON.stringify(made) } : made);
    return true;
  }

  #toChange(e: StoreEvent, seq: number): ChangeEvent {
    switch (e.type) {
      case 'added':
        return { type: 'added', seq, data: { message: this.#store.summary(e.message) } };
      case 'updated':
        return { type: 'updated', seq, data: { id: e.message.id, inbox: e.message.inbox, read: e.message.read, tags: [...e.message.tags] } };
      case 'deleted':
        return { type: 'deleted', seq, data: { messages: e.messages } };
      case 'evicted':
        return { type: 'evicted', seq, data: { messages: e.messages } };
      case 'cleared':
        return { type: 'cleared', seq, data: { inbox: e.inbox } };
      default:
        return unhandled(e);
    }
  }

  /**
   * A kept change with its event and frame: a LazyAdded summarized now (once); null when its message
   * is gone (the client gets its deletion or eviction next, which it can ignore).
   */
  #full(kept: Kept): Recorded | null {
    if ('event' in kept) return kept;
    if (kept.full !== undefined) return kept.full;
    const message = this.#store.get(kept.id);
    if (message === undefined) return (kept.full = null);
    const event: ChangeEvent = { type: 'added', seq: kept.seq, data: { message: this.#store.summary(message) } };
    return (kept.full = { event, frame: JSON.stringify(event) });
  }

  #record(kept: Kept): void {
    this.#remember(kept);
    if (this.#clients.size === 0) return;
    this.#outbox.push(kept);
    this.#scheduleFlush();
  }

  #remember(kept: Kept): void {
    this.#ring.push(kept);
    if (this.#ring.length - this.#ringStart > this.#options.replay) {
      this.#floor = seqOf(this.#ring[this.#ringStart]!);
      this.#ringStart++;
      // Drop the consumed prefix in bulk rather than shifting on every event.
      if (this.#ringStart >= this.#options.replay) {
        this.#ring = this.#ring.slice(this.#ringStart);
        this.#ringStart = 0;
      }
    }
  }

  #scheduleCounts(): void {
    if (this.#countsTimer || this.#clients.size === 0) return;
    this.#countsTimer = setTimeout(() => {
      this.#countsTimer = null;
      if (this.#closed) return;
      const event: ChangeEvent = { type: 'counts', seq: this.#store.events ? this.#seq : ++this.#seq, data: this.#counts() };
      this.#record({ event, frame: JSON.stringify(event) });
    }, this.#options.countsDelayMs);
    this.#countsTimer.unref();
  }

  /**
   * Sends what this turn recorded. Every event was serialized once (#record); the batch frame
   * every unfiltered client gets is joined and encoded once too, and a client that did not ask
   * for batches gets its frames back to back under one cork: one socket write a turn either way.
   */
  #scheduleFlush(): void {
    if (this.#flushing !== null) return;
    const now = performance.now();
    const interval = this.#fullClients === 0 ? ROWS_FLUSH_INTERVAL_MS : FLUSH_INTERVAL_MS;
    this.#flushTokens = Math.min(FLUSH_BURST, this.#flushTokens + (now - this.#tokensAt) / interval);
    this.#tokensAt = now;
    if (this.#flushTokens >= 1) {
      this.#flushTokens -= 1;
      this.#flushing = { immediate: setImmediate(() => this.#flush()) };
    } else {
      // The token this flush takes is the one that accrues by then.
      const wait = (1 - this.#flushTokens) * interval;
      this.#flushTokens = 0;
      this.#tokensAt = now + wait;
      this.#flushing = { timer: setTimeout(() => this.#flush(), wait) };
    }
  }

  #flush(): void {
    const flushing = this.#flushing;
    if (flushing !== null) {
      if ('immediate' in flushing) clearImmediate(flushing.immediate);
      else clearTimeout(flushing.timer);
      this.#flushing = null;
    }
    const outbox = this.#outbox;
    if (outbox.length === 0) return;
    this.#outbox = [];
    /** What the unfiltered clients of one kind are sent (by rows; null: every row), encoded once for all of them. */
    const shared = new Map<number | null, { frames: string[]; batch?: Buffer; each?: Buffer[] }>();
    for (const client of this.#clients) {
      if (client.inbox !== null) {
        const frames = this.#framesFor(outbox, client.inbox, client.rows);
        if (frames.length === 0) continue;
        if (client.batch) this.#send(client, batchFrame(frames));
        else this.#sendEach(client, frames);
        continue;
      }
      let kind = shared.get(client.rows);
      if (kind === undefined) shared.set(client.rows, (kind = { frames: this.#framesFor(outbox, null, client.rows) }));
      if (kind.frames.length === 0) continue;
      if (client.batch) this.#send(client, (kind.batch ??= Buffer.from(batchFrame(kind.frames))));
      else this.#sendEach(client, (kind.each ??= kind.frames.map((f) => Buffer.from(f))));
    }
  }

  /**
   * A flush's frames for a client of `inbox` (null: all) that asked for at most `rows` rows (null:
   * every row). A rows client gets the newest `rows` arrivals it sees as `added`, the ones before
   * them as `arrived` references (one event for each run of them between other changes). An
   * arrival whose message is gone by now is left out either way: its deletion or eviction follows.
   */
  #framesFor(outbox: readonly Kept[], inbox: string | null, rows: number | null): string[] {
    const sees = (ref: MessageRef): boolean => inbox === null || ref.inbox === inbox;
    let firstWithRow = 0;
    if (rows !== null) {
      firstWithRow = outbox.length;
      for (let left = rows; firstWithRow > 0 && left > 0; ) {
        const ref = arrivalOf(outbox[--firstWithRow]!);
        if (ref !== null && sees(ref)) left--;
      }
    }
    const frames: string[] = [];
    let refs: MessageRef[] = [];
    let refsSeq = 0;
    const endRefs = (): void => {
      if (refs.length === 0) return;
      const arrived: ChangeEvent = { type: 'arrived', seq: refsSeq, data: { messages: refs } };
      frames.push(JSON.stringify(arrived));
      refs = [];
    };
    for (let i = 0; i < outbox.length; i++) {
      const k = outbox[i]!;
      const ref = arrivalOf(k);
      if (ref !== null) {
        if (!sees(ref)) continue;
        if (i >= firstWithRow) {
          const r = this.#full(k);
          if (r === null) continue;
          endRefs();
          frames.push(r.frame);
        } else if (this.#store.get(ref.id) !== undefined) {
          refs.push(ref);
          refsSeq = seqOf(k);
        }
        continue;
      }
      const recorded = k as Recorded;
      const filtered = inbox === null ? recorded.event : forInbox(recorded.event, inbox);
      if (filtered === null) continue;
      endRefs();
      frames.push(filtered === recorded.event ? recorded.frame : JSON.stringify(filtered));
    }
    endRefs();
    return frames;
  }

  /** Frames one after the other in one socket write. */
  #sendEach(client: Client, frames: Array<string | Buffer>): void {
    if (frames.length === 1) {
      this.#send(client, frames[0]!);
      return;
    }
    const socket = (client.ws as WebSocket & { _socket?: { cork(): void; uncork(): void } })._socket;
    socket?.cork();
    for (const frame of frames) if (!this.#send(client, frame)) break;
    socket?.uncork();
  }

  /** False when the client is gone, or was dropped for being too slow. */
  #send(client: Client, frame: string | Buffer): boolean {
    const { ws } = client;
    if (ws.readyState !== WebSocket.OPEN) return false;
    if (ws.bufferedAmount > this.#options.maxBufferedBytes) {
      // Dropped rather than waited for: it resumes by seq (or resyncs) when it reconnects.
      this.#log.warn({ buffered: ws.bufferedAmount }, 'event stream client too slow; dropped');
      this.#remove(client);
      ws.terminate();
      return false;
    }
    // A Buffer is sent as a text frame all the same: encoded once for every client.
    ws.send(frame, { binary: false });
    return true;
  }

  #beat(): void {
    for (const client of this.#clients) {
      if (!client.alive) {
        this.#remove(client);
        client.ws.terminate();
        continue;
      }
      client.alive = false;
      client.ws.ping();
    }
  }
}

/**
 * Several events in one frame, in seq order, for a client that asked for batches. A turn with a
 * single change sends it alone, as a client that did not ask would get it: a consumer reads
 * either shape (`Array.isArray(frame) ? frame : [frame]`).
 */
function batchFrame(frames: string[]): string {
  return frames.length === 1 ? frames[0]! : `[${frames.join(',')}]`;
}

/** The message an arrival is about (summarized or not); null for any other change. */
function arrivalOf(k: Kept): MessageRef | null {
  if (!('event' in k)) return { id: k.id, inbox: k.inbox };
  return k.event.type === 'added' ? { id: k.event.data.message.id, inbox: k.event.data.message.inbox } : null;
}

/** The event as a client filtered to `inbox` sees it: itself, a narrowed copy, or nothing. */
function forInbox(event: ChangeEvent, inbox: string): ChangeEvent | null {
  switch (event.type) {
    case 'added':
      return event.data.message.inbox === inbox ? event : null;
    case 'updated':
      return event.data.inbox === inbox ? event : null;
    case 'deleted':
    case 'evicted':
    case 'arrived': {
      const messages: MessageRef[] = event.data.messages.filter((m) => m.inbox === inbox);
      if (messages.length === 0) return null;
      return messages.length === event.data.messages.length ? event : { ...event, data: { messages } };
    }
    case 'cleared':
      return event.data.inbox === null || event.data.inbox === inbox ? event : null;
    case 'counts':
      // Every client gets all counts: the inbox switcher shows every inbox.
      return event;
    case 'rule-fired':
      // Before auth the inbox is unknown: only unfiltered clients hear of it.
      return event.data.inbox === inbox ? event : null;
    default:
      return unhandled(event);
  }
}

/** The end of every `switch` on an event: a new event type does not compile until it is handled. */
function unhandled(event: never): never {
  throw new Error(`unhandled event ${JSON.stringify(event)}`);
}
