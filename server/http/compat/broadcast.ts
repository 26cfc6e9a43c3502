// A WebSocket endpoint that only pushes: what Mailpit's /api/events and MailHog's /api/v2/websocket
// are. Admitted by the one upgrade gate (Host, Origin, credentials), then: a frame to every client,
// a client whose unsent frames back up is dropped instead of slowing the rest (as Mailpen's own hub
// does), a ping every interval and a client that does not answer is dropped, and everything closes
// with the server.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket } from 'ws';
import type { Logger } from '../../log.js';
import type { UpgradeTarget } from '../upgrade-gate.js';
import type { Refusal } from '../security.js';

export interface BroadcastOptions {
  /** Concurrent clients; 0: no limit (MAILPEN_MAX_EVENT_CLIENTS, shared in spirit with the hub). */
  maxClients: number;
  maxBufferedBytes?: number;
  heartbeatMs?: number;
}

interface Client {
  ws: WebSocket;
  alive: boolean;
}

export class Broadcast implements UpgradeTarget {
  readonly #wss = new WebSocketServer({ noServer: true, maxPayload: 4096, perMessageDeflate: false });
  readonly #clients = new Set<Client>();
  readonly #heartbeat: NodeJS.Timeout;
  readonly #maxBuffered: number;
  #closed = false;

  constructor(
    private readonly name: string,
    private readonly log: Logger,
    private readonly options: BroadcastOptions,
  ) {
    this.#maxBuffered = options.maxBufferedBytes ?? 4 * 1024 * 1024;
    this.#heartbeat = setInterval(() => this.#beat(), options.heartbeatMs ?? 30_000).unref();
  }

  get clientCount(): number {
    return this.#clients.size;
  }

  accept(req: IncomingMessage, socket: Duplex, head: Buffer): Refusal | null {
    if (this.#closed) return { statusCode: 503, message: 'the server is shutting down' };
    if (this.options.maxClients > 0 && this.#clients.size >= this.options.maxClients) {
      return { statusCode: 503, message: `too many ${this.name} clients; see MAILPEN_MAX_EVENT_CLIENTS` };
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      const client: Client = { ws, alive: true };
      this.#clients.add(client);
      ws.on('pong', () => (client.alive = true));
      ws.on('error', (err) => this.log.debug({ err }, `${this.name} client error`));
      ws.on('close', () => this.#clients.delete(client));
    });
    return null;
  }

  /** Sends one frame to every client; nothing is serialized when nobody listens. */
  send(frame: () => unknown): void {
    if (this.#clients.size === 0) return;
    const text = JSON.stringify(frame());
    for (const client of this.#clients) {
      const { ws } = client;
      if (ws.readyState !== WebSocket.OPEN) continue;
      if (ws.bufferedAmount > this.#maxBuffered) {
        this.log.warn({ buffered: ws.bufferedAmount }, `${this.name} client too slow; dropped`);
        this.#clients.delete(client);
        ws.terminate();
        continue;
      }
      ws.send(text);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#heartbeat);
    await Promise.all(
      [...this.#clients].map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.ws.readyState === WebSocket.CLOSED) return resolve();
            c.ws.once('close', () => resolve());
            c.ws.close(1001, 'server shutting down');
            setTimeout(() => c.ws.terminate(), 1000).unref();
          }),
      ),
    );
    this.#clients.clear();
    this.#wss.close();
  }

  #beat(): void {
    for (const client of this.#clients) {
      if (!client.alive) {
        this.#clients.delete(client);
        client.ws.terminate();
        continue;
      }
      client.alive = false;
      client.ws.ping();
    }
  }
}
