// GET /api/events: the live event stream (a WebSocket). fastify does not see upgrades, so the hub
// takes them from the app's own http.Server; a plain GET (no upgrade) gets a 426 that says how
// to connect, and documents the stream in the OpenAPI description. The hub closes with the app.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Type } from '@sinclair/typebox';
import type { App, AppDeps } from '../app.js';
import { errorBody, ErrorBody } from '../errors.js';
import { EventHub, EVENTS_PATH, type HubOptions } from '../../events/hub.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The event stream's hub: its seq and client count (for /api/info and tests). */
    events: EventHub;
  }
}

export interface EventsRouteOptions extends AppDeps {
  /** Credentials check at the upgrade (the same as the API's); none when absent. */
  authorize?: HubOptions['authorize'];
}

/**
 * Attaches the stream to the root app (not an encapsulated plugin): the upgrade listener and the
 * close hook belong to the whole server, and `app.events` is visible to everyone.
 */
export function attachEventStream(app: App, deps: EventsRouteOptions): EventHub {
  const hub = new EventHub(deps.store, deps.log.child({ edge: 'events' }), {
    allowedOrigins: deps.config.allowedOrigins,
    maxClients: deps.config.maxEventClients,
    ...(deps.authorize ? { authorize: deps.authorize } : {}),
  });
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (hub.handleUpgrade(req, socket, head)) return;
    // An upgrade nobody else handles would hang; answer it.
    if (app.server.listenerCount('upgrade') === 1) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    }
  };
  app.server.on('upgrade', onUpgrade);
  // preClose, not onClose: the http server's close waits for upgraded sockets to end.
  app.addHook('preClose', async () => {
    app.server.off('upgrade', onUpgrade);
    await hub.close();
  });

  app.get(
    EVENTS_PATH,
    {
      schema: {
        summary: 'Live event stream (WebSocket)',
        description:
          'Connect with a WebSocket to receive JSON frames `{ type, seq, data }`: `added` (a message summary), ' +
          '`updated` (read state), `deleted`, `evicted`, `cleared`, `counts`, then `hello` once up to date, or ' +
          '`resync` when missed events are gone. Query: `inbox` to filter, `since` and `epoch` (from the last ' +
          'frame seen) to resume. Browsers may connect only from the UI origin or MAILPEN_ALLOWED_ORIGINS. ' +
          'A plain GET answers 426.',
        tags: ['events'],
        querystring: Type.Object({
          inbox: Type.Optional(Type.String({ description: 'only events about this inbox (counts are always sent)' })),
          since: Type.Optional(Type.String({ pattern: '^\\d{1,15}$', description: 'seq of the last frame received' })),
          epoch: Type.Optional(Type.String({ description: 'epoch from the last hello or resync' })),
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
