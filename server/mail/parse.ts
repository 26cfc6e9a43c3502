// The full parse of one message, for the single-message view: headers, text, HTML and parts.
// mailparser runs in worker threads (server/mail/parse-pool.ts, server/mail/full-parse.ts);
// this module is what the rest of the server calls, with a cache in front.
import diagnostics from 'node:diagnostics_channel';
import { ParsePool } from './parse-pool.js';
import { RawCache } from './raw-cache.js';
import { cacheBytesFor } from '../store/cache-bounds.js';
import type { Parsed, ParsedMessage, MessagePart } from './parsed.js';

/**
 * The parse cache: a page of a UI list clicked through, and a test's few messages, stay parsed.
 * Its bytes are bounded by ParserOptions.cacheBytes (server/store/cache-bounds.ts): 64 MB, as it
 * once was, made a cache of a few large attachments a second store under a 64 MB budget.
 */
const CACHE_MAX_ENTRIES = 64;

export type { HeaderLine, MessagePart, ParsedMessage } from './parsed.js';

/**
 * Each full parse's duration, `{ seconds, bytes }`, published for the metrics
 * (server/integrations/metrics.ts) without this module knowing who listens, or whether anyone does.
 */
export const PARSE_CHANNEL = 'mailpen:parse';
const parseTimings = diagnostics.channel(PARSE_CHANNEL);

export interface ParserOptions {
  /** Worker threads at most (MAILPEN_PARSE_WORKERS). */
  workers: number;
  /** A message that takes longer to parse is shown raw and its worker terminated (MAILPEN_PARSE_TIMEOUT). */
  timeoutMs: number;
  /** The cache's bound in bytes of parsed text and parts: cacheBytesFor() of the store's budget (by default, of none: 16 MB). */
  cacheBytes?: number;
}

/**
 * The parser as a service: made once by server/main.ts, handed to the routes that show a whole
 * message, closed on shutdown. It owns its worker pool and its cache; nothing here is module state.
 */
export class MessageParser {
  readonly #pool: ParsePool;
  /** A page of a UI list clicked through, and a test's few messages, stay parsed (server/mail/raw-cache.ts). */
  readonly #cache: RawCache<Parsed>;

  constructor(options: ParserOptions) {
    this.#pool = new ParsePool({ workers: options.workers, timeoutMs: options.timeoutMs });
    this.#cache = new RawCache<Parsed>({ maxEntries: CACHE_MAX_ENTRIES, maxWeight: options.cacheBytes ?? cacheBytesFor(0), weigh: (p) => p.bytes });
  }

  /** The full parse of `raw`; never rejects, never takes much longer than the time limit. */
  async parse(raw: Buffer): Promise<ParsedMessage> {
    return (await this.#parsed(raw)).message;
  }

  /** One part's decoded bytes, undefined when the message has no such part. */
  async part(raw: Buffer, partId: string): Promise<{ part: MessagePart; content: Buffer } | undefined> {
    const p = await this.#parsed(raw);
    const part = p.message.parts.find((x) => x.partId === partId);
    const content = p.contents.get(partId);
    return part && content ? { part, content } : undefined;
  }

  /** Stops the workers; a parse asked for afterwards is shown raw. */
  close(): Promise<void> {
    return this.#pool.close();
  }

  #parsed(raw: Buffer): Promise<Parsed> {
    return this.#cache.get(raw, () => this.#parseTimed(raw));
  }

  #parseTimed(raw: Buffer): Promise<Parsed> {
    if (!parseTimings.hasSubscribers) return this.#pool.parse(raw);
    const started = performance.now();
    return this.#pool.parse(raw).then((p) => {
      parseTimings.publish({ seconds: (performance.now() - started) / 1000, bytes: raw.length });
      return p;
    });
  }
}
