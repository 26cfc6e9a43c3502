// A search walks every stored message (a total must be exact), and a walk can be long: a term
// the word index cannot answer reads bodies, ~32 µs a message that must be decoded, 3.2 s at
// 100,000. Held in one piece that walk stalls everything else: SMTP's 250s, /healthz, the other
// searches. So the walk runs here first, in slices with I/O let in between, and what it found is
// kept as a bitset; the store's list() then walks with a predicate that only looks bits up.
//
// A walk whose first slices say it would take longer than SEARCH_BUDGET_MS of work is refused
// (a QueryError, a 400 with the reason) rather than left to run for minutes in the background.
import type { MessageStore } from '../store/store.js';
import { SeqSet } from '../store/text-index.js';
import { QueryError } from './query.js';
import type { MessagePredicate } from './match.js';

/** One slice of a walk runs about this long before I/O is let in (a 250 waits at most about this). */
export const SEARCH_SLICE_MS = 5;
/** Work a search may take in all (its slices, not the waits between them). */
export const SEARCH_BUDGET_MS = 5000;
/** The estimate of a walk's whole cost is made once it has spent this much. */
const ESTIMATE_AFTER_MS = 50;
/** The clock is read every this many messages (a read costs about what a cheap predicate does). */
const CLOCK_EVERY = 16;

export interface SliceOptions {
  inbox?: string | undefined;
  sliceMs?: number;
  budgetMs?: number;
}

/**
 * Evaluates `match` on every stored message (of `inbox`), in slices, and answers with a predicate
 * that gives the same answers from what was found; a message added meanwhile is matched itself.
 * Throws QueryError when the walk would take more than the budget.
 */
export async function sliceMatch(store: Pick<MessageStore, 'since' | 'nextSeq'>, match: MessagePredicate, options: SliceOptions = {}): Promise<MessagePredicate> {
  const { inbox, sliceMs = SEARCH_SLICE_MS, budgetMs = SEARCH_BUDGET_MS } = options;
  const end = store.nextSeq();
  const messages = store.since(0);
  if (messages.length === 0) return match;
  const found = new SeqSet(messages[0]!.seq, end);
  let spent = 0;
  let i = 0;
  while (i < messages.length) {
    const start = performance.now();
    const stop = start + sliceMs;
    while (i < messages.length) {
      const m = messages[i++]!;
      if ((inbox === undefined || m.inbox === inbox) && match(m)) found.add(m.seq);
      if (i % CLOCK_EVERY === 0 && performance.now() > stop) break;
    }
    spent += performance.now() - start;
    if (i >= messages.length) break;
    if (spent >= ESTIMATE_AFTER_MS && (spent / i) * messages.length > budgetMs) {
      const estimate = Math.round((spent / i) * messages.length / 1000);
      throw new QueryError(
        `this query would take about ${estimate} s over ${messages.length} messages (at most ${budgetMs / 1000} s is allowed): ` +
          'it reads message bodies or header blocks; add a word or a field term (to:, from:, subject:, inbox:) to narrow it',
      );
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return (m) => (m.seq < end ? found.has(m.seq) : match(m));
}
