// The store's interface: the only shared state in Mailpen. SMTP and upload write into it;
// HTTP and the event stream read from it and subscribe to its events. It knows nothing of
// sockets, HTTP or the UI, so a persistent or shared backend can implement the same
// interface later without touching either edge.
import type { Envelope, IncomingMessage, MessageSummary } from './types.js';
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
  /** The bytes exactly as received. */
  readonly raw: Buffer;
  readonly envelope: Envelope;
  readonly headers: HeaderSummary;
  read: boolean;
}

export interface MessageRef {
  id: string;
  inbox: string;
}

/** Every change to the store, in the order it happened. */
export type StoreEvent =
  | { type: 'added'; message: StoredMessage }
  | { type: 'updated'; message: StoredMessage }
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

export interface ListOptions {
  inbox?: string | undefined;
  /** Keep only messages this returns true for. */
  match?: ((message: StoredMessage) => boolean) | undefined;
  /** At most this many messages, newest first. */
  limit: number;
  /** Only messages older than this seq (the cursor of the previous page). */
  beforeSeq?: number | undefined;
}

export interface ListPage {
  /** How many messages match, over the whole store. */
  total: number;
  unread: number;
  messages: StoredMessage[];
  /** The cursor for the next page, null on the last one. */
  nextBeforeSeq: number | null;
}

export interface InboxCounts {
  name: string;
  total: number;
  unread: number;
}

export interface MessageStore {
  readonly limits: StoreLimits;
  add(incoming: IncomingMessage): StoredMessage;
  get(id: string): StoredMessage | undefined;
  /** The summary that lists and events carry. Reads the body (once, cached) for snippet and attachments. */
  summary(message: StoredMessage): MessageSummary;
  /** Body text for search and snippets; computed once, lazily, and cached. */
  body(message: StoredMessage): BodyScan;
  list(options: ListOptions): ListPage;
  /** Newest first; stops when the callback returns false. */
  forEachNewest(fn: (message: StoredMessage) => boolean | void, inbox?: string): void;
  /** Messages with seq greater than `afterSeq`, oldest first. */
  since(afterSeq: number): StoredMessage[];
  setRead(id: string, read: boolean): StoredMessage | undefined;
  delete(ids: string[]): MessageRef[];
  /** Deletes everything, or everything in one inbox. Returns the count deleted. */
  clear(inbox?: string): number;
  inboxes(): InboxCounts[];
  counts(): { messages: number; unread: number; bytes: number };
  /** The seq the next message will get; messages "after now" have seq >= this. */
  nextSeq(): number;
  subscribe(listener: StoreListener): () => void;
}
