// Run by test/small-budget.test.ts as `node --trace-gc --import tsx test/helpers/heap-churn.ts <mode>`:
// applies the heap mode ("none": V8's defaults) and makes short-lived garbage while the event
// loop turns, as a server does, so the test can tell which young-generation collections V8's
// scavenge task started ("task" in the trace). One process a mode: V8 prints its trace through
// C stdio, whose order against console.log is not kept when stdout is a pipe. The collections
// while tsx loads come before the mode is applied (a few, from the task): the churn makes
// enough others that they stay a small share.
import { applyHeapMode, type HeapMode } from '../../server/heap-mode.js';

const mode = process.argv[2] as HeapMode | 'none';
if (mode !== 'none') applyHeapMode(mode);
let made = 0;
for (let turn = 0; turn < 900; turn++) {
  for (let i = 0; i < 5000; i++) made += [i, { i }, `x${i}`].length;
  await new Promise((resolve) => setImmediate(resolve));
}
if (made === 0) throw new Error('nothing was made');
