// The load generator: N SMTP connections, each pipelining (RFC 2920) the envelope of the next
// message behind the data of the current one, so a message costs one round trip. It parses only
// reply codes; whatever it spends is spent alike for every server it is pointed at.
import net from 'node:net';
import { performance } from 'node:perf_hooks';

export interface LoadOptions {
  port: number;
  /** Wire-ready messages (dot-stuffed, terminated), sent in order across the connections. */
  messages: Buffer[];
  connections: number;
  from?: string;
  /** The RCPT TO of message i. */
  to?: (i: number) => string;
  /** Called on each 250 for a message, with the reply text and performance.now(). */
  onAccepted?: (i: number, text: string, at: number) => void;
}

export interface LoadResult {
  accepted: number;
  rejected: number;
  seconds: number;
  perSecond: number;
  /** Total bytes of the messages accepted. */
  bytes: number;
}

interface Reply {
  code: number;
  text: string;
}

class Connection {
  #socket: net.Socket;
  #buffer = '';
  #waiters: Array<(r: Reply) => void> = [];
  #early: Reply[] = [];

  constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => this.#onData(chunk));
    socket.on('close', () => {
      for (const w of this.#waiters.splice(0)) w({ code: 0, text: 'connection closed' });
    });
    socket.on('error', () => {});
  }

  #onData(chunk: string): void {
    this.#buffer += chunk;
    let end;
    while ((end = this.#buffer.indexOf('\r\n')) >= 0) {
      const line = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + 2);
      if (line[3] === '-') continue;
      const reply = { code: Number(line.slice(0, 3)), text: line.slice(4) };
      const waiter = this.#waiters.shift();
      if (waiter) waiter(reply);
      else this.#early.push(reply);
    }
  }

  read(): Promise<Reply> {
    const early = this.#early.shift();
    if (early) return Promise.resolve(early);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  write(data: string | Buffer): void {
    this.#socket.write(data);
  }

  end(): void {
    this.#socket.end('QUIT\r\n');
    this.#socket.destroySoon();
  }
}

export async function connect(port: number): Promise<Connection> {
  const socket = net.connect({ port, host: '127.0.0.1' });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const c = new Connection(socket);
  const greeting = await c.read();
  if (greeting.code !== 220) throw new Error(`greeting ${greeting.code} ${greeting.text}`);
  c.write('EHLO bench.local\r\n');
  const ehlo = await c.read();
  if (ehlo.code !== 250) throw new Error(`EHLO ${ehlo.code} ${ehlo.text}`);
  return c;
}

export async function sendPipelined(options: LoadOptions): Promise<LoadResult> {
  const { port, messages, connections } = options;
  const from = options.from ?? 'bench@sender.example';
  const to = options.to ?? ((i: number) => `user${i % 1000}@example.test`);
  const envelope = (i: number): string => `MAIL FROM:<${from}>\r\nRCPT TO:<${to(i)}>\r\nDATA\r\n`;
  let next = 0;
  let accepted = 0;
  let rejected = 0;
  let bytes = 0;

  async function run(c: Connection): Promise<void> {
    let i = next++;
    if (i >= messages.length) return c.end();
    c.write(envelope(i));
    while (i < messages.length) {
      const mail = await c.read();
      const rcpt = await c.read();
      const data = await c.read();
      if (mail.code !== 250 || rcpt.code !== 250 || data.code !== 354) {
        throw new Error(`envelope refused: ${mail.code} ${rcpt.code} ${data.code} ${data.text}`);
      }
      const j = next++;
      // The next envelope rides in the same write as this message's data.
      c.write(j < messages.length ? Buffer.concat([messages[i]!, Buffer.from(envelope(j), 'latin1')]) : messages[i]!);
      const reply = await c.read();
      if (reply.code === 250) {
        accepted++;
        bytes += messages[i]!.length;
        options.onAccepted?.(i, reply.text, performance.now());
      } else {
        rejected++;
      }
      i = j;
    }
    c.end();
  }

  const clients = await Promise.all(Array.from({ length: Math.min(connections, messages.length) }, () => connect(port)));
  const started = performance.now();
  await Promise.all(clients.map(run));
  const seconds = (performance.now() - started) / 1000;
  return { accepted, rejected, seconds, perSecond: accepted / seconds, bytes };
}
