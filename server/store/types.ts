// The shape of a captured message, as the store holds it and as lists and events carry it: the
// domain types, each defined once. The summary and the address are TypeBox schemas with their
// types derived from them (Static), so the store, the events, the HTTP schemas
// (server/http/schemas.ts, which reuse these) and the UI (`import type`) all read one definition.
import { Type, type Static } from '@sinclair/typebox';

export const AddressSchema = Type.Object({ name: Type.String(), address: Type.String() });
export type Address = Static<typeof AddressSchema>;

/** What the SMTP transaction said, as opposed to what the headers claim. */
export interface Envelope {
  /** MAIL FROM, '' for the null sender `<>`. */
  mailFrom: string;
  /** Every RCPT TO in order, so Bcc recipients are visible. */
  rcptTo: string[];
  /** HELO/EHLO name the client gave. */
  helo: string;
  remoteAddress: string;
  /** SMTP AUTH username, or null when the client did not authenticate. */
  authUser: string | null;
  /** Whether the message came over TLS (STARTTLS or the implicit-TLS port). */
  tls: boolean;
  /** The provider API it came through (sendgrid, postmark, mailgun, ses, resend); absent for SMTP and uploads. */
  via?: string;
}

/**
 * The list-level view of a message: what the inbox list, search results and live events carry.
 * Never a body: pushing bodies to every open tab made a burst of mail expensive (MailDev).
 */
export const MessageSummarySchema = Type.Object(
  {
    id: Type.String(),
    inbox: Type.String(),
    receivedAt: Type.String({ format: 'date-time', description: 'when the last byte of DATA arrived' }),
    from: Type.Union([AddressSchema, Type.Null()]),
    to: Type.Array(AddressSchema),
    cc: Type.Array(AddressSchema),
    subject: Type.String(),
    date: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'the Date header; null when missing or unreadable' }),
    messageId: Type.Union([Type.String(), Type.Null()]),
    snippet: Type.String({ description: 'the first characters of the text body, whitespace folded' }),
    size: Type.Integer({ description: 'raw size in bytes' }),
    attachments: Type.Integer({ description: 'count of attachment parts (the images the HTML shows by cid: are not)' }),
    read: Type.Boolean(),
    tags: Type.Array(Type.String(), { description: 'labels from X-Tags, plus-addresses (bob+signup@) or PUT /api/messages/:id/tags, sorted' }),
    envelope: Type.Object({ from: Type.String(), to: Type.Array(Type.String()) }, { description: 'MAIL FROM and every RCPT TO (Bcc included)' }),
    problems: Type.Array(Type.String(), { description: 'what could not be parsed; empty when all went well' }),
  },
  { $id: 'MessageSummary' },
);
export type MessageSummary = Static<typeof MessageSummarySchema>;

/** One inbox's counts: in /api/inboxes, every counts frame of the event stream, and the UI's inbox menu. */
export interface InboxCount {
  name: string;
  total: number;
  unread: number;
}

/** What SMTP (or the upload endpoint) hands the store. */
export interface IncomingMessage {
  raw: Buffer;
  envelope: Envelope;
  inbox: string;
  receivedAt?: Date;
  /** The id to store it under: a replicated store (server/store/redis/) gives every replica the same one. */
  id?: string;
}
