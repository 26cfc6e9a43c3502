// An inverted index of the words in message bodies (and attachment names), so that a free-text
// search at 100,000 messages does not decode 100,000 bodies. Keeping the decoded text of every
// body instead costs about as much memory again as the raw mail (bench: memory); postings as
// varint-coded seq deltas cost a byte or two per distinct word a message has.
//
// Search is by substring, as the query language says, so a term is looked up against every word
// of the vocabulary that contains it. A term made of word characters only can only match inside
// one word, so the answer is exact; any other term gets a superset to be checked on the body.

/** What a word is, for the index and for deciding whether a term is one. */
const WORD = /[\p{L}\p{N}_]+/gu;
const ONLY_WORD = /^[\p{L}\p{N}_]+$/u;
const ASCII = /^[\x00-\x7f]*$/;
/** The same split as WORD for ASCII text: letters, digits and _ make words. */
const ASCII_SEPARATORS = /[^a-z0-9_]+/;

/**
 * Lower-cases as the search does. A case-insensitive Unicode RegExp folds U+017F (long s) to
 * "s", which toLowerCase() does not; the Kelvin sign is already lowered to "k".
 */
export function foldCase(text: string): string {
  return text.toLowerCase().replace(/\u017f/g, 's');
}

interface PostingList {
  bytes: Uint8Array;
  length: number;
  last: number;
}

/** Seqs as a bitset over [base, base + size). */
export class SeqSet {
  readonly base: number;
  readonly bits: Uint8Array;
  constructor(base: number, end: number) {
    this.base = base;
    this.bits = new Uint8Array(Math.max(0, ((end - base) >>> 3) + 1));
  }
  add(seq: number): void {
    const i = seq - this.base;
    if (i >= 0 && i >>> 3 < this.bits.length) this.bits[i >>> 3]! |= 1 << (i & 7);
  }
  has(seq: number): boolean {
    const i = seq - this.base;
    return i >= 0 && i >>> 3 < this.bits.length && (this.bits[i >>> 3]! & (1 << (i & 7))) !== 0;
  }
  /** Keeps only what `other` has too; both cover the same range. */
  intersect(other: SeqSet): void {
    for (let k = 0; k < this.bits.length; k++) this.bits[k]! &= other.bits[k] ?? 0;
  }
}

export class TextIndex {
  /** word -> the one seq that has it, or the varint-coded deltas of all that do. */
  #postings = new Map<string, number | PostingList>();
  /** Postings written, and those whose message is gone; the store rebuilds when most are stale. */
  #written = 0;
  #stale = 0;

  get written(): number {
    return this.#written;
  }

  get stale(): number {
    return this.#stale;
  }

  /** Indexes the words of `text` for message `seq`; seqs must be added in increasing order per word. */
  add(seq: number, text: string): void {
    const folded = foldCase(text);
    // Most mail is ASCII, where a byte-class split is several times faster than a Unicode one.
    const words = ASCII.test(folded) ? folded.split(ASCII_SEPARATORS) : folded.match(WORD) ?? [];
    for (const word of words) {
      if (word === '') continue;
      const p = this.#postings.get(word);
      if (p === undefined) {
        this.#postings.set(word, seq);
      } else if (typeof p === 'number') {
        // A word seen again in the same message.
        if (p === seq) continue;
        const list: PostingList = { bytes: new Uint8Array(8), length: 0, last: 0 };
        append(list, p);
        append(list, seq);
        this.#postings.set(word, list);
      } else if (p.last !== seq) {
        append(p, seq);
      } else {
        continue;
      }
      this.#written++;
    }
  }

  /** Counts postings that now point at a message that is gone (they are skipped by its seq). */
  forgot(postings: number): void {
    this.#stale += postings;
  }

  clear(): void {
    this.#postings = new Map();
    this.#written = 0;
    this.#stale = 0;
  }

  /**
   * The messages among [base, end) whose indexed text may contain `term`, and whether that is
   * exactly the ones that do. Null when the term has no word to look up (only punctuation).
   */
  lookup(term: string, base: number, end: number): { seqs: SeqSet; exact: boolean } | null {
    const folded = foldCase(term.trim());
    const words = folded.match(WORD);
    if (!words) return null;
    let result: SeqSet | null = null;
    for (const word of new Set(words)) {
      const seqs = new SeqSet(base, end);
      for (const [key, p] of this.#postings) {
        if (!key.includes(word)) continue;
        if (typeof p === 'number') seqs.add(p);
        else decode(p, (seq) => seqs.add(seq));
      }
      if (result === null) result = seqs;
      else result.intersect(seqs);
    }
    return { seqs: result!, exact: words.length === 1 && ONLY_WORD.test(folded) };
  }
}

function append(list: PostingList, seq: number): void {
  let delta = seq - list.last;
  list.last = seq;
  if (list.bytes.length - list.length < 5) {
    const grown = new Uint8Array(list.bytes.length * 2);
    grown.set(list.bytes.subarray(0, list.length));
    list.bytes = grown;
  }
  while (delta >= 0x80) {
    list.bytes[list.length++] = (delta & 0x7f) | 0x80;
    delta = Math.floor(delta / 128);
  }
  list.bytes[list.length++] = delta;
}

function decode(list: PostingList, each: (seq: number) => void): void {
  let seq = 0;
  let shift = 1;
  let delta = 0;
  const { bytes, length } = list;
  for (let i = 0; i < length; i++) {
    const b = bytes[i]!;
    delta += (b & 0x7f) * shift;
    if (b & 0x80) {
      shift *= 128;
    } else {
      seq += delta;
      each(seq);
      delta = 0;
      shift = 1;
    }
  }
}
