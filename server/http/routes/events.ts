// GET /api/events: the live event stream (a WebSocket). fastify does not see upgrades: the gate
// (server/http/upgrade-gate.ts) admits them and hands this path's sockets to the hub. A plain
// GET (no upgrade) gets a 426 that says how to connect, and documents the stream in the OpenAPI
// description. The hub closes with the app.
import { Type } from '@sinclair/typebox';
import type { App, AppDeps } from '../app.js';
import { errorBody, ErrorBody } from '../errors.js';
import { EventHub, EVENTS_PATH } from '../../events/hub.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The event stream's hub: its seq and client count (for /api/info and tests). */
    events: EventHub;
  }
}

/**
 * Attaches the stream to the root app (not an encapsulated plugin): the upgrade listener and the
 * close hook belong to the whole server, and `app.events` is visible to everyone.
 */
export function attachEventStream(app: App, deps: AppDeps): EventHub {
  const hub = new EventHub(deps.store, deps.log.child({ edge: 'events' }), { maxClients: deps.config.maxEventClients }, deps.rules ?? null);
  // preClose, not onClose: the http server's close waits for upgraded sockets to end. From then
  // on the hub refuses upgrades (503).
  app.addHook('preClose', async () => hub.close());

  app.get(
    EVENTS_PATH,
    {
      schema: {
        summary: 'Live event stream (WebSocket)',
        description:
          'Connect with a WebSocket to receive JSON frames `{ type, seq, data }`: `added` (a message summary), ' +
          '`arrived` (with `rows`: references to arrivals sent without their rows), `updated` (read state), `deleted`, `evicted`, `cleared`, `counts`, `rule-fired` (a fault rule acted), then `hello` once up to date, or ' +
          '`resync` when missed events are gone. Query: `inbox` to filter, `since` and `epoch` (from the last ' +
          'frame seen) to resume, `batch=1` for the changes of one server turn in one frame (a JSON array of events). Browsers may connect only from the UI origin or MAILPEN_ALLOWED_ORIGINS. ' +
          'A plain GET answers 426.',
        tags: ['events'],
        querystring: Type.Object({
          inbox: Type.Optional(Type.String({ description: 'only events about this inbox (counts are always sent)' })),
          since: Type.Optional(Type.String({ pattern: '^\\d{1,15}$', description: 'seq of the last frame received' })),
          epoch: Type.Optional(Type.String({ description: 'epoch from the last hello or resync' })),
          batch: Type.Optional(Type.Literal('1', { description: "1: a turn's changes in one frame, a JSON array of events in seq order (a single change is sent alone)" })),
          rows: Type.Optional(
            Type.String({
              pattern: '^\\d{1,4}$',
              description:
                'at most this many rows a frame (1 to 1000; the UI asks for a page): of the arrivals a frame carries, the newest N come as `added` with their summaries, the ones before as `arrived` (ids and inboxes) to fetch from the API when shown. For a burst of mail, where summarizing every message for every tab costs more than storing it',
            }),
          ),
        }),
        response: { 426: ErrorBody },
      },
    },
    async (_request, reply) =>
      reply.code(426).header('upgrade', 'websocket').send(errorBody(426, 'this is a WebSocket endpoint: connect with Upgrade: websocket')),
  );
  app.decorate('events', hub);
  return hub;
}
