// `npm run bench [-- scenario...] [-- --small] [-- --strict]`: runs the scenarios, prints a table,
// and writes the figures as JSON to bench/results/. A benchmark, not a test: it exits 0 on a slow
// machine and says which targets were missed. MAILPEN_BENCH_SMALL=1 is the same as --small.
// --strict (CI) exits 1 when a scenario broke (an error, not a slow figure), so the harness
// cannot rot unnoticed.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ingest } from './scenarios/ingest.js';
import { memory } from './scenarios/memory.js';
import { large } from './scenarios/large.js';
import { api } from './scenarios/api.js';
import { latency } from './scenarios/latency.js';
import { ui } from './scenarios/ui.js';
import { soak } from './scenarios/soak.js';
import { redis } from './scenarios/redis.js';
import { million } from './scenarios/million.js';
import { releaseLoaded } from './loaded.js';
import type { Row, RunConfig, ScenarioResult } from './report.js';

const SCENARIOS: Record<string, (run: RunConfig) => Promise<ScenarioResult>> = {
  ingest,
  large,
  memory,
  api,
  latency,
  ui,
  redis,
  soak,
  million,
};
/** What runs when no scenario is named; soak and million (1,000,000 messages) are opt-in. */
const DEFAULT = Object.keys(SCENARIOS).filter((s) => s !== 'soak' && s !== 'million');

const args = process.argv.slice(2);
const small = args.includes('--small') || process.env.MAILPEN_BENCH_SMALL === '1';
const strict = args.includes('--strict');
const named = args.filter((a) => !a.startsWith('--'));
const unknown = named.filter((n) => !(n in SCENARIOS));
if (unknown.length > 0) {
  console.error(`unknown scenario ${unknown.join(', ')}; known: ${Object.keys(SCENARIOS).join(', ')}`);
  process.exit(2);
}
const chosen = named.length > 0 ? named : DEFAULT;
const run: RunConfig = { small, log: (line) => console.error(`  ${line}`) };

// A stray rejection in a scenario is reported, not a reason to lose every figure measured so far.
process.on('unhandledRejection', (err) => console.error('  unhandled rejection:', err));

const rows: Row[] = [];
const figures: Record<string, unknown> = {};
const started = Date.now();
let broken = 0;
for (const name of chosen) {
  console.error(`${name}${small ? ' (small)' : ''}...`);
  const t0 = Date.now();
  try {
    const result = await SCENARIOS[name]!(run);
    rows.push(...result.rows);
    figures[name] = { ...result.figures, seconds: (Date.now() - t0) / 1000 };
  } catch (err) {
    // A scenario that breaks is reported, not fatal: the others still tell something.
    const message = err instanceof Error ? err.stack ?? err.message : String(err);
    console.error(`  ${name} failed: ${message}`);
    broken++;
    rows.push({ scenario: name, figure: 'error', value: message.split('\n')[0]!, target: '', met: null });
    figures[name] = { error: message };
  }
}

await releaseLoaded();

const machine = { cpus: cpus().length, cpu: cpus()[0]?.model ?? '', memoryGB: Math.round(totalmem() / 2 ** 30), node: process.version };
printTable(rows);
const out = join(dirname(fileURLToPath(import.meta.url)), 'results');
mkdirSync(out, { recursive: true });
const file = join(out, `bench-${new Date(started).toISOString().replace(/[:.]/g, '-')}${small ? '-small' : ''}.json`);
writeFileSync(file, JSON.stringify({ startedAt: new Date(started).toISOString(), small, machine, rows, figures }, null, 2) + '\n');
console.log(`\n${machine.cpus} CPUs (${machine.cpu}), node ${machine.node}; figures written to ${file}`);
if (strict && broken > 0) {
  console.error(`${broken} scenario(s) broke`);
  process.exitCode = 1;
}

function printTable(table: Row[]): void {
  const head: Row = { scenario: 'scenario', figure: 'figure', value: 'value', target: 'target', met: null };
  const mark = (r: Row): string => (r === head ? 'met' : r.met === null ? '' : r.met ? 'yes' : 'NO');
  const all = [head, ...table];
  const w = (k: keyof Omit<Row, 'met'>): number => Math.max(...all.map((r) => r[k].length));
  for (const r of all) {
    console.log(`${r.scenario.padEnd(w('scenario'))}  ${r.figure.padEnd(w('figure'))}  ${r.value.padStart(w('value'))}  ${r.target.padEnd(w('target'))}  ${mark(r)}`);
  }
}
