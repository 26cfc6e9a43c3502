// The container's health check (Dockerfile HEALTHCHECK): asks the running server's /healthz at the
// address it listens on. That address may come from MAILPEN_HTTP_ADDR or from a flag after the image
// name (`docker run mailpen --http-addr 0.0.0.0:9000`), and only the server's own command line holds
// the flag: the check reads it from /proc/1/cmdline and applies the same config rules as the server.
// Reading the variable alone left a container started with the flag unhealthy forever.
//
//   node dist/server/healthcheck.js [/proc/1/cmdline]    exit 0: healthy, 1: not
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { loadConfig } from './config.js';

/** How long the server has to answer; the HEALTHCHECK --timeout (4 s) is the outer bound. */
const ANSWER_MS = 3000;

/** The server's arguments in a NUL-separated command line: what follows its cli.js (`docker run --init` puts tini first). */
export function serverArgs(cmdline: string): string[] {
  const words = cmdline.split('\0');
  if (words.at(-1) === '') words.pop();
  const cli = words.findIndex((w) => /(^|\/)cli\.js$/.test(w));
  return cli < 0 ? [] : words.slice(cli + 1);
}

/** Where the server started with these arguments and this environment answers its health check. */
export function healthUrl(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): string {
  const { host, port } = loadConfig(argv, env).http;
  // A wildcard bind is reached on loopback, which the Host check always admits.
  let name = host === '' || host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  if (name.includes(':')) name = `[${name}]`;
  return `http://${name}:${port}/healthz`;
}

async function main(cmdlinePath: string): Promise<number> {
  const url = healthUrl(serverArgs(readFileSync(cmdlinePath, 'latin1')), process.env);
  const res = await fetch(url, { signal: AbortSignal.timeout(ANSWER_MS) });
  return res.ok ? 0 : 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv[2] ?? '/proc/1/cmdline').then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`healthcheck: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
