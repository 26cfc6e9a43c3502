// The Amazon SES edge, driven by the official AWS SDK v3 clients for SES v2 (REST-JSON) and SES v1
// (the query protocol), each pointed at a real Mailpen by its endpoint option; every message is
// read back through Mailpen's API.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  SESv2Client, SendEmailCommand, ListSuppressedDestinationsCommand, BadRequestException, MessageRejected, SESv2ServiceException,
} from '@aws-sdk/client-sesv2';
import { SESClient, SendEmailCommand as SendEmailV1Command, SendRawEmailCommand, SESServiceException, MessageRejected as MessageRejectedV1 } from '@aws-sdk/client-ses';
import { startTestServer, type TestServer } from './helpers/server.js';
import { PIXEL_PNG, headerValues, inboxIds, part, readMessage, readPart, readRaw, uniqueKey } from './helpers/providers.js';

const credentials = (accessKeyId: string) => ({ accessKeyId, secretAccessKey: 'not-checked' });

function sesv2(server: TestServer, accessKeyId: string): SESv2Client {
  return new SESv2Client({ region: 'us-east-1', endpoint: `${server.httpUrl}/ses`, credentials: credentials(accessKeyId), maxAttempts: 1 });
}

function sesv1(server: TestServer, accessKeyId: string): SESClient {
  return new SESClient({ region: 'us-east-1', endpoint: `${server.httpUrl}/ses`, credentials: credentials(accessKeyId), maxAttempts: 1 });
}

async function rejection<T extends Error>(promise: Promise<unknown>, type: abstract new (...args: never[]) => T): Promise<T> {
  const error = await promise.then(
    () => assert.fail('the request was accepted'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
  return error;
}

describe('Amazon SES v2 SendEmail through @aws-sdk/client-sesv2', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ maxMessageSize: 256 * 1024 });
  });
  after(async () => server.close());

  test('stores Simple content: text, HTML, attachments, an inline image, Cc, Bcc (envelope only) and custom headers in the access key\'s inbox', async () => {
    const key = uniqueKey('AKIA');
    const { MessageId } = await sesv2(server, key).send(
      new SendEmailCommand({
        FromEmailAddress: 'The App <app@example.test>',
        Destination: { ToAddresses: ['Ann <ann@example.test>'], CcAddresses: ['carol@example.test'], BccAddresses: ['hidden@example.test'] },
        ReplyToAddresses: ['support@example.test'],
        Content: {
          Simple: {
            Subject: { Data: 'Your report', Charset: 'UTF-8' },
            Body: { Text: { Data: 'The report is attached.' }, Html: { Data: '<p>Report</p><img src="cid:logo">' } },
            Headers: [{ Name: 'X-Report', Value: 'weekly' }],
            Attachments: [
              { FileName: 'report.csv', RawContent: Buffer.from('a,b\n1,2\n'), ContentType: 'text/csv' },
              { FileName: 'logo.png', RawContent: PIXEL_PNG, ContentType: 'image/png', ContentDisposition: 'INLINE', ContentId: 'logo' },
            ],
          },
        },
      }),
    );
    assert.ok(MessageId);
    assert.deepEqual(await inboxIds(server, key), [MessageId]);
    const message = await readMessage(server, MessageId);
    assert.equal(message.inbox, key);
    assert.equal(message.subject, 'Your report');
    assert.deepEqual(message.from, { name: 'The App', address: 'app@example.test' });
    assert.deepEqual(message.to, [{ name: 'Ann', address: 'ann@example.test' }]);
    assert.deepEqual(message.cc, [{ name: '', address: 'carol@example.test' }]);
    assert.deepEqual(message.replyTo, [{ name: '', address: 'support@example.test' }]);
    assert.deepEqual(headerValues(message, 'bcc'), []);
    assert.deepEqual(message.envelope.to, ['ann@example.test', 'carol@example.test', 'hidden@example.test']);
    assert.equal(message.envelope.via, 'ses');
    assert.equal(message.envelope.authUser, key);
    assert.deepEqual(headerValues(message, 'x-report'), ['weekly']);
    assert.equal(message.text?.trim(), 'The report is attached.');
    assert.equal(message.html, '<p>Report</p><img src="cid:logo">');
    const report = part(message, 'report.csv');
    assert.equal(report.disposition, 'attachment');
    assert.equal((await readPart(server, MessageId, report.partId)).toString(), 'a,b\n1,2\n');
    const logo = part(message, 'logo.png');
    assert.equal(logo.contentId, 'logo');
    assert.equal(logo.disposition, 'inline');
    assert.deepEqual(await readPart(server, MessageId, logo.partId), PIXEL_PNG);
  });

  test('stores Raw content byte for byte, the envelope from Destination when given and from the headers otherwise', async () => {
    const key = uniqueKey('AKIA-raw');
    const raw = Buffer.from('From: app@example.test\r\nTo: ann@example.test\r\nBcc: hidden@example.test\r\nSubject: raw\r\n\r\nexact  bytes\r\n');
    const client = sesv2(server, key);
    const fromHeaders = await client.send(new SendEmailCommand({ Content: { Raw: { Data: raw } } }));
    assert.deepEqual(await readRaw(server, fromHeaders.MessageId!), raw);
    const headerMessage = await readMessage(server, fromHeaders.MessageId!);
    assert.deepEqual(headerMessage.envelope.to, ['ann@example.test', 'hidden@example.test']);
    assert.equal(headerMessage.envelope.from, 'app@example.test');
    assert.equal(headerMessage.envelope.via, 'ses');

    const given = await client.send(new SendEmailCommand({ FromEmailAddress: 'bounce@example.test', Destination: { ToAddresses: ['other@example.test'] }, Content: { Raw: { Data: raw } } }));
    assert.deepEqual(await readRaw(server, given.MessageId!), raw);
    const givenMessage = await readMessage(server, given.MessageId!);
    assert.deepEqual(givenMessage.envelope.to, ['other@example.test']);
    assert.equal(givenMessage.envelope.from, 'bounce@example.test');
  });

  test('keeps Template content\'s name and data exactly as given', async () => {
    const key = uniqueKey('AKIA-template');
    const data = JSON.stringify({ name: 'Ann', plan: 'pro' });
    const { MessageId } = await sesv2(server, key).send(
      new SendEmailCommand({ FromEmailAddress: 'app@example.test', Destination: { ToAddresses: ['ann@example.test'] }, Content: { Template: { TemplateName: 'Welcome', TemplateData: data } } }),
    );
    const message = await readMessage(server, MessageId!);
    assert.deepEqual(JSON.parse(message.text!), { TemplateName: 'Welcome', TemplateData: data });
  });

  test('answers what SES rejects with its exception name, raised as the SDK\'s own exception classes', async () => {
    const key = uniqueKey('AKIA-reject');
    const client = sesv2(server, key);
    const simple = { Subject: { Data: 's' }, Body: { Text: { Data: 't' } } };
    const noRecipient = await rejection(client.send(new SendEmailCommand({ FromEmailAddress: 'app@example.test', Destination: {}, Content: { Simple: simple } })), BadRequestException);
    assert.equal(noRecipient.$metadata.httpStatusCode, 400);
    assert.match(noRecipient.message, /At least one recipient/);

    const badAddress = await rejection(client.send(new SendEmailCommand({ FromEmailAddress: 'app@example.test', Destination: { ToAddresses: ['ann@'] }, Content: { Simple: simple } })), BadRequestException);
    assert.match(badAddress.message, /Illegal address/);

    const noContent = await rejection(
      client.send(new SendEmailCommand({ FromEmailAddress: 'app@example.test', Destination: { ToAddresses: ['ann@example.test'] }, Content: { Simple: { Subject: { Data: 's' }, Body: {} } } })),
      BadRequestException,
    );
    assert.match(noContent.message, /Text or Html/);

    const many = Array.from({ length: 51 }, (_, i) => `r${i}@example.test`);
    const tooMany = await rejection(client.send(new SendEmailCommand({ FromEmailAddress: 'app@example.test', Destination: { ToAddresses: many }, Content: { Simple: simple } })), BadRequestException);
    assert.match(tooMany.message, /Recipient count exceeds 50/);

    const tooLarge = await rejection(
      client.send(new SendEmailCommand({ FromEmailAddress: 'app@example.test', Destination: { ToAddresses: ['ann@example.test'] }, Content: { Raw: { Data: Buffer.alloc(300 * 1024, 65) } } })),
      MessageRejected,
    );
    assert.match(tooLarge.message, /MAILPEN_MAX_MESSAGE_SIZE/);

    const badKey = await rejection(sesv2(server, 'AKIA with spaces').send(new SendEmailCommand({ FromEmailAddress: 'app@example.test', Destination: { ToAddresses: ['ann@example.test'] }, Content: { Simple: simple } })), SESv2ServiceException);
    assert.equal(badKey.name, 'UnrecognizedClientException');
    assert.equal(badKey.$metadata.httpStatusCode, 403);

    assert.deepEqual(await inboxIds(server, key), [], 'nothing rejected was stored');
  });

  test('answers what needs delivery (the suppression list) with a clear error in SES\'s shape', async () => {
    const error = await rejection(sesv2(server, uniqueKey('AKIA-other')).send(new ListSuppressedDestinationsCommand({})), SESv2ServiceException);
    assert.equal(error.$metadata.httpStatusCode, 501);
    assert.equal(error.name, 'NotImplemented');
    assert.match(error.message, /never delivers/);
  });
});

describe('Amazon SES v1 (query protocol) through @aws-sdk/client-ses', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ maxMessageSize: 256 * 1024 });
  });
  after(async () => server.close());

  test('SendEmail stores text, HTML, Cc, Bcc (envelope only) and Reply-To in the access key\'s inbox', async () => {
    const key = uniqueKey('AKIA-v1');
    const { MessageId } = await sesv1(server, key).send(
      new SendEmailV1Command({
        Source: 'The App <app@example.test>',
        Destination: { ToAddresses: ['ann@example.test', 'bob@example.test'], CcAddresses: ['carol@example.test'], BccAddresses: ['hidden@example.test'] },
        ReplyToAddresses: ['support@example.test'],
        Message: { Subject: { Data: 'Übersicht & <more>' }, Body: { Text: { Data: 'plain' }, Html: { Data: '<p>html</p>' } } },
      }),
    );
    assert.deepEqual(await inboxIds(server, key), [MessageId]);
    const message = await readMessage(server, MessageId!);
    assert.equal(message.subject, 'Übersicht & <more>');
    assert.deepEqual(message.from, { name: 'The App', address: 'app@example.test' });
    assert.deepEqual(message.to.map((a) => a.address), ['ann@example.test', 'bob@example.test']);
    assert.deepEqual(message.cc.map((a) => a.address), ['carol@example.test']);
    assert.deepEqual(message.replyTo.map((a) => a.address), ['support@example.test']);
    assert.deepEqual(headerValues(message, 'bcc'), []);
    assert.deepEqual(message.envelope.to, ['ann@example.test', 'bob@example.test', 'carol@example.test', 'hidden@example.test']);
    assert.equal(message.envelope.via, 'ses');
    assert.equal(message.text?.trim(), 'plain');
    assert.equal(message.html, '<p>html</p>');
  });

  test('SendRawEmail stores the message byte for byte, with its attachments and custom headers as built', async () => {
    const key = uniqueKey('AKIA-v1-raw');
    const raw = Buffer.from(
      [
        'From: app@example.test',
        'To: ann@example.test',
        'Subject: raw v1',
        'X-Custom:  kept as is',
        'MIME-Version: 1.0',
        'Content-Type: multipart/mixed; boundary="b1"',
        '',
        '--b1',
        'Content-Type: text/plain',
        '',
        'body',
        '--b1',
        'Content-Type: text/plain; name="a.txt"',
        'Content-Disposition: attachment; filename="a.txt"',
        '',
        'attached',
        '--b1--',
        '',
      ].join('\r\n'),
    );
    const { MessageId } = await sesv1(server, key).send(new SendRawEmailCommand({ RawMessage: { Data: raw }, Destinations: ['ann@example.test', 'hidden@example.test'] }));
    assert.deepEqual(await readRaw(server, MessageId!), raw);
    const message = await readMessage(server, MessageId!);
    assert.deepEqual(message.envelope.to, ['ann@example.test', 'hidden@example.test']);
    assert.deepEqual(headerValues(message, 'x-custom'), ['kept as is']);
    assert.equal((await readPart(server, MessageId!, part(message, 'a.txt').partId)).toString(), 'attached');
  });

  test('answers what SES rejects in its XML error shape, raised as the SDK\'s own exceptions', async () => {
    const key = uniqueKey('AKIA-v1-reject');
    const client = sesv1(server, key);
    const message = { Subject: { Data: 's' }, Body: { Text: { Data: 't' } } };
    const noRecipient = await rejection(client.send(new SendEmailV1Command({ Source: 'app@example.test', Destination: {}, Message: message })), SESServiceException);
    assert.equal(noRecipient.name, 'InvalidParameterValue');
    assert.equal(noRecipient.$metadata.httpStatusCode, 400);

    const badAddress = await rejection(client.send(new SendEmailV1Command({ Source: 'app@example.test', Destination: { ToAddresses: ['nobody'] }, Message: message })), SESServiceException);
    assert.match(badAddress.message, /Illegal address/);

    const noContent = await rejection(client.send(new SendEmailV1Command({ Source: 'app@example.test', Destination: { ToAddresses: ['ann@example.test'] }, Message: { Subject: { Data: 's' }, Body: {} } })), SESServiceException);
    assert.match(noContent.message, /Text or Html/);

    const many = Array.from({ length: 51 }, (_, i) => `r${i}@example.test`);
    const tooMany = await rejection(client.send(new SendEmailV1Command({ Source: 'app@example.test', Destination: { ToAddresses: many }, Message: message })), SESServiceException);
    assert.match(tooMany.message, /Recipient count exceeds 50/);

    const tooLarge = await rejection(client.send(new SendRawEmailCommand({ RawMessage: { Data: Buffer.alloc(300 * 1024, 65) }, Destinations: ['ann@example.test'] })), MessageRejectedV1);
    assert.match(tooLarge.message, /MAILPEN_MAX_MESSAGE_SIZE/);

    const badKey = await rejection(sesv1(server, 'bad key').send(new SendEmailV1Command({ Source: 'app@example.test', Destination: { ToAddresses: ['ann@example.test'] }, Message: message })), SESServiceException);
    assert.equal(badKey.name, 'InvalidClientTokenId');
    assert.equal(badKey.$metadata.httpStatusCode, 403);

    assert.deepEqual(await inboxIds(server, key), [], 'nothing rejected was stored');
  });
});
