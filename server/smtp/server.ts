// The SMTP edge: accepts every message for every recipient, stores it, and delivers nothing.
// There is no outbound code here or anywhere; reverse DNS is off as well, so a connection costs
// no lookup (Mailpit users lose 10 s a connection to it inside docker-compose).
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession, type SMTPServerAuthentication } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { addToInboxes, type MessageStore } from '../store/store.js';
import type { TlsMaterial } from './tls.js';
import { SmtpFaults } from '../rules/smtp.js';
import type { FaultRules } from '../rules/rules.js';
import { DEFAULT_INBOX, inboxNameProblem, inboxesRefusal } from '../store/inbox-name.js';
import { Router } from '../routing/router.js';
import { ReceiptLog } from './receipt-log.js';
import { batchReplies } from './reply-batching.js';

/** The inbox a message lands in when its sender did not authenticate. */
export { DEFAULT_INBOX };

/** On shutdown, open sessions get this long to finish their message. */
const SHUTDOWN_GRACE_MS = 2000;

/** An error that smtp-server turns into a reply with this code. */
function smtpError(code: number, message: string): Error & { responseCode: number } {
  return Object.assign(new Error(message), { responseCode: code });
}

export interface SmtpListeners {
  /** Bound addresses, for logs and tests that listen on port 0. */
  smtp: AddressInfo;
  smtps: AddressInfo | null;
  close(): Promise<void>;
}

type SmtpConfig = Pick<
  Config,
  'smtp' | 'smtps' | 'smtpStartTls' | 'hostname' | 'maxMessageSize' | 'maxRecipients' | 'maxConnections' | 'smtpIdleTimeout' | 'smtpAuth' | 'smtpUsers' | 'maxInboxes' | 'routing' | 'routingDomain' | 'routingRules'
>;

/** What SMTP tells whoever counts (the metrics); session ids pair an open with its close. */
export interface SmtpObserver {
  sessionOpened?(id: string): void;
  /** Also called for a connection refused before its session began (421 over MAILPEN_MAX_CONNECTIONS). */
  sessionClosed?(id: string): void;
  /** store_unavailable: the 451 of a store that could not take the message (Redis down). */
  refused?(reason: RefusalReason): void;
}

/** Every reason an SMTP transaction is refused for (metrics starts each at zero). */
export const REFUSAL_REASONS = ['message_too_big', 'auth_failed', 'too_many_inboxes', 'store_unavailable'] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

/**
 * `router` decides each message's inboxes; server/main.ts shares one with the API (GET/PUT
 * /api/routing), and without one the configured routing is used as it was at start.
 */
export async function startSmtp(
  config: SmtpConfig,
  store: MessageStore,
  /** Null when no listener offers TLS (STARTTLS off, no TLS port): smtp-server never uses it then. */
  tls: TlsMaterial | null,
  log: Logger,
  observer: SmtpObserver = {},
  /** Fault rules (server/rules/): failures on purpose, asked at every stage; none when null. */
  rules: FaultRules | null = null,
  router: Router = new Router(store, { modes: config.routing, domain: config.routingDomain, rules: config.routingRules }),
): Promise<SmtpListeners> {
  // With the router, a rule's inbox is the inbox the routing stores the mail in.
  const faults = rules ? new SmtpFaults(rules, log, config.maxMessageSize, router) : null;
  const receipts = new ReceiptLog(log);
  const options = (secure: boolean): SMTPServerOptions => ({
    secure,
    key: tls?.key,
    cert: tls?.cert,
    name: config.hostname,
    banner: 'Mailpen ESMTP: every message is captured, none is delivered',
    size: config.maxMessageSize,
    authMethods: ['PLAIN', 'LOGIN', 'CRAM-MD5'],
    authOptional: config.smtpAuth === 'optional',
    // Apps in development send AUTH in the clear to a local server; refusing it helps nobody, unless
    // TLS is required (smtp-server then answers 538 5.7.11 until STARTTLS).
    allowInsecureAuth: config.smtpStartTls !== 'required',
    disableReverseLookup: true,
    // Off by default: Nodemailer, PHPMailer, Symfony Mailer, Ruby's mail and Go's net/smtp upgrade whenever
    // STARTTLS is offered, then reject the self-signed certificate (test/clients.test.ts sends with each).
    ...(config.smtpStartTls !== 'off' || secure ? {} : { hideSTARTTLS: true, disabledCommands: ['STARTTLS'] }),
    hideENHANCEDSTATUSCODES: false,
    maxClients: config.maxConnections,
    // smtp-server answers these two itself, with the precise enhanced codes (4.5.3, 5.3.4),
    // which it would not add to a reply our callbacks make.
    maxRecipients: config.maxRecipients,
    rejectOversized: true,
    socketTimeout: config.smtpIdleTimeout,
    // How long close() lets open sessions finish before it cuts them.
    closeTimeout: SHUTDOWN_GRACE_MS,
    logger: false,
    onConnect: (session, callback) => {
      observer.sessionOpened?.(session.id);
      if (!faults) return callback();
      faults.connected((secure ? smtps : smtp)!, session);
      faults.run('connect', session, faults.context(session, { inbox: null }), (err) => callback(err));
    },
    onClose: (session) => {
      observer.sessionClosed?.(session.id);
      faults?.closed(session);
    },
    onAuth: (auth, session, callback) => {
      if (!faults) return callback(...authenticate(auth));
      const ctx = faults.context(session, { inbox: auth.username || DEFAULT_INBOX });
      faults.run('auth', session, ctx, (err) => (err ? callback(err) : callback(...authenticate(auth))));
    },
    onMailFrom: (address, session, callback) => {
      const refused = tlsRequiredError(session);
      if (refused || !faults) return callback(refused);
      faults.run('mail', session, faults.context(session, { mailFrom: address.address }), (err) => callback(err));
    },
    // An accepted RCPT is answered once the call has returned: answered synchronously inside a
    // pipelined batch, the batch's third transaction was never answered (smtp-server re-enters its
    // command loop). On a nextTick, though, where smtp-server's own default waits for setImmediate,
    // so the replies to a pipelined batch are all made before reply-batching.ts writes them. A
    // rule's refusal goes out at once: its enhanced code is set only for that reply
    // (server/rules/smtp.ts).
    onRcptTo: (address, session, callback) => {
      if (!faults) return process.nextTick(callback);
      faults.run('rcpt', session, faults.context(session, { rcptTo: [address.address] }), (err) => (err ? callback(err) : process.nextTick(callback)));
    },
    onData: (stream, session, callback) => (faults ? faults.data(stream, session, callback, receive) : receive(stream, session, callback)),
  });

  /** With MAILPEN_SMTP_STARTTLS=required, mail before STARTTLS is refused (smtp-server adds 5.7.0); the session stays open for STARTTLS. */
  function tlsRequiredError(session: SMTPServerSession): Error | null {
    return config.smtpStartTls === 'required' && session.secure !== true ? smtpError(530, 'Must issue a STARTTLS command first') : null;
  }

  function authenticate(auth: SMTPServerAuthentication): [Error | null | undefined, { user: string } | undefined] {
    const user = auth.username ?? '';
    // The user names the inbox (an empty one means the default inbox): refused here, at once and
    // with the reason, rather than after the client has sent its whole message. Unless the routing
    // does not use it (MAILPEN_ROUTING without auth): then it is the app's one account, any name.
    const problem = user === '' || !router.settings.modes.includes('auth') ? null : inboxNameProblem(user);
    if (problem !== null) {
      observer.refused?.('auth_failed');
      return [smtpError(535, `Authentication refused: the user name is the inbox name, and ${problem}`), undefined];
    }
    if (config.smtpAuth === 'optional') return [null, { user }];
    const expected = config.smtpUsers.get(user);
    const ok =
      expected !== undefined &&
      (auth.method === 'CRAM-MD5' ? auth.validatePassword?.(expected) === true : auth.password === expected);
    if (!ok) observer.refused?.('auth_failed');
    return ok ? [null, { user }] : [smtpError(535, 'Authentication credentials invalid'), undefined];
  }

  function receive(stream: Readable & { sizeExceeded?: boolean }, session: SMTPServerSession, callback: (err?: Error | null, message?: string) => void): void {
    const chunks: Buffer[] = [];
    let length = 0;
    let aborted = false;
    stream.on('data', (chunk: Buffer) => {
      // Past the limit, read on to the end (the protocol needs it) but keep nothing.
      if (length <= config.maxMessageSize) chunks.push(chunk);
      length += chunk.length;
    });
    // A client that disconnects mid-DATA destroys the stream: nothing is stored.
    stream.on('error', () => {
      aborted = true;
    });
    stream.on('end', () => {
      if (aborted) return;
      if (stream.sizeExceeded || length > config.maxMessageSize) {
        // rejectOversized makes smtp-server answer 552 5.3.4 whatever this says; store nothing.
        observer.refused?.('message_too_big');
        return callback(smtpError(552, 'Message too big'));
      }
      const raw = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length);
      const authUser = typeof session.user === 'string' && session.user !== '' ? session.user : null;
      const mailFrom = session.envelope.mailFrom;
      const envelope = {
        mailFrom: mailFrom ? mailFrom.address : '',
        rcptTo: session.envelope.rcptTo.map((r) => r.address),
        helo: session.hostNameAppearsAs ?? '',
        remoteAddress: session.remoteAddress ?? '',
        authUser,
        tls: session.secure === true,
      };
      // The AUTH user, else default, unless MAILPEN_ROUTING chooses by recipient or by rules.
      const inboxes = router.route({ raw, envelope });
      // A new inbox past MAILPEN_MAX_INBOXES: a temporary refusal (deleting an inbox makes room).
      const full = inboxesRefusal(inboxes, store, config.maxInboxes);
      if (full !== null) {
        observer.refused?.('too_many_inboxes');
        return callback(smtpError(452, full));
      }
      // Sent only once the message is in the store, so a client can fetch it on the 250.
      const accepted = (ids: string[]): void => {
        receipts.received({ id: ids[0]!, inbox: inboxes[0]!, ...(inboxes.length > 1 ? { ids, inboxes } : {}), from: envelope.mailFrom, to: envelope.rcptTo, size: length });
        callback(null, `Message queued as ${ids.join(' ')}`);
      };
      if (store.addDurably) {
        // A store that writes elsewhere first (Redis): the 250 only once it has acknowledged the
        // message; while it cannot, 451 4.3.0 and the session goes on, so the client can retry.
        store.addDurably({ raw, envelope }, inboxes).then(
          accepted,
          (err: unknown) => {
            log.warn({ err: (err as Error).message }, 'message refused for now: the store cannot take it');
            observer.refused?.('store_unavailable');
            callback(smtpError(451, `Temporary failure: ${(err as Error).message}; try again later`));
          },
        );
        return;
      }
      // One stored message per inbox, each with its own id and read flag, over the same raw bytes
      // (the store shares them): deleting it in one inbox leaves it in the others. Synchronous, so
      // the 250 goes in the same turn as the add (storeMessage would wait a turn for nothing).
      accepted(addToInboxes(store, { raw, envelope }, inboxes));
    });
  }

  const smtp = new SMTPServer(options(false));
  const smtps = config.smtps ? new SMTPServer(options(true)) : null;
  batchReplies(smtp);
  for (const server of [smtp, smtps]) server?.on('error', (err) => log.warn({ err }, 'SMTP connection error'));

  const listen = (server: SMTPServer, addr: { host: string; port: number }): Promise<AddressInfo> =>
    new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      server.server.once('error', onError);
      server.listen(addr.port, addr.host, () => {
        server.server.off('error', onError);
        resolve(server.server.address() as AddressInfo);
      });
    });

  const smtpAddress = await listen(smtp, config.smtp);
  const smtpsAddress = smtps && config.smtps ? await listen(smtps, config.smtps) : null;

  return {
    smtp: smtpAddress,
    smtps: smtpsAddress,
    close: () => Promise.all([smtp, smtps].map((s) => (s ? closeServer(s) : undefined))).then(() => receipts.flush()),
  };
}

/**
 * Stops accepting; smtp-server lets open sessions finish for closeTimeout, then says 421 and
 * half-closes them. A client that ignores the 421 would keep its socket, and the process, alive
 * for smtp-server's own 5 s wait; after the grace period there is nothing left to wait for.
 */
function closeServer(server: SMTPServer): Promise<void> {
  // Taken now: close() drops each connection from the set as it half-closes it.
  const open = [...server.connections];
  return new Promise((resolve) =>
    server.close(() => {
      for (const connection of open) connection._socket.destroy();
      resolve();
    }),
  );
}
