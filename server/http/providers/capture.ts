// What every provider edge shares: the mail an API call asks to send, in one shape; the inbox its
// key chooses; the MIME message built from it (nodemailer's composer, never string
// concatenation); and storing it as if it had come over SMTP, marked with the API it came
// through. Each provider file only translates its request and answer shapes to and from these.
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import type Mail from 'nodemailer/lib/mailer/index.js';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { App, AppDeps } from '../app.js';
import type { Address, Envelope } from '../../store/types.js';
import { storeMessage } from '../../store/store.js';
import { StoreUnavailableError } from '../../store/unavailable.js';
import { inboxRefusal } from '../../store/inbox-name.js';
import { parseAddresses } from '../../mail/headers.js';

/** The provider APIs Mailpen answers, each on its own path prefix (/sendgrid, /postmark...). */
export type ProviderName = 'sendgrid' | 'postmark' | 'mailgun' | 'ses' | 'resend';

export interface MailAttachment {
  filename?: string | undefined;
  content: Buffer;
  contentType?: string | undefined;
  /** Content-ID without brackets: an inline part the HTML shows as cid:... */
  cid?: string | undefined;
  inline?: boolean | undefined;
}

/** What one API call (or one entry of a batch, or one SendGrid personalization) asks to send. */
export interface OutgoingMail {
  from: Address;
  to: Address[];
  cc: Address[];
  /** In the envelope only, never in a header: as SMTP carries Bcc. */
  bcc: Address[];
  replyTo: Address[];
  subject: string;
  text?: string | undefined;
  html?: string | undefined;
  amp?: string | undefined;
  headers: Array<{ key: string; value: string }>;
  attachments: MailAttachment[];
  /** When the application asked for it to go out; it is stored at once, with this noted. */
  scheduledAt?: string | undefined;
}

/**
 * A request the provider itself would refuse: the status it answers and what it says. `code` is
 * the provider's own error name or number when it has one (Postmark's ErrorCode, SES's error type).
 */
export class ApiRejection extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly code: string | number = '',
  ) {
    super(message);
  }
}

/**
 * Loose on purpose: what providers check, one @ with something on both sides and no spaces or
 * brackets. Anything stricter would refuse addresses a provider takes.
 */
const ADDRESS = /^[^\s@<>(),;:"\\[\]]+@[^\s@<>(),;:"\\[\]]+$/;

export function isAddress(address: string): boolean {
  return address.length <= 320 && ADDRESS.test(address);
}

/** `"Ann" <ann@x.test>`, `ann@x.test` or a list of them (Postmark, Mailgun and Resend take header-style strings). */
export function addressesOf(value: string | readonly string[] | undefined | null): Address[] {
  if (value === undefined || value === null) return [];
  const list = typeof value === 'string' ? [value] : value;
  return list.flatMap((v) => (typeof v === 'string' && v.trim() !== '' ? parseAddresses(v) : []));
}

/** The first address that is not one, for the provider's "invalid address" answer; null when all are. */
export function badAddress(addresses: readonly Address[]): string | null {
  return addresses.find((a) => !isAddress(a.address))?.address ?? null;
}

/** The key's inbox, or why the key is refused (the caller answers with its provider's auth error). */
export function inboxForKey(key: string | null | undefined, deps: Pick<AppDeps, 'config' | 'store'>): { inbox: string } | { refused: string } {
  if (key === null || key === undefined || key === '') return { refused: 'no API key was sent' };
  const keys = deps.config.providerKeys;
  if (keys.length > 0 && !keys.includes(key)) return { refused: 'the API key is not one of MAILPEN_PROVIDER_KEYS' };
  // The key names the inbox as the SMTP AUTH user does. A key that cannot be a name is refused
  // rather than put in `default`: that would silently mix parallel tests' mail together.
  // A new inbox past MAILPEN_MAX_INBOXES is refused the same way, with the reason.
  const problem = inboxRefusal(key, deps.store, deps.config.maxInboxes);
  return problem === null ? { inbox: key } : { refused: `the API key chooses the inbox, and ${problem}` };
}

/** The MIME message for `mail`, with Date and Message-ID; Bcc is left out of the headers. */
export async function composeMime(mail: OutgoingMail, messageIdDomain: string): Promise<Buffer> {
  const format = (a: Address): Mail.Address => ({ name: a.name, address: a.address });
  const options: Mail.Options = {
    from: format(mail.from),
    to: mail.to.map(format),
    subject: mail.subject,
    headers: mail.headers,
    attachments: mail.attachments.map((a) => ({
      filename: a.filename,
      content: a.content,
      contentType: a.contentType,
      cid: a.cid,
      contentDisposition: a.inline ? 'inline' : 'attachment',
    })),
    messageId: `<${crypto.randomUUID()}@${messageIdDomain}>`,
    // Mail content is hostile: the composer must never read a file or fetch a URL because of it.
    disableFileAccess: true,
    disableUrlAccess: true,
  };
  // Only when given: an empty list would remove the same header sent as a custom one (Mailgun's h:Reply-To).
  if (mail.cc.length > 0) options.cc = mail.cc.map(format);
  if (mail.replyTo.length > 0) options.replyTo = mail.replyTo.map(format);
  if (mail.text !== undefined) options.text = mail.text;
  if (mail.html !== undefined) options.html = mail.html;
  if (mail.amp !== undefined) options.amp = mail.amp;
  if (mail.scheduledAt !== undefined) options.headers = [...mail.headers, { key: 'X-Mailpen-Scheduled-At', value: mail.scheduledAt }];
  return new Promise((resolve, reject) => {
    new MailComposer(options).compile().build((error, message) => (error ? reject(error) : resolve(message)));
  });
}

/** A message ready to store: its bytes and its envelope. */
export interface BuiltMessage {
  raw: Buffer;
  mailFrom: string;
  rcptTo: string[];
}

/** Stores what the provider edges receive, built or raw, as SMTP would have. */
export class Capture {
  constructor(
    private readonly deps: AppDeps,
    readonly via: ProviderName,
  ) {}

  /**
   * Builds `mail` as MIME, size-checked; the envelope is From and every To, Cc and Bcc. A request
   * of several messages builds them all before storing any, so a refused one leaves nothing behind.
   */
  async build(mail: OutgoingMail): Promise<BuiltMessage> {
    const raw = await composeMime(mail, `${this.via}.mailpen`);
    this.checkSize(raw.length);
    const rcptTo = [...new Set([...mail.to, ...mail.cc, ...mail.bcc].map((a) => a.address))];
    return { raw, mailFrom: mail.from.address, rcptTo };
  }

  /**
   * Stores `message.raw` byte for byte (SES raw and Mailgun MIME uploads too): the API is recorded in
   * the envelope only. Resolves with its id once the store has it: on a store shared through Redis,
   * once the log has ordered it (so every replica evicts alike); rejects with StoreUnavailableError
   * (the provider's error shape, 503) when Redis cannot take it. The messages of one request are
   * handed over in one turn (call this for each, then await them all): one write to the log.
   */
  async store(message: BuiltMessage, inbox: string, key: string, request: FastifyRequest): Promise<string> {
    this.checkSize(message.raw.length);
    const envelope: Envelope = {
      mailFrom: message.mailFrom,
      rcptTo: message.rcptTo,
      helo: '',
      remoteAddress: request.ip,
      authUser: key,
      tls: request.protocol === 'https',
      via: this.via,
    };
    const [id] = await storeMessage(this.deps.store, { raw: message.raw, envelope }, [inbox]);
    return id!;
  }

  /** The provider's limit or Mailpen's, whichever is lower (0: Mailpen's is off). */
  recipientLimit(providerLimit: number): number {
    const own = this.deps.config.maxRecipients;
    return own > 0 ? Math.min(own, providerLimit) : providerLimit;
  }

  private checkSize(size: number): void {
    if (size > this.deps.config.maxMessageSize) {
      throw new ApiRejection(413, `the message is ${size} bytes; the limit is ${this.deps.config.maxMessageSize} (MAILPEN_MAX_MESSAGE_SIZE)`);
    }
  }
}

/** A provider's error body (and headers) for a rejection. */
export type ErrorFormat = (rejection: ApiRejection, request: FastifyRequest) => { body: unknown; headers?: Record<string, string>; status?: number };

/**
 * Every error under a provider's prefix answers in that provider's shape, so its SDK raises its
 * own error type: rejections, fastify's own (bad JSON 400, body too large 413, unknown content
 * type 415) and paths Mailpen does not emulate. A 5xx is logged and its details hidden.
 */
export function answerErrorsAs(app: App, format: ErrorFormat, notEmulated: string): void {
  const send = (reply: FastifyReply, rejection: ApiRejection): void => {
    const { body, headers, status } = format(rejection, reply.request);
    if (headers) void reply.headers(headers);
    void reply.code(status ?? rejection.statusCode).send(body);
  };
  app.setErrorHandler((error: FastifyError | ApiRejection, request, reply) => {
    if (error instanceof ApiRejection) return send(reply, error);
    // The store (Redis) cannot take the message now: a 503 with the reason, so the SDK can retry.
    if (error instanceof StoreUnavailableError) return send(reply, new ApiRejection(503, error.message));
    const status = error.statusCode ?? 500;
    if (status >= 500) {
      request.log.error({ err: error, url: request.url }, 'provider API request failed');
      return send(reply, new ApiRejection(500, 'internal error; see the Mailpen log'));
    }
    const message = status === 413 ? `the request is larger than Mailpen accepts (MAILPEN_MAX_MESSAGE_SIZE, plus room for base64): ${error.message}` : error.message;
    return send(reply, new ApiRejection(status, message));
  });
  // A route, not a not-found handler: the UI's page fallback (GET /*) would otherwise answer GETs.
  app.route({
    method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    url: '/*',
    schema: { hide: true },
    handler: async (request) => {
      const path = request.url.split('?', 1)[0]!;
      throw new ApiRejection(501, `${request.method} ${path.slice(0, 200)} is not emulated by Mailpen: ${notEmulated}`);
    },
  });
}

/** Room for base64 (4/3) and the JSON around it, over the largest message. */
export function encodedBodyLimit(maxMessageSize: number): number {
  return Math.ceil(maxMessageSize * 1.4) + 1024 * 1024;
}

/** The bearer token of `Authorization: Bearer <key>`, or null. */
export function bearerKey(request: FastifyRequest): string | null {
  const m = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '');
  return m ? m[1]!.trim() : null;
}

/** The user and password of `Authorization: Basic ...`, or null. */
export function basicCredentials(request: FastifyRequest): { user: string; password: string } | null {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(request.headers.authorization ?? '');
  if (!m) return null;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? null : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** The phrase said where delivery would be needed, for every provider's not-emulated answer. */
export const DELIVERY_ONLY = 'Mailpen captures mail and never delivers it, so only the send endpoints are answered; webhooks of delivery events, suppression lists, bounces and templates stored at the provider need real delivery';
