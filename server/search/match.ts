// Compiles a parsed query into a predicate over stored messages. Text is matched
// case-insensitively on decoded values (RFC 2047 subjects and names are decoded at ingest, bodies
// by the store's scan), with whitespace in a phrase matching any run of whitespace.
//
// Every term costs time linear in the text it reads, whatever the query holds: a term is a
// substring search on case-folded text, never a regular expression (a 990-word phrase as
// `a\s+b\s+...` retried from every position of 32K-character subjects: 33 s on 10,000 messages).
// Header terms share one reading of a message's header block (140 header: terms each re-read
// every block: 13 s). The query's own size is bounded by the parser (server/search/query.ts).
import type { MessageStore, StoredMessage } from '../store/store.js';
import { readHeaderBlock, decodeWords, findHeaderEnd, MAX_HEADER_BLOCK } from '../mail/headers.js';
import { parseQuery, type Query } from './query.js';
import { caseless, holdsPhrase, isSpace, phraseWords } from './phrase.js';

export type MessagePredicate = (message: StoredMessage) => boolean;

/** What a compiled query reads messages through: the store, or a view of a message not stored yet (routing rules). */
export type SearchSource = Pick<MessageStore, 'searchFields' | 'body' | 'bodyCandidates' | 'plainText' | 'hasAttachments' | 'mayHaveHeader'>;

/** Compiles an already parsed query (the Mailpit compatibility layer builds its own from Mailpit's syntax). */
export function compileQuery(query: Query, store: MessageStore): MessagePredicate {
  return compile(query, store, readers(query));
}

/** Parses and compiles `q`; throws QueryError with the reason when it does not parse. */
export function compileSearch(q: string, store: SearchSource): MessagePredicate {
  const query = parseQuery(q);
  return compile(query, store, readers(query));
}

/** Whether a query selects every message, so a caller can skip the predicate (and use the store's counters). */
export function isMatchAll(q: string | undefined): boolean {
  return q === undefined || parseQuery(q).kind === 'all';
}

/** Tests text for a value, case-insensitively; whitespace in the value matches any run of it. */
export type TextTest = (text: string) => boolean;

export function textTest(value: string): TextTest {
  return wordsTest(phraseWords(value));
}

/** textTest() of a value already split by phraseWords(). */
function wordsTest(words: readonly string[]): TextTest {
  if (caseless(words)) return (text) => holdsPhrase(text, words);
  return (text) => holdsPhrase(text.toLowerCase(), words);
}

/**
 * A message's header fields read from its bytes, for a header: term without reading the block
 * (240 ms at 100,000 messages, bench: api). Only an ASCII block without encoded words is read so:
 * there a field's name and decoded value are its bytes, less the line breaks of folding, which
 * sit in runs of whitespace (a continuation line starts with one), where a phrase sees one run
 * either way. Null when the block is not such a one, or too large to be read as headers, or has
 * a continuation after a line without a name (readHeaderBlock() joins it to the field before).
 * Field i is named names[i] (lower-case, as readHeaderBlock() takes it) and its value is
 * lower.slice(starts[i], ends[i]).
 */
interface HeaderBytes {
  lower: string;
  names: string[];
  starts: number[];
  ends: number[];
}

function headerBytes(raw: Buffer): HeaderBytes | null {
  const { headerEnd } = findHeaderEnd(raw, 0, Math.min(raw.length, MAX_HEADER_BLOCK + 2));
  const text = raw.toString('latin1', 0, headerEnd);
  if (NOT_PLAIN_HEADER.test(text)) return null;
  const lower = text.toLowerCase();
  const fields: HeaderBytes = { lower, names: [], starts: [], ends: [] };
  let nameless = false;
  for (let start = 0; start < lower.length; ) {
    let end = lower.indexOf('\n', start);
    if (end < 0) end = lower.length;
    const lineEnd = end > start && lower.charCodeAt(end - 1) === 0x0d ? end - 1 : end;
    const first = lower.charCodeAt(start);
    if (lineEnd > start) {
      const count = fields.names.length;
      if ((first === 0x20 || first === 0x09) && count > 0) {
        // As readHeaderBlock: a line starting with a space or tab continues the field before it.
        if (nameless) return null;
        fields.ends[count - 1] = lineEnd;
      } else {
        const colon = lower.indexOf(':', start);
        nameless = !(colon > start && colon < lineEnd);
        if (!nameless) {
          fields.names.push(lower.slice(start, colon).trim());
          fields.starts.push(colon + 1);
          fields.ends.push(lineEnd);
        }
      }
    }
    start = end + 1;
  }
  return fields;
}
const NOT_PLAIN_HEADER = /[^\x00-\x7f]|=\?/;

/** What one query evaluation reads of a message, read once for all its terms (140 header: terms each re-read every block: 13 s). */
interface Readers {
  /** The decoded header fields. */
  headers(m: StoredMessage): ReadonlyArray<{ key: string; value: string }>;
  /** headerBytes() of the message. */
  headerBytes(m: StoredMessage): HeaderBytes | null;
  /**
   * The plain body text (SearchSource.plainText), or null when the body is not plain: 'start',
   * lower-cased up to its last whitespace within PLAIN_START bytes ('' if none); 'whole',
   * lower-cased; 'as is'.
   */
  plainBody(m: StoredMessage, store: SearchSource, part: 'start' | 'whole' | 'as is'): string | null;
  /**
   * Subject, From and To (SearchFields) in one string, joined by NUL, lower-cased or as they are,
   * or null when the query has one free-text term: then the term reads the three fields as they
   * are, where joining them would cost a copy a message (bench api, one-letter word: 11 → 24 ms).
   * Several terms read the joined text once a message, where each read and lower-cased the three
   * itself (20 terms: 60 reads a message; 233 → 174 ms). A phrase is found in the joined text
   * where it is in one of the fields: NUL is not whitespace, so a match cannot run from one field
   * into the next unless a word of the phrase holds a NUL (such a term reads each field).
   */
  fieldText(m: StoredMessage, store: SearchSource, lower: boolean): string | null;
}

/** How many free-text terms a query has (they share one reading of a message's fields when several). */
function textTerms(query: Query): number {
  switch (query.kind) {
    case 'text':
      return 1;
    case 'not':
      return textTerms(query.query);
    case 'and':
    case 'or':
      return query.queries.reduce((n, q) => n + textTerms(q), 0);
    default:
      return 0;
  }
}

function readers(query: Query): Readers {
  const shareFields = textTerms(query) > 1;
  const last = { headers: null as StoredMessage | null, bytes: null as StoredMessage | null, body: null as StoredMessage | null, fields: null as StoredMessage | null };
  let fieldsAsIs: string | undefined;
  let fieldsLower: string | undefined;
  let fields: Array<{ key: string; value: string }> = [];
  let bytes: HeaderBytes | null = null;
  let bodyStart: string | null | undefined;
  let body: string | null | undefined;
  let bodyAsIs: string | null | undefined;
  return {
    headers(m) {
      if (m !== last.headers) {
        last.headers = m;
        fields = readHeaderBlock(m.raw).fields.map((f) => ({ key: f.key, value: decodeWords(f.value) }));
      }
      return fields;
    },
    headerBytes(m) {
      if (m !== last.bytes) {
        last.bytes = m;
        bytes = headerBytes(m.raw);
      }
      return bytes;
    },
    plainBody(m, store, part) {
      if (m !== last.body) {
        last.body = m;
        bodyStart = body = bodyAsIs = undefined;
      }
      if (part === 'as is') return (bodyAsIs ??= store.plainText?.(m) ?? null);
      if (part === 'start') return (bodyStart ??= plainStart(store.plainText?.(m, PLAIN_START) ?? null));
      return (body ??= bodyAsIs === undefined ? store.plainText?.(m)?.toLowerCase() ?? null : bodyAsIs?.toLowerCase() ?? null);
    },
    fieldText(m, store, lower) {
      if (!shareFields) return null;
      if (m !== last.fields) {
        last.fields = m;
        fieldsLower = undefined;
        const f = store.searchFields(m);
        fieldsAsIs = `${f.subject}\0${f.from}\0${f.to}`;
      }
      return lower ? (fieldsLower ??= fieldsAsIs!.toLowerCase()) : fieldsAsIs!;
    },
  };
}

/**
 * A phrase is mostly found near the start of a body, or not at all: the start is lower-cased
 * first, then the whole only when the phrase is not in the start (lower-casing 2 KB was a third
 * of what checking a plain body cost, bench: api).
 */
const PLAIN_START = 512;

/**
 * The lower-cased start of a text, cut after its last whitespace: toLowerCase() of a prefix is
 * then the same as the prefix of toLowerCase() (Σ lower-cases by what follows it, up to the next
 * character that is not a letter or mark), and a phrase found in it is in the whole.
 */
function plainStart(text: string | null): string | null {
  if (text === null) return null;
  let cut = text.length;
  while (cut > 0 && !isSpace(text.charCodeAt(cut - 1))) cut--;
  return text.slice(0, cut).toLowerCase();
}

/**
 * Whether a message's body text or attachment names match. The store's word index answers
 * without reading bodies: exactly for a term of word characters, as a shortlist to check
 * otherwise (bench: a free-text search at 100,000 messages went from seconds to milliseconds).
 * A shortlisted plain body is checked on its bytes, any other is decoded (store.body).
 */
/** `words`: phraseWords(value); `re`: their wordsTest(). */
function bodyMatcher(value: string, words: readonly string[], re: TextTest, store: SearchSource, read: Readers): MessagePredicate {
  const asIs = caseless(words);
  const check = (m: StoredMessage): boolean => {
    if (asIs) {
      const text = read.plainBody(m, store, 'as is');
      if (text !== null) return holdsPhrase(text, words);
    } else {
      const start = read.plainBody(m, store, 'start');
      if (start !== null) return holdsPhrase(start, words) || holdsPhrase(read.plainBody(m, store, 'whole')!, words);
    }
    const body = store.body(m);
    return re(body.text) || body.filenames.some((f) => re(f));
  };
  let candidates: ReturnType<MessageStore['bodyCandidates']> | undefined;
  return (m) => {
    // Looked up on first use: a query whose other terms reject everything never asks.
    if (candidates === undefined) candidates = store.bodyCandidates(value);
    if (candidates === null) return check(m);
    const has = candidates.has(m);
    return has === null ? check(m) : has && (candidates.exact || check(m));
  };
}

function compile(query: Query, store: SearchSource, read: Readers): MessagePredicate {
  switch (query.kind) {
    case 'all':
      return () => true;
    case 'text': {
      const words = phraseWords(query.value);
      const re = wordsTest(words);
      const body = bodyMatcher(query.value, words, re, store, read);
      const lower = !caseless(words);
      const joinable = !words.some((w) => w.includes('\0'));
      return (m) => {
        const joined = joinable ? read.fieldText(m, store, lower) : null;
        if (joined !== null) return holdsPhrase(joined, words) || body(m);
        const f = store.searchFields(m);
        return re(f.subject) || re(f.from) || re(f.to) || body(m);
      };
    }
    case 'field': {
      const re = textTest(query.value);
      // The store keeps these per message, the parts of each joined by NUL (see SearchFields).
      switch (query.field) {
        case 'from':
          return (m) => re(store.searchFields(m).from);
        case 'to':
          // Envelope recipients too: that is the only place a Bcc recipient appears.
          return (m) => re(store.searchFields(m).to);
        case 'cc':
          return (m) => re(store.searchFields(m).cc);
        case 'subject':
          return (m) => re(store.searchFields(m).subject);
        case 'inbox': {
          // Exact, as the inbox parameter is: names are case-sensitive, so inbox:S is not inbox s.
          const inbox = query.value;
          return (m) => m.inbox === inbox;
        }
        case 'via': {
          // The provider API a message came through (envelope.via): sendgrid, postmark, mailgun, ses, resend.
          const via = query.value.toLowerCase();
          return (m) => m.envelope.via === via;
        }
      }
      break;
    }
    case 'header': {
      const { name } = query;
      const words = query.value === null ? null : phraseWords(query.value);
      const re = words === null ? null : wordsTest(words);
      // Ruled out on the block's bytes where they are its text, else read.
      const inBlock = (m: StoredMessage): boolean => {
        if (store.mayHaveHeader?.(m, name) === false) return false;
        // Read from the bytes where they are the fields (see headerBytes), else from the parsed block.
        const bytes = read.headerBytes(m);
        if (bytes === null) return read.headers(m).some((f) => f.key === name && (re === null || re(f.value)));
        const { names, starts, ends, lower } = bytes;
        for (let i = 0; i < names.length; i++) {
          if (names[i] === name && (words === null || holdsPhrase(lower.slice(starts[i], ends[i]), words))) return true;
        }
        return false;
      };
      // The Message-ID is kept among the search fields (as `<id>`); a message without one that
      // reads is looked at in its header block, where an unreadable one may still be.
      if (name === 'message-id') {
        return (m) => {
          const id = store.searchFields(m).messageId;
          return id === '' ? inBlock(m) : re === null || re(id);
        };
      }
      // Only the common headers are summarized at ingest; any other is read from the raw block.
      return inBlock;
    }
    case 'attachment':
      return (m) => store.hasAttachments?.(m) ?? store.body(m).attachments > 0;
    case 'read': {
      const { read } = query;
      return (m) => m.read === read;
    }
    case 'tag': {
      if (query.value === null) return (m) => m.tags.length > 0;
      const tag = query.value.toLowerCase();
      return (m) => m.tags.some((t) => t.toLowerCase() === tag);
    }
    case 'time': {
      const { at } = query;
      return query.op === 'before' ? (m) => m.receivedAt < at : (m) => m.receivedAt >= at;
    }
    case 'size': {
      const { bytes } = query;
      return query.op === 'larger' ? (m) => m.size > bytes : (m) => m.size < bytes;
    }
    case 'not': {
      const inner = compile(query.query, store, read);
      return (m) => !inner(m);
    }
    case 'and': {
      const all = query.queries.map((q) => compile(q, store, read));
      return (m) => all.every((p) => p(m));
    }
    case 'or': {
      const any = query.queries.map((q) => compile(q, store, read));
      return (m) => any.some((p) => p(m));
    }
  }
  throw new Error('unreachable');
}
