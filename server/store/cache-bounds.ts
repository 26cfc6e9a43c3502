// How many bytes each cache of what was read from stored mail may hold (the store's header
// summaries and body scans, the parser's full parses): 16 MB each, or a sixteenth of the store's
// byte budget when that is less. Under a 64 MB budget three caches of 16 MB were three quarters of
// the budget again, whether or not anyone read that much; at 4 MB each, bench soak (64 MB budget,
// 1 minute) peaked at 241 MB RSS rather than 250. A cache's size decides how often a message
// read again is read afresh, never what is answered.
const CACHE_MAX_BYTES = 16 * 1024 * 1024;
/** Enough for a few ordinary messages, whatever the budget (tests run with tiny ones). */
const CACHE_MIN_BYTES = 2 * 1024 * 1024;

/** The byte bound of each cache under a store budget of `maxBytes` (0: no limit). */
export function cacheBytesFor(maxBytes: number): number {
  if (maxBytes <= 0) return CACHE_MAX_BYTES;
  return Math.min(CACHE_MAX_BYTES, Math.max(CACHE_MIN_BYTES, Math.floor(maxBytes / 16)));
}
