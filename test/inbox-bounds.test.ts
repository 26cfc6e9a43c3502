// Inbox names come from outside and are repeated in every list item, event and counts frame:
// 3,000 SMTP AUTH user names of 12 KB made /api/inboxes and every counts frame 36 MB. A name is
// now at most 128 printable characters (refused at AUTH with the reason, 535), inboxes are at
// most MAILPEN_MAX_INBOXES (a new one past it: 452 at DATA, 400 on upload), so what a counts
// frame carries is bounded.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { RawSmtp } from './helpers/smtp-client.js';
import { startTestServer } from './helpers/server.js';
import { apiApp } from './helpers/api-app.js';
import { MAX_INBOX_NAME_LENGTH } from '../server/store/inbox-name.js';

const plain = (user: string): string => `AUTH PLAIN ${Buffer.from(`\0${user}\0secret`).toString('base64')}`;

/** AUTH LOGIN sends the user on a line of its own: the way a name longer than a command line gets in. */
async function login(client: RawSmtp, user: string): Promise<{ code: number; text: string }> {
  assert.equal((await client.command('AUTH LOGIN')).code, 334);
  assert.equal((await client.command(Buffer.from(user).toString('base64'))).code, 334);
  return client.command(Buffer.from('secret').toString('base64'));
}

async function sendAs(client: RawSmtp, subject: string): Promise<number> {
  assert.equal((await client.command('MAIL FROM:<a@example.test>')).code, 250);
  assert.equal((await client.command('RCPT TO:<b@example.test>')).code, 250);
  return (await client.data(Buffer.from(`Subject: ${subject}\r\n\r\nx\r\n`))).code;
}

describe('inbox names and counts are bounded', () => {
  it('refuses an AUTH user name that cannot be an inbox name with 535 and the reason, and the session goes on', async () => {
    const server = await startTestServer();
    try {
      for (const [user, reason] of [
        ['u'.repeat(11_000), /at most 128 characters/],
        ['two words', /letters, digits/],
        ['a/b<script>', /letters, digits/],
        ['x'.repeat(MAX_INBOX_NAME_LENGTH + 1), /at most 128/],
      ] as const) {
        // A connection each: smtp-server counts unauthenticated commands per session.
        const { client } = await RawSmtp.connect(server.smtpPort);
        await client.command('EHLO bounds.test');
        const reply = await login(client, user);
        assert.equal(reply.code, 535, `${user.slice(0, 20)}: ${reply.text}`);
        assert.match(reply.text, reason);
        // The session goes on: a name that can be an inbox is taken next.
        assert.equal((await client.command(plain(`ok-${user.length}`))).code, 235);
        await client.quit();
      }
      const { client } = await RawSmtp.connect(server.smtpPort);
      await client.command('EHLO bounds.test');
      assert.equal((await client.command(plain('run-42@example.test'))).code, 235);
      assert.equal(await sendAs(client, 'after refusals'), 250);
      await client.quit();
      assert.deepEqual(server.store.inboxes().map((i) => i.name), ['run-42@example.test']);
    } finally {
      await server.close();
    }
  });

  it('refuses mail for a new inbox past MAILPEN_MAX_INBOXES with 452, keeps the session, and takes it once an inbox is gone', async () => {
    const server = await startTestServer({ maxInboxes: 3 });
    try {
      for (const user of ['a', 'b', 'c']) {
        const { client } = await RawSmtp.connect(server.smtpPort);
        await client.command('EHLO bounds.test');
        assert.equal((await client.command(plain(user))).code, 235);
        assert.equal(await sendAs(client, user), 250);
        await client.quit();
      }
      const { client } = await RawSmtp.connect(server.smtpPort);
      await client.command('EHLO bounds.test');
      assert.equal((await client.command(plain('d'))).code, 235);
      assert.equal(await sendAs(client, 'd'), 452);
      // Same session: the next message goes through once an inbox has been emptied.
      assert.equal((await fetch(`${server.httpUrl}/api/messages?inbox=a`, { method: 'DELETE' })).status, 200);
      assert.equal(await sendAs(client, 'd again'), 250);
      await client.quit();
      assert.deepEqual(server.store.inboxes().map((i) => i.name).sort(), ['b', 'c', 'd']);
      // An existing inbox is never refused.
      const again = await RawSmtp.connect(server.smtpPort);
      await again.client.command('EHLO bounds.test');
      assert.equal((await again.client.command(plain('b'))).code, 235);
      assert.equal(await sendAs(again.client, 'b again'), 250);
      await again.client.quit();
    } finally {
      await server.close();
    }
  });

  it('keeps /api/inboxes and the counts frame small with the most inboxes of the longest names', async () => {
    const api = await apiApp({ maxInboxes: 1000 });
    try {
      for (let i = 0; i < 1000; i++) {
        const inbox = `${String(i).padStart(4, '0')}${'n'.repeat(MAX_INBOX_NAME_LENGTH - 4)}`;
        const res = await api.app.inject({ method: 'POST', url: `/api/messages?inbox=${inbox}`, payload: 'Subject: x\r\n\r\nx\r\n', headers: { 'content-type': 'message/rfc822' } });
        assert.equal(res.statusCode, 201, res.body);
      }
      const refused = await api.app.inject({ method: 'POST', url: '/api/messages?inbox=one-more', payload: 'Subject: x\r\n\r\nx\r\n', headers: { 'content-type': 'message/rfc822' } });
      assert.equal(refused.statusCode, 400);
      assert.match(JSON.parse(refused.body).message, /MAILPEN_MAX_INBOXES/);
      const badName = await api.app.inject({ method: 'POST', url: `/api/messages?inbox=${encodeURIComponent('a b')}`, payload: 'Subject: x\r\n\r\nx\r\n', headers: { 'content-type': 'message/rfc822' } });
      assert.equal(badName.statusCode, 400);
      const list = await api.app.inject({ url: '/api/inboxes' });
      assert.equal(JSON.parse(list.body).inboxes.length, 1000);
      assert.ok(list.body.length < 200_000, `/api/inboxes is ${list.body.length} bytes`);
    } finally {
      await api.close();
    }
  });

  it('sends counts frames under 200 KB at the inbox limit', async () => {
    const server = await startTestServer({ maxInboxes: 1000 });
    try {
      for (let i = 0; i < 1000; i++) {
        const inbox = `${String(i).padStart(4, '0')}${'n'.repeat(MAX_INBOX_NAME_LENGTH - 4)}`;
        server.store.add({ raw: Buffer.from('Subject: x\r\n\r\nx\r\n'), inbox, envelope: { mailFrom: '', rcptTo: [], helo: '', remoteAddress: '', authUser: null, tls: false } });
      }
      const ws = new WebSocket(`ws://127.0.0.1:${server.http.port}/api/events`);
      const hello = await new Promise<string>((resolve, reject) => {
        ws.on('message', (d) => resolve(String(d)));
        ws.on('error', reject);
      });
      ws.close();
      assert.equal(JSON.parse(hello).data.counts.inboxes.length, 1000);
      assert.ok(hello.length < 200_000, `the hello frame with every count is ${hello.length} bytes`);
    } finally {
      await server.close();
    }
  });
});
