// The Postmark edge, driven by the official postmark SDK pointed at a real Mailpen by its
// documented requestHost option; every message is read back through Mailpen's API.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ServerClient, Errors } from 'postmark';
import { startTestServer, type TestServer } from './helpers/server.js';
import { PIXEL_PNG, headerValues, inboxIds, part, readMessage, readPart, uniqueKey } from './helpers/providers.js';

function postmark(server: TestServer, token: string): ServerClient {
  return new ServerClient(token, { useHttps: false, requestHost: `${new URL(server.httpUrl).host}/postmark` });
}

async function rejection<T extends Error>(promise: Promise<unknown>, type: new (...args: never[]) => T): Promise<T> {
  const error = await promise.then(
    () => assert.fail('the request was accepted'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
  return error;
}

describe('Postmark through the postmark SDK', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ maxMessageSize: 256 * 1024 });
  });
  after(async () => server.close());

  test('stores text, HTML, attachments, an inline image, Cc, Bcc (envelope only) and custom headers in the token\'s inbox', async () => {
    const token = uniqueKey('pm');
    const sent = await postmark(server, token).sendEmail({
      From: 'The App <app@example.test>',
      To: 'Ann <ann@example.test>, bob@example.test',
      Cc: 'carol@example.test',
      Bcc: 'hidden@example.test',
      ReplyTo: 'support@example.test',
      Subject: 'Your receipt',
      TextBody: 'Thanks for your order.',
      HtmlBody: '<p>Thanks</p><img src="cid:logo.png">',
      Headers: [{ Name: 'X-Order', Value: 'A-1001' }],
      Attachments: [
        { Name: 'receipt.txt', Content: Buffer.from('total: 19.50').toString('base64'), ContentType: 'text/plain', ContentID: null },
        { Name: 'logo.png', Content: PIXEL_PNG.toString('base64'), ContentType: 'image/png', ContentID: 'cid:logo.png' },
      ],
    });
    assert.equal(sent.ErrorCode, 0);
    assert.equal(sent.Message, 'OK');
    assert.equal(sent.To, 'ann@example.test, bob@example.test');
    assert.ok(!Number.isNaN(Date.parse(sent.SubmittedAt)));
    assert.deepEqual(await inboxIds(server, token), [sent.MessageID]);

    const message = await readMessage(server, sent.MessageID);
    assert.equal(message.inbox, token);
    assert.equal(message.subject, 'Your receipt');
    assert.deepEqual(message.from, { name: 'The App', address: 'app@example.test' });
    assert.deepEqual(message.to, [{ name: 'Ann', address: 'ann@example.test' }, { name: '', address: 'bob@example.test' }]);
    assert.deepEqual(message.cc, [{ name: '', address: 'carol@example.test' }]);
    assert.deepEqual(message.replyTo, [{ name: '', address: 'support@example.test' }]);
    assert.deepEqual(headerValues(message, 'bcc'), []);
    assert.deepEqual(message.envelope.to, ['ann@example.test', 'bob@example.test', 'carol@example.test', 'hidden@example.test']);
    assert.equal(message.envelope.from, 'app@example.test');
    assert.equal(message.envelope.via, 'postmark');
    assert.deepEqual(headerValues(message, 'x-order'), ['A-1001']);
    assert.equal(message.text?.trim(), 'Thanks for your order.');
    assert.equal(message.html, '<p>Thanks</p><img src="cid:logo.png">');
    const receipt = part(message, 'receipt.txt');
    assert.equal(receipt.disposition, 'attachment');
    assert.equal((await readPart(server, sent.MessageID, receipt.partId)).toString(), 'total: 19.50');
    const logo = part(message, 'logo.png');
    assert.equal(logo.contentId, 'logo.png');
    assert.equal(logo.disposition, 'inline');
    assert.deepEqual(await readPart(server, sent.MessageID, logo.partId), PIXEL_PNG);
  });

  test('answers a batch with one result per message, storing the good ones and refusing the bad one in place', async () => {
    const token = uniqueKey('pm-batch');
    const results = await postmark(server, token).sendEmailBatch([
      { From: 'app@example.test', To: 'ann@example.test', Subject: 'one', TextBody: '1' },
      { From: 'app@example.test', To: 'not-an-address', Subject: 'two', TextBody: '2' },
      { From: 'app@example.test', To: 'bob@example.test', Subject: 'three', TextBody: '3' },
    ]);
    assert.deepEqual(results.map((r) => r.ErrorCode), [0, 300, 0]);
    assert.match(results[1]!.Message, /Invalid 'To' address/);
    assert.deepEqual((await inboxIds(server, token)).sort(), [results[0]!.MessageID, results[2]!.MessageID].sort());
    assert.equal((await readMessage(server, results[2]!.MessageID)).subject, 'three');
  });

  test('keeps a template\'s id and model exactly as given', async () => {
    const token = uniqueKey('pm-template');
    const model = { name: 'Ann', action_url: 'https://app.test/welcome?t=9', items: [1, 2] };
    const sent = await postmark(server, token).sendEmailWithTemplate({ From: 'app@example.test', To: 'ann@example.test', TemplateAlias: 'welcome', TemplateModel: model });
    const message = await readMessage(server, sent.MessageID);
    assert.deepEqual(JSON.parse(message.text!), { TemplateAlias: 'welcome', TemplateModel: model });
    assert.deepEqual(message.envelope.to, ['ann@example.test']);
  });

  test('answers what Postmark rejects with 422 and its ErrorCode, raised as the SDK\'s own errors', async () => {
    const token = uniqueKey('pm-reject');
    const client = postmark(server, token);
    const noRecipient = await rejection(client.sendEmail({ From: 'app@example.test', Subject: 's', TextBody: 't' }), Errors.InvalidEmailRequestError);
    assert.equal(noRecipient.statusCode, 422);
    assert.equal(noRecipient.code, 300);
    assert.match(noRecipient.message, /Zero recipients/);

    const badAddress = await rejection(client.sendEmail({ From: 'app@example.test', To: 'ann@', Subject: 's', TextBody: 't' }), Errors.InvalidEmailRequestError);
    assert.match(badAddress.message, /Invalid 'To' address: 'ann@'/);

    const noBody = await rejection(client.sendEmail({ From: 'app@example.test', To: 'ann@example.test', Subject: 's' }), Errors.InvalidEmailRequestError);
    assert.match(noBody.message, /TextBody or HtmlBody/);

    const many = Array.from({ length: 51 }, (_, i) => `r${i}@example.test`).join(', ');
    const tooMany = await rejection(client.sendEmail({ From: 'app@example.test', To: many, Subject: 's', TextBody: 't' }), Errors.InvalidEmailRequestError);
    assert.match(tooMany.message, /Maximum of 50 recipients/);

    const big = Buffer.alloc(300 * 1024, 1).toString('base64');
    const tooLarge = await rejection(
      client.sendEmail({ From: 'app@example.test', To: 'ann@example.test', Subject: 's', TextBody: 't', Attachments: [{ Name: 'big.bin', Content: big, ContentType: 'application/octet-stream', ContentID: null }] }),
      Errors.InvalidEmailRequestError,
    );
    assert.match(tooLarge.message, /MAILPEN_MAX_MESSAGE_SIZE/);

    const badToken = await rejection(postmark(server, 'token with spaces').sendEmail({ From: 'app@example.test', To: 'ann@example.test', Subject: 's', TextBody: 't' }), Errors.InvalidAPIKeyError);
    assert.equal(badToken.statusCode, 401);
    assert.equal(badToken.code, 10);

    assert.deepEqual(await inboxIds(server, token), [], 'nothing rejected was stored');
  });

  test('answers what needs delivery (bounces, suppressions, webhooks) with a clear error in Postmark\'s shape', async () => {
    const client = postmark(server, uniqueKey('pm-other'));
    const error = await rejection(client.getBounces(), Errors.UnknownError);
    assert.equal(error.statusCode, 501);
    assert.match(error.message, /never delivers/);
  });
});
