// `mailpen mcp`: an MCP server on stdin/stdout for coding agents, talking to a running Mailpen's
// HTTP API (so Mailpen may run in Docker, on another port, behind auth). stdout carries only the
// protocol; anything said to a person goes to stderr.
import type { Readable, Writable } from 'node:stream';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { VERSION } from '../../package-root.js';
import { httpApi } from './api.js';
import { createMcpServer } from './tools.js';

export const MCP_USAGE = `Usage: mailpen mcp [--url URL] [--api-token TOKEN] [--ui-auth USER:PASS]

An MCP server over stdio for coding agents: tools to search, wait for and read the mail a running
Mailpen caught. It talks to Mailpen's HTTP API.

  --url URL            Mailpen's HTTP address (MAILPEN_MCP_URL; default http://127.0.0.1:8025)
  --api-token TOKEN    bearer token, when Mailpen runs with MAILPEN_API_TOKEN (default: that variable)
  --ui-auth USER:PASS  HTTP Basic user, when Mailpen runs with MAILPEN_UI_AUTH (default: its first user)
  --help               this text

Client config (Claude Code, Cursor...): { "command": "mailpen", "args": ["mcp"] }`;

const DEFAULT_URL = 'http://127.0.0.1:8025';

interface McpArgs {
  url: string;
  authorization: string | null;
  help: boolean;
}

class UsageError extends Error {}

export function parseMcpArgs(argv: readonly string[], env: NodeJS.ProcessEnv): McpArgs {
  const given = new Map<string, string>();
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (!['--url', '--api-token', '--ui-auth'].includes(name)) throw new UsageError(`unknown option ${name}`);
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new UsageError(`${name} needs a value`);
    given.set(name, value);
  }
  const url = given.get('--url') ?? (env.MAILPEN_MCP_URL || DEFAULT_URL);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--url ${JSON.stringify(url)} is not a URL; for example http://127.0.0.1:8025`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new UsageError(`--url must be http(s): ${JSON.stringify(url)}`);
  const token = given.get('--api-token') ?? (env.MAILPEN_API_TOKEN?.trim() || null);
  const basic = given.get('--ui-auth') ?? (env.MAILPEN_UI_AUTH?.split(',')[0]?.trim() || null);
  if (basic !== null && basic.indexOf(':') <= 0) throw new UsageError('--ui-auth takes user:password');
  const authorization = token ? `Bearer ${token}` : basic ? `Basic ${Buffer.from(basic, 'utf8').toString('base64')}` : null;
  return { url: parsed.origin + parsed.pathname.replace(/\/+$/, ''), authorization, help };
}

/** Serves until stdin ends; returns the exit status. */
export async function mcp(argv: string[], env: NodeJS.ProcessEnv, stdin: Readable, stdout: Writable, stderr: Writable): Promise<number> {
  let args: McpArgs;
  try {
    args = parseMcpArgs(argv, env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    stderr.write(`mailpen mcp: ${err.message}\n${MCP_USAGE}\n`);
    return 64;
  }
  if (args.help) {
    stdout.write(MCP_USAGE + '\n');
    return 0;
  }
  const server = createMcpServer(httpApi(args.url, args.authorization), VERSION);
  const transport = new StdioServerTransport(stdin, stdout);
  const closed = new Promise<void>((resolve) => {
    server.server.onclose = resolve;
  });
  stdin.once('end', () => void transport.close());
  await server.connect(transport);
  stderr.write(`mailpen mcp: serving MCP on stdio for the Mailpen at ${args.url}\n`);
  await closed;
  return 0;
}
