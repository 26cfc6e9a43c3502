// With Mailpen's own API auth on (MAILPEN_UI_AUTH, MAILPEN_API_TOKEN), the provider APIs still
// take each SDK's own Authorization header (a SendGrid or Resend key is a Bearer token too), while
// the UI and API still need Mailpen's credentials.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { MailService } from '@sendgrid/mail';
import { Client } from '@sendgrid/client';
import { Resend } from 'resend';
import Mailgun from 'mailgun.js';
import FormData from 'form-data';
import { startTestServer, type TestServer } from './helpers/server.js';

describe('provider APIs with MAILPEN_UI_AUTH and MAILPEN_API_TOKEN set', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ uiAuth: new Map([['dev', 's3cret']]), apiToken: 't0ken' });
  });
  after(async () => server.close());

  const api = (path: string, token?: string): Promise<Response> =>
    fetch(`${server.httpUrl}${path}`, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });

  test('SendGrid, Resend and Mailgun sends are stored with their own keys; reading them needs Mailpen\'s token', async () => {
    const client = new Client();
    client.setApiKey('SG.app-key');
    client.setDefaultRequest('baseUrl', `${server.httpUrl}/sendgrid/`);
    const sendgrid = new MailService();
    sendgrid.setClient(client);
    const [response] = await sendgrid.send({ from: 'app@example.test', to: 'ann@example.test', subject: 'sg', text: 't' });
    assert.equal(response.statusCode, 202);

    const resend = await new Resend('re_app_key', { baseUrl: `${server.httpUrl}/resend` }).emails.send({ from: 'app@example.test', to: 'ann@example.test', subject: 're', text: 't' });
    assert.equal(resend.error, null);

    const mailgun = await new Mailgun(FormData).client({ username: 'api', key: 'mg-key', url: `${server.httpUrl}/mailgun` }).messages.create('example.test', { from: 'app@example.test', to: 'ann@example.test', subject: 'mg', text: 't' });
    assert.equal(mailgun.status, 200);

    assert.equal((await api('/api/messages')).status, 401, 'the API still needs Mailpen\'s credentials');
    assert.equal((await api('/api/messages', 'SG.app-key')).status, 401, 'a provider key is not Mailpen\'s token');
    const list = (await (await api('/api/messages', 't0ken')).json()) as { messages: Array<{ subject: string; inbox: string }> };
    assert.deepEqual(list.messages.map((m) => [m.subject, m.inbox]).sort(), [['mg', 'mg-key'], ['re', 're_app_key'], ['sg', 'SG.app-key']]);
  });
});
