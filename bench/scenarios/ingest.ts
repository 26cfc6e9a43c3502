// Scenario 1: 2 KB messages over 8 pipelined connections, Mailpen against a bare smtp-server
// sink and MailDev 3, side by side. Each round runs every server once, back to back, in an order
// that flips every round; a ratio is taken within each round, so a machine that gets busier
// part-way (others' builds and tests) slows both sides of it alike, and the median round's ratio
// is the figure. The rates shown are each server's best round.
import WebSocket from 'ws';
import { Target, maildevDir, type TargetKind } from '../targets.js';
import { sendPipelined } from '../smtp-load.js';
import { onWire, textMessage } from '../messages.js';
import { fmt, type RunConfig, type ScenarioResult } from '../report.js';

export async function ingest(run: RunConfig): Promise<ScenarioResult> {
  const count = run.small ? 2000 : 20_000;
  const rounds = run.small ? 1 : 5;
  const messages = Array.from({ length: count }, (_, i) => onWire(textMessage(i)));
  const dir = maildevDir();
  // 'mailpen+ui': the same with one event-stream client (an open inbox tab), which has every
  // message summarized as it arrives.
  type Kind = TargetKind | 'mailpen+ui';
  const kinds: Kind[] = ['sink', 'mailpen', 'mailpen+ui', ...(dir ? (['maildev'] as const) : [])];
  const best: Partial<Record<Kind, number>> = {};
  const all: Record<string, number[]> = {};
  for (let r = 0; r < rounds; r++) {
    for (const kind of r % 2 === 0 ? kinds : [...kinds].reverse()) {
      const target = await Target.start(kind === 'mailpen+ui' ? 'mailpen' : kind, { maildevDir: dir ?? undefined, maxMessages: 0, maxBytes: 0 });
      let tab: WebSocket | null = null;
      let events = 0;
      if (kind === 'mailpen+ui') {
        tab = new WebSocket(`ws://127.0.0.1:${target.http}/api/events`);
        tab.on('message', () => events++);
        await new Promise((resolve, reject) => tab!.once('message', resolve).once('error', reject));
      }
      try {
        const result = await sendPipelined({ port: target.smtp, messages, connections: 8 });
        if (result.accepted !== count) throw new Error(`${kind}: ${result.accepted} of ${count} accepted`);
        run.log(`ingest round ${r + 1} ${kind}: ${fmt(result.perSecond, 0)} msg/s`);
        (all[kind] ??= []).push(result.perSecond);
        best[kind] = Math.max(best[kind] ?? 0, result.perSecond);
        if (tab && events < count / 2) throw new Error(`the event-stream client got ${events} events for ${count} messages`);
      } finally {
        tab?.terminate();
        await target.stop();
      }
    }
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const ratio = (kind: Kind, base: Kind): number | undefined =>
    all[base] && all[kind] ? median(all[kind].map((v, i) => v / all[base]![i]!)) : undefined;
  const toSink = ratio('mailpen', 'sink')!;
  const tabToSink = ratio('mailpen+ui', 'sink')!;
  const toMailDev = ratio('mailpen', 'maildev');
  const perRound = (kind: Kind, base: Kind): string => (all[kind] ?? []).map((v, i) => fmt(v / all[base]![i]!, 2)).join(' ');
  const scenario = 'ingest 2 KB';
  const rows = [
    { scenario, figure: 'bare smtp-server sink, best round', value: `${fmt(best.sink!, 0)} msg/s`, target: '', met: null },
    { scenario, figure: 'Mailpen, best round', value: `${fmt(best.mailpen!, 0)} msg/s`, target: '', met: null },
    { scenario, figure: `Mailpen / sink, median of ${rounds} rounds`, value: fmt(toSink, 2), target: '≥ 0.7', met: toSink >= 0.7 },
    { scenario, figure: 'Mailpen / sink, each round', value: perRound('mailpen', 'sink'), target: '', met: null },
    { scenario, figure: 'Mailpen, inbox tab open / sink, median', value: fmt(tabToSink, 2), target: '', met: null },
    ...(toMailDev === undefined
      ? [{ scenario, figure: 'Mailpen / MailDev 3', value: 'MailDev not installed', target: '≥ 3', met: null }]
      : [
          { scenario, figure: 'MailDev 3, best round', value: `${fmt(best.maildev!, 0)} msg/s`, target: '', met: null },
          { scenario, figure: 'Mailpen / MailDev 3, median', value: fmt(toMailDev, 2), target: '≥ 3', met: toMailDev >= 3 },
        ]),
  ];
  return { rows, figures: { count, connections: 8, messageBytes: 2048, rounds: all, best, ratioToSink: toSink, ratioTabToSink: tabToSink, ratioToMailDev: toMailDev ?? null } };
}
