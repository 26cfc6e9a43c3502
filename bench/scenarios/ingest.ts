// Scenario 1: 2 KB messages over 8 pipelined connections, Mailpen against a bare smtp-server
// sink and MailDev 3, side by side: rounds alternate between the servers so that a machine
// that gets busier part-way slows all of them alike, and each figure is its best round.
import WebSocket from 'ws';
import { Target, maildevDir, type TargetKind } from '../targets.js';
import { sendPipelined } from '../smtp-load.js';
import { onWire, textMessage } from '../messages.js';
import { fmt, type RunConfig, type ScenarioResult } from '../report.js';

export async function ingest(run: RunConfig): Promise<ScenarioResult> {
  const count = run.small ? 2000 : 20_000;
  const rounds = run.small ? 1 : 3;
  const messages = Array.from({ length: count }, (_, i) => onWire(textMessage(i)));
  const dir = maildevDir();
  // 'mailpen+ui': the same with one event-stream client (an open inbox tab), which has every
  // message summarized as it arrives.
  type Kind = TargetKind | 'mailpen+ui';
  const kinds: Kind[] = ['sink', 'mailpen', 'mailpen+ui', ...(dir ? (['maildev'] as const) : [])];
  const best: Partial<Record<Kind, number>> = {};
  const all: Record<string, number[]> = {};
  for (let r = 0; r < rounds; r++) {
    for (const kind of kinds) {
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
  const sink = best.sink!;
  const mailpen = best.mailpen!;
  const maildev = best.maildev;
  const rows = [
    { scenario: 'ingest 2 KB', figure: 'bare smtp-server sink', value: `${fmt(sink, 0)} msg/s`, target: '', met: null },
    { scenario: 'ingest 2 KB', figure: 'Mailpen', value: `${fmt(mailpen, 0)} msg/s`, target: '', met: null },
    { scenario: 'ingest 2 KB', figure: 'Mailpen / sink', value: fmt(mailpen / sink, 2), target: '≥ 0.7', met: mailpen / sink >= 0.7 },
    { scenario: 'ingest 2 KB', figure: 'Mailpen, inbox tab open / sink', value: fmt(best['mailpen+ui']! / sink, 2), target: '', met: null },
    maildev === undefined
      ? { scenario: 'ingest 2 KB', figure: 'Mailpen / MailDev 3', value: 'MailDev not installed', target: '≥ 3', met: null }
      : { scenario: 'ingest 2 KB', figure: 'MailDev 3', value: `${fmt(maildev, 0)} msg/s`, target: '', met: null },
    ...(maildev === undefined ? [] : [{ scenario: 'ingest 2 KB', figure: 'Mailpen / MailDev 3', value: fmt(mailpen / maildev, 2), target: '≥ 3', met: mailpen / maildev >= 3 }]),
  ];
  return { rows, figures: { count, connections: 8, messageBytes: 2048, rounds: all, best, ratioToSink: mailpen / sink, ratioToMailDev: maildev ? mailpen / maildev : null } };
}
