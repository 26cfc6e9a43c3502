// An inverted index of the words in message bodies (and attachment names), so that a free-text
// search at 100,000 messages does not decode 100,000 bodies. Keeping the decoded text of every
// body instead costs about as much memory again as the raw mail (bench: memory); postings as
// varint-coded seq deltas cost a byte or two per distinct word a message has.
//
// Search is by substring, as the query language says, so a term is looked up against every word
// of the vocabulary that contains it. A term made of word characters only can only match inside
// one word, so the answer is exact; any other term gets a superset to be checked on the body.

import { detach } from './detach.js';

/** What a word is, for the index and for deciding whether a term is one. */
const WORD = /[\p{L}\p{N}_]+/gu;
const ONLY_WORD = /^[\p{L}\p{N}_]+$/u;
const ASCII = /^[\x00-\x7f]*$/;

/**
 * Lower-cases as the search does. A case-insensitive Unicode RegExp folds U+017F (long s) to
 * "s", which toLowerCase() does not; the Kelvin sign is already lowered to "k".
 */
export function foldCase(text: string): string {
  return text.toLowerCase().replace(/\u017f/g, 's');
}

/**
 * ASCII punctuation, one bit each, kept per message by add(): a term with a character the
 * message lacks cannot be in it, and the word index cannot narrow a term of punctuation alone
 * (`"?"`, `-"~"`). "_" is a word character and '"' ends a phrase, so 30 of the 32 are tracked;
 * the mask is a small integer. Lower-casing makes no other character into one of these.
 */
const PUNCTUATION = '!#$%&\'()*+,-./:;<=>?@[\\]^`{|}~';
const PUNCTUATION_BIT = new Int32Array(128);
for (let i = 0; i < PUNCTUATION.length; i++) PUNCTUATION_BIT[PUNCTUATION.charCodeAt(i)] = 1 << i;

/** The tracked punctuation `text` holds, as add() returns it. */
export function punctuationOf(text: string): number {
  let mask = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 128) mask |= PUNCTUATION_BIT[c]!;
  }
  return mask;
}

/** Whether a message whose text holds the punctuation `has` may hold a term that needs `needs`. */
export function punctuationAllows(has: number, needs: number): boolean {
  return (has & needs) === needs;
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
  // The vocabulary is an open-addressing hash table of our own rather than a Map of strings: a
  // Map needs each word as a string of its own (a split makes ~230 a 2 KB message, most of them
  // words seen before) and hashes each one again. Here an ASCII body is read a character at a
  // time, each word hashed as it is read and compared in place with the word its slot holds; only
  // a word never seen before becomes a string, copied (detach()) so that a long one does not keep
  // the body's whole text alive as a slice of it. Measured on 200,000 bench bodies (2 KB, ~230
  // words each): 29-35 → 16-21 µs a body, and 127 → 100 bytes of heap a message for the index.
  /** Word by id. */
  #words: string[] = [];
  /** Id → the one seq that has it, or the varint-coded deltas of all that do. */
  #postings: Array<number | PostingList> = [];
  /** Id → its word's hash (FNV-1a over the lower-cased UTF-16 units), kept to grow the table. */
  #hashes = new Int32Array(1024);
  /** Slot → id + 1, 0 when free; a power of two, at most half full. */
  #slots = new Int32Array(2048);
  /** Postings written, and those whose message is gone; the store rebuilds when most are stale. */
  #written = 0;
  #stale = 0;

  get written(): number {
    return this.#written;
  }

  get stale(): number {
    return this.#stale;
  }

  /** Distinct words indexed. */
  get size(): number {
    return this.#words.length;
  }

  /**
   * Indexes the words of `text` for message `seq`; seqs must be added in increasing order per
   * word. Returns the punctuation the text holds (punctuationOf(), read in the same pass).
   */
  add(seq: number, text: string): number {
    // Most mail is ASCII, where lower-casing is A-Z alone and a word is [a-z0-9_].
    if (!ASCII.test(text)) {
      for (const word of foldCase(text).match(WORD) ?? []) this.#post(this.#idOf(word, hashOf(word)), seq);
      return punctuationOf(text);
    }
    const n = text.length;
    let mask = 0;
    let i = 0;
    while (i < n) {
      let c = text.charCodeAt(i);
      if (!isWordCode(c)) {
        mask |= PUNCTUATION_BIT[c]!;
        i++;
        continue;
      }
      const start = i;
      let h = FNV_OFFSET;
      do {
        if (c >= 65 && c <= 90) c |= 32;
        h = Math.imul(h ^ c, FNV_PRIME);
        c = ++i < n ? text.charCodeAt(i) : 0;
      } while (isWordCode(c));
      this.#post(this.#idAt(text, start, i, h), seq);
    }
    return mask;
  }

  #post(id: number, seq: number): void {
    const p = this.#postings[id]!;
    if (p === -1) {
      this.#postings[id] = seq;
    } else if (typeof p === 'number') {
      // A word seen again in the same message.
      if (p === seq) return;
      const list: PostingList = { bytes: new Uint8Array(8), length: 0, last: 0 };
      append(list, p);
      append(list, seq);
      this.#postings[id] = list;
    } else if (p.last !== seq) {
      append(p, seq);
    } else {
      return;
    }
    this.#written++;
  }

  /** The id of the ASCII word text[start, end) lower-cased, whose hash is `h`; a new one if it was never seen. */
  #idAt(text: string, start: number, end: number, h: number): number {
    const mask = this.#slots.length - 1;
    const length = end - start;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const at = this.#slots[slot]!;
      if (at === 0) return this.#insert(slot, detach(text.slice(start, end).toLowerCase()), h);
      const id = at - 1;
      if (this.#hashes[id] !== h) continue;
      const word = this.#words[id]!;
      if (word.length !== length) continue;
      let k = 0;
      while (k < length) {
        let c = text.charCodeAt(start + k);
        if (c >= 65 && c <= 90) c |= 32;
        if (c !== word.charCodeAt(k)) break;
        k++;
      }
      if (k === length) return id;
    }
  }

  /** The id of `word` (lower-cased already), whose hash is `h`; a new one if it was never seen. */
  #idOf(word: string, h: number): number {
    const mask = this.#slots.length - 1;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const at = this.#slots[slot]!;
      if (at === 0) return this.#insert(slot, detach(word), h);
      if (this.#hashes[at - 1] === h && this.#words[at - 1] === word) return at - 1;
    }
  }

  #insert(slot: number, word: string, h: number): number {
    const id = this.#words.length;
    this.#words.push(word);
    this.#postings.push(-1);
    if (id >= this.#hashes.length) {
      const grown = new Int32Array(this.#hashes.length * 2);
      grown.set(this.#hashes);
      this.#hashes = grown;
    }
    this.#hashes[id] = h;
    this.#slots[slot] = id + 1;
    if ((id + 1) * 2 > this.#slots.length) this.#grow();
    return id;
  }

  #grow(): void {
    const slots = new Int32Array(this.#slots.length * 2);
    const mask = slots.length - 1;
    for (let id = 0; id < this.#words.length; id++) {
      let slot = this.#hashes[id]! & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = id + 1;
    }
    this.#slots = slots;
  }

  /** Counts postings that now point at a message that is gone (they are skipped by its seq). */
  forgot(postings: number): void {
    this.#stale += postings;
  }

  clear(): void {
    this.#words = [];
    this.#postings = [];
    this.#hashes = new Int32Array(1024);
    this.#slots = new Int32Array(2048);
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
      const vocabulary = this.#words;
      for (let id = 0; id < vocabulary.length; id++) {
        if (!vocabulary[id]!.includes(word)) continue;
        const p = this.#postings[id]!;
        if (typeof p === 'number') seqs.add(p);
        else decode(p, (seq) => seqs.add(seq));
      }
      if (result === null) result = seqs;
      else result.intersect(seqs);
    }
    return { seqs: result!, exact: words.length === 1 && ONLY_WORD.test(folded) };
  }
}

const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;

/** [a-z0-9_] after lower-casing: A-Z, a-z, 0-9, _. */
function isWordCode(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || c === 95;
}

/** The hash add() computes for a word while reading it, over a word already lower-cased. */
function hashOf(word: string): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < word.length; i++) h = Math.imul(h ^ word.charCodeAt(i), FNV_PRIME);
  return h;
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
