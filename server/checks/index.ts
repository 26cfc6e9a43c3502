// Message checks, on demand and cached per message: HTML compatibility (server/checks/html.ts), the
// deliverability lint (lint.ts) and, when an operator configured a spamd, SpamAssassin's score
// (spamd.ts). Nothing here runs at SMTP ingest. The first two run in one worker thread
// (worker.ts) under a hard time limit; spamd is asked over the network with its own timeout, and
// each part fails on its own: spamd being down is said in the spam part, never a 5xx.
import { Worker } from 'node:worker_threads';
import type { HostPort } from '../config.js';
import type { HtmlCheck } from './html.js';
import type { LintResult } from './lint.js';
import { spamCheck, type SpamResult } from './spamd.js';
import { RawCache } from '../mail/raw-cache.js';

/** The HTML check gives up by itself after this long (its part says so; the lint still answers). */
export const HTML_CHECK_TIMEOUT_MS = 5000;
/** The worker is terminated after this long, whatever it is doing; both parts then say they gave up. */
export const WORKER_TIMEOUT_MS = 15_000;
/** An idle check worker exits after this long, giving back its memory (caniemail's data, css-tree: ~40 MB). */
const WORKER_IDLE_MS = 60_000;
/**
 * Checked messages remembered. A result holds each feature's support by some 45 clients: a heavy
 * newsletter's is about 400 KB, so 64 of them stay under 30 MB.
 */
const CACHE_MAX_ENTRIES = 64;

export type HtmlPart = HtmlCheck | { status: 'none'; reason: string } | { status: 'gave-up'; reason: string };
export type LintPart = LintResult | { status: 'gave-up'; reason: string };
export type SpamPart = SpamResult;

export interface CheckRequest {
  raw: Uint8Array;
  html: string | null;
  htmlTimeoutMs: number;
}
export interface CheckResponse {
  html: HtmlPart;
  lint: LintPart;
}
export interface WorkerReady {
  ready: true;
}

export type CheckPartName = 'html' | 'lint' | 'spam';

export interface MessageCheckResult {
  html?: HtmlPart;
  lint?: LintPart;
  spam?: SpamPart;
}

export interface MessageChecksOptions {
  spamd: HostPort | null;
  spamdTimeoutMs?: number;
  htmlTimeoutMs?: number;
  workerTimeoutMs?: number;
}

/**
 * The checks of one running server. Results are cached by where the message's bytes are (their
 * ArrayBuffer, offset and length: any view of the same bytes), without holding them
 * (server/mail/raw-cache.ts, as the parser's cache).
 */
export class MessageChecks {
  readonly #options: MessageChecksOptions;
  readonly #runner: CheckRunner;
  readonly #local = new RawCache<CheckResponse>({ maxEntries: CACHE_MAX_ENTRIES });
  /** An error (spamd down, slow) is not remembered: the next look asks again. */
  readonly #spam = new RawCache<SpamResult>({ maxEntries: CACHE_MAX_ENTRIES, keep: (r) => r.status === 'checked' });

  constructor(options: MessageChecksOptions) {
    this.#options = options;
    this.#runner = new CheckRunner(options.workerTimeoutMs ?? WORKER_TIMEOUT_MS);
  }

  /** `html`: the decoded HTML body (from the full parse), null when there is none. */
  async check(raw: Buffer, html: string | null, parts: ReadonlySet<CheckPartName>): Promise<MessageCheckResult> {
    const [local, spam] = await Promise.all([
      parts.has('html') || parts.has('lint') ? this.#localChecks(raw, html) : undefined,
      parts.has('spam') ? this.#spamCheck(raw) : undefined,
    ]);
    const out: MessageCheckResult = {};
    if (local && parts.has('html')) out.html = local.html;
    if (local && parts.has('lint')) out.lint = local.lint;
    if (spam) out.spam = spam;
    return out;
  }

  async close(): Promise<void> {
    await this.#runner.close();
  }

  #localChecks(raw: Buffer, html: string | null): Promise<CheckResponse> {
    return this.#local.get(raw, () => this.#runner.run({ raw: copyOut(raw), html, htmlTimeoutMs: this.#options.htmlTimeoutMs ?? HTML_CHECK_TIMEOUT_MS }));
  }

  #spamCheck(raw: Buffer): Promise<SpamResult> {
    const address = this.#options.spamd;
    if (!address) return Promise.resolve({ status: 'not-configured', reason: 'no spamd configured (MAILPEN_SPAMD_ADDR=host:port turns this check on)' });
    return this.#spam.get(raw, () => spamCheck(raw, { address, ...(this.#options.spamdTimeoutMs ? { timeoutMs: this.#options.spamdTimeoutMs } : {}) }));
  }
}

/**
 * postMessage clones a view's whole ArrayBuffer, and the store keeps small messages as views of
 * slabs (4 MB to 1 GB): such a view is copied out first (as the parse pool does).
 */
function copyOut(raw: Buffer): Uint8Array {
  return raw.byteLength === raw.buffer.byteLength ? raw : new Uint8Array(raw);
}

interface Job {
  request: CheckRequest;
  resolve(response: CheckResponse): void;
}

/** One worker thread, started on demand, one job at a time, terminated when a job overruns. */
class CheckRunner {
  readonly #timeoutMs: number;
  readonly #queue: Job[] = [];
  #worker: Worker | null = null;
  #ready = false;
  #job: Job | null = null;
  #timer: NodeJS.Timeout | null = null;
  #idleTimer: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
  }

  run(request: CheckRequest): Promise<CheckResponse> {
    if (this.#closed) return Promise.resolve(gaveUp('the server is shutting down'));
    return new Promise((resolve) => {
      this.#queue.push({ request, resolve });
      this.#next();
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const job of this.#queue.splice(0)) job.resolve(gaveUp('the server is shutting down'));
    await this.#stop('the server is shutting down');
  }

  #next(): void {
    if (this.#job || this.#queue.length === 0 || this.#closed) return;
    const job = this.#queue.shift()!;
    this.#job = job;
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    this.#idleTimer = null;
    const worker = (this.#worker ??= this.#start());
    worker.ref();
    if (this.#ready) this.#startClock();
    worker.postMessage(job.request);
  }

  #start(): Worker {
    const worker = startWorker();
    this.#ready = false;
    worker.on('message', (message: CheckResponse | WorkerReady) => {
      if ('ready' in message) {
        this.#ready = true;
        if (this.#job && !this.#timer) this.#startClock();
        return;
      }
      if (this.#worker === worker) this.#finish(message);
    });
    // Only about this worker: an old one's exit must not end the job of the one that replaced it.
    worker.on('error', (err) => void (this.#worker === worker && this.#stop(`the check failed (${err.message})`)));
    worker.on('exit', () => void (this.#worker === worker && this.#stop('the check stopped unexpectedly')));
    return worker;
  }

  #startClock(): void {
    // The clock starts once the worker is loaded: a cold start is not counted against a message.
    this.#timer = setTimeout(() => void this.#stop(`checking took longer than ${this.#timeoutMs / 1000} s; gave up`), this.#timeoutMs);
  }

  #finish(response: CheckResponse): void {
    const job = this.#job;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#job = null;
    // Idle, the worker must not keep a finished process (or test) alive.
    this.#worker?.unref();
    job?.resolve(response);
    this.#next();
    if (!this.#job) {
      this.#idleTimer = setTimeout(() => void this.#stop(''), WORKER_IDLE_MS);
      this.#idleTimer.unref();
    }
  }

  /** Ends the worker (once), its job answered with `reason`; a queued job starts a fresh one. */
  async #stop(reason: string): Promise<void> {
    const worker = this.#worker;
    if (!worker) return;
    this.#worker = null;
    this.#ready = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    this.#idleTimer = null;
    const job = this.#job;
    this.#job = null;
    job?.resolve(gaveUp(reason));
    this.#next();
    await worker.terminate();
  }
}

function gaveUp(reason: string): CheckResponse {
  return { html: { status: 'gave-up', reason }, lint: { status: 'gave-up', reason } };
}

/** As server/mail/parse-pool.ts: compiled, a file beside this one; from source, tsx registered first. */
function startWorker(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./worker.js', import.meta.url));
  const entry = new URL('./worker.ts', import.meta.url).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap = `const { register } = await import(${JSON.stringify(tsx)}); register(); await import(${JSON.stringify(entry)});`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(bootstrap)}`));
}
