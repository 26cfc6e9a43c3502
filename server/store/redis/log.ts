// The log of record on Redis: one stream (XADD) of every change to the store, in the order Redis
// accepted them. Each replica reads it from the start (catch-up) and then follows it (XREAD BLOCK on
// a connection of its own, as a blocked connection can send nothing else) and applies each entry to
// its in-memory view. This module only writes and reads entries; what they mean is replicated-store.ts.
import { Redis } from 'ioredis';
import type { Envelope } from '../types.js';

/** The stream's key; one Redis database (the URL's /N) holds one Mailpen. */
export const LOG_KEY = 'mailpen:log';

/** Entries read per XREAD: large enough that a catch-up of 100,000 messages is 100 round trips. */
const READ_BATCH = 1000;
/** How long one XREAD waits for news before it asks again (a closed connection ends it sooner). */
const BLOCK_MS = 2000;
/** A write not acknowledged in this time counts as failed: SMTP answers 451 and the client retries. */
const COMMAND_TIMEOUT_MS = 5000;
/** Reconnection backoff: 50 ms doubled up to this. */
const MAX_BACKOFF_MS = 2000;

export type LogEntry =
  | {
      op: 'add';
      /** One id per inbox: a message for several inboxes is one stored copy in each. */
      ids: string[];
      inboxes: string[];
      receivedAt: number;
      envelope: Envelope;
      raw: Buffer;
    }
  | { op: 'read'; id: string; read: boolean }
  | { op: 'tags'; id: string; tags: string[] }
  | { op: 'delete'; ids: string[] }
  | { op: 'clear'; inbox: string | null };

/** Who wrote an entry, and whether the writer already applied it to its own view. */
export interface Origin {
  replica: string;
  applied: boolean;
}

/**
 * An entry is two fields at most: `m`, everything but the bytes as JSON, and `raw`, the bytes of an
 * added message as they are. Sixteen small fields cost as much again in socket writes (profile of
 * an ingest: ioredis writes each argument of a command on its own).
 */
function encode(entry: LogEntry, origin: Origin): Array<string | Buffer> {
  if (entry.op === 'add') {
    const { raw, ...meta } = entry;
    return ['m', JSON.stringify({ ...meta, origin }), 'raw', raw];
  }
  return ['m', JSON.stringify({ ...entry, origin })];
}

const OPS = new Set(['add', 'read', 'tags', 'delete', 'clear']);

/** Null for an entry this version does not know (written by a newer one): skipped, not fatal. */
function decode(fields: Buffer[]): { entry: LogEntry; origin: Origin } | null {
  let meta = null as { op?: unknown; origin?: Origin; [field: string]: unknown } | null;
  let raw = null as Buffer | null;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i]!.toString('latin1');
    if (name === 'm') meta = JSON.parse(fields[i + 1]!.toString('utf8')) as NonNullable<typeof meta>;
    else if (name === 'raw') raw = fields[i + 1]!;
  }
  if (!meta || typeof meta.op !== 'string' || !OPS.has(meta.op) || !meta.origin) return null;
  const { origin, ...rest } = meta;
  const entry = (meta.op === 'add' ? { ...rest, raw: raw ?? Buffer.alloc(0) } : rest) as LogEntry;
  return { entry, origin };
}

type StreamReply = Array<[key: Buffer, items: Array<[id: Buffer, fields: Buffer[]]>]> | null;

export interface LogEvents {
  /** Each entry in stream order, once. */
  apply(entry: LogEntry, origin: Origin): void;
  /** The first time the tail reaches the end of the stream. */
  caughtUp(): void;
  /** Connection trouble, for the log (the tail retries by itself). */
  trouble(err: Error): void;
}

export class RedisLog {
  readonly #writer: Redis;
  readonly #reader: Redis;
  /** The id of the last entry applied; the next read starts after it. */
  #lastId = '0-0';
  #caughtUp = false;
  #closed = false;
  #tailing: Promise<void> | null = null;
  /** Why the tail last failed; null while it reads. */
  #tailProblem: string | null = null;

  constructor(url: string) {
    const options = {
      // Commands fail at once while disconnected instead of queueing: SMTP answers 451 now.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 10), MAX_BACKOFF_MS),
      lazyConnect: true,
    };
    // Auto-pipelining: the appends of many SMTP sessions in one tick go out in one write.
    this.#writer = new Redis(url, { ...options, commandTimeout: COMMAND_TIMEOUT_MS, enableAutoPipelining: true });
    this.#reader = new Redis(url, options);
    // ioredis emits 'error' on every failed reconnect; without a listener Node would crash on it.
    this.#writer.on('error', () => {});
    this.#reader.on('error', () => {});
  }

  /** Null when writes can go through, else why not. */
  get problem(): string | null {
    if (this.#writer.status !== 'ready') return `Redis is unreachable (connection ${this.#writer.status})`;
    if (this.#tailProblem !== null) return this.#tailProblem;
    if (!this.#caughtUp) return 'catching up from Redis';
    return null;
  }

  /** Resolves with the entry's stream id once Redis has it; rejects when it is unreachable or silent. */
  async append(entry: LogEntry, origin: Origin): Promise<string> {
    const id = await this.#writer.xadd(LOG_KEY, '*', ...encode(entry, origin));
    if (id === null) throw new Error('XADD returned no id');
    return id;
  }

  /**
   * Drops the entries before `id`. Only for a clear of everything: whatever came before it no longer
   * matters, and a replica that had not read that far reads the clear itself next (XREAD answers the
   * entries after its last id that are still there), so it ends as the others do.
   */
  async trimBefore(id: string): Promise<void> {
    await this.#writer.xtrim(LOG_KEY, 'MINID', id);
  }

  /** Connects and follows the stream from its start; resolves once connected (the catch-up goes on). */
  start(events: LogEvents): void {
    this.#writer.connect().catch(() => {});
    this.#reader.connect().catch(() => {});
    this.#tailing = this.#tail(events);
  }

  async #tail(events: LogEvents): Promise<void> {
    let backoff = 50;
    while (!this.#closed) {
      try {
        if (this.#reader.status !== 'ready') await this.#readerReady(backoff);
        if (this.#reader.status !== 'ready') throw new Error(`Redis is unreachable (connection ${this.#reader.status})`);
        // Catching up: no BLOCK, so an empty answer means the end of the stream.
        const reply = (this.#caughtUp
          ? await this.#reader.xreadBuffer('COUNT', READ_BATCH, 'BLOCK', BLOCK_MS, 'STREAMS', LOG_KEY, this.#lastId)
          : await this.#reader.xreadBuffer('COUNT', READ_BATCH, 'STREAMS', LOG_KEY, this.#lastId)) as unknown as StreamReply;
        this.#tailProblem = null;
        backoff = 50;
        const items = reply?.[0]?.[1] ?? [];
        for (const [id, fields] of items) {
          this.#lastId = id.toString('latin1');
          const decoded = decode(fields);
          if (decoded) events.apply(decoded.entry, decoded.origin);
        }
        if (!this.#caughtUp && items.length === 0) {
          this.#caughtUp = true;
          events.caughtUp();
        }
      } catch (err) {
        if (this.#closed) return;
        this.#tailProblem = `Redis is unreachable: ${(err as Error).message}`;
        events.trouble(err as Error);
        await new Promise((resolve) => setTimeout(resolve, backoff));
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    }
  }

  /** Resolves when the reading connection is ready, or after `ms` (whichever comes first). */
  #readerReady(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#reader.off('ready', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#reader.once('ready', done);
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    // The blocked XREAD ends with the connection; QUIT on the writer lets queued appends finish.
    this.#reader.disconnect();
    await this.#writer.quit().catch(() => this.#writer.disconnect());
    await this.#tailing;
  }
}
