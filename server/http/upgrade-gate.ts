// The one place a WebSocket upgrade is admitted or refused. fastify's hooks never see an
// upgrade, so the HTTP server's 'upgrade' event comes here, and the same questions as for any
// request are asked in the same order with the same answers: a path (not a proxy target),
// Host (421), the route (404), Origin (403), credentials (401); then the target (the event hub)
// takes the socket or says why not (400 for a bad parameter, 503 when full or closing).
//
// A refused socket is answered and closed by us at once. Node hands an upgrade's socket over
// with none of its own listeners: without one, a client's reset (ECONNRESET) on it was an
// unhandled 'error' event that ended the process, and a client that never closed its end kept
// the descriptor for good (500 refused upgrades held 500 descriptors past every timeout).
import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../log.js';
import { errorBody } from './errors.js';
import { header, isAllowedOrigin } from './origin.js';
import { authRefusal, authRequired, credentialsValid, hostAllowed, hostRefusal, targetRefusal, type Refusal, type SecurityConfig } from './security.js';

/** What listens for upgrades on a path. */
export interface UpgradeTarget {
  /** Takes the socket, or returns why not (a bad parameter, full, closing) without touching it. */
  accept(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): Refusal | null;
}

/** A refused socket whose answer cannot be flushed in this long is cut. */
const REFUSAL_FLUSH_MS = 2000;

/** Attaches the gate to the server; `targets` maps a decoded path to what accepts it. */
export function gateUpgrades(server: Server, config: SecurityConfig, log: Logger, targets: ReadonlyMap<string, UpgradeTarget>): void {
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // First, before anything can fail: a reset from the client at any point must not be fatal.
    socket.on('error', (err) => log.debug({ err }, 'upgrade socket error'));
    let refusal: Refusal | null;
    try {
      refusal = admit(req, socket, head);
    } catch (err) {
      log.error({ err }, 'upgrade failed');
      refusal = { statusCode: 500, message: 'internal error' };
    }
    if (refusal) refuse(socket, refusal);
  });

  function admit(req: IncomingMessage, socket: Duplex, head: Buffer): Refusal | null {
    const rawUrl = req.url ?? '';
    const target = targetRefusal(rawUrl);
    if (target) return target;
    const host = header(req.headers, 'host');
    if (!hostAllowed(host, config)) return hostRefusal(host);
    const url = new URL(rawUrl, 'http://mailpen.invalid');
    let path: string;
    try {
      // Decoded as the router decodes, so /api/%65vents is the event stream here as it is there.
      path = decodeURIComponent(url.pathname);
    } catch {
      return { statusCode: 400, message: 'the path is not valid percent-encoding' };
    }
    const handler = targets.get(path);
    if (!handler) return { statusCode: 404, message: `no WebSocket endpoint at ${path.slice(0, 100)}` };
    const origin = header(req.headers, 'origin');
    if (!isAllowedOrigin(origin, host, config.allowedOrigins)) {
      log.warn({ origin: origin?.slice(0, 200) }, 'WebSocket upgrade refused a foreign origin');
      return { statusCode: 403, message: 'this Origin may not open a WebSocket here; see MAILPEN_ALLOWED_ORIGINS' };
    }
    if (authRequired(config) && !credentialsValid(header(req.headers, 'authorization'), config)) return authRefusal(config);
    return handler.accept(req, socket, head, url);
  }
}

/** Answers with the API's error shape and closes: at once once flushed, or after a bound if the client does not read. */
function refuse(socket: Duplex, refusal: Refusal): void {
  if (socket.destroyed) return;
  const body = JSON.stringify(errorBody(refusal.statusCode, refusal.message));
  const lines = [
    `HTTP/1.1 ${refusal.statusCode} ${STATUS_CODES[refusal.statusCode] ?? 'Error'}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    ...Object.entries(refusal.headers ?? {}).map(([k, v]) => `${k}: ${v}`),
  ];
  const cut = setTimeout(() => socket.destroy(), REFUSAL_FLUSH_MS);
  cut.unref();
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`, () => {
    clearTimeout(cut);
    socket.destroy();
  });
}
