// Compiles a parsed query into a predicate over stored messages. Text is matched
// case-insensitively on decoded values (RFC 2047 subjects and names are decoded at ingest, bodies
// by the store's scan), with whitespace in a phrase matching any run of whitespace.
import type { MessageStore, StoredMessage } from '../store/store.js';
import type { Address } from '../store/types.js';
import { readHeaderBlock, decodeWords } from '../mail/headers.js';
import { parseQuery, type Query } from './query.js';

export type MessagePredicate = (message: StoredMessage) => boolean;

/** Parses and compiles `q`; throws QueryError with the reason when it does not parse. */
export function compileSearch(q: string, store: MessageStore): MessagePredicate {
  return compile(parseQuery(q), store);
}

/** Whether a query selects every message, so a caller can skip the predicate (and use the store's counters). */
export function isMatchAll(q: string | undefined): boolean {
  return q === undefined || parseQuery(q).kind === 'all';
}

function pattern(value: string): RegExp {
  const escaped = value.trim().replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\s+/g, '\\s+');
  return new RegExp(escaped, 'iu');
}

function addressMatches(re: RegExp, a: Address | null): boolean {
  return a !== null && (re.test(a.address) || re.test(a.name));
}

function compile(query: Query, store: MessageStore): MessagePredicate {
  switch (query.kind) {
    case 'all':
      return () => true;
    case 'text': {
      const re = pattern(query.value);
      return (m) => {
        const h = m.headers;
        if (re.test(h.subject) || addressMatches(re, h.from) || h.to.some((a) => addressMatches(re, a)) || h.cc.some((a) => addressMatches(re, a))) return true;
        if (re.test(m.envelope.mailFrom) || m.envelope.rcptTo.some((r) => re.test(r))) return true;
        const body = store.body(m);
        return re.test(body.text) || body.filenames.some((f) => re.test(f));
      };
    }
    case 'field': {
      const re = pattern(query.value);
      switch (query.field) {
        case 'from':
          return (m) => addressMatches(re, m.headers.from) || re.test(m.envelope.mailFrom);
        case 'to':
          // Envelope recipients too: that is the only place a Bcc recipient appears.
          return (m) =>
            m.headers.to.some((a) => addressMatches(re, a)) || m.headers.cc.some((a) => addressMatches(re, a)) || m.envelope.rcptTo.some((r) => re.test(r));
        case 'cc':
          return (m) => m.headers.cc.some((a) => addressMatches(re, a));
        case 'subject':
          return (m) => re.test(m.headers.subject);
        case 'inbox': {
          const inbox = query.value.toLowerCase();
          return (m) => m.inbox.toLowerCase() === inbox;
        }
      }
      break;
    }
    case 'header': {
      const { name } = query;
      const re = query.value === null ? null : pattern(query.value);
      // Only the common headers are summarized at ingest; any other is read from the raw block.
      return (m) => readHeaderBlock(m.raw).fields.some((f) => f.key === name && (re === null || re.test(decodeWords(f.value))));
    }
    case 'attachment':
      return (m) => store.body(m).attachments > 0;
    case 'read': {
      const { read } = query;
      return (m) => m.read === read;
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
      const inner = compile(query.query, store);
      return (m) => !inner(m);
    }
    case 'and': {
      const all = query.queries.map((q) => compile(q, store));
      return (m) => all.every((p) => p(m));
    }
    case 'or': {
      const any = query.queries.map((q) => compile(q, store));
      return (m) => any.some((p) => p(m));
    }
  }
  throw new Error('unreachable');
}
