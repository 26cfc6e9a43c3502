// A client may reset its connection (TCP RST) at any moment; Mailpen must shrug it off. One
// reset on a refused WebSocket upgrade used to end the process (an 'error' event on a socket
// nobody listened on), taking SMTP down with it. This resets the connection at every stage of
// every protocol Mailpen speaks, against Mailpen as its own process, and checks after each one
// that the process still answers HTTP and SMTP.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { randomBytes } from 'node:crypto';
import { startChildServer, type ChildServer } from './helpers/child-server.js';

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Resolves once what the socket received (since it was made) matches `pattern`. */
function received(socket: net.Socket | tls.TLSSocket, pattern: RegExp): Promise<string> {
  let text = '';
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer): void => {
      text += d.toString('latin1');
      if (pattern.test(text)) {
        socket.off('data', onData);
        resolve(text);
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.once('close', () => reject(new Error(`closed before ${pattern}; got ${JSON.stringify(text.slice(0, 200))}`)));
  });
}

/** Sends a TCP RST instead of a FIN. */
function reset(socket: net.Socket): void {
  socket.on('error', () => undefined);
  socket.resetAndDestroy();
}

const upgradeRequest = (path: string, headers: Record<string, string> = {}): string =>
  [
    `GET ${path} HTTP/1.1`,
    'Host: 127.0.0.1',
    'Connection: Upgrade',
    'Upgrade: websocket',
    'Sec-WebSocket-Version: 13',
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
    '',
    '',
  ].join('\r\n');

/** A masked WebSocket text frame. */
function frame(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = randomBytes(4);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]);
}

/** The first bytes of a TLS ClientHello record: a handshake cut off in the middle. */
const PARTIAL_CLIENT_HELLO = Buffer.from('160301020001000200030', 'hex');

type Scenario = [name: string, run: (s: ChildServer) => Promise<void>];

const httpPort = (s: ChildServer): number => Number(new URL(s.httpUrl).port);

async function smtpTo(port: number, stage: 'greeting' | 'ehlo' | 'mail' | 'rcpt' | 'data' | 'dot'): Promise<net.Socket> {
  const socket = await connect(port);
  await received(socket, /^220 /m);
  if (stage === 'greeting') return socket;
  socket.write('EHLO resets.test\r\n');
  await received(socket, /^250 /m);
  if (stage === 'ehlo') return socket;
  socket.write('MAIL FROM:<a@example.test>\r\n');
  if (stage === 'mail') return socket;
  await received(socket, /^250 /m);
  socket.write('RCPT TO:<b@example.test>\r\n');
  await received(socket, /^250 /m);
  if (stage === 'rcpt') return socket;
  socket.write('DATA\r\n');
  await received(socket, /^354 /m);
  socket.write('Subject: reset\r\n\r\nhalf a bo');
  if (stage === 'data') return socket;
  socket.write('dy\r\n.\r\n');
  return socket;
}

async function startTlsTo(port: number): Promise<net.Socket> {
  const socket = await connect(port);
  await received(socket, /^220 /m);
  socket.write('EHLO resets.test\r\n');
  await received(socket, /^250 /m);
  socket.write('STARTTLS\r\n');
  await received(socket, /^220 /m);
  return socket;
}

function handshake(raw: net.Socket): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const secure = tls.connect({ socket: raw, rejectUnauthorized: false }, () => resolve(secure));
    secure.once('error', reject);
  });
}

const scenarios: Scenario[] = [
  // HTTP requests
  ['HTTP: connected, nothing sent', async (s) => reset(await connect(httpPort(s)))],
  ['HTTP: half a request line', async (s) => {
    const socket = await connect(httpPort(s));
    socket.write('GET /api/mess');
    reset(socket);
  }],
  ['HTTP: a whole request, answer not read', async (s) => {
    const socket = await connect(httpPort(s));
    socket.write('GET /api/messages HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    reset(socket);
  }],
  ['HTTP: half an upload body', async (s) => {
    const socket = await connect(httpPort(s));
    socket.write('POST /api/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: message/rfc822\r\nContent-Length: 1000\r\n\r\nSubject: x\r\n');
    reset(socket);
  }],
  ['HTTP: a pending /api/wait', async (s) => {
    const socket = await connect(httpPort(s));
    socket.write('GET /api/wait?q=subject:never&timeout=30 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    // The wait is registered once /api/info counts it.
    for (;;) {
      const info = (await (await fetch(`${s.httpUrl}/api/info`)).json()) as { counts: { waiters: number } };
      if (info.counts.waiters > 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    reset(socket);
  }],
  // Refused upgrades: every reason, reset before and after the refusal is read
  ...(
    [
      ['a foreign Origin', upgradeRequest('/api/events', { Origin: 'http://evil.example' })],
      ['a rebinding Host', upgradeRequest('/api/events').replace('Host: 127.0.0.1', 'Host: evil.example')],
      ['a bad since', upgradeRequest('/api/events?since=x')],
      ['a path with no event stream', upgradeRequest('/')],
      ['a non-WebSocket Upgrade', 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: x\r\n\r\n'],
      ['an absolute-form target', upgradeRequest('http://evil.example/api/events')],
    ] as const
  ).flatMap(([why, request]): Scenario[] => [
    [`upgrade refused for ${why}: reset before reading`, async (s) => {
      const socket = await connect(httpPort(s));
      socket.write(request);
      reset(socket);
    }],
    [`upgrade refused for ${why}: reset after 9 bytes of the answer`, async (s) => {
      const socket = await connect(httpPort(s));
      socket.write(request);
      await received(socket, /^HTTP\/1\.1/);
      reset(socket);
    }],
  ]),
  // Accepted upgrades and WebSocket frames
  ['WebSocket: reset right after the upgrade request', async (s) => {
    const socket = await connect(httpPort(s));
    socket.write(upgradeRequest('/api/events'));
    reset(socket);
  }],
  ['WebSocket: reset after the 101', async (s) => {
    const socket = await connect(httpPort(s));
    socket.write(upgradeRequest('/api/events'));
    await received(socket, /101 Switching Protocols[\s\S]*\r\n\r\n/);
    reset(socket);
  }],
  ['WebSocket: reset in the middle of a frame', async (s) => {
    const socket = await connect(httpPort(s));
    socket.write(upgradeRequest('/api/events'));
    await received(socket, /101 Switching Protocols[\s\S]*\r\n\r\n/);
    socket.write(frame('{"hello":"there"}').subarray(0, 8));
    reset(socket);
  }],
  ['WebSocket: reset after a whole frame', async (s) => {
    const socket = await connect(httpPort(s));
    socket.write(upgradeRequest('/api/events'));
    await received(socket, /"type":"hello"/);
    socket.write(frame('{"hello":"there"}'));
    reset(socket);
  }],
  // SMTP commands and DATA
  ...(['greeting', 'ehlo', 'mail', 'rcpt', 'data', 'dot'] as const).map((stage): Scenario => [
    `SMTP: reset after ${stage}`,
    async (s) => reset(await smtpTo(s.smtpPort, stage)),
  ]),
  // STARTTLS
  ['STARTTLS: reset after the 220, before the handshake', async (s) => reset(await startTlsTo(s.smtpPort))],
  ['STARTTLS: reset in the middle of the handshake', async (s) => {
    const socket = await startTlsTo(s.smtpPort);
    socket.write(PARTIAL_CLIENT_HELLO);
    reset(socket);
  }],
  ['STARTTLS: reset after the handshake', async (s) => {
    const raw = await startTlsTo(s.smtpPort);
    await handshake(raw);
    reset(raw);
  }],
  // Implicit TLS
  ['SMTPS: reset before the handshake', async (s) => reset(await connect(s.smtpsPort!))],
  ['SMTPS: reset in the middle of the handshake', async (s) => {
    const socket = await connect(s.smtpsPort!);
    socket.write(PARTIAL_CLIENT_HELLO);
    reset(socket);
  }],
  ['SMTPS: reset after the handshake, mid-command', async (s) => {
    const raw = await connect(s.smtpsPort!);
    const secure = await handshake(raw);
    await received(secure, /^220 /m);
    secure.write('EHLO resets.te');
    reset(raw);
  }],
];

/** The process answers HTTP and SMTP. */
async function serving(s: ChildServer): Promise<void> {
  const health = await fetch(`${s.httpUrl}/healthz`);
  assert.equal(health.status, 200);
  const socket = await connect(s.smtpPort);
  await received(socket, /^220 /m);
  socket.write('QUIT\r\n');
  await received(socket, /^221 /m);
  socket.destroy();
}

describe('connection resets at every stage of every protocol', () => {
  let server: ChildServer;
  before(async () => {
    server = await startChildServer(['--smtps-addr', '127.0.0.1:0', '--smtp-starttls', 'on']);
  });
  after(async () => server.stop());

  for (const [name, run] of scenarios) {
    it(`keeps serving after a reset: ${name}`, async () => {
      await run(server);
      await serving(server);
      // Twice: the crash came from the server's own write after the reset, a moment later.
      await serving(server);
      assert.equal(server.exited(), null, `the process exited: ${server.stderr()}`);
      assert.doesNotMatch(server.stderr(), /Unhandled|uncaught/i);
    });
  }
});
