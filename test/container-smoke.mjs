#!/usr/bin/env node
// Smoke test for a running Mailpen container, from the host, through its published ports only:
// sends one message over raw SMTP, finds it with the search API, and checks that /raw returns
// exactly the bytes that were sent. Plain Node, no dependencies, so CI can run it anywhere.
//
//   node test/container-smoke.mjs http://127.0.0.1:18025 127.0.0.1:11025
import http from 'node:http';
import net from 'node:net';
import { randomBytes } from 'node:crypto';

const [httpBase, smtpAddr] = process.argv.slice(2);
if (!httpBase || !smtpAddr) {
  console.error('usage: node test/container-smoke.mjs <http base URL> <smtp host:port>');
  process.exit(2);
}
const colon = smtpAddr.lastIndexOf(':');
const smtpHost = smtpAddr.slice(0, colon).replace(/^\[|\]$/g, '');
const smtpPort = Number(smtpAddr.slice(colon + 1));
/** Everything (connect, SMTP, API) has this long; a healthy container answers in well under a second. */
const DEADLINE_MS = 20_000;

function fail(message) {
  console.error(`container-smoke: FAIL: ${message}`);
  process.exit(1);
}
setTimeout(() => fail(`no result within ${DEADLINE_MS} ms`), DEADLINE_MS).unref();

/** One SMTP session over a plain socket; resolves with the reply to the end of DATA. */
async function sendOverSmtp(from, to, raw) {
  const socket = net.connect({ host: smtpHost, port: smtpPort });
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', (err) => reject(new Error(`cannot connect to SMTP at ${smtpAddr}: ${err.message}`)));
  });
  socket.setEncoding('latin1');
  let buffer = '';
  const waiting = [];
  socket.on('data', (chunk) => {
    buffer += chunk;
    let end;
    while ((end = buffer.indexOf('\r\n')) >= 0) {
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      // The last line of a reply has a space after the code.
      if (line[3] !== '-') waiting.shift()?.(line);
    }
  });
  const reply = () => new Promise((resolve) => waiting.push(resolve));
  const expect = async (command, code) => {
    const pending = reply();
    // latin1 both ways: one char per byte, so the message goes out exactly as built.
    if (command !== null) socket.write(command, 'latin1');
    const line = await pending;
    if (!line.startsWith(String(code))) fail(`${command === null ? 'greeting' : command.split('\r\n')[0].slice(0, 40)} answered "${line}", expected ${code}`);
    return line;
  };
  await expect(null, 220);
  await expect('EHLO container-smoke.test\r\n', 250);
  await expect(`MAIL FROM:<${from}>\r\n`, 250);
  await expect(`RCPT TO:<${to}>\r\n`, 250);
  await expect('DATA\r\n', 354);
  // Dot-stuffing: a line starting with "." goes out with a second one, which the server removes.
  const stuffed = raw.toString('latin1').replace(/(^|\r\n)\./g, '$1..');
  const done = await expect(stuffed + '.\r\n', 250);
  await expect('QUIT\r\n', 221);
  socket.destroy();
  return done;
}

/** fetch() will not send a Host header of our choosing; http.request will. */
function statusWithHost(path, host) {
  return new Promise((resolve, reject) => {
    const req = http.get(new URL(path, httpBase), { headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', reject);
  });
}

async function getJson(path) {
  const res = await fetch(new URL(path, httpBase));
  if (!res.ok) fail(`GET ${path} answered ${res.status}: ${await res.text()}`);
  return res.json();
}

const token = `smoke${Date.now()}${randomBytes(4).toString('hex')}`;
const raw = Buffer.from(
  [
    'From: Container Smoke <smoke@example.test>',
    'To: Receiver <receiver@example.test>',
    `Subject: ${token} =?UTF-8?B?w6nDqMOg?=`,
    `Message-ID: <${token}@example.test>`,
    'Date: Sat, 28 Nov 2026 12:00:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    'Bytes that must survive the trip: caf\u00e9, \u65e5\u672c, tab\there.',
    '.a line that starts with a dot',
    '',
  ].join('\r\n'),
  'utf8',
);

async function main() {
  const health = await getJson('/healthz');
  if (health.status !== 'ok') fail(`/healthz says ${JSON.stringify(health)}`);

  const reply = await sendOverSmtp('smoke@example.test', 'receiver@example.test', raw);
  const queued = /queued as (\S+)/.exec(reply)?.[1];
  if (!queued) fail(`no message id in the DATA reply "${reply}"`);

  const list = await getJson(`/api/messages?q=${encodeURIComponent(`subject:${token}`)}`);
  if (list.total !== 1 || list.messages[0]?.id !== queued) {
    fail(`searching subject:${token} found ${JSON.stringify(list.messages.map((m) => m.id))}, expected [${queued}]`);
  }
  const summary = list.messages[0];
  if (summary.envelope.from !== 'smoke@example.test' || summary.envelope.to.join() !== 'receiver@example.test') {
    fail(`envelope is ${JSON.stringify(summary.envelope)}`);
  }
  if (summary.subject !== `${token} \u00e9\u00e8\u00e0`) fail(`subject decoded as ${JSON.stringify(summary.subject)}`);

  const res = await fetch(new URL(`/api/messages/${encodeURIComponent(queued)}/raw`, httpBase));
  if (!res.ok) fail(`GET /api/messages/${queued}/raw answered ${res.status}`);
  const stored = Buffer.from(await res.arrayBuffer());
  if (!stored.equals(raw)) {
    let at = 0;
    while (at < raw.length && stored[at] === raw[at]) at++;
    fail(`raw bytes differ from byte ${at}: sent ${raw.length} bytes, got ${stored.length}`);
  }
  // The UI made it into the runtime stage.
  const page = await fetch(new URL('/', httpBase));
  const html = await page.text();
  if (page.status !== 200 || !/^text\/html/.test(page.headers.get('content-type') ?? '') || !/<script[^>]+src=/.test(html)) {
    fail(`GET / answered ${page.status} ${page.headers.get('content-type')}, not the inbox page`);
  }

  // The image keeps the DNS-rebinding Host check on although it listens on 0.0.0.0.
  const rebound = await statusWithHost('/api/messages', 'rebind.example:8025');
  if (rebound !== 421) fail(`a request with Host rebind.example answered ${rebound}, expected 421`);
  const byServiceName = await statusWithHost('/api/messages', 'mailpen:8025');
  if (byServiceName !== 200) fail(`a request with Host mailpen (the compose service name) answered ${byServiceName}, expected 200`);

  console.log(`container-smoke: ok: message ${queued} (${raw.length} bytes) sent over SMTP ${smtpAddr}, found by search and read back byte for byte from ${httpBase}; inbox page served; foreign Host refused`);
}

main().then(
  () => process.exit(0),
  (err) => fail(`${err.message}${err.cause ? ` (${err.cause.message ?? err.cause})` : ''}`),
);
