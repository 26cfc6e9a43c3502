// A small synchronous MIME walker: what a list row and the search index need from a body
// (a text snippet, the attachment count, the text to search), bounded in depth, parts and
// output so that hostile mail cannot make it expensive. The full parse is mailparser's
// (server/mail/parse.ts); this exists because mailparser costs ~2 ms a message, which is
// more than the whole SMTP side spends on one.
import * as libqp from 'libqp';
import { TextDecoder } from 'node:util';
import libmime from 'libmime';
import he from 'he';
import { readHeaderBlock, firstField, decodeWords, type HeaderBlock, type HeaderField } from './headers.js';
import { isBodyText, isEmbeddedMessage, isPartOfHtml } from './attachments.js';
import { hrefs } from './html.js';

export const MAX_DEPTH = 20;
export const MAX_PARTS = 1000;
/** The search index keeps at most this much body text a message; the full view has it all. */
export const MAX_INDEXED_TEXT = 64 * 1024;
/**
 * Of a text part, only this much is decoded for the snippet and the index. This runs on the main
 * thread, and a 45 MB HTML body took 2.2 s to turn into text (the event loop held all that time)
 * for the 64K characters the index keeps. 2 MB of HTML leaves room for heavy markup.
 */
export const MAX_SCANNED_PART = 2 * 1024 * 1024;
/** Of MAX_INDEXED_TEXT, at most this much is the HTML's link targets (a newsletter's hundred links). */
export const MAX_INDEXED_LINKS = 8 * 1024;
const SNIPPET_LENGTH = 160;

export interface BodyScan {
  snippet: string;
  attachments: number;
  /** Decoded body text (plain, else HTML stripped), then the HTML's link targets; up to MAX_INDEXED_TEXT characters. */
  text: string;
  /** Lower-case names of attachments, searchable by free text. */
  filenames: string[];
  /**
   * Leaf parts below the message's own header that declare a Content-ID (what Mailpit's has:inline
   * counts): read from part headers, never from body text that quotes such a line.
   */
  inlines: number;
  problems: string[];
}

interface Walk {
  plain: string | null;
  html: string | null;
  attachments: number;
  inlines: number;
  filenames: string[];
  parts: number;
  problems: Set<string>;
}

/**
 * `top`: the message's header block when the caller has read it already (for the header summary
 * too). `snippet`: false leaves it '' (indexing keeps none: folding it was a tenth of the garbage
 * indexing made, bench: million).
 */
export function scanBody(raw: Buffer, top?: HeaderBlock, snippet = true): BodyScan {
  const w: Walk = { plain: null, html: null, attachments: 0, inlines: 0, filenames: [], parts: 0, problems: new Set() };
  walkPart(raw, 0, raw.length, 0, w, top);
  const visible = w.plain ?? (w.html !== null ? htmlToText(w.html) : '');
  // Link targets are searched (a test looks for the reset link it expects, often only in an
  // href), never shown: the snippet is the visible text alone.
  const links = w.html !== null ? linkTargets(w.html) : '';
  const text = visible.slice(0, MAX_INDEXED_TEXT - links.length) + links;
  return {
    snippet: snippet ? makeSnippet(visible) : '',
    attachments: w.attachments,
    text,
    filenames: w.filenames,
    inlines: w.inlines,
    problems: [...w.problems],
  };
}

/** Schemes of links a test follows; javascript:, data: and relative references lead nowhere out of a mail. */
const LINK_SCHEME = /^(https?|mailto):/i;

/** The http(s) and mailto hrefs of the HTML, each once, a line each, within MAX_INDEXED_LINKS. */
function linkTargets(html: string): string {
  const seen = new Set<string>();
  let out = '';
  for (const href of hrefs(html)) {
    const value = (href.includes('&') ? decodeEntities(href) : href).trim();
    if (!LINK_SCHEME.test(value) || seen.has(value)) continue;
    if (out.length + value.length + 1 > MAX_INDEXED_LINKS) continue;
    seen.add(value);
    out += '\n' + value;
  }
  return out;
}

function decodeEntities(s: string): string {
  try {
    return he.decode(s);
  } catch {
    return s;
  }
}

function makeSnippet(text: string): string {
  // Folds a little more than a snippet's worth first, and more only when whitespace ate it:
  // folding 640 characters every time was half of what a live event cost (bench: ingest).
  let take = SNIPPET_LENGTH + 32;
  let folded = '';
  for (;;) {
    folded = text.slice(0, take).replace(/\s+/g, ' ').trim();
    if (folded.length > SNIPPET_LENGTH || take >= text.length || take >= SNIPPET_LENGTH * 4) break;
    take = Math.min(take * 2, SNIPPET_LENGTH * 4);
  }
  return folded.length > SNIPPET_LENGTH ? folded.slice(0, SNIPPET_LENGTH - 1) + '…' : folded;
}

/** `related`: the part is inside a multipart/related (server/mail/attachments.ts, the HTML's own parts). */
function walkPart(buf: Buffer, start: number, end: number, depth: number, w: Walk, known?: HeaderBlock, related = false): void {
  if (++w.parts > MAX_PARTS) {
    w.problems.add(`more than ${MAX_PARTS} MIME parts; the rest were not read`);
    return;
  }
  const block = known ?? readHeaderBlock(buf, start, end);
  for (const p of block.problems) w.problems.add(p);
  const fields = block.fields;
  const disposition = parseParams(firstField(fields, 'content-disposition') ?? '');
  const ct = parseParams(firstField(fields, 'content-type') ?? impliedType(disposition));
  const type = ct.value.toLowerCase() || 'text/plain';
  const filename = paramFilename(disposition.params, 'filename') ?? paramFilename(ct.params, 'name');
  const dispositionType = disposition.value.toLowerCase();
  const embedded = type === 'message/rfc822' && isEmbeddedMessage(dispositionType, (firstField(fields, 'content-transfer-encoding') ?? '').trim().toLowerCase());

  if (type.startsWith('multipart/') || embedded) {
    if (depth >= MAX_DEPTH) {
      w.problems.add(`MIME nesting deeper than ${MAX_DEPTH}; inner parts were not read`);
      return;
    }
    if (embedded) {
      walkPart(buf, block.bodyStart, end, depth + 1, w, undefined, related);
      return;
    }
    const boundary = ct.params.boundary;
    if (!boundary) {
      w.problems.add(`${type} part without a boundary`);
      return;
    }
    const inside = related || type === 'multipart/related';
    for (const [s, e] of splitMultipart(buf, block.bodyStart, end, boundary, w)) {
      walkPart(buf, s, e, depth + 1, w, undefined, inside);
      if (w.parts > MAX_PARTS) return;
    }
    return;
  }

  const contentId = firstField(fields, 'content-id') !== undefined;
  if (contentId && depth > 0) w.inlines++;
  if (!isBodyText(type, dispositionType)) {
    if (!isPartOfHtml(contentId, related, dispositionType)) {
      w.attachments++;
      if (filename) w.filenames.push(filename.toLowerCase());
    }
    return;
  }
  if (type === 'text/plain' && w.plain === null) {
    w.plain = decodeText(buf.subarray(block.bodyStart, end), fields, ct.params, w);
  } else if (type === 'text/html' && w.html === null) {
    w.html = decodeText(buf.subarray(block.bodyStart, end), fields, ct.params, w);
  }
}

/**
 * The type of a part without a Content-Type, as the message view's parser reads it (so both count
 * the same attachments): from the file name's extension, else a file for an attachment, else text.
 * RFC 2046 makes a multipart/digest's parts message/rfc822; the view shows them as text.
 */
function impliedType(disposition: Params): string {
  const ext = /\.([^./\\]+)$/.exec(disposition.params.filename ?? '')?.[1];
  const byName = ext ? libmime.detectMimeType(ext) : undefined;
  if (byName) return byName;
  return disposition.value.toLowerCase() === 'attachment' ? 'application/octet-stream' : 'text/plain';
}

/** The [start, end) of each part between boundary lines. */
function splitMultipart(buf: Buffer, start: number, end: number, boundary: string, w: Walk): Array<[number, number]> {
  const delimiter = Buffer.from('--' + boundary, 'latin1');
  const parts: Array<[number, number]> = [];
  let partStart = -1;
  let pos = start;
  let closed = false;
  while (pos < end) {
    const at = buf.indexOf(delimiter, pos);
    if (at < 0 || at >= end) break;
    // A delimiter only counts at the start of a line.
    if (at !== start && buf[at - 1] !== 0x0a) {
      pos = at + delimiter.length;
      continue;
    }
    const after = at + delimiter.length;
    const isClose = buf[after] === 0x2d && buf[after + 1] === 0x2d;
    if (partStart >= 0) {
      // The line break before the delimiter belongs to the delimiter.
      let partEnd = at;
      if (buf[partEnd - 1] === 0x0a) partEnd--;
      if (buf[partEnd - 1] === 0x0d) partEnd--;
      parts.push([partStart, Math.max(partStart, partEnd)]);
    }
    const lf = buf.indexOf(0x0a, after);
    if (isClose) {
      closed = true;
      break;
    }
    partStart = lf < 0 || lf >= end ? end : lf + 1;
    pos = partStart;
    if (parts.length >= MAX_PARTS) break;
  }
  if (!closed && partStart >= 0) {
    w.problems.add('multipart without a closing boundary');
    parts.push([partStart, end]);
  }
  if (partStart < 0) w.problems.add(`boundary "${boundary}" not found in its multipart`);
  return parts;
}

function decodeText(whole: Buffer, fields: HeaderField[], params: Record<string, string>, w: Walk): string {
  const body = whole.length > MAX_SCANNED_PART ? whole.subarray(0, MAX_SCANNED_PART) : whole;
  const cte = (firstField(fields, 'content-transfer-encoding') ?? '').trim().toLowerCase();
  let bytes: Buffer;
  if (cte === 'base64') bytes = Buffer.from(body.toString('latin1').replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
  else if (cte === 'quoted-printable') bytes = decodeQuotedPrintable(body);
  else bytes = body;
  const charset = (params.charset ?? 'utf-8').trim();
  return decodeCharset(bytes, charset, w);
}

const decoders = new Map<string, TextDecoder | null>();

/** The decoder of a declared charset (its label, or libmime's name for it); null when no reader knows it. */
export function charsetDecoder(charset: string): TextDecoder | null {
  const label = charset.toLowerCase();
  let decoder = decoders.get(label);
  if (decoder === undefined) {
    try {
      decoder = new TextDecoder(label);
    } catch {
      try {
        decoder = new TextDecoder(libmime.normalizeCharset(label).toLowerCase());
      } catch {
        decoder = null;
      }
    }
    if (decoders.size < 256) decoders.set(label, decoder);
  }
  return decoder;
}

/** Decodes bytes in a declared charset; an unknown or bogus one falls back to UTF-8, said on the message. */
export function decodeCharset(bytes: Buffer, charset: string, w?: { problems: Set<string> }): string {
  const decoder = charsetDecoder(charset);
  if (decoder === null) {
    w?.problems.add(`unknown charset "${charset}", read as UTF-8`);
    return bytes.toString('utf8');
  }
  return decoder.decode(bytes);
}

/** Quoted-printable as mailparser decodes it (libqp, its own decoder), so the scan and the full view agree. */
export function decodeQuotedPrintable(body: Buffer): Buffer {
  return libqp.decode(body);
}

const BLOCK_OPEN = /<(script|style|head|title)\b/gi;
const BLOCK_CLOSE: Record<string, RegExp> = {
  script: /<\/script\s*>/gi,
  style: /<\/style\s*>/gi,
  head: /<\/head\s*>/gi,
  title: /<\/title\s*>/gi,
};
const LINE_BREAK = /<(br|\/p|\/div|\/tr|\/h\d|\/li)\b/gi;

/**
 * Good enough for a snippet and a search index, never for display (display is the sandboxed HTML).
 * Four passes: blocks (script, style, head, title) to their closing tag, comments, line-breaking
 * tags, then any tag. Each pass is linear whatever the input: the regular expressions this
 * replaces (`<!--[\s\S]*?-->`, `<[^>]*>`...) rescan to the end from every opening without a
 * close, so 1 MB of "<br" took minutes of the event loop (20,000 took 1.5 s). The output is
 * the same (checked on the corpus and on generated HTML in test/linear-parsing.test.ts).
 */
export function htmlToText(html: string): string {
  const stripped = stripTags(lineBreaks(stripComments(stripBlocks(html))));
  try {
    return he.decode(stripped);
  } catch {
    return stripped;
  }
}

/** `<script ...>...</script>` and its kin, each up to its own closing tag, become a space. */
function stripBlocks(s: string): string {
  /** Per element name: the last search for its closing tag (from where; where found, or -1). */
  const searches = new Map<string, { from: number; start: number; end: number }>();
  let out = '';
  let last = 0;
  BLOCK_OPEN.lastIndex = 0;
  for (let m = BLOCK_OPEN.exec(s); m !== null; m = BLOCK_OPEN.exec(s)) {
    const name = m[1]!.toLowerCase();
    const from = BLOCK_OPEN.lastIndex;
    let found = searches.get(name);
    // An earlier search that found nothing covers every later start.
    if (!found || from < found.from || (found.start >= 0 && from > found.start)) {
      const close = BLOCK_CLOSE[name]!;
      close.lastIndex = from;
      const c = close.exec(s);
      found = c ? { from, start: c.index, end: c.index + c[0].length } : { from, start: -1, end: -1 };
      searches.set(name, found);
    }
    if (found.start < 0) continue;
    out += s.slice(last, m.index) + ' ';
    last = found.end;
    BLOCK_OPEN.lastIndex = found.end;
  }
  return last === 0 ? s : out + s.slice(last);
}

function stripComments(s: string): string {
  let out = '';
  let last = 0;
  for (let open = s.indexOf('<!--'); open >= 0; open = s.indexOf('<!--', last)) {
    const end = s.indexOf('-->', open + 4);
    // No end after this one: none after any later one either.
    if (end < 0) break;
    out += s.slice(last, open) + ' ';
    last = end + 3;
  }
  return last === 0 ? s : out + s.slice(last);
}

function lineBreaks(s: string): string {
  let out = '';
  let last = 0;
  LINE_BREAK.lastIndex = 0;
  for (let m = LINE_BREAK.exec(s); m !== null; m = LINE_BREAK.exec(s)) {
    const gt = s.indexOf('>', LINE_BREAK.lastIndex);
    if (gt < 0) break;
    out += s.slice(last, m.index) + '\n';
    last = gt + 1;
    LINE_BREAK.lastIndex = gt + 1;
  }
  return last === 0 ? s : out + s.slice(last);
}

function stripTags(s: string): string {
  let out = '';
  let last = 0;
  for (let lt = s.indexOf('<'); lt >= 0; lt = s.indexOf('<', last)) {
    const gt = s.indexOf('>', lt + 1);
    if (gt < 0) break;
    out += s.slice(last, lt) + ' ';
    last = gt + 1;
  }
  return last === 0 ? s : out + s.slice(last);
}

interface Params {
  value: string;
  params: Record<string, string>;
}

function parseParams(header: string): Params {
  try {
    const parsed = libmime.parseHeaderValue(header);
    return { value: parsed.value ?? '', params: (parsed.params ?? {}) as Record<string, string> };
  } catch {
    return { value: header.split(';')[0]!.trim(), params: {} };
  }
}

function paramFilename(params: Record<string, string>, key: string): string | undefined {
  const v = params[key];
  return v ? decodeWords(v) : undefined;
}
