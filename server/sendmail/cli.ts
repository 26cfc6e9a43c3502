// `mailpen sendmail`: a sendmail replacement for callers that can only pipe a message into a
// program (PHP's mail(), cron, git send-email, mutt). It reads one message and submits it over SMTP
// to a running Mailpen; it never queues, so a failure is reported at once by exit status and stderr.
import { hostname, userInfo } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { ConfigError, parseHostPort, type HostPort } from '../config.js';
import { parseAddresses } from '../mail/headers.js';
import { parseSendmailArgs, SENDMAIL_USAGE, UsageError, type SendmailArgs } from './args.js';
import { headerRecipients, headerSender, readMessage, withoutBcc } from './message.js';
import { relaySmtpSession } from './relay.js';
import { DeliveryError, submit } from './submit.js';
import { EX_CONFIG, EX_NOINPUT, EX_USAGE } from './sysexits.js';

/** Mailpen's own default listener; not "localhost", which may resolve to ::1 where nothing listens. */
const DEFAULT_ADDR = '127.0.0.1:1025';

export async function sendmail(
  argv: string[],
  env: NodeJS.ProcessEnv,
  stdin: Readable,
  stderr: Writable,
  stdout: Writable = process.stdout,
): Promise<number> {
  const fail = (status: number, message: string): number => {
    stderr.write(`mailpen sendmail: ${message}\n`);
    return status;
  };
  let args: SendmailArgs;
  let server: HostPort;
  let auth: { user: string; pass: string } | null;
  try {
    args = parseSendmailArgs(argv);
    server = serverAddress(args, env);
    auth = credentials(env);
  } catch (err) {
    if (err instanceof UsageError) return fail(EX_USAGE, `${err.message}\n${SENDMAIL_USAGE}`);
    if (err instanceof SettingError) return fail(err.status, err.message);
    throw err;
  }
  if (args.help) {
    stdout.write(SENDMAIL_USAGE + '\n');
    return 0;
  }
  if (args.mode === 'no-queue') return 0;
  try {
    if (args.mode === 'smtp-session') {
      await relaySmtpSession(server, stdin, stdout);
      return 0;
    }
    let input: Buffer;
    try {
      input = await readMessage(stdin, args.ignoreDots);
    } catch (err) {
      return fail(EX_NOINPUT, `cannot read the message: ${(err as Error).message}`);
    }
    const recipients = dedupe([
      ...args.recipients.flatMap((r) => parseAddresses(r).map((a) => a.address)).filter((a) => a !== ''),
      ...(args.extractRecipients ? headerRecipients(input) : []),
    ]);
    if (recipients.length === 0) {
      return fail(EX_USAGE, args.extractRecipients ? 'no recipient addresses found in the message header' : 'no recipients: name them, or pass -t to read them from the headers');
    }
    const sender = args.sender !== null ? envelopeAddress(args.sender) : (headerSender(input) ?? localSender(env));
    const response = await submit({ server, auth, sender, recipients, message: withoutBcc(input) });
    if (args.verbose) stderr.write(`mailpen sendmail: ${server.host}:${server.port} accepted the message for ${recipients.join(', ')}: ${response}\n`);
    return 0;
  } catch (err) {
    if (err instanceof DeliveryError) return fail(err.status, err.message);
    throw err;
  }
}

class SettingError extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

function serverAddress(args: SendmailArgs, env: NodeJS.ProcessEnv): HostPort {
  const [source, value, status] =
    args.smtpAddr !== null ? ['--smtp-addr', args.smtpAddr, EX_USAGE] : ['MAILPEN_SENDMAIL_ADDR', env.MAILPEN_SENDMAIL_ADDR || DEFAULT_ADDR, EX_CONFIG];
  try {
    const addr = parseHostPort(value);
    if (addr.port === 0) throw new ConfigError('a port from 1 to 65535');
    return addr;
  } catch (err) {
    if (err instanceof ConfigError) throw new SettingError(`invalid ${source} "${value}": expected ${err.message}`, status);
    throw err;
  }
}

function credentials(env: NodeJS.ProcessEnv): { user: string; pass: string } | null {
  const value = env.MAILPEN_SENDMAIL_AUTH;
  if (!value) return null;
  const colon = value.indexOf(':');
  if (colon <= 0) throw new SettingError('invalid MAILPEN_SENDMAIL_AUTH: expected user:password', EX_CONFIG);
  return { user: value.slice(0, colon), pass: value.slice(colon + 1) };
}

/** `-f` as callers write it: `me@x`, `<me@x>`, or `<>` (and '') for the null sender of bounces. */
function envelopeAddress(value: string): string {
  const trimmed = value.trim();
  const bracketed = /<([^<>]*)>/.exec(trimmed);
  return (bracketed ? bracketed[1]! : trimmed).trim();
}

/** What sendmail uses when neither -f nor a From header says: the invoking user at this host. */
function localSender(env: NodeJS.ProcessEnv): string {
  let user = env.USER || env.LOGNAME;
  if (!user) {
    try {
      user = userInfo().username;
    } catch {
      // A container user without a passwd entry has no name.
      user = 'nobody';
    }
  }
  return `${user}@${hostname()}`;
}

function dedupe(addresses: string[]): string[] {
  const seen = new Set<string>();
  return addresses.filter((a) => {
    const key = a.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
