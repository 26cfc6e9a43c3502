// Replies to a pipelined batch go out in one write (server/smtp/reply-batching.ts), seen from a
// raw socket (RawSmtp counts the chunks its reads return). Without batching the four replies to a
// message with the next envelope behind it came in two or three reads; a client waiting for each
// reply still gets it. The server runs in its own process: in this one, the test's reads would
// wait for the server's turns to end and find every reply there, batched or not.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { startChildServer, type ChildServer } from './helpers/child-server.js';
import { RawSmtp, queuedId, type Reply } from './helpers/smtp-client.js';

const MESSAGE = 'From: a@example.test\r\nTo: b@example.test\r\nSubject: batched\r\n\r\nHello\r\n.\r\n';

describe('replies to pipelined commands', () => {
  let server: ChildServer;
  before(async () => {
    server = await startChildServer();
  });
  after(() => server.stop());

  it('answers a pipelined envelope, and a message with the next envelope behind it, each in one read', async () => {
    const { client } = await RawSmtp.connect(server.smtpPort);
    assert.equal((await client.command('EHLO client.example')).code, 250);
    const replies = async (count: number): Promise<{ codes: number[]; replies: Reply[]; reads: number }> => {
      const before = client.reads;
      const got: Reply[] = [];
      for (let i = 0; i < count; i++) got.push(await client.read());
      return { codes: got.map((r) => r.code), replies: got, reads: client.reads - before };
    };
    client.write('MAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n');
    const envelope = await replies(3);
    assert.deepEqual(envelope.codes, [250, 250, 354]);
    assert.equal(envelope.reads, 1, 'the three replies came in one read');
    // What a pipelining client sends next: the data, then the next envelope.
    client.write(`${MESSAGE}MAIL FROM:<a@example.test>\r\nRCPT TO:<c@example.test>\r\nDATA\r\n`);
    const next = await replies(4);
    assert.deepEqual(next.codes, [250, 250, 250, 354]);
    assert.equal(next.reads, 1, 'the four replies came in one read');
    client.write(`${MESSAGE}QUIT\r\n`);
    const last = await replies(2);
    assert.deepEqual(last.codes, [250, 221]);
    const ids = [queuedId(next.replies[0]!), queuedId(last.replies[0]!)];
    const stored = await Promise.all(ids.map(async (id) => ((await (await fetch(`${server.httpUrl}/api/messages/${id}`)).json()) as { envelope: { to: string[] } }).envelope.to));
    assert.deepEqual(stored, [['b@example.test'], ['c@example.test']]);
    await client.whenClosed();
  });

  it('answers a client that waits for each reply, one command at a time', async () => {
    const { client, greeting } = await RawSmtp.connect(server.smtpPort);
    assert.equal(greeting.code, 220);
    const steps: Array<[string, number]> = [
      ['EHLO client.example', 250],
      ['MAIL FROM:<a@example.test>', 250],
      ['RCPT TO:<d@example.test>', 250],
      ['DATA', 354],
      [MESSAGE.slice(0, -2), 250],
      ['QUIT', 221],
    ];
    for (const [command, code] of steps) assert.equal((await client.command(command)).code, code, `${command.slice(0, 20)} answered ${code}`);
  });

  it('still refuses a client that talks before the greeting (its bytes reach smtp-server, none are lost)', async () => {
    // A plain socket: RawSmtp waits for the greeting before anything is written.
    const socket = net.connect(server.smtpPort, '127.0.0.1');
    await once(socket, 'connect');
    const closed = once(socket, 'close');
    // Written at once on connect, before smtp-server has piped the socket into its parser.
    socket.write('EHLO early.example\r\n');
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    await closed;
    assert.match(text, /^421 .*too soon/);
  });
});
