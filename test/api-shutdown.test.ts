// Stopping the HTTP edge: connections a client opened but never used, and keep-alive connections
// between requests, must not hold the stop open (Node waits for headersTimeout, 60 s, otherwise).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startTestServer } from './helpers/server.js';

test('a connected socket that never sent a request does not delay the stop', async () => {
  const server = await startTestServer();
  const socket = net.connect(server.http.port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  const closed = new Promise((resolve) => socket.once('close', resolve));
  // Reused keep-alive connections too: one request answered, the socket left open.
  assert.equal((await fetch(`${server.httpUrl}/api/info`)).status, 200);
  const started = Date.now();
  await server.close();
  await closed;
  assert.ok(Date.now() - started < 3000, `stopped in ${Date.now() - started} ms`);
});
