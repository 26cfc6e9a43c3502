// Connections that never sent a request hold the HTTP server's close() open until Node's
// headersTimeout (60 s): closeIdleConnections() only counts sockets between two requests as
// idle. Browsers open such sockets on their own (Chrome preconnects; fetch's pool opens a fresh
// one after an aborted request), so a stop would hang until the container runtime kills it.
// Measured before this: a bare connected socket made Mailpen's close() take 60 s.
import type { Socket } from 'node:net';
import type { App } from './app.js';

export function closeUnusedConnectionsOnClose(app: App): void {
  const unused = new Set<Socket>();
  app.server.on('connection', (socket: Socket) => {
    unused.add(socket);
    socket.once('close', () => unused.delete(socket));
  });
  const used = (request: { socket: Socket }): void => {
    unused.delete(request.socket);
  };
  app.server.on('request', used);
  // A WebSocket is a used connection too; the event stream closes its own with a close frame.
  app.server.on('upgrade', used);
  app.addHook('preClose', async () => {
    for (const socket of unused) socket.destroy();
    unused.clear();
  });
}
