// The Resend edge, driven by the official resend SDK pointed at a real Mailpen by its baseUrl
// option; every message is read back through Mailpen's API. The SDK returns errors (as
// { data: null, error }) rather than throwing: its error object is checked.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Resend } from 'resend';
import { startTestServer, type TestServer } from './helpers/server.js';
import { PIXEL_PNG, headerValues, inboxIds, part, readMessage, readPart, uniqueKey } from './helpers/providers.js';

function resend(server: TestServer, key: string): Resend {
  return new Resend(key, { baseUrl: `${server.httpUrl}/resend` });
}

type Result<T> = { data: T; error: null } | { data: null; error: { name: string; message: string; statusCode: number | null } };

function ok<T>(result: Result<T>): T {
  assert.equal(result.error, null, JSON.stringify(result.error));
  return result.data!;
}

function failed<T>(result: Result<T>): { name: string; message: string; statusCode: number | null } {
  assert.ok(result.error, 'the request was accepted');
  return result.error;
}

describe('Resend through the resend SDK', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ maxMessageSize: 256 * 1024 });
  });
  after(async () => server.close());

  test('stores text, HTML, attachments, an inline image, Cc, Bcc (envelope only) and custom headers in the key\'s inbox', async () => {
    const key = uniqueKey('re');
    const { id } = ok(
      await resend(server, key).emails.send({
        from: 'The App <app@example.test>',
        to: ['ann@example.test', 'Bob <bob@example.test>'],
        cc: 'carol@example.test',
        bcc: ['hidden@example.test'],
        replyTo: 'support@example.test',
        subject: 'Reset your password',
        text: 'Reset at https://app.test/reset?t=abc',
        html: '<p>Reset <a href="https://app.test/reset?t=abc">here</a></p><img src="cid:logo">',
        headers: { 'X-Entity-Ref-ID': 'ref-42' },
        attachments: [
          { filename: 'notes.txt', content: Buffer.from('remember me'), contentType: 'text/plain' },
          { filename: 'logo.png', content: PIXEL_PNG.toString('base64'), contentType: 'image/png', contentId: 'logo' },
        ],
      }),
    );
    assert.deepEqual(await inboxIds(server, key), [id]);
    const message = await readMessage(server, id);
    assert.equal(message.inbox, key);
    assert.equal(message.subject, 'Reset your password');
    assert.deepEqual(message.from, { name: 'The App', address: 'app@example.test' });
    assert.deepEqual(message.to, [{ name: '', address: 'ann@example.test' }, { name: 'Bob', address: 'bob@example.test' }]);
    assert.deepEqual(message.cc, [{ name: '', address: 'carol@example.test' }]);
    assert.deepEqual(message.replyTo, [{ name: '', address: 'support@example.test' }]);
    assert.deepEqual(headerValues(message, 'bcc'), []);
    assert.deepEqual(message.envelope.to, ['ann@example.test', 'bob@example.test', 'carol@example.test', 'hidden@example.test']);
    assert.equal(message.envelope.via, 'resend');
    assert.deepEqual(headerValues(message, 'x-entity-ref-id'), ['ref-42']);
    assert.equal(message.text?.trim(), 'Reset at https://app.test/reset?t=abc');
    assert.equal(message.html, '<p>Reset <a href="https://app.test/reset?t=abc">here</a></p><img src="cid:logo">');
    const notes = part(message, 'notes.txt');
    assert.equal(notes.disposition, 'attachment');
    assert.equal((await readPart(server, id, notes.partId)).toString(), 'remember me');
    const logo = part(message, 'logo.png');
    assert.equal(logo.contentId, 'logo');
    assert.equal(logo.disposition, 'inline');
    assert.deepEqual(await readPart(server, id, logo.partId), PIXEL_PNG);
  });

  test('stores a scheduled email at once, its scheduled time noted', async () => {
    const key = uniqueKey('re-scheduled');
    const at = new Date(Date.now() + 24 * 3600_000).toISOString();
    const { id } = ok(await resend(server, key).emails.send({ from: 'app@example.test', to: 'ann@example.test', subject: 'later', text: 'tomorrow', scheduledAt: at }));
    assert.deepEqual(headerValues(await readMessage(server, id), 'x-mailpen-scheduled-at'), [at]);
  });

  test('stores a batch, one message per email, answering their ids in order', async () => {
    const key = uniqueKey('re-batch');
    const { data } = ok(
      await resend(server, key).batch.send([
        { from: 'app@example.test', to: 'ann@example.test', subject: 'first', text: '1' },
        { from: 'app@example.test', to: 'bob@example.test', subject: 'second', html: '<p>2</p>' },
      ]),
    );
    assert.equal(data.length, 2);
    assert.deepEqual((await inboxIds(server, key)).reverse(), data.map((d) => d.id));
    assert.equal((await readMessage(server, data[1]!.id)).subject, 'second');
  });

  test('answers what Resend rejects with its status and error name, returned as the SDK\'s error', async () => {
    const key = uniqueKey('re-reject');
    const client = resend(server, key);
    const noRecipient = failed(await client.emails.send({ from: 'app@example.test', to: [], subject: 's', text: 't' }));
    assert.equal(noRecipient.statusCode, 422);
    assert.equal(noRecipient.name, 'missing_required_field');

    const badFrom = failed(await client.emails.send({ from: 'nobody', to: 'ann@example.test', subject: 's', text: 't' }));
    assert.equal(badFrom.name, 'invalid_from_address');

    const badTo = failed(await client.emails.send({ from: 'app@example.test', to: 'ann at example', subject: 's', text: 't' }));
    assert.equal(badTo.name, 'validation_error');
    assert.match(badTo.message, /Invalid `to` field/);

    const noContent = failed(await client.emails.send({ from: 'app@example.test', to: 'ann@example.test', subject: 's', text: '' } as never));
    assert.equal(noContent.statusCode, 422);
    assert.match(noContent.message, /html` or `text/);

    const many = Array.from({ length: 51 }, (_, i) => `r${i}@example.test`);
    const tooMany = failed(await client.emails.send({ from: 'app@example.test', to: many, subject: 's', text: 't' }));
    assert.match(tooMany.message, /Too many recipients/);

    const tooLarge = failed(
      await client.emails.send({ from: 'app@example.test', to: 'ann@example.test', subject: 's', text: 't', attachments: [{ filename: 'big.bin', content: Buffer.alloc(300 * 1024, 1) }] }),
    );
    assert.equal(tooLarge.statusCode, 422);
    assert.match(tooLarge.message, /MAILPEN_MAX_MESSAGE_SIZE/);

    const byPath = failed(await client.emails.send({ from: 'app@example.test', to: 'ann@example.test', subject: 's', text: 't', attachments: [{ filename: 'x.pdf', path: 'http://127.0.0.1:9/x.pdf' }] }));
    assert.equal(byPath.name, 'invalid_attachment');
    assert.match(byPath.message, /does not fetch/);

    const badKey = failed(await resend(server, 're key with spaces').emails.send({ from: 'app@example.test', to: 'ann@example.test', subject: 's', text: 't' }));
    assert.equal(badKey.statusCode, 403);
    assert.equal(badKey.name, 'invalid_api_key');

    assert.deepEqual(await inboxIds(server, key), [], 'nothing rejected was stored');
  });

  test('answers what needs delivery (webhooks, suppressions) with a clear error in Resend\'s shape', async () => {
    const error = failed(await resend(server, uniqueKey('re-other')).webhooks.list());
    assert.equal(error.statusCode, 501);
    assert.match(error.message, /never delivers/);
  });
});
