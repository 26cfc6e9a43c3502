// The one place the UI calls the HTTP API. Types come from the server's own schemas and domain
// types (`import type`, erased at build), so a change to the API breaks the UI's typecheck, not
// the user's inbox.
import type { InboxCount, MessageSummary } from '../../../server/store/types.ts';
import type { MessageWire } from '../../../server/http/schemas.ts';
import type { ChecksResponse } from '../../../server/checks/schema.ts';

export type { InboxCount, MessageSummary };
export type Message = MessageWire;
export type Part = Message['parts'][number];
export type Checks = ChecksResponse;

export interface ListPage {
  total: number;
  unread: number;
  messages: MessageSummary[];
  next: string | null;
}

/** An API answer that was not 2xx, with the server's own explanation. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Status of an ApiError when no answer came at all (the server is down or the network is). */
export const UNREACHABLE = 0;

/** fetch, with the browser's bare "Failed to fetch" said in words a user can act on. */
async function reach(input: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(input, init);
  } catch (err) {
    if (init.signal?.aborted) throw err;
    throw new ApiError(UNREACHABLE, 'Mailpen is not reachable; is it still running?');
  }
}

async function request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const init: RequestInit = { method, headers: { accept: 'application/json' } };
  if (signal) init.signal = signal;
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { accept: 'application/json', 'content-type': 'application/json' };
  }
  const res = await reach(path, init);
  if (!res.ok) {
    let message = `${res.status} ${res.statusText}`;
    try {
      const err = (await res.json()) as { message?: string };
      if (err.message) message = err.message;
    } catch {
      // Not our JSON error shape (a proxy's page): the status line says enough.
    }
    throw new ApiError(res.status, message);
  }
  return (await res.json()) as T;
}

function query(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') search.set(k, String(v));
  const s = search.toString();
  return s ? `?${s}` : '';
}

const messagePath = (id: string): string => `/api/messages/${encodeURIComponent(id)}`;

export const api = {
  /** A page after `cursor` (the `next` of the page above), or starting `offset` rows down. */
  list(opts: { inbox?: string | null; q?: string; limit: number; cursor?: string | null; offset?: number }, signal?: AbortSignal): Promise<ListPage> {
    const params = { inbox: opts.inbox, q: opts.q, limit: opts.limit, cursor: opts.cursor, offset: opts.offset };
    return request('GET', `/api/messages${query(params)}`, undefined, signal);
  },
  message(id: string, signal?: AbortSignal): Promise<Message> {
    return request('GET', messagePath(id), undefined, signal);
  },
  async raw(id: string, signal?: AbortSignal): Promise<string> {
    const res = await reach(`${messagePath(id)}/raw`, signal ? { signal } : {});
    if (!res.ok) throw new ApiError(res.status, `${res.status} ${res.statusText}`);
    return res.text();
  },
  /** The exact bytes received (to store them again: Undo after a delete). */
  async rawBytes(id: string): Promise<Blob> {
    const res = await reach(`${messagePath(id)}/raw`, {});
    if (!res.ok) throw new ApiError(res.status, `${res.status} ${res.statusText}`);
    return res.blob();
  },
  /** Stores a raw message in an inbox, as if received over SMTP. */
  async upload(raw: Blob, inbox: string): Promise<{ ids: string[] }> {
    const res = await reach(`/api/messages${query({ inbox })}`, { method: 'POST', body: raw, headers: { 'content-type': 'message/rfc822', accept: 'application/json' } });
    if (!res.ok) throw new ApiError(res.status, `${res.status} ${res.statusText}`);
    return (await res.json()) as { ids: string[] };
  },
  links(id: string, signal?: AbortSignal): Promise<{ links: string[] }> {
    return request('GET', `${messagePath(id)}/links`, undefined, signal);
  },
  setReadMany(ids: string[], read: boolean): Promise<{ updated: number }> {
    return request('PATCH', '/api/messages', { read, ids });
  },
  /** Marks what a search and inbox select (neither: every message) read or unread. */
  setReadWhere(where: { q: string; inbox: string | null }, read: boolean): Promise<{ updated: number }> {
    const body: { read: boolean; q?: string; inbox?: string } = { read };
    if (where.q !== '') body.q = where.q;
    if (where.inbox !== null) body.inbox = where.inbox;
    return request('PATCH', '/api/messages', body);
  },
  info(): Promise<{ ports: { smtp: number; smtps: number | null; http: number } }> {
    return request('GET', '/api/info');
  },
  setRead(id: string, read: boolean): Promise<MessageSummary> {
    return request('PATCH', messagePath(id), { read });
  },
  /** Replaces a message's tags; answers the summary with them as the server cleaned them. */
  setTags(id: string, tags: string[]): Promise<MessageSummary> {
    return request('PUT', `${messagePath(id)}/tags`, { tags });
  },
  remove(id: string): Promise<{ deleted: number }> {
    return request('DELETE', messagePath(id));
  },
  removeAll(inbox: string | null): Promise<{ deleted: number }> {
    return request('DELETE', `/api/messages${query({ inbox })}`);
  },
  /** HTML support across mail clients, the deliverability lint and the spam score (run on demand, cached by the server). */
  checks(id: string, signal?: AbortSignal): Promise<Checks> {
    return request('GET', `${messagePath(id)}/checks`, undefined, signal);
  },
  inboxes(): Promise<{ inboxes: InboxCount[] }> {
    return request('GET', '/api/inboxes');
  },
};

/** URLs the page links to or frames directly (the browser fetches them, not this module). */
export const urls = {
  /** With remote 'block', the server's CSP lets only the message's own parts and data: URLs load. */
  html: (id: string, remote: 'allow' | 'block' = 'allow'): string => `${messagePath(id)}/html${remote === 'block' ? '?remote=block' : ''}`,
  raw: (id: string): string => `${messagePath(id)}/raw?download`,
  part: (id: string, partId: string): string => `${messagePath(id)}/parts/${encodeURIComponent(partId)}`,
};
