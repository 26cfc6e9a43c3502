// The full parse of one message, for the single-message view: headers, text, HTML and parts.
// mailparser runs in worker threads (server/mail/parse-pool.ts, server/mail/full-parse.ts);
// this module is what the rest of the server calls, with a cache in front.
import diagnostics from 'node:diagnostics_channel';
import { ParsePool } from './parse-pool.js';
import type { Parsed, ParsedMessage, MessagePart } from './parsed.js';

/** A message that takes longer than this to parse is shown raw; its worker is terminated. */
export const PARSE_TIMEOUT_MS = 5000;
/** The parse cache: a page of a UI list clicked through, and a test's few messages, stay parsed. */
const CACHE_MAX_ENTRIES = 64;
const CACHE_MAX_BYTES = 64 * 1024 * 1024;

export type { HeaderLine, MessagePart, ParsedMessage } from './parsed.js';

/**
 * The parse cache. Looked up by the message's own Buffer, but never holding it: the store keeps
 * small messages as views of 4 MB slabs, so a cached key would keep a deleted message's whole
 * slab alive. The LRU (least recently used first: a Map iterates in insertion order, a hit is
 * re-inserted) holds the parses, each with a weak reference back to its key.
 */
const byRaw = new WeakMap<Buffer, Parsed>();
const lru = new Map<Parsed, WeakRef<Buffer>>();
let cachedBytes = 0;
/** Concurrent requests for one message share one parse. */
const inFlight = new Map<Buffer, Promise<Parsed>>();

/** The full parse of `raw`; never rejects, never takes much longer than PARSE_TIMEOUT_MS. */
export async function parseMessage(raw: Buffer): Promise<ParsedMessage> {
  return (await parsed(raw)).message;
}

/** One part's decoded bytes, undefined when the message has no such part. */
export async function partContent(raw: Buffer, partId: string): Promise<{ part: MessagePart; content: Buffer } | undefined> {
  const p = await parsed(raw);
  const part = p.message.parts.find((x) => x.partId === partId);
  const content = p.contents.get(partId);
  return part && content ? { part, content } : undefined;
}

function parsed(raw: Buffer): Promise<Parsed> {
  const hit = byRaw.get(raw);
  if (hit && lru.has(hit)) {
    lru.delete(hit);
    lru.set(hit, new WeakRef(raw));
    return Promise.resolve(hit);
  }
  let pending = inFlight.get(raw);
  if (!pending) {
    pending = parseBounded(raw).then((p) => {
      inFlight.delete(raw);
      remember(raw, p);
      return p;
    });
    inFlight.set(raw, pending);
  }
  return pending;
}

function remember(raw: Buffer, p: Parsed): void {
  // A parse bigger than the whole budget would only evict everything else for one view.
  if (p.bytes > CACHE_MAX_BYTES) return;
  byRaw.set(raw, p);
  lru.set(p, new WeakRef(raw));
  cachedBytes += p.bytes;
  for (const [old, key] of lru) {
    if (lru.size <= CACHE_MAX_ENTRIES && cachedBytes <= CACHE_MAX_BYTES) break;
    lru.delete(old);
    cachedBytes -= old.bytes;
    const k = key.deref();
    if (k && byRaw.get(k) === old) byRaw.delete(k);
  }
}

/** Off the main thread, bounded in time and memory (server/mail/parse-pool.ts). */
const pool = new ParsePool({ timeoutMs: PARSE_TIMEOUT_MS });

/**
 * Each full parse's duration, `{ seconds, bytes }`, published for the metrics
 * (server/integrations/metrics.ts) without this module knowing who listens, or whether anyone does.
 */
export const PARSE_CHANNEL = 'mailpen:parse';
const parseTimings = diagnostics.channel(PARSE_CHANNEL);

function parseBounded(raw: Buffer): Promise<Parsed> {
  if (!parseTimings.hasSubscribers) return pool.parse(raw);
  const started = performance.now();
  return pool.parse(raw).then((p) => {
    parseTimings.publish({ seconds: (performance.now() - started) / 1000, bytes: raw.length });
    return p;
  });
}
