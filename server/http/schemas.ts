// The API's shapes on the wire, as TypeBox schemas: fastify validates requests and serializes
// responses with them, the OpenAPI document is generated from them, and the handlers' types
// are derived from them (Static<>), never written a second time.
import { Type, type Static } from '@sinclair/typebox';
import { ErrorBody } from './errors.js';
import { AddressSchema, MessageSummarySchema, type MessageSummary } from '../store/types.js';

export const ErrorRef = Type.Ref(ErrorBody.$id!);

// The summary and the address are domain types, defined once in server/store/types.ts.
export { AddressSchema, MessageSummarySchema };
export type MessageSummaryWire = MessageSummary;
const SummaryRef = Type.Ref('MessageSummary');

export const PartSchema = Type.Object({
  partId: Type.String(),
  filename: Type.Union([Type.String(), Type.Null()]),
  contentType: Type.String(),
  size: Type.Integer(),
  contentId: Type.Union([Type.String(), Type.Null()]),
  disposition: Type.Union([Type.Literal('inline'), Type.Literal('attachment')]),
});

export const EnvelopeSchema = Type.Object(
  {
    from: Type.String({ description: "MAIL FROM; '' for the null sender <>" }),
    to: Type.Array(Type.String(), { description: 'every RCPT TO, Bcc included' }),
    helo: Type.String({ description: 'the name the client gave in HELO/EHLO' }),
    remoteAddress: Type.String({ description: "the client's IP address" }),
    authUser: Type.Union([Type.String(), Type.Null()], { description: 'SMTP AUTH username; null without AUTH' }),
    tls: Type.Boolean({ description: 'the message came over TLS (STARTTLS or the implicit-TLS port)' }),
    via: Type.Optional(Type.String({ description: "the provider API it came through (sendgrid, postmark, mailgun, ses, resend); absent for SMTP and uploads" })),
  },
  { description: 'what the SMTP transaction said, as opposed to what the headers claim' },
);

export const MessageSchema = Type.Object({
  ...MessageSummarySchema.properties,
  envelope: EnvelopeSchema,
  replyTo: Type.Array(AddressSchema),
  headers: Type.Array(Type.Object({ name: Type.String(), value: Type.String() }), { description: 'every header in order, decoded, repeats kept' }),
  text: Type.Union([Type.String(), Type.Null()]),
  html: Type.Union([Type.String(), Type.Null()]),
  parts: Type.Array(PartSchema),
});
export type MessageWire = Static<typeof MessageSchema>;

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
export type IdParams = Static<typeof IdParams>;

export const PartParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }), partId: Type.String({ minLength: 1, maxLength: 64 }) });
export type PartParams = Static<typeof PartParams>;

const Q = Type.String({ maxLength: 2000, description: 'search query; see README "Search syntax"' });
const InboxName = Type.String({ minLength: 1, maxLength: 256 });

/** Far beyond what a store holds in memory; a bound so a position is never an unbounded walk request. */
export const MAX_OFFSET = 10_000_000;

export const ListQuery = Type.Object({
  inbox: Type.Optional(InboxName),
  q: Type.Optional(Q),
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 50 }),
  cursor: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$', description: 'the `next` of the previous page' })),
  offset: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: MAX_OFFSET,
      description: 'start this many messages down the newest-first list of what matches (0: the newest); not with `cursor`',
    }),
  ),
});
export type ListQuery = Static<typeof ListQuery>;

export const ListResponse = Type.Object({
  total: Type.Integer({ description: 'messages that match, over the whole store' }),
  unread: Type.Integer(),
  messages: Type.Array(SummaryRef),
  next: Type.Union([Type.String(), Type.Null()], { description: 'pass as `cursor` for the next page; null on the last one' }),
});

export const ReadBody = Type.Object({ read: Type.Boolean() }, { additionalProperties: false });
export type ReadBody = Static<typeof ReadBody>;

export const BulkReadBody = Type.Object(
  {
    read: Type.Boolean(),
    ids: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 100000 })),
    q: Type.Optional(Q),
    inbox: Type.Optional(InboxName),
  },
  { additionalProperties: false, description: 'either ids, or a query (q and/or inbox; neither means every message)' },
);
export type BulkReadBody = Static<typeof BulkReadBody>;

export const SelectQuery = Type.Object({ inbox: Type.Optional(InboxName), q: Type.Optional(Q) });
export type SelectQuery = Static<typeof SelectQuery>;

export const DeletedResponse = Type.Object({ deleted: Type.Integer({ description: 'messages deleted' }) });
export const UpdatedResponse = Type.Object({ updated: Type.Integer({ description: 'messages whose read flag changed' }) });

export const RawQuery = Type.Object({ download: Type.Optional(Type.String({ description: 'present: sent as <id>.eml' })) });
export type RawQuery = Static<typeof RawQuery>;

/**
 * One of a few strings, as a JSON Schema `enum`: a union of literals validates as anyOf, and ajv
 * then answers "must be equal to constant" once per literal plus "must match a schema in anyOf".
 */
function StringEnum<const T extends string[]>(values: T, options: { description?: string } = {}) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: values, ...options });
}

export const HtmlQuery = Type.Object({
  remote: Type.Optional(
    StringEnum(['allow', 'block'], {
      description: 'block: remote images, fonts and styles are not loaded (no tracking pixel learns the message was opened); default allow',
    }),
  ),
});
export type HtmlQuery = Static<typeof HtmlQuery>;

export const LinksResponse = Type.Object({ links: Type.Array(Type.String(), { description: 'HTML hrefs, then URLs in the text; in order, without repeats' }) });

export const CodeSchema = Type.Object({
  code: Type.String({ description: 'as written; digits split by a space or hyphen ("123 456") joined' }),
  context: Type.String({ description: 'the words around it, on one line' }),
});
export type CodeWire = Static<typeof CodeSchema>;
export const CodesResponse = Type.Object({
  codes: Type.Array(CodeSchema, {
    description: 'one-time codes in the text and HTML (4 to 8 digits, or short letter-and-digit codes beside words such as code, OTP, PIN, passcode); in order, without repeats',
  }),
});

export const UploadQuery = Type.Object({ inbox: Type.Optional(InboxName) });
export type UploadQuery = Static<typeof UploadQuery>;
export const UploadResponse = Type.Object({
  ids: Type.Array(Type.String(), { description: 'the messages stored, in the order of the upload' }),
  rejected: Type.Array(Type.Object({ message: Type.Integer({ description: '1-based, in the upload' }), reason: Type.String() }), {
    description: 'messages of an mbox not stored (over MAILPEN_MAX_MESSAGE_SIZE)',
  }),
  notes: Type.Array(Type.Object({ message: Type.Integer(), note: Type.String() }), { description: 'messages stored with a change, such as recipients over MAILPEN_MAX_RECIPIENTS dropped' }),
});

export const InboxesResponse = Type.Object({
  inboxes: Type.Array(Type.Object({ name: Type.String(), total: Type.Integer(), unread: Type.Integer() })),
});

export const WaitQuery = Type.Object({
  q: Type.Optional(Q),
  inbox: Type.Optional(InboxName),
  after: Type.Optional(Type.String({ maxLength: 64, description: 'a message id, or a time (ISO 8601, epoch seconds up to 10 digits, epoch ms 13 digits; 0: any message); default: now' })),
  timeout: Type.Number({ minimum: 0, maximum: 60, default: 10, description: 'seconds' }),
  include: Type.Optional(
    Type.String({
      pattern: '^(codes|links)(,(codes|links))?$',
      description: 'codes, links or codes,links: the answer also carries the message\'s codes and/or links, so a test needs one call',
    }),
  ),
});
export type WaitQuery = Static<typeof WaitQuery>;

/** The summary of the message a wait found, with what `include` asked for. */
export const WaitResponse = Type.Object({
  ...MessageSummarySchema.properties,
  links: Type.Optional(Type.Array(Type.String(), { description: 'with include=links: as GET /api/messages/:id/links' })),
  codes: Type.Optional(Type.Array(CodeSchema, { description: 'with include=codes: as GET /api/messages/:id/codes' })),
});
export type WaitResponseWire = Static<typeof WaitResponse>;

export const InfoResponse = Type.Object({
  version: Type.String(),
  startedAt: Type.String({ format: 'date-time' }),
  uptime: Type.Number({ description: 'seconds' }),
  ports: Type.Object({ smtp: Type.Integer(), smtps: Type.Union([Type.Integer(), Type.Null()]), http: Type.Integer() }),
  limits: Type.Object({
    maxMessages: Type.Integer(),
    maxBytes: Type.Integer(),
    maxMessageSize: Type.Integer(),
    maxRecipients: Type.Integer(),
  }),
  counts: Type.Object({ messages: Type.Integer(), unread: Type.Integer(), bytes: Type.Integer(), inboxes: Type.Integer(), waiters: Type.Integer() }),
  webhooks: Type.Union(
    [
      Type.Object({
        urls: Type.Integer(),
        queued: Type.Integer({ description: 'waiting or being sent' }),
        delivered: Type.Integer({ description: 'answered 2xx' }),
        retries: Type.Integer({ description: 'attempts after a failed one' }),
        failed: Type.Integer({ description: 'given up after every attempt, or left at shutdown' }),
        dropped: Type.Integer({ description: 'dropped from a full queue (MAILPEN_WEBHOOK_QUEUE), oldest first' }),
        retrying: Type.Integer({ description: 'URLs whose oldest delivery failed and waits for its retry' }),
      }),
      Type.Null(),
    ],
    { description: 'webhook deliveries (MAILPEN_WEBHOOK_URLS); null when none is configured' },
  ),
  rules: Type.Optional(
    Type.Object(
      { rules: Type.Integer({ description: 'rules in the set' }), enabled: Type.Integer(), fired: Type.Integer({ description: 'times a rule fired since start' }) },
      { description: 'fault rules (GET /api/rules has each one\'s hit count)' },
    ),
  ),
});
