// Placeholder entry for `mailpen sendmail`; issue 5 builds it.
import type { Readable, Writable } from 'node:stream';

export async function sendmail(_argv: string[], _env: NodeJS.ProcessEnv, _stdin: Readable, stderr: Writable): Promise<number> {
  stderr.write('mailpen sendmail: not built yet\n');
  return 69;
}
