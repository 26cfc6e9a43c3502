// The "message received" log line: one a message at a human pace, and during a burst the first
// ones of each second, then one line that counts the rest (server/smtp/receipt-log.ts).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { ReceiptLog, LINES_PER_SECOND, type Receipt } from '../server/smtp/receipt-log.js';

function capture(level = 'info'): { log: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level, base: undefined }, sink), lines };
}

const receipt = (n: number): Receipt => ({ id: `id${n}`, inbox: 'default', from: 'app@example.test', to: ['bob@example.test'], size: 100 + n });
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('message received log', () => {
  it('writes a line a message while mail comes slowly', async () => {
    const { log, lines } = capture();
    let now = 0;
    const receipts = new ReceiptLog(log, () => now);
    for (let n = 0; n < 5; n++) {
      receipts.received(receipt(n));
      now += 2000;
    }
    await settle();
    assert.deepEqual(lines.map((l) => [l.msg, l.id]), [0, 1, 2, 3, 4].map((n) => ['message received', `id${n}`]));
    assert.equal(lines[0]!.size, 100);
  });

  it('counts the rest of a burst in one line per second, and says it on flush', async () => {
    const { log, lines } = capture();
    let now = 0;
    const receipts = new ReceiptLog(log, () => now);
    const burst = LINES_PER_SECOND + 30;
    for (let n = 0; n < burst; n++) receipts.received(receipt(n));
    now = 1500;
    // The next second begins: the held ones are said before its first line.
    receipts.received(receipt(burst));
    for (let n = burst + 1; n < burst + 1 + LINES_PER_SECOND + 5; n++) receipts.received(receipt(n));
    receipts.flush();
    await settle();
    const each = lines.filter((l) => l.msg === 'message received');
    const counted = lines.filter((l) => l.msg !== 'message received');
    assert.equal(each.length, 2 * LINES_PER_SECOND);
    assert.deepEqual(
      counted.map((l) => [l.count, l.firstId, l.lastId]),
      [
        [30, `id${LINES_PER_SECOND}`, `id${burst - 1}`],
        [6, `id${burst + LINES_PER_SECOND}`, `id${burst + LINES_PER_SECOND + 5}`],
      ],
    );
    assert.equal(lines.indexOf(counted[0]!), LINES_PER_SECOND, 'said before the next second begins');
    assert.equal(each.length + (counted[0]!.count as number) + (counted[1]!.count as number), burst + 1 + LINES_PER_SECOND + 5, 'every message is in a line');
  });

  it('says what was held once the second ends, without another message to end it', async () => {
    const { log, lines } = capture();
    const receipts = new ReceiptLog(log);
    for (let n = 0; n < LINES_PER_SECOND + 3; n++) receipts.received(receipt(n));
    await new Promise((resolve) => setTimeout(resolve, 1100));
    assert.equal(lines.at(-1)!.count, 3);
  });

  it('costs nothing when info is off', async () => {
    const { log, lines } = capture('warn');
    const receipts = new ReceiptLog(log);
    for (let n = 0; n < 100; n++) receipts.received(receipt(n));
    receipts.flush();
    await settle();
    assert.equal(lines.length, 0);
  });
});
