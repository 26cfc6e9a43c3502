// The search box's own check: the server's query parser (server/search/query.ts, no imports,
// bundled into the page), run before anything is asked. A half-typed query (`from:`) is not
// searched, so the list keeps the last results that were, and the reason reads as a hint.
import { parseQuery, QueryError } from '../../../server/search/query.ts';

/** Why `q` does not parse, or null when it does (the empty query included). */
export function queryProblem(q: string): string | null {
  try {
    parseQuery(q);
    return null;
  } catch (err) {
    if (err instanceof QueryError) return err.message;
    throw err;
  }
}
