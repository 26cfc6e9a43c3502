// Scenario: several replicas on one Redis (MAILPEN_STORE=redis://..., issue 15). A real redis-server
// on a free port, the append-only file on with fsync every second (the README's advice).
//  1. Ingest: 2 KB messages over 8 pipelined connections into one in-memory Mailpen, and the same
//     messages over 4 connections into each of two replicas sharing Redis, at the same time. Each
//     round runs both, the order flipping every round; the figure is the median round's ratio.
//     With each, the CPU time the servers under test used per message (this process's children, read
//     from /proc: the Mailpen targets and redis-server), a figure the other engineers' load on a shared
//     machine moves much less than a rate, and the one that says what bounds the ingest.
//  2. 250 -> event on the other replica: one message at a time into replica A; the time from A's
//     250 to the 'added' event on an event-stream client of replica B. A negative figure means the
//     event came first (B reads the entry from Redis as A is still answering).
// Without redis-server, the rows say so and nothing fails.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { Target } from '../targets.js';
import { connect, sendPipelined } from '../smtp-load.js';
import { onWire, textMessage } from '../messages.js';
import { fmt, percentiles, type RunConfig, type ScenarioResult } from '../report.js';
import { REDIS_SERVER, startRedis } from '../../test/helpers/redis.js';

export async function redis(run: RunConfig): Promise<ScenarioResult> {
  const scenario = 'Redis, two replicas';
  if (!existsSync(REDIS_SERVER)) {
    return { rows: [{ scenario, figure: 'all', value: 'redis-server not installed', target: '', met: null }], figures: {} };
  }
  const count = run.small ? 2000 : 20_000;
  const rounds = run.small ? 1 : 3;
  const samples = run.small ? 50 : 500;
  const messages = Array.from({ length: count }, (_, i) => onWire(textMessage(i)));
  const rates: { memory: number[]; redis: number[] } = { memory: [], redis: [] };
  /** Microseconds of CPU per message: the in-memory process; the replicas together and Redis. */
  const cpu = { memory: [] as number[], replicas: [] as number[], redis: [] as number[] };
  const toEvent: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const kind of r % 2 === 0 ? (['memory', 'redis'] as const) : (['redis', 'memory'] as const)) {
      if (kind === 'memory') {
        const target = await Target.start('mailpen', { maxMessages: 0, maxBytes: 0 });
        try {
          const cpuBefore = childrenCpu();
          const result = await sendPipelined({ port: target.smtp, messages, connections: 8 });
          cpu.memory.push(perMessage(cpuBefore, childrenCpu(), count).node);
          if (result.accepted !== count) throw new Error(`memory: ${result.accepted} of ${count} accepted`);
          rates.memory.push(result.perSecond);
        } finally {
          await target.stop();
        }
      } else {
        // A fresh redis-server each round: one that already holds earlier rounds' 40 MB rewrites its
        // append-only file in the background (a fork competing for the same two cores) and slowed
        // each later round (2788, 1667, 1178 msg/s in one run).
        const server = await startRedis();
        const env = { MAILPEN_STORE: server.url(0) };
        const [a, b] = await Promise.all([Target.start('mailpen', { maxMessages: 0, maxBytes: 0 }, env), Target.start('mailpen', { maxMessages: 0, maxBytes: 0 }, env)]);
        try {
          const half = count / 2;
          const cpuBefore = childrenCpu();
          const t0 = performance.now();
          const results = await Promise.all([
            sendPipelined({ port: a.smtp, messages: messages.slice(0, half), connections: 4 }),
            sendPipelined({ port: b.smtp, messages: messages.slice(half), connections: 4 }),
          ]);
          const seconds = (performance.now() - t0) / 1000;
          const used = perMessage(cpuBefore, childrenCpu(), count);
          cpu.replicas.push(used.node);
          cpu.redis.push(used.redis);
          const accepted = results[0].accepted + results[1].accepted;
          if (accepted !== count) throw new Error(`redis: ${accepted} of ${count} accepted`);
          rates.redis.push(count / seconds);
          // Measured once both have indexed what the ingest brought (background work, not the path measured).
          if (r === 0) {
            await Promise.all([a.settled(), b.settled()]);
            toEvent.push(...(await eventLatency(a, b, samples)));
          }
        } finally {
          await Promise.all([a.stop(), b.stop()]);
          await server.destroy();
        }
      }
      const cpuNote = kind === 'memory' ? `${fmt(cpu.memory.at(-1)!, 0)} µs CPU/msg` : `${fmt(cpu.replicas.at(-1)!, 0)} + ${fmt(cpu.redis.at(-1)!, 0)} (Redis) µs CPU/msg`;
      run.log(`redis round ${r + 1} ${kind}: ${fmt(rates[kind].at(-1)!, 0)} msg/s, ${cpuNote}`);
    }
  }
  const ratios = rates.redis.map((v, i) => v / rates.memory[i]!);
  const ratio = [...ratios].sort((x, y) => x - y)[Math.floor(ratios.length / 2)]!;
  const latency = percentiles(toEvent);
  const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  const rows = [
    { scenario, figure: 'one in-memory process, best round', value: `${fmt(Math.max(...rates.memory), 0)} msg/s`, target: '', met: null },
    { scenario, figure: 'two replicas on Redis together, best round', value: `${fmt(Math.max(...rates.redis), 0)} msg/s`, target: '', met: null },
    { scenario, figure: `two replicas / one in memory, median of ${rounds}`, value: fmt(ratio, 2), target: '≥ 0.5', met: ratio >= 0.5 },
    { scenario, figure: 'CPU per message, one in-memory process (median)', value: `${fmt(median(cpu.memory), 0)} µs`, target: '', met: null },
    { scenario, figure: 'CPU per message, both replicas together (median)', value: `${fmt(median(cpu.replicas), 0)} µs`, target: '', met: null },
    { scenario, figure: 'CPU per message, redis-server (median)', value: `${fmt(median(cpu.redis), 0)} µs`, target: '', met: null },
    { scenario, figure: `250 on A -> event on B, p50 (${latency.n})`, value: `${fmt(latency.p50, 2)} ms`, target: '≤ 10 ms', met: latency.p50 <= 10 },
    { scenario, figure: '250 on A -> event on B, p99', value: `${fmt(latency.p99, 2)} ms`, target: '≤ 50 ms', met: latency.p99 <= 50 },
  ];
  return { rows, figures: { count, rounds, rates, ratio, cpuMicrosPerMessage: cpu, toEvent: latency } };
}

/** CPU seconds each child of this process (the targets, redis-server) has used, by pid, with its name. */
function childrenCpu(): Map<number, { name: string; seconds: number }> {
  const out = new Map<number, { name: string; seconds: number }>();
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // gone since the listing
    }
    // pid (comm) state ppid ... utime stime: fields 14 and 15, in clock ticks (100 a second on Linux).
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[1]) !== process.pid) continue;
    out.set(Number(pid), { name, seconds: (Number(fields[11]) + Number(fields[12])) / 100 });
  }
  return out;
}

/** Microseconds per message used between two readings, by the node targets and by redis-server. */
function perMessage(before: ReturnType<typeof childrenCpu>, after: ReturnType<typeof childrenCpu>, messages: number): { node: number; redis: number } {
  const used = { node: 0, redis: 0 };
  for (const [pid, { name, seconds }] of after) {
    const delta = seconds - (before.get(pid)?.seconds ?? 0);
    if (name.startsWith('redis-server')) used.redis += delta;
    else used.node += delta;
  }
  return { node: (used.node / messages) * 1e6, redis: (used.redis / messages) * 1e6 };
}

/** Milliseconds from each 250 of replica A to the 'added' event on a client of replica B. */
async function eventLatency(a: Target, b: Target, samples: number): Promise<number[]> {
  const ws = new WebSocket(`ws://127.0.0.1:${b.http}/api/events?format=mailpen`);
  const arrivals = new Map<string, number>();
  let onArrival: (() => void) | null = null;
  await new Promise<void>((resolve, reject) => {
    ws.on('message', (data: Buffer) => {
      const at = performance.now();
      const event = JSON.parse(data.toString('utf8')) as { type: string; data: { message?: { id: string } } };
      if (event.type === 'hello') resolve();
      if (event.type === 'added' && event.data.message) {
        arrivals.set(event.data.message.id, at);
        onArrival?.();
      }
    });
    ws.once('error', reject);
  });
  const smtp = await connect(a.smtp);
  const out: number[] = [];
  try {
    for (let i = 0; i < samples; i++) {
      const replies = [smtp.read(), smtp.read(), smtp.read()];
      smtp.write('MAIL FROM:<bench@sender.example>\r\nRCPT TO:<rcpt@example.test>\r\nDATA\r\n');
      await Promise.all(replies);
      const done = smtp.read();
      smtp.write(onWire(textMessage(count(i))));
      const reply = await done;
      const acceptedAt = performance.now();
      const id = /queued as (\S+)/.exec(reply.text)?.[1];
      if (reply.code !== 250 || !id) throw new Error(`latency message refused: ${reply.code} ${reply.text}`);
      if (!arrivals.has(id)) {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no event on B for ${id}`)), 10_000);
          onArrival = () => {
            if (!arrivals.has(id)) return;
            clearTimeout(timer);
            onArrival = null;
            resolve();
          };
        });
      }
      out.push(arrivals.get(id)! - acceptedAt);
    }
  } finally {
    smtp.end();
    ws.terminate();
  }
  return out;
}

/** Message numbers for the latency samples, past the ingest's so their bodies differ. */
function count(i: number): number {
  return 1_000_000 + i;
}
