// npm test's preflight (test/preflight.mjs): it stops the run with the missing tools named and the apt-get line
// printed, and the packages it names are the ones CI installs and the README tells a developer to install.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TOOLS, PACKAGES, APT_LINE } from './preflight.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

test('on a machine without the tools, the preflight names each one, prints the apt-get line, and exits 1', async () => {
  const empty = await mkdtemp(join(tmpdir(), 'mailpen-no-tools-'));
  try {
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = execFile(process.execPath, ['test/preflight.mjs'], { cwd: ROOT, env: { PATH: empty, CHROMIUM_PATH: join(empty, 'chromium') } }, (_e, _o, stderr) =>
        resolve({ code: child.exitCode, stderr }),
      );
    });
    assert.equal(result.code, 1);
    // An empty PATH hides every tool but those probed by absolute path (Debian's /usr/bin/python3 for Django);
    // chromium's path comes from CHROMIUM_PATH, set to a file that is not there.
    const hidden = TOOLS.filter((t) => !t.probe[0]!.startsWith('/') || t.name === 'chromium');
    assert.ok(hidden.length >= 10);
    for (const tool of hidden) assert.ok(result.stderr.includes(tool.name), `names ${tool.name}`);
    assert.ok(result.stderr.includes(APT_LINE), 'prints the apt-get line');
    assert.match(result.stderr, /no test was run/);
  } finally {
    await rm(empty, { recursive: true });
  }
});

test('CI installs, and the README names, every package the preflight asks for', async () => {
  const aptLines = (text: string): string[] => text.split('\n').filter((l) => /apt-get install/.test(l));
  const ci = await readFile(join(ROOT, '.ci/run'), 'utf8');
  // .ci/run keeps its list in APT_PACKAGES, used by its apt-get line.
  const ciPackages = /^APT_PACKAGES="([^"]+)"/m.exec(ci)?.[1]?.split(/\s+/) ?? [];
  assert.ok(aptLines(ci).some((l) => l.includes('$APT_PACKAGES')), '.ci/run installs APT_PACKAGES');
  const readme = aptLines(await readFile(join(ROOT, 'README.md'), 'utf8'));
  for (const p of PACKAGES) {
    assert.ok(ciPackages.includes(p), `.ci/run installs ${p}`);
    assert.ok(readme.some((l) => l.split(/\s+/).includes(p)), `the README's apt-get line names ${p}`);
  }
});
