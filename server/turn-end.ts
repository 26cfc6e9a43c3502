// Work for the end of the current turn of the event loop that must not wait behind a long step
// of other work. SMTP writes the replies to what one read brought at the end of that turn
// (server/smtp/reply-batching.ts, setImmediate); a search walks the store in 5 ms slices, each
// queued with setImmediate too (server/search/sliced-match.ts). A slice queued before the read
// ran first, so every reply waited for it (bench api: SMTP 250 during the worst query, p50 11.5 ms
// in one run; 5.7 with this, 5.5 with replies not batched). A slice now runs only after what is
// queued here: the last of it lets the slice go, in the same turn, so a slice waits for nothing
// but these few writes.

let pending = 0;
let waiting: Array<() => void> = [];

/** Runs `fn` at the end of this turn (setImmediate), ahead of any nextTurn() that resolves in it. */
export function atTurnEnd(fn: () => void): void {
  pending++;
  setImmediate(() => {
    try {
      fn();
    } finally {
      if (--pending === 0 && waiting.length > 0) {
        const go = waiting;
        waiting = [];
        for (const resolve of go) resolve();
      }
    }
  });
}

/**
 * Lets timers and I/O in before going on (setImmediate), and then what they queued with
 * atTurnEnd(): all of it was queued before this turn's immediates began, so it runs in this same
 * turn, and the last of it resolves this.
 */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => (pending > 0 ? waiting.push(resolve) : resolve())));
}
