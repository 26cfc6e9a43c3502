// The sendmail command line, read the way sendmail's getopt reads it, so that what PHP's mail()
// (`-t -i`, `-fbounce@x`), cron (`-FCronDaemon -i -B8BITMIME -oem`), git send-email (`-i -f from rcpt...`),
// mutt (`-oem -oi -- rcpt...`) and Symfony/Laravel (`-bs`, `-t -i`) pass is understood or ignored.

export class UsageError extends Error {}

export type SendmailMode =
  /** -bm, the default: read one message from stdin and submit it. */
  | 'deliver'
  /** -bs: the caller speaks SMTP itself on stdin/stdout (Symfony and Laravel's default). */
  | 'smtp-session'
  /** -q, -bp: there is never a queue, since every message is submitted at once. */
  | 'no-queue';

export interface SendmailArgs {
  mode: SendmailMode;
  /** -t: recipients from To, Cc and Bcc (or their Resent- forms). */
  extractRecipients: boolean;
  /** -i, -oi: a line holding a single dot is data, not the end of input. */
  ignoreDots: boolean;
  /** -f, -r: the envelope sender; '' is the null sender `<>`; null means "from the From header". */
  sender: string | null;
  /** Recipients named on the command line, each argument possibly a comma-separated list. */
  recipients: string[];
  /** -S, --smtp-addr: where Mailpen listens, host:port. */
  smtpAddr: string | null;
  /** -v: say on stderr where the message went. */
  verbose: boolean;
  help: boolean;
}

/** Letters of sendmail 8 and Postfix's sendmail that take a value, attached (`-fme`) or next (`-f me`). */
const WITH_VALUE = new Set('ABbCDdeFfhLMNOopQRrVX');
/** Letters that take none; those not handled below (-c, -G, -m, -n, -s, -U, -x...) change nothing here. */
const WITHOUT_VALUE = new Set('cGIimnsTtUvx');

export function parseSendmailArgs(argv: readonly string[]): SendmailArgs {
  const args: SendmailArgs = {
    mode: 'deliver', extractRecipients: false, ignoreDots: false, sender: null, recipients: [], smtpAddr: null, verbose: false, help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      args.recipients.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq > 0 ? arg.slice(0, eq) : arg;
      if (name === '--help') args.help = true;
      else if (name === '--smtp-addr') args.smtpAddr = eq > 0 ? arg.slice(eq + 1) : needValue(argv, ++i, name);
      else throw new UsageError(`unknown option ${name}`);
      continue;
    }
    if (!arg.startsWith('-') || arg === '-') {
      args.recipients.push(arg);
      continue;
    }
    // A cluster of letters, as getopt reads it: `-ti` is -t -i; a letter that takes a value ends it.
    for (let j = 1; j < arg.length; j++) {
      const letter = arg[j]!;
      if (letter === 'S') {
        args.smtpAddr = j + 1 < arg.length ? arg.slice(j + 1) : needValue(argv, ++i, '-S');
        break;
      }
      if (letter === 'q') {
        // -q takes an interval only when attached (`-q30m`); `sendmail -q` alone is common in cron jobs.
        args.mode = 'no-queue';
        break;
      }
      if (WITH_VALUE.has(letter)) {
        const value = j + 1 < arg.length ? arg.slice(j + 1) : needValue(argv, ++i, `-${letter}`);
        applyValue(args, letter, value);
        break;
      }
      if (!WITHOUT_VALUE.has(letter)) throw new UsageError(`unknown option -${letter}`);
      if (letter === 't') args.extractRecipients = true;
      else if (letter === 'i') args.ignoreDots = true;
      else if (letter === 'v') args.verbose = true;
      else if (letter === 'I') throw new UsageError('-I (rebuild the alias database) is not something mailpen sendmail does');
    }
  }
  return args;
}

function needValue(argv: readonly string[], i: number, name: string): string {
  const value = argv[i];
  if (value === undefined) throw new UsageError(`${name} needs a value`);
  return value;
}

function applyValue(args: SendmailArgs, letter: string, value: string): void {
  switch (letter) {
    case 'f':
    case 'r':
      args.sender = value;
      return;
    case 'o':
      // -oi is sendmail's long-hand for -i; -oem, -odi, -oQ... concern queueing and error reports.
      if (value === 'i') args.ignoreDots = true;
      return;
    case 'O':
      if (/^IgnoreDots(=(true|t|yes|y|1))?$/i.test(value)) args.ignoreDots = true;
      return;
    case 'b':
      if (value === 'm') args.mode = 'deliver';
      else if (value === 's') args.mode = 'smtp-session';
      else if (value === 'p') args.mode = 'no-queue';
      else throw new UsageError(`-b${value} is not supported: mailpen sendmail only delivers (-bm) or speaks SMTP on stdin (-bs)`);
      return;
    // -B body type, -F full name, -N DSN, -R return, -V envelope id, -X log file, -C config, -d debug,
    // -e error mode, -h hop count, -L syslog tag, -p protocol, -A, -D, -M, -Q: no effect on capture.
    default:
      return;
  }
}

export const SENDMAIL_USAGE = `Usage: mailpen sendmail [-t] [-i] [-f sender] [-S host:port] [recipient ...] < message

Reads one message on standard input and submits it over SMTP to a Mailpen server.
  -t                recipients from the To, Cc and Bcc headers (added to those given as arguments);
                    the Bcc header is removed from the message but its addresses still receive it
  -f, -r sender     envelope sender (MAIL FROM), '<>' for none; default: the From address, else $USER@host
  -i, -oi           a line with a single dot is not the end of the message
  -bs               speak SMTP on stdin and stdout (what Symfony and Laravel use)
  -S, --smtp-addr   Mailpen's SMTP address, host:port (default: MAILPEN_SENDMAIL_ADDR, else 127.0.0.1:1025)
  -v                say on stderr where the message went
Other sendmail options (-B, -F, -N, -R, -V, -o..., -bm, -oem, -odi...) are accepted and have no effect.
MAILPEN_SENDMAIL_AUTH=user:password logs in first (needed when the server runs with MAILPEN_SMTP_AUTH=strict;
the message then lands in that user's inbox).
Exit status: 0 sent, 64 usage, 66 input unreadable, 68 unknown host, 69 refused (5xx), 75 try again later
(no server, dropped connection, timeout, 4xx), 76 not an SMTP server, 78 bad MAILPEN_SENDMAIL_* value.`;
