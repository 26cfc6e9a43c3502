// What a request's `q`, `inbox` and `:id` select, turned into store terms; a query that does
// not parse and an id that is not there become the client errors they are.
import type { MessageFilter, MessageStore, StoredMessage } from '../store/store.js';
import { compileSearch, type MessagePredicate } from '../search/match.js';
import { QueryError } from '../search/query.js';
import { sliceMatch, type SliceOptions, type WalkedPredicate } from '../search/sliced-match.js';
import { HttpError } from './errors.js';

export interface Selection {
  inbox: string | undefined;
  /**
   * Undefined when the query selects everything, so the store can answer counts from its counters.
   * After walkedSelection(), it carries the matches its walk found (SearchHits), which list() reads.
   */
  match: MessageFilter | undefined;
}

export function selection(store: MessageStore, q: string | undefined, inbox: string | undefined): Selection {
  if (q === undefined || q.trim() === '') return { inbox, match: undefined };
  try {
    return { inbox, match: compileSearch(q, store) };
  } catch (err) {
    if (err instanceof QueryError) throw new HttpError(400, `invalid q: ${err.message}`);
    throw err;
  }
}

/**
 * selection(), with the query already run over every stored message in slices (server/search/
 * sliced-match.ts): list() reads the matches found instead of walking the store, a long search
 * lets SMTP and other requests in, and a search that would take too long is refused with 400.
 */
export async function walkedSelection(store: MessageStore, q: string | undefined, inbox: string | undefined): Promise<Selection> {
  const sel = selection(store, q, inbox);
  if (!sel.match) return sel;
  return { inbox, match: await walked(store, sel.match, { inbox }, 'q: ') };
}

/**
 * sliceMatch() for a route: a search that would take too long becomes an HttpError 400 with the
 * reason after `prefix` (each API's routes render it in their own error shape).
 */
export async function walked(store: MessageStore, match: MessagePredicate, options: SliceOptions, prefix: string): Promise<WalkedPredicate> {
  try {
    return await sliceMatch(store, match, options);
  } catch (err) {
    if (err instanceof QueryError) throw new HttpError(400, `${prefix}${err.message}`);
    throw err;
  }
}

export function findMessage(store: MessageStore, id: string): StoredMessage {
  const message = store.get(id);
  if (!message) throw new HttpError(404, `no message ${JSON.stringify(id)}`);
  return message;
}

/**
 * Ids of every message selected, newest first; for bulk changes, which must know them all. A
 * page without a limit: a walked search's matches are read as they are, not looked for again.
 */
export function selectedIds(store: MessageStore, sel: Selection): string[] {
  return store.list({ inbox: sel.inbox, match: sel.match, limit: Infinity }).messages.map((m) => m.id);
}
