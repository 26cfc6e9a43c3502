// The search language of `q`, parsed into a small tree. Syntax (documented in README, "Search syntax"):
//   words and "quoted phrases"; field:value terms; -term negates; OR between terms; ( ) groups;
//   terms side by side must all match. Anything that does not parse is a QueryError with a reason.

export class QueryError extends Error {}

export type Field = 'from' | 'to' | 'cc' | 'subject' | 'inbox' | 'via' | 'tag' | 'header' | 'has' | 'is' | 'before' | 'after' | 'larger' | 'smaller';

export type Query =
  | { kind: 'all' }
  | { kind: 'text'; value: string }
  | { kind: 'field'; field: 'from' | 'to' | 'cc' | 'subject' | 'inbox' | 'via'; value: string }
  | { kind: 'header'; name: string; value: string | null }
  | { kind: 'attachment' }
  | { kind: 'read'; read: boolean }
  /** A tag, whole and case-insensitive (as Mailpit matches tag:); null: any tag (is:tagged). */
  | { kind: 'tag'; value: string | null }
  | { kind: 'time'; op: 'before' | 'after'; at: number }
  | { kind: 'size'; op: 'larger' | 'smaller'; bytes: number }
  | { kind: 'not'; query: Query }
  | { kind: 'and'; queries: Query[] }
  | { kind: 'or'; queries: Query[] };

const FIELDS = new Set<string>(['from', 'to', 'cc', 'subject', 'inbox', 'via', 'tag', 'header', 'has', 'is', 'before', 'after', 'larger', 'smaller']);

/** A query longer than this is someone's mistake, not a search. */
export const MAX_QUERY_LENGTH = 2000;
const MAX_DEPTH = 32;
/**
 * Terms in one query. Each term is a pass over the messages (and a text term a walk of the body
 * index's vocabulary), so the count bounds what one request can cost; real searches use a few.
 */
export const MAX_QUERY_TERMS = 20;

type Token =
  | { t: 'word'; value: string; quoted: boolean; negated: boolean; field: string | null }
  | { t: 'or' }
  | { t: 'open'; negated: boolean }
  | { t: 'close' };

export function parseQuery(input: string): Query {
  if (input.length > MAX_QUERY_LENGTH) throw new QueryError(`query is longer than ${MAX_QUERY_LENGTH} characters`);
  const tokens = tokenize(input);
  if (tokens.length === 0) return { kind: 'all' };
  const terms = tokens.filter((t) => t.t === 'word').length;
  if (terms > MAX_QUERY_TERMS) throw new QueryError(`query has ${terms} terms; at most ${MAX_QUERY_TERMS} are allowed (a search is a few words or fields)`);
  const parser = new Parser(tokens);
  const query = parser.orExpr(0);
  if (!parser.done()) throw new QueryError(UNEXPECTED_CLOSE);
  return query;
}

const UNEXPECTED_CLOSE = 'unexpected ")" with no "(" before it';

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = input.length;
  const isSpace = (c: string | undefined): boolean => c !== undefined && /\s/.test(c);
  while (i < n) {
    const c = input[i]!;
    if (isSpace(c)) {
      i++;
      continue;
    }
    let negated = false;
    if (c === '-' && i + 1 < n && !isSpace(input[i + 1])) {
      negated = true;
      i++;
    }
    if (input[i] === '(') {
      tokens.push({ t: 'open', negated });
      i++;
      continue;
    }
    if (input[i] === ')') {
      if (negated) throw new QueryError('"-" must come before a term');
      tokens.push({ t: 'close' });
      i++;
      continue;
    }
    // A field name is letters then ":"; header: takes "Name:" as part of its value. A URL
    // ("https://...") is not a field: tests search for the links they expect in a body.
    let field: string | null = null;
    const m = /^([A-Za-z]+):(?!\/\/)/.exec(input.slice(i, i + 18));
    if (m) {
      const name = m[1]!.toLowerCase();
      if (!FIELDS.has(name)) {
        throw new QueryError(`unknown field "${m[1]}:"; fields are ${[...FIELDS].join(', ')} (quote the word to search for it as text)`);
      }
      field = name;
      i += m[0].length;
    }
    let value = '';
    let quoted = false;
    // The value: runs of plain characters and quoted stretches, up to a space or ")".
    while (i < n && !isSpace(input[i]) && input[i] !== ')') {
      if (input[i] === '"') {
        const close = input.indexOf('"', i + 1);
        if (close < 0) throw new QueryError('unclosed quote (")');
        value += input.slice(i + 1, close);
        quoted = true;
        i = close + 1;
      } else if (input[i] === '(' && value === '' && field === null) {
        break;
      } else {
        value += input[i];
        i++;
      }
    }
    if (field === null && !quoted && !negated && value === 'OR') {
      tokens.push({ t: 'or' });
      continue;
    }
    // An empty pattern matches every message: `DELETE ?q=""` would have emptied the store.
    if (value.trim() === '' && (quoted || field !== null)) {
      throw new QueryError(field === null ? 'an empty phrase ("") would match every message; put words between the quotes' : `"${field}:" needs a value`);
    }
    if (field === null && value === '' && !quoted) {
      if (negated) throw new QueryError('"-" must come before a term');
      continue;
    }
    tokens.push({ t: 'word', value, quoted, negated, field });
  }
  return tokens;
}

class Parser {
  #pos = 0;
  constructor(private readonly tokens: Token[]) {}

  done(): boolean {
    return this.#pos >= this.tokens.length;
  }

  orExpr(depth: number): Query {
    if (depth > MAX_DEPTH) throw new QueryError(`parentheses nested deeper than ${MAX_DEPTH}`);
    const alternatives = [this.andExpr(depth)];
    while (this.tokens[this.#pos]?.t === 'or') {
      this.#pos++;
      alternatives.push(this.andExpr(depth));
    }
    return alternatives.length === 1 ? alternatives[0]! : { kind: 'or', queries: alternatives };
  }

  andExpr(depth: number): Query {
    const terms: Query[] = [];
    for (;;) {
      const tok = this.tokens[this.#pos];
      if (tok === undefined || tok.t === 'close' || tok.t === 'or') break;
      this.#pos++;
      if (tok.t === 'open') {
        const inner = this.orExpr(depth + 1);
        if (this.tokens[this.#pos]?.t !== 'close') throw new QueryError('unclosed "("');
        this.#pos++;
        terms.push(tok.negated ? { kind: 'not', query: inner } : inner);
      } else {
        const term = toTerm(tok.field, tok.value);
        terms.push(tok.negated ? { kind: 'not', query: term } : term);
      }
    }
    if (terms.length === 0) throw new QueryError(this.#noTermReason());
    return terms.length === 1 ? terms[0]! : { kind: 'and', queries: terms };
  }

  /** Why there is no term where one must be, from the tokens either side of the gap. */
  #noTermReason(): string {
    const next = this.tokens[this.#pos]?.t;
    const previous = this.tokens[this.#pos - 1]?.t;
    if (next === 'or' || previous === 'or') return '"OR" needs a term on both sides';
    if (previous === 'open') return next === 'close' ? 'empty group "()"' : 'unclosed "("';
    return UNEXPECTED_CLOSE;
  }
}

function toTerm(field: string | null, value: string): Query {
  switch (field) {
    case null:
      return { kind: 'text', value };
    case 'from':
    case 'to':
    case 'cc':
    case 'subject':
    case 'inbox':
    case 'via':
      return { kind: 'field', field, value };
    case 'header': {
      const colon = value.indexOf(':');
      const name = (colon < 0 ? value : value.slice(0, colon)).trim();
      if (!/^[!-9;-~]+$/.test(name)) throw new QueryError(`"header:" needs a header name, as in header:X-Mailer:value`);
      return { kind: 'header', name: name.toLowerCase(), value: colon < 0 || value.slice(colon + 1) === '' ? null : value.slice(colon + 1) };
    }
    case 'tag':
      return { kind: 'tag', value };
    case 'has':
      if (/^attachments?$/i.test(value)) return { kind: 'attachment' };
      throw new QueryError(`"has:${value}" is not known; use has:attachment`);
    case 'is':
      if (/^read$/i.test(value)) return { kind: 'read', read: true };
      if (/^unread$/i.test(value)) return { kind: 'read', read: false };
      if (/^tagged$/i.test(value)) return { kind: 'tag', value: null };
      throw new QueryError(`"is:${value}" is not known; use is:read, is:unread or is:tagged`);
    case 'before':
    case 'after':
      return { kind: 'time', op: field, at: parseInstant(field, value) };
    case 'larger':
    case 'smaller':
      return { kind: 'size', op: field, bytes: parseSize(field, value) };
    default:
      throw new QueryError(`unknown field "${field}:"`);
  }
}

/**
 * A date (midnight UTC), a date and time (UTC unless it has an offset), or an epoch number: up to
 * 10 digits is seconds (`date +%s`, `int(time.time())`), 13 digits milliseconds (`Date.now()`).
 * Read as milliseconds, a seconds value is a moment in January 1970 and matched every message.
 * 11, 12 and 14+ digits are neither in any year anyone tests in, so they are refused, not guessed.
 */
export function parseInstant(field: string, value: string): number {
  let t = Number.NaN;
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) t = Date.parse(value + 'T00:00:00Z');
  else if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2})?$/i.test(value)) {
    const iso = value.replace(' ', 'T');
    t = Date.parse(/(Z|[+-]\d{2}:?\d{2})$/i.test(iso) ? iso : iso + 'Z');
  } else if (/^\d{1,10}$/.test(value)) t = Number(value) * 1000;
  else if (/^\d{13}$/.test(value)) t = Number(value);
  if (!Number.isFinite(t)) {
    throw new QueryError(`"${field}:${value}" is not a date; use 2024-05-31, 2024-05-31T14:30:00Z, epoch seconds (10 digits) or epoch milliseconds (13 digits)`);
  }
  return t;
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, m: 1024 ** 2, mb: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3 };

export function parseSize(field: string, value: string): number {
  const m = /^(\d+(?:\.\d+)?)([a-z]*)$/i.exec(value);
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new QueryError(`"${field}:${value}" is not a size; use 2048, 10KB, 1.5MB`);
  return Math.round(Number(m[1]) * unit);
}
