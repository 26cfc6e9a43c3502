// A small pool of worker threads that run mailparser, so that no message, however built, can
// stall the event loop that serves SMTP, the API and the event stream. mailparser cannot be
// interrupted, but a worker can be terminated: a parse past the time limit ends with the
// message shown raw and the reason said on it.
//
// Memory is bounded by the message size limit, not here: V8's per-worker heap limit
// (resourceLimits) was tried, and on Node 20 a worker reaching it takes the whole process down
// with it ("Reached heap limit"), which would turn a limit into a kill switch. Measured: a 50 MB
// message (text, HTML or base64) peaks at about 800 MB RSS while it parses.
import { Worker } from 'node:worker_threads';
import { shownRaw, type Parsed, type ParsedMessage } from './parsed.js';

/** What the main thread sends a worker: the raw bytes (copied by postMessage). */
export interface ParseRequest {
  raw: Uint8Array;
}

export type ParseResponse = (
  | { ok: true; message: ParsedMessage; contents: Array<[string, Uint8Array]>; bytes: number }
  | { ok: false; error: string }
) & {
  /** The worker's V8 heap as it answers (committed bytes): the pool recycles a grown worker. */
  heapBytes: number;
};

/** What a worker sends: once `ready` when its modules are loaded, then one response per request. */
export type WorkerMessage = ParseResponse | { ready: true };

export interface ParsePoolOptions {
  /** Threads at most; started on demand. */
  workers: number;
  /** A parse that runs longer is abandoned and its worker terminated. */
  timeoutMs: number;
  /** An idle worker exits after this long, giving its memory back. */
  idleMs: number;
  /** A worker whose heap has grown past this is replaced once its parse is answered. */
  recycleHeapBytes: number;
  /** ...and so is one that has answered this many parses. */
  recycleAfter: number;
}

/** An idle worker's default life: its memory comes back a minute after the last parse. */
const IDLE_MS = 60_000;
/**
 * A worker's heap grows with the largest messages it has parsed and V8 gives little of it back
 * while the worker lives: under steady reads (bench soak) two workers held 150-250 MB, more than
 * the store's 64 MB budget. A new worker costs a module load (~100 ms, off the event loop), so
 * the bounds are loose enough that a UI clicking through ordinary mail never pays it.
 */
const RECYCLE_HEAP_BYTES = 48 * 1024 * 1024;
const RECYCLE_AFTER = 500;

interface Job {
  raw: Buffer;
  resolve(parsed: Parsed): void;
}

interface Slot {
  worker: Worker;
  /** Loaded and listening; a job's clock starts only then, so a cold start is not counted against it. */
  ready: boolean;
  job: Job | null;
  timer: NodeJS.Timeout | null;
  idleTimer: NodeJS.Timeout | null;
  parses: number;
}

export class ParsePool {
  readonly #options: ParsePoolOptions;
  readonly #slots = new Set<Slot>();
  readonly #queue: Job[] = [];
  #closed = false;
  #started = 0;

  /** Workers and time limit come from the config (MAILPEN_PARSE_WORKERS, MAILPEN_PARSE_TIMEOUT). */
  constructor(options: Pick<ParsePoolOptions, 'workers' | 'timeoutMs'> & Partial<ParsePoolOptions>) {
    this.#options = { idleMs: IDLE_MS, recycleHeapBytes: RECYCLE_HEAP_BYTES, recycleAfter: RECYCLE_AFTER, ...options };
  }

  /** Workers alive now (busy or idle). */
  get size(): number {
    return this.#slots.size;
  }

  /** Workers started over the pool's life (recycled ones replaced), for tests. */
  get started(): number {
    return this.#started;
  }

  /** The full parse of `raw`. Never rejects: a failure is a raw view with the reason. */
  parse(raw: Buffer): Promise<Parsed> {
    if (this.#closed) return Promise.resolve(shownRaw(raw, 'the server is shutting down; shown raw'));
    return new Promise((resolve) => {
      this.#queue.push({ raw, resolve });
      this.#dispatch();
    });
  }

  /** Terminates every worker; queued and running parses end shown raw. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const job of this.#queue.splice(0)) job.resolve(shownRaw(job.raw, 'the server is shutting down; shown raw'));
    await Promise.all([...this.#slots].map((slot) => this.#retire(slot, 'the server is shutting down; shown raw')));
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      let slot = [...this.#slots].find((s) => s.job === null);
      if (!slot) {
        if (this.#slots.size >= this.#options.workers) return;
        slot = this.#spawn();
      }
      this.#run(slot, this.#queue.shift()!);
    }
  }

  #run(slot: Slot, job: Job): void {
    if (slot.idleTimer) clearTimeout(slot.idleTimer);
    slot.idleTimer = null;
    slot.job = job;
    // Busy, the worker keeps the process alive like any pending I/O; idle, it must not keep a
    // finished process (or test) running. (Adding a 'message' listener refs it again, so this
    // comes after them.)
    slot.worker.ref();
    if (slot.ready) this.#startClock(slot);
    // postMessage clones a view's whole ArrayBuffer: a small message held in one of the store's
    // slabs (4 MB to 1 GB) would send the slab. Such a view is copied out first; a Buffer of its own is sent as is.
    const raw = job.raw.byteLength === job.raw.buffer.byteLength ? job.raw : new Uint8Array(job.raw);
    const request: ParseRequest = { raw };
    slot.worker.postMessage(request);
  }

  #startClock(slot: Slot): void {
    slot.timer = setTimeout(() => {
      void this.#retire(slot, `parsing took longer than ${this.#options.timeoutMs / 1000} s; shown raw`);
    }, this.#options.timeoutMs);
  }

  #spawn(): Slot {
    const worker = startWorker();
    this.#started++;
    const slot: Slot = { worker, ready: false, job: null, timer: null, idleTimer: null, parses: 0 };
    this.#slots.add(slot);
    worker.on('message', (message: WorkerMessage) => {
      if (!('ready' in message)) return this.#finish(slot, message);
      slot.ready = true;
      if (slot.job && !slot.timer) this.#startClock(slot);
    });
    // An uncaught error in the worker ends it; its job ends shown raw.
    worker.on('error', (err) => void this.#retire(slot, `the parser failed (${err.message}); shown raw`));
    worker.on('exit', () => void this.#retire(slot, 'the parser stopped unexpectedly; shown raw'));
    return slot;
  }

  #finish(slot: Slot, response: ParseResponse): void {
    const job = slot.job;
    if (!job) return;
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
    slot.job = null;
    slot.worker.unref();
    job.resolve(
      response.ok
        ? {
            message: response.message,
            contents: new Map(response.contents.map(([id, bytes]) => [id, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)])),
            bytes: response.bytes,
          }
        : shownRaw(job.raw, `the MIME structure could not be parsed (${response.error}); shown raw`),
    );
    slot.parses++;
    if (response.heapBytes > this.#options.recycleHeapBytes || slot.parses >= this.#options.recycleAfter) {
      // Answered first, replaced after: no parse is lost, and the next job starts a fresh worker.
      void this.#retire(slot, '');
      return;
    }
    slot.idleTimer = setTimeout(() => void this.#retire(slot, ''), this.#options.idleMs);
    slot.idleTimer.unref();
    this.#dispatch();
  }

  /** Removes a worker from the pool (once), ending its job with `reason`, and starts queued work. */
  async #retire(slot: Slot, reason: string): Promise<void> {
    if (!this.#slots.delete(slot)) return;
    if (slot.timer) clearTimeout(slot.timer);
    if (slot.idleTimer) clearTimeout(slot.idleTimer);
    const job = slot.job;
    slot.job = null;
    if (job) job.resolve(shownRaw(job.raw, reason));
    if (!this.#closed) this.#dispatch();
    await slot.worker.terminate();
  }
}

/**
 * From compiled JavaScript the worker is a file beside this one. From TypeScript source (tests,
 * `npm run dev`) a worker does not inherit tsx's loader on Node 20, so it registers it first.
 */
function startWorker(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./parse-worker.js', import.meta.url));
  const entry = new URL('./parse-worker.ts', import.meta.url).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap = `const { register } = await import(${JSON.stringify(tsx)}); register(); await import(${JSON.stringify(entry)});`;
  // A module (not `eval`), so the process's --import preloads run in it as in a compiled worker.
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(bootstrap)}`));
}
