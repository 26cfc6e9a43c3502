// How V8 trades the process's memory against its speed, chosen from the store's byte budget. A
// small budget (MAILPEN_MAX_BYTES of 128 MB or less) says the process should stay small: V8 then
// optimizes for size (its heap grows less between collections, and collections compact more).
// bench soak, 64 MB budget, 1 minute, highest RSS: 323 MB without, 250 MB with; the same ingest
// runs at 0.92 of a bare smtp-server sink against 0.98 (20,000 × 2 KB, in one run). With a larger
// budget or none, the store may hold hundreds of thousands of messages, and collecting a heap of
// that size as often costs more: a million messages took 128 s to take in with it, 96 s without.
//
// Either mode turns off V8's scavenge task, which starts a young-generation collection once the
// young generation is 80% full, so that each one runs when it is full instead: 15% fewer of them
// here. Each of those walks every page of the old generation (perf annotate of V8's
// ScavengerCollector::CollectGarbage: 93% of its own time is that walk), so at a million messages
// (700 MB of heap, ~2,800 pages) one took 3.5 ms against 1.6 ms at the start, and ingest slowed
// as the store filled. bench million: 412 → 352 young collections for the first 200,000 messages;
// the rate of the last 100,000 against the first, 0.85-0.86 → 0.89-1.01 in the next runs (what
// still moves it is the kernel's time in page faults, README: Performance).
//
// V8's flags are the process's: set after start, these are read where the collector decides,
// so they take effect from the next collection. The last server started in a process decides
// (tests start several); `mailpen` starts one.
import { setFlagsFromString } from 'node:v8';

/** Budgets up to this make the heap lean. */
export const LEAN_HEAP_MAX_BUDGET = 128 * 1024 * 1024;

export type HeapMode = 'lean' | 'fast';

/** The heap mode for a byte budget (0: no limit). */
export function heapModeFor(maxBytes: number): HeapMode {
  return maxBytes > 0 && maxBytes <= LEAN_HEAP_MAX_BUDGET ? 'lean' : 'fast';
}

/** An operator's own `node --minor-gc-task` (on the command line or in NODE_OPTIONS) is kept. */
const TASK_ASKED = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some((a) => a === '--minor-gc-task' || a === '--minor_gc_task');

/** Whether applyHeapMode() turned --optimize-for-size on, so that 'fast' undoes only that. */
let leanSetHere = false;

/**
 * 'fast' turns the flag off only where a server of this process turned it on (tests start a lean
 * server, then others): an operator's own `node --optimize-for-size` stays, and so does their
 * `--minor-gc-task`.
 */
export function applyHeapMode(mode: HeapMode): void {
  if (!TASK_ASKED) setFlagsFromString('--no-minor-gc-task');
  if (mode === 'lean') {
    setFlagsFromString('--optimize-for-size');
    leanSetHere = true;
  } else if (leanSetHere) {
    setFlagsFromString('--no-optimize-for-size');
    leanSetHere = false;
  }
}
