// A parse worker: receives one raw message at a time, answers with the full parse. A message
// that makes mailparser spin is this thread's problem, not the event loop's; the pool
// (server/mail/parse-pool.ts) terminates it past the time limit.
import { parentPort } from 'node:worker_threads';
import { getHeapStatistics } from 'node:v8';
import { fullParse } from './full-parse.js';
import type { ParseRequest, ParseResponse, WorkerMessage } from './parse-pool.js';

const port = parentPort;
if (!port) throw new Error('parse-worker.ts runs as a worker thread only');

port.on('message', (request: ParseRequest) => {
  const raw = Buffer.from(request.raw.buffer, request.raw.byteOffset, request.raw.byteLength);
  fullParse(raw).then(
    (parsed) => {
      const response: ParseResponse = { ok: true, message: parsed.message, contents: [...parsed.contents], bytes: parsed.bytes, heapBytes: heapBytes() };
      port.postMessage(response);
    },
    (err: unknown) => {
      const response: ParseResponse = { ok: false, error: err instanceof Error ? err.message : String(err), heapBytes: heapBytes() };
      port.postMessage(response);
    },
  );
});

/** This thread's heap, committed: what it holds of the process's memory. */
function heapBytes(): number {
  const h = getHeapStatistics();
  return h.total_heap_size + h.external_memory;
}

const ready: WorkerMessage = { ready: true };
port.postMessage(ready);
