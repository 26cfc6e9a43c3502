// How the search language matches a value in text: case-insensitively (toLowerCase of both), with
// each run of whitespace (\s) in the value matching any run of whitespace in the text. Defined as
// "the lower-cased text, its runs of whitespace each made one space, includes the lower-cased
// value made so too"; found without building that folded copy of the text.
//
// Folding a body's runs with replace(/\s+/g, ' ') cost ~10 µs a 2 KB body (mail always has line
// breaks), more than reading it; walking the runs only where the value's first word is found
// costs a search for that word. test/phrase.test.ts compares the two on generated text.

/** The same characters as \s in a RegExp, by code unit. */
export function isSpace(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d);
  if (c < 0xa0) return false;
  return c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}

/** A value as it is matched: its lower-cased words (split on whitespace runs, never empty). */
export function phraseWords(value: string): string[] {
  return value.trim().toLowerCase().split(/\s+/).filter((w) => w !== '');
}

/**
 * Whether no word of the value has a letter, nor anything but ASCII: then the text need not be
 * lower-cased to be matched (lower-casing maps no other character to one of these, and keeps
 * whitespace where it is), which a query of punctuation ("." or 20 of them) does for every body.
 */
export function caseless(words: readonly string[]): boolean {
  return words.every((w) => /^[\x00-\x40\x5b-\x60\x7b-\x7f]*$/.test(w));
}

/**
 * Whether `lower` (text already lower-cased, or as it is when the words are caseless()) holds `words` in order, each pair separated by one
 * run of whitespace: the text's folded form includes the value's. A word is matched where the
 * text's run ends, as the folded text has one space there; the first may end a longer word, the
 * last may begin one (substring semantics).
 */
export function holdsPhrase(lower: string, words: readonly string[]): boolean {
  const first = words[0];
  if (first === undefined) return true;
  if (words.length === 1) return lower.includes(first);
  // Text built to repeat the value's start ("a a a ..." for "a a ... b") would be walked from
  // every start: past half its length in such walks (each start counted as 8 characters), the
  // folded copy is made after all, and includes() (Boyer-Moore-Horspool in V8) keeps the cost
  // linear: at most about one and a half times the fold's (test/query-cost.test.ts).
  let budget = (lower.length >>> 1) + 64;
  for (let at = lower.indexOf(first); at >= 0; at = lower.indexOf(first, at + 1)) {
    const walked = restFollows(lower, at + first.length, words);
    if (walked < 0) return true;
    budget -= walked + 8;
    if (budget < 0) return lower.replace(/\s+/g, ' ').includes(words.join(' '));
  }
  return false;
}

/** -1 when the rest of `words` follows `from`; else how many characters were looked at to see it does not. */
function restFollows(lower: string, from: number, words: readonly string[]): number {
  let pos = from;
  for (let k = 1; k < words.length; k++) {
    if (pos >= lower.length || !isSpace(lower.charCodeAt(pos))) return pos - from + 1;
    while (pos < lower.length && isSpace(lower.charCodeAt(pos))) pos++;
    const word = words[k]!;
    if (!lower.startsWith(word, pos)) return pos - from + word.length;
    pos += word.length;
  }
  return -1;
}
