// The million scenario (opt-in: `npm run bench -- million`, not in the default set nor CI; about
// 2 minutes on the 2-core machine, 119 to 131 s on 2026-11-30, and its table says its own time):
// 1,000,000 messages of 2 KB with the limits raised, in a process of its own. Does ingest slow as
// the store fills (the rate of the last 100,000 against the first 100,000), what RSS it ends at,
// and whether reading stays fast at that size: the list's first page, `to:`, free text, and in
// headless Chromium the first rows and a scrollbar jump. The server's CPU over the two windows
// (user and kernel) says where a slower last window went. MAILPEN_BENCH_MILLION_SINK=1 first
// sends the same million to a bare smtp-server sink, for a ratio to compare with.
// --small: 100,000 messages, the same figures without targets.
import { existsSync } from 'node:fs';
import { Target, type TargetCpu } from '../targets.js';
import { sendPipelined } from '../smtp-load.js';
import { bodyToken, onWire, recipientOf, textMessage } from '../messages.js';
import { fmt, mb, percentiles, type Row, type RunConfig, type ScenarioResult } from '../report.js';
import { launchBrowser, CHROMIUM } from '../../test/helpers/browser.js';

const BATCH = 10_000;
/** The rate is compared over this many messages at each end. */
const WINDOW = 100_000;
/** The UI's row height in pixels (bench/ui-jump.ts): scrollTop = index × ROW. */
const ROW_PX = 68;
const ROW = '[data-testid="message-list"] [role="option"]';

const TARGETS = { rateRatio: 0.8, rssMB: 3 * 1024, listMs: 10, toMs: 200, textMs: 500, firstRowsMs: 1000, jumpMs: 150 };

interface ListBody {
  total: number;
  messages: Array<{ id: string }>;
}

interface Ingest {
  batchSeconds: number[];
  firstRate: number;
  lastRate: number;
  ingestSeconds: number;
  firstCpu: TargetCpu;
  lastCpu: TargetCpu;
}

/**
 * Sends `count` messages in batches of BATCH, each timed: the rate over the first WINDOW messages
 * and over the last, and the target's CPU over each of the two windows, user and kernel apart (on
 * a VM a first touch of memory can cost the kernel twice as much late in a run, pages the host
 * must back again: kernel time, not time in the server's code).
 */
async function ingest(target: Target, count: number, run: RunConfig): Promise<Ingest> {
  const batchSeconds: number[] = [];
  const cpuAt: TargetCpu[] = [];
  for (let start = 0; start < count; start += BATCH) {
    const messages = Array.from({ length: Math.min(BATCH, count - start) }, (_, k) => onWire(textMessage(start + k)));
    if (start === 0 || start === count - WINDOW) cpuAt.push(await target.cpu());
    const result = await sendPipelined({ port: target.smtp, messages, connections: 8 });
    if (start + BATCH === WINDOW || start + BATCH >= count) cpuAt.push(await target.cpu());
    if (result.accepted !== messages.length) throw new Error(`${result.accepted} of ${messages.length} accepted at ${start}`);
    batchSeconds.push(result.seconds);
    if ((start + BATCH) % 100_000 === 0) run.log(`million (${target.kind}): ${start + BATCH} stored, ${fmt(BATCH / result.seconds, 0)} msg/s in the last batch`);
  }
  const windowBatches = WINDOW / BATCH;
  const rate = (batches: number[]): number => (batches.length * BATCH) / batches.reduce((a, b) => a + b, 0);
  const spent = (from: TargetCpu, to: TargetCpu): TargetCpu => ({
    userSeconds: to.userSeconds - from.userSeconds,
    systemSeconds: to.systemSeconds - from.systemSeconds,
    minorFaults: to.minorFaults - from.minorFaults,
  });
  return {
    batchSeconds,
    firstRate: rate(batchSeconds.slice(0, windowBatches)),
    lastRate: rate(batchSeconds.slice(-windowBatches)),
    ingestSeconds: batchSeconds.reduce((a, b) => a + b, 0),
    firstCpu: spent(cpuAt[0]!, cpuAt[1]!),
    lastCpu: spent(cpuAt.at(-2)!, cpuAt.at(-1)!),
  };
}

/** `user / user s, kernel / kernel s; faults / faults` of two windows. */
function cpuText(first: TargetCpu, last: TargetCpu): string {
  return `${fmt(first.userSeconds, 1)} / ${fmt(last.userSeconds, 1)} s, ${fmt(first.systemSeconds, 2)} / ${fmt(last.systemSeconds, 2)} s; ${first.minorFaults} / ${last.minorFaults}`;
}

export async function million(run: RunConfig): Promise<ScenarioResult> {
  const count = run.small ? 100_000 : 1_000_000;
  const full = count === 1_000_000;
  const started = performance.now();
  // MAILPEN_BENCH_MILLION_SINK=1: the bare smtp-server sink takes the same messages first, in a
  // process of its own, for its own last ÷ first ratio (about a minute more).
  let sink: Ingest | null = null;
  if (process.env.MAILPEN_BENCH_MILLION_SINK === '1') {
    const baseline = await Target.start('sink', { maxMessages: 0, maxBytes: 0 });
    try {
      sink = await ingest(baseline, count, run);
    } finally {
      await baseline.stop();
    }
  }
  const target = await Target.start('mailpen', { maxMessages: 0, maxBytes: 0 });
  try {
    const { batchSeconds, firstRate, lastRate, ingestSeconds, firstCpu, lastCpu } = await ingest(target, count, run);
    run.log(`million: ingest ${fmt(ingestSeconds)} s, first ${WINDOW} at ${fmt(firstRate, 0)} msg/s, last at ${fmt(lastRate, 0)} msg/s`);
    const settledMs = await target.settled();
    const { memory: stored } = await target.memory(true);
    run.log(`million: settled ${fmt(settledMs, 0)} ms after the last 250; RSS ${fmt(mb(stored.rss))} MB`);

    const base = `http://127.0.0.1:${target.http}/api`;
    const timed = async (name: string, url: (i: number) => string, check: (b: ListBody) => boolean, rounds = 30): Promise<{ p50: number; p99: number }> => {
      for (let i = 0; i < 3; i++) await (await fetch(url(i + 1000))).arrayBuffer();
      const samples: number[] = [];
      for (let i = 0; i < rounds; i++) {
        const t0 = performance.now();
        const res = await fetch(url(i));
        const body = (await res.json()) as ListBody;
        samples.push(performance.now() - t0);
        if (!res.ok || !check(body)) throw new Error(`${name}: ${res.status} ${JSON.stringify(body).slice(0, 200)}`);
      }
      const p = percentiles(samples);
      run.log(`million ${name}: p50 ${fmt(p.p50, 1)} ms, p99 ${fmt(p.p99, 1)} ms`);
      return p;
    };
    const q = (query: string): string => `${base}/messages?limit=50&q=${encodeURIComponent(query)}`;
    const list = await timed('list first page', () => `${base}/messages?limit=50`, (b) => b.total === count && b.messages.length === 50);
    const perRecipient = Math.ceil(count / 1000);
    const to = await timed('to:', (i) => q(`to:${recipientOf(i * 7)}`), (b) => b.total >= perRecipient - 1 && b.total <= perRecipient);
    const text = await timed('free text (body word)', (i) => q(bodyToken((i * 977_123) % count)), (b) => b.total === 1);

    const ui = existsSync(CHROMIUM) ? await uiFigures(target.http!, count) : null;
    const { memory: end } = await target.memory(true);
    const seconds = (performance.now() - started) / 1000;

    const scenario = `million: ${count / 1000}k × 2 KB`;
    const row = (figure: string, value: string, targetText: string, met: boolean): Row => ({ scenario, figure, value, target: full ? targetText : '', met: full ? met : null });
    const ratio = lastRate / firstRate;
    const rows: Row[] = [
      row(`ingest rate, last ${WINDOW / 1000}k / first ${WINDOW / 1000}k`, `${fmt(ratio, 2)} (${fmt(lastRate, 0)} / ${fmt(firstRate, 0)} msg/s)`, `≥ ${TARGETS.rateRatio}`, ratio >= TARGETS.rateRatio),
      row('RSS after ingest', `${fmt(mb(stored.rss))} MB`, `≤ ${TARGETS.rssMB / 1024} GB`, mb(stored.rss) <= TARGETS.rssMB),
      row('RSS at the end (after the reads)', `${fmt(mb(end.rss))} MB`, `≤ ${TARGETS.rssMB / 1024} GB`, mb(end.rss) <= TARGETS.rssMB),
      row('list first page p50', `${fmt(list.p50, 1)} ms`, `≤ ${TARGETS.listMs} ms`, list.p50 <= TARGETS.listMs),
      row('to: p50', `${fmt(to.p50, 1)} ms`, `≤ ${TARGETS.toMs} ms`, to.p50 <= TARGETS.toMs),
      row('free text p50', `${fmt(text.p50, 1)} ms`, `≤ ${TARGETS.textMs} ms`, text.p50 <= TARGETS.textMs),
      ...(ui
        ? [
            row('UI navigation → first rows, p50', `${fmt(ui.firstRows.p50, 0)} ms`, `≤ ${TARGETS.firstRowsMs / 1000} s`, ui.firstRows.p50 <= TARGETS.firstRowsMs),
            row('UI scrollbar jump → rows shown, p50', `${fmt(ui.jump.p50, 0)} ms`, `≤ ${TARGETS.jumpMs} ms`, ui.jump.p50 <= TARGETS.jumpMs),
            row('UI rows the scrollbar reaches (Chromium caps layout at ~33.5M px)', `${ui.reachableRows} of ${count}`, `${count}`, ui.reachableRows >= count),
          ]
        : [{ scenario, figure: 'UI', value: `no Chromium at ${CHROMIUM}`, target: '', met: null }]),
      { scenario, figure: `server CPU over the first / last ${WINDOW / 1000}k: user, kernel; page faults`, value: cpuText(firstCpu, lastCpu), target: '', met: null },
      ...(sink
        ? [
            { scenario, figure: 'bare smtp-server sink, same ingest: last / first', value: `${fmt(sink.lastRate / sink.firstRate, 2)} (${fmt(sink.lastRate, 0)} / ${fmt(sink.firstRate, 0)} msg/s)`, target: '', met: null },
            { scenario, figure: 'sink CPU over the first / last: user, kernel; page faults', value: cpuText(sink.firstCpu, sink.lastCpu), target: '', met: null },
          ]
        : []),
      { scenario, figure: 'ingest time / whole scenario', value: `${fmt(ingestSeconds, 0)} s / ${fmt(seconds, 0)} s`, target: '', met: null },
    ];
    return {
      rows,
      figures: { count, ingestSeconds, firstRate, lastRate, ratio, batchSeconds, firstCpu, lastCpu, sink, settledMs, stored, end, list, to, text, ui, seconds },
    };
  } finally {
    await target.stop();
  }
}

/**
 * First rows after navigation, and a jump of the scrollbar to 50%, 25%, 75% and the end of its
 * range, in Chromium. Past MAX_LIST_PX the list's scrollbar is scaled onto the rows (the page says
 * by how much in data-scroll-scale; ui/src/lib/list-scale.ts): the row a position shows is
 * position × scale ÷ 68, and how many rows the scrollbar's end reaches is reported.
 */
async function uiFigures(http: number, count: number): Promise<{ firstRows: { p50: number }; jump: { p50: number }; reachableRows: number; samples: { firstRows: number[]; jump: number[] } }> {
  const browser = await launchBrowser();
  const firstRows: number[] = [];
  const jump: number[] = [];
  let reachableRows = 0;
  try {
    for (const fraction of [0.5, 0.25, 0.75, 0.5, 0.999]) {
      const page = await browser.context.newPage();
      const t0 = performance.now();
      await page.goto(`http://127.0.0.1:${http}/`, { waitUntil: 'commit' });
      await page.waitForSelector(ROW, { state: 'visible', timeout: 60_000 });
      firstRows.push(performance.now() - t0);
      const list = page.getByTestId('message-list');
      const range = await list.evaluate((el) => ({ scrollHeight: el.scrollHeight, clientHeight: el.clientHeight, scale: Number(el.dataset.scrollScale ?? 1) }));
      const scrollRange = range.scrollHeight - range.clientHeight;
      reachableRows = Math.min(count, Math.floor((scrollRange * range.scale + range.clientHeight) / ROW_PX));
      const top = Math.floor(fraction * scrollRange);
      const index = Math.min(count - 1, Math.floor((top * range.scale) / ROW_PX));
      const t1 = performance.now();
      await list.evaluate((el, at) => {
        el.scrollTop = at;
      }, top);
      // Every row in view is a loaded message, the one at the position among them. (Which message
      // that is depends on the order the 8 connections' messages arrived in.)
      await page.waitForFunction(
        (at) => {
          const viewport = document.querySelector('[data-testid=message-list]')!;
          const view = viewport.getBoundingClientRect();
          for (const el of viewport.querySelectorAll('.row')) {
            const box = el.getBoundingClientRect();
            if (box.bottom > view.top && box.top < view.bottom && el.classList.contains('placeholder')) return false;
          }
          const row = viewport.querySelector(`[aria-posinset="${at + 1}"] .subject`);
          return row !== null && / order \d+ has shipped/.test(row.textContent!);
        },
        index,
        { timeout: 60_000, polling: 'raf' },
      );
      jump.push(performance.now() - t1);
      await page.close();
    }
  } finally {
    await browser.close();
  }
  return { firstRows: percentiles(firstRows), jump: percentiles(jump), reachableRows, samples: { firstRows, jump } };
}
