#!/usr/bin/env node
// The `mailpen` command: runs the server, or with `sendmail` as its first word, submits one message.
// Only the light config module is imported up front; see stopSignal() for why the rest loads later.
import { ConfigError, helpText, loadConfig } from './config.js';
import { applyCompatEnv } from './compat-env.js';

/**
 * The first SIGINT or SIGTERM. Installed before the server's modules load and before it starts:
 * as PID 1 in a container, a signal that finds no handler is ignored, so a `docker stop` during
 * startup used to wait out its whole timeout (10 s) and end in SIGKILL.
 */
function stopSignal(): Promise<string> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'mcp') {
    const { mcp } = await import('./integrations/mcp/cli.js');
    return mcp(argv.slice(1), process.env, process.stdin, process.stdout, process.stderr);
  }
  if (argv[0] === 'sendmail') {
    const { sendmail } = await import('./sendmail/cli.js');
    return sendmail(argv.slice(1), process.env, process.stdin, process.stderr);
  }
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(helpText() + '\n');
    return 0;
  }
  if (argv.includes('--version')) {
    const { VERSION } = await import('./package-root.js');
    process.stdout.write(VERSION + '\n');
    return 0;
  }
  let config;
  // Mailpit's MP_* and MailHog's MH_* variables as aliases; a MAILPEN_* variable wins.
  const compat = applyCompatEnv(process.env);
  try {
    config = loadConfig(argv, compat.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`mailpen: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const stopping = stopSignal();
  const [{ createLogger }, { start }] = await Promise.all([import('./log.js'), import('./main.js')]);
  const log = createLogger(config);
  for (const warning of compat.warnings) log.warn(warning);
  let mailpen;
  try {
    mailpen = await start(config, log);
  } catch (err) {
    // A setting that only shows it is wrong once used (a TLS file, a port in use).
    if (err instanceof ConfigError) {
      process.stderr.write(`mailpen: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const signal = await stopping;
  log.info({ signal }, 'shutting down');
  // A second signal means "now".
  process.once('SIGINT', () => process.exit(130));
  process.once('SIGTERM', () => process.exit(143));
  await mailpen.close();
  log.flush?.();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`mailpen: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
