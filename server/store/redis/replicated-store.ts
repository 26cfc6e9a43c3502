// Several Mailpen replicas as one (MAILPEN_STORE=redis://...): Redis holds the log of record (log.ts),
// and each replica keeps today's MemoryStore as a view built by applying that log, so reads, search
// and events stay as fast as in one process and the HTTP and SMTP edges do not know which store runs.
//
// Writes: a message, from SMTP or the API (uploads, Mailpit's send, the provider APIs), is appended
// first and applied in the stream's order on every replica (so the same eviction happens
// everywhere): here, from what was appended, once Redis acknowledged it and the entries before it
// are applied; on the others, when they hear it. SMTP's 250 and the API's answer wait for Redis's
// acknowledgement (addDurably, through storeMessage in store.ts). The other writes (read flags,
// tags, deletes, clears, and add() for a caller that must add synchronously: no edge does) are
// synchronous in the store's interface: they are applied to this replica's view at once and
// appended marked as applied, and the others apply them when they read them. While Redis cannot
// take a write, every write throws StoreUnavailableError (SMTP 451 4.3.0, the API 503).
//
// Events: every replica gives the same change the same seq, built from the number of the log entry
// that made it (log.ts), so the event stream is one sequence and a client resumes on any replica.
// The events of a write this replica applied at once are held until its entry comes back from the
// log, and go out then with that entry's number, in log order with everyone else's.
//
// Trimming: what comes before the add of the oldest message still held is moot (entries about a
// message come after its add; settings live in a hash of their own), so the replica whose write
// deleted or evicted something trims the log up to there, and never past an entry a live replica
// has not read (log.ts trim). Redis holds about as much as the messages themselves.
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../log.js';
import { MemoryStore, newId } from '../memory-store.js';
import type {
  BodyCandidates,
  InboxCounts,
  ListOptions,
  ListPage,
  MessageRef,
  MessageStore,
  SearchFields,
  StoreEvent,
  StoreHealth,
  StoreLimits,
  StoreListener,
  StoredMessage,
  TagCount,
} from '../store.js';
import type { IncomingMessage, MessageSummary } from '../types.js';
import type { BodyScan } from '../../mail/scan.js';
import { StoreUnavailableError } from '../unavailable.js';
import { RedisLog, type LogEntry, type Origin } from './log.js';

/**
 * After Redis acknowledged a message, SMTP waits at most this long for this replica's own view to
 * hold it too (at once, unless entries before it are still to be heard), so a client that fetches it
 * from this replica on the 250 finds it. Past it the 250 goes anyway: the message is safe in Redis.
 */
const OWN_APPLY_WAIT_MS = 2000;
/** While Redis cannot be reached at start, say so in the log this often. */
const START_WARN_MS = 5000;
/**
 * Event seqs per log entry: entry n's events are n * EVENTS_PER_ENTRY + 0, 1, 2... An entry makes
 * one event (a delete, a clear, a flag) or, for a message, one `added` and at most one `evicted`
 * per inbox it goes to: two per recipient at most, and MAILPEN_MAX_RECIPIENTS is 1000 by default.
 * Past it the rest share the last seq. 10^4 leaves 10^11 entries under the 15 digits `since` takes.
 */
const EVENTS_PER_ENTRY = 10_000;
/** How often a replica says where it has read to (log.ts heartbeat; trims wait for it). */
const HEARTBEAT_MS = 1000;
/** Trims at most this often: one XTRIM drops a run of entries as cheaply as one. */
const TRIM_EVERY_MS = 200;

/** An event that takes messages out of the store: the replica whose write made it trims the log. */
function removes(e: StoreEvent): boolean {
  return e.type === 'deleted' || e.type === 'evicted' || e.type === 'cleared';
}

/**
 * Settings every replica follows (fault rules, routing), shared through the same log: `share`
 * applies what Redis holds now and every later change from any replica, and answers the function
 * that publishes a change made here (it throws StoreUnavailableError while Redis cannot take it,
 * before the change is made, so the API answers 503 and nothing changes).
 */
export interface SharedSettings {
  share(name: string, apply: (value: unknown) => void): (value: unknown) => void;
}

/** The members MessageStore leaves optional (shortcuts a store may offer, or Redis-only ones). */
type OptionalMembers<T> = { [K in keyof T]-?: object extends Pick<T, K> ? K : never }[keyof T];
/**
 * Every optional MessageStore member the view (a MemoryStore) offers, this store offers too (it
 * passes the read ones through, below): one it did not would be missing on every replica without a
 * word, its callers quietly falling back to the slow way (walking every message, decoding every
 * body). A new one added to MessageStore and MemoryStore and not here fails typecheck on this line.
 */
export type NotForwarded = None<Exclude<OptionalMembers<MessageStore> & keyof MemoryStore, keyof ReplicatedStore>>;
type None<T extends never> = T;

export class ReplicatedStore implements MessageStore, SharedSettings {
  readonly #view: MemoryStore;
  readonly #listeners = new Set<StoreListener>();
  /** The log entry whose events go out now (or went last), and how many it has sent. */
  #entry = 0;
  #eventsInEntry = 0;
  /** Collects the view's events during a write applied here first. */
  #capture: StoreEvent[] | null = null;
  /** Those events, by write number, until the write's entry comes back. */
  readonly #held = new Map<number, StoreEvent[]>();
  #writes = 0;
  /** Each held message's id, in log order, with the number of the entry that added it (the trim point). */
  readonly #addedBy = new Map<string, number>();
  /** Set when this replica's own write removed something: it trims the log. */
  #removedHere = false;
  #trimTimer: NodeJS.Timeout | null = null;
  readonly #heartbeat: NodeJS.Timeout;
  /** Shared settings as the log last said, and who follows each. */
  readonly #settings = new Map<string, unknown>();
  readonly #followers = new Map<string, (value: unknown) => void>();
  /** The origin of the entry being applied, to tell this replica's removals from others'. */
  #applyingOwn = false;
  readonly #log: RedisLog;
  readonly #logger: Logger;
  /** Random per process: a restarted replica reads its own earlier entries as anyone else's. */
  readonly #replica = randomBytes(6).toString('hex');
  /** SMTP's appends waiting for the tail to apply them, by their first id. */
  readonly #applying = new Map<string, () => void>();
  #ready: Promise<void>;
  /**
   * Clears this replica applied before Redis had them, oldest first, each with the messages the
   * tail added here since: their entries come before the clear in the log, so when the tail reads
   * the clear back they go, as they went (before the clear) on every other replica.
   */
  readonly #clearsInFlight: Array<{ inbox: string | null; addedSince: string[] }> = [];

  constructor(url: string, limits: StoreLimits, logger: Logger) {
    this.#view = new MemoryStore(limits);
    this.#log = new RedisLog(url);
    this.#logger = logger;
    this.#view.subscribe((e) => this.#fromView(e));
    let caughtUp!: () => void;
    let cannotStart!: (err: Error) => void;
    this.#ready = new Promise((resolve, reject) => {
      caughtUp = resolve;
      cannotStart = reject;
    });
    let lastTrouble = 0;
    const beat = (): void => void this.#log.heartbeat(this.#replica).catch(() => {});
    this.#heartbeat = setInterval(beat, HEARTBEAT_MS).unref();
    this.#log.start({
      settings: (values) => {
        for (const [name, value] of values) this.#settings.set(name, value);
        beat();
      },
      apply: (entry, origin, n) => this.#apply(entry, origin, n),
      applied: () => this.#scheduleTrim(),
      caughtUp: () => {
        const { messages } = this.#view.counts();
        logger.info({ messages }, 'caught up from Redis');
        caughtUp();
      },
      stopped: (reason) => {
        logger.error({ reason }, 'this replica cannot follow the shared log any more');
        // Before the catch-up ends it is a start that cannot work; after, /healthz says why (problem).
        cannotStart(new Error(reason));
      },
      trouble: (err) => {
        const now = Date.now();
        if (now - lastTrouble < START_WARN_MS) return;
        lastTrouble = now;
        logger.warn({ err: err.message }, 'Redis is unreachable; retrying');
      },
    });
  }

  get limits(): StoreLimits {
    return this.#view.limits;
  }

  /** Resolves once every entry Redis held at start is applied: main.ts listens only then. */
  caughtUp(): Promise<void> {
    return this.#ready;
  }

  health(): StoreHealth {
    const reason = this.#log.problem;
    return { ready: reason === null, reason };
  }

  /** The event stream's numbering (server/events/hub.ts): the same on every replica. */
  get events(): { seq: number; epoch: string } {
    return { seq: this.#entry * EVENTS_PER_ENTRY + Math.max(0, this.#eventsInEntry - 1), epoch: this.#log.epoch };
  }

  share(name: string, apply: (value: unknown) => void): (value: unknown) => void {
    this.#followers.set(name, apply);
    if (this.#settings.has(name)) apply(this.#settings.get(name));
    return (value) => {
      this.#assertWritable();
      this.#settings.set(name, value);
      void this.#appendApplied({ op: 'setting', name, value });
    };
  }

  async close(): Promise<void> {
    clearInterval(this.#heartbeat);
    if (this.#trimTimer) clearTimeout(this.#trimTimer);
    await this.#log.leave(this.#replica).catch(() => {});
    await this.#log.close();
  }

  /** The view's events: out now when they come from the log, held when from a write applied here first. */
  #fromView(e: StoreEvent): void {
    if (this.#capture !== null) {
      this.#capture.push(e);
      return;
    }
    if (this.#applyingOwn && removes(e)) this.#removedHere = true;
    this.#emit(e);
  }

  #emit(e: StoreEvent): void {
    this.#eventsInEntry = Math.min(this.#eventsInEntry + 1, EVENTS_PER_ENTRY);
    for (const listener of this.#listeners) listener(e);
  }

  /**
   * Runs a write on the view now, holding its events; `entry` says what to append (null: nothing
   * changed); `lost` runs when Redis did not take it.
   */
  #applyHere<T>(write: () => T, entry: (result: T) => LogEntry | null, lost?: () => void): T {
    this.#assertWritable();
    const captured: StoreEvent[] = [];
    this.#capture = captured;
    let result: T;
    try {
      result = write();
    } finally {
      this.#capture = null;
    }
    const logged = entry(result);
    if (logged === null) {
      for (const e of captured) this.#emit(e);
      return result;
    }
    const number = ++this.#writes;
    this.#held.set(number, captured);
    void this.#appendApplied(logged, number).then((n) => {
      // Not written: the change is this replica's alone; its events go out now, numbered after the last.
      if (n !== null) return;
      lost?.();
      if (this.#held.delete(number)) for (const e of captured) this.#emit(e);
    });
    return result;
  }

  #scheduleTrim(delay = TRIM_EVERY_MS): void {
    if (!this.#removedHere || this.#trimTimer !== null) return;
    this.#trimTimer = setTimeout(() => {
      this.#trimTimer = null;
      this.#removedHere = false;
      const keepFrom = this.#oldestNeeded();
      this.#log.trim(keepFrom).then(
        (point) => {
          // Held back by a replica that had not read that far (as of its last heartbeat): again later.
          if (point >= keepFrom) return;
          this.#removedHere = true;
          this.#scheduleTrim(HEARTBEAT_MS);
        },
        (err: unknown) => this.#logger.warn({ err: (err as Error).message }, 'could not trim the Redis log'),
      );
    }, delay);
    this.#trimTimer.unref();
  }

  /** The number of the entry that added the oldest message still held; past the last applied when none is. */
  #oldestNeeded(): number {
    for (const [id, n] of this.#addedBy) {
      if (this.#view.get(id)) return n;
      this.#addedBy.delete(id);
    }
    return this.#log.last + 1;
  }

  #assertWritable(): void {
    const reason = this.#log.problem;
    if (reason !== null) throw new StoreUnavailableError(reason);
  }

  /** A write this replica already applied: the others apply it when they read it. Resolves with its entry number, or null. */
  #appendApplied(entry: LogEntry, write?: number): Promise<number | null> {
    const origin: Origin = write === undefined ? { replica: this.#replica, applied: true } : { replica: this.#replica, applied: true, write };
    return this.#log.append(entry, origin).catch((err: unknown) => {
      // Between the check and the write Redis went away: this replica has it, the others will not.
      this.#logger.error({ err: (err as Error).message, op: entry.op }, 'a change applied here could not be written to Redis');
      return null;
    });
  }

  #uniqueId(): string {
    let id = newId();
    while (this.#view.get(id)) id = newId();
    return id;
  }

  #apply(entry: LogEntry, origin: Origin, n: number): void {
    this.#entry = n;
    this.#eventsInEntry = 0;
    this.#applyingOwn = origin.replica === this.#replica;
    if (origin.applied && origin.replica === this.#replica) {
      const held = origin.write === undefined ? undefined : this.#held.get(origin.write);
      if (held !== undefined) {
        this.#held.delete(origin.write!);
        for (const e of held) {
          if (removes(e)) this.#removedHere = true;
          this.#emit(e);
        }
      }
      if (entry.op === 'add') for (const id of entry.ids) this.#addedBy.set(id, n);
      if (entry.op === 'clear') {
        const clear = this.#clearsInFlight.shift();
        if (clear && clear.addedSince.length > 0) this.#view.delete(clear.addedSince);
      }
      return;
    }
    switch (entry.op) {
      case 'add': {
        const [firstId, ...otherIds] = entry.ids;
        // Already here: an entry read twice after a reconnect.
        if (firstId === undefined || this.#view.get(firstId)) break;
        const receivedAt = new Date(entry.receivedAt);
        const first = this.#view.add({ id: firstId, raw: entry.raw, inbox: entry.inboxes[0]!, envelope: entry.envelope, receivedAt });
        otherIds.forEach((id, i) => this.#view.add({ id, raw: first.raw, inbox: entry.inboxes[i + 1]!, envelope: entry.envelope, receivedAt }));
        for (const id of entry.ids) this.#addedBy.set(id, n);
        for (const clear of this.#clearsInFlight) {
          entry.ids.forEach((id, i) => {
            if (clear.inbox === null || clear.inbox === entry.inboxes[i]) clear.addedSince.push(id);
          });
        }
        const done = this.#applying.get(firstId);
        if (done) {
          this.#applying.delete(firstId);
          done();
        }
        break;
      }
      case 'read':
        this.#view.setRead(entry.id, entry.read);
        break;
      case 'tags':
        this.#view.setTags(entry.id, entry.tags);
        break;
      case 'delete':
        this.#view.delete(entry.ids);
        break;
      case 'clear':
        if (entry.inbox === null) this.#view.clear();
        else this.#view.clear(entry.inbox);
        break;
      case 'setting':
        this.#settings.set(entry.name, entry.value);
        this.#followers.get(entry.name)?.(entry.value);
        break;
    }
  }

  async addDurably(incoming: Omit<IncomingMessage, 'inbox' | 'id'>, inboxes: readonly string[]): Promise<string[]> {
    this.#assertWritable();
    const ids = inboxes.map(() => this.#uniqueId());
    const receivedAt = (incoming.receivedAt ?? new Date()).getTime();
    let timer: NodeJS.Timeout | undefined;
    const applied = new Promise<void>((resolve) => {
      this.#applying.set(ids[0]!, resolve);
      timer = setTimeout(resolve, OWN_APPLY_WAIT_MS);
    });
    try {
      await this.#log.append(
        { op: 'add', ids, inboxes: [...inboxes], receivedAt, envelope: incoming.envelope, raw: incoming.raw },
        { replica: this.#replica, applied: false },
      );
    } catch (err) {
      this.#applying.delete(ids[0]!);
      clearTimeout(timer);
      throw new StoreUnavailableError(`Redis did not take the message: ${(err as Error).message}`);
    }
    await applied;
    clearTimeout(timer);
    this.#applying.delete(ids[0]!);
    return ids;
  }

  add(incoming: IncomingMessage): StoredMessage {
    return this.#applyHere(
      () => this.#view.add({ ...incoming, id: this.#uniqueId() }),
      (message) => ({ op: 'add', ids: [message.id], inboxes: [message.inbox], receivedAt: message.receivedAt, envelope: message.envelope, raw: message.raw }),
    );
  }

  setRead(id: string, read: boolean): StoredMessage | undefined {
    const before = this.#view.get(id)?.read;
    return this.#applyHere(
      () => this.#view.setRead(id, read),
      (message) => (message && before !== read ? { op: 'read', id, read } : null),
    );
  }

  setTags(id: string, tags: readonly string[]): StoredMessage | undefined {
    const before = this.#view.get(id)?.tags.join('\0');
    return this.#applyHere(
      () => this.#view.setTags(id, tags),
      (message) => (message && message.tags.join('\0') !== before ? { op: 'tags', id, tags: [...message.tags] } : null),
    );
  }

  delete(ids: string[]): MessageRef[] {
    return this.#applyHere(
      () => this.#view.delete(ids),
      (removed) => (removed.length > 0 ? { op: 'delete', ids: removed.map((r) => r.id) } : null),
    );
  }

  clear(inbox?: string): number {
    const inFlight = { inbox: inbox ?? null, addedSince: [] as string[] };
    return this.#applyHere(
      () => (inbox === undefined ? this.#view.clear() : this.#view.clear(inbox)),
      // Written even when nothing was here: another replica may hold what this one has not read yet.
      () => {
        this.#clearsInFlight.push(inFlight);
        return { op: 'clear', inbox: inbox ?? null };
      },
      // Not written: it will not come back to be finished.
      () => {
        const i = this.#clearsInFlight.indexOf(inFlight);
        if (i >= 0) this.#clearsInFlight.splice(i, 1);
      },
    );
  }

  // Reads: the view answers, as the memory store does in one process.
  get(id: string): StoredMessage | undefined {
    return this.#view.get(id);
  }
  summary(message: StoredMessage): MessageSummary {
    return this.#view.summary(message);
  }
  body(message: StoredMessage): BodyScan {
    return this.#view.body(message);
  }
  searchFields(message: StoredMessage): SearchFields {
    return this.#view.searchFields(message);
  }
  bodyCandidates(term: string): BodyCandidates | null {
    return this.#view.bodyCandidates(term);
  }
  // The search shortcuts of the view (server/search/match.ts): without them every body is decoded.
  plainText(message: StoredMessage, limit?: number): string | null {
    return this.#view.plainText(message, limit);
  }
  hasAttachments(message: StoredMessage): boolean | null {
    return this.#view.hasAttachments(message);
  }
  hasInline(message: StoredMessage): boolean | null {
    return this.#view.hasInline(message);
  }
  mayHaveHeader(message: StoredMessage, name: string): boolean {
    return this.#view.mayHaveHeader(message, name);
  }
  indexBacklog(budgetMs: number): boolean {
    return this.#view.indexBacklog(budgetMs);
  }
  settled(): Promise<void> {
    return this.#view.settled();
  }
  // The view counts tags as it applies the log (adds, tag changes, deletes, evictions, clears), so
  // GET /api/tags and Mailpit's Tags read the counts rather than walking every message.
  tagCounts(budgetMs: number): TagCount[] | null {
    return this.#view.tagCounts(budgetMs);
  }
  list(options: ListOptions): ListPage {
    return this.#view.list(options);
  }
  forEachNewest(fn: (message: StoredMessage) => boolean | void, inbox?: string): void {
    this.#view.forEachNewest(fn, inbox);
  }
  since(afterSeq: number): StoredMessage[] {
    return this.#view.since(afterSeq);
  }
  inboxes(): InboxCounts[] {
    return this.#view.inboxes();
  }
  inboxCount(): number {
    return this.#view.inboxCount();
  }
  hasInbox(name: string): boolean {
    return this.#view.hasInbox(name);
  }
  counts(): { messages: number; unread: number; bytes: number } {
    return this.#view.counts();
  }
  nextSeq(): number {
    return this.#view.nextSeq();
  }
  subscribe(listener: StoreListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
