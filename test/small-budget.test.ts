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

  it('bounds each cache to a sixteenth of the budget, between 2 MB and 16 MB (16 MB without a budget)', () => {
    const MB = 1024 * 1024;
    assert.equal(cacheBytesFor(64 * MB), 4 * MB);
    assert.equal(cacheBytesFor(loadConfig([], {}).maxBytes), 16 * MB, 'the default budget (512 MB)');
    assert.equal(cacheBytesFor(0), 16 * MB, 'no limit');
    assert.equal(cacheBytesFor(1 * MB), 2 * MB, 'a tiny budget still caches a few messages');
  });
});
