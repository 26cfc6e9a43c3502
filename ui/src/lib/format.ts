// How addresses, sizes and times read in the list and the reader.
import type { MessageSummary } from './api.ts';

type Address = NonNullable<MessageSummary['from']>;

export function formatAddress(a: Address | null): string {
  if (!a) return '(no sender)';
  return a.name ? `${a.name} <${a.address}>` : a.address;
}

export function shortAddress(a: Address | null): string {
  if (!a) return '(no sender)';
  return a.name || a.address;
}

export function formatAddresses(list: Address[]): string {
  return list.map(formatAddress).join(', ');
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(bytes < 10 * 1024 ? 1 : 0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dayFormat = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/** Today: the time; otherwise the day. */
export function formatWhen(iso: string): string {
  const d = new Date(iso);
  const now = new Date();
  return d.toDateString() === now.toDateString() ? timeFormat.format(d) : dayFormat.format(d);
}

export function formatFull(iso: string | null): string {
  return iso ? fullFormat.format(new Date(iso)) : '';
}
