// The README's "Using Mailpen from tests" snippets, run as written (JavaScript, Python, curl)
// against a real Mailpen: each waits for a real SMTP message, follows its link to a real HTTP
// server standing in for the application, and cleans up.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestServer, type TestServer } from './helpers/server.js';
import { sendRaw } from './helpers/smtp-client.js';

let mailpen: TestServer;
let app: Server;
let appUrl: string;
const confirmed: string[] = [];

const section = readFileSync('README.md', 'utf8').split('## Using Mailpen from tests')[1]!.split('\n## ')[0]!;
function snippet(lang: string): string {
  const m = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(section);
  assert.ok(m, `README has a ${lang} snippet`);
  return m[1]!.replaceAll('http://127.0.0.1:8025', mailpen.httpUrl);
}

function signupMail(to: string, token: string): Buffer {
  return Buffer.from(
    `From: app@example.test\r\nTo: ${to}\r\nSubject: Please confirm your address\r\nContent-Type: text/plain\r\n\r\n` +
      `Welcome! Confirm here: ${appUrl}/confirm?token=${token}\r\n`,
  );
}

function run(cmd: string, args: string[], input: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { timeout: 30_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${cmd}: ${err.message}\n${stdout}\n${stderr}`)) : resolve()));
    child.stdin!.end(input);
  });
}

async function bobsMail(): Promise<number> {
  return ((await (await fetch(`${mailpen.httpUrl}/api/messages?q=to:bob@example.test`)).json()) as { total: number }).total;
}

before(async () => {
  mailpen = await startTestServer();
  app = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://app');
    if (url.pathname === '/confirm') confirmed.push(url.searchParams.get('token') ?? '');
    res.end('ok');
  });
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
  appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
});
after(async () => {
  await new Promise((resolve) => app.close(resolve));
  await mailpen.close();
});

test('the JavaScript snippet waits for the mail, follows its link and cleans up', async () => {
  const signUp = async (to: string): Promise<void> => {
    await sendRaw(mailpen.smtpPort, signupMail(to, 'from-js'), { to: [to] });
  };
  const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (...a: unknown[]) => Promise<void>;
  await new AsyncFunction('signUp', snippet('js'))(signUp);
  assert.ok(confirmed.includes('from-js'));
  assert.equal(await bobsMail(), 0);
});

test('the Python snippet does the same', async () => {
  const preamble = [
    'import smtplib',
    'def sign_up(to):',
    `    with smtplib.SMTP("127.0.0.1", ${mailpen.smtpPort}) as s:`,
    `        s.sendmail("app@example.test", [to], ${JSON.stringify(signupMail('bob@example.test', 'from-python').toString())})`,
    '',
  ].join('\n');
  await run('python3', ['-'], preamble + snippet('python'));
  assert.ok(confirmed.includes('from-python'));
  assert.equal(await bobsMail(), 0);
});

test('the curl snippet does the same', async () => {
  const mail = signupMail('bob@example.test', 'from-curl').toString();
  const preamble = `set -euo pipefail\nsign_up() { printf '%s' ${shellQuote(mail)} | curl -sf --url smtp://127.0.0.1:${mailpen.smtpPort} --mail-from app@example.test --mail-rcpt "$1" -T - ; }\n`;
  await run('bash', ['-s'], preamble + snippet('sh'));
  assert.ok(confirmed.includes('from-curl'));
  assert.equal(await bobsMail(), 0);
});

function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}
