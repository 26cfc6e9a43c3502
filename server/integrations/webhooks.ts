// Webhooks: a POST of each new message's summary to every configured URL. The one outbound
// connection Mailpen can make, and only to those URLs: nothing here reads a URL out of mail, and
// redirects are not followed (a receiver cannot point the POST somewhere else).
//
// Mailpit posts to one URL at most once a second and drops what comes in between ("subsequent
// messages are ignored"). Here each URL has its own queue, delivered in order, one request at a
// time: a failure or timeout is retried with exponential backoff while later messages wait behind
// it; the queue is bounded, and when it is full the oldest waiting delivery is dropped and
// counted. The store's event only enqueues, so SMTP never waits on a receiver.
import { createHmac, randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { MessageStore, StoreEvent } from '../store/store.js';

/** Attempts per delivery, the first included; then it is given up (counted as failed). */
export const MAX_ATTEMPTS = 10;
/** The backoff doubles up to this. */
const MAX_BACKOFF_MS = 5 * 60_000;
/** How long close() keeps delivering what is queued before it gives up on the rest. */
export const FLUSH_MS = 3000;
/** A receiver's answer body is read (so the connection can be reused) up to this, then dropped. */
const MAX_ANSWER_BYTES = 64 * 1024;

export const SIGNATURE_HEADER = 'x-mailpen-signature';
export const DELIVERY_HEADER = 'x-mailpen-delivery';

export type WebhookConfig = Pick<Config, 'webhookUrls' | 'webhookSecret' | 'webhookTimeout' | 'webhookRetry' | 'webhookQueue'>;

/** Counters over every URL, for /api/info and /metrics. */
export interface WebhookStats {
  urls: number;
  /** Waiting or being sent now. */
  queued: number;
  /** Answered 2xx. */
  delivered: number;
  /** Attempts after a failed one. */
  retries: number;
  /** Given up after MAX_ATTEMPTS, or still queued when the shutdown's flush ran out. */
  failed: number;
  /** Dropped from a full queue (MAILPEN_WEBHOOK_QUEUE) to make room for a newer one. */
  dropped: number;
  /** URLs whose oldest delivery failed and waits for its retry: receivers that are down now. */
  retrying: number;
}

interface Delivery {
  /** Sent as X-Mailpen-Delivery, the same on every attempt, so a receiver can drop repeats. */
  id: string;
  body: string;
  attempts: number;
}

interface Target {
  url: string;
  /** Keeps the connection to the receiver open between deliveries; one at a time, as they are sent. */
  agent: http.Agent;
  queue: Delivery[];
  /** The head of the queue is on the wire. */
  sending: boolean;
  /** The head of the queue waits for its retry. */
  retryTimer: NodeJS.Timeout | null;
}

/** HMAC-SHA256 of the exact body bytes, as the signature header carries it. */
export function signature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

export class Webhooks {
  readonly #store: MessageStore;
  readonly #config: WebhookConfig;
  readonly #log: Logger;
  readonly #userAgent: string;
  readonly #targets: Target[];
  readonly #unsubscribe: () => void;
  /** Aborts requests in flight when the flush runs out. */
  readonly #abort = new AbortController();
  #stats = { delivered: 0, retries: 0, failed: 0, dropped: 0 };
  /** Called whenever a queue empties or moves; close() waits on it. */
  #progress: (() => void) | null = null;
  #closed = false;

  constructor(store: MessageStore, config: WebhookConfig, log: Logger, version: string) {
    this.#store = store;
    this.#config = config;
    this.#log = log;
    this.#userAgent = `Mailpen/${version} (webhook)`;
    this.#targets = config.webhookUrls.map((url) => ({
      url,
      agent: url.startsWith('https:') ? new https.Agent({ keepAlive: true, maxSockets: 1 }) : new http.Agent({ keepAlive: true, maxSockets: 1 }),
      queue: [],
      sending: false,
      retryTimer: null,
    }));
    this.#unsubscribe = store.subscribe((event) => this.#onStoreEvent(event));
  }

  get stats(): WebhookStats {
    return {
      urls: this.#targets.length,
      queued: this.#targets.reduce((n, t) => n + t.queue.length, 0),
      ...this.#stats,
      retrying: this.#targets.filter((t) => t.retryTimer !== null).length,
    };
  }

  #onStoreEvent(event: StoreEvent): void {
    if (event.type !== 'added' || this.#closed) return;
    // The summary is read now, while the message is surely still there (eviction may take it
    // before the delivery goes out). It is the one the event stream sends, cached for both.
    let body: string;
    try {
      body = JSON.stringify(this.#store.summary(event.message));
    } catch (err) {
      // This runs inside the store's add(): a summary that fails must not fail the SMTP transaction.
      this.#log.error({ err, id: event.message.id }, 'webhook summary failed; message not posted');
      return;
    }
    for (const target of this.#targets) {
      this.#enqueue(target, { id: randomUUID(), body, attempts: 0 });
      this.#pump(target);
    }
  }

  #enqueue(target: Target, delivery: Delivery): void {
    if (target.queue.length >= this.#config.webhookQueue) {
      // The oldest that is not on the wire; with a queue of one that is busy, the new one.
      const oldest = target.sending ? 1 : 0;
      this.#stats.dropped++;
      if (oldest >= target.queue.length) return;
      target.queue.splice(oldest, 1);
      if (oldest === 0 && target.retryTimer) {
        clearTimeout(target.retryTimer);
        target.retryTimer = null;
      }
    }
    target.queue.push(delivery);
  }

  #pump(target: Target): void {
    if (target.sending || target.retryTimer !== null) return;
    const delivery = target.queue[0];
    if (delivery === undefined) return this.#progress?.();
    target.sending = true;
    void this.#attempt(target, delivery).then((ok) => {
      target.sending = false;
      // close() ran out of time and has counted what was left, this one included.
      if (this.#abort.signal.aborted) return;
      // A full queue never drops the delivery on the wire, so it is still queue[0].
      if (ok) {
        target.queue.shift();
        this.#stats.delivered++;
      } else if (delivery.attempts >= MAX_ATTEMPTS) {
        target.queue.shift();
        this.#stats.failed++;
        this.#log.warn({ url: target.url, delivery: delivery.id, attempts: delivery.attempts }, 'webhook delivery given up');
      } else {
        const backoff = Math.min(this.#config.webhookRetry * 2 ** (delivery.attempts - 1), MAX_BACKOFF_MS);
        target.retryTimer = setTimeout(() => {
          target.retryTimer = null;
          if (target.queue[0] === delivery) this.#stats.retries++;
          this.#pump(target);
        }, backoff);
        // A pending retry alone does not keep the process up; close() decides how long to wait.
        target.retryTimer.unref();
      }
      this.#progress?.();
      this.#pump(target);
    });
  }

  /** One POST; true when the receiver answered 2xx in time. Never rejects. */
  async #attempt(target: Target, delivery: Delivery): Promise<boolean> {
    delivery.attempts++;
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': this.#userAgent,
      [DELIVERY_HEADER]: delivery.id,
      'x-mailpen-event': 'message.added',
      'x-mailpen-attempt': String(delivery.attempts),
    };
    if (this.#config.webhookSecret !== null) headers[SIGNATURE_HEADER] = signature(this.#config.webhookSecret, delivery.body);
    try {
      const status = await post(target, headers, delivery.body, this.#config.webhookTimeout, this.#abort.signal);
      if (status >= 200 && status < 300) return true;
      this.#log.warn({ url: target.url, delivery: delivery.id, attempt: delivery.attempts, status }, 'webhook receiver refused the delivery');
    } catch (err) {
      this.#log.warn({ url: target.url, delivery: delivery.id, attempt: delivery.attempts, reason: (err as Error).message }, 'webhook delivery failed');
    }
    return false;
  }

  /**
   * Stops taking new messages and delivers what is queued for at most `flushMs` (retries
   * included, on their schedule); then aborts what is in flight and counts the rest as failed.
   */
  async close(flushMs = FLUSH_MS): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe();
    const idle = (): boolean => this.#targets.every((t) => t.queue.length === 0);
    if (!idle()) {
      await new Promise<void>((resolve) => {
        const deadline = setTimeout(resolve, flushMs);
        this.#progress = () => {
          if (!idle()) return;
          clearTimeout(deadline);
          resolve();
        };
      });
    }
    this.#progress = null;
    this.#abort.abort();
    let left = 0;
    for (const target of this.#targets) {
      if (target.retryTimer) clearTimeout(target.retryTimer);
      target.retryTimer = null;
      target.agent.destroy();
      left += target.queue.length;
      target.queue.length = 0;
    }
    if (left > 0) {
      this.#stats.failed += left;
      this.#log.warn({ undelivered: left }, 'webhook deliveries still queued at shutdown were dropped');
    }
  }
}

/**
 * One POST; resolves with the status once the answer's body is read (up to MAX_ANSWER_BYTES), so
 * the connection can carry the next delivery. node:http rather than fetch: with a receiver on
 * the same machine, fetch's per-request work cut SMTP ingest from ~3,900 to ~370 msg/s
 * (2,000 messages over 4 connections); a keep-alive agent with one socket per URL costs little.
 * Redirects are not followed (node:http never does).
 */
function post(target: Target, headers: Record<string, string>, body: string, timeoutMs: number, signal: AbortSignal): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = (target.url.startsWith('https:') ? https : http).request(target.url, {
      method: 'POST',
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      agent: target.agent,
      signal,
    });
    const deadline = setTimeout(() => request.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    request.on('error', (err) => {
      clearTimeout(deadline);
      reject(err);
    });
    request.on('response', (response) => {
      let read = 0;
      response.on('data', (chunk: Buffer) => {
        read += chunk.length;
        // A receiver that streams an endless answer is not waited for.
        if (read > MAX_ANSWER_BYTES) response.destroy();
      });
      response.on('error', () => undefined);
      response.on('close', () => {
        clearTimeout(deadline);
        resolve(response.statusCode ?? 0);
      });
    });
    request.end(body);
  });
}
