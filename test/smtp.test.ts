// The SMTP edge, driven by real clients: nodemailer as an application would use it, and raw
// sockets for what clients smooth over (pipelining, exact bytes, limits, disconnects).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import nodemailer from 'nodemailer';
import { startTestServer, type TestServer } from './helpers/server.js';
import { RawSmtp, sendRaw, queuedId, expectedStored } from './helpers/smtp-client.js';
import type { StoreEvent } from '../server/store/store.js';

const SIMPLE = Buffer.from(
  'From: Alice <alice@example.test>\r\nTo: Bob <bob@example.test>\r\nSubject: =?UTF-8?Q?R=C3=A9initialiser?= your password\r\n' +
    'Date: Tue, 3 Nov 2026 10:00:00 +0000\r\nMessage-ID: <reset-1@example.test>\r\n\r\nHello Bob,\r\nfollow https://app.example.test/reset?t=abc\r\n',
);

describe('SMTP with STARTTLS on', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ smtpStartTls: 'on' });
  });
  after(() => server.close());

  it('advertises the ESMTP extensions and no outbound relay', async () => {
    const { client, greeting } = await RawSmtp.connect(server.smtpPort);
    assert.equal(greeting.code, 220);
    const ehlo = await client.command('EHLO client.example');
    assert.equal(ehlo.code, 250);
    for (const ext of ['PIPELINING', '8BITMIME', 'SMTPUTF8', 'ENHANCEDSTATUSCODES', 'STARTTLS', 'SIZE 52428800']) {
      assert.match(ehlo.text, new RegExp(`^${ext}$`, 'm'), ext);
    }
    assert.match(ehlo.text, /^AUTH .*PLAIN.*LOGIN.*CRAM-MD5/m);
    await client.quit();
  });

  it('stores a message sent by nodemailer with its envelope, Bcc included, and answers with its id', async () => {
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: server.smtpPort, secure: false, ignoreTLS: true });
    const info = await transport.sendMail({
      from: 'Alice <alice@example.test>',
      to: 'bob@example.test',
      bcc: 'secret@example.test',
      subject: 'Welcome',
      text: 'Hi Bob',
    });
    const id = queuedId({ code: 250, text: info.response });
    const m = server.store.get(id);
    assert.ok(m, 'the id in the 250 reply is in the store');
    assert.equal(m.envelope.mailFrom, 'alice@example.test');
    assert.deepEqual([...m.envelope.rcptTo].sort(), ['bob@example.test', 'secret@example.test']);
    assert.equal(m.envelope.tls, false);
    assert.equal(m.envelope.authUser, null);
    assert.equal(m.inbox, 'default');
    assert.equal(m.envelope.remoteAddress, '127.0.0.1');
    assert.equal(m.headers.subject, 'Welcome');
    const summary = server.store.summary(m);
    assert.equal(summary.snippet, 'Hi Bob');
    assert.equal(summary.read, false);
    assert.deepEqual([...summary.envelope.to].sort(), ['bob@example.test', 'secret@example.test']);
    transport.close();
  });

  it('upgrades with STARTTLS and records that the message came over TLS', async () => {
    const transport = nodemailer.createTransport({
      host: '127.0.0.1', port: server.smtpPort, secure: false, requireTLS: true, tls: { rejectUnauthorized: false },
    });
    const info = await transport.sendMail({ from: 'a@example.test', to: 'b@example.test', subject: 'tls', text: 'x' });
    assert.equal(server.store.get(queuedId({ code: 250, text: info.response }))?.envelope.tls, true);
    transport.close();
  });

  for (const method of ['PLAIN', 'LOGIN', 'CRAM-MD5'] as const) {
    it(`accepts AUTH ${method} in the clear with any credentials and files the message under the username`, async () => {
      const transport = nodemailer.createTransport({
        host: '127.0.0.1', port: server.smtpPort, secure: false, ignoreTLS: true,
        auth: { user: `suite-${method.toLowerCase()}`, pass: 'whatever' }, authMethod: method,
      });
      const info = await transport.sendMail({ from: 'a@example.test', to: 'b@example.test', subject: method, text: 'x' });
      const m = server.store.get(queuedId({ code: 250, text: info.response }));
      assert.equal(m?.inbox, `suite-${method.toLowerCase()}`);
      assert.equal(m?.envelope.authUser, `suite-${method.toLowerCase()}`);
      transport.close();
    });
  }

  it('accepts SMTPUTF8 addresses and 8-bit headers, stored byte for byte', async () => {
    const raw = Buffer.from('From: 用户@例子.测试\r\nTo: ünïcode@exämple.test\r\nSubject: Grüße aus 東京\r\n\r\nbody\r\n', 'utf8');
    const { client } = await RawSmtp.connect(server.smtpPort);
    await client.command('EHLO x');
    assert.equal((await client.command('MAIL FROM:<用户@例子.测试> SMTPUTF8')).code, 250);
    assert.equal((await client.command('RCPT TO:<ünïcode@exämple.test>')).code, 250);
    const reply = await client.data(raw);
    assert.equal(reply.code, 250);
    const m = server.store.get(queuedId(reply))!;
    assert.ok(m.raw.equals(raw));
    assert.equal(m.envelope.mailFrom, '用户@例子.测试');
    assert.deepEqual(m.envelope.rcptTo, ['ünïcode@exämple.test']);
    assert.equal(m.headers.subject, 'Grüße aus 東京');
    await client.quit();
  });

  it('keeps NUL bytes, bare LF and lines starting with a dot exactly as sent', async () => {
    const raw = Buffer.concat([
      Buffer.from('Subject: odd bytes\n\n.leading dot\r\n..two dots\nbare LF line\n'),
      Buffer.from([0x00, 0xff, 0x0d, 0x0a]),
      Buffer.from('.\n.\r\nend\r\n'),
    ]);
    const reply = await sendRaw(server.smtpPort, raw);
    assert.equal(reply.code, 250);
    assert.ok(server.store.get(queuedId(reply))!.raw.equals(raw));
  });

  it('adds only the final CRLF SMTP requires to a message that lacks one', async () => {
    const raw = Buffer.from('Subject: no final newline\r\n\r\nlast line');
    const reply = await sendRaw(server.smtpPort, raw);
    assert.ok(server.store.get(queuedId(reply))!.raw.equals(expectedStored(raw)));
  });

  it('answers a pipelined batch of transactions in order on one connection', async () => {
    const { client } = await RawSmtp.connect(server.smtpPort);
    await client.command('EHLO pipeline.example');
    const batch = [1, 2, 3]
      .map((n) => `MAIL FROM:<p${n}@example.test>\r\nRCPT TO:<r${n}@example.test>\r\nDATA\r\n`)
      .map((cmds, i) => `${cmds}Subject: pipelined ${i + 1}\r\n\r\nbody ${i + 1}\r\n.\r\n`)
      .join('');
    client.write(batch);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      assert.equal((await client.read()).code, 250, 'MAIL');
      assert.equal((await client.read()).code, 250, 'RCPT');
      assert.equal((await client.read()).code, 354, 'DATA');
      const done = await client.read();
      assert.equal(done.code, 250);
      ids.push(queuedId(done));
    }
    assert.deepEqual(ids.map((id) => server.store.get(id)?.headers.subject), ['pipelined 1', 'pipelined 2', 'pipelined 3']);
    await client.quit();
  });

  it('emits an added event before the 250 reaches the client', async () => {
    const seen: string[] = [];
    const unsubscribe = server.store.subscribe((e: StoreEvent) => {
      if (e.type === 'added') seen.push(e.message.id);
    });
    const { client } = await RawSmtp.connect(server.smtpPort);
    await client.command('EHLO x');
    await client.command('MAIL FROM:<a@example.test>');
    await client.command('RCPT TO:<b@example.test>');
    const reply = await client.data(SIMPLE);
    // Taken as the 250 arrives, before anything else is sent or awaited.
    const seenAtReply = [...seen];
    unsubscribe();
    assert.equal(reply.code, 250);
    assert.ok(seenAtReply.includes(queuedId(reply)), 'the added event was emitted before the 250 arrived');
    await client.quit();
  });

  it('decodes the summary: RFC 2047 subject, addresses, date and Message-ID', async () => {
    const m = server.store.get(queuedId(await sendRaw(server.smtpPort, SIMPLE)))!;
    assert.equal(m.headers.subject, 'Réinitialiser your password');
    assert.deepEqual(m.headers.from, { name: 'Alice', address: 'alice@example.test' });
    assert.deepEqual(m.headers.to, [{ name: 'Bob', address: 'bob@example.test' }]);
    assert.equal(m.headers.date, '2026-11-03T10:00:00.000Z');
    assert.equal(m.headers.messageId, 'reset-1@example.test');
  });

  it('answers 503 to DATA before RCPT and keeps the session usable', async () => {
    const { client } = await RawSmtp.connect(server.smtpPort);
    await client.command('EHLO x');
    assert.equal((await client.command('DATA')).code, 503);
    assert.equal((await client.command('BOGUS')).code, 500);
    assert.equal((await client.command('MAIL FROM:<a@example.test>')).code, 250);
    assert.equal((await client.command('RCPT TO:<b@example.test>')).code, 250);
    assert.equal((await client.data(SIMPLE)).code, 250);
    await client.quit();
  });

  it('stores nothing when the client disconnects in the middle of DATA', async () => {
    const before = server.store.counts().messages;
    const { client } = await RawSmtp.connect(server.smtpPort);
    await client.command('EHLO x');
    await client.command('MAIL FROM:<a@example.test>');
    await client.command('RCPT TO:<b@example.test>');
    assert.equal((await client.command('DATA')).code, 354);
    await client.flush('Subject: half a message\r\n\r\nthis never ends');
    client.destroy();
    // A whole transaction on a new connection takes several round trips: by its 250 the server
    // has long seen the first connection go. Only that message was stored.
    const next = await sendRaw(server.smtpPort, SIMPLE);
    assert.equal(next.code, 250);
    assert.equal(server.store.counts().messages, before + 1);
    assert.ok(server.store.get(queuedId(next)));
  });

  it('is reachable by Python smtplib with STARTTLS and AUTH', async () => {
    const { execFile } = await import('node:child_process');
    const script = [
      'import smtplib, ssl, sys',
      `s = smtplib.SMTP("127.0.0.1", ${server.smtpPort})`,
      'ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE',
      's.starttls(context=ctx)',
      's.login("py-suite", "secret")',
      's.sendmail("py@example.test", ["to@example.test"], b"Subject: from python\\r\\n\\r\\nhi\\r\\n")',
      's.quit()',
    ].join('\n');
    await new Promise<void>((resolve, reject) =>
      execFile('python3', ['-c', script], (err, _out, stderr) => (err ? reject(new Error(stderr)) : resolve())),
    );
    let found: boolean = false;
    server.store.forEachNewest((m) => {
      if (m.headers.subject === 'from python') {
        found = m.inbox === 'py-suite' && m.envelope.tls;
        return false;
      }
    });
    assert.equal(found, true);
  });

  it('is reachable by swaks with STARTTLS and AUTH LOGIN', async () => {
    const { execFile } = await import('node:child_process');
    await new Promise<void>((resolve, reject) =>
      execFile(
        'swaks',
        ['--server', `127.0.0.1:${server.smtpPort}`, '--from', 'sw@example.test', '--to', 'to@example.test', '--tls',
          '--auth', 'LOGIN', '--auth-user', 'swaks-suite', '--auth-password', 'pw', '--header', 'Subject: from swaks'],
        (err, stdout) => (err ? reject(new Error(stdout)) : resolve()),
      ),
    );
    let found: { inbox: string; tls: boolean } | undefined;
    server.store.forEachNewest((m) => {
      if (m.headers.subject === 'from swaks') {
        found = { inbox: m.inbox, tls: m.envelope.tls };
        return false;
      }
    });
    assert.deepEqual(found, { inbox: 'swaks-suite', tls: true });
  });

  it('is reachable by curl over SMTP with AUTH', async () => {
    const { execFile } = await import('node:child_process');
    const { writeFile, mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'mailpen-curl-'));
    const file = join(dir, 'mail.eml');
    await writeFile(file, 'Subject: from curl\r\nFrom: c@example.test\r\n\r\nhi from curl\r\n');
    try {
      await new Promise<void>((resolve, reject) =>
        execFile(
          'curl',
          ['-sS', `smtp://127.0.0.1:${server.smtpPort}`, '--mail-from', 'c@example.test', '--mail-rcpt', 'x@example.test', '--user', 'curl-suite:pw', '--upload-file', file],
          (err, _out, stderr) => (err ? reject(new Error(stderr)) : resolve()),
        ),
      );
    } finally {
      await rm(dir, { recursive: true });
    }
    let inbox: string | undefined;
    server.store.forEachNewest((m) => {
      if (m.headers.subject === 'from curl') {
        inbox = m.inbox;
        return false;
      }
    });
    assert.equal(inbox, 'curl-suite');
  });
});

describe('SMTP limits', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ maxMessageSize: 10_000, maxRecipients: 3, maxConnections: 2, smtpIdleTimeout: 400 });
  });
  after(() => server.close());

  it('answers 552 to an over-size message, stores nothing, and accepts the next message on the same connection', async () => {
    const before = server.store.counts().messages;
    const { client } = await RawSmtp.connect(server.smtpPort);
    await client.command('EHLO x');
    await client.command('MAIL FROM:<a@example.test>');
    await client.command('RCPT TO:<b@example.test>');
    const big = Buffer.from('Subject: big\r\n\r\n' + 'x'.repeat(76).concat('\r\n').repeat(200));
    const tooBig = await client.data(big);
    assert.equal(tooBig.code, 552);
    assert.match(tooBig.text, /^5\.3\.4 [^0-9]/, 'one enhanced code, the one for size');
    assert.equal(server.store.counts().messages, before);
    assert.equal((await client.command('MAIL FROM:<a@example.test>')).code, 250);
    assert.equal((await client.command('RCPT TO:<b@example.test>')).code, 250);
    const ok = await client.data(SIMPLE);
    assert.equal(ok.code, 250);
    assert.ok(server.store.get(queuedId(ok)));
    await client.quit();
  });

  it('refuses MAIL FROM with a declared SIZE over the limit', async () => {
    const { client } = await RawSmtp.connect(server.smtpPort);
    await client.command('EHLO x');
    const reply = await client.command('MAIL FROM:<a@example.test> SIZE=20000');
    assert.equal(reply.code, 552);
    assert.equal((await client.command('MAIL FROM:<a@example.test> SIZE=200')).code, 250);
    await client.quit();
  });

  it('answers 452 past the recipient limit and still delivers to the accepted ones', async () => {
    const { client } = await RawSmtp.connect(server.smtpPort);
    await client.command('EHLO x');
    await client.command('MAIL FROM:<a@example.test>');
    for (const n of [1, 2, 3]) assert.equal((await client.command(`RCPT TO:<r${n}@example.test>`)).code, 250);
    const fourth = await client.command('RCPT TO:<r4@example.test>');
    assert.equal(fourth.code, 452);
    assert.match(fourth.text, /^4\.5\.3 [^0-9]/);
    const reply = await client.data(SIMPLE);
    assert.equal(reply.code, 250);
    assert.equal(server.store.get(queuedId(reply))!.envelope.rcptTo.length, 3);
    await client.quit();
  });

  it('answers 421 to a connection over the limit while the others keep working', async () => {
    const a = await RawSmtp.connect(server.smtpPort);
    const b = await RawSmtp.connect(server.smtpPort);
    const c = await RawSmtp.connect(server.smtpPort);
    assert.equal(a.greeting.code, 220);
    assert.equal(b.greeting.code, 220);
    assert.equal(c.greeting.code, 421);
    assert.equal((await a.client.command('NOOP')).code, 250);
    a.client.destroy();
    b.client.destroy();
    c.client.destroy();
  });

  it('disconnects a client that stays silent past the idle timeout', async () => {
    // The connections of the test before may still be counted for a moment after they closed.
    let { client, greeting } = await RawSmtp.connect(server.smtpPort);
    for (let i = 0; greeting.code !== 220 && i < 50; i++) {
      await delay(20);
      ({ client, greeting } = await RawSmtp.connect(server.smtpPort));
    }
    assert.equal(greeting.code, 220);
    const reply = await client.read();
    assert.equal(reply.code, 421);
    await client.whenClosed();
    assert.equal(client.closed, true);
  });
});

describe('SMTP with default settings (STARTTLS off)', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it('does not offer STARTTLS, so a client that verifies certificates sends in the clear', async () => {
    const { client } = await RawSmtp.connect(server.smtpPort);
    const ehlo = await client.command('EHLO x');
    assert.doesNotMatch(ehlo.text, /STARTTLS/);
    assert.ok([500, 502].includes((await client.command('STARTTLS')).code), 'STARTTLS is refused');
    await client.quit();
    // Nodemailer with its defaults (it upgrades whenever offered, and verifies the certificate).
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: server.smtpPort });
    const info = await transport.sendMail({ from: 'a@example.test', to: 'b@example.test', subject: 'defaults', text: 'x' });
    assert.equal(server.store.get(queuedId({ code: 250, text: info.response }))?.envelope.tls, false);
    transport.close();
  });
});

describe('SMTP strict auth and implicit TLS', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      smtpAuth: 'strict',
      smtpUsers: new Map([['ci', 's3cret']]),
      smtps: { host: '127.0.0.1', port: 0 },
    });
  });
  after(() => server.close());

  it('answers 535 to unknown credentials and 530 to mail without AUTH', async () => {
    const { client } = await RawSmtp.connect(server.smtpPort);
    await client.command('EHLO x');
    const bad = await client.command(`AUTH PLAIN ${Buffer.from('\0ci\0wrong').toString('base64')}`);
    assert.equal(bad.code, 535);
    assert.match(bad.text, /^5\.7\.8 [^0-9]/);
    assert.equal((await client.command('MAIL FROM:<a@example.test>')).code, 530);
    const good = await client.command(`AUTH PLAIN ${Buffer.from('\0ci\0s3cret').toString('base64')}`);
    assert.equal(good.code, 235);
    assert.equal((await client.command('MAIL FROM:<a@example.test>')).code, 250);
    await client.quit();
  });

  it('checks CRAM-MD5 against the configured password', async () => {
    const ok = nodemailer.createTransport({ host: '127.0.0.1', port: server.smtpPort, ignoreTLS: true, auth: { user: 'ci', pass: 's3cret' }, authMethod: 'CRAM-MD5' });
    await ok.sendMail({ from: 'a@example.test', to: 'b@example.test', subject: 'cram', text: 'x' });
    const bad = nodemailer.createTransport({ host: '127.0.0.1', port: server.smtpPort, ignoreTLS: true, auth: { user: 'ci', pass: 'nope' }, authMethod: 'CRAM-MD5' });
    await assert.rejects(bad.sendMail({ from: 'a@example.test', to: 'b@example.test', subject: 'cram', text: 'x' }), /535/);
    ok.close();
    bad.close();
  });

  it('accepts mail on the implicit-TLS port', async () => {
    assert.ok(server.smtps);
    const transport = nodemailer.createTransport({
      host: '127.0.0.1', port: server.smtps.port, secure: true, tls: { rejectUnauthorized: false }, auth: { user: 'ci', pass: 's3cret' },
    });
    const info = await transport.sendMail({ from: 'a@example.test', to: 'b@example.test', subject: 'smtps', text: 'x' });
    const m = server.store.get(queuedId({ code: 250, text: info.response }));
    assert.equal(m?.envelope.tls, true);
    assert.equal(m?.inbox, 'ci');
    transport.close();
  });
});
