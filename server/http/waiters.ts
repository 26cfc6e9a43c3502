// Long-poll waiters for /api/wait. One store subscription serves them all: an idle waiter is an
// entry in a set and a timer, and only a new message does any work (one predicate per waiter).
import type { MessageStore, StoredMessage } from '../store/store.js';

export type WaitOutcome = { kind: 'message'; message: StoredMessage } | { kind: 'timeout' } | { kind: 'gone' } | { kind: 'closing' };

interface Waiter {
  accepts(message: StoredMessage): boolean;
  settle(outcome: WaitOutcome): void;
}

/** This runs inside the store's add(): a predicate that throws must not fail the SMTP transaction. */
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

  constructor(store: MessageStore) {
    this.#unsubscribe = store.subscribe((event) => {
      if (event.type !== 'added' || this.#waiting.size === 0) return;
      for (const w of this.#waiting) if (accepts(w, event.message)) w.settle({ kind: 'message', message: event.message });
    });
  }

  /** Waiters currently held open. */
  get count(): number {
    return this.#waiting.size;
  }

  /**
   * Resolves with the first added message `accepts` takes, or on timeout, or when `connection`
   * closes (the client went away: its waiter is released at once, not at its timeout).
   */
  wait(accepts: (m: StoredMessage) => boolean, timeoutMs: number, connection: NodeJS.EventEmitter & { destroyed?: boolean }): Promise<WaitOutcome> {
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
