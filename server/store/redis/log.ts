// The log of record on Redis: one stream of every change to the store, in the order Redis accepted
// them. Each replica reads it from its first entry (catch-up) and then follows it, applying each entry
// to its in-memory view: every entry is also announced on a pub/sub channel with its fields, which a
// connection of the replica's own listens to, and the stream is read again only to fill what the
// announcements missed (a hole in the numbers, a reconnect, a quiet spell). Following by XREAD BLOCK
// cost one command per read on every replica. This module only writes and reads entries; what they
// mean is replicated-store.ts.
//
// Entry n of the log has the stream id `n-0`: a script takes n from a counter and adds the entry in
// one round trip, so the numbers have no holes and every replica knows each entry's number. The
// event stream's seq is built from it (the same on every replica), and a replica that finds a hole
// knows it missed entries trimmed away before it read them.
import { createHash, randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Envelope } from '../types.js';

/** The stream's key; one Redis database (the URL's /N) holds one Mailpen. */
export const LOG_KEY = 'mailpen:log';
/** The number of the last entry written. */
const COUNTER_KEY = 'mailpen:log:last';
/** Settings every replica follows (fault rules, routing): name -> JSON, the latest of each, kept when the log is trimmed. */
const SETTINGS_KEY = 'mailpen:settings';
/** Names this log: set by the first replica, read by the others; a new one means Redis lost the log. */
const EPOCH_KEY = 'mailpen:epoch';
/** Replicas alive and where they have read to: ids in a set, each position in a key that expires. */
const REPLICAS_KEY = 'mailpen:replicas';
const replicaKey = (replica: string): string => `mailpen:replica:${replica}`;
/** A replica that has not said where it stands for this long is gone: trims no longer wait for it. */
const REPLICA_TTL_MS = 30_000;

/**
 * Adds a batch of entries, numbered INCRBY(counter, k) - k + 1 ... as `n-0`: ARGV[1] is the news
 * channel, then four arguments per entry: a setting's name ('' for none) and JSON value (stored in
 * KEYS[3] as the entry goes in), the entry's `m` and its `raw` ('' for none). Then publishes the
 * whole batch in one message on ARGV[1], each entry as `n \n length-of-m \n length-of-raw \n m raw`,
 * so that replicas follow the log without sending a read for each entry. Returns the first number.
 * Run by Redis as one command: no other write comes between the numbers and the entries, and a
 * batch is written whole or not at all. One call for the appends of one event-loop turn (several
 * SMTP sessions' messages): one command to encode, one script run and one announcement to decode
 * instead of one each per message.
 */
const APPEND_SCRIPT = `
local k = (#ARGV - 1) / 4
local first = redis.call('INCRBY', KEYS[2], k) - k + 1
local news = {}
for i = 0, k - 1 do
  local n = first + i
  local a = 2 + i * 4
  local meta, raw = ARGV[a + 2], ARGV[a + 3]
  if ARGV[a] ~= '' then redis.call('HSET', KEYS[3], ARGV[a], ARGV[a + 1]) end
  if raw == '' then
    redis.call('XADD', KEYS[1], n .. '-0', 'm', meta)
  else
    redis.call('XADD', KEYS[1], n .. '-0', 'm', meta, 'raw', raw)
  end
  news[#news + 1] = n .. '\\n' .. string.len(meta) .. '\\n' .. string.len(raw) .. '\\n'
  news[#news + 1] = meta
  news[#news + 1] = raw
end
redis.call('PUBLISH', ARGV[1], table.concat(news))
return first`;
const APPEND_SHA = createHash('sha1').update(APPEND_SCRIPT).digest('hex');

/**
 * Where new entries are announced. Pub/sub channels are not per database, so the name carries the
 * log's epoch: two Mailpens on two databases of one Redis do not hear each other.
 */
const newsChannel = (epoch: string): string => `mailpen:log:batches:${epoch}`;
const M = Buffer.from('m');
const RAW = Buffer.from('raw');

/** The announced entries' numbers and fields (APPEND_SCRIPT's format), up to the first that does not read. */
function parseNews(payload: Buffer): Array<{ n: number; fields: Buffer[] }> {
  const out: Array<{ n: number; fields: Buffer[] }> = [];
  let at = 0;
  while (at < payload.length) {
    const a = payload.indexOf(10, at);
    const b = a < 0 ? -1 : payload.indexOf(10, a + 1);
    const c = b < 0 ? -1 : payload.indexOf(10, b + 1);
    if (c < 0) break;
    const n = Number(payload.toString('latin1', at, a));
    const metaEnd = c + 1 + Number(payload.toString('latin1', a + 1, b));
    const rawEnd = metaEnd + Number(payload.toString('latin1', b + 1, c));
    if (!Number.isSafeInteger(n) || !(rawEnd <= payload.length)) break;
    const meta = payload.subarray(c + 1, metaEnd);
    out.push({ n, fields: rawEnd > metaEnd ? [M, meta, RAW, payload.subarray(metaEnd, rawEnd)] : [M, meta] });
    at = rawEnd;
  }
  return out;
}

/** The entry number of stream id `n-0`. */
export function entryNumber(id: string): number {
  return Number(id.slice(0, id.indexOf('-')));
}

/** Entries read per XREAD: large enough that a catch-up of 100,000 messages is 100 round trips. */
const READ_BATCH = 1000;
/** With no news for this long, the stream is read anyway (an announcement lost on the way is found). */
const QUIET_READ_MS = 2000;
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
  | { op: 'clear'; inbox: string | null }
  /** A shared setting changed (fault rules, routing): its latest value is also in SETTINGS_KEY. */
  | { op: 'setting'; name: string; value: unknown };

/** Who wrote an entry, and whether the writer already applied it to its own view. */
export interface Origin {
  replica: string;
  applied: boolean;
  /** The writer's number for a write it applied first: its events wait for the entry to come back. */
  write?: number;
}

/**
 * An entry is two fields at most: `m`, everything but the bytes as JSON, and `raw`, the bytes of an
 * added message as they are. Sixteen small fields cost as much again in socket writes (profile of
 * an ingest: ioredis writes each argument of a command on its own).
 */
function encode(entry: LogEntry, origin: Origin): { m: string; raw: Buffer | '' } {
  if (entry.op === 'add') {
    const { raw, ...meta } = entry;
    return { m: JSON.stringify({ ...meta, origin }), raw };
  }
  return { m: JSON.stringify({ ...entry, origin }), raw: '' };
}

const OPS = new Set(['add', 'read', 'tags', 'delete', 'clear', 'setting']);

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
  /** At the first connection, before any entry: the shared settings as Redis holds them. */
  settings(values: Map<string, unknown>): void;
  /** Each entry in stream order, once, with its number. */
  apply(entry: LogEntry, origin: Origin, n: number): void;
  /** Once per read batch that applied something. */
  applied(): void;
  /** The first time the tail reaches the end of the stream. */
  caughtUp(): void;
  /** Connection trouble, for the log (the tail retries by itself). */
  trouble(err: Error): void;
  /** The tail stopped for good: this replica cannot follow the log (why, for /healthz and the log). */
  stopped(reason: string): void;
}

interface PendingAppend {
  entry: LogEntry;
  origin: Origin;
  /** APPEND_SCRIPT's four arguments for it: setting name and value, m, raw. */
  args: [string, string, string | Buffer, string | Buffer];
  resolve(n: number): void;
  reject(err: Error): void;
}

/** Appends per script call at most (a burst larger than this goes as several calls). */
const MAX_BATCH = 256;

export class RedisLog {
  readonly #writer: Redis;
  readonly #reader: Redis;
  /** The number of the last entry applied (0 before the first); the next read starts after its id, `n-0`. */
  #last = 0;
  /** This log's name (EPOCH_KEY), known from the first connection on. */
  #epoch: string | null = null;
  /** Set for good when this replica cannot follow the log any more (entries missed, log lost). */
  #broken: string | null = null;
  #caughtUp = false;
  #closed = false;
  #tailing: Promise<void> | null = null;
  /** Why the tail last failed; null while it reads. */
  #tailProblem: string | null = null;
  /** Appends waiting for the end of this event-loop turn, to go to Redis in one call. */
  #batch: PendingAppend[] = [];
  /**
   * This replica's own entries Redis has acknowledged and it has not applied yet, by number: each is
   * applied from here, not from its announcement, as soon as the entries before it are (the 250
   * waits for no announcement, and the writer decodes none of its own entries).
   */
  readonly #own = new Map<number, { entry: LogEntry; origin: Origin }>();
  #events: LogEvents | null = null;

  constructor(url: string) {
    const options = {
      // Commands fail at once while disconnected instead of queueing: SMTP answers 451 now.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 10), MAX_BACKOFF_MS),
      lazyConnect: true,
    };
    // No auto-pipelining: the appends of one event-loop turn are already one command (append), and
    // a pipeline per command only added work (6% of a replica's CPU in the ingest bench went there).
    this.#writer = new Redis(url, { ...options, commandTimeout: COMMAND_TIMEOUT_MS });
    // The reader only listens for announcements (a subscribed connection can send nothing else);
    // it subscribes again itself after a reconnect, once it knows what it missed (#tail).
    this.#reader = new Redis(url, { ...options, autoResubscribe: false });
    // ioredis emits 'error' on every failed reconnect; without a listener Node would crash on it.
    this.#writer.on('error', () => {});
    this.#reader.on('error', () => {});
  }

  /** Null when writes can go through, else why not. */
  get problem(): string | null {
    if (this.#broken !== null) return this.#broken;
    if (this.#writer.status !== 'ready') return `Redis is unreachable (connection ${this.#writer.status})`;
    if (this.#tailProblem !== null) return this.#tailProblem;
    if (!this.#caughtUp) return 'catching up from Redis';
    return null;
  }

  /** This log's name: the same on every replica of one Redis database, until Redis loses it. */
  get epoch(): string {
    if (this.#epoch === null) throw new Error('the epoch is known once connected');
    return this.#epoch;
  }

  /** The number of the last entry applied. */
  get last(): number {
    return this.#last;
  }

  /**
   * Resolves with the entry's number once Redis has it; rejects when it is unreachable or silent.
   * The appends of one event-loop turn go to Redis together, in the order they were made, as one
   * script call (APPEND_SCRIPT); each still resolves only once Redis has acknowledged the batch.
   */
  append(entry: LogEntry, origin: Origin): Promise<number> {
    if (this.#epoch === null) return Promise.reject(new Error('the epoch is known once connected'));
    const { m, raw } = encode(entry, origin);
    const [name, value] = entry.op === 'setting' ? [entry.name, JSON.stringify(entry.value)] : ['', ''];
    return new Promise((resolve, reject) => {
      const batch = this.#batch;
      batch.push({ entry, origin, args: [name, value, m, raw], resolve, reject });
      if (batch.length === 1) setImmediate(() => this.#flush(batch));
      else if (batch.length >= MAX_BATCH) this.#flush(batch);
    });
  }

  /** Sends a batch of appends (once: a full one goes at once, the turn's end finds it sent). */
  #flush(batch: PendingAppend[]): void {
    if (this.#batch !== batch) return;
    this.#batch = [];
    const args: Array<string | Buffer> = [newsChannel(this.epoch)];
    for (const append of batch) args.push(...append.args);
    const keys = [LOG_KEY, COUNTER_KEY, SETTINGS_KEY];
    // By its hash (the script's text is not sent each time); EVAL once when Redis does not know it
    // yet (a new or restarted Redis).
    this.#writer
      .evalsha(APPEND_SHA, keys.length, ...keys, ...args)
      .catch((err: Error) => {
        if (!err.message.startsWith('NOSCRIPT')) throw err;
        return this.#writer.eval(APPEND_SCRIPT, keys.length, ...keys, ...args);
      })
      .then(
        (first) => {
          batch.forEach((append, i) => {
            const n = (first as number) + i;
            if (n > this.#last) this.#own.set(n, { entry: append.entry, origin: append.origin });
          });
          if (this.#events !== null && this.#broken === null && this.#own.has(this.#last + 1)) {
            this.#takeOwn(this.#events);
            this.#events.applied();
          }
          batch.forEach((append, i) => append.resolve((first as number) + i));
        },
        (err: unknown) => batch.forEach((append) => append.reject(err as Error)),
      );
  }

  /** Says where this replica has read to (it expires if the replica goes). */
  async heartbeat(replica: string): Promise<void> {
    await Promise.all([this.#writer.sadd(REPLICAS_KEY, replica), this.#writer.set(replicaKey(replica), String(this.#last), 'PX', REPLICA_TTL_MS)]);
  }

  /** Forgets this replica at once (a clean close), so trims do not wait for it. */
  async leave(replica: string): Promise<void> {
    await Promise.all([this.#writer.srem(REPLICAS_KEY, replica), this.#writer.del(replicaKey(replica))]);
  }

  /**
   * Drops the entries before number `keepFrom`, and no entry a live replica has not read yet:
   * a replica that has not read an entry must still find it, or it would miss a deletion.
   * Answers the number trimmed to.
   */
  async trim(keepFrom: number): Promise<number> {
    const replicas = await this.#writer.smembers(REPLICAS_KEY);
    const positions = replicas.length > 0 ? await this.#writer.mget(...replicas.map(replicaKey)) : [];
    let point = keepFrom;
    const gone: string[] = [];
    positions.forEach((p, i) => {
      if (p === null) gone.push(replicas[i]!);
      else point = Math.min(point, Number(p) + 1);
    });
    if (gone.length > 0) await this.#writer.srem(REPLICAS_KEY, ...gone);
    if (point > 1) await this.#writer.xtrim(LOG_KEY, 'MINID', `${point}-0`);
    return point;
  }

  /** The first connection: the log's name (made up if Redis has none), and the settings as they stand. */
  async #open(events: LogEvents): Promise<void> {
    const candidate = randomBytes(6).toString('base64url');
    // SET NX GET: the name already there, or null when this one was set (Redis 7).
    const existing = (await this.#writer.call('SET', EPOCH_KEY, candidate, 'NX', 'GET')) as string | null;
    const epoch = existing ?? candidate;
    if (this.#epoch === null) {
      // A log whose last entry is numbered past the counter was not written this way (an earlier
      // Mailpen's, ids from the clock): appending to it would fail on every message.
      const [newest] = (await this.#writer.xrevrange(LOG_KEY, '+', '-', 'COUNT', 1)) as Array<[string, string[]]>;
      const counter = Number((await this.#writer.get(COUNTER_KEY)) ?? 0);
      if (newest !== undefined && entryNumber(newest[0]) > counter) {
        this.#broken = `${LOG_KEY} in this Redis database was written by an earlier Mailpen, which numbered entries differently; delete the mailpen:* keys (or use another database) and start again`;
        return;
      }
      this.#epoch = epoch;
      const stored = await this.#writer.hgetall(SETTINGS_KEY);
      events.settings(new Map(Object.entries(stored).map(([name, json]) => [name, JSON.parse(json) as unknown])));
    } else if (epoch !== this.#epoch) {
      // Redis came back without its data (no append-only file?): what this replica holds is not in it.
      this.#broken = 'Redis lost the shared log (restarted without its data: see the README on persistence); restart this replica';
    }
  }

  /** Connects and follows the stream from its start; resolves once connected (the catch-up goes on). */
  start(events: LogEvents): void {
    this.#writer.connect().catch(() => {});
    this.#reader.connect().catch(() => {});
    this.#events = events;
    this.#tailing = this.#tail(events);
  }

  /**
   * Follows the log: reads the stream from the last entry applied (at start, after a reconnect, after
   * a hole in the announcements, and every QUIET_READ_MS without any), and otherwise applies the
   * entries announced on the news channel as they come, each exactly once, in order.
   */
  async #tail(events: LogEvents): Promise<void> {
    let backoff = 50;
    let opened = false;
    let subscribed = false;
    let read = true;
    const news: Buffer[] = [];
    let wake: (() => void) | null = null;
    const wakeUp = (): void => {
      const resolve = wake;
      wake = null;
      resolve?.();
    };
    this.#writer.on('ready', () => (opened = false));
    this.#reader.on('ready', () => (subscribed = false));
    this.#reader.on('close', () => {
      subscribed = false;
      wakeUp();
    });
    this.#reader.on('messageBuffer', (_channel: Buffer, payload: Buffer) => {
      news.push(payload);
      wakeUp();
    });
    while (!this.#closed && this.#broken === null) {
      try {
        for (const connection of [this.#writer, this.#reader]) {
          if (connection.status !== 'ready') await this.#connected(connection, backoff);
          if (connection.status !== 'ready') throw new Error(`Redis is unreachable (connection ${connection.status})`);
        }
        if (!opened) {
          await this.#open(events);
          opened = true;
          if (this.#broken !== null) break;
        }
        if (!subscribed) {
          // Announcements from now on; what came before is read from the stream next.
          news.length = 0;
          await this.#reader.subscribe(newsChannel(this.epoch));
          subscribed = true;
          read = true;
        }
        this.#tailProblem = null;
        backoff = 50;
        if (read) {
          const reply = (await this.#writer.xreadBuffer('COUNT', READ_BATCH, 'STREAMS', LOG_KEY, `${this.#last}-0`)) as unknown as StreamReply;
          const items = reply?.[0]?.[1] ?? [];
          for (const [id, fields] of items) if (!this.#take(events, entryNumber(id.toString('latin1')), fields)) break;
          if (items.length > 0) events.applied();
          if (items.length < READ_BATCH) {
            read = false;
            if (!this.#caughtUp) {
              this.#caughtUp = true;
              events.caughtUp();
            }
          }
          continue;
        }
        if (news.length === 0) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(() => {
              read = true;
              wakeUp();
            }, QUIET_READ_MS);
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          continue;
        }
        let applied = false;
        heard: for (const payload of news.splice(0)) {
          for (const announced of parseNews(payload)) {
            if (announced.n <= this.#last) continue;
            if (announced.n !== this.#last + 1) {
              // Some went unheard (announced before the subscription, or lost): read them from the stream.
              read = true;
              break heard;
            }
            if (!this.#take(events, announced.n, announced.fields)) break heard;
            applied = true;
          }
        }
        if (applied) events.applied();
      } catch (err) {
        if (this.#closed) return;
        this.#tailProblem = `Redis is unreachable: ${(err as Error).message}`;
        events.trouble(err as Error);
        await new Promise((resolve) => setTimeout(resolve, backoff));
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    }
    if (this.#broken !== null) events.stopped(this.#broken);
  }

  /** Applies entry n; false (and the log broken) when entries before it were trimmed unread. */
  #take(events: LogEvents, n: number, fields: Buffer[]): boolean {
    // Already applied: one of this replica's own, applied when Redis acknowledged it (#takeOwn).
    if (n <= this.#last) return true;
    if (this.#last > 0 && n !== this.#last + 1) {
      // Entries this replica had not read were trimmed (it was cut off from Redis past
      // REPLICA_TTL_MS): its view may hold mail deleted since. It stops rather than serve that.
      this.#broken = `entries ${this.#last + 1} to ${n - 1} of the shared log were trimmed before this replica read them; restart this replica`;
      return false;
    }
    this.#last = n;
    const own = this.#own.get(n);
    const decoded = own ?? decode(fields);
    if (own) this.#own.delete(n);
    if (decoded) events.apply(decoded.entry, decoded.origin, n);
    this.#takeOwn(events);
    return true;
  }

  /** Applies this replica's own acknowledged entries that come next, in order. */
  #takeOwn(events: LogEvents): void {
    for (let own = this.#own.get(this.#last + 1); own !== undefined; own = this.#own.get(this.#last + 1)) {
      const n = this.#last + 1;
      this.#own.delete(n);
      this.#last = n;
      events.apply(own.entry, own.origin, n);
    }
  }

  /** Resolves when the connection is ready, or after `ms` (whichever comes first). */
  #connected(connection: Redis, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        connection.off('ready', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      connection.once('ready', done);
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    // The subscription ends with the connection; QUIT on the writer lets queued appends finish.
    this.#reader.disconnect();
    await this.#writer.quit().catch(() => this.#writer.disconnect());
    await this.#tailing;
  }
}
