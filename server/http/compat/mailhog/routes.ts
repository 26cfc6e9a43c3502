// MailHog's API: /api/v2/messages and /api/v2/search (its JSON, newest first), the /api/v1 routes
// its clients still call (GET and DELETE one message; DELETE all is shared with Mailpit's route),
// and /api/v2/websocket, which pushes each new message. MailHog is abandoned; its users switch by
// changing the image name. Release is refused with the reason: Mailpen never delivers mail.
import { Type } from '@sinclair/typebox';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { App, AppDeps } from '../../app.js';
import type { MessageStore, StoredMessage } from '../../../store/store.js';
import type { UpgradeTarget } from '../../upgrade-gate.js';
import type { Refusal } from '../../security.js';
import type { Logger } from '../../../log.js';
import { HttpError } from '../../errors.js';
import { walked } from '../../selection.js';
import { ErrorRef } from '../../schemas.js';
import { Broadcast } from '../broadcast.js';
import { mailhogMessage } from './shapes.js';
import { TAGS } from '../mailpit/schemas.js';
import { firstField, readHeaderBlock } from '../../../mail/headers.js';

const TAG = TAGS.mailhog;
export const MAILHOG_WEBSOCKET_PATH = '/api/v2/websocket';

/** The MailHog message as an open schema: its shape is MailHog's (server/http/compat/mailhog/shapes.ts). */
const MessageJson = Type.Unsafe<object>({ type: 'object', additionalProperties: true, description: "MailHog's message: ID, From, To, Content{Headers, Body, Size, MIME}, Created, MIME{Parts}, Raw" });
const MessagesJson = Type.Object({
  total: Type.Integer({ description: 'messages that match' }),
  count: Type.Integer({ description: 'messages in items' }),
  start: Type.Integer(),
  items: Type.Array(MessageJson),
});
const Page = {
  start: Type.Optional(Type.String({ maxLength: 20, description: 'skip this many (default 0)' })),
  limit: Type.Optional(Type.String({ maxLength: 20, description: 'at most this many (default 50)' })),
};
const IdParam = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

/** MailHog reads start and limit with strconv and keeps its default for anything else. */
function page(query: { start?: string | undefined; limit?: string | undefined }): { start: number; limit: number } {
  const start = /^\d{1,9}$/.test(query.start ?? '') ? Number(query.start) : 0;
  const limit = /^\d{1,9}$/.test(query.limit ?? '') ? Math.min(Number(query.limit), 1000) : 50;
  return { start, limit };
}

/** Case-insensitive search in undecoded text, as MailHog's in-memory store searches (bytes read as latin1, so any byte is a character). */
function containsFolded(text: string, needle: string): boolean {
  return text.toLowerCase().includes(needle);
}

/** MailHog's search kinds: from and to look at the envelope and the header; containing at every header and the body, undecoded. */
export function mailhogMatch(kind: string, query: string): (m: StoredMessage) => boolean {
  const needle = Buffer.from(query, 'utf8').toString('latin1').toLowerCase();
  switch (kind) {
    case 'from':
      return (m) => containsFolded(m.envelope.mailFrom, needle) || containsFolded(firstField(readHeaderBlock(m.raw).fields, 'from') ?? '', needle);
    case 'to':
      return (m) =>
        m.envelope.rcptTo.some((r) => containsFolded(r, needle)) || readHeaderBlock(m.raw).fields.some((f) => f.key === 'to' && containsFolded(f.value, needle));
    case 'containing':
      return (m) => containsFolded(m.raw.toString('latin1'), needle);
  }
  throw new HttpError(400, `kind must be from, to or containing, not ${JSON.stringify(kind.slice(0, 40))}`);
}

/**
 * Raw bytes one page may carry. MailHog's JSON holds each message about three times (Raw.Data, the
 * body, the parts' bodies): 50 messages of 50 MB would be a string V8 cannot make, and the request
 * would fail. A page stops before the message that would pass this (it always has its first);
 * `count` says how many came, and the next page starts there.
 */
export const MAX_PAGE_RAW_BYTES = 32 * 1024 * 1024;

function answer(store: MessageStore, match: ((m: StoredMessage) => boolean) | undefined, query: { start?: string | undefined; limit?: string | undefined }) {
  const { start, limit } = page(query);
  const found = store.list({ match, limit: Math.max(limit, 1), offset: start });
  const items = [];
  let bytes = 0;
  for (const m of limit === 0 ? [] : found.messages) {
    bytes += m.size;
    if (items.length > 0 && bytes > MAX_PAGE_RAW_BYTES) break;
    items.push(mailhogMessage(m));
  }
  return { total: found.total, count: items.length, start, items };
}

function find(store: MessageStore, id: string): StoredMessage {
  const m = store.get(id);
  if (!m) throw new HttpError(404, `message ${JSON.stringify(id)} not found`);
  return m;
}

export async function mailhogRoutes(app: App, { store }: AppDeps): Promise<void> {
  // MailHog's client sends release's JSON with no Content-Type; no route here reads a body, so any
  // is read and set aside rather than refused (415) before the route can say why it refuses.
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 64 * 1024 }, (_request, _body, done) => done(null, null));
  app.get(
    '/api/v2/messages',
    { schema: { summary: 'List messages, newest first (MailHog)', tags: [TAG], querystring: Type.Object(Page), response: { 200: MessagesJson } } },
    async (request) => answer(store, undefined, request.query),
  );

  app.get(
    '/api/v2/search',
    {
      schema: {
        summary: 'Search messages: kind from, to or containing (MailHog)',
        tags: [TAG],
        querystring: Type.Object({ kind: Type.String({ maxLength: 20 }), query: Type.String({ maxLength: 2000 }), ...Page }),
        response: { 200: MessagesJson, 400: ErrorRef },
      },
    },
    // Walked in slices first (server/search/sliced-match.ts): a slow search lets SMTP and other
    // requests in, and one that would take too long is a 400 with the reason, as a bad kind is.
    async (request) => answer(store, await walked(store, mailhogMatch(request.query.kind, request.query.query), {}, 'search: '), request.query),
  );

  app.get(
    '/api/v1/messages/:id',
    { schema: { summary: 'One message (MailHog)', tags: [TAG], params: IdParam, response: { 200: MessageJson, 404: ErrorRef } } },
    async (request) => mailhogMessage(find(store, request.params.id)),
  );

  app.delete(
    '/api/v1/messages/:id',
    { schema: { summary: 'Delete one message; answers an empty 200 (MailHog)', tags: [TAG], params: IdParam, response: { 404: ErrorRef } } },
    async (request, reply) => {
      store.delete([find(store, request.params.id).id]);
      return reply.send();
    },
  );

  app.post(
    '/api/v1/messages/:id/release',
    { schema: { summary: 'Release (relay) a message: refused, Mailpen never delivers mail (MailHog)', tags: [TAG], params: IdParam, response: { 400: ErrorRef, 404: ErrorRef } } },
    async (request) => {
      find(store, request.params.id);
      throw new HttpError(400, 'release is not available: Mailpen captures mail and never delivers it, so it has no outgoing SMTP server (see README, "Switching from Mailpit / MailHog")');
    },
  );
}

/** /api/v2/websocket: each new message, in MailHog's JSON. */
export class MailhogWebSocket implements UpgradeTarget {
  readonly #broadcast: Broadcast;
  readonly #unsubscribe: () => void;

  constructor(store: MessageStore, log: Logger, maxClients: number) {
    this.#broadcast = new Broadcast('MailHog WebSocket', log, { maxClients });
    this.#unsubscribe = store.subscribe((e) => {
      if (e.type === 'added') this.#broadcast.send(() => mailhogMessage(e.message));
    });
  }

  accept(req: IncomingMessage, socket: Duplex, head: Buffer): Refusal | null {
    return this.#broadcast.accept(req, socket, head);
  }

  async close(): Promise<void> {
    this.#unsubscribe();
    await this.#broadcast.close();
  }
}
