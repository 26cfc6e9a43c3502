// The in-memory store: messages in insertion order in one array, an id index, per-inbox
// counters, and eviction of the oldest at insert time when a limit is reached.
//
// What is done when (measured in bench/, see the README's Performance section): at insert, only
// what the 250 reply and the counters need (an id, a copy of the bytes into a slab). Parsing the
// headers and scanning the body for search happens afterwards, when SMTP has been quiet for a
// moment (or the backlog is large), or at once for a message that a search, a list or a live
// event needs first. What is kept per message is small: search fields and the body's words in
// an inverted index; parsed headers and body scans live in small caches of recent messages.
import { randomBytes } from 'node:crypto';
import { summarizeHeaders, type HeaderSummary } from '../mail/summary.js';
import { MAX_HEADER_BLOCK, readHeaderBlock, type HeaderBlock } from '../mail/headers.js';
import { scanBody, type BodyScan } from '../mail/scan.js';
import type { Address, Envelope, IncomingMessage, MessageSummary } from './types.js';
import { cacheBytesFor } from './cache-bounds.js';
import { RawArena, maxSlabFor } from './raw-arena.js';
import { Recent } from './recent.js';
import { TextIndex, punctuationAllows, punctuationOf } from './text-index.js';
import { detach } from './detach.js';
import { bodyShape, plainBodyText, shapeHasAttachments, shapeHasInline, SHAPE_UNKNOWN } from './plain-body.js';
import { normalizeTags, tagsOfMessage, TagCounts } from './tags.js';
import type {
  BodyCandidates,
  InboxCounts,
  ListOptions,
  TagCount,
  ListPage,
  MessageRef,
  MessageStore,
  SearchFields,
  StoreEvent,
  StoreLimits,
  SearchHits,
  StoreListener,
  StoredMessage,
} from './store.js';

/**
 * An entry's `postings` once it has left the store (deleted, evicted, cleared): a search's hits
 * found before may still hold it, and list() skips it by this.
 */
const GONE = -2;

/** Compact the slot array once this many deleted slots have piled up (and they are the majority). */
const COMPACT_AFTER = 1024;

/** Parsed headers and body scans of this many recent messages are kept (a list page, a burst of events), in cacheBytesFor() of the budget each way. */
const RECENT_PARSES = 4096;
/** Indexing waits until SMTP has been quiet this long, so a burst is answered at full speed... */
const INDEX_QUIET_MS = 25;
/** ...unless this many messages are waiting: a steady stream must not starve the index. */
const INDEX_MAX_BACKLOG = 20_000;
/** A search indexes a backlog of up to this many messages itself (~50 µs each) before it answers. */
const SYNC_INDEX_MAX = 2000;
/** One slice of background indexing runs this long before it lets I/O in. */
const INDEX_SLICE_MS = 8;
/** Identical envelopes (same sender, recipients, client) are shared up to this many distinct ones. */
const SHARED_ENVELOPES = 4096;
/** Header names remembered store-wide; past this many (hostile mail) absence is no longer known. */
const MAX_HEADER_NAMES = 10_000;

const ID_BYTES = 9;
const ID_BATCH = 512;
let idPool = Buffer.alloc(0);
let idOffset = 0;

/**
 * Short, URL-safe and unique: 72 random bits, 12 base64url characters. Drawn from a batch, as a
 * randomBytes() call per id cost 7 µs, a tenth of what a whole message costs (bench: ingest).
 */
export function newId(): string {
  if (idOffset + ID_BYTES > idPool.length) {
    idPool = randomBytes(ID_BYTES * ID_BATCH);
    idOffset = 0;
  }
  const id = idPool.toString('base64url', idOffset, idOffset + ID_BYTES);
  idOffset += ID_BYTES;
  return id;
}

function addressText(list: Address[]): string[] {
  const out: string[] = [];
  for (const a of list) {
    if (a.name) out.push(a.name);
    if (a.address) out.push(a.address);
  }
  return out;
}

/**
 * About the bytes a parse holds, for the bounds of the recent-parse caches (a string is 1 or 2
 * bytes a character). Header values are slices of the header block's string and keep all of it.
 */
function headerWeight(raw: Buffer): number {
  return 256 + 2 * Math.min(raw.length, MAX_HEADER_BLOCK);
}

function bodyWeight(b: BodyScan): number {
  return 256 + 2 * (b.text.length + b.snippet.length);
}

/**
 * Writes what search needs into `into`. A value already there is not repeated: RCPT TO is
 * mostly the To address again, MAIL FROM the From address, and a match on either is the same.
 */
export function fillSearchFields(into: SearchFields, h: HeaderSummary, envelope: Envelope): void {
  const from = h.from ? addressText([h.from]) : [];
  if (envelope.mailFrom && !from.includes(envelope.mailFrom)) from.push(envelope.mailFrom);
  const cc = addressText(h.cc);
  const to = addressText(h.to);
  for (const c of cc) to.push(c);
  for (const r of envelope.rcptTo) if (!to.includes(r)) to.push(r);
  into.from = detach(from.join('\0'));
  into.to = detach(to.join('\0'));
  into.cc = detach(cc.join('\0'));
  into.subject = detach(h.subject);
  into.messageId = h.messageId ? detach(`<${h.messageId}>`) : '';
}

/** Entry.receivedAt is kept relative to this. */
const TIME_BASE = Date.now();

/** What every entry of one store refers to (one field of the entry for both). */
interface EntryContext {
  readonly parses: Recent<Entry, HeaderSummary>;
  /** Counts the tags of every entry whose tags are known, while it is stored. */
  readonly tags: TagCounts;
}

/**
 * A message as held: StoredMessage, and its own SearchFields (fields of the object itself
 * rather than an object of their own: 40 bytes a message fewer).
 */
class Entry implements StoredMessage, SearchFields {
  readonly id: string;
  readonly seq: number;
  readonly inbox: string;
  /**
   * receivedAt less TIME_BASE: a small integer V8 keeps in the object itself for ~24 days after
   * the process started, where a time since 1970 is a number object of its own (16 bytes a message).
   * Past that (a long run, or a replica taking in older messages from Redis) V8 boxes the field
   * of every entry again: exact still, only those 16 bytes back.
   */
  readonly #at: number;
  /**
   * Where its bytes are: `raw` makes a view of them each time it is read, as a Buffer kept per
   * message was 96 bytes of heap and one more object for every collection to visit (bench:
   * memory, million). Moved when its slab is compacted (RawArena).
   */
  #buffer: ArrayBufferLike;
  #offset: number;
  readonly size: number;
  readonly envelope: Envelope;
  read = false;
  /** Null until first asked: read from the header block then (or set through the API). */
  #tags: readonly string[] | null = null;
  from = '';
  to = '';
  cc = '';
  subject = '';
  messageId = '';
  /** Whether from, to, cc and subject have been read from the headers. */
  searchable = false;
  /** Postings this message put in the body index (to count them stale when it goes); -1 until indexed; GONE once it left the store. */
  postings = -1;
  /** What indexing learned of the body (server/store/plain-body.ts): plain text's offset, attachments. */
  shape = SHAPE_UNKNOWN;
  /** The ASCII punctuation its indexed text holds (server/store/text-index.ts), once indexed. */
  punctuation = 0;
  readonly #context: EntryContext;

  constructor(id: string, seq: number, inbox: string, receivedAt: number, raw: Buffer, envelope: Envelope, context: EntryContext) {
    this.id = id;
    this.seq = seq;
    this.inbox = inbox;
    this.#at = receivedAt - TIME_BASE;
    this.#buffer = raw.buffer;
    this.#offset = raw.byteOffset;
    this.size = raw.length;
    this.envelope = envelope;
    this.#context = context;
  }

  /** The same bytes always, in a new view at each read (41 ns): read it once where it is used several times. */
  get raw(): Buffer {
    return Buffer.from(this.#buffer, this.#offset, this.size);
  }

  /** The ArrayBuffer its bytes are in: a slab's, or the one they came in (a large message's). */
  get rawBuffer(): ArrayBufferLike {
    return this.#buffer;
  }

  /** Its bytes are now those of `raw` (the same bytes, copied elsewhere). */
  moveTo(raw: Buffer): void {
    this.#buffer = raw.buffer;
    this.#offset = raw.byteOffset;
  }

  get receivedAt(): number {
    return this.#at + TIME_BASE;
  }

  get tags(): readonly string[] {
    return this.#tags ?? this.#learnTags(tagsOfMessage(this.raw, this.envelope.rcptTo));
  }

  set tags(tags: readonly string[]) {
    const next = Object.freeze([...tags]);
    if (this.postings !== GONE) {
      if (this.#tags !== null) this.#context.tags.remove(this.#tags);
      this.#context.tags.add(next);
    }
    this.#tags = next;
  }

  /** Whether its tags have been read (and so are counted); indexing reads them. */
  get tagsKnown(): boolean {
    return this.#tags !== null;
  }

  /** Reads the tags from a header block the caller has read anyway (the summary's, indexing's), once. */
  primeTags(block: HeaderBlock): void {
    if (this.#tags === null) this.#learnTags(tagsOfMessage(this.raw, this.envelope.rcptTo, block));
  }

  /** It has left the store: its tags are no longer counted, and search hits that hold it skip it. */
  leave(): void {
    if (this.#tags !== null && this.postings !== GONE) this.#context.tags.remove(this.#tags);
    this.postings = GONE;
  }

  #learnTags(tags: string[]): readonly string[] {
    const known = Object.freeze(tags);
    this.#tags = known;
    if (this.postings !== GONE) this.#context.tags.add(known);
    return known;
  }

  get headers(): HeaderSummary {
    let h = this.#context.parses.get(this);
    if (!h) {
      const raw = this.raw;
      h = summarizeHeaders(raw);
      this.#context.parses.set(this, h, headerWeight(raw));
    }
    return h;
  }
}

export class MemoryStore implements MessageStore {
  readonly limits: StoreLimits;
  /**
   * Oldest first. A deleted message leaves its seq behind as a number (a tombstone) so that
   * the array stays sorted by seq and a cursor can be found by binary search; tombstones are
   * compacted away in bulk. Slots before `head` have been evicted or compacted.
   */
  #slots: Array<Entry | number> = [];
  #head = 0;
  #holes = 0;
  #byId = new Map<string, Entry>();
  #inboxes = new Map<string, { total: number; unread: number }>();
  #bytes = 0;
  #unread = 0;
  #seq = 1;
  #listeners = new Set<StoreListener>();
  readonly #arena: RawArena;
  #parses: Recent<Entry, HeaderSummary>;
  #tagCounts = new TagCounts();
  #entryContext: EntryContext;
  #bodies: Recent<Entry, BodyScan>;
  #envelopes = new Map<string, Envelope>();
  #index = new TextIndex();
  /**
   * The lower-case header names of every message indexed since the store was last emptied (a few
   * hundred, kept store-wide rather than per message): a header: term on a name none of them has
   * is answered without reading a block (240 ms at 100,000 messages, bench: api). Null once it
   * has grown past MAX_HEADER_NAMES.
   */
  #headerNames: Set<string> | null = new Set();
  /** Messages not indexed yet, oldest first; `#pendingHead` is the next one. */
  #pending: Entry[] = [];
  #pendingHead = 0;
  #lastAdd = 0;
  #indexTimer: NodeJS.Timeout | null = null;
  #settledWaiters: Array<() => void> = [];

  constructor(limits: StoreLimits) {
    this.limits = Object.freeze({ ...limits });
    const cacheBytes = cacheBytesFor(limits.maxBytes);
    this.#parses = new Recent<Entry, HeaderSummary>(RECENT_PARSES, cacheBytes);
    this.#bodies = new Recent<Entry, BodyScan>(RECENT_PARSES, cacheBytes, bodyWeight);
    this.#entryContext = { parses: this.#parses, tags: this.#tagCounts };
    this.#arena = new RawArena(maxSlabFor(limits.maxBytes));
  }

  add(incoming: IncomingMessage): StoredMessage {
    const size = incoming.raw.length;
    const evicted = this.#evictFor(size);
    let id = incoming.id ?? newId();
    while (incoming.id === undefined && this.#byId.has(id)) id = newId();
    const message = new Entry(
      id,
      this.#seq++,
      incoming.inbox,
      incoming.receivedAt?.getTime() ?? Date.now(),
      this.#arena.hold(incoming.raw),
      this.#shareEnvelope(incoming.envelope),
      this.#entryContext,
    );
    this.#slots.push(message);
    this.#byId.set(id, message);
    this.#bytes += size;
    this.#unread++;
    const inbox = this.#inbox(message.inbox);
    inbox.total++;
    inbox.unread++;
    this.#pending.push(message);
    this.#lastAdd = Date.now();
    this.#scheduleIndexing();
    if (evicted.length > 0) this.#emit({ type: 'evicted', messages: evicted });
    this.#emit({ type: 'added', message });
    return message;
  }

  get(id: string): StoredMessage | undefined {
    return this.#byId.get(id);
  }

  body(message: StoredMessage): BodyScan {
    const entry = message as Entry;
    let body = this.#bodies.get(entry);
    if (!body) {
      body = scanBody(message.raw);
      this.#bodies.set(entry, body);
    }
    return body;
  }

  summary(message: StoredMessage): MessageSummary {
    // Parsed once and kept among the recent ones, where the background indexer finds them too.
    // Indexing here as well cost a live event 40 µs more (bench: ingest with an inbox tab open).
    const entry = message as Entry;
    let h = this.#parses.get(entry);
    let body = this.#bodies.get(entry);
    if (!h || !body) {
      // The header summary and the body scan both start from the header block: read it once.
      const raw = entry.raw;
      const block = readHeaderBlock(raw);
      if (!h) this.#parses.set(entry, (h = summarizeHeaders(raw, block)), headerWeight(raw));
      if (!body) this.#bodies.set(entry, (body = scanBody(raw, block)));
      entry.primeTags(block);
    }
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
      size: entry.size,
      attachments: body.attachments,
      read: message.read,
      tags: [...message.tags],
      envelope: { from: message.envelope.mailFrom, to: message.envelope.rcptTo },
      // Both read the top header block, so its problems would be said twice.
      problems: h.problems.length || body.problems.length ? [...new Set([...h.problems, ...body.problems])] : [],
    };
  }

  searchFields(message: StoredMessage): SearchFields {
    const entry = message as Entry;
    // Not indexed yet (a search during a burst): read the headers now, and keep what search needs.
    this.#readSearchFields(entry);
    return entry;
  }

  bodyCandidates(term: string): BodyCandidates | null {
    // A short backlog is indexed first (a test that sends, then searches). A long one (a burst
    // the background has not reached) is not: those messages are answered "unknown" and their
    // bodies read, so one search does not stall the server for seconds.
    if (this.#pending.length - this.#pendingHead <= SYNC_INDEX_MAX) this.#indexPending(Infinity);
    const base = this.#firstSeq();
    const end = this.#seq;
    const found = this.#index.lookup(term, base, end);
    // A term's punctuation rules out the messages without it, where its words cannot narrow it.
    const needs = punctuationOf(term);
    if (!found && needs === 0) return null;
    const seqs = found?.seqs ?? null;
    const has = (m: StoredMessage): boolean | null => {
      const entry = m as Entry;
      if (m.seq >= end || entry.postings < 0) return null;
      return punctuationAllows(entry.punctuation, needs) && (seqs === null || seqs.has(m.seq));
    };
    return { exact: found?.exact ?? false, has };
  }

  plainText(message: StoredMessage, limit?: number): string | null {
    const entry = message as Entry;
    return entry.shape >= 0 ? plainBodyText(entry.raw, entry.shape, limit) : null;
  }

  hasAttachments(message: StoredMessage): boolean | null {
    return shapeHasAttachments((message as Entry).shape);
  }

  hasInline(message: StoredMessage): boolean | null {
    return shapeHasInline((message as Entry).shape);
  }

  mayHaveHeader(message: StoredMessage, name: string): boolean {
    return (message as Entry).shape === SHAPE_UNKNOWN || this.#headerNames === null || this.#headerNames.has(name);
  }

  indexBacklog(budgetMs: number): boolean {
    this.#indexPending(budgetMs);
    return this.#pendingHead >= this.#pending.length;
  }

  tagCounts(budgetMs: number): TagCount[] | null {
    // Only messages not indexed yet may have tags not read: read them, for about budgetMs.
    const deadline = performance.now() + budgetMs;
    let n = 0;
    for (let i = this.#pendingHead; i < this.#pending.length; i++) {
      const entry = this.#pending[i]!;
      if (entry.tagsKnown || entry.postings === GONE) continue;
      void entry.tags;
      if ((++n & 15) === 0 && performance.now() > deadline && i + 1 < this.#pending.length) return null;
    }
    return this.#tagCounts.list();
  }

  settled(): Promise<void> {
    if (this.#pendingHead >= this.#pending.length) return Promise.resolve();
    // Someone waits for the indexing now: its timer keeps the process alive until it is done.
    this.#indexTimer?.ref();
    return new Promise((resolve) => this.#settledWaiters.push(resolve));
  }

  #shareEnvelope(envelope: Envelope): Envelope {
    // Test suites send from a few senders to a few recipients: one frozen object per distinct envelope.
    const key = `${envelope.mailFrom}\0${envelope.rcptTo.join('\0')}\0${envelope.helo}\0${envelope.remoteAddress}\0${envelope.authUser ?? '\u0001'}\0${envelope.tls ? 1 : 0}\0${envelope.via ?? ''}`;
    const shared = this.#envelopes.get(key);
    if (shared) return shared;
    const frozen = Object.freeze({ ...envelope, rcptTo: Object.freeze([...envelope.rcptTo]) as string[] });
    if (this.#envelopes.size >= SHARED_ENVELOPES) this.#envelopes.clear();
    this.#envelopes.set(key, frozen);
    return frozen;
  }

  #firstSeq(): number {
    for (let i = this.#head; i < this.#slots.length; i++) {
      const s = this.#slots[i]!;
      return typeof s === 'number' ? s : s.seq;
    }
    return this.#seq;
  }

  /**
   * Fills the entry's search fields from its headers, once. Returns the header block when it had
   * to read it (no parse cached), so indexing does not read it again.
   */
  #readSearchFields(entry: Entry, raw: Buffer = entry.raw): HeaderBlock | undefined {
    if (entry.searchable) return undefined;
    let block: HeaderBlock | undefined;
    fillSearchFields(entry, this.#parses.get(entry) ?? summarizeHeaders(raw, (block = readHeaderBlock(raw))), entry.envelope);
    entry.searchable = true;
    return block;
  }

  /** Reads what search needs; parses are not cached here, so indexing does not push out what a list shows. */
  #indexOne(entry: Entry): void {
    if (entry.searchable && entry.postings >= 0) return;
    const raw = entry.raw;
    const read = this.#readSearchFields(entry, raw);
    if (entry.postings >= 0) return;
    const block = read ?? readHeaderBlock(raw);
    const body = this.#bodies.get(entry) ?? scanBody(raw, block, false);
    const before = this.#index.written;
    entry.punctuation = this.#index.add(entry.seq, body.filenames.length > 0 ? `${body.text}\n${body.filenames.join('\n')}` : body.text);
    entry.postings = this.#index.written - before;
    // Tags are counted store-wide once read (GET /api/tags): every indexed message's are.
    entry.primeTags(block);
    entry.shape = bodyShape(raw, body, block);
    if (this.#headerNames !== null) {
      for (const f of block.fields) this.#headerNames.add(f.key);
      if (this.#headerNames.size > MAX_HEADER_NAMES) this.#headerNames = null;
    }
  }

  #scheduleIndexing(delay = INDEX_QUIET_MS): void {
    if (this.#indexTimer !== null) return;
    this.#indexTimer = setTimeout(() => {
      this.#indexTimer = null;
      const backlog = this.#pending.length - this.#pendingHead;
      if (backlog === 0) return this.#onSettled();
      const quietFor = Date.now() - this.#lastAdd;
      if (quietFor < INDEX_QUIET_MS && backlog < INDEX_MAX_BACKLOG) return this.#scheduleIndexing(INDEX_QUIET_MS - quietFor);
      this.#indexPending(INDEX_SLICE_MS);
      if (this.#pendingHead < this.#pending.length) this.#scheduleIndexing(0);
      else this.#onSettled();
    }, delay);
    // Indexing keeps the process alive only while someone awaits settled().
    if (this.#settledWaiters.length === 0) this.#indexTimer.unref();
  }

  /** Indexes waiting messages for up to `budgetMs`. */
  #indexPending(budgetMs: number): void {
    const deadline = performance.now() + budgetMs;
    let n = 0;
    while (this.#pendingHead < this.#pending.length) {
      const entry = this.#pending[this.#pendingHead++]!;
      // Gone meanwhile, or indexed already by a summary or a search.
      if (entry.postings < 0 && this.#byId.get(entry.id) === entry) this.#indexOne(entry);
      if ((++n & 31) === 0 && performance.now() > deadline) break;
    }
    if (this.#pendingHead >= this.#pending.length) {
      this.#pending = [];
      this.#pendingHead = 0;
      this.#onSettled();
    } else if (this.#pendingHead > 4096 && this.#pendingHead * 2 > this.#pending.length) {
      this.#pending = this.#pending.slice(this.#pendingHead);
      this.#pendingHead = 0;
    }
  }

  #onSettled(): void {
    for (const resolve of this.#settledWaiters.splice(0)) resolve();
  }

  list(options: ListOptions): ListPage {
    const { inbox, match, limit, beforeSeq } = options;
    if (match?.hits) return this.#listHits(options, match, match.hits);
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
    let start = beforeSeq === undefined ? this.#slots.length - 1 : this.#indexBefore(beforeSeq);
    let skip = options.offset ?? 0;
    if (skip > 0 && !match && inbox === undefined && this.#holes === 0) {
      // Every slot is a live message: the position is the index.
      start -= skip;
      skip = 0;
    }
    for (let i = start; i >= this.#head; i--) {
      const m = this.#slots[i]!;
      if (typeof m === 'number') continue;
      if (inbox !== undefined && m.inbox !== inbox) continue;
      if (match) {
        if (!match(m)) continue;
        total++;
        if (!m.read) unread++;
      }
      if (skip > 0) {
        skip--;
      } else if (messages.length < limit) {
        messages.push(m);
      } else if (nextBeforeSeq === null) {
        nextBeforeSeq = messages[messages.length - 1]!.seq;
        if (!match) break;
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

  /**
   * list() of a search walked in slices: the page, `total` and `unread` come from the matches it
   * found (newest first), and from the messages stored after it began, tested here; nothing else
   * is walked. One found that has left the store since is skipped.
   */
  #listHits(options: ListOptions, match: (m: StoredMessage) => boolean, hits: SearchHits): ListPage {
    const { inbox, limit, beforeSeq } = options;
    const messages: StoredMessage[] = [];
    let total = 0;
    let unread = 0;
    let nextBeforeSeq: number | null = null;
    let skip = options.offset ?? 0;
    const take = (m: StoredMessage): void => {
      total++;
      if (!m.read) unread++;
      if (beforeSeq !== undefined && m.seq >= beforeSeq) return;
      if (skip > 0) skip--;
      else if (messages.length < limit) messages.push(m);
      else if (nextBeforeSeq === null && messages.length > 0) nextBeforeSeq = messages[messages.length - 1]!.seq;
    };
    // Stored after the walk began: a few at most, newest first.
    for (let i = this.#slots.length - 1; i >= this.#head; i--) {
      const m = this.#slots[i]!;
      if (typeof m === 'number') {
        if (m < hits.end) break;
        continue;
      }
      if (m.seq < hits.end) break;
      if ((inbox === undefined || m.inbox === inbox) && match(m)) take(m);
    }
    const found = hits.messages;
    for (let k = found.length - 1; k >= 0; k--) {
      const m = found[k]!;
      if ((m instanceof Entry ? m.postings === GONE : this.#byId.get(m.id) !== m) || (inbox !== undefined && m.inbox !== inbox)) continue;
      take(m);
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
    const from = this.#indexBefore(afterSeq + 1) + 1;
    // No deleted slot anywhere: a copy of the array's end (a search starts with since(0), and
    // pushing 100,000 one by one took 2 ms of a 12 ms `to:` search, bench: api).
    if (this.#holes === 0) return this.#slots.slice(from) as Entry[];
    const out: StoredMessage[] = [];
    for (let i = from; i < this.#slots.length; i++) {
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
      this.#emit({ type: 'updated', message: m, change: 'read' });
    }
    return m;
  }

  setTags(id: string, tags: readonly string[]): StoredMessage | undefined {
    const m = this.#byId.get(id);
    if (!m) return undefined;
    const next = normalizeTags(tags);
    const current = m.tags;
    if (next.length !== current.length || next.some((t, i) => t !== current[i])) {
      m.tags = next;
      this.#emit({ type: 'updated', message: m, change: 'tags' });
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
    this.#rebuildIfStale();
    this.#compactRawIfSparse();
    if (removed.length > 0) this.#emit({ type: 'deleted', messages: removed });
    return removed;
  }

  clear(inbox?: string): number {
    let count: number;
    if (inbox === undefined) {
      count = this.#byId.size;
      // Left the store, all at once: the counts start again from nothing.
      for (const m of this.#byId.values()) m.postings = GONE;
      this.#tagCounts.clear();
      this.#slots = [];
      this.#head = 0;
      this.#holes = 0;
      this.#byId.clear();
      this.#inboxes.clear();
      this.#bytes = 0;
      this.#unread = 0;
      this.#parses.clear();
      this.#bodies.clear();
      this.#index.clear();
      this.#headerNames = new Set();
      this.#arena.clear();
      this.#pending = [];
      this.#pendingHead = 0;
      this.#onSettled();
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
    this.#rebuildIfStale();
    this.#compactRawIfSparse();
    this.#emit({ type: 'cleared', inbox: inbox ?? null });
    return count;
  }

  inboxes(): InboxCounts[] {
    return [...this.#inboxes].map(([name, c]) => ({ name, total: c.total, unread: c.unread }));
  }

  inboxCount(): number {
    return this.#inboxes.size;
  }

  hasInbox(name: string): boolean {
    return this.#inboxes.has(name);
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
  #forget(m: Entry): void {
    this.#byId.delete(m.id);
    this.#parses.delete(m);
    this.#bodies.delete(m);
    this.#arena.release(m.raw);
    if (m.postings > 0) this.#index.forgot(m.postings);
    m.leave();
    this.#bytes -= m.size;
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
      // Its seq in its place, as a deletion leaves: the prefix is dropped only now and then, and
      // until then it held every evicted message and its raw bytes (raw-memory.test.ts).
      this.#slots[this.#head - 1] = m.seq;
      this.#forget(m);
      evicted.push({ id: m.id, inbox: m.inbox });
    }
    if (evicted.length > 0) this.#rebuildIfStale();
    // Drop the evicted prefix now and then, not on every insert.
    if (this.#head > COMPACT_AFTER && this.#head * 2 > this.#slots.length) {
      this.#slots = this.#slots.slice(this.#head);
      this.#head = 0;
    }
    return evicted;
  }

  /**
   * Postings of messages that are gone are skipped by seq but still take room; once they are
   * most of the index, it is rebuilt from the messages still stored, in the background.
   */
  #rebuildIfStale(): void {
    const stale = this.#index.stale;
    if (stale < 100_000 || stale * 2 < this.#index.written) return;
    this.#index.clear();
    const pending: Entry[] = [];
    for (let i = this.#head; i < this.#slots.length; i++) {
      const m = this.#slots[i]!;
      if (typeof m === 'number') continue;
      // The header fields stay right; only the body's postings are written again.
      m.postings = -1;
      pending.push(m);
    }
    this.#pending = pending;
    this.#pendingHead = 0;
    this.#scheduleIndexing();
  }

  /**
   * Deletions (not eviction, which empties slabs in order) can leave slabs holding a few
   * messages each; once that wastes more than a quarter of what is live, the survivors move.
   */
  #compactRawIfSparse(): void {
    const sparse = this.#arena.sparseSlabs();
    if (!sparse) return;
    for (let i = this.#head; i < this.#slots.length; i++) {
      const m = this.#slots[i]!;
      if (typeof m !== 'number' && sparse.has(m.rawBuffer)) m.moveTo(this.#arena.move(m.raw));
    }
  }

  /** Slabs of raw bytes allocated now, for tests of the compaction. */
  get slabCount(): number {
    return this.#arena.slabCount;
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
