// One-time codes in a message ("your verification code is 482913"), for a test that must type the
// code a mail brought. Pure: it reads the text and the HTML body a parse gave and nothing else.
//
// A number is a code by what stands near it, not by its shape: sign-up and order mail is full of
// 4-to-8-digit numbers (order numbers, years, prices, phone numbers, postcodes, card endings), and
// the codes among them are the ones next to a word such as "code", "OTP", "PIN", "verification"
// or "passcode" (in several languages), or alone on their own line right under such a word, as
// HTML templates set them in a large box. Measured on the templates in test/fixtures/codes/: the
// precision and recall the test prints, with every remaining miss explained there.

import { htmlToText } from './scan.js';

export interface FoundCode {
  code: string;
  /** The words around the code, on one line, for a person reading a failed test. */
  context: string;
}

/**
 * Codes sit at the top of a mail; a body is read up to this many characters, so the work per
 * request is bounded whatever the message (the 50 MB text body a sender may send included).
 */
export const MAX_SCANNED_CHARS = 256 * 1024;
/** More are not codes to type but a table of numbers next to a heading. */
const MAX_CODES = 20;

/**
 * Words that say a one-time code is near. Stems may end a compound word ("Bestätigungscode",
 * "verificatiecode"); a following letter other than a plural or case ending means another word.
 * "Verification", "verify" or "two-factor" alone are not enough: a weekly report's "Verification
 * emails sent 1310" is a count; the mails that bring a code name it ("code", "OTP", "PIN").
 */
const KEYWORD = new RegExp(
  [
    // "code" and its compounds in English, German, French, Dutch... ("Bestätigungscode")
    String.raw`(?<!\p{L})\p{L}*codes?(?!\p{L})`,
    String.raw`(?<!\p{L})(?:otp|pin|tan|passcodes?|one[- ]time password|einmalpasswort|engångslösenord)(?![\p{L}\p{N}_=])`,
    // Scandinavian, Polish, Turkish, Czech ("engångskod", "kodunuz")
    String.raw`(?<!\p{L})\p{L}*(?:kod|kode|kodu|kodem|kodunuz|koden)(?!\p{L})`,
    // Romance languages
    String.raw`(?<!\p{L})(?:c[oó]digos?|codice|codici|clave)(?!\p{L})`,
    // Russian, Ukrainian
    String.raw`(?<!\p{L})(?:код|кода|коду|одноразовый пароль)(?!\p{L})`,
    // Japanese, Chinese, Korean
    String.raw`コード|認証番号|確認番号|ワンタイムパスワード|验证码|驗證碼|校验码|动态码|動態碼|인증번호|인증 ?코드|확인 ?코드`,
  ].join('|'),
  'giu',
);

/**
 * Words before "code" that make it something else than a one-time code: a "promo code", a "zip
 * code", a "sort code" is a number the mail shows, not one it sends to prove anything.
 */
/** Compounds of "code" that name something else: "FlateDecode", "bytecode", "Unicode", "Postcode". */
const COMPOUND_NOT_A_CODE = /(?:de|en|uni|geo|op|short|trans|source|time|qr|bar|post|zip|byte|key|pseudo|machine|micro|hex|country|area|char|en-|de-|re-?en|auto)codes?$/iu;
const NOT_A_CODE_AFTER = /^(?:\s+of\s+(?:conduct|practice|ethics|honou?r)|\s+(?:section|sec\.|§|title|chapter|art\.|article)|[\s-]*(?:review|base|snippet|block|editor|sample|repository|repo|coverage|signing|quality|style|freeze))(?!\p{L})/iu;
/** The stem "code" is at the end of a keyword match in these forms. */
const CODE_STEM = /(?:codes?|kod\p{L}*|kode\p{L}*|c[oó]digos?|codice)$/iu;
const NOT_A_CODE_WORD = /(?<!\p{L})(?:authori[sz]ation|autorisatie|autorisierungs?|autorisation|autorización|approval|diagnostic|reply|response|return|exit|http|penal|civil|probate|criminal|commercial|building|vehicle|labou?r|health|promo(?:tional)?|discount|coupon|voucher|gift|zip|postal|post|area|country|dial(?:l?ing)?|source|qr|bar|tracking|referral|booking|reservation|product|error|status|colou?r|tax|sort|swift|bank|airport|fare|class|dress|rabatt|gutschein|postleitzahl|promotion(?:nel)?|réduction|descuento|postal)[\s-]*$/iu;

/**
 * Words that name what a nearby number is when it is not a code: "Order #482913", "card ending
 * in 4242", "call 0800 1234". Checked just before a candidate.
 */
const LABEL_BEFORE = /(?:order|orders|invoice|receipt|ref|reference|account|acct|customer|member(?:ship)?|ticket|case|tracking|transaction|booking|reservation|item|sku|serial|phone|tel|telephone|fax|mobile|call|room|flight|seat|gate|ending(?: in)?|ends? (?:in|with)|last (?:4|four)|zip|postal|postcode|apt|suite|unit|no|number|nr|id|bestellung|bestellnummer|rechnung|kundennummer|commande|facture|pedido|factura|ordine|заказ|注文番号|订单号|total|subtotal|amount|price|qty|quantity|year|since|page|version|v|model|isbn|flug)\.?\s*(?:number|no\.?|nr\.?|id|#|:)?\s*[#:№]?\s*$/iu;

/** Words of a sale around a candidate make it a discount code, not a one-time code. */
const DISCOUNT = /(?:at checkout|\d\s?% off|(?<!\p{L})off (?:your|all|orders|everything)|discount|coupon|voucher|rabatt|gutschein|réduction|descuento|sconto|korting)(?!\p{L})/iu;

/** After a candidate: a unit, a currency or a percentage makes it an amount. */
const UNIT_AFTER = /^\s?(?:%|€|\$|£|¥|usd|eur|gbp|chf|jpy|sek|nok|dkk|pln|kr|zł|руб|円|元|kb|mb|gb|km|kg|mi|ms|px|pt|em|st|nd|rd|th|am|pm|h\b|min\b|mins\b|minutes?|hours?|days?|years?|items?|points?|pts|words?|steps?|people|users?|orders?|reviews?)(?!\p{L})/iu;
/** Before a candidate: a currency sign or a hash (CSS colour, issue or order number). */
const SIGN_BEFORE = /(?:[$€£¥#№]|\b(?:usd|eur|gbp|chf|rs|r\$|us\$|a\$|c\$)\s?)\s*$/iu;

/** What the text says is a link, an address or a colour is left out before numbers are read. */
const NOISE = /\b(?:https?|ftp):\/\/[^\s<>"')\]]+|(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+|#[0-9a-f]{3,8}\b|\bv?\d+(?:\.\d+){2,}\b/giu;

const MONTH = /(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|januar|februar|märz|mai|juni|juli|oktober|dezember|janvier|février|mars|avril|juin|juillet|août|septembre|octobre|novembre|décembre|enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre)\.?/iu;

const MONTH_BEFORE = new RegExp(`${MONTH.source}\\s*\\d{0,2},?\\s*$`, 'iu');
const MONTH_AFTER = new RegExp(`^,?\\s*(?:${MONTH.source})`, 'iu');

/**
 * Candidates: runs of 4 to 8 digits (or 3+3 / 4+4 digits split by a space or a hyphen, as
 * authenticators show them, or 4 to 8 single digits apart, as templates set one per table cell), or short tokens of letters and digits with at least one of each
 * ("K7QX2P", "G-482913"), standing as a word of their own. Whether one is a code is decided by
 * its neighbours (isCode).
 */
const CANDIDATE = /(?<![\p{L}\p{N}_\-+./:,]|[\p{L}\p{N}]\[)(?:(\d(?:[ \n]{1,8}\d){3,7})(?![ \n]{0,8}\d)|(\d{3}[ -]\d{3}|\d{4}[ -]\d{4})(?![\p{N}]|[ -]\d)|(\d{4,8})|(?=[\p{L}\p{N}-]*\p{N})(?=[\p{L}\p{N}-]*\p{Lu})([\p{L}\p{N}]{4,10}|\p{Lu}{1,4}-[\p{L}\p{N}]{3,8}))(?![\p{L}\p{N}_+]|[.,:/\-]\p{N})/gu;

interface Span {
  start: number;
  end: number;
}

/** The one-time codes in a message's text and HTML, in order, each once. */
export function findCodes(text: string | null, html: string | null): FoundCode[] {
  const found: FoundCode[] = [];
  const seen = new Set<string>();
  const sources: string[] = [];
  if (text !== null) sources.push(text.slice(0, MAX_SCANNED_CHARS));
  if (html !== null) sources.push(htmlToText(html.slice(0, MAX_SCANNED_CHARS)));
  for (const source of sources) {
    for (const code of codesIn(source)) {
      if (seen.has(code.code)) continue;
      seen.add(code.code);
      found.push(code);
      if (found.length >= MAX_CODES) return found;
    }
  }
  return found;
}

function codesIn(raw: string): FoundCode[] {
  // Same length as the input, so positions agree: links, addresses and colours become spaces,
  // non-breaking and zero-width spaces plain spaces, and line ends stay where they were.
  const text = raw
    .replace(/\r\n?/g, (m) => (m.length === 2 ? ' \n' : '\n'))
    .replace(/[\u00a0\u2000-\u200b\u202f\u205f\u3000\t]/g, ' ')
    .replace(NOISE, (m) => ' '.repeat(m.length));
  const keywords = keywordSpans(text);
  if (keywords.length === 0) return [];
  const out: FoundCode[] = [];
  CANDIDATE.lastIndex = 0;
  for (let m = CANDIDATE.exec(text); m !== null; m = CANDIDATE.exec(text)) {
    const span = { start: m.index, end: m.index + m[0].length };
    const kind = m[1] !== undefined || m[2] !== undefined ? 'split' : m[3] !== undefined ? 'digits' : 'mixed';
    if (!isCode(text, span, kind, keywords)) continue;
    const code = kind === 'split' ? m[0].replace(/[ \n-]/g, '') : m[0];
    out.push({ code, context: contextOf(text, span) });
  }
  return out;
}

function keywordSpans(text: string): Span[] {
  const spans: Span[] = [];
  KEYWORD.lastIndex = 0;
  for (let m = KEYWORD.exec(text); m !== null; m = KEYWORD.exec(text)) {
    if (m[0].length === 0) {
      KEYWORD.lastIndex++;
      continue;
    }
    // "TAN" is a German bank code only in capitals; "tan" is a colour.
    if (/^tan$/i.test(m[0]) && m[0] !== 'TAN') continue;
    // "promo code", "zip code", "Rabattcode": the word before (or the start of the compound) says
    // what kind of code it is.
    const stem = CODE_STEM.exec(m[0]);
    if (stem && COMPOUND_NOT_A_CODE.test(m[0])) continue;
    if (stem && NOT_A_CODE_WORD.test(text.slice(Math.max(0, m.index - 30), m.index) + m[0].slice(0, stem.index))) continue;
    // "code of conduct", "code review": the words after say it is not a code to type.
    if (stem && NOT_A_CODE_AFTER.test(text.slice(m.index + m[0].length, m.index + m[0].length + 20))) continue;
    spans.push({ start: m.index, end: m.index + m[0].length });
  }
  return spans;
}

function isCode(text: string, span: Span, kind: 'split' | 'digits' | 'mixed', keywords: Span[]): boolean {
  const token = text.slice(span.start, span.end);
  const before = text.slice(Math.max(0, span.start - 40), span.start);
  const after = text.slice(span.end, span.end + 20);
  if (SIGN_BEFORE.test(before) || UNIT_AFTER.test(after)) return false;
  if (kind !== 'mixed' && looksLikeDate(text, span, token)) return false;
  // A masked card or phone number: "•••• 4242", "**** 4242", "XXXX-4242".
  if (/(?:[•*xX·]{2,}[ -]?)$/u.test(before)) return false;
  // Part of a longer run of numbers split by spaces: a phone number, an IBAN, a card number.
  if (/\d[ -]?$/.test(before) || /^[ -]?\d/.test(after)) return false;
  if (kind === 'mixed' && !plausibleMixed(token)) return false;
  // "Use code SUMMER24 at checkout for 20% off": a discount code, whatever word names it.
  if (DISCOUNT.test(text.slice(Math.max(0, span.start - 60), span.end + 60))) return false;

  const { before: kb, after: ka } = nearestKeywords(text, span, keywords);
  if (kb === null && ka === null) return false;
  // A label closer than the keyword says what the number is: "your code ... Order #482913".
  const lineStart = lineStartOf(text, span.start);
  const labelFrom = Math.max(lineStart, kb ? kb.keyword.end : 0, span.start - 30);
  if (LABEL_BEFORE.test(text.slice(labelFrom, span.start))) return false;
  const reach = kind === 'mixed' ? 45 : 100;
  const near = (n: Nearest | null, maxGap: number): boolean => n !== null && n.gap <= maxGap && sameSentence(text, n, span);
  if (near(kb, kind === 'digits' && isYear(token) ? 25 : reach)) return true;
  // "482913 is your code": a keyword after the code counts when it is just after.
  if (near(ka, kind === 'digits' && isYear(token) ? 0 : 30)) return true;
  // Alone on its line, with the word in the lines just above (or just below).
  const alone = lineAround(text, span).trim().replace(/^[*_:>\-–—\s"'“”«»[(]+|[*_.!:\s"'“”«»\])]+$/gu, '') === token;
  return alone && ((kb !== null && kb.gap <= 300) || (ka !== null && ka.gap <= 80));
}

interface Nearest {
  gap: number;
  keywordBefore: boolean;
  keyword: Span;
}

/** The closest keyword before and after, the distance counting a run of white space as one character. */
function nearestKeywords(text: string, span: Span, keywords: Span[]): { before: Nearest | null; after: Nearest | null } {
  // Binary search: the first keyword that ends after the candidate starts.
  let lo = 0;
  let hi = keywords.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (keywords[mid]!.end <= span.start) lo = mid + 1;
    else hi = mid;
  }
  const prev = keywords[lo - 1];
  const next = keywords[lo];
  // The candidate is part of the keyword's word ("2FA"): not a code.
  if (next && next.start < span.end) return { before: null, after: null };
  const before = prev ? { gap: collapsedLength(text, prev.end, span.start), keywordBefore: true, keyword: prev } : null;
  const after = next ? { gap: collapsedLength(text, span.end, next.start), keywordBefore: false, keyword: next } : null;
  return { before: before && before.gap <= 300 ? before : null, after: after && after.gap <= 300 ? after : null };
}

function collapsedLength(text: string, from: number, to: number): number {
  if (to - from > 2000) return Infinity;
  return text.slice(from, to).replace(/\s+/g, ' ').length;
}

/**
 * Nothing between the keyword and the code that ends a thought: a full stop followed by space, a
 * blank line. "Your code is below.\n\n482913" is handled by the alone-on-its-line rule instead.
 */
function sameSentence(text: string, n: Nearest, span: Span): boolean {
  const between = n.keywordBefore ? text.slice(n.keyword.end, span.start) : text.slice(span.end, n.keyword.start);
  if (/\n\s*\n/.test(between)) return false;
  return !/[.!?。！？](?:\s|$)/u.test(between.replace(/\b(?:no|nr|approx|e\.g|i\.e)\.\s/giu, ''));
}

/** The line the candidate is on; '' when that line is long (a code alone on its line is not). */
function lineAround(text: string, span: Span): string {
  const start = lineStartOf(text, span.start);
  const rest = text.slice(span.end, span.end + LONG_LINE + 1);
  const newline = rest.indexOf('\n');
  const end = newline < 0 ? span.end + rest.length : span.end + newline;
  return end - start > LONG_LINE ? '' : text.slice(start, end);
}

/** A line longer than this is prose (or a page without line breaks), never a code set apart. */
const LONG_LINE = 200;

/** Where the line holding `at` starts, looking back at most LONG_LINE characters (linear overall). */
function lineStartOf(text: string, at: number): number {
  const from = Math.max(0, at - LONG_LINE);
  return from + text.slice(from, at).lastIndexOf('\n') + 1;
}

function isYear(token: string): boolean {
  return /^(?:19|20)\d\d$/.test(token);
}

/** Dates and times around the number: 31/05/2024, 2024-05-31, 31 May 2024, 12:30. */
function looksLikeDate(text: string, span: Span, token: string): boolean {
  const before = text.slice(Math.max(0, span.start - 16), span.start);
  const after = text.slice(span.end, span.end + 16);
  if (isYear(token) && (MONTH_BEFORE.test(before) || MONTH_AFTER.test(after))) return true;
  if (isYear(token) && /(?:©|\(c\)|copyright|since|in|year|jahr|année|año)\s*$/iu.test(before)) return true;
  if (isYear(token) && /^\s*[-–]\s*(?:19|20)\d\d/.test(after)) return true;
  return false;
}

/** A token of letters and digits that reads as a code, not as a word or a model name. */
function plausibleMixed(token: string): boolean {
  const letters = token.replace(/[^\p{L}]/gu, '');
  const digits = token.replace(/[^\p{N}]/gu, '');
  if (letters.length === 0 || digits.length === 0) return false;
  // Lower-case words with a digit ("v2", "mp3", "h264") and ordinals are not codes.
  if (letters === letters.toLowerCase()) return false;
  // Names of standards and formats: RFC822, ISO8601, UTF16, SHA256.
  if (/^(?:RFC|ISO|UTF|SHA|MD|AES|CVE|ISBN|EAN|IEEE|ANSI|DIN|EN)\d/i.test(token)) return false;
  // "2FA", "MFA2": too short to be typed as a code.
  return token.replace('-', '').length >= 5;
}

/**
 * The words around the code within its paragraph, about 130 characters cut at word boundaries; a
 * code set apart in a paragraph of its own gets the line above it, where its heading is.
 */
function contextOf(text: string, span: Span): string {
  const blankBefore = /\n[ ]*\n(?![\s\S]*\n[ ]*\n)/.exec(text.slice(Math.max(0, span.start - 400), span.start));
  const paraStart = blankBefore ? Math.max(0, span.start - 400) + blankBefore.index + blankBefore[0].length : Math.max(0, span.start - 400);
  const blankAfter = /\n[ ]*\n/.exec(text.slice(span.end, span.end + 400));
  const paraEnd = blankAfter ? span.end + blankAfter.index : Math.min(text.length, span.end + 400);
  const token = text.slice(span.start, span.end);
  if (collapse(text.slice(paraStart, paraEnd)) === collapse(token)) {
    const above = text.slice(Math.max(0, paraStart - 200), paraStart).replace(/\s+$/, '');
    const heading = above.slice(above.lastIndexOf('\n') + 1);
    return collapse(`${heading} ${token}`);
  }
  let from = Math.max(paraStart, span.start - 80);
  let to = Math.min(paraEnd, span.end + 50);
  if (from > paraStart) from = text.indexOf(' ', from) + 1 || from;
  if (to < paraEnd) {
    const space = text.lastIndexOf(' ', to);
    if (space > span.end) to = space;
  }
  return collapse(text.slice(Math.min(from, span.start), to));
}

function collapse(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}
