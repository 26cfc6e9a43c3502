// Scenario 2: large messages with attachments. Throughput (MB/s) for 200 × 1 MB over 8
// connections and 20 × 10 MB over one, side by side with the bare sink; and for each 10 MB
// message, how far the server's RSS peak rose above its RSS before the message, against the
// message size (VmHWM, reset before each message, so a transient copy is seen too).
import { Target, type TargetKind } from '../targets.js';
import { sendPipelined } from '../smtp-load.js';
import { messageWithAttachment, onWire } from '../messages.js';
import { fmt, mb, type RunConfig, type ScenarioResult } from '../report.js';

const MiB = 1024 * 1024;

export async function large(run: RunConfig): Promise<ScenarioResult> {
  const oneMb = Array.from({ length: run.small ? 20 : 200 }, (_, i) => onWire(messageWithAttachment(i, MiB)));
  const tenMb = Array.from({ length: run.small ? 3 : 20 }, (_, i) => onWire(messageWithAttachment(1000 + i, 10 * MiB)));
  const figures: Record<string, unknown> = {};
  const rows = [];
  const throughput: Partial<Record<TargetKind, { oneMb: number; tenMb: number }>> = {};
  let growth: number[] = [];
  for (const kind of ['sink', 'mailpen'] as const) {
    const target = await Target.start(kind, { maxMessages: 0, maxBytes: 0 });
    try {
      const a = await sendPipelined({ port: target.smtp, messages: oneMb, connections: 8 });
      if (a.accepted !== oneMb.length) throw new Error(`${kind}: ${a.accepted} of ${oneMb.length} 1 MB messages accepted`);
      let bytes = 0;
      let seconds = 0;
      const ratios: number[] = [];
      for (const message of tenMb) {
        // One at a time, so each peak belongs to one message.
        await target.memory(true);
        const canReset = await target.resetPeak();
        const before = (await target.memory()).memory;
        const r = await sendPipelined({ port: target.smtp, messages: [message], connections: 1 });
        if (r.accepted !== 1) throw new Error(`${kind}: a 10 MB message was refused`);
        const after = (await target.memory()).memory;
        bytes += r.bytes;
        seconds += r.seconds;
        if (canReset) ratios.push((after.peakRss - before.rss) / message.length);
      }
      throughput[kind] = { oneMb: mb(a.bytes) / a.seconds, tenMb: mb(bytes) / seconds };
      if (kind === 'mailpen') growth = ratios;
      figures[kind] = { ...throughput[kind], peakGrowthRatios: ratios };
      run.log(`large ${kind}: 1 MB ${fmt(throughput[kind]!.oneMb)} MB/s, 10 MB ${fmt(throughput[kind]!.tenMb)} MB/s, peak ratios ${ratios.map((x) => fmt(x, 2)).join(' ')}`);
    } finally {
      await target.stop();
    }
  }
  const s = throughput.sink!;
  const m = throughput.mailpen!;
  const worst = growth.length > 0 ? Math.max(...growth) : NaN;
  const median = growth.length > 0 ? [...growth].sort((x, y) => x - y)[Math.floor(growth.length / 2)]! : NaN;
  rows.push(
    { scenario: 'large messages', figure: '1 MB × 8 conns: Mailpen (sink)', value: `${fmt(m.oneMb)} (${fmt(s.oneMb)}) MB/s`, target: '', met: null },
    { scenario: 'large messages', figure: '10 MB × 1 conn: Mailpen (sink)', value: `${fmt(m.tenMb)} (${fmt(s.tenMb)}) MB/s`, target: '', met: null },
    { scenario: 'large messages', figure: 'peak RSS growth / size, 10 MB, worst', value: fmt(worst, 2), target: '≤ 3', met: Number.isFinite(worst) ? worst <= 3 : null },
    { scenario: 'large messages', figure: 'peak RSS growth / size, 10 MB, median', value: fmt(median, 2), target: '', met: null },
  );
  return { rows, figures };
}
