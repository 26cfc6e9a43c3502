// What follows the store's byte budget: the heap mode (server/heap-mode.ts), lean under a small
// one, as the `mailpen` command says when it starts, and the caches' bounds
// (server/store/cache-bounds.ts). What they save is measured by the benchmark (bench/run.ts soak),
// not here.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { heapModeFor, LEAN_HEAP_MAX_BUDGET } from '../server/heap-mode.js';
import { loadConfig } from '../server/config.js';
import { cacheBytesFor } from '../server/store/cache-bounds.js';
import { startChildServer } from './helpers/child-server.js';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Young-generation collections of test/helpers/heap-churn.ts under `mode`, by what started them. */
function scavenges(mode: string): { mode: string; task: number; full: number } {
  const script = fileURLToPath(new URL('./helpers/heap-churn.ts', import.meta.url));
  const out = execFileSync(process.execPath, ['--trace-gc', '--import', 'tsx', script, mode], { encoding: 'utf8', timeout: 60_000 });
  const lines = out.split('\n').filter((line) => line.includes('Scavenge'));
  const task = lines.filter((line) => line.includes(' task;')).length;
  return { mode, task, full: lines.length - task };
}

describe('a small byte budget', () => {
  it('makes the heap lean up to 128 MB; a larger budget or none keeps it fast', () => {
    assert.equal(LEAN_HEAP_MAX_BUDGET, 128 * 1024 * 1024);
    assert.equal(heapModeFor(64 * 1024 * 1024), 'lean');
    assert.equal(heapModeFor(LEAN_HEAP_MAX_BUDGET), 'lean');
    assert.equal(heapModeFor(LEAN_HEAP_MAX_BUDGET + 1), 'fast');
    assert.equal(heapModeFor(0), 'fast', 'no limit');
    assert.equal(heapModeFor(loadConfig([], {}).maxBytes), 'fast', 'the default budget (512 MB)');
  });

  it('has the mailpen command say its heap mode in the "listening" log line', async () => {
    for (const [args, mode] of [[['--max-bytes', '64MB'], 'lean'], [[], 'fast']] as const) {
      const server = await startChildServer([...args]);
      try {
        assert.equal(server.listening.heap, mode, `mailpen ${args.join(' ')}`);
      } finally {
        await server.stop();
      }
    }
  });

  it('has either heap mode collect the young generation when it is full, where V8 by itself starts most collections from its scavenge task', () => {
    const phases = ['none', 'lean', 'fast'].map(scavenges);
    const all = JSON.stringify(phases);
    for (const p of phases) assert.ok(p.task + p.full >= 40, `enough young collections under ${p.mode}: ${all}`);
    // The few while tsx loads, before the mode is applied, come from the task in every child.
    const fromTask = (p: { task: number; full: number }): number => p.task / (p.task + p.full);
    assert.ok(fromTask(phases[0]!) > 0.6, `mostly from the task with V8's defaults: ${all}`);
    assert.ok(fromTask(phases[1]!) < 0.25, `hardly any from the task under lean: ${all}`);
    assert.ok(fromTask(phases[2]!) < 0.25, `hardly any from the task under fast: ${all}`);
  });

  it('bounds each cache to a sixteenth of the budget, between 2 MB and 16 MB (16 MB without a budget)', () => {
    const MB = 1024 * 1024;
    assert.equal(cacheBytesFor(64 * MB), 4 * MB);
    assert.equal(cacheBytesFor(loadConfig([], {}).maxBytes), 16 * MB, 'the default budget (512 MB)');
    assert.equal(cacheBytesFor(0), 16 * MB, 'no limit');
    assert.equal(cacheBytesFor(1 * MB), 2 * MB, 'a tiny budget still caches a few messages');
  });
});
