#!/usr/bin/env node
// The `mailpen` command: runs the server, or with `sendmail` as its first word, submits one message.
import { ConfigError, helpText, loadConfig } from './config.js';
import { createLogger } from './log.js';
import { start, VERSION } from './main.js';

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'sendmail') {
    const { sendmail } = await import('./sendmail/cli.js');
    return sendmail(argv.slice(1), process.env, process.stdin, process.stderr);
  }
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(helpText() + '\n');
    return 0;
  }
  if (argv.includes('--version')) {
    process.stdout.write(VERSION + '\n');
    return 0;
  }
  let config;
  try {
    config = loadConfig(argv, process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`mailpen: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const log = createLogger(config);
  const mailpen = await start(config, log);
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      log.info({ signal }, 'shutting down');
      // A second signal means "now".
      process.once('SIGINT', () => process.exit(130));
      process.once('SIGTERM', () => process.exit(143));
      void mailpen.close().then(resolve);
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
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
