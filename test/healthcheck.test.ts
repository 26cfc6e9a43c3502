// The Dockerfile's HEALTHCHECK command, run as written against a real Mailpen, with the command line
// a container's PID 1 would have (a temp file standing in for /proc/1/cmdline) and the image's env.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { startTestServer, type TestServer } from './helpers/server.js';
import { serverArgs } from '../server/healthcheck.js';

let server: TestServer;
let port: number;
let closedPort: number;
let dir: string;

before(async () => {
  server = await startTestServer();
  port = Number(new URL(server.httpUrl).port);
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  closedPort = (probe.address() as { port: number }).port;
  await new Promise((resolve) => probe.close(resolve));
  dir = mkdtempSync(join(tmpdir(), 'mailpen-health-'));
});
after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await server.close();
});

/** The HEALTHCHECK CMD from the Dockerfile, its dist/*.js run from source and /proc/1/cmdline swapped for `cmdline`. */
function dockerHealthCheck(cmdline: string[], env: Record<string, string>): Promise<number> {
  const m = /^HEALTHCHECK[^\n]*\\\n\s*CMD (\[.*\])$/m.exec(readFileSync('Dockerfile', 'utf8'));
  assert.ok(m, 'the Dockerfile has an exec-form HEALTHCHECK CMD');
  const file = join(dir, `cmdline-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, cmdline.map((w) => w + '\0').join(''));
  const [cmd, ...args] = (JSON.parse(m[1]!) as string[]).flatMap((a) => {
    const source = /^dist\/(server\/.*)\.js$/.exec(a);
    if (source) return ['--import', 'tsx', `${source[1]}.ts`];
    return [a === '/proc/1/cmdline' ? file : a];
  });
  return new Promise((resolve) => {
    execFile(cmd!, args, { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 20_000 }, (err) => resolve(err ? Number(err.code ?? 1) : 0));
  });
}

// As the image sets it: the variable names one port, a flag after the image name another.
const imageEnv = (): Record<string, string> => ({ MAILPEN_HTTP_ADDR: `0.0.0.0:${closedPort}`, MAILPEN_SMTP_ADDR: '0.0.0.0:1025' });

test('the health check follows --http-addr given after the image name, over MAILPEN_HTTP_ADDR', async () => {
  const cmdline = ['node', 'dist/server/cli.js', '--http-addr', `0.0.0.0:${port}`];
  assert.equal(await dockerHealthCheck(cmdline, imageEnv()), 0);
  const initFirst = ['/sbin/docker-init', '--', 'node', 'dist/server/cli.js', `--http-addr=127.0.0.1:${port}`, '--log-level', 'warn'];
  assert.equal(await dockerHealthCheck(initFirst, imageEnv()), 0, 'docker run --init puts tini before node');
});

test('without the flag the health check follows MAILPEN_HTTP_ADDR, and fails when nothing answers there', async () => {
  const cmdline = ['node', 'dist/server/cli.js'];
  assert.equal(await dockerHealthCheck(cmdline, { MAILPEN_HTTP_ADDR: `0.0.0.0:${port}` }), 0);
  assert.equal(await dockerHealthCheck(cmdline, imageEnv()), 1);
});

test('the server arguments are what follows cli.js on the command line', () => {
  assert.deepEqual(serverArgs('node\0dist/server/cli.js\0--http-addr\0:9000\0'), ['--http-addr', ':9000']);
  assert.deepEqual(serverArgs('/sbin/docker-init\0--\0node\0/app/dist/server/cli.js\0'), []);
  assert.deepEqual(serverArgs('sh\0-c\0sleep 1\0'), []);
});
