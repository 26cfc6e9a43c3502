// Tags on messages: the labels a sender or a test puts on mail, as Mailpit has them (so its
// clients and habits carry over), and searchable as `tag:` in Mailpen's own language.
//
// A message's tags start as what it says about itself: its X-Tags header (comma-separated) and
// the part after `+` of plus-addresses (`bob+signup@example.test` is tagged `signup`) in From,
// To, Cc and the envelope's recipients (the only place a Bcc recipient appears). Mailpit reads
// plus-addresses of From, To, Cc and Bcc (internal/storage/tags.go); the envelope stands in for
// its Bcc header, which SMTP mail does not carry. Tags set through the API replace them.
import { parseAddresses, readHeaderBlock, type HeaderBlock } from '../mail/headers.js';
import type { TagCount } from './store.js';

/** Mailpit's rule (internal/tools/tags.go): other characters become spaces; at most 100 characters. */
const INVALID_TAG_CHARS = /[^a-zA-Z0-9\- _.@]/g;
export const MAX_TAG_LENGTH = 100;
/** Tags one message may carry: each is in every list row and event, so a header of thousands is cut. */
export const MAX_TAGS_PER_MESSAGE = 50;

/** A tag as Mailpit cleans it; '' when nothing is left. */
export function cleanTag(tag: string): string {
  return tag.replace(INVALID_TAG_CHARS, ' ').replace(/\s+/g, ' ').trim().slice(0, MAX_TAG_LENGTH).trim();
}

/**
 * Cleaned, without repeats (case-insensitively, the first spelling kept), sorted as Mailpit sorts
 * them (case-insensitively), at most MAX_TAGS_PER_MESSAGE.
 */
export function normalizeTags(tags: Iterable<string>): string[] {
  const seen = new Map<string, string>();
  for (const t of tags) {
    const clean = cleanTag(t);
    if (clean !== '' && !seen.has(clean.toLowerCase())) seen.set(clean.toLowerCase(), clean);
  }
  return [...seen.values()].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase())).slice(0, MAX_TAGS_PER_MESSAGE);
}

/** Shared by every message without tags. */
const NO_TAGS: string[] = Object.freeze([]) as unknown as string[];

/** `bob+signup+eu@x` -> signup, eu (Mailpit splits on every `+` after the first). */
function plusTags(address: string): string[] {
  const at = address.lastIndexOf('@');
  const local = at < 0 ? address : address.slice(0, at);
  const plus = local.indexOf('+');
  return plus < 1 ? [] : local.slice(plus + 1).split('+');
}

/**
 * The tags a message carries by itself: X-Tags and plus-addresses. `block`: the header block when
 * the caller has read it already (the store's summary reads it for the list row too).
 */
export function tagsOfMessage(raw: Buffer, rcptTo: readonly string[], block: HeaderBlock = readHeaderBlock(raw)): string[] {
  const found: string[] = [];
  for (const f of block.fields) {
    if (f.key === 'x-tags') found.push(...f.value.split(','));
    // Addresses are parsed only where a plus can be: most mail has none (8 µs a message otherwise).
    else if ((f.key === 'from' || f.key === 'to' || f.key === 'cc' || f.key === 'bcc') && f.value.includes('+')) {
      for (const a of parseAddresses(f.value)) found.push(...plusTags(a.address));
    }
  }
  for (const r of rcptTo) if (r.includes('+')) found.push(...plusTags(r));
  return found.length === 0 ? NO_TAGS : normalizeTags(found);
}

/**
 * How many messages carry each tag (its exact spelling), kept as messages come, go and change tags
 * (server/store/memory-store.ts), so GET /api/tags answers without walking every message: 100,000
 * walked in one piece held the event loop, reading the header block of each whose tags were not read yet.
 */
export class TagCounts {
  #counts = new Map<string, number>();

  add(tags: readonly string[]): void {
    for (const t of tags) this.#counts.set(t, (this.#counts.get(t) ?? 0) + 1);
  }

  remove(tags: readonly string[]): void {
    for (const t of tags) {
      const n = (this.#counts.get(t) ?? 0) - 1;
      if (n > 0) this.#counts.set(t, n);
      else this.#counts.delete(t);
    }
  }

  clear(): void {
    this.#counts.clear();
  }

  /** Every tag in use with its count, sorted as Mailpit sorts tags (case-insensitively). */
  list(): TagCount[] {
    return [...this.#counts].map(([name, messages]) => ({ name, messages })).sort((a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase()));
  }
}
