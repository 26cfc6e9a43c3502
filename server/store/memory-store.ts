// The in-memory store: messages in insertion order in one array, an id index, per-inbox
// counters, and eviction of the oldest at insert time when a limit is reached.
import { randomBytes } from 'node:crypto';
import { summarizeHeaders } from '../mail/summary.js';
import { scanBody, type BodyScan } from '../mail/scan.js';
import type { IncomingMessage, MessageSummary } from './types.js';
import type {
  InboxCounts,
  ListOptions,
  ListPage,
  MessageRef,
  MessageStore,
  StoreEvent,
  StoreLimits,
  StoreListener,
  StoredMessage,
} from './store.js';

/** Compact the slot array once this many deleted slots have piled up (and they are the majority). */
const COMPACT_AFTER = 1024;

/** Short, URL-safe and unique: 72 random bits, 12 base64url characters. */
function newId(): string {
  return randomBytes(9).toString('base64url');
}

export class MemoryStore implements MessageStore {
  readonly limits: StoreLimits;
  /**
   * Oldest first. A deleted message leaves its seq behind as a number (a tombstone) so that
   * the array stays sorted by seq and a cursor can be found by binary search; tombstones are
   * compacted away in bulk. Slots before `head` have been evicted or compacted.
   */
  #slots: Array<StoredMessage | number> = [];
  #head = 0;
  #holes = 0;
  #byId = new Map<string, StoredMessage>();
  #inboxes = new Map<string, { total: number; unread: number }>();
  #bytes = 0;
  #unread = 0;
  #seq = 1;
  #listeners = new Set<StoreListener>();
  /** Body scans, computed on first need; they die with their message. */
  #bodies = new WeakMap<StoredMessage, BodyScan>();

  constructor(limits: StoreLimits) {
    this.limits = Object.freeze({ ...limits });
  }

  add(incoming: IncomingMessage): StoredMessage {
    const size = incoming.raw.length;
    const evicted = this.#evictFor(size);
    let id = newId();
    while (this.#byId.has(id)) id = newId();
    const message: StoredMessage = {
      id,
      seq: this.#seq++,
      inbox: incoming.inbox,
      receivedAt: (incoming.receivedAt ?? new Date()).getTime(),
      raw: incoming.raw,
      envelope: incoming.envelope,
      headers: summarizeHeaders(incoming.raw),
      read: false,
    };
    this.#slots.push(message);
    this.#byId.set(id, message);
    this.#bytes += size;
    this.#unread++;
    const inbox = this.#inbox(message.inbox);
    inbox.total++;
    inbox.unread++;
    if (evicted.length > 0) this.#emit({ type: 'evicted', messages: evicted });
    this.#emit({ type: 'added', message });
    return message;
  }

  get(id: string): StoredMessage | undefined {
    return this.#byId.get(id);
  }

  body(message: StoredMessage): BodyScan {
    let body = this.#bodies.get(message);
    if (!body) {
      body = scanBody(message.raw);
      this.#bodies.set(message, body);
    }
    return body;
  }

  summary(message: StoredMessage): MessageSummary {
    const h = message.headers;
    const body = this.body(message);
    return {
      id: message.id,
      inbox: message.inbox,
      receivedAt: new Date(message.receivedAt).toISOString(),
      from: h.from,
      to: h.to,
      cc: h.cc,
      subject: h.subject,
      date: h.date,
      messageId: h.messageId,
      snippet: body.snippet,
      size: message.raw.length,
      attachments: body.attachments,
      read: message.read,
      envelope: { from: message.envelope.mailFrom, to: message.envelope.rcptTo },
      problems: h.problems.length || body.problems.length ? [...h.problems, ...body.problems] : [],
    };
  }

  list(options: ListOptions): ListPage {
    const { inbox, match, limit, beforeSeq } = options;
    const messages: StoredMessage[] = [];
    let total = 0;
    let unread = 0;
    let nextBeforeSeq: number | null = null;
    if (!match) {
      // Counts come from the counters; only the page itself is walked.
      const counts = inbox === undefined ? { total: this.#byId.size, unread: this.#unread } : this.#inboxes.get(inbox);
      total = counts?.total ?? 0;
      unread = counts?.unread ?? 0;
    }
    const start = beforeSeq === undefined ? this.#slots.length - 1 : this.#indexBefore(beforeSeq);
    for (let i = start; i >= this.#head; i--) {
      const m = this.#slots[i]!;
      if (typeof m === 'number') continue;
      if (inbox !== undefined && m.inbox !== inbox) continue;
      if (match && !match(m)) continue;
      if (messages.length < limit) {
        messages.push(m);
      } else if (nextBeforeSeq === null) {
        nextBeforeSeq = messages[messages.length - 1]!.seq;
        if (!match) break;
      }
      if (match) {
        total++;
        if (!m.read) unread++;
      }
    }
    if (match && beforeSeq !== undefined) {
      // Totals cover the whole store, not just what lies past the cursor.
      for (let i = start + 1; i < this.#slots.length; i++) {
        const m = this.#slots[i]!;
        if (typeof m === 'number' || (inbox !== undefined && m.inbox !== inbox) || !match(m)) continue;
        total++;
        if (!m.read) unread++;
      }
    }
    return { total, unread, messages, nextBeforeSeq };
  }

  forEachNewest(fn: (message: StoredMessage) => boolean | void, inbox?: string): void {
    for (let i = this.#slots.length - 1; i >= this.#head; i--) {
      const m = this.#slots[i]!;
      if (typeof m === 'number' || (inbox !== undefined && m.inbox !== inbox)) continue;
      if (fn(m) === false) return;
    }
  }

  since(afterSeq: number): StoredMessage[] {
    const out: StoredMessage[] = [];
    for (let i = this.#indexBefore(afterSeq + 1) + 1; i < this.#slots.length; i++) {
      const m = this.#slots[i]!;
      if (typeof m !== 'number') out.push(m);
    }
    return out;
  }

  setRead(id: string, read: boolean): StoredMessage | undefined {
    const m = this.#byId.get(id);
    if (!m) return undefined;
    if (m.read !== read) {
      m.read = read;
      const delta = read ? -1 : 1;
      this.#unread += delta;
      this.#inbox(m.inbox).unread += delta;
      this.#emit({ type: 'updated', message: m });
    }
    return m;
  }

  delete(ids: string[]): MessageRef[] {
    const removed: MessageRef[] = [];
    for (const id of ids) {
      const m = this.#byId.get(id);
      if (!m) continue;
      const i = this.#indexBefore(m.seq + 1);
      this.#slots[i] = m.seq;
      this.#holes++;
      this.#forget(m);
      removed.push({ id: m.id, inbox: m.inbox });
    }
    this.#compactIfSparse();
    if (removed.length > 0) this.#emit({ type: 'deleted', messages: removed });
    return removed;
  }

  clear(inbox?: string): number {
    let count: number;
    if (inbox === undefined) {
      count = this.#byId.size;
      this.#slots = [];
      this.#head = 0;
      this.#holes = 0;
      this.#byId.clear();
      this.#inboxes.clear();
      this.#bytes = 0;
      this.#unread = 0;
    } else {
      count = 0;
      for (let i = this.#head; i < this.#slots.length; i++) {
        const m = this.#slots[i]!;
        if (typeof m === 'number' || m.inbox !== inbox) continue;
        this.#slots[i] = m.seq;
        this.#holes++;
        this.#forget(m);
        count++;
      }
      this.#compactIfSparse();
    }
    this.#emit({ type: 'cleared', inbox: inbox ?? null });
    return count;
  }

  inboxes(): InboxCounts[] {
    return [...this.#inboxes].map(([name, c]) => ({ name, total: c.total, unread: c.unread }));
  }

  counts(): { messages: number; unread: number; bytes: number } {
    return { messages: this.#byId.size, unread: this.#unread, bytes: this.#bytes };
  }

  nextSeq(): number {
    return this.#seq;
  }

  subscribe(listener: StoreListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(event: StoreEvent): void {
    for (const listener of this.#listeners) listener(event);
  }

  #inbox(name: string): { total: number; unread: number } {
    let c = this.#inboxes.get(name);
    if (!c) {
      c = { total: 0, unread: 0 };
      this.#inboxes.set(name, c);
    }
    return c;
  }

  /** Removes a message from the index and counters (not from the slot array). */
  #forget(m: StoredMessage): void {
    this.#byId.delete(m.id);
    this.#bytes -= m.raw.length;
    const c = this.#inbox(m.inbox);
    c.total--;
    if (!m.read) {
      this.#unread--;
      c.unread--;
    }
    // An inbox exists while it has mail: it was named by whoever sent to it.
    if (c.total === 0) this.#inboxes.delete(m.inbox);
  }

  /** Evicts oldest messages until one of `size` bytes fits both limits. */
  #evictFor(size: number): MessageRef[] {
    const { maxMessages, maxBytes } = this.limits;
    const evicted: MessageRef[] = [];
    while (
      this.#byId.size > 0 &&
      ((maxMessages > 0 && this.#byId.size >= maxMessages) || (maxBytes > 0 && this.#bytes + size > maxBytes))
    ) {
      const m = this.#slots[this.#head]!;
      this.#head++;
      if (typeof m === 'number') {
        this.#holes--;
        continue;
      }
      this.#forget(m);
      evicted.push({ id: m.id, inbox: m.inbox });
    }
    // Drop the evicted prefix now and then, not on every insert.
    if (this.#head > COMPACT_AFTER && this.#head * 2 > this.#slots.length) {
      this.#slots = this.#slots.slice(this.#head);
      this.#head = 0;
    }
    return evicted;
  }

  #compactIfSparse(): void {
    const live = this.#slots.length - this.#head - this.#holes;
    if (this.#holes < COMPACT_AFTER || this.#holes < live) return;
    this.#slots = this.#slots.slice(this.#head).filter((s) => typeof s !== 'number');
    this.#head = 0;
    this.#holes = 0;
  }

  /** Index of the last slot whose seq is below `seq` (head - 1 when there is none). */
  #indexBefore(seq: number): number {
    let lo = this.#head;
    let hi = this.#slots.length - 1;
    let found = this.#head - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const s = this.#slots[mid]!;
      const midSeq = typeof s === 'number' ? s : s.seq;
      if (midSeq < seq) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }
}
