// The "message received" log line, one per message while mail comes at a human pace, and one a
// second during a burst. A load test sending 10,000 messages a second does not read 10,000 lines
// a second, and writing them cost up to 9% of ingest (bench ingest, profiled with --cpu-prof; a
// terminal or `docker logs` pipe costs more than the benchmark's /dev/null).
import type { Logger } from '../log.js';

/** Lines a second written one per message; past them, the rest of the second is counted. */
export const LINES_PER_SECOND = 20;
const WINDOW_MS = 1000;

export interface Receipt {
  id: string;
  inbox: string;
  /** Every id and inbox, when the message went to several inboxes. */
  ids?: string[];
  inboxes?: string[];
  from: string;
  to: string[];
  size: number;
}

export class ReceiptLog {
  readonly #log: Logger;
  readonly #now: () => number;
  #windowStart = -Infinity;
  #lines = 0;
  /** Messages counted, not written, in the current window. */
  #held = { count: 0, bytes: 0, firstId: '', lastId: '' };
  #timer: NodeJS.Timeout | null = null;

  constructor(log: Logger, now: () => number = Date.now) {
    this.#log = log;
    this.#now = now;
  }

  received(receipt: Receipt): void {
    if (!this.#log.isLevelEnabled('info')) return;
    const now = this.#now();
    if (now - this.#windowStart >= WINDOW_MS) {
      this.#summarize();
      this.#windowStart = now;
      this.#lines = 0;
    }
    if (this.#lines < LINES_PER_SECOND) {
      this.#lines++;
      this.#log.info(receipt, 'message received');
      return;
    }
    const held = this.#held;
    if (held.count === 0) {
      held.firstId = receipt.id;
      // Said once the window ends, even if no other message comes to end it.
      this.#timer = setTimeout(() => this.#summarize(), WINDOW_MS - (now - this.#windowStart));
      this.#timer.unref();
    }
    held.count++;
    held.bytes += receipt.size;
    held.lastId = receipt.id;
  }

  /** Writes what was held back (on shutdown too, so no message goes unmentioned). */
  flush(): void {
    this.#summarize();
  }

  #summarize(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const { count, bytes, firstId, lastId } = this.#held;
    if (count === 0) return;
    this.#held = { count: 0, bytes: 0, firstId: '', lastId: '' };
    this.#log.info(
      { count, bytes, firstId, lastId },
      `${count} more messages received in a burst (a line each is written for the first ${LINES_PER_SECOND} a second)`,
    );
  }
}
