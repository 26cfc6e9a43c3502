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

/**
 * Asserts that `request`, served with a timer running, let it tick at least four times with no gap
 * a quarter of `inOnePiece` (the same walk held in one piece). A pause that is not the request's (a
 * full GC, the machine's other work) can make one gap long: a walk in one piece fails every attempt,
 * a sliced one at most by chance, so up to three tries. `check` asserts each answer.
 */
export async function assertSliced(app: App, request: InjectOptions | string, inOnePiece: number, check: (run: Ticking) => void): Promise<Ticking> {
  let run: Ticking | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    run = await ticking(app, request);
    check(run);
    if (run.longestGap * 4 < inOnePiece && run.ticks >= 4) break;
  }
  assert.ok(run);
  assert.ok(run.longestGap * 4 < inOnePiece, `longest gap ${run.longestGap.toFixed(1)} ms while sliced; ${inOnePiece.toFixed(1)} ms in one piece`);
  assert.ok(run.ticks >= 4, `${run.ticks} ticks during ${run.elapsed.toFixed(1)} ms`);
  return run;
}
