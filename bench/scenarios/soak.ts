// The soak run (opt-in: `npm run bench -- soak [--minutes=N]`, 10 minutes by default, 30 s with
// --small): mixed load with the store at its byte budget. SMTP senders never stop, API readers
// list, search and fetch, a deleter removes messages, event clients come and go. It checks that
// RSS stays bounded, nothing answers with an error, and every message acknowledged with 250 is
// still there at the end unless it was deleted by us or evicted by the limit (as an event said).
import WebSocket from 'ws';
import { Target } from '../targets.js';
import { sendPipelined } from '../smtp-load.js';
import { bodyToken, messageWithAttachment, onWire, recipientOf, textMessage } from '../messages.js';
import { fmt, mb, type RunConfig, type ScenarioResult } from '../report.js';

const BYTE_BUDGET = 64 * 1024 * 1024;
const SENDERS = 4;
const READERS = 2;
const EVENT_CLIENTS = 10;
/** Issue 16: over the whole run, RSS at most the byte budget plus this (parse workers, caches, code). */
const OVER_BUDGET = 200 * 1024 * 1024;

/** Mixed sizes: mostly 2 KB, some 64 KB, a few 1 MB with an attachment. */
function mixedMessage(i: number): Buffer {
  if (i % 200 === 0) return messageWithAttachment(i, 1024 * 1024);
  if (i % 20 === 0) return messageWithAttachment(i, 64 * 1024);
  return textMessage(i);
}

export async function soak(run: RunConfig): Promise<ScenarioResult> {
  const minutesArg = process.argv.find((a) => a.startsWith('--minutes='));
  const seconds = minutesArg ? Number(minutesArg.slice('--minutes='.length)) * 60 : run.small ? 30 : 600;
  const target = await Target.start('mailpen', { maxMessages: 0, maxBytes: BYTE_BUDGET });
  const base = `http://127.0.0.1:${target.http}/api`;
  const deadline = performance.now() + seconds * 1000;
  const running = (): boolean => performance.now() < deadline;

  /** Acknowledged with 250 and not yet accounted for as deleted or evicted. */
  const outstanding = new Set<string>();
  /** Evicted or deleted before its 250 was read here (possible under load). */
  const goneEarly = new Set<string>();
  const errors: string[] = [];
  const error = (what: string): void => {
    if (errors.length < 50) errors.push(what);
  };
  let acked = 0;
  let evicted = 0;
  let deleted = 0;
  let reads = 0;
  let ledgerComplete = true;
  let nextMessage = 0;

  const forget = (id: string): void => {
    if (!outstanding.delete(id)) goneEarly.add(id);
  };

  // The ledger: one event client that stays, and hears of every eviction and deletion.
  const ledger = new WebSocket(`ws://127.0.0.1:${target.http}/api/events`);
  await new Promise((resolve, reject) => ledger.once('message', resolve).once('error', reject));
  ledger.on('message', (data: Buffer) => {
    const e = JSON.parse(data.toString('utf8')) as { type: string; data: { messages?: Array<{ id: string }> } };
    if (e.type === 'evicted' || e.type === 'deleted') {
      for (const m of e.data.messages ?? []) {
        if (e.type === 'evicted') evicted++;
        forget(m.id);
      }
    } else if (e.type === 'resync' || e.type === 'cleared') {
      ledgerComplete = false;
    }
  });
  ledger.on('close', () => {
    if (running()) ledgerComplete = false;
  });

  /** Sampled every 2 s: RSS, and the main thread's heap and ArrayBuffers (the store's raw bytes) in it. */
  const rss: Array<{ t: number; rss: number; heapTotal: number; heapUsed: number; arrayBuffers: number }> = [];
  const t0 = performance.now();

  async function sender(): Promise<void> {
    while (running()) {
      const batch = Array.from({ length: 50 }, () => nextMessage++);
      const result = await sendPipelined({
        port: target.smtp,
        messages: batch.map((i) => onWire(mixedMessage(i))),
        connections: 1,
        to: (k) => recipientOf(batch[k]!),
        onAccepted: (_k, text) => {
          const id = /queued as (\S+)/.exec(text)?.[1];
          if (!id) return error(`250 without an id: ${text}`);
          acked++;
          if (!goneEarly.delete(id)) outstanding.add(id);
        },
      }).catch((err: Error) => {
        error(`SMTP: ${err.message}`);
        return null;
      });
      if (result && result.rejected > 0) error(`${result.rejected} messages refused over SMTP`);
    }
  }

  async function get(path: string, ok404 = false): Promise<unknown> {
    const res = await fetch(`${base}${path}`).catch((err: Error) => {
      error(`GET ${path}: ${err.message}`);
      return null;
    });
    if (!res) return null;
    reads++;
    const body = (await res.json().catch(() => null)) as unknown;
    // A message can be evicted or deleted between the list and the fetch: a 404 then is right.
    if (!res.ok && !(ok404 && res.status === 404)) error(`GET ${path}: ${res.status}`);
    return res.ok ? body : null;
  }

  async function reader(n: number): Promise<void> {
    let i = n;
    while (running()) {
      i++;
      const page = (await get('/messages?limit=50')) as { messages: Array<{ id: string }> } | null;
      await get(`/messages?limit=20&q=${encodeURIComponent(`to:${recipientOf(i)}`)}`);
      await get(`/messages?limit=20&q=${bodyToken(Math.max(0, nextMessage - 1 - (i % 500)))}`);
      const some = page?.messages[i % Math.max(1, page.messages.length)];
      if (some) {
        await get(`/messages/${some.id}`, true);
        await get(`/messages/${some.id}/links`, true);
      }
    }
  }

  async function deleter(): Promise<void> {
    while (running()) {
      await new Promise((r) => setTimeout(r, 200));
      const page = (await get('/messages?limit=20')) as { messages: Array<{ id: string }> } | null;
      const victim = page?.messages[page.messages.length - 1];
      if (!victim) continue;
      const res = await fetch(`${base}/messages/${victim.id}`, { method: 'DELETE' }).catch(() => null);
      if (!res || (!res.ok && res.status !== 404)) error(`DELETE: ${res?.status ?? 'no answer'}`);
      else if (res.ok && ((await res.json()) as { deleted: number }).deleted === 1) deleted++;
    }
  }

  async function eventClient(n: number): Promise<void> {
    while (running()) {
      const ws = new WebSocket(`ws://127.0.0.1:${target.http}/api/events`);
      await new Promise<void>((resolve) => {
        ws.once('error', (err) => {
          error(`event client: ${err.message}`);
          resolve();
        });
        ws.once('message', () => resolve());
      });
      // Stays a few seconds, sometimes reading slowly, then leaves.
      if (n % 3 === 0) ws.pause();
      await new Promise((r) => setTimeout(r, 1000 + ((n * 977) % 4000)));
      ws.terminate();
    }
  }

  const sampler = setInterval(() => {
    void target.memory().then(({ memory }) =>
      rss.push({ t: (performance.now() - t0) / 1000, rss: memory.rss, heapTotal: memory.heapTotal, heapUsed: memory.heapUsed, arrayBuffers: memory.arrayBuffers }),
    );
  }, 2000);
  try {
    await Promise.all([
      ...Array.from({ length: SENDERS }, sender),
      ...Array.from({ length: READERS }, (_, n) => reader(n * 1000)),
      deleter(),
      ...Array.from({ length: EVENT_CLIENTS }, (_, n) => eventClient(n)),
    ]);
    clearInterval(sampler);
    // Let the last events land, then take the store's word for what it holds.
    await new Promise((r) => setTimeout(r, 500));
    const present = new Set<string>();
    let cursor: string | null = null;
    do {
      const page = (await get(`/messages?limit=1000${cursor ? `&cursor=${cursor}` : ''}`)) as { messages: Array<{ id: string }>; next: string | null } | null;
      if (!page) break;
      for (const m of page.messages) present.add(m.id);
      cursor = page.next;
    } while (cursor);
    const missing = [...outstanding].filter((id) => !present.has(id));
    const end = (await target.memory(true)).memory;

    const third = Math.floor(rss.length / 3);
    const peak = (xs: typeof rss): number => Math.max(0, ...xs.map((x) => x.rss));
    const middle = peak(rss.slice(third, 2 * third));
    const last = peak(rss.slice(2 * third));
    // Bounded: the last third does not climb past the middle third by more than a fifth.
    const bounded = rss.length >= 3 ? last <= middle * 1.2 : null;
    // VmHWM: the highest RSS of the whole run, between samples too.
    const highest = Math.max(end.peakRss, peak(rss));
    run.log(
      `soak ${seconds} s: ${acked} acked, ${evicted} evicted, ${deleted} deleted, ${reads} reads, ${missing.length} missing, ` +
        `${errors.length} errors; RSS middle ${fmt(mb(middle))} MB, last ${fmt(mb(last))} MB, highest ${fmt(mb(highest))} MB, after GC ${fmt(mb(end.rss))} MB`,
    );
    for (const e of errors.slice(0, 10)) run.log(`  error: ${e}`);
    const scenario = `soak ${Math.round(seconds / 60) || '<1'} min, ${BYTE_BUDGET / 2 ** 20} MB budget`;
    return {
      rows: [
        { scenario, figure: 'acked / evicted / deleted / reads', value: `${acked} / ${evicted} / ${deleted} / ${reads}`, target: '', met: null },
        { scenario, figure: 'acked and missing (not deleted, not evicted)', value: String(missing.length), target: '0', met: ledgerComplete ? missing.length === 0 : null },
        { scenario, figure: 'errors', value: String(errors.length), target: '0', met: errors.length === 0 },
        { scenario, figure: 'peak RSS, middle third → last third', value: `${fmt(mb(middle))} → ${fmt(mb(last))} MB`, target: 'bounded', met: bounded },
        { scenario, figure: 'highest RSS of the run (VmHWM)', value: `${fmt(mb(highest))} MB`, target: `≤ ${mb(BYTE_BUDGET + OVER_BUDGET)} MB`, met: highest <= BYTE_BUDGET + OVER_BUDGET },
      ],
      figures: { seconds, budget: BYTE_BUDGET, highestRss: highest, acked, evicted, deleted, reads, missing: missing.slice(0, 20), missingCount: missing.length, ledgerComplete, errors, rss, endRss: end },
    };
  } finally {
    clearInterval(sampler);
    ledger.terminate();
    await target.stop();
  }
}
