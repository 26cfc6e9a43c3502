// Mailpen's messages in Mailpit's JSON (its internal/storage/structs.go and the OpenAPI document
// that mailpit-api mirrors): field names, types and the lists Mailpit always sends, empty or not.
import { createHash } from 'node:crypto';
import type { MessageStore, StoredMessage } from '../../../store/store.js';
import type { Address } from '../../../store/types.js';
import type { MessagePart, ParsedMessage } from '../../../mail/parse.js';
import { firstField, parseAddresses, readHeaderBlock } from '../../../mail/headers.js';

export interface MailpitAddress {
  Name: string;
  Address: string;
}

export const mailpitAddress = (a: Address): MailpitAddress => ({ Name: a.name, Address: a.address });

/** The addresses of every `header` field of the raw block (Bcc and Reply-To are not in the summary). */
export function headerAddresses(m: StoredMessage, header: string): MailpitAddress[] {
  const values = readHeaderBlock(m.raw).fields.filter((f) => f.key === header).map((f) => f.value);
  return values.length === 0 ? [] : parseAddresses(values.join(', ')).map(mailpitAddress);
}

/** Mailpit's MessageSummary: a row of its lists and the Data of its `new` event. */
export function mailpitSummary(m: StoredMessage, store: MessageStore) {
  const s = store.summary(m);
  return {
    ID: m.id,
    MessageID: s.messageId ?? '',
    Read: m.read,
    From: s.from ? mailpitAddress(s.from) : null,
    To: s.to.map(mailpitAddress),
    Cc: s.cc.map(mailpitAddress),
    Bcc: headerAddresses(m, 'bcc'),
    ReplyTo: headerAddresses(m, 'reply-to'),
    Subject: s.subject,
    Created: s.receivedAt,
    Username: m.envelope.authUser ?? '',
    Tags: [...m.tags],
    Size: m.size,
    Attachments: s.attachments,
    Snippet: s.snippet,
  };
}
export type MailpitSummary = ReturnType<typeof mailpitSummary>;

function hex(algorithm: string, content: Buffer): string {
  return createHash(algorithm).update(content).digest('hex');
}

export function mailpitAttachment(part: MessagePart, content: Buffer) {
  return {
    PartID: part.partId,
    FileName: part.filename ?? '',
    ContentType: part.contentType,
    ContentID: part.contentId ?? '',
    Size: part.size,
    Checksums: { MD5: hex('md5', content), SHA1: hex('sha1', content), SHA256: hex('sha256', content) },
  };
}

/** Mailpit's ListUnsubscribe: the header as sent, its <...> links, what is wrong with it, and the -Post header. */
export function listUnsubscribe(m: StoredMessage) {
  const { fields } = readHeaderBlock(m.raw);
  const header = firstField(fields, 'list-unsubscribe') ?? '';
  const links = [...header.matchAll(/<([^>]*)>/g)].map((x) => x[1]!.trim());
  let errors = '';
  if (header !== '' && links.length === 0) errors = 'No valid unsubscribe links found';
  else if (links.some((l) => !/^(mailto:|https?:\/\/)/i.test(l))) errors = 'Unsubscribe links must be mailto: or http(s) URLs';
  return { Header: header, Links: links, Errors: errors, HeaderPost: firstField(fields, 'list-unsubscribe-post') ?? '' };
}

/** Mailpit's Message: GET /api/v1/message/{id}. */
export function mailpitMessage(m: StoredMessage, store: MessageStore, parsed: ParsedMessage, contents: ReadonlyMap<string, Buffer>) {
  const s = store.summary(m);
  const returnPath = (firstField(readHeaderBlock(m.raw).fields, 'return-path') ?? '').trim().replace(/^<|>$/g, '');
  const attachment = (p: MessagePart) => mailpitAttachment(p, contents.get(p.partId) ?? Buffer.alloc(0));
  return {
    ID: m.id,
    MessageID: s.messageId ?? '',
    From: s.from ? mailpitAddress(s.from) : null,
    To: s.to.map(mailpitAddress),
    Cc: s.cc.map(mailpitAddress),
    Bcc: headerAddresses(m, 'bcc'),
    ReplyTo: parsed.replyTo.map(mailpitAddress),
    ReturnPath: returnPath || m.envelope.mailFrom || s.from?.address || '',
    Subject: s.subject,
    ListUnsubscribe: listUnsubscribe(m),
    Date: s.date ?? s.receivedAt,
    Tags: [...m.tags],
    Username: m.envelope.authUser ?? '',
    Text: parsed.text ?? '',
    HTML: parsed.html ?? '',
    Size: m.size,
    Inline: parsed.parts.filter((p) => p.disposition === 'inline').map(attachment),
    Attachments: parsed.parts.filter((p) => p.disposition === 'attachment').map(attachment),
  };
}

/** Go's textproto canonical form, as Mailpit's header map keys are: message-id -> Message-Id. */
export function canonicalHeaderName(name: string): string {
  return name
    .split('-')
    .map((w) => (w === '' ? w : w[0]!.toUpperCase() + w.slice(1).toLowerCase()))
    .join('-');
}

/**
 * GET /api/v1/message/{id}/headers: every header by canonical name, values in order. Mailpit
 * adds Return-Path to what it receives; Mailpen keeps the bytes as received, so the answer has
 * one from the envelope when the message has none.
 */
export function mailpitHeaders(m: StoredMessage, parsed: ParsedMessage): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const h of parsed.headers) (out[canonicalHeaderName(h.name)] ??= []).push(h.value);
  if (out['Return-Path'] === undefined) out['Return-Path'] = [`<${m.envelope.mailFrom}>`];
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * Mailpit's thumbnail is the image cropped to 180x120; Mailpen has no image codec (no native
 * dependency for it), so it answers what Mailpit answers for a part that is not an image: a blank
 * 180x120 JPEG. Made once in Chromium (canvas.toDataURL('image/jpeg', 0.5)).
 */
export const BLANK_THUMBNAIL = Buffer.from(
  '/9j/4AAQSkZJRgABAQAAAQABAAD/4gHYSUNDX1BST0ZJTEUAAQEAAAHIAAAAAAQwAABtbnRyUkdCIFhZWiAH4AABAAEAAAAAAABhY3NwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAQAA9tYAAQAAAADTLQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAlkZXNjAAAA8AAAACRyWFlaAAABFAAAABRnWFlaAAABKAAAABRiWFlaAAABPAAAABR3dHB0AAABUAAAABRyVFJDAAABZAAAAChnVFJDAAABZAAAAChiVFJDAAABZAAAAChjcHJ0AAABjAAAADxtbHVjAAAAAAAAAAEAAAAMZW5VUwAAAAgAAAAcAHMAUgBHAEJYWVogAAAAAAAAb6IAADj1AAADkFhZWiAAAAAAAABimQAAt4UAABjaWFlaIAAAAAAAACSgAAAPhAAAts9YWVogAAAAAAAA9tYAAQAAAADTLXBhcmEAAAAAAAQAAAACZmYAAPKnAAANWQAAE9AAAApbAAAAAAAAAABtbHVjAAAAAAAAAAEAAAAMZW5VUwAAACAAAAAcAEcAbwBvAGcAbABlACAASQBuAGMALgAgADIAMAAxADb/2wBDABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxOQERXRTc4UG1RV19iZ2hnPk1xeXBkeFxlZ2P/2wBDARESEhgVGC8aGi9jQjhCY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2P/wAARCAB4ALQDASIAAhEBAxEB/8QAFQABAQAAAAAAAAAAAAAAAAAAAAf/xAAUEAEAAAAAAAAAAAAAAAAAAAAA/8QAFAEBAAAAAAAAAAAAAAAAAAAAAP/EABQRAQAAAAAAAAAAAAAAAAAAAAD/2gAMAwEAAhEDEQA/AKAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAD/2Q==',
  'base64',
);
