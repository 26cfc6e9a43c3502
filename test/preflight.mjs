// Run by `npm test` before anything else (plain node, no dependency): checks that the system tools the tests use
// are here, and when some are not, names them, prints the one apt-get line that installs them all, and exits 1,
// instead of letting dozens of tests fail one by one. .ci/run installs the same packages (test/preflight.test.ts
// keeps its apt-get line, and the README's, holding every package named here).
// --quiet: exit status only. --packages: print the package list and exit.
import { execFile } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** Each tool: how to tell it works, the Debian packages that provide it, and what needs it. */
export const TOOLS = [
  { name: 'chromium', probe: [process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', '--version'], packages: ['chromium'], usedBy: 'the browser tests' },
  { name: 'swaks', probe: ['swaks', '--version'], packages: ['swaks'], usedBy: 'SMTP tests, the client matrix' },
  { name: 'curl', probe: ['curl', '--version'], packages: ['curl'], usedBy: "SMTP tests, the README's curl snippet, the client matrix" },
  { name: 'jq', probe: ['jq', '--version'], packages: ['jq'], usedBy: "the README's curl snippet" },
  { name: 'python3', probe: ['python3', '--version'], packages: ['python3'], usedBy: "SMTP tests, the README's Python snippet, the client matrix" },
  { name: 'Django (for /usr/bin/python3)', probe: ['/usr/bin/python3', '-c', 'import django'], packages: ['python3-django'], usedBy: 'the client matrix' },
  { name: 'msmtp', probe: ['msmtp', '--version'], packages: ['msmtp'], usedBy: 'the client matrix' },
  {
    name: 'PHP with PHPMailer',
    probe: ['php', '-r', 'require "/usr/share/php/libphp-phpmailer/autoload.php";'],
    packages: ['php-cli', 'libphp-phpmailer'],
    usedBy: 'the client matrix',
  },
  {
    name: 'PHP with Symfony Mailer',
    probe: ['php', '-r', 'require "/usr/share/php/Symfony/Component/Mailer/autoload.php";'],
    packages: ['php-cli', 'php-symfony-mailer'],
    usedBy: 'the client matrix',
  },
  { name: "Ruby's mail gem", probe: ['ruby', '-e', 'require "mail"'], packages: ['ruby-mail'], usedBy: 'the client matrix' },
  { name: 'Go', probe: ['go', 'version'], packages: ['golang-go'], usedBy: 'the client matrix' },
  { name: 'spamd', probe: ['/usr/sbin/spamd', '--version'], packages: ['spamassassin', 'spamd'], usedBy: 'the SpamAssassin message check (test/checks-spamd.test.ts)' },
  { name: 'redis-server', probe: ['/usr/bin/redis-server', '--version'], packages: ['redis-server'], usedBy: 'several replicas on one Redis (test/redis-replicas.test.ts)' },
];

export const PACKAGES = [...new Set(TOOLS.flatMap((t) => t.packages))];
/** The line to give a developer: the package lists of a fresh machine (a Docker image has none) are fetched first. */
export const APT_LINE = `sudo apt-get update && sudo apt-get install -y ${PACKAGES.join(' ')}`;

function works([command, ...args]) {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: 20_000 }, (err) => resolve(!err));
  });
}

async function main(argv) {
  if (argv.includes('--packages')) {
    process.stdout.write(PACKAGES.join(' ') + '\n');
    return 0;
  }
  const results = await Promise.all(TOOLS.map(async (t) => ({ tool: t, ok: await works(t.probe) })));
  const missing = results.filter((r) => !r.ok).map((r) => r.tool);
  if (missing.length === 0) return 0;
  if (!argv.includes('--quiet')) {
    const width = Math.max(...missing.map((t) => t.name.length));
    process.stderr.write(
      [
        `npm test: ${missing.length} of the system tools the tests use ${missing.length === 1 ? 'is' : 'are'} missing; no test was run.`,
        ...missing.map((t) => `  ${t.name.padEnd(width)}  (${t.packages.join(', ')}): ${t.usedBy}`),
        '',
        'On Debian 12 (bookworm), this installs every one of them:',
        '',
        `  ${APT_LINE}`,
        '',
      ].join('\n'),
    );
  }
  return 1;
}

// Imported by test/preflight.test.ts for its lists; run as a program by npm test.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  process.exitCode = await main(process.argv.slice(2));
}
