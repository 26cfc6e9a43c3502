// The client matrix: real SMTP clients, each with only host and port set (its library's defaults for everything
// else), send a text + HTML message with an attachment and a UTF-8 subject to a Mailpen with default settings;
// the test reads it back through the HTTP API, byte for byte where the client's bytes are known (the message is
// given to it, or it reports what it sent), field by field where the library builds the message itself.
// Then with STARTTLS on, the clients that can be told to trust a CA do so and keep verification on; and with
// STARTTLS required, a client that does not upgrade gets 530 and one that does gets through.
// The clients are Debian packages (npm test's preflight, test/preflight.ts, names any that is missing);
// `npm run test:clients` runs this file alone.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import nodemailer from 'nodemailer';
import { startTestServer, type TestServer } from './helpers/server.js';
import { expectedStored } from './helpers/smtp-client.js';
import { makeTestCa, type TestCa } from './helpers/test-ca.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCRIPTS = join(ROOT, 'test/clients');

const FROM = 'matrix@example.test';
const SUBJECT = 'Grüße aus Zürich — ✓ 日本語';
const TEXT = 'Hello from the client matrix: ünïcödé text.';
const HTML = '<p>Hello from the <b>client matrix</b>: ünïcödé HTML.</p>';
const ATTACHMENT_NAME = 'data.bin';
/** Every byte value, so a transfer encoding that loses one shows. */
const ATTACHMENT = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

/** The message given to the clients that send bytes as they are (Go, swaks, curl, msmtp, mailpen sendmail). */
function rawMessage(to: string): Buffer {
  const b64 = (data: Buffer | string): string => (Buffer.from(data).toString('base64').match(/.{1,76}/g) ?? []).join('\r\n');
  return Buffer.from(
    [
      `From: Client Matrix <${FROM}>`,
      `To: ${to}`,
      `Subject: =?UTF-8?B?${Buffer.from(SUBJECT).toString('base64')}?=`,
      'Date: Tue, 3 Nov 2026 10:00:00 +0000',
      `Message-ID: <${to.replace('@', '.')}@example.test>`,
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="mixed"',
      '',
      '--mixed',
      'Content-Type: multipart/alternative; boundary="alt"',
      '',
      '--alt',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: base64',
      '',
      b64(TEXT),
      '--alt',
      'Content-Type: text/html; charset=utf-8',
      'Content-Transfer-Encoding: base64',
      '',
      b64(HTML),
      '--alt--',
      '--mixed',
      `Content-Type: application/octet-stream; name="${ATTACHMENT_NAME}"`,
      `Content-Disposition: attachment; filename="${ATTACHMENT_NAME}"`,
      'Content-Transfer-Encoding: base64',
      '',
      b64(ATTACHMENT),
      '--mixed--',
      '',
    ].join('\r\n'),
  );
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], opts: { env?: Record<string, string>; input?: Buffer } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(command, args, { cwd: ROOT, env: { ...process.env, ...opts.env }, timeout: 60_000, encoding: 'utf8' }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : (child.exitCode ?? -1)) : 0, stdout, stderr: stderr || (err && typeof err.code !== 'number' ? err.message : '') }),
    );
    child.stdin?.end(opts.input);
  });
}

/** Runs a client to success, or fails the test with everything it printed. */
async function runOk(command: string, args: string[], opts: { env?: Record<string, string>; input?: Buffer } = {}): Promise<void> {
  const r = await run(command, args, opts);
  assert.equal(r.code, 0, `${command} ${args.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
}

interface Target {
  port: number;
  /** The recipient, one per client and phase, by which the test finds the message. */
  to: string;
  /** Set in the TLS phases: the CA the client is told to trust. */
  ca?: TestCa;
  work: string;
}

/** What the client sent, when it can be known; null when the library builds the message itself. */
type Sent = Buffer | null;

interface Client {
  name: string;
  /** Sends the message with the client's defaults (and, with target.ca, STARTTLS verifying against it). */
  send(target: Target): Promise<Sent>;
  /** Whether the client can be told to trust a CA and upgrades with it (the STARTTLS-on phase). */
  trustsCa: boolean;
}

/** The environment the script clients read the message from. */
function scriptEnv(t: Target, extra: Record<string, string> = {}): Record<string, string> {
  return {
    MP_HOST: '127.0.0.1', MP_PORT: String(t.port), MP_FROM: FROM, MP_TO: t.to, MP_SUBJECT: SUBJECT, MP_TEXT: TEXT, MP_HTML: HTML,
    MP_ATTACHMENT: join(t.work, ATTACHMENT_NAME), MP_ATTACHMENT_NAME: ATTACHMENT_NAME, ...extra,
  };
}

async function rawFile(t: Target, raw: Buffer, name: string): Promise<string> {
  const file = join(t.work, `${name}-${t.to}.eml`);
  await writeFile(file, raw);
  return file;
}

let goBinary = '';

const CLIENTS: Client[] = [
  {
    name: 'Nodemailer',
    trustsCa: true,
    async send(t) {
      const transport = nodemailer.createTransport({ host: '127.0.0.1', port: t.port, ...(t.ca ? { tls: { ca: t.ca.caPem } } : {}) });
      try {
        await transport.sendMail({ from: FROM, to: t.to, subject: SUBJECT, text: TEXT, html: HTML, attachments: [{ filename: ATTACHMENT_NAME, content: ATTACHMENT }] });
      } finally {
        transport.close();
      }
      return null;
    },
  },
  {
    name: "Python's smtplib",
    trustsCa: true,
    async send(t) {
      const sent = join(t.work, `smtplib-${t.to}.eml`);
      await runOk('python3', [join(SCRIPTS, 'smtplib_send.py')], { env: scriptEnv(t, { MP_SENT: sent, ...(t.ca ? { MP_CA: t.ca.caFile } : {}) }) });
      return readFile(sent);
    },
  },
  {
    name: "Django's mail API (python3-django)",
    trustsCa: false,
    async send(t) {
      // Debian's python3-django is installed for Debian's own python3.
      await runOk('/usr/bin/python3', [join(SCRIPTS, 'django_send.py')], { env: scriptEnv(t) });
      return null;
    },
  },
  {
    name: 'PHPMailer (libphp-phpmailer)',
    trustsCa: true,
    async send(t) {
      await runOk('php', [...(t.ca ? ['-d', `openssl.cafile=${t.ca.caFile}`] : []), join(SCRIPTS, 'phpmailer.php')], { env: scriptEnv(t) });
      return null;
    },
  },
  {
    name: 'Symfony Mailer (php-symfony-mailer)',
    trustsCa: true,
    async send(t) {
      await runOk('php', [...(t.ca ? ['-d', `openssl.cafile=${t.ca.caFile}`] : []), join(SCRIPTS, 'symfony_mailer.php')], { env: scriptEnv(t) });
      return null;
    },
  },
  {
    name: "Ruby's mail gem (ruby-mail)",
    trustsCa: true,
    async send(t) {
      await runOk('ruby', [join(SCRIPTS, 'ruby_mail.rb')], { env: scriptEnv(t, t.ca ? { SSL_CERT_FILE: t.ca.caFile } : {}) });
      return null;
    },
  },
  {
    name: "Go's net/smtp (golang-go)",
    trustsCa: true,
    async send(t) {
      const raw = rawMessage(t.to);
      await runOk(goBinary, [], { env: scriptEnv(t, { MP_RAW: await rawFile(t, raw, 'go'), ...(t.ca ? { SSL_CERT_FILE: t.ca.caFile } : {}) }) });
      return raw;
    },
  },
  {
    name: 'swaks',
    trustsCa: true,
    async send(t) {
      // swaks ends DATA with CRLF "." CRLF after the data whatever it ends with: given without its last line
      // end, the message arrives as it was written.
      const raw = rawMessage(t.to);
      const file = await rawFile(t, raw.subarray(0, raw.length - 2), 'swaks');
      const tls = t.ca ? ['--tls', '--tls-verify', '--tls-ca-path', t.ca.caFile] : [];
      await runOk('swaks', ['--server', `127.0.0.1:${t.port}`, '--from', FROM, '--to', t.to, '--data', `@${file}`, ...tls]);
      return raw;
    },
  },
  {
    name: 'curl',
    trustsCa: true,
    async send(t) {
      const raw = rawMessage(t.to);
      const tls = t.ca ? ['--ssl-reqd', '--cacert', t.ca.caFile] : [];
      await runOk('curl', ['-sS', `smtp://127.0.0.1:${t.port}`, '--mail-from', FROM, '--mail-rcpt', t.to, '--upload-file', await rawFile(t, raw, 'curl'), ...tls]);
      return raw;
    },
  },
  {
    name: 'msmtp',
    trustsCa: true,
    async send(t) {
      const raw = rawMessage(t.to);
      const tls = t.ca ? ['--tls=on', '--tls-starttls=on', `--tls-trust-file=${t.ca.caFile}`] : [];
      // -C /dev/null: no ~/.msmtprc or /etc/msmtprc of the machine's; everything else msmtp's defaults.
      await runOk('msmtp', ['-C', '/dev/null', '--host=127.0.0.1', `--port=${t.port}`, `--from=${FROM}`, ...tls, '--', t.to], { input: raw });
      return raw;
    },
  },
  {
    name: 'mailpen sendmail',
    trustsCa: false,
    async send(t) {
      const raw = rawMessage(t.to);
      await runOk(process.execPath, ['--import', 'tsx', 'server/cli.ts', 'sendmail', '-S', `127.0.0.1:${t.port}`, '-f', FROM, t.to], { input: raw });
      return raw;
    },
  },
];

interface Part {
  partId: string;
  filename: string | null;
}
interface MessageBody {
  id: string;
  subject: string;
  text: string | null;
  html: string | null;
  envelope: { from: string; to: string[]; tls: boolean };
  parts: Part[];
}

async function getJson<T>(server: TestServer, path: string): Promise<T> {
  const res = await fetch(server.httpUrl + path);
  assert.equal(res.status, 200, `GET ${path}`);
  return (await res.json()) as T;
}

/** Reads the client's message back through the API and checks what each client must have kept. */
async function checkDelivered(server: TestServer, to: string, sent: Sent, tls: boolean): Promise<void> {
  const list = await getJson<{ messages: Array<{ id: string }> }>(server, `/api/messages?${new URLSearchParams({ q: `to:${to}` })}`);
  assert.equal(list.messages.length, 1, `one message to ${to}`);
  const id = list.messages[0]!.id;
  const m = await getJson<MessageBody>(server, `/api/messages/${id}`);
  assert.equal(m.subject, SUBJECT);
  assert.equal(m.envelope.from, FROM);
  assert.deepEqual(m.envelope.to, [to]);
  assert.equal(m.envelope.tls, tls, tls ? 'came over TLS' : 'came in the clear');
  assert.equal(m.text?.trim(), TEXT);
  assert.ok(m.html?.includes('<b>client matrix</b>: ünïcödé HTML.'), `HTML body: ${m.html}`);
  const part = m.parts.find((p) => p.filename === ATTACHMENT_NAME);
  assert.ok(part, `an attachment named ${ATTACHMENT_NAME} among ${JSON.stringify(m.parts)}`);
  const res = await fetch(`${server.httpUrl}/api/messages/${id}/parts/${part.partId}`);
  assert.deepEqual(Buffer.from(await res.arrayBuffer()), ATTACHMENT, 'the attachment, byte for byte');
  if (sent) {
    const raw = Buffer.from(await (await fetch(`${server.httpUrl}/api/messages/${id}/raw`)).arrayBuffer());
    assert.ok(raw.equals(expectedStored(sent)), 'the stored message is the bytes the client sent');
  }
}

const slug = (name: string): string => name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
const ran: string[] = [];
let work = '';

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'mailpen-clients-'));
  await writeFile(join(work, ATTACHMENT_NAME), ATTACHMENT);
  // Built once, with the standard library only: a cache of its own, no module download, no other toolchain.
  goBinary = join(work, 'net_smtp');
  await runOk('go', ['build', '-o', goBinary, join(SCRIPTS, 'net_smtp.go')], {
    env: { GOCACHE: join(work, 'gocache'), GOPATH: join(work, 'gopath'), GOTOOLCHAIN: 'local', GOPROXY: 'off', GOFLAGS: '', GO111MODULE: 'off' },
  });
});

after(async () => {
  await rm(work, { recursive: true, force: true });
  // CI's log says which clients ran.
  console.log(`client matrix: ${ran.length} runs, ${new Set(ran.map((r) => r.split(' [')[0])).size} clients:\n  ${ran.join('\n  ')}`);
});

describe('each client with only host and port set, against Mailpen as it starts', { concurrency: 3 }, () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  for (const client of CLIENTS) {
    it(`${client.name} delivers text, HTML, an attachment and a UTF-8 subject`, async () => {
      const to = `${slug(client.name)}@defaults.test`;
      const sent = await client.send({ port: server.smtpPort, to, work });
      await checkDelivered(server, to, sent, false);
      ran.push(`${client.name} [defaults${sent ? ', byte-exact' : ''}]`);
    });
  }
});

describe('with STARTTLS on (a certificate from a test CA), each client that can trust the CA keeps verification on', { concurrency: 3 }, () => {
  let server: TestServer;
  let ca: TestCa;
  before(async () => {
    ca = await makeTestCa();
    // Configuring the certificate is what turns STARTTLS on.
    server = await startTestServer({ tlsCert: ca.certFile, tlsKey: ca.keyFile });
  });
  after(async () => {
    await server.close();
    await ca.remove();
  });

  for (const client of CLIENTS.filter((c) => c.trustsCa)) {
    it(`${client.name} upgrades, verifies the certificate against the CA, and delivers`, async () => {
      const to = `${slug(client.name)}@tls.test`;
      const sent = await client.send({ port: server.smtpPort, to, ca, work });
      await checkDelivered(server, to, sent, true);
      ran.push(`${client.name} [STARTTLS on, verified]`);
    });
  }
});

/** The libraries that upgrade whenever STARTTLS is offered and then verify: why STARTTLS is off by default. */
const UPGRADE_AND_VERIFY = ['Nodemailer', 'PHPMailer (libphp-phpmailer)', 'Symfony Mailer (php-symfony-mailer)', "Ruby's mail gem (ruby-mail)", "Go's net/smtp (golang-go)"];

describe('with STARTTLS on and the self-signed certificate Mailpen makes, the libraries that upgrade by default', { concurrency: 3 }, () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ smtpStartTls: 'on' });
  });
  after(() => server.close());

  for (const client of CLIENTS.filter((c) => UPGRADE_AND_VERIFY.includes(c.name))) {
    it(`${client.name} with its defaults upgrades, rejects the certificate and sends nothing`, async () => {
      await assert.rejects(client.send({ port: server.smtpPort, to: `${slug(client.name)}@self-signed.test`, work }), /certificate/i);
      assert.equal(server.store.counts().messages, 0);
      ran.push(`${client.name} [STARTTLS on, self-signed: refused the certificate]`);
    });
  }
});

describe('with STARTTLS required', () => {
  let server: TestServer;
  let ca: TestCa;
  before(async () => {
    ca = await makeTestCa();
    server = await startTestServer({ tlsCert: ca.certFile, tlsKey: ca.keyFile, smtpStartTls: 'required' });
  });
  after(async () => {
    await server.close();
    await ca.remove();
  });

  it('refuses curl, which does not upgrade unless told, with 530, and stores nothing', async () => {
    const file = join(work, 'required-curl.eml');
    await writeFile(file, rawMessage('curl@required.test'));
    const r = await run('curl', ['-sS', `smtp://127.0.0.1:${server.smtpPort}`, '--mail-from', FROM, '--mail-rcpt', 'curl@required.test', '--upload-file', file]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /530/);
    assert.equal(server.store.counts().messages, 0);
    ran.push('curl [STARTTLS required, refused with 530]');
  });

  it("takes the message from Go's net/smtp, which upgrades whenever offered, verifying the certificate", async () => {
    const go = CLIENTS.find((c) => c.name.startsWith("Go's"))!;
    const to = 'go@required.test';
    const sent = await go.send({ port: server.smtpPort, to, ca, work });
    await checkDelivered(server, to, sent, true);
    ran.push(`${go.name} [STARTTLS required, verified]`);
  });
});
