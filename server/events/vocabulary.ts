// The event stream's closed vocabulary: every frame that GET /api/events sends, as one
// discriminated union. The UI imports it with `import type`, so a `switch (event.type)` on
// either side is checked for exhaustiveness by the compiler and the two cannot drift.
//
// Every frame is JSON `{ type, seq, data }`. `seq` numbers the changes of one running server:
// it goes up by one per change event. A client filtered by inbox sees gaps (the changes to
// other inboxes), never a decrease. `hello` and `resync` are not changes: they carry the seq of
// the latest change so a client knows where it stands, and do not advance it.
//
// With replicas sharing a store on Redis, seq numbers the changes of the shared log instead, the
// same on every replica (so a client resumes on any of them): it still only goes up, with gaps
// between changes. There, `counts` and `rule-fired` are the replica's own (its counts, its SMTP
// sessions) and carry the latest change's seq without advancing it.
import type { InboxCount, MessageSummary } from '../store/types.js';

export type { InboxCount };

export interface MessageRef {
  id: string;
  inbox: string;
}

export interface Counts {
  total: number;
  unread: number;
  inboxes: InboxCount[];
}

/** A message arrived. A summary only, never its body: bodies are fetched one at a time. */
export interface AddedEvent {
  type: 'added';
  seq: number;
  data: { message: MessageSummary };
}

/**
 * Messages arrived whose rows were not sent: only to a client that asked for at most N rows a frame
 * (`?rows=N`, the UI), for the arrivals of one frame past its newest N, oldest first. `seq` is the
 * last one's; the rows are the API's to give when the client shows them.
 */
export interface ArrivedEvent {
  type: 'arrived';
  seq: number;
  data: { messages: MessageRef[] };
}

/** A message was marked read or unread, or its tags changed; `tags` is always sent by the server. */
export interface UpdatedEvent {
  type: 'updated';
  seq: number;
  data: { id: string; inbox: string; read: boolean; tags?: string[] };
}

/** Messages were deleted by someone (the API, the UI). */
export interface DeletedEvent {
  type: 'deleted';
  seq: number;
  data: { messages: MessageRef[] };
}

/** The oldest messages were dropped to make room (the count or byte limit was reached). */
export interface EvictedEvent {
  type: 'evicted';
  seq: number;
  data: { messages: MessageRef[] };
}

/** Everything (inbox null) or everything in one inbox was deleted. */
export interface ClearedEvent {
  type: 'cleared';
  seq: number;
  data: { inbox: string | null };
}

/** Totals after a burst of changes; coalesced, so a burst of mail sends a few of these, not one each. */
export interface CountsEvent {
  type: 'counts';
  seq: number;
  data: Counts;
}

/**
 * The first frame of a connection once the client is up to date (after any replayed events).
 * `seq` is the latest change; resume from it with `?since=<seq>&epoch=<epoch>`.
 */
export interface HelloEvent {
  type: 'hello';
  seq: number;
  data: { epoch: string; counts: Counts };
}

/**
 * Sent instead of replaying when what the client missed is no longer buffered (or the server
 * restarted: the epoch changed). The client must reload its lists; `seq` is where it now stands.
 */
export interface ResyncEvent {
  type: 'resync';
  seq: number;
  data: { epoch: string; reason: string; counts: Counts };
}

/**
 * A fault rule fired (server/rules/): SMTP answered with its reply, waited, or hung up. `inbox` is
 * null before the inbox is known (connect, ehlo); `hits` is the rule's count after this one.
 */
export interface RuleFiredEvent {
  type: 'rule-fired';
  seq: number;
  data: { rule: string; stage: string; action: 'reply' | 'delay' | 'disconnect' | 'greylist'; code: number | null; inbox: string | null; hits: number };
}

/** A change to the store, or a fault rule that fired: what the replay buffer holds and resumes replay. */
export type ChangeEvent = AddedEvent | ArrivedEvent | UpdatedEvent | DeletedEvent | EvictedEvent | ClearedEvent | CountsEvent | RuleFiredEvent;

export type MailpenEvent = ChangeEvent | HelloEvent | ResyncEvent;

export type MailpenEventType = MailpenEvent['type'];
