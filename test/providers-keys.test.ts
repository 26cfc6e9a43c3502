// MAILPEN_PROVIDER_KEYS: with keys configured, every provider API takes those keys only (each its
// own inbox) and answers any other as the provider answers a bad key, through each official SDK.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { MailService } from '@sendgrid/mail';
import { Client } from '@sendgrid/client';
import { ServerClient, Errors as PostmarkErrors } from 'postmark';
import Mailgun from 'mailgun.js';
import FormData from 'form-data';
import { SESv2Client, SendEmailCommand, SESv2ServiceException } from '@aws-sdk/client-sesv2';
import { SESClient, SendEmailCommand as SendEmailV1Command, SESServiceException } from '@aws-sdk/client-ses';
import { Resend } from 'resend';
import { startTestServer, type TestServer } from './helpers/server.js';
import { inboxIds } from './helpers/providers.js';

const GOOD = 'configured-key';
const OTHER = 'some-other-key';

async function thrown(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => assert.fail('the request was accepted'),
    (e: unknown) => e,
  );
}

describe('provider APIs with MAILPEN_PROVIDER_KEYS', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ providerKeys: [GOOD, 'another-configured'] });
  });
  after(async () => server.close());

  const mail = { from: 'app@example.test', to: 'ann@example.test', subject: 'keys', text: 't' };

  test('SendGrid: a configured key is its inbox; another is 401 with SendGrid\'s errors body', async () => {
    const service = (key: string): MailService => {
      const client = new Client();
      client.setApiKey(key);
      client.setDefaultRequest('baseUrl', `${server.httpUrl}/sendgrid/`);
      const s = new MailService();
      s.setClient(client);
      return s;
    };
    const [response] = await service(GOOD).send(mail);
    assert.ok((await inboxIds(server, GOOD)).includes(response.headers['x-message-id'] as string));
    const error = (await thrown(service(OTHER).send(mail))) as { code: number; response: { body: { errors: Array<{ message: string }> } } };
    assert.equal(error.code, 401);
    assert.match(error.response.body.errors[0]!.message, /MAILPEN_PROVIDER_KEYS/);
  });

  test('Postmark: a configured token is its inbox; another is InvalidAPIKeyError (401, ErrorCode 10)', async () => {
    const client = (token: string): ServerClient => new ServerClient(token, { useHttps: false, requestHost: `${new URL(server.httpUrl).host}/postmark` });
    const sent = await client(GOOD).sendEmail({ From: mail.from, To: mail.to, Subject: mail.subject, TextBody: mail.text });
    assert.ok((await inboxIds(server, GOOD)).includes(sent.MessageID));
    const error = await thrown(client(OTHER).sendEmail({ From: mail.from, To: mail.to, Subject: mail.subject, TextBody: mail.text }));
    assert.ok(error instanceof PostmarkErrors.InvalidAPIKeyError);
    assert.equal(error.code, 10);
  });

  test('Mailgun: a configured key is its inbox; another is 401 Forbidden', async () => {
    const client = (key: string) => new Mailgun(FormData).client({ username: 'api', key, url: `${server.httpUrl}/mailgun` });
    const sent = await client(GOOD).messages.create('example.test', mail);
    assert.ok((await inboxIds(server, GOOD)).includes(/^<(.+)@example\.test>$/.exec(sent.id!)![1]!));
    const error = (await thrown(client(OTHER).messages.create('example.test', mail))) as { status: number; details: string };
    assert.equal(error.status, 401);
    assert.equal(error.details, 'Forbidden');
  });

  test('SES v2 and v1: a configured access key id is its inbox; another is UnrecognizedClientException / InvalidClientTokenId (403)', async () => {
    const options = (accessKeyId: string) => ({ region: 'us-east-1', endpoint: `${server.httpUrl}/ses`, credentials: { accessKeyId, secretAccessKey: 'x' }, maxAttempts: 1 });
    const v2 = (key: string) => new SESv2Client(options(key)).send(new SendEmailCommand({ FromEmailAddress: mail.from, Destination: { ToAddresses: [mail.to] }, Content: { Simple: { Subject: { Data: 's' }, Body: { Text: { Data: 't' } } } } }));
    const v1 = (key: string) => new SESClient(options(key)).send(new SendEmailV1Command({ Source: mail.from, Destination: { ToAddresses: [mail.to] }, Message: { Subject: { Data: 's' }, Body: { Text: { Data: 't' } } } }));
    const ids = [(await v2(GOOD)).MessageId!, (await v1(GOOD)).MessageId!];
    const stored = await inboxIds(server, GOOD);
    for (const id of ids) assert.ok(stored.includes(id));
    const v2Error = await thrown(v2(OTHER));
    assert.ok(v2Error instanceof SESv2ServiceException);
    assert.equal(v2Error.name, 'UnrecognizedClientException');
    assert.equal(v2Error.$metadata.httpStatusCode, 403);
    const v1Error = await thrown(v1(OTHER));
    assert.ok(v1Error instanceof SESServiceException);
    assert.equal(v1Error.name, 'InvalidClientTokenId');
  });

  test('Resend: a configured key is its inbox; another is invalid_api_key (403)', async () => {
    const client = (key: string) => new Resend(key, { baseUrl: `${server.httpUrl}/resend` });
    const sent = await client('another-configured').emails.send(mail);
    assert.equal(sent.error, null);
    assert.deepEqual(await inboxIds(server, 'another-configured'), [sent.data!.id]);
    const refused = await client(OTHER).emails.send(mail);
    assert.equal(refused.error?.name, 'invalid_api_key');
    assert.equal(refused.error?.statusCode, 403);
  });
});
