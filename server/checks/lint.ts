// The deliverability lint: what in a message's headers and structure makes receiving servers and
// mail clients treat it worse than its sender meant (spam folder, clipped, rejected, unreadable).
// Each finding names the standard or the published rule behind it. Mailpen never looks anything
// up (no DNS, no URL), so what needs a lookup is checked for presence only: a DKIM signature is
// there or not, never verified.
//
// Every loop here is linear in the message's size, and the parts walked are bounded (MAX_PARTS,
// MAX_DEPTH): the message is hostile input like any other.
import { TextDecoder } from 'node:util';
import libmime from 'libmime';
import { readTags } from './tags.js';
import { readHeaderBlock, firstField, parseAddressList, parseDate, type HeaderField } from '../mail/headers.js';
import { charsetDecoder, decodeQuotedPrintable } from '../mail/scan.js';

export type Severity = 'error' | 'warning' | 'info';

/** Which tab of the message view a finding is about, and where in it. */
export interface FindingPlace {
  tab: 'headers' | 'html' | 'text' | 'raw';
  header?: string;
  /** 1-based line of the raw source (tab raw) or of the HTML (tab html). */
  line?: number;
}

export interface Finding {
  /** Stable identifier of the check: `missing-date`, `no-one-click-unsubscribe`. */
  id: string;
  severity: Severity;
  /** One line: what is wrong in this message. */
  title: string;
  /** Why it matters. */
  explanation: string;
  /** The standard or published rule behind it. */
  rule: string;
  where?: FindingPlace;
}

export interface LintResult {
  status: 'checked';
  findings: Finding[];
  /** Counts by severity. */
  errors: number;
  warnings: number;
  infos: number;
}

/** Gmail clips a message whose HTML is larger than this (its help page: "102KB"). */
export const GMAIL_CLIP_BYTES = 102 * 1024;
/** RFC 5322 §2.1.1: a line must be no more than 998 characters, excluding the CRLF. */
const MAX_LINE = 998;
const MAX_PARTS = 1000;
const MAX_DEPTH = 20;
const SEVERITY_ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

interface Leaf {
  type: string;
  charset: string | null;
  cte: string;
  disposition: string;
  body: Buffer;
  /** Offset in the raw source where the part's body starts. */
  start: number;
}

interface Input {
  raw: Buffer;
  html: string | null;
}

export function lintMessage({ raw, html }: Input): LintResult {
  const findings: Finding[] = [];
  const add = (f: Finding): void => void findings.push(f);
  const top = readHeaderBlock(raw);
  const fields = top.fields;
  const header = (name: string): string | undefined => firstField(fields, name);

  headerFindings(fields, header, add);
  const leaves: Leaf[] = [];
  const mime = { parts: 0, problems: [] as string[] };
  walk(raw, 0, raw.length, 0, leaves, mime);
  lineFindings(raw, add);
  mimeFindings(raw, fields, leaves, mime.problems, add);
  if (html !== null) htmlFindings(html, leaves, add);
  bulkFindings(fields, header, html, leaves, add);

  findings.sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]);
  return {
    status: 'checked',
    findings,
    errors: findings.filter((f) => f.severity === 'error').length,
    warnings: findings.filter((f) => f.severity === 'warning').length,
    infos: findings.filter((f) => f.severity === 'info').length,
  };
}

// --- Headers ----------------------------------------------------------------------------------

function headerFindings(fields: HeaderField[], header: (name: string) => string | undefined, add: (f: Finding) => void): void {
  const date = header('date');
  if (date === undefined) {
    add({
      id: 'missing-date',
      severity: 'error',
      title: 'No Date header',
      explanation: 'Every message must carry the date it was written; receiving servers add one or score the message down, and clients sort it oddly.',
      rule: 'RFC 5322 §3.6 (Date is required)',
      where: { tab: 'headers' },
    });
  } else if (parseDate(date) === null) {
    add({
      id: 'bad-date',
      severity: 'warning',
      title: `The Date header does not parse: ${clip(date)}`,
      explanation: 'A date that does not follow the standard is shown wrong or as the time of arrival, and spam filters count it against the message.',
      rule: 'RFC 5322 §3.3 (date-time)',
      where: { tab: 'headers', header: 'Date' },
    });
  }

  const messageId = header('message-id');
  if (messageId === undefined) {
    add({
      id: 'missing-message-id',
      severity: 'warning',
      title: 'No Message-ID header',
      explanation: 'Gmail requires bulk senders to set one and may reject or defer mail without it; replies and threading rely on it.',
      rule: 'RFC 5322 §3.6.4 (SHOULD); Gmail sender guidelines',
      where: { tab: 'headers' },
    });
  } else if (!/^\s*<[^<>@\s]+@[^<>@\s]+>\s*$/.test(messageId)) {
    add({
      id: 'bad-message-id',
      severity: 'warning',
      title: `The Message-ID is not of the form <left@right>: ${clip(messageId)}`,
      explanation: 'A malformed Message-ID breaks threading and is a common spam-filter rule (INVALID_MSGID).',
      rule: 'RFC 5322 §3.6.4 (msg-id)',
      where: { tab: 'headers', header: 'Message-ID' },
    });
  }

  const from = header('from');
  const fromAddresses = from === undefined ? [] : parseAddressList(from).filter((a) => a.address !== '');
  if (from === undefined) {
    add({
      id: 'missing-from',
      severity: 'error',
      title: 'No From header',
      explanation: 'Every message must say who it is from; servers reject it or clients show it as from nobody.',
      rule: 'RFC 5322 §3.6 (From is required)',
      where: { tab: 'headers' },
    });
  } else if (fromAddresses.length === 0 || !fromAddresses.every((a) => isAddress(a.address))) {
    add({
      id: 'bad-from',
      severity: 'error',
      title: `The From header does not parse as an address: ${clip(from)}`,
      explanation: 'Receiving servers check the From domain (DMARC) and cannot when there is no valid address; Gmail rejects such mail.',
      rule: 'RFC 5322 §3.4 (address), §3.6.2 (From); RFC 7489 (DMARC)',
      where: { tab: 'headers', header: 'From' },
    });
  } else if (fromAddresses.length > 1 && header('sender') === undefined) {
    add({
      id: 'from-several-without-sender',
      severity: 'warning',
      title: 'From names several addresses and there is no Sender header',
      explanation: 'With more than one author, the one who sent it must be named in Sender; many servers reject multi-address From outright.',
      rule: 'RFC 5322 §3.6.2',
      where: { tab: 'headers', header: 'From' },
    });
  }

  if (header('subject') === undefined) {
    add({
      id: 'missing-subject',
      severity: 'warning',
      title: 'No Subject header',
      explanation: 'Spam filters score a message without a subject up (MISSING_SUBJECT), and people skip it.',
      rule: 'RFC 5322 §3.6.5; SpamAssassin MISSING_SUBJECT',
      where: { tab: 'headers' },
    });
  }

  const replyTo = header('reply-to');
  const fromDomain = domainOf(fromAddresses[0]?.address);
  // A mailing list sets Reply-To to the list on purpose (RFC 2369's List-Id marks one).
  if (replyTo !== undefined && fromDomain && header('list-id') === undefined && header('list-post') === undefined) {
    const other = parseAddressList(replyTo)
      .map((a) => domainOf(a.address))
      .find((d) => d && !sameOrganization(d, fromDomain));
    if (other) {
      add({
        id: 'reply-to-other-domain',
        severity: 'warning',
        title: `Reply-To is on another domain (${other}) than From (${fromDomain})`,
        explanation: 'Replies going to a different domain than the sender is a pattern of phishing; spam filters weigh it, and recipients may be warned.',
        rule: 'SpamAssassin FREEMAIL_FORGED_REPLYTO and similar rules; RFC 5322 §3.6.2',
        where: { tab: 'headers', header: 'Reply-To' },
      });
    }
  }

  const dkim = fields.filter((f) => f.key === 'dkim-signature');
  if (dkim.length === 0) {
    add({
      id: 'no-dkim-signature',
      severity: 'info',
      title: 'No DKIM signature',
      explanation: 'Gmail and Yahoo require bulk senders to sign with DKIM aligned with From. Your production mail server may sign on the way out; Mailpen only sees what your application sent. (Presence only: verifying needs DNS, which Mailpen never uses.)',
      rule: 'RFC 6376 (DKIM); Gmail and Yahoo sender requirements (2024)',
      where: { tab: 'headers' },
    });
  } else if (fromDomain) {
    const signers = dkim.map((f) => /(?:^|;)\s*d\s*=\s*([^;\s]+)/i.exec(f.value)?.[1]?.toLowerCase()).filter((d): d is string => !!d);
    if (signers.length > 0 && !signers.some((d) => d === fromDomain || fromDomain.endsWith('.' + d))) {
      add({
        id: 'dkim-not-aligned',
        severity: 'info',
        title: `DKIM signs for ${signers.join(', ')}, not the From domain ${fromDomain}`,
        explanation: 'DMARC passes through DKIM only when the signing domain (d=) aligns with From. (Not verified: that needs DNS.)',
        rule: 'RFC 7489 §3.1.1 (DKIM identifier alignment)',
        where: { tab: 'headers', header: 'DKIM-Signature' },
      });
    }
  }
}

function isAddress(address: string): boolean {
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) return false;
  return /^[^\s@]+$/.test(address.slice(0, at)) && /^[A-Za-z0-9\u0080-\uffff]([A-Za-z0-9\u0080-\uffff-]*[A-Za-z0-9\u0080-\uffff])?(\.[A-Za-z0-9\u0080-\uffff]([A-Za-z0-9\u0080-\uffff-]*[A-Za-z0-9\u0080-\uffff])?)*$|^\[[^\]]+\]$/.test(address.slice(at + 1));
}

function domainOf(address: string | undefined): string | null {
  if (!address) return null;
  const at = address.lastIndexOf('@');
  return at > 0 ? address.slice(at + 1).toLowerCase().replace(/\.$/, '') : null;
}

/**
 * Two domains of one organization, as far as can be told without the public suffix list: equal,
 * one under the other, or the same last two labels (three when the second-last is a short
 * second-level label like co.uk's "co").
 */
function sameOrganization(a: string, b: string): boolean {
  if (a === b || a.endsWith('.' + b) || b.endsWith('.' + a)) return true;
  const base = (d: string): string => {
    const labels = d.split('.');
    const n = labels.length >= 3 && labels[labels.length - 2]!.length <= 3 && labels[labels.length - 1]!.length === 2 ? 3 : 2;
    return labels.slice(-n).join('.');
  };
  return base(a) === base(b);
}

function clip(value: string, max = 80): string {
  const v = value.trim();
  return v.length > max ? v.slice(0, max - 1) + '…' : v;
}

// --- Lines ------------------------------------------------------------------------------------

function lineFindings(raw: Buffer, add: (f: Finding) => void): void {
  let crlf = 0;
  let bareLf = 0;
  let firstBareLf = 0;
  let longLines = 0;
  let firstLong = 0;
  let longest = 0;
  let line = 1;
  let start = 0;
  for (;;) {
    const lf = raw.indexOf(0x0a, start);
    const end = lf < 0 ? raw.length : lf;
    const cr = lf > 0 && raw[lf - 1] === 0x0d;
    const length = end - start - (cr ? 1 : 0);
    if (length > MAX_LINE) {
      if (longLines++ === 0) firstLong = line;
      longest = Math.max(longest, length);
    }
    if (lf < 0) break;
    if (cr) crlf++;
    else if (bareLf++ === 0) firstBareLf = line;
    start = lf + 1;
    line++;
  }
  if (longLines > 0) {
    add({
      id: 'line-too-long',
      severity: 'error',
      title: `${longLines} line${longLines === 1 ? '' : 's'} longer than ${MAX_LINE} octets (the longest: ${longest}), first at line ${firstLong}`,
      explanation: 'Servers may break such lines anywhere or reject the message (Gmail: "line too long"); long HTML must be encoded (quoted-printable or base64) or wrapped.',
      rule: 'RFC 5322 §2.1.1; RFC 5321 §4.5.3.1.6',
      where: { tab: 'raw', line: firstLong },
    });
  }
  if (bareLf > 0 && crlf > 0) {
    add({
      id: 'bare-lf',
      severity: 'warning',
      title: `${bareLf} line${bareLf === 1 ? '' : 's'} end${bareLf === 1 ? 's' : ''} in a bare LF among CRLF line ends, first at line ${firstBareLf}`,
      explanation: 'Lines in mail end in CRLF. Since the SMTP smuggling fixes of 2023-2024, many servers (Postfix, Exchange, Gmail) reject or rewrite messages with bare LF.',
      rule: 'RFC 5322 §2.3; RFC 5321 §2.3.8',
      where: { tab: 'raw', line: firstBareLf },
    });
  } else if (bareLf > 0) {
    add({
      id: 'unix-line-ends',
      severity: 'info',
      title: 'Every line ends in a bare LF (Unix line ends)',
      explanation: 'Usual for a message file uploaded or piped to sendmail, whose SMTP client converts them to CRLF; a client that sends them as they are over SMTP is rejected by many servers.',
      rule: 'RFC 5322 §2.3; RFC 5321 §2.3.8',
      where: { tab: 'raw', line: firstBareLf },
    });
  }
}

// --- MIME -------------------------------------------------------------------------------------

function walk(raw: Buffer, start: number, end: number, depth: number, leaves: Leaf[], mime: { parts: number; problems: string[] }): void {
  if (++mime.parts > MAX_PARTS || depth > MAX_DEPTH) return;
  const block = readHeaderBlock(raw, start, end);
  const ct = libmime.parseHeaderValue(firstField(block.fields, 'content-type') ?? 'text/plain');
  const type = (ct.value || 'text/plain').toLowerCase();
  if (type.startsWith('multipart/')) {
    const boundary = ct.params.boundary;
    if (!boundary) {
      mime.problems.push(`a ${type} part has no boundary`);
      return;
    }
    for (const [s, e] of splitParts(raw, block.bodyStart, end, boundary)) walk(raw, s, e, depth + 1, leaves, mime);
    return;
  }
  const disposition = libmime.parseHeaderValue(firstField(block.fields, 'content-disposition') ?? '').value.toLowerCase();
  leaves.push({
    type,
    charset: ct.params.charset?.trim() ?? null,
    cte: (firstField(block.fields, 'content-transfer-encoding') ?? '7bit').trim().toLowerCase(),
    disposition,
    body: raw.subarray(block.bodyStart, end),
    start: block.bodyStart,
  });
}

function splitParts(raw: Buffer, start: number, end: number, boundary: string): Array<[number, number]> {
  const delimiter = Buffer.from('--' + boundary, 'latin1');
  const parts: Array<[number, number]> = [];
  let partStart = -1;
  let pos = start;
  while (pos < end && parts.length < MAX_PARTS) {
    const at = raw.indexOf(delimiter, pos);
    if (at < 0 || at >= end) break;
    pos = at + delimiter.length;
    if (at !== start && raw[at - 1] !== 0x0a) continue;
    if (partStart >= 0) {
      let partEnd = at;
      if (raw[partEnd - 1] === 0x0a) partEnd--;
      if (raw[partEnd - 1] === 0x0d) partEnd--;
      parts.push([partStart, Math.max(partStart, partEnd)]);
    }
    if (raw[pos] === 0x2d && raw[pos + 1] === 0x2d) return parts;
    const lf = raw.indexOf(0x0a, pos);
    partStart = lf < 0 || lf >= end ? end : lf + 1;
    pos = partStart;
  }
  if (partStart >= 0) parts.push([partStart, end]);
  return parts;
}

/** 1-based line of `offset` in the raw source (only for the few findings that point at a part). */
function lineOf(raw: Buffer, offset: number): number {
  let line = 1;
  for (let i = raw.indexOf(0x0a); i >= 0 && i < offset; i = raw.indexOf(0x0a, i + 1)) line++;
  return line;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function mimeFindings(raw: Buffer, fields: HeaderField[], leaves: Leaf[], problems: string[], add: (f: Finding) => void): void {
  const hasMime = fields.some((f) => f.key === 'content-type' || f.key === 'content-transfer-encoding');
  const eightBit = leaves.some((l) => hasHighBytes(l.body));
  if (!fields.some((f) => f.key === 'mime-version') && (hasMime || eightBit)) {
    add({
      id: 'missing-mime-version',
      severity: 'warning',
      title: 'No MIME-Version header, yet the message uses MIME',
      explanation: 'Without "MIME-Version: 1.0" a reader may ignore Content-Type and show the raw structure; spam filters score it (MISSING_MIME_VERSION-like rules).',
      rule: 'RFC 2045 §4',
      where: { tab: 'headers' },
    });
  }
  for (const p of problems) {
    add({ id: 'mime-structure', severity: 'error', title: p[0]!.toUpperCase() + p.slice(1), explanation: 'Readers cannot split the message into its parts.', rule: 'RFC 2046 §5.1.1', where: { tab: 'raw' } });
  }

  const textParts = leaves.filter((l) => l.type.startsWith('text/') && l.disposition !== 'attachment');
  for (const leaf of leaves) {
    if ((leaf.cte === '7bit' || leaf.cte === '') && hasHighBytes(leaf.body)) {
      add({
        id: 'eight-bit-as-7bit',
        severity: 'warning',
        title: `A ${leaf.type} part has 8-bit bytes but is declared 7bit`,
        explanation: 'A 7bit part holds ASCII only. Servers without 8BITMIME may mangle it, and readers may decode it wrongly; declare 8bit, or better, use quoted-printable or base64.',
        rule: 'RFC 2045 §2.7, §6.2',
        where: { tab: 'raw', line: lineOf(raw, leaf.start) },
      });
      break;
    }
  }
  // One finding of each kind says it: a thousand parts with the same fault would only repeat it.
  const said = new Set<string>();
  for (const leaf of textParts) {
    const charset = leaf.charset;
    if (charset === null) continue;
    const label = charset.toLowerCase();
    const decoder = charsetDecoder(label);
    if (decoder === null) {
      if (said.has('unknown-charset')) continue;
      said.add('unknown-charset');
      add({
        id: 'unknown-charset',
        severity: 'error',
        title: `The ${leaf.type} part declares a charset no reader knows: "${clip(charset, 40)}"`,
        explanation: 'Readers fall back to a guess and show garbled text.',
        rule: 'RFC 2046 §4.1.2; IANA character sets registry',
        where: { tab: 'raw', line: lineOf(raw, leaf.start) },
      });
      continue;
    }
    // WHATWG maps us-ascii to windows-1252, which decodes any byte: an 8-bit byte is what does not fit.
    if (/^(us-)?ascii$/.test(label) && !said.has('charset-does-not-decode') && hasHighBytes(decodedBody(leaf))) {
      said.add('charset-does-not-decode');
      add({
        id: 'charset-does-not-decode',
        severity: 'error',
        title: `The ${leaf.type} part is declared US-ASCII but has 8-bit bytes`,
        explanation: 'Readers show those bytes as whatever their guess makes of them; declare the charset the text is in (UTF-8, most likely).',
        rule: 'RFC 2046 §4.1.2; RFC 20 (ASCII)',
        where: { tab: 'raw', line: lineOf(raw, leaf.start) },
      });
    }
    if (decoder.encoding === 'utf-8' && !said.has('charset-does-not-decode') && !decodesAsUtf8(leaf)) {
      said.add('charset-does-not-decode');
      add({
        id: 'charset-does-not-decode',
        severity: 'error',
        title: `The ${leaf.type} part is declared UTF-8 but its bytes are not valid UTF-8`,
        explanation: 'Readers show replacement characters (�) where the text is; the bytes are probably in another charset (Windows-1252, ISO-8859-1).',
        rule: 'RFC 3629 (UTF-8); RFC 2046 §4.1.2',
        where: { tab: 'raw', line: lineOf(raw, leaf.start) },
      });
    }
  }
}

function hasHighBytes(body: Buffer): boolean {
  for (let i = 0; i < body.length; i++) if (body[i]! > 0x7f) return true;
  return false;
}

/** The part's bytes with its transfer encoding undone. */
function decodedBody(leaf: Leaf): Buffer {
  if (leaf.cte === 'base64') return Buffer.from(leaf.body.toString('latin1').replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
  if (leaf.cte === 'quoted-printable') return decodeQuotedPrintable(leaf.body);
  return leaf.body;
}

function decodesAsUtf8(leaf: Leaf): boolean {
  try {
    utf8.decode(decodedBody(leaf));
    return true;
  } catch {
    return false;
  }
}

// --- HTML -------------------------------------------------------------------------------------

function htmlFindings(html: string, leaves: Leaf[], add: (f: Finding) => void): void {
  const hasPlain = leaves.some((l) => l.type === 'text/plain' && l.disposition !== 'attachment');
  if (!hasPlain) {
    add({
      id: 'no-text-alternative',
      severity: 'warning',
      title: 'HTML without a plain-text alternative',
      explanation: 'Send multipart/alternative with a text/plain part too: spam filters score HTML-only mail (MIME_HTML_ONLY), and text-only readers and some watches show nothing.',
      rule: 'RFC 2046 §5.1.4 (multipart/alternative); SpamAssassin MIME_HTML_ONLY',
      where: { tab: 'html' },
    });
  }
  const bytes = Buffer.byteLength(html, 'utf8');
  if (bytes > GMAIL_CLIP_BYTES) {
    add({
      id: 'gmail-clips-html',
      severity: 'warning',
      title: `The HTML is ${Math.round(bytes / 1024)} KB; Gmail clips HTML over 102 KB`,
      explanation: 'Gmail shows the first 102 KB and a "[Message clipped] View entire message" link; what follows, often the unsubscribe link and the tracking pixel, is not shown.',
      rule: 'Gmail: messages whose HTML exceeds 102 KB are clipped',
      where: { tab: 'html' },
    });
  }

  let imagesWithoutAlt = 0;
  let firstImage = -1;
  let httpLinks = 0;
  let firstHttp = -1;
  readTags(html, {
    tag(name, attribs, at) {
      if (name === 'img' && attribs.alt === undefined && imagesWithoutAlt++ === 0) firstImage = at;
      if ((name === 'a' || name === 'area') && /^\s*http:\/\//i.test(attribs.href ?? '') && httpLinks++ === 0) firstHttp = at;
    },
  });
  const offsets = [firstImage, firstHttp];
  const lineAt = htmlLines(html, offsets);
  if (imagesWithoutAlt > 0) {
    add({
      id: 'image-without-alt',
      severity: 'warning',
      title: `${imagesWithoutAlt} image${imagesWithoutAlt === 1 ? ' has' : 's have'} no alt attribute`,
      explanation: 'Most clients block images until asked; without alt text the reader sees empty boxes, and screen readers read the file name. Decorative images take alt="".',
      rule: 'WCAG 2.1 SC 1.1.1 (non-text content); HTML: the img element',
      where: { tab: 'html', line: lineAt.get(firstImage)! },
    });
  }
  if (httpLinks > 0) {
    add({
      id: 'http-link',
      severity: 'warning',
      title: `${httpLinks} link${httpLinks === 1 ? '' : 's'} over plain http://`,
      explanation: 'Browsers warn on or upgrade plain http, and a link that can be rewritten in transit is a phishing signal to filters; use https://.',
      rule: 'RFC 9110 §4.2.2 (the https scheme); browsers and mail clients warn on insecure links',
      where: { tab: 'html', line: lineAt.get(firstHttp)! },
    });
  }
}

/** The 1-based lines of some offsets in `html`, in one pass. */
function htmlLines(html: string, offsets: number[]): Map<number, number> {
  const out = new Map<number, number>();
  const wanted = [...new Set(offsets.filter((o) => o >= 0))].sort((a, b) => a - b);
  let line = 1;
  let pos = 0;
  for (const o of wanted) {
    for (let i = html.indexOf('\n', pos); i >= 0 && i < o; i = html.indexOf('\n', i + 1)) {
      line++;
      pos = i + 1;
    }
    out.set(o, line);
  }
  return out;
}

// --- Bulk mail --------------------------------------------------------------------------------

function bulkFindings(fields: HeaderField[], header: (name: string) => string | undefined, html: string | null, leaves: Leaf[], add: (f: Finding) => void): void {
  const listUnsubscribe = header('list-unsubscribe');
  const post = header('list-unsubscribe-post');
  const precedence = (header('precedence') ?? '').trim().toLowerCase();
  const reasons: string[] = [];
  if (precedence === 'bulk' || precedence === 'list' || precedence === 'junk') reasons.push(`Precedence: ${precedence}`);
  if (header('list-id') !== undefined) reasons.push('a List-Id header');
  if (header('feedback-id') !== undefined) reasons.push('a Feedback-ID header');
  if (listUnsubscribe !== undefined) reasons.push('a List-Unsubscribe header');
  if (fields.some((f) => /^x-(campaign|mailer-campaign|mc-user|mailgun-campaign|sg-eid|ses-configuration-set)/.test(f.key))) reasons.push('a campaign header');
  if (mentionsUnsubscribe(html, leaves)) reasons.push('an unsubscribe link or text in the body');
  if (reasons.length === 0) return;

  const httpsUri = listUnsubscribe !== undefined && /<\s*https:\/\/[^>]+>/i.test(listUnsubscribe);
  const oneClick = post !== undefined && /^\s*List-Unsubscribe=One-Click\s*$/i.test(post);
  const rule = 'RFC 8058 (one-click unsubscribe); RFC 2369 (List-Unsubscribe); Gmail and Yahoo bulk sender requirements (February 2024)';
  if (listUnsubscribe === undefined) {
    add({
      id: 'no-list-unsubscribe',
      severity: 'warning',
      title: `Looks like bulk mail (${reasons.join(', ')}) but has no List-Unsubscribe header`,
      explanation: 'Gmail and Yahoo require senders of bulk mail to offer one-click unsubscribe: List-Unsubscribe with an https URL and "List-Unsubscribe-Post: List-Unsubscribe=One-Click". Without them, mail goes to spam or is rejected.',
      rule,
      where: { tab: 'headers' },
    });
  } else if (!oneClick || !httpsUri) {
    add({
      id: 'no-one-click-unsubscribe',
      severity: 'warning',
      title: !httpsUri ? 'List-Unsubscribe has no https URL, so one-click unsubscribe cannot work' : 'List-Unsubscribe without "List-Unsubscribe-Post: List-Unsubscribe=One-Click"',
      explanation: 'One-click unsubscribe (RFC 8058) needs both an https URL in List-Unsubscribe and the List-Unsubscribe-Post header; Gmail and Yahoo require it of bulk senders.',
      rule,
      where: { tab: 'headers', header: 'List-Unsubscribe' },
    });
  }
}

function mentionsUnsubscribe(html: string | null, leaves: Leaf[]): boolean {
  if (html !== null && /unsubscribe/i.test(html)) return true;
  const plain = leaves.find((l) => l.type === 'text/plain' && l.disposition !== 'attachment');
  // The encoded text is enough for a plain word: quoted-printable leaves it as it is.
  return plain !== undefined && plain.cte !== 'base64' && /unsubscribe/i.test(plain.body.toString('latin1'));
}
