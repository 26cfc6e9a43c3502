// Run by test/small-budget.test.ts as `node --trace-gc --import tsx test/helpers/heap-churn.ts`:
// applies each heap mode in turn ("none": V8's defaults, before any) and makes short-lived garbage while the event loop turns (as a
// server does), printing "PHASE <mode>" before each, so the test can tell which young-generation
// collections V8's scavenge task started ("task" in the trace) under which mode.
import { applyHeapMode, type HeapMode } from '../../server/heap-mode.js';

async function churn(): Promise<number> {
  let made = 0;
  for (let turn = 0; turn < 300; turn++) {
    for (let i = 0; i < 5000; i++) made += [i, { i }, `x${i}`].length;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return made;
}

for (const mode of process.argv.slice(2) as Array<HeapMode | 'none'>) {
  if (mode !== 'none') applyHeapMode(mode);
  console.log(`PHASE ${mode}`);
  await churn();
}
