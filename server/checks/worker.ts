// The check worker: the HTML compatibility check and the lint run here, off the event loop, so that
// a huge or hostile HTML body costs this thread's time and never the server's. The main thread
// (server/checks/index.ts) terminates it past a hard limit; within it, the HTML check gives up by
// itself at its own deadline and the lint still answers.
import { parentPort } from 'node:worker_threads';
import { checkHtml, GaveUp } from './html.js';
import { lintMessage } from './lint.js';
import type { CheckRequest, CheckResponse, HtmlPart, LintPart, WorkerReady } from './index.js';

const port = parentPort;
if (!port) throw new Error('server/checks/worker.ts runs as a worker thread only');

port.on('message', (request: CheckRequest) => {
  const raw = Buffer.from(request.raw.buffer, request.raw.byteOffset, request.raw.byteLength);
  const response: CheckResponse = { html: html(request), lint: lint(raw, request.html) };
  port.postMessage(response);
});

function html(request: CheckRequest): HtmlPart {
  if (request.html === null) return { status: 'none', reason: 'the message has no HTML body' };
  const started = Date.now();
  try {
    return checkHtml(request.html, started + request.htmlTimeoutMs);
  } catch (err) {
    if (err instanceof GaveUp) {
      return { status: 'gave-up', reason: `the HTML (${Math.round(request.html.length / 1024)} KB) took longer than ${request.htmlTimeoutMs / 1000} s to check; gave up` };
    }
    return { status: 'gave-up', reason: `the HTML could not be checked (${err instanceof Error ? err.message : String(err)})` };
  }
}

function lint(raw: Buffer, htmlBody: string | null): LintPart {
  try {
    return lintMessage({ raw, html: htmlBody });
  } catch (err) {
    return { status: 'gave-up', reason: `the lint failed (${err instanceof Error ? err.message : String(err)})` };
  }
}

const ready: WorkerReady = { ready: true };
port.postMessage(ready);
