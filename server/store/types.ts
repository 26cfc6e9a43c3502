// The shape of a captured message, as the store holds it and as lists and events carry it.
// These are the domain types; the HTTP schemas (server/http/schemas.ts) describe the same
// shapes on the wire and the wire types are derived from those.

export interface Address {
  name: string;
  address: string;
}

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
export interface MessageSummary {
  id: string;
  inbox: string;
  /** ISO 8601, when the last byte of DATA arrived. */
  receivedAt: string;
  from: Address | null;
  to: Address[];
  cc: Address[];
  subject: string;
  /** The Date header as ISO 8601, null when missing or unparseable. */
  date: string | null;
  messageId: string | null;
  /** The first characters of the text body, whitespace folded. */
  snippet: string;
  /** Raw size in bytes. */
  size: number;
  /** Count of parts that are attachments (inline cid: images not counted). */
  attachments: number;
  read: boolean;
  /** Labels from X-Tags, plus-addresses or the API (server/store/tags.ts), sorted. */
  tags: string[];
  envelope: { from: string; to: string[] };
  /** What could not be parsed, said on the message; empty when all went well. */
  problems: string[];
}

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
