// GET /api/wait: long-poll until a message matching q (and inbox) exists that arrived after a
// point. Messages that arrived between that point and the call count, so a test that sends first
// and waits second never races.
import type { App, AppDeps } from '../app.js';
import type { MessageStore, StoredMessage } from '../../store/store.js';
import { ErrorRef, WaitQuery, WaitResponse, type WaitResponseWire } from '../schemas.js';
import { HttpError, errorBody } from '../errors.js';
import { selection, walked } from '../selection.js';
import { parseInstant, QueryError } from '../../search/query.js';
import type { Waiters } from '../waiters.js';
import type { MessageParser } from '../../mail/parse.js';
import { extractLinks } from '../../mail/html.js';
import { findCodes } from '../../mail/codes.js';

/** After a message (by seq), or at/after a moment (received at or after it, epoch ms; 0: any message). */
type Point = { seq: number } | { time: number };

function resolvePoint(store: MessageStore, after: string | undefined): Point {
  // "Now": every message stored from here on; JS runs this handler to its first await without interruption.
  if (after === undefined || after === '') return { seq: store.nextSeq() - 1 };
  const message = store.get(after);
  if (message) return { seq: message.seq };
  try {
    return { time: parseInstant('after', after) };
  } catch (err) {
    if (!(err instanceof QueryError)) throw err;
  }
  if (/^[A-Za-z0-9_-]{12}$/.test(after)) throw new HttpError(404, `after: no message ${JSON.stringify(after)} (deleted?); pass a time instead`);
  throw new HttpError(400, `after: ${JSON.stringify(after)} is neither a message id nor a time (2024-05-31T14:30:00Z, epoch seconds or epoch milliseconds)`);
}

/** The summary, with the links and/or codes `include` asks for: the one call a test needs. */
async function answer(store: MessageStore, parser: MessageParser, m: StoredMessage, include: string | undefined): Promise<WaitResponseWire> {
  const summary: WaitResponseWire = store.summary(m);
  if (!include) return summary;
  const parsed = await parser.parse(m.raw);
  const wanted = include.split(',');
  if (wanted.includes('links')) summary.links = extractLinks(parsed.html, parsed.text);
  if (wanted.includes('codes')) summary.codes = findCodes(parsed.text, parsed.html);
  return summary;
}

function isAfter(point: Point, m: StoredMessage): boolean {
  return 'seq' in point ? m.seq > point.seq : m.receivedAt >= point.time;
}

/** The seq every stored message after the point comes after; undefined when there is none. */
function firstSeqAfter(store: MessageStore, point: Point, inbox: string | undefined): number | undefined {
  if ('seq' in point) return store.nextSeq() - 1 > point.seq ? point.seq : undefined;
  let oldest: number | undefined;
  store.forEachNewest((m) => {
    if (!isAfter(point, m)) return false;
    oldest = m.seq;
    return true;
  }, inbox);
  return oldest === undefined ? undefined : oldest - 1;
}

export async function waitRoutes(app: App, { store, parser, waiters }: AppDeps & { waiters: Waiters }): Promise<void> {
  app.get(
    '/wait',
    {
      schema: {
        summary: 'Wait for a message matching q/inbox that arrived after `after` (default: now); 408 on timeout. include=codes,links adds its codes and links',
        tags: ['messages'],
        querystring: WaitQuery,
        response: { 200: WaitResponse, 400: ErrorRef, 404: ErrorRef, 408: ErrorRef, 503: ErrorRef },
      },
    },
    async (request, reply) => {
      const { q, inbox, after, timeout, include } = request.query;
      const sel = selection(store, q, inbox);
      const point = resolvePoint(store, after);
      // Messages already there after the point are searched in slices first (server/search/
      // sliced-match.ts), so a slow query over many of them lets SMTP and other requests in; one
      // that would take too long is refused with 400. None there (the usual "from now"): no walk.
      const afterSeq = firstSeqAfter(store, point, sel.inbox);
      if (sel.match && afterSeq !== undefined) sel.match = await walked(store, sel.match, { inbox: sel.inbox, afterSeq }, 'q: ');
      const accepts = (m: StoredMessage): boolean =>
        isAfter(point, m) && (sel.inbox === undefined || m.inbox === sel.inbox) && (sel.match === undefined || sel.match(m));

      // Already there: the oldest match after the point, found walking back from the newest.
      let found: StoredMessage | undefined;
      store.forEachNewest((m) => {
        if (!isAfter(point, m)) return false;
        if (accepts(m)) found = m;
        return true;
      }, sel.inbox);
      if (found) return answer(store, parser, found, include);

      // A wait is silent for up to its timeout: longer than the connection idle timeout allows.
      // (The connection keeps the longer timeout for the rest of its life: another wait is likely.)
      const idle = request.raw.socket.timeout ?? 0;
      if (idle > 0 && idle < timeout * 1000 + 5000) request.raw.socket.setTimeout(timeout * 1000 + 5000);
      const outcome = await waiters.wait(accepts, timeout * 1000, reply.raw);
      switch (outcome.kind) {
        case 'message':
          return answer(store, parser, outcome.message, include);
        case 'timeout':
          throw new HttpError(408, `no matching message arrived within ${timeout} s`);
        case 'full':
          return reply
            .code(503)
            .send(errorBody(503, `too many pending waits (${waiters.max}, MAILPEN_MAX_WAITS); retry when some have finished`));
        case 'closing':
          // Sent as is: the error handler hides the reason of a 5xx, and this one is not a fault.
          return reply.code(503).send(errorBody(503, 'the server is shutting down; retry against the next one'));
        case 'gone':
          // Nobody is listening any more; the answer goes to a closed socket.
          throw new HttpError(408, 'the client closed the connection');
      }
    },
  );
}
