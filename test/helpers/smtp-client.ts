// A raw SMTP client over a socket, for what real clients smooth over: pipelining, exact bytes,
// protocol errors, disconnects. Replies are read whole (multi-line replies joined).
import net from 'node:net';
import tls from 'node:tls';

export interface Reply {
  code: number;
  text: string;
}

export class RawSmtp {
  #socket: net.Socket;
  #buffer = '';
  #waiters: Array<(r: Reply) => void> = [];
  #replies: Reply[] = [];
  #closed = false;
  #reads = 0;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    this.#attach(socket);
  }

  static async connect(port: number, host = '127.0.0.1', secure = false): Promise<{ client: RawSmtp; greeting: Reply }> {
    const socket = secure
      ? tls.connect({ port, host, rejectUnauthorized: false })
      : net.connect({ port, host });
    await new Promise<void>((resolve, reject) => {
      socket.once(secure ? 'secureConnect' : 'connect', () => resolve());
      socket.once('error', reject);
    });
    const client = new RawSmtp(socket);
    return { client, greeting: await client.read() };
  }

  #attach(socket: net.Socket): void {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.#reads++;
      this.#buffer += chunk;
      let lineEnd;
      let text = '';
      // A reply ends at a line whose fourth character is a space.
      while ((lineEnd = this.#buffer.indexOf('\r\n')) >= 0) {
        const line = this.#buffer.slice(0, lineEnd);
        this.#buffer = this.#buffer.slice(lineEnd + 2);
        text += (text ? '\n' : '') + line.slice(4);
        if (line[3] !== '-') {
          const reply = { code: Number(line.slice(0, 3)), text };
          text = '';
          const waiter = this.#waiters.shift();
          if (waiter) waiter(reply);
          else this.#replies.push(reply);
        }
      }
    });
    socket.on('close', () => {
      this.#closed = true;
      for (const w of this.#waiters.splice(0)) w({ code: 0, text: 'connection closed' });
    });
    socket.on('error', () => {});
  }

  /** How many chunks the socket's reads have returned so far: replies written together come in one (test/smtp-reply-batching.test.ts). */
  get reads(): number {
    return this.#reads;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Resolves once the server has closed the connection (or it was closed here). */
  whenClosed(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#socket.once('close', () => resolve()));
  }

  /** Resolves once `data` is handed to the operating system (sent, as far as this process can tell). */
  flush(data: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.#socket.write(data, (err) => (err ? reject(err) : resolve())));
  }

  read(): Promise<Reply> {
    const r = this.#replies.shift();
    if (r) return Promise.resolve(r);
    if (this.#closed) return Promise.resolve({ code: 0, text: 'connection closed' });
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  write(data: string | Buffer): void {
    this.#socket.write(data);
  }

  async command(line: string): Promise<Reply> {
    this.write(line + '\r\n');
    return this.read();
  }

  /** Upgrades with STARTTLS; resolves with the 220 reply. */
  async startTls(): Promise<Reply> {
    const reply = await this.command('STARTTLS');
    if (reply.code !== 220) return reply;
    this.#socket.removeAllListeners('data');
    const secure = tls.connect({ socket: this.#socket, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => resolve());
      secure.once('error', reject);
    });
    this.#socket = secure;
    this.#attach(secure);
    return reply;
  }

  /** Sends DATA, the message dot-stuffed, and the terminator; resolves with the final reply. */
  async data(raw: Buffer): Promise<Reply> {
    const go = await this.command('DATA');
    if (go.code !== 354) return go;
    this.write(dotStuff(raw));
    return this.read();
  }

  async quit(): Promise<void> {
    if (!this.#closed) await this.command('QUIT');
    this.#socket.destroy();
  }

  destroy(): void {
    this.#socket.destroy();
  }
}

/**
 * The bytes a client puts on the wire for a message: a dot at the start of any line doubled
 * (smtp-server removes one after any LF, so bare-LF lines are stuffed too), then CRLF.CRLF.
 * A message that does not end in CRLF gets one before the terminator: SMTP cannot carry a
 * message without a final line break, so the server stores it with that CRLF.
 */
export function dotStuff(raw: Buffer): Buffer {
  const parts: Buffer[] = [];
  let start = 0;
  if (raw[0] === 0x2e) parts.push(Buffer.from('.'));
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === 0x0a && raw[i + 1] === 0x2e) {
      parts.push(raw.subarray(start, i + 1), Buffer.from('.'));
      start = i + 1;
    }
  }
  parts.push(raw.subarray(start));
  const endsWithCrlf = raw.length >= 2 && raw[raw.length - 2] === 0x0d && raw[raw.length - 1] === 0x0a;
  parts.push(Buffer.from(endsWithCrlf ? '.\r\n' : '\r\n.\r\n'));
  return Buffer.concat(parts);
}

/** What the store should hold for `raw` sent over SMTP: the same bytes, with a final CRLF added if missing. */
export function expectedStored(raw: Buffer): Buffer {
  const endsWithCrlf = raw.length >= 2 && raw[raw.length - 2] === 0x0d && raw[raw.length - 1] === 0x0a;
  return endsWithCrlf ? raw : Buffer.concat([raw, Buffer.from('\r\n')]);
}

/** One whole transaction on a fresh connection; resolves with the DATA reply. */
export async function sendRaw(port: number, raw: Buffer, opts: { from?: string; to?: string[] } = {}): Promise<Reply> {
  const { client } = await RawSmtp.connect(port);
  try {
    await client.command('EHLO test.example');
    const mail = await client.command(`MAIL FROM:<${opts.from ?? 'sender@example.test'}>`);
    if (mail.code !== 250) return mail;
    for (const rcpt of opts.to ?? ['rcpt@example.test']) {
      const r = await client.command(`RCPT TO:<${rcpt}>`);
      if (r.code !== 250) return r;
    }
    return await client.data(raw);
  } finally {
    await client.quit();
  }
}

/** The message id from a "250 ... queued as <id>" reply. */
export function queuedId(reply: Reply): string {
  const m = /queued as (\S+)/.exec(reply.text);
  if (!m) throw new Error(`no id in reply ${reply.code} ${reply.text}`);
  return m[1]!;
}
