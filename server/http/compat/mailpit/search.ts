// Mailpit's search syntax (https://mailpit.axllent.org/docs/usage/search-filters/, read from its
// internal/storage/search.go), translated to Mailpen's search terms in this one module.
//
// Mailpit splits the query on spaces (a "quoted phrase" is one argument, its quotes removed); every
// argument must match; `-` or `!` in front negates one. Where the two languages differ, Mailpit's
// meaning wins here: `to:` is the To header only (Mailpen's to: also finds Cc and Bcc), a field
// Mailpit does not know (`foo:bar`) is searched as text, `larger:`/`smaller:` that is not a size is
// text too, and `before:`/`after:` read a date in the `tz` the request gives. One difference is
// kept on purpose: a date or time zone that does not parse is a 400 with the reason, where Mailpit
// logs it and drops the term; dropping it silently would widen a DELETE by search to more mail.
import type { MessageStore, StoredMessage } from '../../../store/store.js';
import { compileQuery, textTest, type MessagePredicate } from '../../../search/match.js';
import { MAX_QUERY_LENGTH, MAX_QUERY_TERMS, QueryError, parseSize, type Query } from '../../../search/query.js';
import { readHeaderBlock, decodeWords, parseAddresses } from '../../../mail/headers.js';

/** Mailpit's tools.ArgsParser: space-separated arguments, a quoted stretch kept whole without its quotes. */
export function mailpitArgs(search: string): string[] {
  const args: string[] = [];
  let current = '';
  let quoted = false;
  for (const c of search) {
    if (c === '"') quoted = !quoted;
    else if (!quoted && /\s/.test(c)) {
      if (current !== '') args.push(current);
      current = '';
    } else current += c;
  }
  if (current !== '') args.push(current);
  return args;
}

/** One header's addresses (names and addresses), read from the raw block: Mailpit matches its JSON. */
function addressText(m: StoredMessage, header: string): string {
  const values = readHeaderBlock(m.raw).fields.filter((f) => f.key === header).map((f) => f.value);
  return parseAddresses(values.join(', ')).flatMap((a) => [a.name, a.address]).join('\0');
}

/** Recipients that are in the envelope but in no To or Cc header: what SMTP carries of Bcc. */
function bccText(m: StoredMessage): string {
  const h = m.headers;
  const shown = new Set([...h.to, ...h.cc].map((a) => a.address.toLowerCase()));
  const hidden = m.envelope.rcptTo.filter((r) => !shown.has(r.toLowerCase()));
  return [addressText(m, 'bcc'), ...hidden].join('\0');
}

/**
 * Whether a MIME part of the message declares a Content-ID in its header (Mailpit counts these parts,
 * enmime's inlines): what indexing learned of the MIME structure, else the body scan's (a recent one
 * is cached). Never the raw text, where a body quoting a "Content-ID:" line would match.
 */
function hasInlinePart(store: MessageStore): MessagePredicate {
  return (m) => store.hasInline?.(m) ?? store.body(m).inlines > 0;
}

/** The offset (ms) of a time zone from UTC at an instant, from Intl (Node has full ICU). */
function zoneOffset(at: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(at));
  const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value);
  return Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second')) - Math.floor(at / 1000) * 1000;
}

/** Checks a `tz` parameter; undefined means the server's local time, as in Mailpit. */
export function checkTimeZone(tz: string | undefined): string | undefined {
  if (tz === undefined || tz === '') return undefined;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return tz;
  } catch {
    throw new QueryError(`tz "${tz.slice(0, 60)}" is not a time zone; use an IANA name such as Europe/Berlin or America/Chicago`);
  }
}

/**
 * A date as Mailpit's dateparse reads the common forms: 2024-05-31, 2024-05-31 14:30[:00],
 * 2024-05-31T14:30:00Z or with an offset, 2024/05/31, epoch seconds or milliseconds. Without an
 * offset it is a time in `tz` (the server's local time without one).
 */
export function parseMailpitDate(field: string, value: string, tz: string | undefined): number {
  if (/^\d{13}$/.test(value)) return Number(value);
  if (/^\d{9,10}$/.test(value)) return Number(value) * 1000;
  const m = /^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i.exec(value);
  if (!m) throw new QueryError(`"${field}:${value}" is not a date; use 2024-05-31, 2024-05-31 14:30, 2024-05-31T14:30:00Z or epoch seconds`);
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4] ?? '0', m[5] ?? '0', m[6] ?? '0'].map(Number) as [number, number, number, number, number, number];
  const wall = Date.UTC(y, mo - 1, d, h, mi, s);
  const check = new Date(wall);
  if (check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) throw new QueryError(`"${field}:${value}" is not a date in the calendar`);
  const offset = m[7];
  if (offset !== undefined) {
    if (offset.toUpperCase() === 'Z') return wall;
    const sign = offset.startsWith('-') ? -1 : 1;
    const digits = offset.slice(1).replace(':', '');
    return wall - sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
  }
  if (tz === undefined) return new Date(y, mo - 1, d, h, mi, s).getTime();
  // The wall time in tz: its offset then, settled again in case the guess crossed a DST change.
  let at = wall - zoneOffset(wall, tz);
  at = wall - zoneOffset(at, tz);
  return at;
}

/**
 * Compiles a Mailpit search into a predicate over stored messages. Throws QueryError with the
 * reason (the routes answer 400) for a query that cannot be read.
 */
export function compileMailpitSearch(search: string, tz: string | undefined, store: MessageStore): MessagePredicate {
  if (search.length > MAX_QUERY_LENGTH) throw new QueryError(`query is longer than ${MAX_QUERY_LENGTH} characters`);
  const zone = checkTimeZone(tz);
  const args = mailpitArgs(search);
  if (args.length > MAX_QUERY_TERMS) throw new QueryError(`query has ${args.length} terms; at most ${MAX_QUERY_TERMS} are allowed`);
  const terms: MessagePredicate[] = [];
  for (let arg of args) {
    let exclude = false;
    if (arg.length > 1 && (arg.startsWith('-') || arg.startsWith('!'))) {
      exclude = true;
      arg = arg.slice(1);
    }
    const term = mailpitTerm(arg, exclude, zone, store);
    if (term !== null) terms.push(term);
  }
  return (m) => terms.every((t) => t(m));
}

/** One argument; null when it selects nothing to filter on (an empty `to:`, as Mailpit skips it). */
function mailpitTerm(arg: string, exclude: boolean, tz: string | undefined, store: MessageStore): MessagePredicate | null {
  const lower = arg.toLowerCase();
  const colon = lower.indexOf(':');
  const prefix = colon > 0 ? lower.slice(0, colon) : '';
  const value = colon > 0 ? arg.slice(colon + 1).trim() : arg;
  const negate = (p: MessagePredicate): MessagePredicate => (exclude ? (m) => !p(m) : p);
  const viaQuery = (q: Query): MessagePredicate => negate(compileQuery(q, store));
  const like = (text: (m: StoredMessage) => string): MessagePredicate | null => {
    if (value === '') return null;
    const test = textTest(value);
    return negate((m) => test(text(m)));
  };
  switch (prefix) {
    case 'to':
      return like((m) => m.headers.to.flatMap((a) => [a.name, a.address]).join('\0'));
    case 'from':
      return like((m) => (m.headers.from ? `${m.headers.from.name}\0${m.headers.from.address}` : ''));
    case 'cc':
      return like((m) => store.searchFields(m).cc);
    case 'bcc':
      return like(bccText);
    case 'reply-to':
      return like((m) => addressText(m, 'reply-to'));
    case 'addressed':
      return like((m) => [store.searchFields(m).from, store.searchFields(m).to, bccText(m), addressText(m, 'reply-to')].join('\0'));
    case 'subject':
      return like((m) => decodeWords(store.searchFields(m).subject));
    case 'message-id':
      return like((m) => m.headers.messageId ?? '');
    case 'tag':
      return value === '' ? null : viaQuery({ kind: 'tag', value });
    case 'before':
    case 'after': {
      if (value === '') return null;
      const at = parseMailpitDate(prefix, value, tz);
      // Mailpit: after: is Created >= t, before: Created <= t; negated, the other side including t.
      const after = prefix === 'after';
      if (exclude) return after ? (m) => m.receivedAt <= at : (m) => m.receivedAt >= at;
      return after ? (m) => m.receivedAt >= at : (m) => m.receivedAt <= at;
    }
    case 'larger':
    case 'smaller': {
      let bytes: number;
      try {
        bytes = parseSize(prefix, value);
      } catch {
        bytes = 0;
      }
      // Not a size: Mailpit searches the whole argument as text.
      if (bytes > 0) {
        const larger = prefix === 'larger';
        if (exclude) return larger ? (m) => m.size < bytes : (m) => m.size > bytes;
        return larger ? (m) => m.size > bytes : (m) => m.size < bytes;
      }
      break;
    }
  }
  switch (lower) {
    case 'is:read':
      return viaQuery({ kind: 'read', read: true });
    case 'is:unread':
      return viaQuery({ kind: 'read', read: false });
    case 'is:tagged':
      return viaQuery({ kind: 'tag', value: null });
    case 'has:attachment':
    case 'has:attachments':
      return viaQuery({ kind: 'attachment' });
    case 'has:inline':
    case 'has:inlines':
      // Mailpit counts parts with a Content-ID (enmime's inlines). Walked in slices with the other
      // terms (the routes' sliced walk indexes any backlog first, so the store knows).
      return negate(hasInlinePart(store));
  }
  return arg.trim() === '' ? null : viaQuery({ kind: 'text', value: arg });
}
