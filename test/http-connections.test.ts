// HTTP connections are a bounded resource: a refused upgrade is closed by Mailpen at once, a
// silent connection is closed after the idle timeout, and past MAILPEN_MAX_HTTP_CONNECTIONS new
// ones are closed as they come, so one client cannot take every descriptor (500 refused upgrades
// that a client left open used to hold 500 descriptors for good).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { startTestServer, type TestServer } from './helpers/server.js';

/** A client socket that never closes its own side (as a hostile or broken client does). */
function halfOpen(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true }, () => resolve(socket));
    socket.on('error', reject);
  });
}

function connections(server: TestServer): Promise<number> {
  return new Promise((resolve, reject) => server.app.server.getConnections((err: Error | null, n: number) => (err ? reject(err) : resolve(n))));
}

/** Polls until `condition` holds; fails with `what` after `ms`. */
async function eventually(condition: () => Promise<boolean> | boolean, what: string, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > until) assert.fail(what);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('HTTP connection bounds', () => {
  it('closes a refused upgrade itself, even when the client never closes its side', async () => {
    const server = await startTestServer();
    try {
      const sockets = await Promise.all(Array.from({ length: 50 }, () => halfOpen(server.http.port)));
      const answers = sockets.map((s) => {
        let text = '';
        s.on('data', (d: Buffer) => (text += d.toString()));
        return once(s, 'end').then(() => text);
      });
      for (const s of sockets) {
        s.write('GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nOrigin: http://evil.example\r\n\r\n');
      }
      for (const text of await Promise.all(answers)) assert.match(text, /^HTTP\/1\.1 403 /);
      await eventually(async () => (await connections(server)) === 0, 'the refused sockets are still open on the server');
      for (const s of sockets) s.destroy();
    } finally {
      await server.close();
    }
  });

  it('closes a connection that sends nothing once the idle timeout passes, but not a pending wait', async () => {
    const server = await startTestServer({ httpIdleTimeout: 300 });
    try {
      const silent = await halfOpen(server.http.port);
      const waiting = fetch(`${server.httpUrl}/api/wait?q=subject:never&timeout=1`);
      // The server's side is closed ('end' here); the client's stays open by its own choice.
      await once(silent, 'end');
      await eventually(async () => (await connections(server)) <= 1, 'only the wait is still connected');
      silent.destroy();
      // The wait outlived the idle timeout and got its own answer.
      assert.equal((await waiting).status, 408);
    } finally {
      await server.close();
    }
  });

  it('closes connections past MAILPEN_MAX_HTTP_CONNECTIONS as they come, and serves again once some leave', async () => {
    const server = await startTestServer({ maxHttpConnections: 10 });
    try {
      const held = await Promise.all(Array.from({ length: 10 }, () => halfOpen(server.http.port)));
      await eventually(async () => (await connections(server)) === 10, 'the ten connections are counted');
      const extra = await halfOpen(server.http.port);
      extra.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      let got = '';
      extra.on('data', (d: Buffer) => (got += d.toString()));
      await once(extra, 'end');
      assert.equal(got, '', 'the connection past the limit was closed unanswered');
      for (const s of held) s.destroy();
      await eventually(async () => (await connections(server)) === 0, 'the held connections are gone');
      assert.equal((await fetch(`${server.httpUrl}/healthz`)).status, 200);
    } finally {
      await server.close();
    }
  });
});
