// A search walks every stored message (a total must be exact), and a walk can be long: a term
// the word index cannot answer reads bodies, ~32 µs a message that must be decoded, 3.2 s at
// 100,000. Held in one piece that walk stalls everything else: SMTP's 250s, /healthz, the other
// searches. So the walk runs here first, in slices with I/O let in between, and what it found is
// kept as the list of matching messages (oldest first). The predicate answered carries that list
// (`hits`): the store's list() reads the page, `total` and `unread` from it, newest first, without
// walking the store a second time (that second walk took a `to:` search at 100,000 messages from
// 6.9 to 12 ms p50); a caller that walks the store itself (a bulk change, a wait) asks the predicate,
// which looks the message up in a bitset built from the list on first use.
//
// A walk whose first part says it would take longer than SEARCH_BUDGET_MS of work is refused
// (a QueryError, a 400 with the reason) rather than left to run for minutes in the background.
import type { MessageStore, SearchHits, StoredMessage } from '../store/store.js';
import { SeqSet } from '../store/text-index.js';
import { QueryError } from './query.js';
import type { MessagePredicate } from './match.js';
import { nextTurn } from '../turn-end.js';

/** One slice of a walk runs about this long before I/O is let in (a 250 waits at most about this). */
export const SEARCH_SLICE_MS = 5;
/**
 * Work a search may take in all (its slices, not the waits between them). Generous: on this
 * 2-core machine, shared, a header: term reading 100,000 blocks was estimated at 5 s, where it
 * takes 0.4 s alone; the bound is there for the search that would read for minutes.
 */
export const SEARCH_BUDGET_MS = 30_000;
/**
 * A walk's whole cost is estimated once it has spent this part of its budget, at its pace so
 * far: one message can cost a thousand others (a 2 MB HTML body), so a few slices say little.
 */
const ESTIMATE_AFTER = 0.2;
/** The clock is read every this many messages (a read costs about what a cheap predicate does). */
const CLOCK_EVERY = 16;

export interface SliceOptions {
  inbox?: string | undefined;
  /** Only messages after this seq are walked (GET /api/wait looks at those after its point); 0: all. */
  afterSeq?: number;
  sliceMs?: number;
  budgetMs?: number;
}

/** A predicate that carries what its walk found (see SearchHits in server/store/store.ts). */
export type WalkedPredicate = MessagePredicate & { readonly hits: SearchHits };

/**
 * Evaluates `match` on every stored message (of `inbox`), in slices, and answers with a predicate
 * that gives the same answers from what was found, and carries the matches found (`hits`); a
 * message added meanwhile is matched itself. With `afterSeq`, the predicate is for messages after
 * it only (asked about an older one, it says false).
 * Throws QueryError when the walk would take more than the budget.
 */
export async function sliceMatch(store: Pick<MessageStore, 'since' | 'nextSeq' | 'indexBacklog'>, match: MessagePredicate, options: SliceOptions = {}): Promise<WalkedPredicate> {
  const { inbox, afterSeq = 0, sliceMs = SEARCH_SLICE_MS, budgetMs = SEARCH_BUDGET_MS } = options;
  // Messages the background has not indexed yet are indexed first, in slices too: reading their
  // bodies instead costs about as much (a scan is most of indexing) and leaves the backlog. Not
  // counted against the budget: the query is not what makes it slow.
  while (store.indexBacklog?.(sliceMs) === false) await nextTurn();
  const end = store.nextSeq();
  const messages = store.since(afterSeq);
  const found: StoredMessage[] = [];
  let spent = 0;
  let i = 0;
  while (i < messages.length) {
    const start = performance.now();
    const stop = start + sliceMs;
    while (i < messages.length) {
      const m = messages[i++]!;
      if ((inbox === undefined || m.inbox === inbox) && match(m)) found.push(m);
      if (i % CLOCK_EVERY === 0 && performance.now() > stop) break;
    }
    spent += performance.now() - start;
    if (i >= messages.length) break;
    const estimate = (spent / i) * messages.length;
    if (spent >= budgetMs * ESTIMATE_AFTER && estimate > budgetMs) {
      throw new QueryError(
        `this query would take about ${Math.round(estimate / 1000)} s over ${messages.length} messages (at most ${budgetMs / 1000} s is allowed): ` +
          'it reads message bodies or header blocks; add a word or a field term (to:, from:, subject:, inbox:) to narrow it',
      );
    }
    await nextTurn();
  }
  const hits: SearchHits = { messages: found, end };
  // Built when a caller asks the predicate itself about a message below `end` (list() reads `hits`).
  let seqs: SeqSet | null = null;
  const predicate = (m: StoredMessage): boolean => {
    if (m.seq >= end) return match(m);
    if (seqs === null) {
      seqs = new SeqSet(found.length > 0 ? found[0]!.seq : end, end);
      for (const f of found) seqs.add(f.seq);
    }
    return seqs.has(m.seq);
  };
  return Object.assign(predicate, { hits });
}

/**
 * Calls `fn` on each message in turn, in slices of about `sliceMs` with I/O let in between; for a
 * walk of cheap work that must not hold the event loop (GET /api/tags on a store that keeps no counts).
 */
export async function sliceEach(messages: readonly StoredMessage[], fn: (message: StoredMessage) => void, sliceMs = SEARCH_SLICE_MS): Promise<void> {
  let i = 0;
  while (i < messages.length) {
    const stop = performance.now() + sliceMs;
    while (i < messages.length) {
      fn(messages[i++]!);
      if (i % CLOCK_EVERY === 0 && performance.now() > stop) break;
    }
    if (i < messages.length) await nextTurn();
  }
}

