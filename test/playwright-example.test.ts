// examples/signup-app run by @playwright/test itself, as a user would run it: several workers,
// each test with its own inbox from mailpen/playwright (self-referenced through package.json
// exports, so dist/client must be built: npm test builds it first). Mailpen is a real server on a
// free port; the app is started here and handed to Playwright by APP_URL.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, stat, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startTestServer, type TestServer } from './helpers/server.js';

const ROOT = join(import.meta.dirname, '..');
const EXAMPLE = join(ROOT, 'examples/signup-app');

let server: TestServer;
let app: ChildProcess;
let appUrl: string;
let outputDir: string;

before(async () => {
  // dist/client is what `mailpen/playwright` resolves to; built by npm test, or here when stale.
  const built = await stat(join(ROOT, 'dist/client/playwright.js')).catch(() => null);
  const sources = await Promise.all((await readdir(join(ROOT, 'client'))).map((f) => stat(join(ROOT, 'client', f))));
  if (!built || sources.some((s) => s.mtimeMs > built.mtimeMs)) {
    await promisify(execFile)(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'client/tsconfig.json')]);
  }
  server = await startTestServer();
  outputDir = await mkdtemp(join(tmpdir(), 'mailpen-playwright-'));
  app = spawn(process.execPath, ['server.mjs'], {
    cwd: EXAMPLE,
    env: { ...process.env, PORT: '0', TEST_MODE: '1', SMTP_URL: `smtp://127.0.0.1:${server.smtpPort}` },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let line = '';
  for await (const chunk of app.stdout!) {
    line += String(chunk);
    const m = /listening on (http:\/\/\S+)/.exec(line);
    if (m) {
      appUrl = m[1]!;
      break;
    }
  }
  assert.ok(appUrl, 'the example app started');
});

after(async () => {
  if (app && app.exitCode === null) {
    app.kill('SIGTERM');
    await once(app, 'exit');
  }
  await server?.close();
  if (outputDir) await rm(outputDir, { recursive: true, force: true });
});

interface JsonReport {
  stats: { expected: number; unexpected: number; flaky: number; skipped: number };
  suites: Suite[];
}
interface Suite {
  suites?: Suite[];
  specs?: { title: string; tests: { results: { workerIndex: number; status: string }[] }[] }[];
}

function results(suites: Suite[]): { title: string; workerIndex: number; status: string }[] {
  return suites.flatMap((s) => [
    ...(s.specs ?? []).flatMap((spec) => spec.tests.flatMap((t) => t.results.map((r) => ({ title: spec.title, workerIndex: r.workerIndex, status: r.status })))),
    ...results(s.suites ?? []),
  ]);
}

describe('examples/signup-app with @playwright/test', () => {
  it('passes in several workers, each test following the link or typing the code from its own mail', async () => {
    const runner = spawn(process.execPath, [join(ROOT, 'node_modules/@playwright/test/cli.js'), 'test', '-c', 'playwright.config.ts', '--reporter=json'], {
      cwd: EXAMPLE,
      env: { ...process.env, NODE_TEST_CONTEXT: undefined, MAILPEN_URL: server.httpUrl, APP_URL: appUrl, PLAYWRIGHT_OUTPUT_DIR: outputDir, CI: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    runner.stdout.on('data', (c) => (stdout += c));
    runner.stderr.on('data', (c) => (stderr += c));
    const [code] = (await once(runner, 'exit')) as [number];
    const report = JSON.parse(stdout) as JsonReport;
    const ran = results(report.suites);
    assert.equal(code, 0, `playwright failed:\n${stderr}\n${JSON.stringify(ran)}`);
    assert.deepEqual(report.stats.unexpected, 0);
    assert.equal(ran.length, 7);
    assert.ok(ran.every((r) => r.status === 'passed'), JSON.stringify(ran));
    assert.ok(new Set(ran.map((r) => r.workerIndex)).size >= 2, `tests ran in several workers: ${JSON.stringify(ran)}`);
    // The fixture empties each test's inbox after it.
    const left = (await (await fetch(`${server.httpUrl}/api/messages`)).json()) as { total: number };
    assert.equal(left.total, 0);
  });
});
