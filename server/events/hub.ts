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
  alive: boolean;
}

/** An `added` recorded on a shared store while no client was here (#onStoreEvent). */
interface UnsentAdded {
  seq: number;
  id: string;
}

function seqOf(kept: Recorded | UnsentAdded): number {
  return 'event' in kept ? kept.event.seq : kept.seq;
}

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
  #ring: Array<Recorded | UnsentAdded> = [];
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
  #outbox: Recorded[] = [];
  #flushing: NodeJS.Immediate | null = null;

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
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#whenAt(ws, epoch === this.epoch ? since : null, () => this.#accept(ws, inbox, since, epoch, batch)));
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

  #accept(ws: WebSocket, inbox: string | null, since: number | null, epoch: string | null, batch: boolean): void {
    // The changes of this turn are in the ring already: sent now to the clients there were, the
    // new one gets them once, by replay, and never again in the flush.
    this.#flush();
    const client: Client = { ws, inbox, batch, alive: true };
    this.#clients.add(client);
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
      const r = 'event' in kept ? kept : this.#summarize(kept);
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
    if (this.#clients.delete(client) && this.#clients.size === 0) this.#lastClientLeftAt = Date.now();
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
    const shared = this.#store.events?.seq;
    if (e.type === 'added' && shared !== undefined && this.#clients.size === 0) {
      // A shared store records every change for clients that may come from another replica, but
      // with nobody here an `added` keeps only its id: its summary (a body scan, most of an event's
      // cost, and not made by a single Mailpen without clients) waits until a client resumes here.
      this.#seq = Math.max(this.#seq, shared);
      this.#remember({ seq: shared, id: e.message.id });
      return;
    }
    if (this.#onChange((seq) => this.#toChange(e, seq), this.#store.events?.seq)) this.#scheduleCounts();
  }

  /**
   * Numbers a change and records it; false when nobody listens or will resume (it is forgotten).
   * `given`: the seq a shared store gave it (the same on every replica), or, for what only this
   * replica sends (rule firings, counts), the latest change's: those do not advance a shared seq.
   */
  #onChange(make: (seq: number) => ChangeEvent, given?: number): boolean {
    const seq = given ?? ++this.#seq;
    this.#seq = Math.max(this.#seq, seq);
    if (!this.#recording()) {
      // Nobody listens and nobody will resume: forget, and make any old resume point resync.
      this.#floor = seq;
      this.#ring = [];
      this.#ringStart = 0;
      return false;
    }
    this.#record(make(seq));
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
   * An `added` that no client here was sent, as its summary and frame now; null when the message is
   * gone (the client gets its deletion or eviction next, which it can ignore).
   */
  #summarize(unsent: UnsentAdded): Recorded | null {
    const message = this.#store.get(unsent.id);
    if (message === undefined) return null;
    const event: ChangeEvent = { type: 'added', seq: unsent.seq, data: { message: this.#store.summary(message) } };
    return { event, frame: JSON.stringify(event) };
  }

  #record(event: ChangeEvent): void {
    const recorded: Recorded = { event, frame: JSON.stringify(event) };
    this.#remember(recorded);
    if (this.#clients.size === 0) return;
    this.#outbox.push(recorded);
    this.#flushing ??= setImmediate(() => this.#flush());
  }

  #remember(kept: Recorded | UnsentAdded): void {
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
      this.#record({ type: 'counts', seq: this.#store.events ? this.#seq : ++this.#seq, data: this.#counts() });
    }, this.#options.countsDelayMs);
    this.#countsTimer.unref();
  }

  /**
   * Sends what this turn recorded. Every event was serialized once (#record); the batch frame
   * every unfiltered client gets is joined and encoded once too, and a client that did not ask
   * for batches gets its frames back to back under one cork: one socket write a turn either way.
   */
  #flush(): void {
    if (this.#flushing) clearImmediate(this.#flushing);
    this.#flushing = null;
    const outbox = this.#outbox;
    if (outbox.length === 0) return;
    this.#outbox = [];
    let batch: Buffer | null = null;
    let each: Buffer[] | null = null;
    for (const client of this.#clients) {
      if (client.inbox === null) {
        if (client.batch) this.#send(client, (batch ??= Buffer.from(batchFrame(outbox.map((r) => r.frame)))));
        else this.#sendEach(client, (each ??= outbox.map((r) => Buffer.from(r.frame))));
        continue;
      }
      const frames: string[] = [];
      for (const recorded of outbox) {
        const filtered = forInbox(recorded.event, client.inbox);
        if (filtered === recorded.event) frames.push(recorded.frame);
        else if (filtered !== null) frames.push(JSON.stringify(filtered));
      }
      if (frames.length === 0) continue;
      if (client.batch) this.#send(client, batchFrame(frames));
      else this.#sendEach(client, frames);
    }
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

/** The event as a client filtered to `inbox` sees it: itself, a narrowed copy, or nothing. */
function forInbox(event: ChangeEvent, inbox: string): ChangeEvent | null {
  switch (event.type) {
    case 'added':
      return event.data.message.inbox === inbox ? event : null;
    case 'updated':
      return event.data.inbox === inbox ? event : null;
    case 'deleted':
    case 'evicted': {
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
