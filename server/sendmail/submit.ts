// Submits one message to a Mailpen server over SMTP with nodemailer's SMTP client, and turns
// whatever goes wrong into a sendmail exit status and a sentence for stderr.
import { hostname } from 'node:os';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import type { HostPort } from '../config.js';
import { EX_NOHOST, EX_PROTOCOL, EX_TEMPFAIL, EX_UNAVAILABLE, EX_USAGE } from './sysexits.js';

/** Mailpen is local or a container away: a connection that takes longer than this is not coming. */
const CONNECT_TIMEOUT_MS = 10_000;
/** Long enough for a large message into a busy server; sendmail's callers would rather wait than lose it. */
const SOCKET_TIMEOUT_MS = 60_000;

export interface Submission {
  server: HostPort;
  auth: { user: string; pass: string } | null;
  /** '' for the null sender. */
  sender: string;
  recipients: string[];
  message: Buffer;
}

export class DeliveryError extends Error {
  constructor(
    message: string,
    /** The sysexits status to exit with. */
    readonly status: number,
  ) {
    super(message);
  }
}

type SmtpError = Error & { code?: string; responseCode?: number; response?: string; recipient?: string };

/** Resolves with the server's final reply ("250 ... queued as <id>"); rejects with a DeliveryError. */
export async function submit(s: Submission): Promise<string> {
  const where = `${s.server.host.includes(':') ? `[${s.server.host}]` : s.server.host}:${s.server.port}`;
  const connection = new SMTPConnection({
    host: s.server.host,
    port: s.server.port,
    // A capture server on the same machine or compose network: plain SMTP, and no certificate to check.
    ignoreTLS: true,
    name: hostname(),
    connectionTimeout: CONNECT_TIMEOUT_MS,
    greetingTimeout: CONNECT_TIMEOUT_MS,
    socketTimeout: SOCKET_TIMEOUT_MS,
    socketCloseTimeout: 0,
    logger: false,
  });
  // The client reports a refused connection, a drop or a timeout as an 'error' (or 'end') event, not
  // through the callback of the step in flight: every step races them.
  let failWith: (err: SmtpError) => void = () => {};
  const failure = new Promise<never>((_, reject) => {
    failWith = reject;
  });
  failure.catch(() => {});
  connection.on('error', (err: SmtpError) => failWith(err));
  connection.on('end', () => failWith(Object.assign(new Error('the server closed the connection'), { code: 'ECONNECTION' })));
  const step = <T>(run: (done: (err: SmtpError | null, value?: T) => void) => void): Promise<T> =>
    Promise.race([new Promise<T>((resolve, reject) => run((err, value) => (err ? reject(err) : resolve(value as T)))), failure]);
  try {
    await step<void>((done) => connection.connect((err) => done(err ?? null)));
    if (s.auth) await step<boolean | undefined>((done) => connection.login({ user: s.auth!.user, pass: s.auth!.pass }, done));
    const info = await step<SMTPConnection.SentMessageInfo>((done) =>
      connection.send(
        {
          from: s.sender,
          to: s.recipients,
          // No SIZE: nodemailer would refuse a large message itself with a vaguer reason than Mailpen's 552.
          use8BitMime: s.message.some((byte) => byte > 0x7f),
        },
        s.message,
        done,
      ),
    );
    if (info.rejected.length > 0) {
      const first = (info.rejectedErrors?.[0] ?? {}) as SmtpError;
      throw new DeliveryError(
        `${where} refused ${info.rejected.join(', ')}: ${first.response ?? first.message}` +
          ` (the message went to ${info.accepted.join(', ') || 'nobody'})`,
        statusOf(first),
      );
    }
    connection.quit();
    return info.response;
  } catch (err) {
    connection.close();
    if (err instanceof DeliveryError) throw err;
    throw describe(err as SmtpError, where);
  }
}

function describe(err: SmtpError, where: string): DeliveryError {
  const status = statusOf(err);
  if (typeof err.responseCode === 'number') return new DeliveryError(`${where} refused the message: ${err.response ?? err.message}`, status);
  if (status === EX_NOHOST) return new DeliveryError(`cannot find the host of ${where}: ${err.message}`, status);
  if (err.code === 'EENVELOPE') return new DeliveryError(`not a usable envelope: ${err.message}`, status);
  return new DeliveryError(`cannot deliver to Mailpen at ${where}: ${err.message}`, status);
}

function statusOf(err: SmtpError): number {
  const code = err.responseCode;
  if (typeof code === 'number') return code >= 500 ? EX_UNAVAILABLE : code >= 400 ? EX_TEMPFAIL : EX_PROTOCOL;
  if (err.code === 'EDNS') return EX_NOHOST;
  // The client's own checks, before the server had a say: an address it cannot send is the caller's.
  if (err.code === 'EENVELOPE') return EX_USAGE;
  if (err.code === 'EMESSAGE') return EX_UNAVAILABLE;
  if (err.code === 'EPROTOCOL') return EX_PROTOCOL;
  return EX_TEMPFAIL;
}
