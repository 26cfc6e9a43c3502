// via: in the search language finds messages by the provider API they came through.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Resend } from 'resend';
import nodemailer from 'nodemailer';
import { startTestServer } from './helpers/server.js';

test('via:resend finds what came through Resend\'s API and not SMTP mail; -via:resend the opposite', async () => {
  const server = await startTestServer();
  try {
    const sent = await new Resend('re_search', { baseUrl: `${server.httpUrl}/resend` }).emails.send({ from: 'app@example.test', to: 'ann@example.test', subject: 'api', text: 'x' });
    const smtp = nodemailer.createTransport({ host: '127.0.0.1', port: server.smtpPort, secure: false, ignoreTLS: true });
    await smtp.sendMail({ from: 'app@example.test', to: 'ann@example.test', subject: 'smtp', text: 'x' });
    const ids = async (q: string): Promise<string[]> => {
      const res = await fetch(`${server.httpUrl}/api/messages?${new URLSearchParams({ q })}`);
      assert.equal(res.status, 200);
      return ((await res.json()) as { messages: Array<{ id: string; subject: string }> }).messages.map((m) => m.subject);
    };
    assert.equal(sent.error, null);
    assert.deepEqual(await ids('via:resend'), ['api']);
    assert.deepEqual(await ids('via:Resend'), ['api']);
    assert.deepEqual(await ids('-via:resend'), ['smtp']);
    assert.deepEqual(await ids('via:sendgrid'), []);
  } finally {
    await server.close();
  }
});
