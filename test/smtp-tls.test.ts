// MAILPEN_SMTP_STARTTLS: off by default (the most used client libraries upgrade whenever STARTTLS is offered and
// then reject a self-signed certificate), on when asked or when a certificate is configured, required on demand.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import nodemailer from 'nodemailer';
import { loadConfig, ConfigError } from '../server/config.js';
import { createLogger } from '../server/log.js';
import { start, type Mailpen } from '../server/main.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { RawSmtp, queuedId } from './helpers/smtp-client.js';
import { makeTestCa, type TestCa } from './helpers/test-ca.js';

const PORTS = { MAILPEN_SMTP_ADDR: '127.0.0.1:0', MAILPEN_HTTP_ADDR: '127.0.0.1:0', MAILPEN_LOG_LEVEL: 'silent' };

describe('the STARTTLS setting', () => {
  it('is off by default, on or required when asked, and names what it accepts otherwise', () => {
    assert.equal(loadConfig([], {}).smtpStartTls, 'off');
    assert.equal(loadConfig(['--smtp-starttls', 'on'], {}).smtpStartTls, 'on');
    assert.equal(loadConfig([], { MAILPEN_SMTP_STARTTLS: 'required' }).smtpStartTls, 'required');
    assert.throws(() => loadConfig([], { MAILPEN_SMTP_STARTTLS: 'yes' }), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /MAILPEN_SMTP_STARTTLS "yes": expected off, on, required/);
      return true;
    });
  });

  it('turns on when a certificate and key are configured, unless set off', () => {
    const files = { MAILPEN_TLS_CERT: '/etc/mailpen/cert.pem', MAILPEN_TLS_KEY: '/etc/mailpen/key.pem' };
    assert.equal(loadConfig([], files).smtpStartTls, 'on');
    assert.equal(loadConfig([], { ...files, MAILPEN_SMTP_STARTTLS: 'off' }).smtpStartTls, 'off');
    assert.equal(loadConfig(['--smtp-starttls', 'required'], files).smtpStartTls, 'required');
  });
});

describe('SMTP with STARTTLS off (the default)', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it('does not advertise STARTTLS and refuses the command, so Nodemailer with only host and port delivers', async () => {
    const { client } = await RawSmtp.connect(server.smtpPort);
    assert.doesNotMatch((await client.command('EHLO x')).text, /STARTTLS/);
    assert.ok([500, 502].includes((await client.command('STARTTLS')).code));
    await client.quit();
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: server.smtpPort });
    const info = await transport.sendMail({ from: 'a@example.test', to: 'b@example.test', subject: 'defaults', text: 'x' });
    transport.close();
    assert.equal(server.store.get(queuedId({ code: 250, text: info.response }))?.envelope.tls, false);
  });
});

describe('SMTP with a configured certificate (STARTTLS on by it)', () => {
  let ca: TestCa;
  let mailpen: Mailpen;
  before(async () => {
    ca = await makeTestCa();
    const config = loadConfig([], { ...PORTS, MAILPEN_TLS_CERT: ca.certFile, MAILPEN_TLS_KEY: ca.keyFile });
    mailpen = await start(config, createLogger({ logLevel: 'silent', logFormat: 'json' }));
  });
  after(async () => {
    await mailpen.close();
    await ca.remove();
  });

  it('offers STARTTLS with that certificate, which Nodemailer verifies against its CA', async () => {
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: mailpen.smtp.port, tls: { ca: ca.caPem } });
    const info = await transport.sendMail({ from: 'a@example.test', to: 'b@example.test', subject: 'verified', text: 'x' });
    transport.close();
    assert.equal(mailpen.store.get(queuedId({ code: 250, text: info.response }))?.envelope.tls, true);
  });

  it('fails Nodemailer with its defaults, which is why STARTTLS is not offered unless asked for', async () => {
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: mailpen.smtp.port });
    await assert.rejects(transport.sendMail({ from: 'a@example.test', to: 'b@example.test', subject: 'x', text: 'x' }), /certificate/);
    transport.close();
  });
});

describe('SMTP with STARTTLS required', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ smtpStartTls: 'required' });
  });
  after(() => server.close());

  it('answers MAIL FROM and AUTH before STARTTLS with 530 and 538, keeps the session, and takes the mail after it', async () => {
    const { client } = await RawSmtp.connect(server.smtpPort);
    assert.match((await client.command('EHLO x')).text, /^STARTTLS$/m);
    const mail = await client.command('MAIL FROM:<a@example.test>');
    assert.equal(mail.code, 530);
    assert.equal(mail.text, '5.7.0 Must issue a STARTTLS command first');
    assert.equal((await client.command(`AUTH PLAIN ${Buffer.from('\0u\0p').toString('base64')}`)).code, 538);
    assert.equal((await client.command('NOOP')).code, 250, 'the session is still usable');
    assert.equal((await client.startTls()).code, 220);
    assert.equal((await client.command('EHLO x')).code, 250);
    assert.equal((await client.command('MAIL FROM:<a@example.test>')).code, 250);
    assert.equal((await client.command('RCPT TO:<b@example.test>')).code, 250);
    const done = await client.data(Buffer.from('Subject: after starttls\r\n\r\nhi\r\n'));
    assert.equal(done.code, 250);
    await client.quit();
    const m = server.store.get(queuedId(done));
    assert.equal(m?.envelope.tls, true);
  });

  it('lets a client that does not upgrade fail with 530 and stores nothing', async () => {
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: server.smtpPort, ignoreTLS: true });
    const before = server.store.counts().messages;
    await assert.rejects(transport.sendMail({ from: 'a@example.test', to: 'b@example.test', subject: 'x', text: 'x' }), /530/);
    transport.close();
    assert.equal(server.store.counts().messages, before);
  });
});

describe('the mailpen command with a TLS setting it cannot honour', () => {
  const run = (args: string[]): Promise<{ code: number | null; stderr: string }> =>
    new Promise((resolve) => {
      const child = execFile(process.execPath, ['--import', 'tsx', 'server/cli.ts', '--smtp-addr', '127.0.0.1:0', '--http-addr', '127.0.0.1:0', ...args], (_e, _o, stderr) =>
        resolve({ code: child.exitCode, stderr }),
      );
    });

  it('exits 2 naming the setting: an unknown value, required with an unreadable certificate, a certificate without its key', async () => {
    const [unknown, unreadable, half] = await Promise.all([
      run(['--smtp-starttls', 'always']),
      run(['--smtp-starttls', 'required', '--tls-cert', '/nonexistent/cert.pem', '--tls-key', '/nonexistent/key.pem']),
      run(['--smtp-starttls', 'required', '--tls-cert', '/nonexistent/cert.pem']),
    ]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /--smtp-starttls "always": expected off, on, required/);
    assert.equal(unreadable.code, 2);
    assert.match(unreadable.stderr, /MAILPEN_TLS_CERT "\/nonexistent\/cert\.pem" cannot be read/);
    assert.equal(half.code, 2);
    assert.match(half.stderr, /MAILPEN_TLS_CERT and MAILPEN_TLS_KEY go together/);
  });
});
