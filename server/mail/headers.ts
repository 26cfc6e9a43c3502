// Header-block reading shared by the ingest-time summary and the MIME walker.
// Deliberately small and synchronous: mailparser is the full parser (server/mail/parse.ts);
// this only reads what a list row and the search index need, at a fraction of its cost.
import libmime from 'libmime';
import addressparser from 'nodemailer/lib/addressparser';
import type { Address } from '../store/types.js';

/** A header block larger than this is not read as headers; the message is still stored and shown raw. */
export const MAX_HEADER_BLOCK = 1024 * 1024;

export interface HeaderField {
  /** The name as written. */
  name: string;
  /** Lower-case name, for lookups. */
  key: string;
  /** The unfolded value, undecoded (RFC 2047 words left as they are). */
  value: string;
}

export interface HeaderBlock {
  fields: HeaderField[];
  /** Offset of the first body byte. */
  bodyStart: number;
  problems: string[];
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Header bytes are ASCII by the RFC, UTF-8 with SMTPUTF8, and anything at all in the wild. */
export function decodeHeaderBytes(buf: Buffer): string {
  for (let i = 0; i < buf.length; i++) {
    if (buf[i]! > 0x7f) {
      try {
        return utf8.decode(buf);
      } catch {
        return buf.toString('latin1');
      }
    }
  }
  return buf.toString('latin1');
}

/** Where the header block of `buf[start, end)` ends: the first empty line. */
export function findHeaderEnd(buf: Buffer, start: number, end: number): { headerEnd: number; bodyStart: number } {
  // An empty first line means no headers at all.
  if (buf[start] === 0x0a) return { headerEnd: start, bodyStart: start + 1 };
  if (buf[start] === 0x0d && buf[start + 1] === 0x0a) return { headerEnd: start, bodyStart: start + 2 };
  let i = start;
  while (i < end) {
    const lf = buf.indexOf(0x0a, i);
    if (lf < 0 || lf >= end) break;
    const next = lf + 1;
    if (buf[next] === 0x0a) return { headerEnd: next, bodyStart: next + 1 };
    if (buf[next] === 0x0d && buf[next + 1] === 0x0a) return { headerEnd: next, bodyStart: next + 2 };
    i = next;
  }
  return { headerEnd: end, bodyStart: end };
}

/** Reads the header block at the start of `buf[start, end)`, unfolding continuation lines. */
export function readHeaderBlock(buf: Buffer, start = 0, end = buf.length): HeaderBlock {
  const problems: string[] = [];
  const { headerEnd, bodyStart } = findHeaderEnd(buf, start, Math.min(end, start + MAX_HEADER_BLOCK + 2));
  if (headerEnd - start >= MAX_HEADER_BLOCK) {
    problems.push(`header block is larger than ${MAX_HEADER_BLOCK} bytes; headers were not read`);
    return { fields: [], bodyStart: start, problems };
  }
  const text = decodeHeaderBytes(buf.subarray(start, headerEnd));
  const fields: HeaderField[] = [];
  let malformed = 0;
  for (const line of text.split(/\r?\n/)) {
    if (line === '') continue;
    const first = line.charCodeAt(0);
    if ((first === 0x20 || first === 0x09) && fields.length > 0) {
      const last = fields[fields.length - 1]!;
      last.value += line;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) {
      malformed++;
      continue;
    }
    const name = line.slice(0, colon).trim();
    fields.push({ name, key: name.toLowerCase(), value: line.slice(colon + 1).trim() });
  }
  if (malformed > 0) problems.push(`${malformed} header line(s) without a name were ignored`);
  return { fields, bodyStart, problems };
}

export function firstField(fields: HeaderField[], key: string): string | undefined {
  for (const f of fields) if (f.key === key) return f.value;
  return undefined;
}

/** RFC 2047 decoding that never throws: an undecodable word is left as written. */
export function decodeWords(value: string): string {
  // Most values have no encoded word; libmime's scan of them was a tenth of a header summary.
  if (!value.includes('=?')) return value;
  try {
    return libmime.decodeWords(value);
  } catch {
    return value;
  }
}

interface ParsedAddress {
  name?: string;
  address?: string;
  group?: ParsedAddress[];
}

/** An address without quotes, comments, brackets or separators in it. */
const PLAIN_ADDRESS = String.raw`[^\s<>()",;:\\@[\]]+@[^\s<>()",;:\\@[\]]+`;
/**
 * The forms most mail uses: `a@b`, `<a@b>`, `"Name" <a@b>`, `Name <a@b>`, each alone in the
 * header. addressparser reads these the same way at a fifth of the cost (test/headers.test.ts
 * compares the two); anything else goes to addressparser, which for one has a quoted name with
 * an @ in it dropped as if it were an address.
 */
const SINGLE_ADDRESS = new RegExp(
  String.raw`^(?:(?:"([^"\\\r\n@]*)"|([A-Za-z0-9][A-Za-z0-9._'-]*(?: [A-Za-z0-9._'-]+)*))?\s*<(${PLAIN_ADDRESS})>|(${PLAIN_ADDRESS}))$`,
);

/** Parses an address header (From, To, Cc...) into a flat list; groups are flattened. */
export function parseAddresses(value: string | undefined): Address[] {
  if (!value) return [];
  // Trimmed first rather than /^\s*...\s*<: two \s* side by side try every split of a run of
  // spaces (300,000 spaces before a "<" took minutes).
  const simple = SINGLE_ADDRESS.exec(value.trim());
  if (simple) {
    const name = (simple[1] ?? simple[2] ?? '').trim();
    return [{ name: decodeWords(name), address: simple[3] ?? simple[4]! }];
  }
  return parseAddressList(value);
}

/** Any address header, through addressparser: groups, comments, quoting, several addresses. */
export function parseAddressList(value: string): Address[] {
  const out: Address[] = [];
  const walk = (list: ParsedAddress[]): void => {
    for (const a of list) {
      if (a.group) walk(a.group);
      else if (a.address || a.name) out.push({ name: decodeWords(a.name ?? ''), address: a.address ?? '' });
    }
  };
  try {
    walk(addressparser(value) as ParsedAddress[]);
  } catch {
    return [{ name: '', address: value }];
  }
  return out;
}

/** A Date header as ISO 8601, or null. */
export function parseDate(value: string | undefined): string | null {
  if (!value) return null;
  const t = Date.parse(withoutTrailingComment(value));
  return Number.isFinite(t) ? new Date(t).toISOString() : null;
}

/**
 * The value without a final "(comment)" and the whitespace around it: what
 * `value.replace(/\s*\([^)]*\)\s*$/, '')` gives, in one pass. That expression retries from every
 * "(" and every space, so a Date header of 50,000 of either took it 2 to 3 s (seconds of the
 * event loop per message, growing with the square of the length).
 */
export function withoutTrailingComment(value: string): string {
  const trimmed = value.trimEnd();
  const close = trimmed.length - 1;
  if (trimmed[close] !== ')') return value;
  // The comment holds no ")": it opens at the first "(" after the ")" before the last one.
  const open = trimmed.indexOf('(', trimmed.lastIndexOf(')', close - 1) + 1);
  if (open < 0 || open >= close) return value;
  let start = open;
  while (start > 0 && /\s/.test(trimmed[start - 1]!)) start--;
  return value.slice(0, start);
}

/** A Message-ID without its angle brackets. */
export function parseMessageId(value: string | undefined): string | null {
  if (!value) return null;
  // The first "<" and the ">" after it, as /<([^>]*)>/ would find them, without its retry from
  // every "<" (50,000 of them took it 2.8 s).
  const open = value.indexOf('<');
  const close = open < 0 ? -1 : value.indexOf('>', open + 1);
  return (close >= 0 ? value.slice(open + 1, close) : value).trim() || null;
}
