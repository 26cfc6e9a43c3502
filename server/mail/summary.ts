// What a message's headers say, read once at ingestion for the list and for search.
import { readHeaderBlock, firstField, decodeWords, parseAddresses, parseDate, parseMessageId, type HeaderBlock } from './headers.js';
import type { Address } from '../store/types.js';

export interface HeaderSummary {
  from: Address | null;
  to: Address[];
  cc: Address[];
  subject: string;
  date: string | null;
  messageId: string | null;
  problems: string[];
}

/**
 * What a list row, a live event and the search fields keep of a sender's header values. Every
 * open tab receives each row and the store keeps the search fields of every message, so a
 * megabyte Subject or a To header of ten thousand addresses would be paid many times over. The
 * bounds sit far above real mail (a header line is at most 998 characters by RFC 5322; folded
 * subjects of a few KB are already rare); the full view (headers, parsed) still has every byte,
 * and the row says it was shortened.
 */
export const MAX_SUMMARY_SUBJECT = 32 * 1024;
export const MAX_SUMMARY_ADDRESSES = 1000;
/** Characters of names and addresses together, per header. */
export const MAX_SUMMARY_ADDRESS_TEXT = 64 * 1024;

/**
 * Characters of one name or one address. Longer ones are cut, never dropped: a From whose only
 * address was dropped left a message with no sender, and every list page holding it answered 500.
 */
export const MAX_SUMMARY_ADDRESS_PART = 1024;

function cut(a: Address, header: string, problems: string[]): Address {
  if (a.name.length <= MAX_SUMMARY_ADDRESS_PART && a.address.length <= MAX_SUMMARY_ADDRESS_PART) return a;
  problems.push(`${header}: a name or address of ${Math.max(a.name.length, a.address.length)} characters; lists and search keep the first ${MAX_SUMMARY_ADDRESS_PART}`);
  return { name: a.name.slice(0, MAX_SUMMARY_ADDRESS_PART), address: a.address.slice(0, MAX_SUMMARY_ADDRESS_PART) };
}

function bounded(all: Address[], header: string, problems: string[]): Address[] {
  let long = false;
  const list = all.map((a) => {
    const c = cut(a, long ? '' : header, long ? [] : problems);
    if (c !== a) long = true;
    return c;
  });
  let chars = 0;
  let keep = 0;
  while (keep < list.length && keep < MAX_SUMMARY_ADDRESSES) {
    const a = list[keep]!;
    chars += a.name.length + a.address.length;
    if (chars > MAX_SUMMARY_ADDRESS_TEXT) break;
    keep++;
  }
  if (keep === list.length) return list;
  problems.push(`${header}: lists and search keep ${keep} of its ${list.length} addresses (at most ${MAX_SUMMARY_ADDRESSES}, ${MAX_SUMMARY_ADDRESS_TEXT} characters)`);
  return list.slice(0, keep);
}

/** `block`: the message's header block when the caller has read it already (for the body scan too). */
export function summarizeHeaders(raw: Buffer, block: HeaderBlock = readHeaderBlock(raw)): HeaderSummary {
  const { fields } = block;
  const problems = [...block.problems];
  const from = parseAddresses(firstField(fields, 'from'))[0] ?? null;
  const dateHeader = firstField(fields, 'date');
  const date = parseDate(dateHeader);
  if (dateHeader !== undefined && date === null) problems.push(`Date header "${dateHeader.slice(0, 80)}" could not be read`);
  if (fields.length === 0 && problems.length === 0) problems.push('message has no headers');
  let subject = decodeWords(firstField(fields, 'subject') ?? '');
  if (subject.length > MAX_SUMMARY_SUBJECT) {
    problems.push(`Subject is ${subject.length} characters; lists and search keep the first ${MAX_SUMMARY_SUBJECT}`);
    subject = subject.slice(0, MAX_SUMMARY_SUBJECT);
  }
  return {
    from: from && bounded([from], 'From', problems)[0]!,
    to: bounded(parseAddresses(firstField(fields, 'to')), 'To', problems),
    cc: bounded(parseAddresses(firstField(fields, 'cc')), 'Cc', problems),
    subject,
    date,
    messageId: parseMessageId(firstField(fields, 'message-id'))?.slice(0, 998) ?? null,
    problems,
  };
}
