// Mailpen's messages in MailHog's JSON (MailHog's data.Message, as its v2 API and WebSocket send
// it): the envelope as paths, the content as undecoded headers and body, one level of MIME parts
// per multipart (nested ones in their own MIME), and the raw SMTP data. MailHog leaves bodies and
// header values encoded (its clients decode quoted-printable, base64 and RFC 2047 themselves, as
// the mailhog npm client does), so this reads the raw bytes and decodes nothing.
import type { StoredMessage } from '../../../store/store.js';
import { decodeHeaderBytes, firstField, readHeaderBlock } from '../../../mail/headers.js';

export interface MailhogPath {
  Relays: string[] | null;
  Mailbox: string;
  Domain: string;
  Params: string;
}

export interface MailhogContent {
  Headers: Record<string, string[]>;
  Body: string;
  Size: number;
  MIME: MailhogMime | null;
}

export interface MailhogMime {
  Parts: MailhogContent[];
}

export interface MailhogMessage {
  ID: string;
  From: MailhogPath | null;
  To: MailhogPath[];
  Content: MailhogContent;
  Created: string;
  MIME: MailhogMime | null;
  Raw: { From: string; To: string[]; Data: string; Helo: string };
}

/** Multiparts nested deeper than this are left as one part with their body (hostile mail nests thousands). */
const MAX_MIME_DEPTH = 16;
/** Parts of one multipart listed at most; the rest stay in the parent's body. */
const MAX_PARTS = 1000;

export function mailhogPath(address: string): MailhogPath {
  const at = address.lastIndexOf('@');
  return { Relays: null, Mailbox: at < 0 ? address : address.slice(0, at), Domain: at < 0 ? '' : address.slice(at + 1), Params: '' };
}

/** Header values by name as written (the first spelling of a name wins), values in order, undecoded. */
function headersOf(raw: Buffer, start: number, end: number): { headers: Record<string, string[]>; bodyStart: number; contentType: string } {
  const block = readHeaderBlock(raw, start, end);
  const headers: Record<string, string[]> = {};
  const spelling = new Map<string, string>();
  for (const f of block.fields) {
    let name = spelling.get(f.key);
    if (name === undefined) spelling.set(f.key, (name = f.name));
    (headers[name] ??= []).push(f.value);
  }
  return { headers, bodyStart: block.bodyStart, contentType: firstField(block.fields, 'content-type') ?? '' };
}

/** The bytes of `raw[start, end)` as MailHog shows a body: text, without the line break that ends it. */
function bodyText(raw: Buffer, start: number, end: number): string {
  let e = end;
  if (e > start && raw[e - 1] === 0x0a) e--;
  if (e > start && raw[e - 1] === 0x0d) e--;
  return decodeHeaderBytes(raw.subarray(start, e));
}

function boundaryOf(contentType: string): string | null {
  if (!/^\s*multipart\//i.test(contentType)) return null;
  const m = /boundary\s*=\s*(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return m ? (m[1] ?? m[2]!) : null;
}

/**
 * The parts of the multipart body `raw[start, end)`, each from after its delimiter line to the line
 * break before the next one. One forward scan for the delimiter: linear in the body.
 */
function splitParts(raw: Buffer, start: number, end: number, boundary: string): Array<[number, number]> {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Array<[number, number]> = [];
  let partStart = -1;
  let at = raw.indexOf(delimiter, start);
  while (at >= 0 && at < end && parts.length < MAX_PARTS) {
    // A delimiter only counts at the start of a line.
    if (at === start || raw[at - 1] === 0x0a) {
      if (partStart >= 0) {
        let partEnd = at;
        if (raw[partEnd - 1] === 0x0a) partEnd--;
        if (raw[partEnd - 1] === 0x0d) partEnd--;
        parts.push([partStart, Math.max(partStart, partEnd)]);
      }
      const after = at + delimiter.length;
      if (raw[after] === 0x2d && raw[after + 1] === 0x2d) return parts;
      const lf = raw.indexOf(0x0a, after);
      if (lf < 0 || lf >= end) return parts;
      partStart = lf + 1;
    }
    at = raw.indexOf(delimiter, at + delimiter.length);
  }
  return parts;
}

function content(raw: Buffer, start: number, end: number, depth: number): MailhogContent {
  const { headers, bodyStart, contentType } = headersOf(raw, start, end);
  const boundary = depth < MAX_MIME_DEPTH ? boundaryOf(contentType) : null;
  const mime = boundary === null ? null : { Parts: splitParts(raw, bodyStart, end, boundary).map(([s, e]) => content(raw, s, e, depth + 1)) };
  return { Headers: headers, Body: bodyText(raw, bodyStart, end), Size: end - start, MIME: mime };
}

/** MailHog's message JSON. The top multipart's parts are the message's MIME (its Content.MIME is null, as in MailHog). */
export function mailhogMessage(m: StoredMessage): MailhogMessage {
  const raw = m.raw;
  const top = content(raw, 0, raw.length, 0);
  const { mailFrom, rcptTo, helo } = m.envelope;
  return {
    ID: m.id,
    From: mailFrom === '' ? null : mailhogPath(mailFrom),
    To: rcptTo.map(mailhogPath),
    Content: { ...top, MIME: null },
    Created: new Date(m.receivedAt).toISOString(),
    MIME: top.MIME,
    Raw: { From: mailFrom, To: [...rcptTo], Data: decodeHeaderBytes(m.raw), Helo: helo },
  };
}
