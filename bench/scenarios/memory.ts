// Scenario 3: 100,000 messages of 2 KB stored, in a process of their own: RSS and heap after a
// full collection, and what each message costs beyond its raw bytes.
import { Target } from '../targets.js';
import { sendPipelined } from '../smtp-load.js';
import { onWire, textMessage } from '../messages.js';
import { fmt, mb, type RunConfig, type ScenarioResult } from '../report.js';

export const MEMORY_TARGET_MB = 400;

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
    // The target is set for 100,000 messages; a small run only reports.
    const full = count === 100_000;
    return {
      rows: [
        { scenario: `memory ${count / 1000}k × 2 KB`, figure: 'RSS', value: `${fmt(mb(after.rss))} MB`, target: full ? `≤ ${MEMORY_TARGET_MB} MB` : '', met: full ? mb(after.rss) <= MEMORY_TARGET_MB : null },
        { scenario: `memory ${count / 1000}k × 2 KB`, figure: 'RSS at start, empty', value: `${fmt(mb(before.rss))} MB`, target: '', met: null },
        { scenario: `memory ${count / 1000}k × 2 KB`, figure: 'heap used', value: `${fmt(mb(after.heapUsed))} MB`, target: '', met: null },
        { scenario: `memory ${count / 1000}k × 2 KB`, figure: 'raw bytes held', value: `${fmt(mb(raw))} MB`, target: '', met: null },
        { scenario: `memory ${count / 1000}k × 2 KB`, figure: 'RSS per message beyond raw', value: `${fmt(perMessage, 0)} B`, target: '', met: null },
      ],
      figures: { count, stored, rawBytes: raw, before, after, perMessageBeyondRaw: perMessage, ingestSeconds, settledMs },
    };
  } finally {
    await target.stop();
  }
}
