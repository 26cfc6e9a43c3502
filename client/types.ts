// The API's shapes as the client sees them. Written out here so the published .d.ts stands alone
// (no server source, no TypeBox); test/client-types.test.ts checks at compile time that each one
// equals the server's schema (server/http/schemas.ts, Static<>) and event vocabulary, so the two
// cannot drift: a field added to a schema and not here fails `npm run typecheck`.

export interface Address {
  name: string;
  address: string;
}

/** A message in lists, events and wait answers: never its body. */
export interface MessageSummary {
  id: string;
  inbox: string;
  /** ISO 8601, when the last byte of DATA arrived. */
  receivedAt: string;
  from: Address | null;
  to: Address[];
  cc: Address[];
  subject: string;
  /** The Date header, ISO 8601; null when missing or unreadable. */
  date: string | null;
  messageId: string | null;
  snippet: string;
  /** Raw size in bytes. */
  size: number;
  /** Count of attachment parts. */
  attachments: number;
  read: boolean;
  /** Labels from X-Tags, plus-addresses (bob+signup@) or the API, sorted. */
  tags: string[];
  /** MAIL FROM and every RCPT TO (Bcc included). */
  envelope: { from: string; to: string[] };
  /** What could not be parsed. */
  problems: string[];
}

export interface MessagePart {
  partId: string;
  filename: string | null;
  contentType: string;
  size: number;
  contentId: string | null;
  disposition: 'inline' | 'attachment';
}

/** One message with its bodies, headers and parts (GET /api/messages/:id). */
export interface Message extends Omit<MessageSummary, 'envelope'> {
  envelope: {
    from: string;
    to: string[];
    helo: string;
    remoteAddress: string;
    /** The SMTP AUTH user name; null without AUTH. */
    authUser: string | null;
    tls: boolean;
  };
  replyTo: Address[];
  headers: { name: string; value: string }[];
  text: string | null;
  html: string | null;
  parts: MessagePart[];
}

/** A one-time code found in a message (GET /api/messages/:id/codes). */
export interface Code {
  code: string;
  /** The words around it, on one line. */
  context: string;
}

export interface MessageList {
  /** Messages that match, over the whole store. */
  total: number;
  unread: number;
  messages: MessageSummary[];
  /** Pass as `cursor` for the next page; null on the last one. */
  next: string | null;
}

export interface InboxCount {
  name: string;
  total: number;
  unread: number;
}

export interface UploadResult {
  ids: string[];
  rejected: { message: number; reason: string }[];
  notes: { message: number; note: string }[];
}

/** What GET /api/wait answers: the summary, with `links` and `codes` when asked for. */
export interface WaitResult extends MessageSummary {
  links?: string[];
  codes?: Code[];
}

/** A wait result from the client's helpers, which always ask for both. */
export interface FoundMessage extends MessageSummary {
  links: string[];
  codes: Code[];
}

export interface ServerInfo {
  version: string;
  startedAt: string;
  uptime: number;
  ports: { smtp: number; smtps: number | null; http: number };
  limits: { maxMessages: number; maxBytes: number; maxMessageSize: number; maxRecipients: number };
  counts: { messages: number; unread: number; bytes: number; inboxes: number; waiters: number };
}

/** The API's error body, on every 4xx and 5xx. */
export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
}

// The event stream (GET /api/events): its closed vocabulary, as the server sends it.

export interface MessageRef {
  id: string;
  inbox: string;
}

export interface Counts {
  total: number;
  unread: number;
  inboxes: InboxCount[];
}

export type MailpenEvent =
  | { type: 'added'; seq: number; data: { message: MessageSummary } }
  /** Only with `?rows=N` (the UI asks it): arrivals of one frame past its newest N, as references. */
  | { type: 'arrived'; seq: number; data: { messages: MessageRef[] } }
  | { type: 'updated'; seq: number; data: { id: string; inbox: string; read: boolean; tags?: string[] } }
  | { type: 'deleted'; seq: number; data: { messages: MessageRef[] } }
  | { type: 'evicted'; seq: number; data: { messages: MessageRef[] } }
  | { type: 'cleared'; seq: number; data: { inbox: string | null } }
  | { type: 'counts'; seq: number; data: Counts }
  | { type: 'hello'; seq: number; data: { epoch: string; counts: Counts } }
  | { type: 'resync'; seq: number; data: { epoch: string; reason: string; counts: Counts } }
  | {
      type: 'rule-fired';
      seq: number;
      data: { rule: string; stage: string; action: 'reply' | 'delay' | 'disconnect' | 'greylist'; code: number | null; inbox: string | null; hits: number };
    };

/** How Mailpen puts SMTP mail in inboxes (GET/PUT /api/routing). */
export type RoutingMode = 'auth' | 'subaddress' | 'domain' | 'rules';

export interface RoutingRule {
  /** The inbox of the mail the query matches. */
  inbox: string;
  /** A query in the search syntax, e.g. `to:@tenant-a.example`. */
  query: string;
}

export interface RoutingSettings {
  /** Tried in order; the first that names an inbox decides, else the inbox is `default`. */
  modes: RoutingMode[];
  /** The domain mode's suffix: anyone@NAME.<domain> lands in inbox NAME. */
  domain: string;
  /** The rules mode: every rule whose query matches puts the message in its inbox. */
  rules: RoutingRule[];
}
