// A rule's match, compiled into a predicate over what one SMTP stage knows of the transaction.
// The terms mean what they mean in search (server/search/match.ts), with the same linear text
// test; validation (model.ts) has already refused terms the stage cannot know.
import { textTest } from '../search/match.js';
import type { Query } from '../search/query.js';
import { readHeaderBlock, decodeWords, type HeaderBlock } from '../mail/headers.js';
import { summarizeHeaders, type HeaderSummary } from '../mail/summary.js';
import { scanBody, type BodyScan } from '../mail/scan.js';
import type { Address } from '../store/types.js';

/** What a stage knows: connect and ehlo only the client, auth its user, then the envelope, then the message. */
export interface RuleContext {
  /** The client's IP address. */
  remoteAddress: string;
  /**
   * The inboxes the mail goes to, as far as the stage knows (empty before AUTH is possible):
   * asked only when a rule is scoped to an inbox or matches inbox:, as routing may be worked out.
   */
  inboxes: () => readonly string[];
  /** MAIL FROM, once given ('' for the null sender). */
  mailFrom: string | null;
  /** At rcpt: the recipient being tried. At data: every accepted one. */
  rcptTo: readonly string[];
  /** At data: the message as received. */
  raw: Buffer | null;
}

export type ContextPredicate = (ctx: RuleContext, message: MessageView) => boolean;

/** The message at data, read lazily and once per evaluation however many rules look at it. */
export class MessageView {
  #headers: HeaderSummary | null = null;
  #block: HeaderBlock | null = null;
  #fields: Array<{ key: string; value: string }> | null = null;
  #body: BodyScan | null = null;
  constructor(readonly raw: Buffer | null) {}

  get block(): HeaderBlock {
    return (this.#block ??= readHeaderBlock(this.raw ?? Buffer.alloc(0)));
  }
  get headers(): HeaderSummary {
    return (this.#headers ??= summarizeHeaders(this.raw ?? Buffer.alloc(0), this.block));
  }
  get fields(): Array<{ key: string; value: string }> {
    return (this.#fields ??= this.block.fields.map((f) => ({ key: f.key, value: decodeWords(f.value) })));
  }
  get body(): BodyScan {
    return (this.#body ??= scanBody(this.raw ?? Buffer.alloc(0), this.block));
  }
}

const joinAddresses = (list: readonly (Address | null)[]): string =>
  list.flatMap((a) => (a === null ? [] : [a.name, a.address])).join('\0');

export function compileMatch(query: Query): ContextPredicate {
  switch (query.kind) {
    case 'all':
      return () => true;
    case 'text': {
      const t = textTest(query.value);
      return (_c, m) => {
        const h = m.raw === null ? null : m.headers;
        if (h === null) return false;
        return t(h.subject) || t(joinAddresses([h.from])) || t(joinAddresses([...h.to, ...h.cc])) || t(m.body.text) || m.body.filenames.some((f) => t(f));
      };
    }
    case 'field': {
      const t = textTest(query.value);
      switch (query.field) {
        case 'from':
          // MAIL FROM at mail and rcpt; at data the From header as well, as in search.
          return (c, m) => t([c.mailFrom ?? '', m.raw === null ? '' : joinAddresses([m.headers.from])].join('\0'));
        case 'to':
          // At rcpt, the recipient being tried: a rule can refuse one recipient of three.
          return (c, m) => t([...c.rcptTo, m.raw === null ? '' : joinAddresses([...m.headers.to, ...m.headers.cc])].join('\0'));
        case 'cc':
          return (_c, m) => m.raw !== null && t(joinAddresses(m.headers.cc));
        case 'subject':
          return (_c, m) => m.raw !== null && t(m.headers.subject);
        case 'inbox': {
          // Exact, as in search: inbox names are case-sensitive.
          const inbox = query.value;
          return (c) => c.inboxes().includes(inbox);
        }
        case 'via':
          return () => false;
      }
      break;
    }
    case 'header': {
      const { name } = query;
      const t = query.value === null ? null : textTest(query.value);
      return (_c, m) => m.raw !== null && m.fields.some((f) => f.key === name && (t === null || t(f.value)));
    }
    case 'attachment':
      return (_c, m) => m.raw !== null && m.body.attachments > 0;
    case 'size': {
      const { bytes } = query;
      return query.op === 'larger' ? (_c, m) => (m.raw?.length ?? 0) > bytes : (_c, m) => m.raw !== null && m.raw.length < bytes;
    }
    case 'read':
    case 'time':
      // Refused by validation: they describe stored mail.
      return () => false;
    case 'not': {
      const inner = compileMatch(query.query);
      return (c, m) => !inner(c, m);
    }
    case 'and': {
      const all = query.queries.map(compileMatch);
      return (c, m) => all.every((p) => p(c, m));
    }
    case 'or': {
      const any = query.queries.map(compileMatch);
      return (c, m) => any.some((p) => p(c, m));
    }
  }
  throw new Error('unreachable');
}
