// Mailpen as its own process (the `mailpen` command from source), for tests whose failure mode is
// the process dying: an in-process server that crashed would take the test runner with it.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ChildServer {
  child: ChildProcess;
  smtpPort: number;
  smtpsPort: number | null;
  httpUrl: string;
  /** The "Mailpen is listening" log line, parsed. */
  listening: Record<string, unknown>;
  /** Whatever the process wrote to stderr so far (an uncaught error's stack lands here). */
  stderr(): string;
  /** Exit code and signal once it has exited; null while it runs. */
  exited(): { code: number | null; signal: NodeJS.Signals | null } | null;
  stop(): Promise<void>;
}

export async function startChildServer(args: string[] = [], env: Record<string, string> = {}): Promise<ChildServer> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'server/cli.ts', '--smtp-addr', '127.0.0.1:0', '--http-addr', '127.0.0.1:0', '--log-format', 'json', '--log-level', 'info', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      resolve();
    }),
  );
  const lines = createInterface({ input: child.stdout! });
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    lines.on('line', (line) => {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        if (entry.msg === 'Mailpen is listening') resolve(entry);
      } catch {
        // not a log line
      }
    });
    void exited.then(() => reject(new Error(`mailpen exited before listening: ${stderr}`)));
  });
  const port = (v: unknown): number => Number(String(v).split(':').pop());
  return {
    child,
    smtpPort: port(ready.smtp),
    smtpsPort: ready.smtps === undefined ? null : port(ready.smtps),
    httpUrl: String(ready.http).replace(/\/$/, ''),
    listening: ready,
    stderr: () => stderr,
    exited: () => exit,
    async stop() {
      if (exit) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}
