// What the address bar holds: the inbox, the search and the open message, so a view can be
// linked to, survives a reload and has Back and Forward. Query parameters on the page's own path
// (`/?inbox=staging&q=from%3Aann&m=<id>`): the server serves the page at / whatever follows `?`.
// No runes and no history calls here; the mailbox decides when an entry is pushed.

export interface PageAddress {
  inbox: string | null;
  q: string;
  message: string | null;
}

export function readAddress(search: string): PageAddress {
  const params = new URLSearchParams(search);
  return { inbox: params.get('inbox') || null, q: params.get('q') ?? '', message: params.get('m') || null };
}

/** The search part (`?...`, or '' for the plain inbox) for a view. */
export function writeAddress(view: PageAddress): string {
  const params = new URLSearchParams();
  if (view.inbox !== null) params.set('inbox', view.inbox);
  if (view.q !== '') params.set('q', view.q);
  if (view.message !== null) params.set('m', view.message);
  const s = params.toString();
  return s ? `?${s}` : '';
}
