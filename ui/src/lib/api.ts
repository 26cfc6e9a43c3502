// The one place the UI calls the HTTP API. Types come from the server's own schemas and domain
// types (`import type`, erased at build), so a change to the API breaks the UI's typecheck, not
// the user's inbox.
import type { MessageSummary } from '../../../server/store/types.ts';
import type { MessageWire } from '../../../server/http/schemas.ts';
import type { ChecksResponse } from '../../../server/checks/schema.ts';

export type { MessageSummary };
export type Message = MessageWire;
export type Part = Message['parts'][number];
export type Checks = ChecksResponse;

export interface ListPage {
  total: number;
  unread: number;
  messages: MessageSummary[];
  next: string | null;
}

export interface InboxCount {
  name: string;
  total: number;
  unread: number;
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

async function request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const init: RequestInit = { method, headers: { accept: 'application/json' } };
  if (signal) init.signal = signal;
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { accept: 'application/json', 'content-type': 'application/json' };
  }
  const res = await fetch(path, init);
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
    const res = await fetch(`${messagePath(id)}/raw`, signal ? { signal } : {});
    if (!res.ok) throw new ApiError(res.status, `${res.status} ${res.statusText}`);
    return res.text();
  },
  setRead(id: string, read: boolean): Promise<MessageSummary> {
    return request('PATCH', messagePath(id), { read });
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
