// How a request shares the event loop: a 1 ms timer runs while it is served, and the longest gap
// between its ticks says how long the request held the loop in one piece (test/query-cost*.test.ts).
import assert from 'node:assert/strict';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import type { App } from '../../server/http/app.js';

export interface Ticking {
  res: LightMyRequestResponse;
  /** How many times the timer ran while the request was served (a walk in one piece: none). */
  ticks: number;
  /** The longest gap between ticks, ms. */
  longestGap: number;
  /** How long the request took, ms. */
  elapsed: number;
}

/** Serves `request` with a 1 ms timer running. */
export async function ticking(app: App, request: InjectOptions | string): Promise<Ticking> {
  let last = performance.now();
  let longestGap = 0;
  let ticks = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longestGap = Math.max(longestGap, now - last);
    last = now;
    ticks++;
  }, 1);
  const t0 = performance.now();
  const res = await app.inject(request);
  const elapsed = performance.now() - t0;
  clearInterval(timer);
  return { res, ticks, longestGap, elapsed };
}

/** What one attempt of assertSliced measures against: the app to ask and the walk in one piece, ms. */
export interface SlicedAttempt {
  app: App;
  inOnePiece: number;
}

export interface SlicedRun extends Ticking {
  /** The one-piece time the run was measured against, ms. */
  inOnePiece: number;
  /** Which try it was (1 to 3). */
  attempts: number;
}

/**
 * Asserts that `request`, served with a timer running, let it tick at least four times with no gap
 * `maxShare` (a quarter) of `inOnePiece` (the same walk held in one piece, measured in the same run:
 * the two slow down alike on a busy machine, where a bound in milliseconds does not). A pause that
 * is not the request's (a full GC, the machine's other work) can make one gap long: a walk in one
 * piece fails every attempt, a sliced one at most by chance, so up to three tries. `check` asserts
 * each answer. A larger `maxShare` for a request served while background work of the store's own
 * runs slices too (indexing after an upload), whose gaps are not the request's.
 */
export async function assertSliced(app: App, request: InjectOptions | string, inOnePiece: number, check: (run: Ticking) => void, options: { maxShare?: number } = {}): Promise<SlicedRun> {
  return assertSlicedAfresh(async () => ({ app, inOnePiece }), request, check, options);
}

/**
 * assertSliced for a request whose first answer changes what a second would cost (GET /api/tags
 * reads the tags not read yet once, then has them): `prepare` sets up each attempt afresh (a new
 * server, the same mail) and answers the app to ask and the one-piece time measured on that.
 */
export async function assertSlicedAfresh(
  prepare: () => Promise<SlicedAttempt>,
  request: InjectOptions | string,
  check: (run: Ticking) => void,
  { maxShare = 1 / 4 }: { maxShare?: number } = {},
): Promise<SlicedRun> {
  let run: SlicedRun | undefined;
  for (let attempt = 1; attempt <= 3; attempt++) {
    const { app, inOnePiece } = await prepare();
    run = { ...(await ticking(app, request)), inOnePiece, attempts: attempt };
    check(run);
    if (run.longestGap < inOnePiece * maxShare && run.ticks >= 4) break;
  }
  assert.ok(run);
  assert.ok(run.longestGap < run.inOnePiece * maxShare, `longest gap ${run.longestGap.toFixed(1)} ms while sliced; ${run.inOnePiece.toFixed(1)} ms in one piece (at most ${maxShare.toFixed(2)} of it)`);
  assert.ok(run.ticks >= 4, `${run.ticks} ticks during ${run.elapsed.toFixed(1)} ms`);
  return run;
}
