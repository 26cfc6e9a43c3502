// A local HTTP server that records every request reaching it: where a payload in a message would
// report to if it ran, and where remote content in a message points. Only the browser under test
// ever reaches it; anything else arriving (say, from the Mailpen process) shows in `agents`.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A 2x2 red PNG, served for any path ending in .png so that remote images really load. */
export const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP4z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==',
  'base64',
);

export class Sink {
  readonly hits: string[] = [];
  /** The User-Agent of each hit: a browser's, or someone else's. */
  readonly agents: string[] = [];
  readonly #server: Server;
  #waiters: Array<() => void> = [];

  constructor() {
    this.#server = createServer((req, res) => {
      this.hits.push(req.url ?? '');
      this.agents.push(req.headers['user-agent'] ?? '');
      for (const w of this.#waiters.splice(0)) w();
      if (req.url?.endsWith('.png')) res.writeHead(200, { 'content-type': 'image/png' }).end(PNG);
      else res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async waitFor(path: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.hits.includes(path)) {
      if (Date.now() > deadline) throw new Error(`the sink never saw ${path}; it saw ${JSON.stringify(this.hits)}`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 200).unref();
      });
    }
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
