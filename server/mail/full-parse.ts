// The one module that imports mailparser: raw bytes in, ParsedMessage and part contents out.
// Nothing else sees mailparser's types, so the parser can change without touching the rest.
// It runs inside the parse workers (server/mail/parse-worker.ts), never on the main thread:
// some messages take mailparser seconds (a 1.5 MB HTML table: 2.5 s; a 30 MB text body: 2.9 s),
// and the event loop serves every other client meanwhile.
import { simpleParser } from 'mailparser';
import type { AddressObject, Attachment, EmailAddress } from 'mailparser';
import { readHeaderBlock, decodeWords, parseDate, parseMessageId, firstField } from './headers.js';
import type { Address } from '../store/types.js';
import type { Parsed, MessagePart } from './parsed.js';
import { isPartOfHtml } from './attachments.js';

/** HTML larger than this is not converted to text (html-to-text is the slow part on huge HTML). */
const MAX_HTML_TO_TEXT = 2 * 1024 * 1024;

export async function fullParse(raw: Buffer): Promise<Parsed> {
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
      // mailparser lists no body text here; of the rest, only the HTML's own parts are not files.
      disposition: isPartOfHtml(a.contentId !== undefined, a.related === true, a.contentDisposition ?? '') ? 'inline' : 'attachment',
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
