// Several Mailpen replicas as one (MAILPEN_STORE=redis://...): Redis holds the log of record (log.ts),
// and each replica keeps today's MemoryStore as a view built by applying that log, so reads, search
// and events stay as fast as in one process and the HTTP and SMTP edges do not know which store runs.
//
// Writes: a message from SMTP is appended first and applied when the tail reads it back, in the
// stream's order on every replica (so the same eviction happens everywhere), and SMTP's 250 waits
// for Redis's acknowledgement (addDurably). The API's writes (read flags, tags, deletes, uploads)
// are synchronous in the store's interface: they are applied to this replica's view at once and
// appended marked as applied, and the others apply them when they read them. While Redis cannot
// take a write, every write throws StoreUnavailableError (SMTP 451 4.3.0, the API 503).
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
  StoreHealth,
  StoreLimits,
  StoreListener,
  StoredMessage,
} from '../store.js';
import type { IncomingMessage, MessageSummary } from '../types.js';
import type { BodyScan } from '../../mail/scan.js';
import { StoreUnavailableError } from '../unavailable.js';
import { RedisLog, type LogEntry, type Origin } from './log.js';

/**
 * After Redis acknowledged a message, SMTP waits at most this long for this replica's own view to
 * hold it too (the tail reads it back within a millisecond or two), so a client that fetches it
 * from this replica on the 250 finds it. Past it the 250 goes anyway: the message is safe in Redis.
 */
const OWN_APPLY_WAIT_MS = 2000;
/** While Redis cannot be reached at start, say so in the log this often. */
const START_WARN_MS = 5000;

export class ReplicatedStore implements MessageStore {
  readonly #view: MemoryStore;
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
    let caughtUp!: () => void;
    this.#ready = new Promise((resolve) => (caughtUp = resolve));
    let lastTrouble = 0;
    this.#log.start({
      apply: (entry, origin) => this.#apply(entry, origin),
      caughtUp: () => {
        const { messages } = this.#view.counts();
        logger.info({ messages }, 'caught up from Redis');
        caughtUp();
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

  close(): Promise<void> {
    return this.#log.close();
  }

  #assertWritable(): void {
    const reason = this.#log.problem;
    if (reason !== null) throw new StoreUnavailableError(reason);
  }

  /** A write this replica already applied: the others apply it when they read it. Resolves with its stream id, or null. */
  #appendApplied(entry: LogEntry): Promise<string | null> {
    return this.#log.append(entry, { replica: this.#replica, applied: true }).catch((err: unknown) => {
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

  #apply(entry: LogEntry, origin: Origin): void {
    if (origin.applied && origin.replica === this.#replica) {
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
    this.#assertWritable();
    const message = this.#view.add({ ...incoming, id: this.#uniqueId() });
    this.#appendApplied({ op: 'add', ids: [message.id], inboxes: [message.inbox], receivedAt: message.receivedAt, envelope: message.envelope, raw: message.raw });
    return message;
  }

  setRead(id: string, read: boolean): StoredMessage | undefined {
    this.#assertWritable();
    const before = this.#view.get(id)?.read;
    const message = this.#view.setRead(id, read);
    if (message && before !== read) this.#appendApplied({ op: 'read', id, read });
    return message;
  }

  setTags(id: string, tags: readonly string[]): StoredMessage | undefined {
    this.#assertWritable();
    const before = this.#view.get(id)?.tags.join('\0');
    const message = this.#view.setTags(id, tags);
    if (message && message.tags.join('\0') !== before) this.#appendApplied({ op: 'tags', id, tags: [...message.tags] });
    return message;
  }

  delete(ids: string[]): MessageRef[] {
    this.#assertWritable();
    const removed = this.#view.delete(ids);
    if (removed.length > 0) this.#appendApplied({ op: 'delete', ids: removed.map((r) => r.id) });
    return removed;
  }

  clear(inbox?: string): number {
    this.#assertWritable();
    const count = inbox === undefined ? this.#view.clear() : this.#view.clear(inbox);
    const inFlight = { inbox: inbox ?? null, addedSince: [] as string[] };
    this.#clearsInFlight.push(inFlight);
    // Written even when nothing was here: another replica may hold what this one has not read yet.
    void this.#appendApplied({ op: 'clear', inbox: inbox ?? null }).then((id) => {
      // Not written: it will not come back to be finished.
      if (id === null) {
        const i = this.#clearsInFlight.indexOf(inFlight);
        if (i >= 0) this.#clearsInFlight.splice(i, 1);
      }
      // The log's only trim: a clear of everything makes what came before it moot.
      if (id !== null && inbox === undefined) {
        this.#log.trimBefore(id).catch((err: unknown) => this.#logger.warn({ err: (err as Error).message }, 'could not trim the Redis log'));
      }
    });
    return count;
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
  settled(): Promise<void> {
    return this.#view.settled();
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
    return this.#view.subscribe(listener);
  }
}
