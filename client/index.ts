// mailpen/client: a typed client for Mailpen's HTTP API and event stream, for tests. No runtime
// dependency: plain fetch and the platform WebSocket (Node 18+, browsers, Deno, Bun); on Node
// before 22, which has no global WebSocket, pass one (`import WebSocket from 'ws'`).
import type {
  Code,
  ErrorBody,
  FoundMessage,
  InboxCount,
  MailpenEvent,
  Message,
  MessageList,
  MessageSummary,
  RoutingSettings,
  ServerInfo,
  UploadResult,
  WaitResult,
} from './types.js';

export type * from './types.js';

/** What the client needs of a WebSocket: the browser's, undici's (Node 22+) and `ws` all fit. */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((event: any) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: any) => void) | null;
  close(code?: number, reason?: string): void;
}
export type WebSocketConstructor = new (url: string, options?: any) => WebSocketLike;

export interface ClientOptions {
  /** Mailpen's HTTP address; default `MAILPEN_URL` when set (Node), else http://127.0.0.1:8025. */
  baseUrl?: string;
  /** MAILPEN_API_TOKEN, sent as `Authorization: Bearer`. */
  token?: string;
  /** A user of MAILPEN_UI_AUTH, sent as HTTP Basic. */
  basicAuth?: { user: string; password: string };
  /** Headers for every request (and the event stream where the WebSocket allows it). */
  headers?: Record<string, string>;
  /** Default: the global fetch. */
  fetch?: typeof fetch;
  /** Default: the global WebSocket. Needed only for events() on Node before 22. */
  WebSocket?: WebSocketConstructor;
  /**
   * Where an application reaches Mailpen's SMTP port, for inbox(): default the host of baseUrl
   * and the port Mailpen reports (GET /api/info). Set it when the app runs elsewhere (a container
   * network: `{ host: 'mailpen', port: 1025 }`).
   */
  smtp?: { host?: string; port?: number };
}

/** Any non-2xx answer: the API's `{ statusCode, error, message }`. */
export class MailpenError extends Error {
  override name = 'MailpenError';
  readonly statusCode: number;
  readonly error: string;
  constructor(
    /** The API's answer as it came: `{ statusCode, error, message }`. */
    readonly body: ErrorBody,
    /** The method and path asked. */
    readonly request: string,
  ) {
    super(`${request}: ${body.statusCode} ${body.error}: ${body.message}`);
    this.statusCode = body.statusCode;
    this.error = body.error;
  }
}

/** A wait that found nothing in time (the API's 408), naming what it waited for. */
export class MailpenTimeoutError extends MailpenError {
  override name = 'MailpenTimeoutError';
  constructor(
    body: ErrorBody,
    request: string,
    /** The search query sent (q), as the API's search syntax. */
    readonly query: string,
    readonly inbox: string | undefined,
    /** Milliseconds waited. */
    readonly timeout: number,
  ) {
    super(body, request);
    const where = inbox === undefined ? '' : ` in inbox ${JSON.stringify(inbox)}`;
    this.message = `no message matching ${query === '' ? '(anything)' : JSON.stringify(query)}${where} arrived within ${timeout / 1000} s`;
  }
}

/** What to wait for. Field filters are turned into the search syntax and ANDed with `q`. */
export interface WaitQuery {
  /** The search syntax (README "Search syntax"): `to:bob subject:"reset your" has:attachment`. */
  q?: string;
  subject?: string;
  to?: string;
  from?: string;
  /** Words anywhere (subject, addresses, body text). */
  text?: string;
  inbox?: string;
  /**
   * A message id, a Date, or epoch milliseconds: only mail received after it. Default: mail from
   * the moment of the call (client.waitFor) or any mail in the inbox (inbox.waitFor).
   */
  after?: string | number | Date;
  /** Milliseconds, at most 60,000 (the API's limit for one wait). Default 10,000. */
  timeout?: number;
  /** Ask for the message's codes and/or links in the same call. */
  include?: ('codes' | 'links')[];
  signal?: AbortSignal;
}

export interface ListParams {
  q?: string;
  inbox?: string;
  limit?: number;
  cursor?: string;
  offset?: number;
  signal?: AbortSignal;
}

export interface EventsOptions {
  /** Only this inbox's events (counts are always sent). */
  inbox?: string;
  /** Resume after this seq (with the epoch it belongs to). */
  since?: number;
  epoch?: string;
  /** Stops the stream: the loop over it ends. */
  signal?: AbortSignal;
  /** The first reconnect delay in ms after a drop (doubling up to 5 s). Default 250. */
  retryDelay?: number;
}

/**
 * How an inbox is made. Mail reaches it through the SMTP AUTH user (`inbox.smtp`) or, when
 * Mailpen routes by recipient (MAILPEN_ROUTING=subaddress or domain), through the addresses
 * `inbox.address()` hands out: whichever the application under test can be given.
 */
export interface InboxOptions {
  /** The inbox name; default `<prefix>-<random>` (lower case), unique across parallel tests. */
  name?: string;
  /** Default `test`. */
  prefix?: string;
  /**
   * How `address()` names the inbox in a recipient: `subaddress` (user+NAME@example.test) or
   * `domain` (user@NAME.<suffix>). Default: the first of the two the server routes by (asked
   * once per client, GET /api/routing); with neither, `address()` throws and says what to set.
   */
  addresses?: 'subaddress' | 'domain';
}

/** How an Inbox's addresses name it, from the server's routing. */
interface Addressing {
  mode: 'subaddress' | 'domain' | null;
  /** The domain mode's suffix. */
  domain: string;
}

/** The SMTP settings an application sends with to land in one inbox (AUTH user = inbox). */
export interface SmtpSettings {
  host: string;
  port: number;
  secure: false;
  auth: { user: string; pass: string };
  /** The same as a URL: smtp://user:pass@host:port. */
  url: string;
}

const MAX_WAIT_MS = 60_000;

interface RequestOptions {
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  raw?: string | Uint8Array | Blob;
  signal?: AbortSignal | undefined;
}

export class MailpenClient {
  readonly baseUrl: string;
  readonly #fetch: typeof fetch;
  readonly #headers: Record<string, string>;
  readonly #WebSocket: WebSocketConstructor | undefined;
  readonly #smtp: { host?: string; port?: number };
  #smtpPort: Promise<number> | undefined;
  #routing: Promise<RoutingSettings | null> | undefined;

  constructor(options: ClientOptions = {}) {
    const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
    this.baseUrl = (options.baseUrl ?? env?.MAILPEN_URL ?? 'http://127.0.0.1:8025').replace(/\/+$/, '');
    const f = options.fetch ?? globalThis.fetch;
    if (typeof f !== 'function') throw new TypeError('mailpen/client needs fetch (Node 18+ or a browser), or options.fetch');
    this.#fetch = f.bind(globalThis);
    this.#headers = { ...options.headers };
    if (options.token !== undefined) this.#headers.authorization = `Bearer ${options.token}`;
    else if (options.basicAuth) this.#headers.authorization = `Basic ${base64(`${options.basicAuth.user}:${options.basicAuth.password}`)}`;
    this.#WebSocket = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    this.#smtp = { ...options.smtp };
  }

  // ---- messages ----

  /** Newest first, one page: `{ total, unread, messages, next }`. */
  messages(params: ListParams = {}): Promise<MessageList> {
    const { signal, ...query } = params;
    return this.#json('GET', '/messages', { query, signal });
  }

  /** The messages matching a query (the search syntax), newest first, one page. */
  search(q: string, params: Omit<ListParams, 'q'> = {}): Promise<MessageList> {
    return this.messages({ ...params, q });
  }

  /** One message with headers, bodies and parts; does not mark it read. */
  message(id: string, init: { signal?: AbortSignal } = {}): Promise<Message> {
    return this.#json('GET', `/messages/${encodeURIComponent(id)}`, init);
  }

  /** The exact bytes received. */
  async raw(id: string, init: { signal?: AbortSignal } = {}): Promise<Uint8Array> {
    const res = await this.#request('GET', `/messages/${encodeURIComponent(id)}/raw`, init);
    return new Uint8Array(await res.arrayBuffer());
  }

  /** The HTML body as the UI shows it (cid: images pointing at the API). */
  async html(id: string, init: { remote?: 'allow' | 'block'; signal?: AbortSignal } = {}): Promise<string> {
    const res = await this.#request('GET', `/messages/${encodeURIComponent(id)}/html`, { query: { remote: init.remote }, signal: init.signal });
    return res.text();
  }

  /** HTML hrefs, then URLs in the text, in order, each once. */
  async links(id: string, init: { signal?: AbortSignal } = {}): Promise<string[]> {
    return (await this.#json<{ links: string[] }>('GET', `/messages/${encodeURIComponent(id)}/links`, init)).links;
  }

  /** One-time codes (verification, login, 2FA) in order, each once, with the words around them. */
  async codes(id: string, init: { signal?: AbortSignal } = {}): Promise<Code[]> {
    return (await this.#json<{ codes: Code[] }>('GET', `/messages/${encodeURIComponent(id)}/codes`, init)).codes;
  }

  /** Marks one message, or several by id, read (or unread with `read: false`). */
  async markRead(ids: string | string[], read = true): Promise<void> {
    if (typeof ids === 'string') await this.#json('PATCH', `/messages/${encodeURIComponent(ids)}`, { body: { read } });
    else await this.#json('PATCH', '/messages', { body: { read, ids } });
  }

  /** Deletes one message by id. */
  async delete(id: string): Promise<void> {
    await this.#json('DELETE', `/messages/${encodeURIComponent(id)}`);
  }

  /** Deletes what `q` and/or `inbox` select; with neither, every message. Answers how many. */
  async deleteMessages(selection: { q?: string; inbox?: string } = {}): Promise<number> {
    return (await this.#json<{ deleted: number }>('DELETE', '/messages', { query: selection })).deleted;
  }

  /** Stores a raw message (or an mbox) as if received over SMTP. */
  upload(raw: string | Uint8Array | Blob, options: { inbox?: string } = {}): Promise<UploadResult> {
    return this.#json('POST', '/messages', { query: options, raw });
  }

  inboxes(): Promise<InboxCount[]> {
    return this.#json<{ inboxes: InboxCount[] }>('GET', '/inboxes').then((r) => r.inboxes);
  }

  info(): Promise<ServerInfo> {
    return this.#json('GET', '/info');
  }

  /** How SMTP mail is put in inboxes: the modes in order, the domain suffix, the rules. */
  routing(): Promise<RoutingSettings> {
    return this.#json('GET', '/routing');
  }

  /** Changes the routing for mail from now on (what is left out stays); MailpenError (400) when it cannot work. */
  async setRouting(change: Partial<RoutingSettings>): Promise<RoutingSettings> {
    this.#routing = undefined;
    const settings = await this.#json<RoutingSettings>('PUT', '/routing', { body: change });
    this.#routing = Promise.resolve(settings);
    return settings;
  }

  // ---- waiting ----

  /**
   * The oldest message matching the query that arrived after `after` (default: now), as soon as
   * it is there. Throws MailpenTimeoutError when none comes within `timeout` ms.
   */
  async waitFor(query: WaitQuery = {}): Promise<WaitResult> {
    const q = searchQuery(query);
    const timeout = query.timeout ?? 10_000;
    if (!(timeout >= 0 && timeout <= MAX_WAIT_MS)) throw new RangeError(`waitFor: timeout is milliseconds, 0 to ${MAX_WAIT_MS} (got ${timeout})`);
    const params = {
      q: q === '' ? undefined : q,
      inbox: query.inbox,
      after: afterParam(query.after),
      timeout: String(timeout / 1000),
      include: query.include?.length ? query.include.join(',') : undefined,
    };
    try {
      return await this.#json<WaitResult>('GET', '/wait', { query: params, signal: query.signal });
    } catch (err) {
      if (err instanceof MailpenError && err.statusCode === 408) {
        throw new MailpenTimeoutError(err.body, err.request, q, query.inbox, timeout);
      }
      throw err;
    }
  }

  // ---- events ----

  /**
   * The live event stream as an async iterator. After a drop it reconnects (with backoff) and
   * resumes after the last seq it gave: missed events are replayed, or one `resync` says they are
   * gone. Ends when `signal` aborts or the loop breaks.
   */
  async *events(options: EventsOptions = {}): AsyncGenerator<MailpenEvent, void, undefined> {
    const WebSocketImpl = this.#WebSocket;
    if (!WebSocketImpl) throw new TypeError('events() needs a WebSocket: none is global here (Node before 22); pass options.WebSocket (ws)');
    const { signal } = options;
    let since = options.since;
    let epoch = options.epoch;
    let delay = options.retryDelay ?? 250;
    const queue: MailpenEvent[] = [];
    let wake: (() => void) | undefined;
    const notify = (): void => {
      wake?.();
      wake = undefined;
    };
    let socket: WebSocketLike | undefined;
    let open = false;
    const onAbort = (): void => {
      socket?.close(1000);
      notify();
    };
    signal?.addEventListener('abort', onAbort);
    try {
      while (!signal?.aborted) {
        const url = new URL(`${this.baseUrl}/api/events`);
        // Asked for by name: MAILPEN_EVENTS_FORMAT=mailpit gives Mailpit's frames to clients that do not ask.
        url.searchParams.set('format', 'mailpen');
        // A turn's changes in one frame (a JSON array); a server from before batches ignores it.
        url.searchParams.set('batch', '1');
        url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
        if (options.inbox !== undefined) url.searchParams.set('inbox', options.inbox);
        if (since !== undefined && epoch !== undefined) {
          url.searchParams.set('since', String(since));
          url.searchParams.set('epoch', epoch);
        }
        open = true;
        let opened = false;
        let failure = '';
        // Headers (a token) go as a second argument, which ws and undici (Node 22+) take; a
        // browser's WebSocket cannot send them: there the page's cookies and origin are what count.
        const ws = Object.keys(this.#headers).length > 0 ? new WebSocketImpl(url.href, { headers: this.#headers }) : new WebSocketImpl(url.href);
        socket = ws;
        ws.onmessage = (m) => {
          const frame = JSON.parse(String(m.data)) as MailpenEvent | MailpenEvent[];
          if (Array.isArray(frame)) queue.push(...frame);
          else queue.push(frame);
          notify();
        };
        ws.onclose = () => {
          open = false;
          notify();
        };
        ws.onopen = () => {
          opened = true;
        };
        // ws and undici say why an upgrade was refused ("Unexpected server response: 401"); a
        // browser says nothing, and then a refusal is retried like a drop.
        ws.onerror = (e: { message?: string; error?: { message?: string } }) => {
          failure = e?.message ?? e?.error?.message ?? '';
        };
        while (open || queue.length > 0) {
          if (signal?.aborted) return;
          const event = queue.shift();
          if (event === undefined) {
            await new Promise<void>((resolve) => (wake = resolve));
            continue;
          }
          since = event.seq;
          if (event.type === 'hello' || event.type === 'resync') {
            epoch = event.data.epoch;
            delay = options.retryDelay ?? 250;
          }
          yield event;
        }
        if (signal?.aborted) return;
        const refused = opened ? null : /\b(401|403|404|421)\b/.exec(failure);
        if (refused) {
          const status = Number(refused[1]);
          const reason = status === 401 ? 'credentials are missing or wrong (token, basicAuth)' : failure;
          throw new MailpenError({ statusCode: status, error: 'Upgrade refused', message: reason }, `GET ${url.pathname}`);
        }
        await sleep(delay, signal);
        delay = Math.min(delay * 2, 5000);
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      if (socket && socket.readyState <= 1) socket.close(1000);
    }
  }

  // ---- isolated inboxes ----

  /**
   * A fresh inbox for one test: a unique name, the SMTP settings that send into it (Mailpen puts
   * mail in the inbox named by the SMTP AUTH user), and helpers that see only its mail. Parallel
   * tests each with their own inbox never see each other's mail.
   */
  async inbox(options: InboxOptions = {}): Promise<Inbox> {
    const name = options.name ?? `${options.prefix ?? 'test'}-${randomId()}`;
    const host = this.#smtp.host ?? new URL(this.baseUrl).hostname.replace(/^\[|\]$/g, '');
    const port = this.#smtp.port ?? (await (this.#smtpPort ??= this.info().then((i) => i.ports.smtp)));
    // A Mailpen from before routing by recipient (404) routes by AUTH user only.
    const routing = await (this.#routing ??= this.routing().catch((e: unknown) => {
      if (e instanceof MailpenError && e.statusCode === 404) return null;
      this.#routing = undefined;
      throw e;
    }));
    const mode = options.addresses ?? routing?.modes.find((m): m is 'subaddress' | 'domain' => m === 'subaddress' || m === 'domain') ?? null;
    return new Inbox(this, name, host, port, { mode, domain: routing?.domain ?? 'inbox.test' });
  }

  // ---- transport ----

  async #request(method: string, path: string, init: RequestOptions = {}): Promise<Response> {
    const url = new URL(`${this.baseUrl}/api${path}`);
    for (const [k, v] of Object.entries(init.query ?? {})) if (v !== undefined && v !== '') url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { ...this.#headers };
    let body: BodyInit | undefined;
    if (init.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(init.body);
    } else if (init.raw !== undefined) {
      headers['content-type'] = 'message/rfc822';
      body = init.raw as BodyInit;
    }
    const request = `${method} ${url.pathname}${url.search}`;
    const res = await this.#fetch(url, { method, headers, body, signal: init.signal });
    if (res.ok) return res;
    const text = await res.text();
    let error: ErrorBody;
    try {
      const parsed = JSON.parse(text) as Partial<ErrorBody>;
      error = { statusCode: parsed.statusCode ?? res.status, error: parsed.error ?? res.statusText, message: parsed.message ?? text };
    } catch {
      error = { statusCode: res.status, error: res.statusText, message: text.slice(0, 500) };
    }
    throw new MailpenError(error, request);
  }

  async #json<T>(method: string, path: string, init: RequestOptions = {}): Promise<T> {
    return (await (await this.#request(method, path, init)).json()) as T;
  }
}

/**
 * One test's inbox. Its helpers see only its mail; `waitFor` looks at all of it (it is the
 * test's own, so mail sent before the call counts), oldest match first, and always brings the
 * message's links and codes.
 */
export class Inbox {
  readonly smtp: SmtpSettings;
  readonly #addressing: Addressing;
  constructor(
    readonly client: MailpenClient,
    /** The inbox name, which is also the SMTP AUTH user name. */
    readonly name: string,
    smtpHost: string,
    smtpPort: number,
    addressing: Addressing = { mode: null, domain: 'inbox.test' },
  ) {
    this.#addressing = addressing;
    const pass = 'mailpen';
    const hostInUrl = smtpHost.includes(':') ? `[${smtpHost}]` : smtpHost;
    this.smtp = {
      host: smtpHost,
      port: smtpPort,
      secure: false,
      auth: { user: name, pass },
      url: `smtp://${encodeURIComponent(name)}:${pass}@${hostInUrl}:${smtpPort}`,
    };
  }

  /**
   * An address that lands in this inbox when Mailpen routes by recipient, for an application that
   * sends all its mail with one SMTP account: `user+NAME@example.test` (subaddress) or
   * `user@NAME.inbox.test` (domain). Each call with another `local` part is another address for
   * the same inbox, e.g. `address('alice')`, `address('bob')`. `domain` is the subaddress mode's
   * domain (default example.test). Throws when the server routes by AUTH user only.
   */
  address(local = 'user', domain = 'example.test'): string {
    const { mode } = this.#addressing;
    if (mode === 'subaddress') return `${local}+${this.name}@${domain}`;
    if (mode === 'domain') return `${local}@${this.name}.${this.#addressing.domain}`;
    throw new Error(
      `Mailpen routes mail to inboxes by SMTP AUTH user only, so no address lands in inbox ${JSON.stringify(this.name)}: send with inbox.smtp, or start Mailpen with MAILPEN_ROUTING=subaddress,auth (or domain,auth)`,
    );
  }

  /** The oldest message in this inbox matching the query (any, without one), with links and codes. */
  async waitFor(query: Omit<WaitQuery, 'inbox' | 'include'> = {}): Promise<FoundMessage> {
    return (await this.client.waitFor({ after: 0, ...query, inbox: this.name, include: ['codes', 'links'] })) as FoundMessage;
  }

  /** The first one-time code of the oldest message matching the query. */
  async waitForCode(query: Omit<WaitQuery, 'inbox' | 'include'> = {}): Promise<string> {
    const message = await this.waitFor(query);
    const first = message.codes[0];
    if (!first) throw new Error(`message ${message.id} (${JSON.stringify(message.subject)}) has no one-time code`);
    return first.code;
  }

  /** This inbox's messages, newest first, one page. */
  messages(params: Omit<ListParams, 'inbox'> = {}): Promise<MessageList> {
    return this.client.messages({ ...params, inbox: this.name });
  }

  /** Deletes every message in this inbox; answers how many. */
  clear(): Promise<number> {
    return this.client.deleteMessages({ inbox: this.name });
  }
}

/** A client for the Mailpen at `baseUrl` (default MAILPEN_URL, else http://127.0.0.1:8025). */
export function createClient(options: ClientOptions = {}): MailpenClient {
  return new MailpenClient(options);
}

/** The query language has no escape inside quotes: a value with `"` is searched piece by piece. */
function term(field: string, value: string): string {
  return value
    .split('"')
    .map((piece) => piece.trim())
    .filter((piece) => piece !== '')
    .map((piece) => `${field}"${piece}"`)
    .join(' ');
}

export function searchQuery(query: Pick<WaitQuery, 'q' | 'subject' | 'to' | 'from' | 'text'>): string {
  const terms: string[] = [];
  if (query.q !== undefined && query.q.trim() !== '') terms.push(query.q.includes(' OR ') ? `(${query.q})` : query.q);
  if (query.subject !== undefined) terms.push(term('subject:', query.subject));
  if (query.to !== undefined) terms.push(term('to:', query.to));
  if (query.from !== undefined) terms.push(term('from:', query.from));
  if (query.text !== undefined) terms.push(term('', query.text));
  return terms.filter((t) => t !== '').join(' ');
}

function afterParam(after: WaitQuery['after']): string | undefined {
  if (after === undefined) return undefined;
  if (after instanceof Date) return String(after.getTime());
  return String(after);
}

function randomId(): string {
  const c = (globalThis as { crypto?: { getRandomValues?: (a: Uint8Array) => Uint8Array } }).crypto;
  const bytes = new Uint8Array(9);
  if (c?.getRandomValues) c.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  return Array.from(bytes, (b) => b.toString(36).padStart(2, '0')).join('');
}

function base64(s: string): string {
  const bytes = new TextEncoder().encode(s);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done);
  });
}
