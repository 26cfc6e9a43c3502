// What indexing learns of a body that lets search skip decoding it, packed in one small integer
// per message (a field of the store's entry: 8 bytes, 0.8 MB at 100,000 messages).
//
// A phrase, or any term with punctuation, is only narrowed by the word index; each candidate's
// body used to be decoded again (scanBody, ~32 µs) to check it: 3.2 s for a phrase every body of
// 100,000 holds (bench: api). Most test mail is one text/plain part in 7bit or 8bit, whose
// searchable text is its own bytes as they are; for it, the bytes are read instead (~1 µs).
// "As they are" is not reasoned from the headers but checked: the scan's text must equal the
// bytes read back, so whatever the scan does (charsets, truncation) a mismatch is just not plain.
import type { BodyScan } from '../mail/scan.js';
import { readHeaderBlock, type HeaderBlock } from '../mail/headers.js';

/** Not indexed yet. */
export const SHAPE_UNKNOWN = -1;
/** The scan counts attachments. */
export const SHAPE_ATTACHMENTS = -2;
/** No attachment, and the text is not the bytes as they are (HTML, multipart, QP, base64...). */
export const SHAPE_DECODED = -3;
/** As SHAPE_ATTACHMENTS and SHAPE_DECODED, with a part that declares a Content-ID (BodyScan.inlines, Mailpit's has:inline). */
export const SHAPE_ATTACHMENTS_INLINE = -4;
export const SHAPE_DECODED_INLINE = -5;
/** A body starting past this is not taken as plain: the offset stays a small integer. */
const MAX_PLAIN_START = 2 ** 28;

/**
 * The shape of a message's body: negative as above, else `start * 2 + (utf8 ? 1 : 0)`, where
 * the text is `raw` from `start` read as Latin-1 (ASCII mail) or as UTF-8.
 */
export function bodyShape(raw: Buffer, body: BodyScan, block?: HeaderBlock): number {
  if (body.attachments > 0) return body.inlines > 0 ? SHAPE_ATTACHMENTS_INLINE : SHAPE_ATTACHMENTS;
  if (body.inlines > 0) return SHAPE_DECODED_INLINE;
  if (body.filenames.length > 0) return SHAPE_DECODED;
  const start = (block ?? readHeaderBlock(raw)).bodyStart;
  const length = raw.length - start;
  // A UTF-8 reading is never longer in characters than the bytes; Latin-1 is exactly as long.
  if (start >= MAX_PLAIN_START || body.text.length > length) return SHAPE_DECODED;
  if (body.text.length === length && sameAsBytes(body.text, raw, start)) return start * 2;
  if (body.text === raw.toString('utf8', start)) return start * 2 + 1;
  return SHAPE_DECODED;
}

/**
 * Whether `text` is raw[start, start + text.length) read as Latin-1, compared in place: a string
 * of the bytes made only to compare it was 2 KB of garbage a message (bench: million).
 */
function sameAsBytes(text: string, raw: Buffer, start: number): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) !== raw[start + i]) return false;
  return true;
}

/** Whether the scan counted attachments; null when not indexed yet. */
export function shapeHasAttachments(shape: number): boolean | null {
  return shape === SHAPE_UNKNOWN ? null : shape === SHAPE_ATTACHMENTS || shape === SHAPE_ATTACHMENTS_INLINE;
}

/** Whether a part declares a Content-ID (BodyScan.inlines); null when not indexed yet. */
export function shapeHasInline(shape: number): boolean | null {
  return shape === SHAPE_UNKNOWN ? null : shape === SHAPE_ATTACHMENTS_INLINE || shape === SHAPE_DECODED_INLINE;
}

/** The searchable text of a plain body (`shape` >= 0), read from its bytes; its first `limit` bytes only when given. */
export function plainBodyText(raw: Buffer, shape: number, limit = Infinity): string {
  const start = shape >>> 1;
  return raw.toString(shape & 1 ? 'utf8' : 'latin1', start, Math.min(raw.length, start + limit));
}
