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
import { readHeaderBlock, decodeWords } from '../mail/headers.js';
import { parseQuery, type Query } from './query.js';

export type MessagePredicate = (message: StoredMessage) => boolean;

/** What a compiled query reads messages through: the store, or a view of a message not stored yet (routing rules). */
export type SearchSource = Pick<MessageStore, 'searchFields' | 'body' | 'bodyCandidates'>;

/** Compiles an already parsed query (the Mailpit compatibility layer builds its own from Mailpit's syntax). */
export function compileQuery(query: Query, store: MessageStore): MessagePredicate {
  return compile(query, store, headerReader());
}

/** Parses and compiles `q`; throws QueryError with the reason when it does not parse. */
export function compileSearch(q: string, store: SearchSource): MessagePredicate {
  return compile(parseQuery(q), store, headerReader());
}

/** Whether a query selects every message, so a caller can skip the predicate (and use the store's counters). */
export function isMatchAll(q: string | undefined): boolean {
  return q === undefined || parseQuery(q).kind === 'all';
}

/** Tests text for a value, case-insensitively; whitespace in the value matches any run of it. */
export type TextTest = (text: string) => boolean;

/** Whitespace that is not a lone space: only then does a phrase need the text's runs folded. */
const FOLDABLE_SPACE = /[^\S ]|  /;

export function textTest(value: string): TextTest {
  const trimmed = value.trim();
  if (!/\s/.test(trimmed)) {
    const needle = trimmed.toLowerCase();
    return (text) => text.toLowerCase().includes(needle);
  }
  const needle = trimmed.toLowerCase().replace(/\s+/g, ' ');
  // Most text has single spaces only: folding it is then just lower-casing.
  return (text) => {
    const lower = text.toLowerCase();
    return (FOLDABLE_SPACE.test(lower) ? lower.replace(/\s+/g, ' ') : lower).includes(needle);
  };
}

/** The decoded header fields of one message, read once per query evaluation for all its header: terms. */
function headerReader(): (m: StoredMessage) => ReadonlyArray<{ key: string; value: string }> {
  let last: StoredMessage | null = null;
  let fields: Array<{ key: string; value: string }> = [];
  return (m) => {
    if (m !== last) {
      last = m;
      fields = readHeaderBlock(m.raw).fields.map((f) => ({ key: f.key, value: decodeWords(f.value) }));
    }
    return fields;
  };
}

/**
 * Whether a message's body text or attachment names match. The store's word index answers
 * without reading bodies: exactly for a term of word characters, as a shortlist to check
 * otherwise (bench: a free-text search at 100,000 messages went from seconds to milliseconds).
 */
function bodyMatcher(value: string, re: TextTest, store: SearchSource): MessagePredicate {
  const read = (m: StoredMessage): boolean => {
    const body = store.body(m);
    return re(body.text) || body.filenames.some((f) => re(f));
  };
  let candidates: ReturnType<MessageStore['bodyCandidates']> | undefined;
  return (m) => {
    // Looked up on first use: a query whose other terms reject everything never asks.
    if (candidates === undefined) candidates = store.bodyCandidates(value);
    if (candidates === null) return read(m);
    const has = candidates.has(m);
    return has === null ? read(m) : has && (candidates.exact || read(m));
  };
}

function compile(query: Query, store: SearchSource, headers: ReturnType<typeof headerReader>): MessagePredicate {
  switch (query.kind) {
    case 'all':
      return () => true;
    case 'text': {
      const re = textTest(query.value);
      const body = bodyMatcher(query.value, re, store);
      return (m) => {
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
      const re = query.value === null ? null : textTest(query.value);
      const inBlock = (m: StoredMessage): boolean => headers(m).some((f) => f.key === name && (re === null || re(f.value)));
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
      return (m) => store.body(m).attachments > 0;
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
      return query.op === 'larger' ? (m) => m.raw.length > bytes : (m) => m.raw.length < bytes;
    }
    case 'not': {
      const inner = compile(query.query, store, headers);
      return (m) => !inner(m);
    }
    case 'and': {
      const all = query.queries.map((q) => compile(q, store, headers));
      return (m) => all.every((p) => p(m));
    }
    case 'or': {
      const any = query.queries.map((q) => compile(q, store, headers));
      return (m) => any.some((p) => p(m));
    }
  }
  throw new Error('unreachable');
}
