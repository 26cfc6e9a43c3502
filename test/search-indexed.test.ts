// The search's shortcuts must give the plain scan's answers: a plain body matched on its bytes
// (server/store/plain-body.ts), header: terms ruled out on the block's bytes and names,
// has:attachment from what indexing counted, phrases found without folding (phrase.ts), and the
// sliced walk (sliced-match.ts). Checked on the real-world corpus and on generated messages made
// to sit on the edges (charsets, encodings, folding, encoded words, non-ASCII headers), with
// queries drawn from the messages themselves, before indexing and after it.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStore } from '../server/store/memory-store.js';
import type { StoredMessage } from '../server/store/store.js';
import { compileQuery, compileSearch } from '../server/search/match.js';
import { parseQuery, type Query } from '../server/search/query.js';
import { sliceMatch } from '../server/search/sliced-match.js';
import { readHeaderBlock, decodeWords } from '../server/mail/headers.js';
import { loadCorpus } from './helpers/corpus.js';

const ENVELOPE = { mailFrom: 'a@example.test', rcptTo: ['b@example.test'], helo: 'x', remoteAddress: '127.0.0.1', authUser: null, tls: false };

/** The text match by its definition: fold whitespace runs, then includes. */
function definitionTest(value: string): (text: string) => boolean {
  const needle = value.trim().toLowerCase().replace(/\s+/g, ' ');
  return (text) => text.toLowerCase().replace(/\s+/g, ' ').includes(needle);
}

/** The plain scan: every body decoded, every header block read. */
function reference(query: Query, store: MemoryStore): (m: StoredMessage) => boolean {
  switch (query.kind) {
    case 'text': {
      const t = definitionTest(query.value);
      return (m) => {
        const f = store.searchFields(m);
        const b = store.body(m);
        return t(f.subject) || t(f.from) || t(f.to) || t(b.text) || b.filenames.some(t);
      };
    }
    case 'header': {
      if (query.name === 'message-id') return compileQuery(query, store);
      const { name } = query;
      const t = query.value === null ? null : definitionTest(query.value);
      return (m) => readHeaderBlock(m.raw).fields.some((f) => f.key === name && (t === null || t(decodeWords(f.value))));
    }
    case 'attachment':
      return (m) => store.body(m).attachments > 0;
    case 'not': {
      const inner = reference(query.query, store);
      return (m) => !inner(m);
    }
    case 'and': {
      const all = query.queries.map((q) => reference(q, store));
      return (m) => all.every((p) => p(m));
    }
    case 'or': {
      const any = query.queries.map((q) => reference(q, store));
      return (m) => any.some((p) => p(m));
    }
    default:
      return compileQuery(query, store);
  }
}

const crlf = (s: string): Buffer => Buffer.from(s.replace(/\r?\n/g, '\r\n'), 'utf8');

/** Messages on the edges of the shortcuts. */
function generated(): Buffer[] {
  const out: Buffer[] = [];
  const plainHead = (extra = ''): string => `From: "Edge" <edge@example.test>\nTo: x@example.test\nSubject: edge case\n${extra}`;
  out.push(crlf(`${plainHead()}\nHello, order 7 has\t  shipped.\nSecond   line, with  runs.\n`));
  out.push(crlf(`${plainHead('Content-Type: text/plain; charset=utf-8\n')}\nGrüße aus Köln, İstanbul and the \u212aelvin sign. ΟΔΟΣ end.\n`));
  out.push(Buffer.concat([crlf(`${plainHead('Content-Type: text/plain; charset=iso-8859-1\n')}\n`), Buffer.from('Caf\xe9 cr\xe8me, na\xefve r\xe9sum\xe9.\r\n', 'latin1')]));
  out.push(crlf(`${plainHead('Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n')}\nSoft=\nbreak and caf=C3=A9 =3D equals.\n`));
  out.push(crlf(`${plainHead('Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n')}\n${Buffer.from('Base64 body, hidden words. Hello, order.').toString('base64')}\n`));
  out.push(crlf(`${plainHead('Content-Type: text/html; charset=utf-8\n')}\n<p>Hello,<b>order</b> in <a href="https://shop.example/track?id=1">html</a></p>\n`));
  out.push(crlf(`${plainHead('Content-Type: text/plain; charset=utf-16le\n')}\n`));
  out.push(crlf(`${plainHead('Content-Disposition: attachment; filename="report.txt"\n')}\nattached, not body text.\n`));
  out.push(
    crlf(
      `${plainHead('MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b1"\n')}\n--b1\nContent-Type: text/plain\n\nThe text part, hello order.\n--b1\nContent-Type: application/pdf; name="invoice-7.pdf"\nContent-Transfer-Encoding: base64\n\nJVBERi0=\n--b1--\n`,
    ),
  );
  // Headers: folded, encoded words, non-ASCII bytes, odd spacing, a continuation before any field.
  out.push(crlf(`X-Folded: first part\n   second\tpart\nX-Spaced   :  value here\nX-Encoded: =?utf-8?q?caf=C3=A9_au_lait?=\nSubject: =?utf-8?b?${Buffer.from('Résumé attached').toString('base64')}?=\n\nbody\n`));
  out.push(crlf(`X-Utf8: Grüße \u212aelvin\nX-\u212aey: kelvin name\nSubject: utf8 header\n\nbody with x-nothing in it\n`));
  out.push(crlf(` X-Leading: continuation first\nX-Real: yes\n\nbody\n`));
  out.push(crlf(`\nno headers at all, x-real: in the body\n`));
  out.push(Buffer.from('X-Bare-LF: yes\nSubject: bare line feeds\n\nHello,\norder\n', 'latin1'));
  return out;
}

/** Queries drawn from what a message holds: its words, phrases, header names and values. */
function queriesFor(messages: StoredMessage[], store: MemoryStore): string[] {
  const queries = new Set<string>([
    '"."',
    '","',
    '"@"',
    '"-"',
    'e',
    '"hello, order"',
    '"Hello,  order"',
    'has:attachment',
    '-has:attachment',
    'header:X-Nothing',
    'header:x-real',
    'header:X-Folded:"part second"',
    'header:X-Folded:"part  second part"',
    'header:x-spaced:value',
    'header:X-Encoded:café',
    'header:subject:résumé',
    'header:X-Utf8:kelvin',
    'header:x-key',
    'header:x-leading',
    'header:content-type:text/plain',
    '-"hello, order" OR header:x-real',
    '"café crème" OR "caf"',
    '"grüße aus" İstanbul',
    // Several free-text terms read Subject, From and To joined by NUL (one term reads each field):
    // no phrase may run from one into the next, either way.
    '"case edge"',
    '"case edge" OR "case\tedge"',
    '"example.test edge" OR "zz"',
    'edge case -"~" -"^" -"|" "."',
    'EDGE -"zz" Case',
    // Punctuation rules out the bodies without it (the store keeps which of 30 characters a body
    // holds): every such character, alone, negated, and in terms the word index narrows too.
    ...[...'!#$%&\'()*+,-./:;<=>?@[\\]^`{|}~'].flatMap((c) => [`"${c}"`, `-"${c}"`]),
    '"_"',
    '"http://" OR "https://"',
    '"?token="',
    '"mailto:"',
    'café.',
    '"(a)"',
  ]);
  let k = 0;
  for (const m of messages) {
    if (k++ % 8 !== 0) continue;
    const words = store.body(m).text.split(/\s+/).filter((w) => w !== '' && !w.includes('"'));
    if (words.length >= 2) {
      const at = (k * 7) % Math.max(1, words.length - 1);
      queries.add(`"${words.slice(at, at + 2).join(' ')}"`);
      queries.add(`"${words.slice(at, at + 3).join('\t ')}"`);
      queries.add(`-"${words[at]}"`);
    }
    for (const f of readHeaderBlock(m.raw).fields.slice(0, 4)) {
      if (!/^[!-9;-~]+$/.test(f.key)) continue;
      queries.add(`header:${f.key}`);
      const valueWords = decodeWords(f.value).split(/\s+/).filter((w) => w !== '' && !w.includes('"'));
      if (valueWords.length > 0) queries.add(`header:${f.name}:"${valueWords.slice(0, 2).join(' ')}"`);
    }
  }
  return [...queries];
}

function ids(store: MemoryStore, match: (m: StoredMessage) => boolean): string[] {
  return store.list({ match, limit: 1_000_000 }).messages.map((m) => m.id);
}

describe('indexed search answers as the plain scan', () => {
  let raws: Buffer[];
  before(() => {
    raws = [...generated(), ...loadCorpus().map((c) => c.raw)];
  });

  for (const when of ['before indexing', 'after indexing'] as const) {
    it(`on the corpus and generated messages, ${when}`, async () => {
      const store = new MemoryStore({ maxMessages: 0, maxBytes: 0 });
      for (const raw of raws) store.add({ raw, inbox: 'default', envelope: ENVELOPE });
      if (when === 'after indexing') await store.settled();
      const all: StoredMessage[] = [];
      store.forEachNewest((m) => void all.push(m));
      const queries = queriesFor(all, store);
      assert.ok(queries.length > 150, `${queries.length} queries`);
      let nonEmpty = 0;
      const expected = new Map<string, string[]>();
      for (const q of queries) {
        let query: Query;
        try {
          query = parseQuery(q);
        } catch {
          continue;
        }
        const answer = ids(store, reference(query, store));
        expected.set(q, answer);
        assert.deepEqual(ids(store, compileSearch(q, store)), answer, q);
        if (answer.length > 0) nonEmpty++;
      }
      // After: the sliced walk indexes what is not indexed yet before it walks.
      for (const [q, answer] of expected) assert.deepEqual(ids(store, await sliceMatch(store, compileSearch(q, store), { sliceMs: 1, budgetMs: Infinity })), answer, `${q}, sliced`);
      assert.ok(nonEmpty > queries.length / 2, `most queries find something (${nonEmpty} of ${queries.length})`);
    });
  }

  it('takes most generated plain mail through the shortcut (the comparison covers it)', async () => {
    const store = new MemoryStore({ maxMessages: 0, maxBytes: 0 });
    const plain = generated().slice(0, 3).map((raw) => store.add({ raw, inbox: 'default', envelope: ENVELOPE }));
    await store.settled();
    for (const m of plain) assert.equal(store.plainText(m), store.body(m).text);
  });
});
