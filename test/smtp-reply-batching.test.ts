// Replies to a pipelined batch go out in one write (server/smtp/reply-batching.ts), seen from a
// raw socket: each chunk a read returns is counted. Without batching the replies to
// "MAIL, RCPT, DATA" came in two or three reads; a client waiting for each reply still gets it.
// The server runs in its own process: in this one, the test's reads would wait for the server's
// turns to end and find every reply there, batched or not.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { startChildServer, type ChildServer } from './helpers/child-server.js';

/** A raw connection that keeps each chunk its reads return, and waits for reply lines. */
class Reads {
  readonly chunks: string[] = [];
  #text = '';
  #wake: (() => void) | null = null;
  constructor(readonly socket: net.Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.chunks.push(chunk);
      this.#text += chunk;
      this.#wake?.();
    });
  }
  static async open(port: number): Promise<Reads> {
    const socket = net.connect(port, '127.0.0.1');
    await once(socket, 'connect');
    return new Reads(socket);
  }
  /** Waits until `count` reply lines (final lines: code and a space) have come in all, and says how many chunks brought them. */
  async until(count: number): Promise<{ lines: string[]; chunks: number }> {
    for (;;) {
      const lines = this.#text.split('\r\n').filter((l) => /^\d{3} /.test(l));
      if (lines.length >= count) return { lines, chunks: this.chunks.length };
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`waited for ${count} replies, got: ${JSON.stringify(this.#text)}`)), 5000);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
  /** Forgets what came so far: the next until() counts from here. */
  reset(): void {
    this.chunks.length = 0;
    this.#text = '';
  }
}

const MESSAGE = 'From: a@example.test\r\nTo: b@example.test\r\nSubject: batched\r\n\r\nHello\r\n.\r\n';

describe('replies to pipelined commands', () => {
  let server: ChildServer;
  before(async () => {
    server = await startChildServer();
  });
  after(() => server.stop());

  it('answers a pipelined envelope, and a message with the next envelope behind it, each in one read', async () => {
    const c = await Reads.open(server.smtpPort);
    await c.until(1); // 220
    c.socket.write('EHLO client.example\r\n');
    await c.until(2);
    c.reset();
    c.socket.write('MAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n');
    const envelope = await c.until(3);
    assert.deepEqual(envelope.lines.map((l) => l.slice(0, 3)), ['250', '250', '354']);
    assert.equal(envelope.chunks, 1, 'the three replies came in one read');
    c.reset();
    // What a pipelining client sends next: the data, then the next envelope.
    c.socket.write(`${MESSAGE}MAIL FROM:<a@example.test>\r\nRCPT TO:<c@example.test>\r\nDATA\r\n`);
    const next = await c.until(4);
    assert.deepEqual(next.lines.map((l) => l.slice(0, 3)), ['250', '250', '250', '354']);
    assert.match(next.lines[0]!, /Message queued as \S+/);
    assert.equal(next.chunks, 1, 'the four replies came in one read');
    c.reset();
    const closed = once(c.socket, 'close');
    c.socket.write(`${MESSAGE}QUIT\r\n`);
    const last = await c.until(2);
    assert.deepEqual(last.lines.map((l) => l.slice(0, 3)), ['250', '221']);
    const ids = [next.lines[0]!, last.lines[0]!].map((l) => /queued as (\S+)/.exec(l)![1]!);
    const stored = await Promise.all(ids.map(async (id) => ((await (await fetch(`${server.httpUrl}/api/messages/${id}`)).json()) as { envelope: { to: string[] } }).envelope.to));
    assert.deepEqual(stored, [['b@example.test'], ['c@example.test']]);
    await closed;
  });

  it('answers a client that waits for each reply, one command at a time', async () => {
    const c = await Reads.open(server.smtpPort);
    const steps: Array<[string, string]> = [
      ['EHLO client.example', '250'],
      ['MAIL FROM:<a@example.test>', '250'],
      ['RCPT TO:<d@example.test>', '250'],
      ['DATA', '354'],
      [MESSAGE.slice(0, -2), '250'],
      ['QUIT', '221'],
    ];
    await c.until(1);
    let seen = 1;
    for (const [command, code] of steps) {
      c.socket.write(`${command}\r\n`);
      const { lines } = await c.until(++seen);
      assert.equal(lines.at(-1)!.slice(0, 3), code, `${command.slice(0, 20)} answered ${code}`);
    }
  });

  it('still refuses a client that talks before the greeting (its bytes reach smtp-server, none are lost)', async () => {
    const c = await Reads.open(server.smtpPort);
    const closed = once(c.socket, 'close');
    // Written at once on connect, before smtp-server has piped the socket into its parser.
    c.socket.write('EHLO early.example\r\n');
    const { lines } = await c.until(1);
    assert.match(lines[0]!, /^421 .*too soon/);
    await closed;
  });
});
