// Scenario 4: the API with 100,000 messages stored: p50 and p99 of the first page of the list,
// a `to:` search, a free-text search that has to look into bodies, every other form of the search
// language (the slow ones hide where only the easy ones are measured: a phrase every message
// holds, header: on a header that is not summarized, a negated phrase, OR of two body words), and
// fetching one message the first time and again. Also when search is complete after the ingest: the first free-text search
// right after the last 250 (it indexes whatever the background has not reached) and how long the
// background indexing still ran.
import { loadedMailpen } from '../loaded.js';
import { bodyToken, recipientOf } from '../messages.js';
import { fmt, percentiles, type Row, type RunConfig, type ScenarioResult } from '../report.js';
import { probeDuring } from '../during.js';

interface Timed<T> {
  ms: number;
  body: T;
}

async function timedGet<T>(url: string): Promise<Timed<T>> {
  const t0 = performance.now();
  const res = await fetch(url);
  const body = (await res.json()) as T;
  const ms = performance.now() - t0;
  if (!res.ok) throw new Error(`${url}: ${res.status} ${JSON.stringify(body)}`);
  return { ms, body };
}

interface ListBody {
  total: number;
  messages: Array<{ id: string; subject: string }>;
}

export async function api(run: RunConfig): Promise<ScenarioResult> {
  const count = run.small ? 10_000 : 100_000;
  const loaded = await loadedMailpen(count);
  const base = `http://127.0.0.1:${loaded.target.http}/api`;
  const figures: Record<string, unknown> = { count, ingestSeconds: loaded.ingestSeconds };

  // Right after the ingest: a body search must already see every message.
  const last = count - 1;
  const first = await timedGet<ListBody>(`${base}/messages?q=${bodyToken(last)}`);
  if (first.body.total !== 1) throw new Error(`free-text search for the last message found ${first.body.total}`);
  const sinceIngest = performance.now() - loaded.ingestEndedAt;
  const settledMs = await loaded.target.settled();
  figures.firstTextSearchMs = first.ms;
  figures.firstTextSearchAfterIngestMs = sinceIngest;
  figures.backgroundIndexMsAfterThat = settledMs;

  const rounds = run.small ? 30 : 100;
  const measure = async (name: string, url: (i: number) => string, check: (b: ListBody, i: number) => boolean, times = rounds): Promise<{ p50: number; p99: number }> => {
    // A few untimed calls first, so the figures are of a warm server (JIT, connection).
    for (let i = 0; i < 5; i++) await timedGet<ListBody>(url(i));
    const samples: number[] = [];
    for (let i = 0; i < times; i++) {
      const r = await timedGet<ListBody>(url(i));
      if (!check(r.body, i)) throw new Error(`${name}: unexpected answer ${JSON.stringify(r.body).slice(0, 200)}`);
      samples.push(r.ms);
    }
    const p = percentiles(samples);
    figures[name] = p;
    run.log(`api ${name}: p50 ${fmt(p.p50, 2)} ms, p99 ${fmt(p.p99, 2)} ms`);
    return p;
  };

  const list = await measure('list first page', () => `${base}/messages?limit=50`, (b) => b.total === count && b.messages.length === 50);
  // Each recipient got every 1000th message.
  const perRecipient = Math.ceil(count / 1000);
  const to = await measure('to: search', (i) => `${base}/messages?limit=50&q=${encodeURIComponent(`to:${recipientOf(i * 7)}`)}`, (b) => b.total >= perRecipient - 1 && b.total <= perRecipient);
  const text = await measure('free-text search (body word)', (i) => `${base}/messages?limit=50&q=${bodyToken((i * 977) % count)}`, (b) => b.total === 1);
  // Every other form, each with an answer it must give (totals stay exact). Fewer rounds: a slow
  // form at 100,000 would otherwise make the run long.
  const formRounds = run.small ? 10 : 20;
  const q = (query: string): string => `${base}/messages?limit=50&q=${encodeURIComponent(query)}`;
  const forms: Array<[string, (i: number) => string, (b: ListBody) => boolean]> = [
    ['phrase every subject holds', () => q('"has shipped"'), (b) => b.total === count],
    ['phrase every body holds', () => q('"Hello, order"'), (b) => b.total === count],
    ['negated phrase', () => q('-"has shipped"'), (b) => b.total === 0],
    ['OR of two body words', (i) => q(`${bodyToken((i * 31) % count)} OR ${bodyToken((i * 37 + 1) % count)}`), (b) => b.total === 2],
    ['header:Message-ID:<id>', (i) => q(`header:Message-ID:<${(i * 613) % count}.bench@shop.example>`), (b) => b.total === 1],
    ['header: absent everywhere', () => q('header:X-Nothing'), (b) => b.total === 0],
    ['from:', (i) => q(`from:noreply${i % 50}@shop.example`), (b) => b.total >= Math.floor(count / 50)],
    ['subject: phrase', (i) => q(`subject:"order ${(i * 389) % count} has"`), (b) => b.total === 1],
    ['is:unread', () => q('is:unread'), (b) => b.total === count],
    // Slow by nature: one common character (the index has no word for "."; "e" is in most words).
    ['phrase of one character "."', () => q('"."'), (b) => b.total === count],
    ['one-letter word e', () => q('e'), (b) => b.total === count],
    ['header: not summarized, every message has it', () => q('header:Content-Type:text/plain'), (b) => b.total === count],
    ['has:attachment', () => q('has:attachment'), (b) => b.total === 0],
  ];
  const formFigures: Array<[string, { p50: number; p99: number }]> = [];
  // A form refused (400: its estimate went past the search's budget on a busy machine) is a row, not the end of the run.
  const refused: Array<[string, string]> = [];
  const tryMeasure = async (name: string, url: (i: number) => string, check: (b: ListBody) => boolean, times: number): Promise<{ p50: number; p99: number } | null> => {
    try {
      return await measure(name, url, check, times);
    } catch (err) {
      refused.push([name, err instanceof Error ? err.message.slice(0, 300) : String(err)]);
      run.log(`api ${name}: ${String(err)}`);
      return null;
    }
  };
  for (const [name, url, check] of forms) {
    const p = await tryMeasure(name, url, check, formRounds);
    if (p) formFigures.push([name, p]);
  }

  // Candidates for the worst query (at most 20 terms), each of them built to make every term do
  // its slowest work on every message; the slowest of them runs while /healthz and SMTP are probed.
  const letters = 'abcdefghijklmnoprstu'.split('');
  const punctuation = ['~', '^', '|', '{', '}', '[', ']', '#', '$', '%', '&', '*', '+', '=', '<', '>', '?', '!', '`', ';'];
  const worstForms: Array<[string, string, (b: ListBody) => boolean]> = [
    ['20 one-letter words', letters.join(' '), () => true],
    ['20 negated punctuation phrases', punctuation.map((c) => `-"${c}"`).join(' '), (b) => b.total === count],
    ['20 absent headers, OR', letters.map((c) => `header:X-${c}`).join(' OR '), (b) => b.total === 0],
  ];
  let worst: { name: string; query: string; p50: number } | null = null;
  for (const [name, query, check] of worstForms) {
    const p = await tryMeasure(`worst candidate: ${name}`, () => q(query), check, run.small ? 5 : 10);
    if (!p) continue;
    formFigures.push([`worst candidate: ${name}`, p]);
    if (worst === null || p.p50 > worst.p50) worst = { name, query, p50: p.p50 };
  }

  // One message fetched the first time (a full parse) and again (from the parse cache).
  const page = (await timedGet<ListBody>(`${base}/messages?limit=${Math.min(1000, rounds)}&q=${encodeURIComponent('to:user5@example.test')}`)).body.messages;
  const firstFetch: number[] = [];
  const again: number[] = [];
  for (const m of page) {
    firstFetch.push((await timedGet(`${base}/messages/${m.id}`)).ms);
    again.push((await timedGet(`${base}/messages/${m.id}`)).ms);
  }
  const f1 = percentiles(firstFetch);
  const f2 = percentiles(again);
  figures['get one, first time'] = f1;
  figures['get one, again'] = f2;

  // Last, as the probes add messages: /healthz and a 250 with nothing else running, then while
  // the worst query runs again and again (for 3 s at least).
  worst ??= { name: 'phrase of one character', query: '"."', p50: 0 };
  const ports = { http: loaded.target.http!, smtp: loaded.target.smtp };
  const idle = await probeDuring(ports, null, 2000);
  const repeatWorst = async (): Promise<number> => {
    const t0 = performance.now();
    let runs = 0;
    while (performance.now() - t0 < 3000 || runs < 3) {
      await timedGet<ListBody>(q(worst!.query));
      runs++;
    }
    return runs;
  };
  const worstRuns = repeatWorst();
  const busy = await probeDuring(ports, worstRuns);
  const probe = {
    worst: worst!.name,
    worstRuns: await worstRuns,
    idle: { healthz: percentiles(idle.healthz), smtp250: percentiles(idle.smtp250), healthzMax: Math.max(...idle.healthz), smtp250Max: Math.max(...idle.smtp250) },
    busy: { healthz: percentiles(busy.healthz), smtp250: percentiles(busy.smtp250), healthzMax: Math.max(...busy.healthz), smtp250Max: Math.max(...busy.smtp250) },
  };
  figures['probes during the worst query'] = probe;
  run.log(`api probes during "${probe.worst}" (${probe.worstRuns} runs): ${JSON.stringify(probe)}`);

  const scenario = `API at ${count / 1000}k`;
  const full = count === 100_000;
  const row = (figure: string, p: { p50: number; p99: number }, limit: number | null, p99Limit: number | null = null): Row => ({
    scenario,
    figure,
    value: `${fmt(p.p50, 2)} / ${fmt(p.p99, 2)} ms`,
    target: limit === null ? '' : `p50 ≤ ${limit} ms${p99Limit === null ? '' : `, p99 ≤ ${p99Limit} ms`}`,
    met: limit === null || !full ? null : p.p50 <= limit && (p99Limit === null || p.p99 <= p99Limit),
  });
  const probeRow = (what: string, idleP: { p50: number; p99: number }, idleMax: number, busyP: { p50: number; p99: number }, busyMax: number): Row => ({
    scenario,
    figure: `${what} during the worst query (${probe.worst}), p50 / p99 / max (idle)`,
    value: `${fmt(busyP.p50, 1)} / ${fmt(busyP.p99, 1)} / ${fmt(busyMax, 1)} ms (${fmt(idleP.p50, 1)} / ${fmt(idleP.p99, 1)} / ${fmt(idleMax, 1)})`,
    target: 'max < 50 ms',
    met: full ? busyMax < 50 : null,
  });
  return {
    rows: [
      row('list, first page (p50 / p99)', list, 5),
      row('to: search (p50 / p99)', to, 50),
      row('free-text body search (p50 / p99)', text, 200),
      ...formFigures.map(([name, p]) => (name.startsWith('header:Message-ID') ? row(`${name} (p50 / p99)`, p, 20) : row(`${name} (p50 / p99)`, p, 200, 500))),
      ...refused.map(([name, why]): Row => ({ scenario, figure: `${name}: refused`, value: why, target: '', met: full ? false : null })),
      probeRow('/healthz', probe.idle.healthz, probe.idle.healthzMax, probe.busy.healthz, probe.busy.healthzMax),
      probeRow('SMTP 250', probe.idle.smtp250, probe.idle.smtp250Max, probe.busy.smtp250, probe.busy.smtp250Max),
      row('get one, first time (p50 / p99)', f1, null),
      row('get one, again (p50 / p99)', f2, null),
      { scenario, figure: 'first body search right after ingest', value: `${fmt(first.ms, 0)} ms`, target: '', met: null },
      { scenario, figure: 'background indexing done after that', value: `${fmt(settledMs / 1000, 2)} s`, target: '', met: null },
      {
        scenario,
        figure: 'body search complete after ingest',
        value: `${fmt(sinceIngest / 1000, 2)} s`,
        target: '≤ 60 s',
        met: full ? sinceIngest <= 60_000 : null,
      },
    ],
    figures,
  };
}
