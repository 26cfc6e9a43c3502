// Fault rules at the SMTP edge: server/smtp/server.ts calls run() from each hook, and this turns
// the rule set's decision into the protocol: a reply through the hook's callback (so the session
// goes on exactly as after any refusal), a delay on a timer (never holding other sessions), or a
// closed socket with no reply.
//
// smtp-server has no EHLO hook and picks the enhanced status code of a reply itself, and a
// disconnect needs the socket, which hooks do not get: for those three this reaches into the
// connection object (its `handler_EHLO`, `_getEnhancedStatusCode` and `_socket`, smtp-server
// 3.21), looked up once per connection and only when a rule acts at a stage.
import type { SMTPServer, SMTPServerSession } from 'smtp-server';
import type { Socket } from 'node:net';
import { PassThrough, type Readable } from 'node:stream';
import { DEFAULT_INBOX } from '../store/inbox-name.js';
import type { Logger } from '../log.js';
import type { FaultRules, Decision } from './rules.js';
import type { RuleContext } from './match.js';
import type { Stage } from './model.js';
import type { Router } from '../routing/router.js';

const NO_BYTES = Buffer.alloc(0);

type HandlerCallback = () => void;
type DataStream = Readable & { sizeExceeded?: boolean };
type DataCallback = (err?: Error | null, message?: string) => void;

function authUser(session: SMTPServerSession): string | null {
  return typeof session.user === 'string' && session.user !== '' ? session.user : null;
}

/** The parts of smtp-server's SMTPConnection used here. */
interface ConnectionInternals {
  id: string;
  _socket: Socket;
  send(code: number, data: string, context?: string | false): void;
  _getEnhancedStatusCode(code: number, context?: unknown): string;
  handler_EHLO(command: Buffer, callback: HandlerCallback): void;
  handler_HELO(command: Buffer, callback: HandlerCallback): void;
}

interface Attached {
  connection: ConnectionInternals;
  /** The enhanced code for the next reply with this code, set just before a rule's reply. */
  enhanced: { code: number; value: string } | null;
}

/** An error that smtp-server turns into a reply with this code. */
function smtpError(code: number, message: string): Error & { responseCode: number } {
  return Object.assign(new Error(message), { responseCode: code });
}

export class SmtpFaults {
  readonly #rules: FaultRules;
  readonly #log: Logger;
  readonly #attached = new Map<string, Attached>();

  readonly #maxMessageSize: number;
  readonly #router: Router | null;

  /** `router`: the routing SMTP stores by, so that a rule's inbox is the inbox the mail goes to. */
  constructor(rules: FaultRules, log: Logger, maxMessageSize: number, router: Router | null = null) {
    this.#rules = rules;
    this.#log = log;
    this.#maxMessageSize = maxMessageSize;
    this.#router = router;
  }

  /**
   * What a stage knows. `inbox`: the stage says the inbox itself (auth: the user being tried;
   * connect: none); otherwise it is worked out, when a rule asks, as the routing would store it.
   */
  context(session: SMTPServerSession, known: { inbox?: string | null; mailFrom?: string; rcptTo?: readonly string[]; raw?: Buffer } = {}): RuleContext {
    const mailFrom = known.mailFrom ?? (session.envelope?.mailFrom ? session.envelope.mailFrom.address : null);
    const rcptTo = known.rcptTo ?? [];
    const raw = known.raw ?? null;
    let inboxes: readonly string[] | null = known.inbox === undefined ? null : known.inbox === null ? [] : [known.inbox];
    return {
      remoteAddress: session.remoteAddress ?? '',
      mailFrom,
      rcptTo,
      raw,
      inboxes: () => (inboxes ??= this.#inboxes(session, mailFrom, rcptTo, raw)),
    };
  }

  /**
   * The inboxes the routing gives (MAILPEN_ROUTING): at data exactly; at rcpt from the recipient
   * being tried, the routing's rules seeing the envelope only; at mail the AUTH user's, if routing
   * uses it. Without a router: the AUTH user, else the default inbox.
   */
  #inboxes(session: SMTPServerSession, mailFrom: string | null, rcptTo: readonly string[], raw: Buffer | null): readonly string[] {
    const user = authUser(session);
    if (this.#router === null) return [user ?? DEFAULT_INBOX];
    const envelope = { mailFrom: mailFrom ?? '', rcptTo: [...rcptTo], helo: session.hostNameAppearsAs ?? '', remoteAddress: session.remoteAddress ?? '', authUser: user, tls: session.secure === true };
    return this.#router.route({ raw: raw ?? NO_BYTES, envelope });
  }

  /** From onConnect: takes hold of the connection (for EHLO rules, enhanced codes, disconnects). */
  connected(server: SMTPServer, session: SMTPServerSession): void {
    let connection: ConnectionInternals | undefined;
    for (const c of server.connections) {
      if ((c as unknown as ConnectionInternals).id === session.id) connection = c as unknown as ConnectionInternals;
    }
    if (!connection) return;
    const attached: Attached = { connection, enhanced: null };
    this.#attached.set(session.id, attached);
    const enhancedCode = connection._getEnhancedStatusCode.bind(connection);
    connection._getEnhancedStatusCode = (code, context) => {
      const wanted = attached.enhanced;
      // context false: a greeting or a refused connection, which carry no enhanced code (RFC 2034).
      if (wanted !== null && wanted.code === code && context !== false) {
        attached.enhanced = null;
        return wanted.value;
      }
      return enhancedCode(code, context);
    };
    for (const name of ['handler_EHLO', 'handler_HELO'] as const) {
      const original = connection[name].bind(connection);
      connection[name] = (command, callback) => {
        if (!this.#rules.active('ehlo')) return original(command, callback);
        const ctx = this.context(session, { inbox: null });
        this.run('ehlo', session, ctx, (err) => {
          if (err === null) return original(command, callback);
          connection.send(err.responseCode, err.message);
          callback();
        });
      };
    }
  }

  /**
   * From onData, around the function that stores the message: with data rules, reads the message
   * to its end, asks the rules, then hands the same bytes on (after the delay) or answers the
   * rule's reply without storing. A message over the size limit is handed on untouched (552).
   */
  data(stream: DataStream, session: SMTPServerSession, callback: DataCallback, receive: (stream: DataStream, session: SMTPServerSession, callback: DataCallback) => void): void {
    if (!this.#rules.active('data')) return receive(stream, session, callback);
    const chunks: Buffer[] = [];
    let length = 0;
    let aborted = false;
    stream.on('data', (chunk: Buffer) => {
      if (length <= this.#maxMessageSize) chunks.push(chunk);
      length += chunk.length;
    });
    // A client that disconnects mid-DATA destroys the stream: nothing is evaluated or stored.
    stream.on('error', () => {
      aborted = true;
    });
    stream.on('end', () => {
      if (aborted) return;
      const replay = (): void => {
        const copy = Object.assign(new PassThrough(), { sizeExceeded: stream.sizeExceeded });
        receive(copy, session, callback);
        for (const chunk of chunks) copy.write(chunk);
        copy.end();
      };
      if (stream.sizeExceeded || length > this.#maxMessageSize) return replay();
      const raw = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length);
      const ctx = this.context(session, {
        mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
        rcptTo: session.envelope.rcptTo.map((r) => r.address),
        raw,
      });
      this.run('data', session, ctx, (err) => (err === null ? replay() : callback(err)));
    });
  }

  closed(session: SMTPServerSession): void {
    this.#attached.delete(session.id);
  }

  /**
   * Evaluates the stage's rules and calls `next` with null (go on as normal) or the error to
   * answer with; after a disconnect it is never called.
   */
  run(stage: Stage, session: SMTPServerSession, ctx: RuleContext, next: (err: (Error & { responseCode: number }) | null) => void): void {
    if (!this.#rules.active(stage)) return next(null);
    const decision = this.#rules.evaluate(stage, ctx);
    if (decision === null) return next(null);
    this.#log.info({ rule: decision.rule, stage, session: session.id, inbox: ctx.inboxes()[0], from: ctx.mailFrom, to: ctx.rcptTo, action: decision.then.kind, delay: decision.delay || undefined }, 'fault rule fired');
    if (decision.delay === 0) return this.#act(decision, session, next);
    // Unref'd: a delayed session must not keep a stopping process alive.
    setTimeout(() => this.#act(decision, session, next), decision.delay).unref();
  }

  #act(decision: Decision, session: SMTPServerSession, next: (err: (Error & { responseCode: number }) | null) => void): void {
    const then = decision.then;
    switch (then.kind) {
      case 'proceed':
        return next(null);
      case 'disconnect': {
        const attached = this.#attached.get(session.id);
        // Destroyed, not ended: the client sees the connection drop with no reply at all.
        attached?.connection._socket.destroy();
        if (!attached) next(smtpError(421, 'Closing connection (Mailpen fault rule)'));
        return;
      }
      case 'reply': {
        const attached = this.#attached.get(session.id);
        if (attached && then.enhanced !== null) attached.enhanced = { code: then.code, value: then.enhanced };
        next(smtpError(then.code, then.text));
        // A reply that never went out (the client left during a delay) must not tag a later one.
        if (attached) attached.enhanced = null;
        return;
      }
    }
  }
}
