// Long-poll waiters for /api/wait. One store subscription serves them all: an idle waiter is an
// entry in a set and a timer, and only a new message does any work (one predicate per waiter).
// That work runs after the store's add() has returned, never inside it: the SMTP 250 and the
// event stream do not wait for a hundred waiters' queries (100 pending waits holding slow
// phrases once held one message's 250 for 16 s). A batch of arrivals is matched in slices that
// yield to the event loop.
import type { MessageStore, StoredMessage } from '../store/store.js';

export type WaitOutcome = { kind: 'message'; message: StoredMessage } | { kind: 'timeout' } | { kind: 'gone' } | { kind: 'closing' } | { kind: 'full' };

/** Matching arrivals against waiters yields to the event loop after this long. */
const SLICE_MS = 10;

interface Waiter {
  accepts(message: StoredMessage): boolean;
  settle(outcome: WaitOutcome): void;
}

/** A predicate that throws (a bug) must not stop the other waiters from being answered. */
function accepts(w: Waiter, message: StoredMessage): boolean {
  try {
    return w.accepts(message);
  } catch {
    return false;
  }
}

export class Waiters {
  #waiting = new Set<Waiter>();
  #unsubscribe: () => void;
  readonly #store: MessageStore;
  /** Pending waits allowed at once (MAILPEN_MAX_WAITS; 0: no limit): each is cheap, not free. */
  readonly #max: number;
  /** Arrivals not yet matched against the waiters. */
  #arrived: StoredMessage[] = [];
  #scheduled = false;

  constructor(store: MessageStore, max = 0) {
    this.#store = store;
    this.#max = max;
    this.#unsubscribe = store.subscribe((event) => {
      if (event.type !== 'added' || this.#waiting.size === 0) return;
      this.#arrived.push(event.message);
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.#match());
  }

  #match(): void {
    this.#scheduled = false;
    const started = performance.now();
    let i = 0;
    for (; i < this.#arrived.length && this.#waiting.size > 0; i++) {
      const message = this.#arrived[i]!;
      // Deleted or evicted in the meantime: nothing to hand out.
      if (this.#store.get(message.id) !== message) continue;
      for (const w of this.#waiting) if (accepts(w, message)) w.settle({ kind: 'message', message });
      if (performance.now() - started > SLICE_MS) {
        i++;
        break;
      }
    }
    this.#arrived = this.#waiting.size === 0 ? [] : this.#arrived.slice(i);
    if (this.#arrived.length > 0) this.#schedule();
  }

  /** Waiters currently held open. */
  get count(): number {
    return this.#waiting.size;
  }

  get max(): number {
    return this.#max;
  }

  /**
   * Resolves with the first added message `accepts` takes, or on timeout, or when `connection`
   * closes (the client went away: its waiter is released at once, not at its timeout).
   */
  wait(accepts: (m: StoredMessage) => boolean, timeoutMs: number, connection: NodeJS.EventEmitter & { destroyed?: boolean }): Promise<WaitOutcome> {
    if (this.#max > 0 && this.#waiting.size >= this.#max) return Promise.resolve({ kind: 'full' });
    return new Promise((resolve) => {
      const waiter: Waiter = {
        accepts,
        settle: (outcome) => {
          if (!this.#waiting.delete(waiter)) return;
          clearTimeout(timer);
          connection.off('close', onClose);
          resolve(outcome);
        },
      };
      const onClose = (): void => waiter.settle({ kind: 'gone' });
      const timer = setTimeout(() => waiter.settle({ kind: 'timeout' }), timeoutMs);
      this.#waiting.add(waiter);
      connection.on('close', onClose);
      if (connection.destroyed) onClose();
    });
  }

  /** Answers every waiter (the server is stopping) and stops listening to the store. */
  close(): void {
    for (const w of [...this.#waiting]) w.settle({ kind: 'closing' });
    this.#unsubscribe();
  }
}
