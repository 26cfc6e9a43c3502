// The SpamAssassin part of GET /api/messages/:id/checks against a real spamd (Debian's spamassassin
// and spamd packages, installed by .ci/run), started here on a free port with local rules only:
// -L (no network tests: no DNS lists, no Razor or Pyzor), the rules the package ships, a site
// configuration of our own in a temporary directory (the package's plugin .pre files and a
// local.cf that turns Bayes off), and stopped after.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, mkdir, rm, readdir, copyFile, writeFile, chmod } from 'node:fs/promises';
import { readFileSync, existsSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { apiApp, type ApiApp } from './helpers/api-app.js';
import { startTestServer } from './helpers/server.js';
import { MessageChecks } from '../server/checks/index.js';
import { toMailpitSpamAssassin } from '../server/checks/mailpit.js';
import type { ChecksResponse } from '../server/checks/schema.js';

const SPAMD = '/usr/sbin/spamd';
const RULES = '/usr/share/spamassassin';
const PACKAGE_SITE = '/etc/spamassassin';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/checks/${name}`, import.meta.url), 'latin1');

let dir = '';
let spamd: ChildProcess | null = null;
let spamdLog = '';
let port = 0;
let api: ApiApp;

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port: p } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return p;
}

/** Resolves once something accepts connections on the port; spamd compiles its rules first (a few seconds). */
async function accepting(p: number, child: ChildProcess, timeoutMs = 120_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`spamd exited (${child.exitCode}):\n${spamdLog.slice(-2000)}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s: Socket = connect({ host: '127.0.0.1', port: p });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`spamd did not listen on ${p} within ${timeoutMs / 1000} s:\n${spamdLog.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

before(async () => {
  assert.ok(existsSync(SPAMD) && existsSync(RULES) && existsSync(PACKAGE_SITE), 'spamd is not installed: apt-get install spamassassin spamd (.ci/run does)');
  dir = await mkdtemp(join(tmpdir(), 'mailpen-spamd-'));
  const site = join(dir, 'site');
  const home = join(dir, 'home');
  await Promise.all([mkdir(site), mkdir(home)]);
  // The package's .pre files load the plugins its rules need; its local.cf is left out.
  for (const f of await readdir(PACKAGE_SITE)) if (f.endsWith('.pre')) await copyFile(join(PACKAGE_SITE, f), join(site, f));
  await writeFile(join(site, 'local.cf'), 'use_bayes 0\nbayes_auto_learn 0\nskip_rbl_checks 1\nuse_razor2 0\nuse_pyzor 0\n');
  // spamd started as root drops to nobody, which must be able to write its home.
  await chmod(dir, 0o755);
  await chmod(home, 0o777);
  port = await freePort();
  const args = [
    `--listen=127.0.0.1:${port}`,
    '--local',
    `--configpath=${RULES}`,
    `--siteconfigpath=${site}`,
    `--helper-home-dir=${home}`,
    '--nouser-config',
    '--syslog=stderr',
    '--max-children=1',
    ...(process.getuid?.() === 0 ? ['--username=nobody'] : []),
  ];
  spamd = spawn(SPAMD, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  spamd.stdout!.on('data', (d: Buffer) => void (spamdLog += d.toString()));
  spamd.stderr!.on('data', (d: Buffer) => void (spamdLog += d.toString()));
  await accepting(port, spamd);
  api = await apiApp({ spamdAddr: { host: '127.0.0.1', port } });
});

after(async () => {
  await api?.close();
  if (spamd && spamd.exitCode === null) {
    spamd.kill('SIGTERM');
    await once(spamd, 'exit');
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function spamOf(raw: string, a: ApiApp = api): Promise<ChecksResponse> {
  const { id } = a.add(raw);
  const res = await a.app.inject({ url: `/api/messages/${id}/checks?parts=spam` });
  assert.equal(res.statusCode, 200, res.body.slice(0, 300));
  return res.json() as ChecksResponse;
}

test('the GTUBE test message scores as spam, with the GTUBE rule and its description', async () => {
  const r = await spamOf(fixture('gtube.eml'));
  assert.equal(r.spam?.status, 'checked', JSON.stringify(r.spam));
  if (r.spam?.status !== 'checked') return;
  assert.equal(r.spam.isSpam, true);
  assert.ok(r.spam.score >= 1000, `score ${r.spam.score}`);
  assert.equal(r.spam.threshold, 5);
  const gtube = r.spam.rules.find((x) => x.name === 'GTUBE');
  assert.ok(gtube, JSON.stringify(r.spam.rules));
  assert.equal(gtube.score, 1000);
  assert.match(gtube.description, /Generic Test for Unsolicited Bulk Email/);
  // And in Mailpit's /sa-check shape.
  const mailpit = toMailpitSpamAssassin(r.spam);
  assert.equal(mailpit.IsSpam, true);
  assert.equal(mailpit.Error, '');
  assert.deepEqual(mailpit.Rules.find((x) => x.Name === 'GTUBE'), { Name: 'GTUBE', Score: 1000, Description: gtube.description });
});

test('a plain transactional message does not score as spam', async () => {
  const r = await spamOf(fixture('transactional-clean.eml'));
  assert.equal(r.spam?.status, 'checked', JSON.stringify(r.spam));
  if (r.spam?.status !== 'checked') return;
  assert.equal(r.spam.isSpam, false);
  assert.ok(r.spam.score < r.spam.threshold, `score ${r.spam.score}`);
  assert.ok(!r.spam.rules.some((x) => x.name === 'GTUBE'));
});

test('through a running Mailpen: a message uploaded over HTTP gets its spam score with the other checks', async () => {
  const server = await startTestServer({ spamdAddr: { host: '127.0.0.1', port } });
  try {
    const up = await fetch(`${server.httpUrl}/api/messages`, { method: 'POST', body: fixture('gtube.eml').replace(/\r?\n/g, '\r\n') });
    assert.equal(up.status, 201);
    const { ids } = (await up.json()) as { ids: string[] };
    const res = await fetch(`${server.httpUrl}/api/messages/${ids[0]}/checks`);
    assert.equal(res.status, 200);
    const r = (await res.json()) as ChecksResponse;
    assert.equal(r.spam?.status === 'checked' && r.spam.isSpam, true, JSON.stringify(r.spam));
    assert.equal(r.lint?.status, 'checked');
    assert.equal(r.html?.status, 'none');
  } finally {
    await server.close();
  }
});

test('spamd down: the spam part says it could not be reached, the other parts answer, no 5xx', async () => {
  const down = await apiApp({ spamdAddr: { host: '127.0.0.1', port: await freePort() } });
  try {
    const { id } = down.add(fixture('transactional-clean.eml'));
    const res = await down.app.inject({ url: `/api/messages/${id}/checks` });
    assert.equal(res.statusCode, 200);
    const r = res.json() as ChecksResponse;
    assert.equal(r.spam?.status, 'error');
    assert.match((r.spam as { error: string }).error, /^spamd at 127\.0\.0\.1:\d+ could not be reached \(ECONNREFUSED\)$/);
    assert.equal(r.html?.status, 'checked');
    assert.equal(r.lint?.status, 'checked');
  } finally {
    await down.close();
  }
});

test('a spamd that accepts and never answers is given up on at the timeout, in the spam part', async () => {
  const held: Socket[] = [];
  const silent: Server = createServer((s) => {
    s.on('error', () => undefined);
    held.push(s);
  });
  silent.listen(0, '127.0.0.1');
  await once(silent, 'listening');
  const checks = new MessageChecks({ spamd: { host: '127.0.0.1', port: (silent.address() as { port: number }).port }, spamdTimeoutMs: 300 });
  try {
    const r = await checks.check(Buffer.from(fixture('gtube.eml')), null, new Set(['spam']));
    assert.deepEqual(r.spam, { status: 'error', error: `spamd at 127.0.0.1:${(silent.address() as { port: number }).port} did not answer within 0.3 s` });
  } finally {
    await checks.close();
    for (const s of held) s.destroy();
    silent.close();
  }
});
