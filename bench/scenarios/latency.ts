// Scenario 5: delivery latency with 50 WebSocket clients connected. For each message, sent alone:
// from the sender's 250 to the 'added' event at each client, and to a pending /api/wait (asking
// for that message's body word) returning. All clocks are this process's performance.now().
// A negative figure means the event came before the 250: the store emits as it stores, and the
// 250 follows.
import WebSocket from 'ws';
import { Target } from '../targets.js';
import { connect } from '../smtp-load.js';
import { bodyToken, onWire, textMessage } from '../messages.js';
import { fmt, percentiles, type RunConfig, type ScenarioResult } from '../report.js';

const CLIENTS = 50;

export async function latency(run: RunConfig): Promise<ScenarioResult> {
  const count = run.small ? 30 : 300;
  const target = await Target.start('mailpen', { maxMessages: 0, maxBytes: 0 });
  const sockets: WebSocket[] = [];
  try {
    /** id -> arrival times of its 'added' event, one per client. */
    const arrivals = new Map<string, number[]>();
    let onArrival: (() => void) | null = null;
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        const ws = new WebSocket(`ws://127.0.0.1:${target.http}/api/events`);
        sockets.push(ws);
        await new Promise<void>((resolve, reject) => {
          ws.on('message', (data: Buffer) => {
            const at = performance.now();
            const event = JSON.parse(data.toString('utf8')) as { type: string; data: { message?: { id: string } } };
            if (event.type === 'hello') resolve();
            if (event.type !== 'added' || !event.data.message) return;
            const id = event.data.message.id;
            let list = arrivals.get(id);
            if (!list) arrivals.set(id, (list = []));
            list.push(at);
            onArrival?.();
          });
          ws.once('error', reject);
        });
      }),
    );

    const startedAt = Date.now() - 1000;
    const smtp = await connect(target.smtp);
    const toEvent: number[] = [];
    const toWait: number[] = [];
    for (let i = 0; i < count; i++) {
      // The wait is pending before the message is sent: it is asked for and given time to land.
      // `after` the scenario's start, so that on a machine too busy for that, it still finds the message.
      const waitStarted = fetch(`http://127.0.0.1:${target.http}/api/wait?q=${bodyToken(i)}&after=${startedAt}&timeout=10`).then(async (res) => {
        const at = performance.now();
        const body = (await res.json()) as { id?: string };
        if (!res.ok) throw new Error(`wait answered ${res.status}`);
        return { at, id: body.id };
      });
      // Awaited below; until then a failure must not count as unhandled.
      waitStarted.catch(() => undefined);
      await new Promise((r) => setTimeout(r, 15));
      const replies = [smtp.read(), smtp.read(), smtp.read()];
      smtp.write('MAIL FROM:<bench@sender.example>\r\nRCPT TO:<rcpt@example.test>\r\nDATA\r\n');
      const [mail, rcpt, data] = await Promise.all(replies);
      if (mail!.code !== 250 || rcpt!.code !== 250 || data!.code !== 354) throw new Error('envelope refused');
      const done = smtp.read();
      smtp.write(onWire(textMessage(i)));
      const reply = await done;
      const at250 = performance.now();
      const id = /queued as (\S+)/.exec(reply.text)?.[1];
      if (reply.code !== 250 || !id) throw new Error(`DATA answered ${reply.code} ${reply.text}`);
      // Every client's event, then the wait's answer.
      await new Promise<void>((resolve) => {
        const check = (): void => {
          if ((arrivals.get(id)?.length ?? 0) >= CLIENTS) {
            onArrival = null;
            resolve();
          }
        };
        onArrival = check;
        check();
      });
      const waited = await waitStarted;
      if (waited.id !== id) throw new Error(`wait returned ${waited.id}, expected ${id}`);
      for (const t of arrivals.get(id)!) toEvent.push(t - at250);
      arrivals.delete(id);
      toWait.push(waited.at - at250);
    }
    smtp.end();
    const ev = percentiles(toEvent);
    const wt = percentiles(toWait);
    run.log(`latency: event p50 ${fmt(ev.p50, 2)} p99 ${fmt(ev.p99, 2)} ms; wait p50 ${fmt(wt.p50, 2)} p99 ${fmt(wt.p99, 2)} ms`);
    const met = (p: { p50: number; p99: number }): boolean => p.p50 <= 5 && p.p99 <= 50;
    const scenario = `delivery, ${CLIENTS} WS clients`;
    return {
      rows: [
        { scenario, figure: '250 → WebSocket event (p50 / p99)', value: `${fmt(ev.p50, 2)} / ${fmt(ev.p99, 2)} ms`, target: 'p50 ≤ 5, p99 ≤ 50 ms', met: met(ev) },
        { scenario, figure: '250 → /api/wait returns (p50 / p99)', value: `${fmt(wt.p50, 2)} / ${fmt(wt.p99, 2)} ms`, target: 'p50 ≤ 5, p99 ≤ 50 ms', met: met(wt) },
      ],
      figures: { messages: count, clients: CLIENTS, toEvent: ev, toWait: wt },
    };
  } finally {
    for (const ws of sockets) ws.terminate();
    await target.stop();
  }
}
