// Scenario 1: 2 KB messages over 8 pipelined connections, Mailpen against a bare smtp-server
// sink and MailDev 3, side by side. Each round runs every server once, back to back, in an order
// that flips every round; a ratio is taken within each round, so a machine that gets busier
// part-way (others' builds and tests) slows both sides of it alike, and the median round's ratio
// is the figure. The rates shown are each server's best round.
//
// 'mailpen+tabs': Mailpen with 5 inbox tabs open (event-stream clients connected as the UI is,
// in a worker thread: bench/event-tabs.mjs), each of which is sent every arrival: the newest page
// of each frame with its rows, the others as references.
//
// 'mailpen+lean': Mailpen with a 64 MB byte budget, under which its heap is lean (server/heap-mode.ts:
// V8 optimizes for size), against the same sink: the speed a small budget costs.
import { Worker } from 'node:worker_threads';
import { Target, maildevDir, type TargetKind } from '../targets.js';
import { sendPipelined } from '../smtp-load.js';
import { onWire, textMessage } from '../messages.js';
import { fmt, type RunConfig, type ScenarioResult } from '../report.js';

/** Inbox tabs open in the 'mailpen+tabs' rounds (issue 16: 5 UI tabs while load-testing). */
const TABS = 5;
export const TAB_TARGET = 0.85;
/** What the UI asks for a frame (ui/src/lib/inbox.svelte.ts FIRST_PAGE): a page of rows, the rest as references. */
const UI_ROWS = 50;
export const SINK_TARGET = 0.9;
/** The lean rounds' budget: 20,000 × 2 KB fit in it, so nothing is evicted. */
const LEAN_BUDGET = 64 * 1024 * 1024;

/** TABS event-stream clients in a worker; stop() closes them and says how many events each got. */
async function openTabs(http: number): Promise<{ stop(): Promise<number> }> {
  const worker = new Worker(new URL('../event-tabs.mjs', import.meta.url), {
    workerData: { url: `ws://127.0.0.1:${http}/api/events?format=mailpen&batch=1&rows=${UI_ROWS}`, tabs: TABS },
  });
  await new Promise((resolve, reject) => worker.once('message', resolve).once('error', reject));
  return {
    async stop() {
      const done = new Promise<{ events: number }>((resolve) => worker.once('message', resolve));
      worker.postMessage('stop');
      const { events } = await done;
      await worker.terminate();
      return events;
    },
  };
}

export async function ingest(run: RunConfig): Promise<ScenarioResult> {
  const count = run.small ? 2000 : 20_000;
  const rounds = run.small ? 1 : 5;
  const messages = Array.from({ length: count }, (_, i) => onWire(textMessage(i)));
  const dir = maildevDir();
  type Kind = TargetKind | 'mailpen+tabs' | 'mailpen+lean';
  const kinds: Kind[] = ['sink', 'mailpen', 'mailpen+tabs', 'mailpen+lean', ...(dir ? (['maildev'] as const) : [])];
  const best: Partial<Record<Kind, number>> = {};
  const all: Record<string, number[]> = {};
  for (let r = 0; r < rounds; r++) {
    for (const kind of r % 2 === 0 ? kinds : [...kinds].reverse()) {
      const target = await Target.start(kind === 'mailpen+tabs' || kind === 'mailpen+lean' ? 'mailpen' : kind, {
        maildevDir: dir ?? undefined,
        maxMessages: 0,
        maxBytes: kind === 'mailpen+lean' ? LEAN_BUDGET : 0,
      });
      const tabs = kind === 'mailpen+tabs' ? await openTabs(target.http!) : null;
      try {
        const result = await sendPipelined({ port: target.smtp, messages, connections: 8 });
        if (result.accepted !== count) throw new Error(`${kind}: ${result.accepted} of ${count} accepted`);
        run.log(`ingest round ${r + 1} ${kind}: ${fmt(result.perSecond, 0)} msg/s`);
        (all[kind] ??= []).push(result.perSecond);
        best[kind] = Math.max(best[kind] ?? 0, result.perSecond);
        if (tabs) {
          // Every added event is sent within a turn of its 250; give the tabs time to read them.
          await new Promise((resolve) => setTimeout(resolve, 500));
          const events = await tabs.stop();
          if (events < count) throw new Error(`each event-stream client got ${events} events for ${count} messages`);
        }
      } finally {
        await target.stop();
      }
    }
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const ratio = (kind: Kind, base: Kind): number | undefined =>
    all[base] && all[kind] ? median(all[kind].map((v, i) => v / all[base]![i]!)) : undefined;
  const toSink = ratio('mailpen', 'sink')!;
  const tabsToNone = ratio('mailpen+tabs', 'mailpen')!;
  const leanToSink = ratio('mailpen+lean', 'sink')!;
  const toMailDev = ratio('mailpen', 'maildev');
  const perRound = (kind: Kind, base: Kind): string => (all[kind] ?? []).map((v, i) => fmt(v / all[base]![i]!, 2)).join(' ');
  const scenario = 'ingest 2 KB';
  const rows = [
    { scenario, figure: 'bare smtp-server sink, best round', value: `${fmt(best.sink!, 0)} msg/s`, target: '', met: null },
    { scenario, figure: 'Mailpen, best round', value: `${fmt(best.mailpen!, 0)} msg/s`, target: '', met: null },
    { scenario, figure: `Mailpen / sink, median of ${rounds} rounds`, value: fmt(toSink, 2), target: `≥ ${SINK_TARGET}`, met: toSink >= SINK_TARGET },
    { scenario, figure: 'Mailpen / sink, each round', value: perRound('mailpen', 'sink'), target: '', met: null },
    { scenario, figure: `Mailpen with a ${LEAN_BUDGET / 1024 / 1024} MB budget (lean heap) / sink, median`, value: fmt(leanToSink, 2), target: `≥ ${SINK_TARGET}`, met: leanToSink >= SINK_TARGET },
    { scenario, figure: 'Mailpen, lean heap / sink, each round', value: perRound('mailpen+lean', 'sink'), target: '', met: null },
    { scenario, figure: `Mailpen, ${TABS} inbox tabs open / none, median`, value: fmt(tabsToNone, 2), target: `≥ ${TAB_TARGET}`, met: tabsToNone >= TAB_TARGET },
    { scenario, figure: `Mailpen, ${TABS} tabs / none, each round`, value: perRound('mailpen+tabs', 'mailpen'), target: '', met: null },
    ...(toMailDev === undefined
      ? [{ scenario, figure: 'Mailpen / MailDev 3', value: 'MailDev not installed', target: '≥ 3', met: null }]
      : [
          { scenario, figure: 'MailDev 3, best round', value: `${fmt(best.maildev!, 0)} msg/s`, target: '', met: null },
          { scenario, figure: 'Mailpen / MailDev 3, median', value: fmt(toMailDev, 2), target: '≥ 3', met: toMailDev >= 3 },
        ]),
  ];
  return { rows, figures: { count, connections: 8, messageBytes: 2048, rounds: all, best, ratioToSink: toSink, tabs: TABS, ratioTabsToNone: tabsToNone, ratioLeanToSink: leanToSink, ratioToMailDev: toMailDev ?? null } };
}
