// holdsPhrase() is the search language's text match (server/search/phrase.ts) found without
// folding the text; it must answer as the definition does: the lower-cased text with each
// whitespace run made one space includes the value made so too. Compared on generated text
// built from the characters where the two could part: every kind of \s, characters whose
// lower case is longer (İ) or depends on what follows (Σ), the Kelvin sign, repeated starts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { holdsPhrase, isSpace, phraseWords } from '../server/search/phrase.js';
import { textTest } from '../server/search/match.js';
import { prng } from '../bench/messages.js';

function byDefinition(text: string, value: string): boolean {
  const needle = value.trim().toLowerCase().replace(/\s+/g, ' ');
  return text.toLowerCase().replace(/\s+/g, ' ').includes(needle);
}


const SPACES = [' ', '  ', '\t', '\r\n', '\n', '\u00a0', '\u2028', '\u3000', '\ufeff', '\u000b', '\u0085'];
const LETTERS = ['a', 'A', 'b', 'ab', 'aa', 'İ', 'i', 'Σ', 'σ', 'ς', '\u212a', 'k', 'K', '.', ',', '-', 'é', 'É'];

describe('phrase match', () => {
  it('isSpace is \\s for every UTF-16 code unit', () => {
    for (let c = 0; c <= 0xffff; c++) assert.equal(isSpace(c), /\s/.test(String.fromCharCode(c)), `U+${c.toString(16)}`);
  });

  it('answers as fold-and-includes on 20,000 generated texts and values', () => {
    const rand = prng(16);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
    const piece = (n: number): string => Array.from({ length: n }, () => (rand() < 0.3 ? pick(SPACES) : pick(LETTERS))).join('');
    let matched = 0;
    for (let k = 0; k < 20_000; k++) {
      const text = piece(1 + Math.floor(rand() * 40));
      // Half of the values are taken from the text (so they often match), half made up.
      let value: string;
      if (rand() < 0.5) {
        const from = Math.floor(rand() * text.length);
        value = text.slice(from, from + 1 + Math.floor(rand() * 12));
      } else {
        value = piece(1 + Math.floor(rand() * 6));
      }
      const expected = byDefinition(text, value);
      if (expected) matched++;
      assert.equal(holdsPhrase(text.toLowerCase(), phraseWords(value)), expected, `${JSON.stringify(value)} in ${JSON.stringify(text)}`);
      assert.equal(textTest(value)(text), expected);
    }
    assert.ok(matched > 2000, `enough of them match (${matched})`);
  });

  it('stays linear on text built to repeat the start of the value', () => {
    const text = 'a '.repeat(20_000);
    const value = 'a '.repeat(500) + 'b';
    assert.equal(holdsPhrase(text, phraseWords(value)), false);
    assert.equal(holdsPhrase(text + 'b', phraseWords(value)), true);
  });
});
