// Connections that never sent a request hold the HTTP server's close() open until Node's
// headersTimeout (60 s): closeIdleConnections() only counts sockets between two requests as
// idle. Browsers open such sockets on their own (Chrome preconnects; fetch's pool opens a fresh
// one after an aborted request), so a stop would hang until the container runtime kills it.
// Measured before this: a bare connected socket made Mailpen's close() take 60 s.
import type { Socket } from 'node:net';
import type { App } from './app.js';

export function closeUnusedConnectionsOnClose(app: App): void {
  const open = new Set<Socket>();
  app.server.on('connection', (socket: Socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  });
  app.addHook('preClose', async () => {
    // Not one byte received: no request is started, so there is nothing to finish. A WebSocket
    // (upgraded, bytes read) is left for the event stream to close with a close frame.
    for (const socket of open) if (socket.bytesRead === 0) socket.destroy();
  });
}
