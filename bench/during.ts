// What a user of Mailpen waits for while someone else's request runs: a /healthz answer and the
// 250 after a message's data, each probed one after the other (never piled up) for as long as
// the work goes on. The same probes with nothing else running give the figures to compare with,
// in the same run.
import { connect } from './smtp-load.js';
import { onWire } from './messages.js';

export interface ProbeSamples {
  healthz: number[];
  smtp250: number[];
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Probes `http` /healthz and `smtp` until `work` settles (or for `idleMs` when there is none). */
export async function probeDuring(ports: { http: number; smtp: number }, work: Promise<unknown> | null, idleMs = 2000): Promise<ProbeSamples> {
  let done = false;
  const finished = (work ?? pause(idleMs)).finally(() => {
    done = true;
  });
  const healthz: number[] = [];
  const smtp250: number[] = [];
  const http = (async () => {
    while (!done) {
      const t0 = performance.now();
      const res = await fetch(`http://127.0.0.1:${ports.http}/healthz`);
      await res.arrayBuffer();
      healthz.push(performance.now() - t0);
      await pause(5);
    }
  })();
  const smtp = (async () => {
    const c = await connect(ports.smtp);
    for (let k = 0; !done; k++) {
      c.write('MAIL FROM:<probe@bench.example>\r\nRCPT TO:<probe@example.test>\r\nDATA\r\n');
      const replies = [await c.read(), await c.read(), await c.read()];
      if (replies.map((r) => r.code).join() !== '250,250,354') throw new Error(`probe envelope: ${JSON.stringify(replies)}`);
      const t0 = performance.now();
      c.write(onWire(Buffer.from(`From: <probe@bench.example>\r\nTo: <probe@example.test>\r\nSubject: probe ${k}\r\n\r\nprobe\r\n`)));
      const reply = await c.read();
      if (reply.code !== 250) throw new Error(`probe data: ${reply.code} ${reply.text}`);
      smtp250.push(performance.now() - t0);
      await pause(5);
    }
    c.end();
  })();
  await Promise.all([finished, http, smtp]);
  return { healthz, smtp250 };
}
