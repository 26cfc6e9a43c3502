// `mailpen sendmail` as PHP, cron and git send-email run it: the real command in a child process,
// a message on its stdin, a real Mailpen on port 0; what arrived is read back from the store and the API.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { startTestServer, type TestServer } from './helpers/server.js';
import type { StoredMessage } from '../server/store/store.js';

const CLI = fileURLToPath(new URL('../server/cli.ts', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function sendmail(args: string[], input: string | Buffer, env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'sendmail', ...args], {
      env: { ...process.env, MAILPEN_SENDMAIL_ADDR: '', MAILPEN_SENDMAIL_AUTH: '', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    // The command may stop reading early (a lone dot, a usage error); that is not this test's failure.
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
}

const crlf = (lines: string[]): string => lines.join('\r\n') + '\r\n';

/** A port that was free a moment ago: nothing listens on it. */
async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe('mailpen sendmail', () => {
  let server: TestServer;
  let addr: string;
  let seq: number;

  before(async () => {
    server = await startTestServer();
    addr = `127.0.0.1:${server.smtpPort}`;
  });
  after(() => server.close());

  /** Notes the store's position; arrived() then returns what came after it. */
  const mark = (): void => {
    seq = server.store.nextSeq();
  };
  const arrived = (): StoredMessage[] => server.store.since(seq - 1);
  const rawViaApi = async (id: string): Promise<Buffer> => {
    const res = await fetch(`${server.httpUrl}/api/messages/${id}/raw`);
    assert.equal(res.status, 200);
    return Buffer.from(await res.arrayBuffer());
  };

  it('with -t -i (PHP mail()) sends to To, Cc and Bcc, removes the folded Bcc field and keeps every other byte', async () => {
    mark();
    const input = crlf([
      'From: Shop <shop@example.test>',
      'To: Ann <ann@example.test>',
      'Bcc: audit@example.test,',
      '  "Second, Auditor" <audit2@example.test>',
      'Cc: carl@example.test',
      'Subject: Your order',
      'MIME-Version: 1.0',
      '',
      'Thanks.',
      '.',
      '..a line starting with a dot',
    ]);
    const run = await sendmail(['-t', '-i', '-S', addr], input);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, '');
    const [message, ...rest] = arrived();
    assert.ok(message);
    assert.equal(rest.length, 0);
    // In the order the fields come.
    assert.deepEqual(message.envelope.rcptTo, ['ann@example.test', 'audit@example.test', 'audit2@example.test', 'carl@example.test']);
    assert.equal(message.envelope.mailFrom, 'shop@example.test', 'the sender defaults to the From address');
    const expected = input.replace('Bcc: audit@example.test,\r\n  "Second, Auditor" <audit2@example.test>\r\n', '');
    assert.deepEqual(await rawViaApi(message.id), Buffer.from(expected));
    assert.doesNotMatch(message.raw.toString('latin1'), /audit/i);
  });

  it('with -f and explicit recipients (git send-email) uses them as the envelope and leaves the message alone', async () => {
    mark();
    const input = crlf(['From: Dev <dev@example.test>', 'To: list@example.test', 'Subject: [PATCH] fix', '', 'diff']);
    const run = await sendmail(['-i', '-f', 'bounces@example.test', 'list@example.test', 'maint@example.test'], input, { MAILPEN_SENDMAIL_ADDR: addr });
    assert.equal(run.code, 0, run.stderr);
    const [message] = arrived();
    assert.ok(message);
    assert.equal(message.envelope.mailFrom, 'bounces@example.test');
    assert.deepEqual(message.envelope.rcptTo, ['list@example.test', 'maint@example.test']);
    assert.deepEqual(message.raw, Buffer.from(input));
  });

  it('takes the sender attached (-fsender, -f "<x>"), and -f "<>" as the null sender', async () => {
    mark();
    const input = crlf(['Subject: bounce', '', 'x']);
    assert.equal((await sendmail(['-fattached@example.test', '-S', addr, 'a@example.test'], input)).code, 0);
    assert.equal((await sendmail(['-f', '<bracketed@example.test>', '-S', addr, 'a@example.test'], input)).code, 0);
    assert.equal((await sendmail(['-f', '<>', '-S', addr, 'a@example.test'], input)).code, 0);
    assert.deepEqual(arrived().map((m) => m.envelope.mailFrom), ['attached@example.test', 'bracketed@example.test', '']);
  });

  it("accepts cron's and mutt's other flags without effect, and adds -t's header recipients to the named ones", async () => {
    mark();
    const input = crlf(['From: cron@example.test', 'To: root@example.test', 'Subject: Cron <root@host> run-parts', '', 'output']);
    const run = await sendmail(
      ['-FCronDaemon', '-i', '-B8BITMIME', '-oem', '-odi', '-oi', '-bm', '-N', 'never', '-R', 'hdrs', '-V', 'envid1', '-v', '-t', '-S', addr, '--', 'ops@example.test'],
      input,
    );
    assert.equal(run.code, 0, run.stderr);
    const [message] = arrived();
    assert.ok(message);
    assert.deepEqual(message.envelope.rcptTo, ['ops@example.test', 'root@example.test']);
    assert.deepEqual(message.raw, Buffer.from(input));
    assert.match(run.stderr, new RegExp(`accepted the message for ops@example.test, root@example.test: 250 .*queued as ${message.id}`), '-v says where it went');
  });

  it('removes the Bcc field when recipients are named too, sending only to the named ones', async () => {
    mark();
    const input = crlf(['From: a@example.test', 'To: b@example.test', 'BCC: secret@example.test', 'Subject: s', '', 'Bcc: in the body stays']);
    const run = await sendmail(['-S', addr, 'b@example.test'], input);
    assert.equal(run.code, 0, run.stderr);
    const [message] = arrived();
    assert.ok(message);
    assert.deepEqual(message.envelope.rcptTo, ['b@example.test']);
    assert.deepEqual(message.raw, Buffer.from(crlf(['From: a@example.test', 'To: b@example.test', 'Subject: s', '', 'Bcc: in the body stays'])));
  });

  it('without -i ends the message at a line holding a single dot, as sendmail does', async () => {
    mark();
    const run = await sendmail(['-S', addr, 'a@example.test'], 'Subject: dot\n\nkept\n.\nnot part of the message\n');
    assert.equal(run.code, 0, run.stderr);
    const [message] = arrived();
    assert.ok(message);
    // SMTP carries lines ending in CRLF: bare LF input arrives as CRLF.
    assert.deepEqual(message.raw, Buffer.from('Subject: dot\r\n\r\nkept\r\n'));
  });

  it('converts bare LF line ends to CRLF, since SMTP carries nothing else', async () => {
    mark();
    const run = await sendmail(['-t', '-i', '-S', addr], 'To: lf@example.test\nBcc: gone@example.test\nSubject: lf\n\nline one\n.\nline three\n');
    assert.equal(run.code, 0, run.stderr);
    const [message] = arrived();
    assert.ok(message);
    assert.deepEqual(message.envelope.rcptTo, ['lf@example.test', 'gone@example.test']);
    assert.deepEqual(message.raw, Buffer.from('To: lf@example.test\r\nSubject: lf\r\n\r\nline one\r\n.\r\nline three\r\n'));
  });

  it('with -bs relays an SMTP session on stdin and stdout (Symfony and Laravel)', async () => {
    mark();
    // Each command is written only after the previous reply, as Symfony's client does.
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'sendmail', '-bs', '-i', '-S', addr], { stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdout.setEncoding('utf8');
    let transcript = '';
    const replies: string[] = [];
    const waiters: Array<(line: string) => void> = [];
    child.stdout.on('data', (d: string) => {
      transcript += d;
      for (const line of d.split('\r\n').filter((l) => /^\d{3} /.test(l))) {
        const w = waiters.shift();
        if (w) w(line);
        else replies.push(line);
      }
    });
    const reply = (): Promise<string> => new Promise((resolve) => (replies.length ? resolve(replies.shift()!) : waiters.push(resolve)));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.match(await reply(), /^220 /);
    for (const [command, code] of [['EHLO app.test', '250'], ['MAIL FROM:<app@example.test>', '250'], ['RCPT TO:<user@example.test>', '250'], ['DATA', '354']] as const) {
      child.stdin.write(command + '\r\n');
      assert.match(await reply(), new RegExp(`^${code} `), `${command}: ${transcript}`);
    }
    child.stdin.write('Subject: over -bs\r\n\r\nhello\r\n.\r\n');
    assert.match(await reply(), /^250 .*queued as/);
    child.stdin.write('QUIT\r\n');
    assert.match(await reply(), /^221 /);
    assert.equal(await exited, 0);
    const [message] = arrived();
    assert.ok(message);
    assert.equal(message.envelope.mailFrom, 'app@example.test');
    assert.deepEqual(message.raw, Buffer.from('Subject: over -bs\r\n\r\nhello\r\n'));
  });

  it('exits 64 with a reason when -t finds no recipients, and sends nothing', async () => {
    mark();
    const run = await sendmail(['-t', '-S', addr], crlf(['Subject: nobody', '', 'x']));
    assert.equal(run.code, 64);
    assert.match(run.stderr, /no recipient addresses found in the message header/);
    assert.equal(arrived().length, 0);
  });

  it('exits 64 on an option sendmail does not have, naming it', async () => {
    const run = await sendmail(['-Z', 'a@example.test'], 'x');
    assert.equal(run.code, 64);
    assert.match(run.stderr, /unknown option -Z/);
  });

  it('exits 64 when -f is not an address SMTP can carry, and sends nothing', async () => {
    mark();
    const run = await sendmail(['-f', '<broken@example.test', '-S', addr, 'a@example.test'], crlf(['Subject: s', '', 'x']));
    assert.equal(run.code, 64);
    assert.match(run.stderr, /not a usable envelope: Invalid sender/);
    assert.equal(arrived().length, 0);
  });

  it('with -bs exits 75 with a message on stderr when no server listens', async () => {
    const run = await sendmail(['-bs', '-S', `127.0.0.1:${await freePort()}`], 'EHLO x\r\n');
    assert.equal(run.code, 75);
    assert.match(run.stderr, /cannot reach Mailpen at 127\.0\.0\.1:\d+: .*ECONNREFUSED/);
    assert.equal(run.stdout, '');
  });

  it('exits 78 when MAILPEN_SENDMAIL_ADDR cannot be an address', async () => {
    const run = await sendmail(['a@example.test'], 'x', { MAILPEN_SENDMAIL_ADDR: 'not an address' });
    assert.equal(run.code, 78);
    assert.match(run.stderr, /invalid MAILPEN_SENDMAIL_ADDR "not an address"/);
  });

  it('exits 75 (try again later) with a message on stderr when no server listens', async () => {
    const port = await freePort();
    const run = await sendmail(['-t', '-i', '-S', `127.0.0.1:${port}`], crlf(['To: a@example.test', '', 'x']));
    assert.equal(run.code, 75);
    assert.match(run.stderr, new RegExp(`^mailpen sendmail: cannot deliver to Mailpen at 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
  });
});

describe('mailpen sendmail against a server that refuses', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ maxMessageSize: 1024, maxRecipients: 2, smtpAuth: 'strict', smtpUsers: new Map([['app', 'secret']]) });
  });
  after(() => server.close());

  it('exits 69 with the server reply when the message is refused for good (552, too big)', async () => {
    const run = await sendmail(['-S', `127.0.0.1:${server.smtpPort}`, 'a@example.test'], crlf(['Subject: big', '', 'x'.repeat(4000)]), {
      MAILPEN_SENDMAIL_AUTH: 'app:secret',
    });
    assert.equal(run.code, 69);
    assert.match(run.stderr, /refused the message: 552 5\.3\.4 .*maximum message size/);
    assert.equal(server.store.counts().messages, 0);
  });

  it('logs in with MAILPEN_SENDMAIL_AUTH, so the message lands in that user inbox', async () => {
    const run = await sendmail(['-S', `127.0.0.1:${server.smtpPort}`, 'a@example.test'], crlf(['Subject: small', '', 'x']), { MAILPEN_SENDMAIL_AUTH: 'app:secret' });
    assert.equal(run.code, 0, run.stderr);
    const [message] = server.store.since(0);
    assert.ok(message);
    assert.equal(message.inbox, 'app');
    assert.equal(message.envelope.authUser, 'app');
  });

  it('exits 75 naming the recipients the server turned away (452 over the limit) and those it took', async () => {
    const before = server.store.nextSeq();
    const run = await sendmail(['-S', `127.0.0.1:${server.smtpPort}`, 'a@example.test', 'b@example.test', 'c@example.test'], crlf(['Subject: many', '', 'x']), {
      MAILPEN_SENDMAIL_AUTH: 'app:secret',
    });
    assert.equal(run.code, 75);
    assert.match(run.stderr, /refused c@example\.test: 452 .*\(the message went to a@example\.test, b@example\.test\)/);
    const [message, ...rest] = server.store.since(before - 1);
    assert.ok(message);
    assert.equal(rest.length, 0);
    assert.deepEqual(message.envelope.rcptTo, ['a@example.test', 'b@example.test']);
  });

  it('exits non-zero with the reason when the server demands a login that was not given', async () => {
    const before = server.store.counts().messages;
    const run = await sendmail(['-S', `127.0.0.1:${server.smtpPort}`, 'a@example.test'], crlf(['Subject: anon', '', 'x']));
    assert.equal(run.code, 69);
    assert.match(run.stderr, /refused the message: 530/);
    assert.equal(server.store.counts().messages, before);
  });
});
