// What a message's headers say, read once at ingestion for the list and for search.
import { readHeaderBlock, firstField, decodeWords, parseAddresses, parseDate, parseMessageId } from './headers.js';
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
 * full view (headers, parsed) still has every byte; the row says it was shortened.
 */
export const MAX_SUMMARY_SUBJECT = 2000;
export const MAX_SUMMARY_ADDRESSES = 1000;
export const MAX_ADDRESS_PART = 500;

function bounded(list: Address[], header: string, problems: string[]): Address[] {
  let out = list;
  if (out.length > MAX_SUMMARY_ADDRESSES) {
    problems.push(`${header} has ${out.length} addresses; lists and search keep the first ${MAX_SUMMARY_ADDRESSES}`);
    out = out.slice(0, MAX_SUMMARY_ADDRESSES);
  }
  if (out.some((a) => a.name.length > MAX_ADDRESS_PART || a.address.length > MAX_ADDRESS_PART)) {
    problems.push(`${header} has names or addresses longer than ${MAX_ADDRESS_PART} characters; lists and search keep the start`);
    out = out.map((a) => ({ name: a.name.slice(0, MAX_ADDRESS_PART), address: a.address.slice(0, MAX_ADDRESS_PART) }));
  }
  return out;
}

export function summarizeHeaders(raw: Buffer): HeaderSummary {
  const { fields, problems } = readHeaderBlock(raw);
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
    messageId: parseMessageId(firstField(fields, 'message-id'))?.slice(0, MAX_SUMMARY_SUBJECT) ?? null,
    problems,
  };
}
