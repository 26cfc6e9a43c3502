// A Mailpen holding N generated 2 KB messages, shared by the scenarios that need a full store
// in one run (api, ui), since filling it takes most of a minute at 100,000.
import { Target } from './targets.js';
import { sendPipelined } from './smtp-load.js';
import { onWire, textMessage } from './messages.js';

export interface Loaded {
  target: Target;
  count: number;
  /** performance.now() when the last message was acknowledged. */
  ingestEndedAt: number;
  ingestSeconds: number;
}

let shared: Promise<Loaded> | null = null;
let sharedCount = 0;

export async function fill(target: Target, count: number): Promise<number> {
  const batch = 10_000;
  for (let start = 0; start < count; start += batch) {
    const messages = Array.from({ length: Math.min(batch, count - start) }, (_, k) => onWire(textMessage(start + k)));
    const result = await sendPipelined({ port: target.smtp, messages, connections: 8 });
    if (result.accepted !== messages.length) throw new Error(`${result.accepted} of ${messages.length} accepted`);
  }
  return performance.now();
}

export function loadedMailpen(count: number): Promise<Loaded> {
  if (shared && sharedCount === count) return shared;
  sharedCount = count;
  shared = (async () => {
    const target = await Target.start('mailpen', { maxMessages: 0, maxBytes: 0 });
    const t0 = performance.now();
    const ingestEndedAt = await fill(target, count);
    return { target, count, ingestEndedAt, ingestSeconds: (ingestEndedAt - t0) / 1000 };
  })();
  return shared;
}

export async function releaseLoaded(): Promise<void> {
  if (!shared) return;
  const { target } = await shared;
  shared = null;
  await target.stop();
}
