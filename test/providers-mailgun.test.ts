// The Mailgun edge, driven by the official mailgun.js SDK (with the form-data package, as its
// README shows) pointed at a real Mailpen by its url option; every message is read back through
// Mailpen's API.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Mailgun from 'mailgun.js';
import FormData from 'form-data';
import { startTestServer, type TestServer } from './helpers/server.js';
import { PIXEL_PNG, headerValues, inboxIds, part, readMessage, readPart, readRaw, uniqueKey } from './helpers/providers.js';

function mailgun(server: TestServer, key: string): ReturnType<Mailgun['client']> {
  return new Mailgun(FormData).client({ username: 'api', key, url: `${server.httpUrl}/mailgun` });
}

interface MailgunError {
  type: string;
  status: number;
  details: string;
}

async function rejection(promise: Promise<unknown>): Promise<MailgunError> {
  const error = await promise.then(
    () => assert.fail('the request was accepted'),
    (e: unknown) => e as MailgunError,
  );
  assert.equal(error.type, 'MailgunAPIError', String(error));
  return error;
}

/** The Mailpen id inside Mailgun's "<id@domain>". */
const mailpenId = (id: string | undefined): string => /^<(.+)@[^@]+>$/.exec(id ?? '')![1]!;

describe('Mailgun through mailgun.js', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ maxMessageSize: 256 * 1024 });
  });
  after(async () => server.close());

  test('stores text, HTML, attachments, an inline image, Cc, Bcc (envelope only), custom headers and variables in the key\'s inbox', async () => {
    const key = uniqueKey('key');
    const sent = await mailgun(server, key).messages.create('mg.example.test', {
      from: 'The App <app@mg.example.test>',
      to: ['Ann <ann@example.test>', 'bob@example.test'],
      cc: 'carol@example.test',
      bcc: 'hidden@example.test',
      subject: 'Invoice 7',
      text: 'Your invoice is attached.',
      html: '<p>Invoice</p><img src="cid:logo.png">',
      attachment: [{ filename: 'invoice.txt', data: Buffer.from('amount: 7') }],
      inline: [{ filename: 'logo.png', data: PIXEL_PNG }],
      'h:X-Invoice': 'INV-7',
      'h:Reply-To': 'billing@example.test',
      'v:user-id': '42',
    });
    assert.equal(sent.status, 200);
    assert.equal(sent.message, 'Queued. Thank you.');
    const id = mailpenId(sent.id);
    assert.match(sent.id!, /@mg\.example\.test>$/);
    assert.deepEqual(await inboxIds(server, key), [id]);

    const message = await readMessage(server, id);
    assert.equal(message.inbox, key);
    assert.equal(message.subject, 'Invoice 7');
    assert.deepEqual(message.from, { name: 'The App', address: 'app@mg.example.test' });
    assert.deepEqual(message.to, [{ name: 'Ann', address: 'ann@example.test' }, { name: '', address: 'bob@example.test' }]);
    assert.deepEqual(message.cc, [{ name: '', address: 'carol@example.test' }]);
    assert.deepEqual(message.replyTo, [{ name: '', address: 'billing@example.test' }]);
    assert.deepEqual(headerValues(message, 'bcc'), []);
    assert.deepEqual(message.envelope.to, ['ann@example.test', 'bob@example.test', 'carol@example.test', 'hidden@example.test']);
    assert.equal(message.envelope.via, 'mailgun');
    assert.deepEqual(headerValues(message, 'x-invoice'), ['INV-7']);
    assert.deepEqual(JSON.parse(headerValues(message, 'x-mailgun-variables')[0]!), { 'user-id': '42' });
    assert.equal(message.text?.trim(), 'Your invoice is attached.');
    assert.equal(message.html, '<p>Invoice</p><img src="cid:logo.png">');
    const invoice = part(message, 'invoice.txt');
    assert.equal(invoice.disposition, 'attachment');
    assert.equal((await readPart(server, id, invoice.partId)).toString(), 'amount: 7');
    const logo = part(message, 'logo.png');
    assert.equal(logo.contentId, 'logo.png');
    assert.equal(logo.disposition, 'inline');
    assert.deepEqual(await readPart(server, id, logo.partId), PIXEL_PNG);
  });

  test('stores a MIME upload (messages.mime) byte for byte, its envelope from the to field', async () => {
    const key = uniqueKey('key-mime');
    const raw = Buffer.from('From: App <app@example.test>\r\nTo: ann@example.test\r\nSubject: As built\r\nX-Odd:   spacing kept  \r\n\r\nLine one\r\nLine two\r\n');
    const sent = await mailgun(server, key).messages.create('example.test', { to: ['ann@example.test', 'hidden@example.test'], message: raw });
    const id = mailpenId(sent.id);
    assert.deepEqual(await readRaw(server, id), raw);
    const message = await readMessage(server, id);
    assert.deepEqual(message.envelope.to, ['ann@example.test', 'hidden@example.test']);
    assert.equal(message.envelope.from, 'app@example.test');
    assert.equal(message.envelope.via, 'mailgun');
  });

  test('batch sending with recipient-variables stores one message per recipient, each with its own values', async () => {
    const key = uniqueKey('key-batch');
    await mailgun(server, key).messages.create('example.test', {
      from: 'app@example.test',
      to: ['ann@example.test', 'bob@example.test'],
      subject: 'Hi %recipient.first%',
      text: 'Your code: %recipient.code%',
      'recipient-variables': JSON.stringify({ 'ann@example.test': { first: 'Ann', code: 'A1' }, 'bob@example.test': { first: 'Bob', code: 'B2' } }),
    });
    const messages = await Promise.all((await inboxIds(server, key)).map((id) => readMessage(server, id)));
    const byRecipient = new Map(messages.map((m) => [m.envelope.to.join(','), m]));
    assert.equal(byRecipient.get('ann@example.test')?.subject, 'Hi Ann');
    assert.equal(byRecipient.get('ann@example.test')?.text?.trim(), 'Your code: A1');
    assert.equal(byRecipient.get('bob@example.test')?.subject, 'Hi Bob');
    assert.equal(byRecipient.size, 2);
  });

  test('answers what Mailgun rejects with its status and { message }, raised as the SDK\'s MailgunAPIError', async () => {
    const key = uniqueKey('key-reject');
    const client = mailgun(server, key);
    const noTo = await rejection(client.messages.create('example.test', { from: 'app@example.test', subject: 's', text: 't' } as never));
    assert.equal(noTo.status, 400);
    assert.equal(noTo.details, 'to parameter is missing');

    const badTo = await rejection(client.messages.create('example.test', { from: 'app@example.test', to: 'ann@', subject: 's', text: 't' }));
    assert.equal(badTo.status, 400);
    assert.match(badTo.details, /'to' parameter is not a valid address/);

    const noContent = await rejection(client.messages.create('example.test', { from: 'app@example.test', to: 'ann@example.test', subject: 's' } as never));
    assert.equal(noContent.details, "Need at least one of 'text', 'html' or 'template' parameters specified");

    const many = Array.from({ length: 1001 }, (_, i) => `r${i}@example.test`);
    const tooMany = await rejection(client.messages.create('example.test', { from: 'app@example.test', to: many, subject: 's', text: 't' }));
    assert.match(tooMany.details, /Too many recipients/);

    const tooLarge = await rejection(
      client.messages.create('example.test', { from: 'app@example.test', to: 'ann@example.test', subject: 's', text: 't', attachment: [{ filename: 'big.bin', data: Buffer.alloc(300 * 1024, 1) }] }),
    );
    assert.equal(tooLarge.status, 413);
    assert.match(tooLarge.details, /MAILPEN_MAX_MESSAGE_SIZE/);

    const badKey = await rejection(mailgun(server, 'key with spaces').messages.create('example.test', { from: 'app@example.test', to: 'ann@example.test', subject: 's', text: 't' }));
    assert.equal(badKey.status, 401);
    assert.equal(badKey.details, 'Forbidden');

    assert.deepEqual(await inboxIds(server, key), [], 'nothing rejected was stored');
  });

  test('answers what needs delivery (webhooks, suppressions) with a clear error in Mailgun\'s shape', async () => {
    const error = await rejection(mailgun(server, uniqueKey('key-other')).suppressions.list('example.test', 'bounces'));
    assert.equal(error.status, 501);
    assert.match(error.details, /never delivers/);
  });
});
