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

export function summarizeHeaders(raw: Buffer): HeaderSummary {
  const { fields, problems } = readHeaderBlock(raw);
  const from = parseAddresses(firstField(fields, 'from'))[0] ?? null;
  const dateHeader = firstField(fields, 'date');
  const date = parseDate(dateHeader);
  if (dateHeader !== undefined && date === null) problems.push(`Date header "${dateHeader.slice(0, 80)}" could not be read`);
  if (fields.length === 0 && problems.length === 0) problems.push('message has no headers');
  return {
    from,
    to: parseAddresses(firstField(fields, 'to')),
    cc: parseAddresses(firstField(fields, 'cc')),
    subject: decodeWords(firstField(fields, 'subject') ?? ''),
    date,
    messageId: parseMessageId(firstField(fields, 'message-id')),
    problems,
  };
}
