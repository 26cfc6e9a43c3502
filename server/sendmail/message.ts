// The message as sendmail handles it: read from stdin (a lone dot may end it, as in sendmail),
// recipients taken from its headers for -t, and Bcc fields dropped. Every other byte is kept.
import type { Readable } from 'node:stream';
import { firstField, parseAddresses, readHeaderBlock, type HeaderField } from '../mail/headers.js';

/**
 * Reads stdin to its end or, unless `ignoreDots`, to a line holding a single dot, which sendmail
 * treats as the end (so an interactive user can finish a message without EOF). The dot line is
 * not part of the message; the line break before it is.
 */
export async function readMessage(input: Readable, ignoreDots: boolean): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  // The last bytes read so far: a dot line can straddle two chunks.
  let tail = Buffer.alloc(0);
  for await (const chunk of input as AsyncIterable<Buffer | string>) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
    chunks.push(bytes);
    length += bytes.length;
    if (ignoreDots) continue;
    const window = Buffer.concat([tail, bytes]);
    const windowStart = length - window.length;
    const dot = findDotLine(window, windowStart === 0);
    // Leaving the loop destroys stdin: whatever follows the dot line is not ours to read.
    if (dot >= 0) return Buffer.concat(chunks, length).subarray(0, windowStart + dot);
    tail = window.subarray(Math.max(0, window.length - 3));
  }
  return Buffer.concat(chunks, length);
}

/**
 * Where a line consisting of "." (then LF or CRLF) starts in `window`; -1 if none is complete yet.
 * A dot at index 0 starts a line only when the window starts the message.
 */
function findDotLine(window: Buffer, startsMessage: boolean): number {
  for (let i = window.indexOf(0x2e); i >= 0; i = window.indexOf(0x2e, i + 1)) {
    if (i === 0 ? !startsMessage : window[i - 1] !== 0x0a) continue;
    if (window[i + 1] === 0x0a || (window[i + 1] === 0x0d && window[i + 2] === 0x0a)) return i;
  }
  return -1;
}

/** Header fields that name hidden recipients; no copy of the message may show them (Postfix drops the same). */
const HIDDEN_RECIPIENT_FIELDS = new Set(['bcc', 'resent-bcc']);

/**
 * The message without its Bcc and Resent-Bcc fields (continuation lines included). Only the header
 * block is touched; the rest, and every other header byte, stays as it was.
 */
export function withoutBcc(raw: Buffer): Buffer {
  const { bodyStart } = readHeaderBlock(raw);
  const kept: Buffer[] = [];
  let dropping = false;
  let lineStart = 0;
  while (lineStart < bodyStart) {
    const lf = raw.indexOf(0x0a, lineStart);
    const lineEnd = lf < 0 || lf >= bodyStart ? bodyStart : lf + 1;
    const first = raw[lineStart];
    const continuation = first === 0x20 || first === 0x09;
    if (!continuation) {
      const colon = raw.indexOf(0x3a, lineStart);
      const name = colon > lineStart && colon < lineEnd ? raw.toString('latin1', lineStart, colon).trim().toLowerCase() : '';
      dropping = HIDDEN_RECIPIENT_FIELDS.has(name);
    }
    if (!dropping) kept.push(raw.subarray(lineStart, lineEnd));
    lineStart = lineEnd;
  }
  if (kept.length === 0 && bodyStart === 0) return raw;
  kept.push(raw.subarray(bodyStart));
  return Buffer.concat(kept);
}

/**
 * Recipients for -t: To, Cc and Bcc; or, when the message has been resent (it has Resent- fields),
 * Resent-To, Resent-Cc and Resent-Bcc instead, as sendmail and Postfix do.
 */
export function headerRecipients(raw: Buffer): string[] {
  const { fields } = readHeaderBlock(raw);
  const resent = fields.some((f) => f.key === 'resent-to' || f.key === 'resent-cc' || f.key === 'resent-bcc');
  const keys = resent ? ['resent-to', 'resent-cc', 'resent-bcc'] : ['to', 'cc', 'bcc'];
  return addressesIn(fields.filter((f) => keys.includes(f.key)));
}

/** The address of the From field, for the envelope sender when no -f is given. */
export function headerSender(raw: Buffer): string | null {
  const { fields } = readHeaderBlock(raw);
  return parseAddresses(firstField(fields, 'from'))[0]?.address || null;
}

function addressesIn(fields: HeaderField[]): string[] {
  return fields.flatMap((f) => parseAddresses(f.value).map((a) => a.address)).filter((a) => a !== '');
}
