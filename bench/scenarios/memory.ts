// Scenario 3: 100,000 messages of 2 KB stored, in a process of their own: RSS and heap after a
// full collection, and what each message costs beyond its raw bytes. Then the read mix a team's
// tests and UI put on it (issue 16): 1,000 message views, 100 searches of every form, 100 raw
// downloads, and RSS again: parse workers, parse caches and search structures must not take
// back what the store saved.
import { Target } from '../targets.js';
import { sendPipelined } from '../smtp-load.js';
import { bodyToken, onWire, recipientOf, textMessage } from '../messages.js';
import { fmt, mb, type RunConfig, type ScenarioResult } from '../report.js';

export const MEMORY_TARGET_MB = 400;
export const READ_MIX_TARGET_MB = 450;

/** Every form of the search language, as the api scenario measures them; i varies the terms. */
function searchForms(count: number): Array<(i: number) => string> {
  return [
    (i) => `to:${recipientOf(i * 7)}`,
    (i) => bodyToken((i * 977) % count),
    () => '"has shipped"',
    () => '"Hello, order"',
    () => '-"has shipped"',
    (i) => `${bodyToken((i * 31) % count)} OR ${bodyToken((i * 37 + 1) % count)}`,
    (i) => `header:Message-ID:<${(i * 613) % count}.bench@shop.example>`,
    () => 'header:X-Nothing',
    () => 'header:Content-Type:text/plain',
    (i) => `from:noreply${i % 50}@shop.example`,
    (i) => `subject:"order ${(i * 389) % count} has"`,
    () => 'is:unread',
  ];
}

/** 1,000 views, 100 searches of each form, 100 raw downloads (a tenth of each with --small). */
async function readMix(http: number, count: number, small: boolean): Promise<{ views: number; searches: number; raws: number }> {
  const base = `http://127.0.0.1:${http}/api`;
  const scale = small ? 10 : 1;
  const get = async (path: string): Promise<void> => {
    const res = await fetch(`${base}${path}`);
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`GET ${path}: ${res.status}`);
  };
  const ids: string[] = [];
  for (let cursor: string | null = null; ids.length < 1000 / scale; ) {
    const res = await fetch(`${base}/messages?limit=1000${cursor ? `&cursor=${cursor}` : ''}`);
    const page = (await res.json()) as { messages: Array<{ id: string }>; next: string | null };
    ids.push(...page.messages.map((m) => m.id));
    cursor = page.next;
    if (!cursor) break;
  }
  // Spread over the store, not only the newest page.
  const stride = Math.max(1, Math.floor(ids.length / (1000 / scale)));
  let views = 0;
  for (let i = 0; i < ids.length && views < 1000 / scale; i += stride, views++) await get(`/messages/${ids[i]}`);
  let searches = 0;
  for (const form of searchForms(count)) {
    for (let i = 0; i < 100 / scale; i++, searches++) await get(`/messages?limit=50&q=${encodeURIComponent(form(i))}`);
  }
  let raws = 0;
  for (let i = 0; i < 100 / scale && i < ids.length; i++, raws++) await get(`/messages/${ids[(i * 7) % ids.length]}/raw`);
  return { views, searches, raws };
}

export async function memory(run: RunConfig): Promise<ScenarioResult> {
  const count = run.small ? 10_000 : 100_000;
  const target = await Target.start('mailpen', { maxMessages: 0, maxBytes: 0 });
  try {
    const before = (await target.memory(true)).memory;
    let raw = 0;
    // Sent in batches so the generator never holds 100,000 messages at once.
    const batch = 10_000;
    const t0 = performance.now();
    for (let start = 0; start < count; start += batch) {
      const messages = Array.from({ length: Math.min(batch, count - start) }, (_, k) => {
        const m = textMessage(start + k);
        raw += m.length;
        return onWire(m);
      });
      const result = await sendPipelined({ port: target.smtp, messages, connections: 8 });
      if (result.accepted !== messages.length) throw new Error(`${result.accepted} of ${messages.length} accepted`);
    }
    const ingestSeconds = (performance.now() - t0) / 1000;
    const settledMs = await target.settled();
    const { memory: after, stored } = await target.memory(true);
    const perMessage = (after.rss - before.rss - raw) / count;
    run.log(`memory: ${count} stored in ${fmt(ingestSeconds)} s, settled ${fmt(settledMs, 0)} ms later; rss ${fmt(mb(after.rss))} MB`);
    const t1 = performance.now();
    const mix = await readMix(target.http!, count, run.small);
    const readSeconds = (performance.now() - t1) / 1000;
    const { memory: read } = await target.memory(true);
    run.log(`memory: read mix (${mix.views} views, ${mix.searches} searches, ${mix.raws} raw) in ${fmt(readSeconds)} s; rss ${fmt(mb(read.rss))} MB, peak ${fmt(mb(read.peakRss))} MB`);
    // The target is set for 100,000 messages; a small run only reports.
    const full = count === 100_000;
    return {
      rows: [
        { scenario: `memory ${count / 1000}k × 2 KB`, figure: 'RSS', value: `${fmt(mb(after.rss))} MB`, target: full ? `≤ ${MEMORY_TARGET_MB} MB` : '', met: full ? mb(after.rss) <= MEMORY_TARGET_MB : null },
        { scenario: `memory ${count / 1000}k × 2 KB`, figure: 'RSS after the read mix', value: `${fmt(mb(read.rss))} MB`, target: full ? `≤ ${READ_MIX_TARGET_MB} MB` : '', met: full ? mb(read.rss) <= READ_MIX_TARGET_MB : null },
        { scenario: `memory ${count / 1000}k × 2 KB`, figure: 'peak RSS, ingest and read mix (VmHWM)', value: `${fmt(mb(read.peakRss))} MB`, target: '', met: null },
        { scenario: `memory ${count / 1000}k × 2 KB`, figure: 'RSS at start, empty', value: `${fmt(mb(before.rss))} MB`, target: '', met: null },
        { scenario: `memory ${count / 1000}k × 2 KB`, figure: 'heap used', value: `${fmt(mb(after.heapUsed))} MB`, target: '', met: null },
        { scenario: `memory ${count / 1000}k × 2 KB`, figure: 'raw bytes held', value: `${fmt(mb(raw))} MB`, target: '', met: null },
        { scenario: `memory ${count / 1000}k × 2 KB`, figure: 'RSS per message beyond raw', value: `${fmt(perMessage, 0)} B`, target: '', met: null },
      ],
      figures: { count, stored, rawBytes: raw, before, after, perMessageBeyondRaw: perMessage, ingestSeconds, settledMs, readMix: { ...mix, seconds: readSeconds, memory: read } },
    };
  } finally {
    await target.stop();
  }
}
