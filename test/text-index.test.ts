// The body word index's own hash table (server/store/text-index.ts): words are read and compared
// in place for ASCII text, as strings for the rest, and both must land on the same entry.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TextIndex, punctuationAllows, punctuationOf } from '../server/store/text-index.js';
import { detach } from '../server/store/detach.js';

function seqsOf(index: TextIndex, term: string, end = 1000): number[] {
  const found = index.lookup(term, 0, end);
  assert.ok(found, `a lookup for ${term}`);
  const seqs: number[] = [];
  for (let seq = 0; seq < end; seq++) if (found.seqs.has(seq)) seqs.push(seq);
  return seqs;
}

describe('text index', () => {
  it('keeps two words apart whose hashes are equal ("gwzx" and "16cd" share an FNV-1a hash)', () => {
    const index = new TextIndex();
    index.add(1, 'gwzx');
    index.add(2, '16cd');
    index.add(3, 'GWZX and 16CD');
    assert.deepEqual(seqsOf(index, 'gwzx'), [1, 3]);
    assert.deepEqual(seqsOf(index, '16cd'), [2, 3]);
    assert.equal(index.size, 3);
  });

  it('lower-cases ASCII words as it reads them, and splits on everything but letters, digits and _', () => {
    const index = new TextIndex();
    index.add(1, 'Reset-Password: HTTPS://Example.test/reset?token=AbC_123');
    assert.deepEqual(seqsOf(index, 'abc_123'), [1]);
    assert.deepEqual(seqsOf(index, 'password'), [1]);
    assert.deepEqual(seqsOf(index, 'EXAMPLE'), [1]);
    assert.equal(index.lookup('reset-password', 0, 10)!.exact, false, 'a term with punctuation is checked on the body');
    assert.equal(index.written, 7, 'reset, password, https, example, test, token, abc_123: "reset" once');
  });

  it('finds a word whether the text it came in was ASCII or not', () => {
    const index = new TextIndex();
    index.add(1, 'plain ascii invoice');
    index.add(2, 'Rechnung für INVOICE ſtraße');
    assert.deepEqual(seqsOf(index, 'invoice'), [1, 2]);
    assert.deepEqual(seqsOf(index, 'für'), [2]);
    assert.deepEqual(seqsOf(index, 'straße'), [2], 'long s folds to s as the search folds it');
    index.add(3, 'RECHNUNG paid');
    assert.deepEqual(seqsOf(index, 'rechnung'), [2, 3], 'first seen in non-ASCII text, then in ASCII');
    assert.equal(index.size, 7);
  });

  it('grows past its first table and still finds every word, the first and the last', () => {
    const index = new TextIndex();
    for (let seq = 0; seq < 5000; seq++) index.add(seq, `common w${seq}x Word${seq}Y`);
    assert.equal(index.size, 1 + 2 * 5000);
    assert.deepEqual(seqsOf(index, 'w0x', 5000), [0]);
    assert.deepEqual(seqsOf(index, 'word4999y', 5000), [4999]);
    assert.equal(seqsOf(index, 'common', 5000).length, 5000);
    index.clear();
    assert.equal(index.size, 0);
    index.add(7, 'common');
    assert.deepEqual(seqsOf(index, 'common'), [7]);
  });

  it('returns the punctuation a text holds, the same read in the ASCII pass and the string one', () => {
    const index = new TextIndex();
    const ascii = 'Reset: https://example.test/r?token=1 (today) ~x';
    const unicode = 'Grüße: https://example.test/r?token=1 (today) ~x';
    assert.equal(index.add(1, ascii), punctuationOf(ascii));
    assert.equal(index.add(2, unicode), punctuationOf(unicode));
    assert.equal(punctuationOf(ascii), punctuationOf(unicode));
    const has = punctuationOf(ascii);
    assert.ok(punctuationAllows(has, punctuationOf('?token=')));
    assert.equal(punctuationOf('plain words'), 0, 'a term without punctuation needs none');
    assert.ok(!punctuationAllows(has, punctuationOf('{')), 'a brace the text lacks');
    assert.ok(!punctuationAllows(has, punctuationOf('?{')), 'one of two lacking');
    assert.equal(punctuationOf('_"\u00bf'), 0, 'underscore, quote and non-ASCII are not tracked');
  });
});

describe('detach (the copy the index and the search fields keep)', () => {
  it('gives back every string unchanged: control characters, quotes, lone surrogates, astral characters, long slices', () => {
    const whole = `${'x'.repeat(500)}Ann "the \\ admin" <ann@example.test>\0bob@example.test\ud800 \udfff 😀 \u2028\t${'y'.repeat(500)}`;
    const cases = ['', 'short', whole, whole.slice(500, -500), whole.slice(501, 530), '\0'.repeat(20), '\ud83d'.repeat(13)];
    for (const s of cases) assert.equal(detach(s), s, JSON.stringify(s.slice(0, 40)));
  });
});
