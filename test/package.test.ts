// The package as published: `npm pack` makes the tarball, a fresh project outside the repository
// gets it in node_modules, and there `mailpen/client` and `mailpen/playwright` are imported by
// Node's own resolution (through package.json "exports"), type-checked against the shipped .d.ts,
// and used in a node:test run against a real Mailpen.
//
// The tarball is unpacked as npm installs a package (its files under node_modules/mailpen), not
// with `npm install`: that would resolve the server's twenty runtime dependencies from the
// registry, which a test must not need. The client entries need none of them, and this proves it:
// only @playwright/test (the playwright entry's peer dependency) is linked in beside it. The
// README's node:test snippet runs there as written, and its Playwright snippet is type-checked.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile, symlink, stat, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { startTestServer, type TestServer } from './helpers/server.js';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

let server: TestServer;
let dir: string;
let project: string;

/** dist/client is built by `npm run build` (npm test runs it first); built here when stale. */
async function ensureClientBuilt(): Promise<void> {
  const built = await stat(join(ROOT, 'dist/client/index.js')).catch(() => null);
  const sources = await Promise.all((await readdir(join(ROOT, 'client'))).map((f) => stat(join(ROOT, 'client', f))));
  if (built && sources.every((s) => s.mtimeMs <= built.mtimeMs)) return;
  await run(process.execPath, [TSC, '-p', join(ROOT, 'client/tsconfig.json')]);
}

before(async () => {
  server = await startTestServer();
  await ensureClientBuilt();
  dir = await mkdtemp(join(tmpdir(), 'mailpen-pack-'));
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT });
  const [packed] = JSON.parse(stdout) as [{ filename: string; files: { path: string }[] }];
  project = join(dir, 'consumer');
  const installed = join(project, 'node_modules/mailpen');
  await mkdir(installed, { recursive: true });
  await run('tar', ['-xzf', join(dir, packed.filename), '-C', installed, '--strip-components=1']);
  await mkdir(join(project, 'node_modules/@playwright'), { recursive: true });
  await symlink(join(ROOT, 'node_modules/@playwright/test'), join(project, 'node_modules/@playwright/test'), 'dir');
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
});
after(async () => {
  await server.close();
  if (dir && !process.env.MAILPEN_TEST_KEEP) await rm(dir, { recursive: true, force: true });
});

/** A code block of the README's toolkit section, as written. */
async function readmeSnippet(lang: string): Promise<string> {
  const section = (await readFile(join(ROOT, 'README.md'), 'utf8')).split('## The test toolkit')[1]!.split('\n## ')[0]!;
  const m = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(section);
  assert.ok(m, `the README's toolkit section has a ${lang} snippet`);
  return m[1]!;
}

describe('the packed package in a fresh project', () => {
  it('holds the built client entries and not the sources or tests', async () => {
    const files = await readdir(join(project, 'node_modules/mailpen/dist/client'));
    for (const f of ['index.js', 'index.d.ts', 'playwright.js', 'playwright.d.ts', 'types.d.ts']) assert.ok(files.includes(f), f);
    const top = await readdir(join(project, 'node_modules/mailpen'));
    assert.deepEqual(top.filter((f) => ['test', 'server', 'client', 'node_modules'].includes(f)), []);
  });

  it('imports mailpen/client and mailpen/playwright and runs a test there against Mailpen', async () => {
    await writeFile(
      join(project, 'mail.test.mjs'),
      `import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient, MailpenTimeoutError } from 'mailpen/client';
import * as playwright from 'mailpen/playwright';

test('a code reaches its own inbox', async () => {
  const client = createClient(); // MAILPEN_URL
  const inbox = await client.inbox();
  await client.upload('Subject: Sign in\\r\\n\\r\\nYour login code is 551234\\r\\n', { inbox: inbox.name });
  const mail = await inbox.waitFor({ subject: 'Sign in' });
  assert.deepEqual(mail.codes.map((c) => c.code), ['551234']);
  await assert.rejects(inbox.waitFor({ subject: 'never', timeout: 0 }), MailpenTimeoutError);
  assert.equal(typeof playwright.test.extend, 'function');
  assert.equal(playwright.MailpenClient, (await import('mailpen/client')).MailpenClient);
});

test('only the exported entries can be imported', async () => {
  await assert.rejects(import('mailpen/dist/server/main.js'), { code: 'ERR_PACKAGE_PATH_NOT_EXPORTED' });
});
`,
    );
    // The README's node:test snippet as written, with signUp standing in for the application: it
    // sends over SMTP (nodemailer, from this repository) with the settings the inbox handed out.
    const nodemailer = pathToFileURL(createRequire(import.meta.url).resolve('nodemailer')).href;
    await writeFile(
      join(project, 'readme.test.mjs'),
      `const { default: nodemailer } = await import(${JSON.stringify(nodemailer)});
async function signUp(to, smtp) {
  const transport = nodemailer.createTransport(smtp);
  await transport.sendMail({ from: 'app@example.test', to, subject: 'Confirm your account', text: 'Your code is 123456. Confirm: https://app.test/confirm?t=1' });
  transport.close();
}
${await readmeSnippet('js')}`,
    );
    const { stdout } = await run(process.execPath, ['--test', 'mail.test.mjs', 'readme.test.mjs'], { cwd: project, env: { ...process.env, NODE_TEST_CONTEXT: undefined, MAILPEN_URL: server.httpUrl } });
    assert.match(stdout, /# pass 3\n# fail 0/);
  });

  it('type-checks a consumer against the shipped .d.ts alone (no Node types, no server sources)', async () => {
    await writeFile(
      join(project, 'consumer.ts'),
      `import { createClient, MailpenTimeoutError, type FoundMessage, type Code } from 'mailpen/client';
const client = createClient({ baseUrl: 'http://127.0.0.1:8025' });
export async function check(): Promise<Code[]> {
  const inbox = await client.inbox();
  const mail: FoundMessage = await inbox.waitFor({ subject: 'Welcome', timeout: 5000 });
  // @ts-expect-error: include is decided by the inbox
  await inbox.waitFor({ include: ['codes'] });
  if (mail.codes.length === 0) throw new MailpenTimeoutError({ statusCode: 408, error: 'x', message: 'y' }, 'GET /', '', undefined, 0);
  return mail.codes;
}
`,
    );
    await writeFile(
      join(project, 'fixture.ts'),
      `import { test, expect } from 'mailpen/playwright';
test('sign-up', async ({ page, inbox }) => {
  await page.goto('/signup?smtp=' + encodeURIComponent(inbox.smtp.url));
  const mail = await inbox.waitFor({ subject: 'Confirm' });
  // @ts-expect-error: a message has no such field, so the types are the package's, not any
  mail.nothing;
  expect(mail.links.length).toBeGreaterThan(0);
});
`,
    );
    await writeFile(join(project, 'readme-fixture.ts'), await readmeSnippet('ts'));
    const options = { noEmit: true, strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', lib: ['es2022', 'dom'] };
    await writeFile(join(project, 'tsconfig.client.json'), JSON.stringify({ compilerOptions: { ...options, types: [] }, files: ['consumer.ts'] }));
    // Playwright's own declarations need Node's; ours are checked by their use above.
    await writeFile(join(project, 'tsconfig.fixture.json'), JSON.stringify({ compilerOptions: { ...options, skipLibCheck: true }, files: ['fixture.ts', 'readme-fixture.ts'] }));
    await Promise.all(
      ['tsconfig.client.json', 'tsconfig.fixture.json'].map(async (config) => {
        const result = await run(process.execPath, [TSC, '-p', config], { cwd: project }).catch((err: { stdout: string }) => err);
        assert.equal(result.stdout, '', `${config}: ${result.stdout}`);
      }),
    );
  });
});
