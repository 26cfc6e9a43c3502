// The `mailpen` command as a user runs it: a real process, its logs, its signals.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { createInterface } from 'node:readline';
import nodemailer from 'nodemailer';

const CLI = ['--import', 'tsx', 'server/cli.ts'];

function run(args: string[]): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [...CLI, ...args], (_e, stdout) => resolve({ code: child.exitCode, stdout }));
  });
}

describe('the mailpen command', () => {
  it('prints every setting with --help and exits 0', async () => {
    const { code, stdout } = await run(['--help']);
    assert.equal(code, 0);
    assert.match(stdout, /MAILPEN_SMTP_ADDR\s+127\.0\.0\.1:1025/);
    assert.match(stdout, /MAILPEN_MAX_MESSAGE_SIZE\s+50MB/);
  });

  it('runs, logs a JSON line per received message, and stops cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, [...CLI, '--smtp-addr', '127.0.0.1:0', '--http-addr', '127.0.0.1:0', '--log-format', 'json'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: child.stdout! });
    const logs: Array<Record<string, unknown>> = [];
    const waitFor = (msg: string): Promise<Record<string, unknown>> =>
      new Promise((resolve) => {
        const found = logs.find((l) => l.msg === msg);
        if (found) return resolve(found);
        const onLine = (line: string): void => {
          const entry = JSON.parse(line) as Record<string, unknown>;
          if (entry.msg === msg) {
            lines.off('line', onLine);
            resolve(entry);
          }
        };
        lines.on('line', onLine);
      });
    lines.on('line', (line) => logs.push(JSON.parse(line) as Record<string, unknown>));
    try {
      const ready = await waitFor('Mailpen is listening');
      const smtpPort = Number(String(ready.smtp).split(':').pop());
      const httpUrl = String(ready.http);
      const transport = nodemailer.createTransport({ host: '127.0.0.1', port: smtpPort, ignoreTLS: true });
      const received = waitFor('message received');
      await transport.sendMail({ from: 'a@example.test', to: 'b@example.test', subject: 'cli', text: 'x' });
      transport.close();
      const entry = await received;
      assert.equal(entry.from, 'a@example.test');
      assert.deepEqual(entry.to, ['b@example.test']);
      const health = (await (await fetch(new URL('/healthz', httpUrl))).json()) as { status: string; messages: number };
      assert.deepEqual(health, { status: 'ok', messages: 1 });

      // A client that keeps its session open and ignores the 421 must not hold the stop up.
      // allowHalfOpen: the socket does not end its side when the server ends its own.
      const idle = net.connect({ port: smtpPort, host: '127.0.0.1', allowHalfOpen: true });
      await once(idle, 'data');
      idle.write('EHLO idle.example\r\n');
      await once(idle, 'data');
      const started = Date.now();
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      idle.destroy();
      assert.equal(code, 0);
      // 2 s of grace for open sessions, then the stop.
      assert.ok(Date.now() - started < 4000, `stopped after ${Date.now() - started} ms`);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('the mailpen command with settings that only fail when used', () => {
  it('names the setting when a port is taken, and exits 2', async () => {
    const taken = net.createServer().listen(0, '127.0.0.1');
    await once(taken, 'listening');
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = execFile(process.execPath, [...CLI, '--smtp-addr', `127.0.0.1:${port}`, '--http-addr', '127.0.0.1:0'], (_e, _o, stderr) =>
          resolve({ code: child.exitCode, stderr }),
        );
      });
      assert.equal(result.code, 2);
      assert.match(result.stderr, new RegExp(`MAILPEN_SMTP_ADDR 127\\.0\\.0\\.1:${port}: the port is already in use`));
    } finally {
      taken.close();
    }
  });

  it('names the TLS settings when the files are missing or not PEM, before anything listens', async () => {
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'mailpen-tls-'));
    const junk = join(dir, 'junk.pem');
    await writeFile(junk, 'not a certificate');
    const runWith = (cert: string, key: string): Promise<{ code: number | null; stderr: string }> =>
      new Promise((resolve) => {
        const child = execFile(process.execPath, [...CLI, '--smtp-addr', '127.0.0.1:0', '--http-addr', '127.0.0.1:0', '--tls-cert', cert, '--tls-key', key], (_e, _o, stderr) =>
          resolve({ code: child.exitCode, stderr }),
        );
      });
    try {
      const missing = await runWith(join(dir, 'nope.pem'), junk);
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /MAILPEN_TLS_CERT ".*nope\.pem" cannot be read: ENOENT/);
      const notPem = await runWith(junk, junk);
      assert.equal(notPem.code, 2);
      assert.match(notPem.stderr, /MAILPEN_TLS_CERT and MAILPEN_TLS_KEY are not a PEM certificate/);
    } finally {
      await rm(dir, { recursive: true });
    }
  });
});
