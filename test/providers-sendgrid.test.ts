// The SendGrid v3 Mail Send edge, driven by the official @sendgrid/mail SDK pointed at a real
// Mailpen by its documented base-URL option; every message is read back through Mailpen's API.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { MailService } from '@sendgrid/mail';
import { Client } from '@sendgrid/client';
import { startTestServer, type TestServer } from './helpers/server.js';
import { PIXEL_PNG, headerValues, inboxIds, part, readMessage, readPart, uniqueKey } from './helpers/providers.js';

interface SendGridError extends Error {
  code: number;
  response: { headers: Record<string, string>; body: { errors: Array<{ message: string; field: string | null }> } };
}

function sendgrid(server: TestServer, key: string): { mail: MailService; client: Client } {
  const client = new Client();
  client.setApiKey(key);
  client.setDefaultRequest('baseUrl', `${server.httpUrl}/sendgrid/`);
  const mail = new MailService();
  mail.setClient(client);
  return { mail, client };
}

async function rejection(promise: Promise<unknown>): Promise<SendGridError> {
  const error = await promise.then(
    () => assert.fail('the request was accepted'),
    (e: unknown) => e,
  );
  assert.equal((error as Error).constructor.name, 'ResponseError', String(error));
  return error as SendGridError;
}

describe('SendGrid v3 mail send through @sendgrid/mail', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ maxMessageSize: 256 * 1024 });
  });
  after(async () => server.close());

  test('stores text, HTML, attachments, an inline image, Cc, Bcc (envelope only) and custom headers in the key\'s inbox', async () => {
    const key = uniqueKey('SG.test');
    const { mail } = sendgrid(server, key);
    const [response] = await mail.send({
      from: { email: 'app@example.test', name: 'The App' },
      to: [{ email: 'ann@example.test', name: 'Ann' }],
      cc: 'carol@example.test',
      bcc: 'hidden@example.test',
      replyTo: 'support@example.test',
      subject: 'Welcome, Ann',
      text: 'Hello Ann, confirm at https://app.test/confirm?t=1',
      html: '<p>Hello <b>Ann</b></p><img src="cid:logo">',
      headers: { 'X-Campaign': 'welcome-2026' },
      attachments: [
        { content: Buffer.from('id,name\n1,Ann\n').toString('base64'), filename: 'people.csv', type: 'text/csv', disposition: 'attachment' },
        // content_id is what the API reads; the SDK's types call it contentId but send that unchanged.
        Object.assign({ content: PIXEL_PNG.toString('base64'), filename: 'logo.png', type: 'image/png', disposition: 'inline' }, { content_id: 'logo' }),
      ],
    });
    assert.equal(response.statusCode, 202);
    const id = response.headers['x-message-id'] as string;
    assert.deepEqual(await inboxIds(server, key), [id]);

    const message = await readMessage(server, id);
    assert.equal(message.inbox, key);
    assert.equal(message.subject, 'Welcome, Ann');
    assert.deepEqual(message.from, { name: 'The App', address: 'app@example.test' });
    assert.deepEqual(message.to, [{ name: 'Ann', address: 'ann@example.test' }]);
    assert.deepEqual(message.cc, [{ name: '', address: 'carol@example.test' }]);
    assert.deepEqual(message.replyTo, [{ name: '', address: 'support@example.test' }]);
    assert.deepEqual(headerValues(message, 'bcc'), [], 'Bcc is never a header');
    assert.deepEqual(message.envelope.to, ['ann@example.test', 'carol@example.test', 'hidden@example.test']);
    assert.equal(message.envelope.from, 'app@example.test');
    assert.equal(message.envelope.via, 'sendgrid');
    assert.equal(message.envelope.authUser, key);
    assert.deepEqual(headerValues(message, 'x-campaign'), ['welcome-2026']);
    assert.equal(message.text?.trim(), 'Hello Ann, confirm at https://app.test/confirm?t=1');
    assert.equal(message.html, '<p>Hello <b>Ann</b></p><img src="cid:logo">');
    const csv = part(message, 'people.csv');
    assert.equal(csv.contentType, 'text/csv');
    assert.equal(csv.disposition, 'attachment');
    assert.equal((await readPart(server, id, csv.partId)).toString(), 'id,name\n1,Ann\n');
    const logo = part(message, 'logo.png');
    assert.equal(logo.contentId, 'logo');
    assert.equal(logo.disposition, 'inline');
    assert.deepEqual(await readPart(server, id, logo.partId), PIXEL_PNG);
    assert.deepEqual(message.problems, []);
  });

  test('stores one message per personalization, each with its own recipients, subject and substitutions', async () => {
    const key = uniqueKey('SG.multi');
    const { mail } = sendgrid(server, key);
    await mail.send({
      from: 'app@example.test',
      subject: 'Hi {{name}}',
      text: 'Your code is {{code}}',
      personalizations: [
        { to: 'ann@example.test', substitutions: { name: 'Ann', code: '111' } },
        { to: 'bob@example.test', subject: 'Bob, {{code}}', substitutions: { name: 'Bob', code: '222' } },
      ],
    });
    const [second, first] = await Promise.all((await inboxIds(server, key)).map((id) => readMessage(server, id)));
    assert.deepEqual(first!.envelope.to, ['ann@example.test']);
    assert.equal(first!.subject, 'Hi Ann');
    assert.equal(first!.text?.trim(), 'Your code is 111');
    assert.deepEqual(second!.envelope.to, ['bob@example.test']);
    assert.equal(second!.subject, 'Bob, 222');
    assert.equal(second!.text?.trim(), 'Your code is 222');
  });

  test('keeps a dynamic template\'s id and data exactly as given, and notes a scheduled send without waiting for it', async () => {
    const key = uniqueKey('SG.template');
    const { mail } = sendgrid(server, key);
    const data = { name: 'Ann', items: [{ sku: 'A-1', qty: 2 }], total: 19.5, vip: true };
    const sendAt = Math.floor(Date.now() / 1000) + 3600;
    const [response] = await mail.send({ from: 'app@example.test', to: 'ann@example.test', templateId: 'd-0123456789abcdef', dynamicTemplateData: data, sendAt });
    const message = await readMessage(server, response.headers['x-message-id'] as string);
    assert.deepEqual(JSON.parse(message.text!), { template_id: 'd-0123456789abcdef', dynamic_template_data: data });
    assert.deepEqual(headerValues(message, 'x-mailpen-scheduled-at'), [new Date(sendAt * 1000).toISOString()]);
  });

  test('answers what SendGrid rejects with its status and errors body, raised as the SDK\'s ResponseError', async () => {
    const key = uniqueKey('SG.reject');
    const { mail } = sendgrid(server, key);
    const noRecipient = await rejection(mail.send({ from: 'app@example.test', subject: 's', text: 't', personalizations: [{ to: [] }] }));
    assert.equal(noRecipient.code, 400);
    assert.equal(noRecipient.response.body.errors[0]!.field, 'personalizations.0.to');

    const badAddress = await rejection(mail.send({ from: 'app@example.test', to: 'not an address', subject: 's', text: 't' }));
    assert.equal(badAddress.code, 400);
    assert.equal(badAddress.response.body.errors[0]!.field, 'personalizations.0.to.0.email');
    assert.match(badAddress.response.body.errors[0]!.message, /valid address/);

    const noContent = await rejection(mail.send({ from: 'app@example.test', to: 'ann@example.test', subject: 's', content: [{ type: 'text/plain', value: '' }] }));
    assert.equal(noContent.code, 400);
    assert.equal(noContent.response.body.errors[0]!.field, 'content.0.value');

    const many = Array.from({ length: 1001 }, (_, i) => `r${i}@example.test`);
    const tooMany = await rejection(mail.send({ from: 'app@example.test', to: many, subject: 's', text: 't' }));
    assert.equal(tooMany.code, 400);
    assert.match(tooMany.response.body.errors[0]!.message, /recipients/);

    const big = Buffer.alloc(300 * 1024, 7).toString('base64');
    const tooLarge = await rejection(mail.send({ from: 'app@example.test', to: 'ann@example.test', subject: 's', text: 't', attachments: [{ content: big, filename: 'big.bin' }] }));
    assert.equal(tooLarge.code, 413);
    assert.match(tooLarge.response.body.errors[0]!.message, /MAILPEN_MAX_MESSAGE_SIZE/);

    const badKey = await rejection(sendgrid(server, 'bad key with spaces').mail.send({ from: 'app@example.test', to: 'ann@example.test', subject: 's', text: 't' }));
    assert.equal(badKey.code, 401);
    assert.match(badKey.response.body.errors[0]!.message, /authorization grant is invalid/);

    assert.deepEqual(await inboxIds(server, key), [], 'nothing rejected was stored');
  });

  test('answers endpoints that would need delivery (suppressions, webhooks) with a clear error in SendGrid\'s shape', async () => {
    const { client } = sendgrid(server, uniqueKey('SG.other'));
    const error = await rejection(client.request({ method: 'GET', url: '/v3/suppression/bounces' }));
    assert.equal(error.code, 501);
    assert.match(error.response.body.errors[0]!.message, /never delivers/);
  });
});

describe('SendGrid with MAILPEN_PROVIDER_KEYS (strict keys)', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ providerKeys: ['SG.allowed'] });
  });
  after(async () => server.close());

  test('accepts a configured key into its inbox and refuses any other with SendGrid\'s 401', async () => {
    const [response] = await sendgrid(server, 'SG.allowed').mail.send({ from: 'app@example.test', to: 'ann@example.test', subject: 'ok', text: 't' });
    assert.deepEqual(await inboxIds(server, 'SG.allowed'), [response.headers['x-message-id']]);
    const error = await rejection(sendgrid(server, 'SG.other').mail.send({ from: 'app@example.test', to: 'ann@example.test', subject: 'no', text: 't' }));
    assert.equal(error.code, 401);
    assert.match(error.response.body.errors[0]!.message, /MAILPEN_PROVIDER_KEYS/);
  });
});
