// server/turn-end.ts: what a read queues for the end of its turn runs before sliced work that
// yielded earlier goes on (SMTP replies before a search's next slice). Driven by a real socket
// pair, so the read is a real poll-phase callback of the next turn.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { atTurnEnd, nextTurn } from '../server/turn-end.js';

it('runs what a read queued for the end of its turn before a nextTurn() queued in the turn before', async () => {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  const [accepted] = (await once(server, 'connection')) as [net.Socket];
  await once(client, 'connect');
  const order: string[] = [];
  const read = new Promise<void>((resolve) => {
    accepted.on('data', () => {
      order.push('read');
      atTurnEnd(() => {
        order.push('end of the read turn');
        resolve();
      });
    });
  });
  // From inside an immediate, as a search slice yields: the nextTurn() is queued before the next
  // turn's reads, and the bytes are in the socket by then.
  const slice = await new Promise<Promise<void>>((resolve) =>
    setImmediate(() => {
      const next = nextTurn().then(() => void order.push('next slice'));
      client.write('x');
      resolve(next);
    }),
  );
  await Promise.all([slice, read]);
  assert.deepEqual(order, ['read', 'end of the read turn', 'next slice']);
  client.destroy();
  accepted.destroy();
  server.close();
});

it('lets nextTurn() go on at once when nothing is queued for the end of the turn', async () => {
  let went = false;
  const next = nextTurn().then(() => {
    went = true;
  });
  await new Promise((resolve) => setImmediate(resolve));
  await next;
  assert.equal(went, true);
});
