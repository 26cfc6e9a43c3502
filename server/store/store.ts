// The store's interface: the only shared state in Mailpen. SMTP and upload write into it;
// HTTP and the event stream read from it and subscribe to its events. It knows nothing of
// sockets, HTTP or the UI, so a persistent or shared backend can implement the same
// interface later without touching either edge.
import type { Envelope, IncomingMessage, InboxCount, MessageSummary } from './types.js';
import type { HeaderSummary } from '../mail/summary.js';
import type { BodyScan } from '../mail/scan.js';

/** A message as the store holds it. Fields other than `read` never change after insertion. */
export interface StoredMessage {
  readonly id: string;
  /** Insertion order, strictly increasing; the paging cursor and the `after` point of waits. */
  readonly seq: number;
  readonly inbox: string;
  /** Epoch milliseconds. */
  readonly receivedAt: number;
  /** The bytes exactly as received (the store may make a new view of them at each read: read it once). */
  readonly raw: Buffer;
  /** raw.length, without making a view. */
  readonly size: number;
  readonly envelope: Envelope;
  /**
   * Read from the raw header block when asked, with the most recent few thousand kept: holding
   * the parsed headers of every message cost about 1 KB each (bench: memory). Code that looks at
   * every message uses searchFields() instead.
   */
  readonly headers: HeaderSummary;
  read: boolean;
  /** Its tags (server/store/tags.ts): from X-Tags and plus-addresses until set through setTags. */
  readonly tags: readonly string[];
}

/**
 * What the search looks at in a message's headers and envelope: decoded, in their own case,
 * the parts of each joined by NUL (which no decoded value carries) so a pattern cannot match
 * across two of them. Kept per message, a few hundred bytes, instead of the parsed headers.
 */
export interface SearchFields {
  /** From's name and address, and MAIL FROM. */
  from: string;
  /** To's and Cc's names and addresses, and every RCPT TO (so Bcc is found). */
  to: string;
  /** Cc's names and addresses. */
  cc: string;
  subject: string;
  /**
   * The Message-ID as `<id>` ('' when there is none, or none that reads): tests look mail up by it
   * all the time, and reading every header block for it took 0.4 to 0.65 s at 100,000 messages.
   */
  messageId: string;
}

/** Which messages' bodies may hold a search term. */
export interface BodyCandidates {
  /**
   * False: surely not. True: it may; unless `exact`, check the body itself. Null: the index
   * does not know (the message came after the lookup, as for a waiter's predicate, or is not
   * indexed yet), so check the body itself.
   */
  has(message: StoredMessage): boolean | null;
  /** Whether `has` is the answer itself (a term of word characters only). */
  exact: boolean;
}

export interface MessageRef {
  id: string;
  inbox: string;
}

/** Every change to the store, in the order it happened. */
export type StoreEvent =
  | { type: 'added'; message: StoredMessage }
  /** `change`: what changed, the read flag or the tags (Mailpit's update event says which). */
  | { type: 'updated'; message: StoredMessage; change: 'read' | 'tags' }
  | { type: 'deleted'; messages: MessageRef[] }
  | { type: 'evicted'; messages: MessageRef[] }
  /** Everything, or everything in one inbox, was deleted. */
  | { type: 'cleared'; inbox: string | null };

export type StoreListener = (event: StoreEvent) => void;

export interface StoreLimits {
  /** 0 means unlimited. */
  maxMessages: number;
  /** Budget for the raw bytes held; 0 means unlimited. */
  maxBytes: number;
}

/**
 * What a search walked in slices found (server/search/sliced-match.ts): list() reads these
 * instead of walking the whole store again with the predicate (a second walk of 100,000 messages,
 * bench: api).
 */
export interface SearchHits {
  /**
   * The messages with seq below `end` that match, oldest first, as the walk found them; one
   * deleted since is still here (the store skips it).
   */
  readonly messages: readonly StoredMessage[];
  /** The store's nextSeq() when the walk began: messages from this seq on are tested with the predicate. */
  readonly end: number;
}

/**
 * Keeps the messages it returns true for. A sliced search's predicate carries what its walk found
 * (`hits`): it answers exactly as they say for a message below `hits.end`.
 */
export type MessageFilter = ((message: StoredMessage) => boolean) & { readonly hits?: SearchHits | undefined };

export interface ListOptions {
  inbox?: string | undefined;
  /** Keep only messages this returns true for; with `hits`, those are read instead of walking the store. */
  match?: MessageFilter | undefined;
  /** At most this many messages, newest first. */
  limit: number;
  /** Only messages older than this seq (the cursor of the previous page). */
  beforeSeq?: number | undefined;
  /**
   * Skip this many of the messages that match first (a position in the newest-first order, for
   * a view that jumps far down). Walks the skipped ones, except when nothing filters and no
   * deleted slot lies in between (then it is an index).
   */
  offset?: number | undefined;
}

export interface ListPage {
  /** How many messages match, over the whole store. */
  total: number;
  unread: number;
  messages: StoredMessage[];
  /** The cursor for the next page, null on the last one. */
  nextBeforeSeq: number | null;
}

/** A tag in use and how many messages carry it (GET /api/tags). */
export interface TagCount {
  name: string;
  messages: number;
}

/** The domain type (server/store/types.ts), under the name the store's methods have always used. */
export type InboxCounts = InboxCount;

/** What a store whose writes can fail (Redis) says about itself; the memory store has none. */
export interface StoreHealth {
  ready: boolean;
  /** Why not, for /healthz and the logs; null when ready. */
  reason: string | null;
}

export interface MessageStore {
  readonly limits: StoreLimits;
  add(incoming: IncomingMessage): StoredMessage;
  /**
   * Only on a store that writes somewhere else first (server/store/redis/): stores one message
   * under each inbox and resolves with their ids once the write is acknowledged there, so SMTP
   * says 250 (and the API answers) only then; rejects with StoreUnavailableError when it cannot.
   * Every edge that takes mail goes through storeMessage() below, which uses it when present and
   * add() (synchronous) otherwise.
   */
  addDurably?(incoming: Omit<IncomingMessage, 'inbox' | 'id'>, inboxes: readonly string[]): Promise<string[]>;
  /** Absent: always ready (the memory store). */
  health?(): StoreHealth;
  /**
   * Only on a store several replicas share (server/store/redis/): the event stream's numbering, the
   * same on every replica. `seq`, read by a listener while an event is delivered, is that event's;
   * read otherwise, the latest one's. `epoch` names the shared log. Absent: the event stream
   * numbers changes itself, per process (server/events/hub.ts).
   */
  readonly events?: { readonly seq: number; readonly epoch: string };
  /** Ends the store's connections (main.ts, last in the close order). */
  close?(): Promise<void>;
  get(id: string): StoredMessage | undefined;
  /** The summary that lists and events carry. Reads the body (once, cached) for snippet and attachments. */
  summary(message: StoredMessage): MessageSummary;
  /** Body text, snippet and attachment count, read from the raw bytes on demand (a few recent ones cached). */
  body(message: StoredMessage): BodyScan;
  /** The header and envelope values that field terms and free text are matched against. */
  searchFields(message: StoredMessage): SearchFields;
  /**
   * The messages whose body text or attachment names may contain `term` (case-insensitive
   * substring), from the body index; null when the index cannot narrow it (check every body).
   */
  bodyCandidates(term: string): BodyCandidates | null;
  /**
   * The message's searchable body text when it is its own bytes as they are (one text/plain part,
   * no attachment: most test mail), so a phrase is checked there without decoding the body; null
   * when it is not, or the message is not indexed yet. Absent: every body is decoded (store.body).
   * `limit`: only the text of its first `limit` bytes (the last character may be cut).
   */
  plainText?(message: StoredMessage, limit?: number): string | null;
  /** Whether the body scan counts attachments in the message; null when it is not indexed yet. Absent: read the body. */
  hasAttachments?(message: StoredMessage): boolean | null;
  /** Whether a MIME part of the message declares a Content-ID (BodyScan.inlines); null when it is not indexed yet. Absent: read the body. */
  hasInline?(message: StoredMessage): boolean | null;
  /**
   * Indexes messages not indexed yet for about `budgetMs`; true once none is left. A search runs
   * it in slices before walking (server/search/sliced-match.ts), so that it reads the index
   * rather than the bodies of a backlog (a search right after a burst of 100,000).
   */
  indexBacklog?(budgetMs: number): boolean;
  /** False when the message surely has no header field of this (lower-case) name; true when it may. Absent: read the block. */
  mayHaveHeader?(message: StoredMessage, name: string): boolean;
  /** Resolves once every stored message is indexed for search (indexing runs when SMTP is idle). */
  settled(): Promise<void>;
  /**
   * Every tag in use with how many messages carry it, sorted case-insensitively, from counts kept
   * as messages come, go and change tags; null while some message's tags are still to be read:
   * each call reads them for about `budgetMs`, so call again after letting I/O in. Absent: walk
   * the messages (GET /api/tags does, in slices).
   */
  tagCounts?(budgetMs: number): TagCount[] | null;
  list(options: ListOptions): ListPage;
  /** Newest first; stops when the callback returns false. */
  forEachNewest(fn: (message: StoredMessage) => boolean | void, inbox?: string): void;
  /** Messages with seq greater than `afterSeq`, oldest first. */
  since(afterSeq: number): StoredMessage[];
  setRead(id: string, read: boolean): StoredMessage | undefined;
  /** Replaces a message's tags (cleaned, without repeats); emits `updated` when they change. */
  setTags(id: string, tags: readonly string[]): StoredMessage | undefined;
  delete(ids: string[]): MessageRef[];
  /** Deletes everything, or everything in one inbox. Returns the count deleted. */
  clear(inbox?: string): number;
  inboxes(): InboxCounts[];
  /** How many inboxes hold mail, and whether `name` is one of them (without building the list). */
  inboxCount(): number;
  hasInbox(name: string): boolean;
  counts(): { messages: number; unread: number; bytes: number };
  /** The seq the next message will get; messages "after now" have seq >= this. */
  nextSeq(): number;
  subscribe(listener: StoreListener): () => void;
}

/** A message as the edges hand it to the store: the inboxes it goes to are given beside it. */
export type Incoming = Omit<IncomingMessage, 'inbox' | 'id'>;

/**
 * Stores one message under each inbox with add(), synchronously: each copy its own id and read
 * flag over the same raw bytes (the store shares them), so deleting it in one inbox leaves it in the
 * others. Answers the ids, in the order of `inboxes`.
 */
export function addToInboxes(store: MessageStore, incoming: Incoming, inboxes: readonly string[]): string[] {
  const first = store.add({ ...incoming, inbox: inboxes[0]! });
  const ids = [first.id];
  for (const inbox of inboxes.slice(1)) ids.push(store.add({ ...incoming, raw: first.raw, inbox }).id);
  return ids;
}

/**
 * How every edge stores a message it took (SMTP, uploads, Mailpit's send, the provider APIs): with
 * addDurably when the store has it (Redis: ordered by the shared log first, then applied on every
 * replica in that order, so eviction at the limits is the same everywhere), rejecting with
 * StoreUnavailableError when it cannot take it; else with add(), at once (the add is made before
 * this returns, so calls made one after another are stored in that order either way).
 */
export function storeMessage(store: MessageStore, incoming: Incoming, inboxes: readonly string[]): Promise<string[]> {
  if (inboxes.length === 0) return Promise.reject(new Error('storeMessage: no inbox to store the message in'));
  if (store.addDurably) return store.addDurably(incoming, inboxes);
  try {
    return Promise.resolve(addToInboxes(store, incoming, inboxes));
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}
