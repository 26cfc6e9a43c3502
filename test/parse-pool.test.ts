// mailparser runs in worker threads: a message that takes it seconds must not stall the event
// loop, a parse past the time limit ends shown raw with the reason, and the
// pool keeps working afterwards. The slow messages here are real mailparser hot spots, measured:
// a wide HTML table (html-to-text) and a large plain body.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { ParsePool } from '../server/mail/parse-pool.js';
import { fullParse } from '../server/mail/full-parse.js';
import { loadCorpus } from './helpers/corpus.js';
import { startTestServer } from './helpers/server.js';
import { sendRaw, queuedId } from './helpers/smtp-client.js';

/** ~1.5 MB of table cells: about 2.5 s of html-to-text on this machine. */
function wideTable(rows = 1500): Buffer {
  const row = '<tr>' + '<td>x</td>'.repeat(100) + '</tr>';
  return Buffer.from(`Subject: wide table\r\nContent-Type: text/html\r\n\r\n<table>${row.repeat(rows)}</table>\r\n`);
}

/** Measures the longest gap between ticks of a 10 ms interval while `work` runs. */
async function longestStall<T>(work: () => Promise<T>): Promise<{ result: T; stallMs: number }> {
  let last = performance.now();
  let stallMs = 0;
  const tick = setInterval(() => {
    const now = performance.now();
    stallMs = Math.max(stallMs, now - last);
    last = now;
  }, 10);
  try {
    const result = await work();
    return { result, stallMs };
  } finally {
    clearInterval(tick);
  }
}

describe('parse pool', () => {
  const pools: ParsePool[] = [];
  const pool = (options: ConstructorParameters<typeof ParsePool>[0]): ParsePool => {
    const p = new ParsePool(options);
    pools.push(p);
    return p;
  };
  after(() => Promise.all(pools.map((p) => p.close())));

  it('gives the same parse as mailparser on the main thread', async () => {
    const p = pool({ workers: 2, timeoutMs: 5000 });
    const sample = loadCorpus().filter((_, i) => i % 25 === 0);
    assert.ok(sample.length >= 15);
    for (const m of sample) {
      const [inWorker, direct] = await Promise.all([p.parse(m.raw), fullParse(m.raw)]);
      assert.deepEqual(inWorker.message, direct.message, m.name);
      assert.deepEqual([...inWorker.contents.keys()], [...direct.contents.keys()], m.name);
      for (const [id, bytes] of direct.contents) assert.ok(inWorker.contents.get(id)!.equals(bytes), `${m.name} part ${id}`);
    }
  });

  it('replaces a worker after its parses, or once its heap has grown, without losing a parse', async () => {
    const sample = loadCorpus().filter((_, i) => i % 40 === 0);
    const expected = await Promise.all(sample.map((m) => fullParse(m.raw)));
    for (const options of [{ recycleAfter: 2 }, { recycleHeapBytes: 1 }]) {
      const p = pool({ workers: 2, timeoutMs: 10_000, ...options });
      // All at once: queued jobs wait for a replacement while the old worker is retired.
      const parsed = await Promise.all(sample.map((m) => p.parse(m.raw)));
      parsed.forEach((got, i) => assert.deepEqual(got.message, expected[i]!.message, sample[i]!.name));
      assert.ok(p.started >= Math.ceil(sample.length / 2), `${JSON.stringify(options)}: ${p.started} workers for ${sample.length} parses`);
    }
  });

  it('keeps the event loop free while a slow message parses', async () => {
    const p = pool({ workers: 1, timeoutMs: 30_000 });
    const raw = wideTable();
    const started = performance.now();
    const { result, stallMs } = await longestStall(() => p.parse(raw));
    const parseMs = performance.now() - started;
    assert.ok(result.message.html?.startsWith('<table>'), 'parsed for real');
    // On the main thread the stall would be the whole parse (2.5 s alone). Relative to the parse,
    // so a machine busy with other tests slows both sides alike.
    assert.ok(stallMs < parseMs / 3, `event loop stalled ${Math.round(stallMs)} ms of a ${Math.round(parseMs)} ms parse`);
  });

  it('shows a message raw, with the reason, when parsing passes the time limit, and parses the next one', async () => {
    const p = pool({ workers: 1, timeoutMs: 300 });
    // No clock here: a parse that was not abandoned would have its HTML (it takes 2.5 s alone).
    const slow = await p.parse(wideTable());
    assert.equal(slow.message.html, null);
    assert.ok(slow.message.problems.some((x) => /longer than 0\.3 s; shown raw/.test(x)), slow.message.problems.join('; '));
    assert.ok(slow.message.text?.startsWith('<table><tr><td>x</td>'), 'the raw body is shown as text');
    assert.deepEqual(slow.message.headers, [{ name: 'Subject', value: 'wide table' }, { name: 'Content-Type', value: 'text/html' }]);
    const next = await p.parse(Buffer.from('Subject: after\r\n\r\nstill here\r\n'));
    assert.equal(next.message.text?.trim(), 'still here');
    assert.deepEqual(next.message.problems, []);
  });

  it('queues beyond its worker count and answers every parse', async () => {
    const p = pool({ workers: 2, timeoutMs: 5000 });
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => p.parse(Buffer.from(`Subject: n${i}\r\n\r\nbody ${i}\r\n`))));
    results.forEach((r, i) => assert.equal(r.message.text?.trim(), `body ${i}`));
    assert.ok(p.size <= 2);
  });
});

describe('a slow message through the real server', () => {
  it('does not delay other clients while its HTML is being parsed', async () => {
    // A time limit far above the parse (2.5 s alone, more on a busy machine): this is about the
    // event loop staying free, not about the limit.
    const server = await startTestServer({ parseTimeout: 60_000 });
    try {
      const id = queuedId(await sendRaw(server.smtpPort, wideTable()));
      let htmlAnswered = 0;
      // The HTML request has reached the server (and the parser, a turn later) before health is asked.
      const arrived = new Promise<void>((resolve) => server.app.server.once('request', () => setImmediate(resolve)));
      const html = fetch(`${server.httpUrl}/api/messages/${id}/html`).then((r) => {
        htmlAnswered = performance.now();
        return r;
      });
      await arrived;
      const health = await fetch(`${server.httpUrl}/healthz`);
      const healthAnswered = performance.now();
      assert.equal(health.status, 200);
      const res = await html;
      assert.equal(res.status, 200);
      const body = await res.text();
      assert.ok(body.includes('<table><tr><td>x</td>'), `the HTML view: ${body.slice(0, 80)}`);
      // Had the parse held the event loop, /healthz would have been answered with the HTML, or after it.
      assert.ok(healthAnswered < htmlAnswered - 500, `/healthz answered ${Math.round(htmlAnswered - healthAnswered)} ms before the parsed HTML`);
    } finally {
      await server.close();
    }
  });
});
