// The full parse of one message, for the single-message view: headers, text, HTML and parts.
// This is the one module that imports mailparser; everything else sees only ParsedMessage, so
// the parser can change (or move to a worker thread behind parseMessage) without touching the rest.
import { simpleParser } from 'mailparser';
import type { AddressObject, Attachment, EmailAddress } from 'mailparser';
import { readHeaderBlock, decodeWords, parseDate, parseMessageId, firstField, decodeHeaderBytes } from './headers.js';
import type { Address } from '../store/types.js';

/** A message that takes longer than this to parse is shown raw: mailparser cannot be interrupted, only abandoned. */
export const PARSE_TIMEOUT_MS = 5000;
/** HTML larger than this is not converted to text (html-to-text is the slow part on huge HTML). */
const MAX_HTML_TO_TEXT = 2 * 1024 * 1024;
/** The parse cache: a page of a UI list clicked through, and a test's few messages, stay parsed. */
const CACHE_MAX_ENTRIES = 64;
const CACHE_MAX_BYTES = 64 * 1024 * 1024;

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

interface Parsed {
  message: ParsedMessage;
  contents: Map<string, Buffer>;
  bytes: number;
}

/** Least recently used first: a Map iterates in insertion order and a hit is re-inserted. */
const cache = new Map<Buffer, Parsed>();
let cachedBytes = 0;
/** Concurrent requests for one message share one parse. */
const inFlight = new Map<Buffer, Promise<Parsed>>();

/** The full parse of `raw`; never rejects, never takes much longer than PARSE_TIMEOUT_MS. */
export async function parseMessage(raw: Buffer): Promise<ParsedMessage> {
  return (await parsed(raw)).message;
}

/** One part's decoded bytes, undefined when the message has no such part. */
export async function partContent(raw: Buffer, partId: string): Promise<{ part: MessagePart; content: Buffer } | undefined> {
  const p = await parsed(raw);
  const part = p.message.parts.find((x) => x.partId === partId);
  const content = p.contents.get(partId);
  return part && content ? { part, content } : undefined;
}

function parsed(raw: Buffer): Promise<Parsed> {
  const hit = cache.get(raw);
  if (hit) {
    cache.delete(raw);
    cache.set(raw, hit);
    return Promise.resolve(hit);
  }
  let pending = inFlight.get(raw);
  if (!pending) {
    pending = parseBounded(raw).then((p) => {
      inFlight.delete(raw);
      remember(raw, p);
      return p;
    });
    inFlight.set(raw, pending);
  }
  return pending;
}

function remember(raw: Buffer, p: Parsed): void {
  // A parse bigger than the whole budget would only evict everything else for one view.
  if (p.bytes > CACHE_MAX_BYTES) return;
  cache.set(raw, p);
  cachedBytes += p.bytes;
  for (const [key, old] of cache) {
    if (cache.size <= CACHE_MAX_ENTRIES && cachedBytes <= CACHE_MAX_BYTES) break;
    cache.delete(key);
    cachedBytes -= old.bytes;
  }
}

async function parseBounded(raw: Buffer): Promise<Parsed> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Parsed>((resolve) => {
    timer = setTimeout(() => resolve(shownRaw(raw, `parsing took longer than ${PARSE_TIMEOUT_MS / 1000} s; shown raw`)), PARSE_TIMEOUT_MS);
    timer.unref();
  });
  try {
    return await Promise.race([fullParse(raw), timeout]);
  } catch (err) {
    return shownRaw(raw, `the MIME structure could not be parsed (${(err as Error).message}); shown raw`);
  } finally {
    clearTimeout(timer);
  }
}

async function fullParse(raw: Buffer): Promise<Parsed> {
  const mail = await simpleParser(raw, {
    keepCidLinks: true,
    skipImageLinks: true,
    skipTextToHtml: true,
    skipTextLinks: true,
    checksumAlgo: false,
    maxHtmlLengthToParse: MAX_HTML_TO_TEXT,
  });
  const problems: string[] = [];
  if (mail.textConversionError) problems.push(`the HTML body could not be converted to text: ${mail.textConversionError.message}`);
  const { fields } = readHeaderBlock(raw);
  const contents = new Map<string, Buffer>();
  const parts: MessagePart[] = [];
  let bytes = raw.length;
  for (const [i, a] of mail.attachments.entries()) {
    const partId = uniquePartId(a, i, contents);
    contents.set(partId, a.content);
    bytes += a.content.length;
    parts.push({
      partId,
      filename: a.filename ?? null,
      contentType: (a.contentType || 'application/octet-stream').toLowerCase(),
      size: a.content.length,
      contentId: a.cid ?? null,
      disposition: a.contentDisposition === 'inline' || (a.related === true && a.contentDisposition !== 'attachment') ? 'inline' : 'attachment',
    });
  }
  const text = mail.text ?? null;
  const html = typeof mail.html === 'string' ? mail.html : null;
  bytes += (text?.length ?? 0) * 2 + (html?.length ?? 0) * 2;
  return {
    message: {
      headers: fields.map((f) => ({ name: f.name, value: decodeWords(f.value) })),
      text,
      html,
      // mailparser substitutes the current time for an unreadable Date; the header summary does not.
      date: parseDate(firstField(fields, 'date')),
      replyTo: flatten(mail.replyTo),
      messageId: parseMessageId(firstField(fields, 'message-id')),
      parts,
      problems,
    },
    contents,
    bytes,
  };
}

/** Part ids name URL paths, so they must be unique and plain; mailparser's are null for a single-part message. */
function uniquePartId(a: Attachment, index: number, taken: Map<string, Buffer>): string {
  let id = a.partId && /^[0-9.]+$/.test(a.partId) ? a.partId : String(index + 1);
  while (taken.has(id)) id = `${id}.${index + 1}`;
  return id;
}

function flatten(header: AddressObject | AddressObject[] | undefined): Address[] {
  const out: Address[] = [];
  const walk = (list: EmailAddress[]): void => {
    for (const a of list) {
      if (a.group) walk(a.group);
      else out.push({ name: a.name ?? '', address: a.address ?? '' });
    }
  };
  for (const h of header === undefined ? [] : Array.isArray(header) ? header : [header]) walk(h.value);
  return out;
}

/** What a message that could not be parsed shows: its headers as read, its body as text, no parts. */
function shownRaw(raw: Buffer, reason: string): Parsed {
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
