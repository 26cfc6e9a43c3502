// What a full parse yields, and what a message that could not be parsed shows instead. Kept
// apart from full-parse.ts so that the main thread, which only hands bytes to the parse workers
// and reads their answers, never loads mailparser (about 15 MB of RSS).
import { readHeaderBlock, decodeWords, parseDate, parseMessageId, firstField, decodeHeaderBytes } from './headers.js';
import type { Address } from '../store/types.js';

export interface HeaderLine {
  name: string;
  /** Unfolded, RFC 2047 words decoded. */
  value: string;
}

export interface MessagePart {
  /** IMAP-style part number ("1.2"); unique within the message, safe in a URL path. */
  partId: string;
  filename: string | null;
  contentType: string;
  /** Decoded size in bytes. */
  size: number;
  /** Content-ID without angle brackets, what `cid:` URLs name. */
  contentId: string | null;
  disposition: 'inline' | 'attachment';
}

export interface ParsedMessage {
  headers: HeaderLine[];
  text: string | null;
  html: string | null;
  /** The Date header as ISO 8601, null when missing or unreadable. */
  date: string | null;
  replyTo: Address[];
  messageId: string | null;
  parts: MessagePart[];
  problems: string[];
}

/** A parse with the decoded part contents, and about how many bytes it holds (for the cache budget). */
export interface Parsed {
  message: ParsedMessage;
  contents: Map<string, Buffer>;
  bytes: number;
}

/** What a message that could not be parsed shows: its headers as read, its body as text, no parts. */
export function shownRaw(raw: Buffer, reason: string): Parsed {
  const block = readHeaderBlock(raw);
  const text = decodeHeaderBytes(raw.subarray(block.bodyStart));
  return {
    message: {
      headers: block.fields.map((f) => ({ name: f.name, value: decodeWords(f.value) })),
      text,
      html: null,
      date: parseDate(firstField(block.fields, 'date')),
      replyTo: [],
      messageId: parseMessageId(firstField(block.fields, 'message-id')),
      parts: [],
      problems: [...block.problems, reason],
    },
    contents: new Map(),
    bytes: raw.length + text.length * 2,
  };
}
