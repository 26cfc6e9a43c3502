// GET /api/messages/:id/codes and GET /api/wait?include=codes,links, over real HTTP against a
// real server, with the templates of test/fixtures/codes sent over real SMTP.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestServer, type TestServer } from './helpers/server.js';
import { sendRaw, queuedId } from './helpers/smtp-client.js';

const FIXTURES = join(import.meta.dirname, 'fixtures/codes');

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

async function sendFixture(file: string, to = 'user@example.test'): Promise<string> {
  const raw = readFileSync(join(FIXTURES, file));
  return queuedId(await sendRaw(server.smtpPort, raw, { to: [to] }));
}

async function get(path: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${server.httpUrl}/api${path}`);
  return { status: res.status, body: await res.json() };
}

describe('GET /api/messages/:id/codes', () => {
  it('answers the codes of an HTML template with the words around them', async () => {
    const id = await sendFixture('03-big-box-html.eml');
    const { status, body } = await get(`/messages/${id}/codes`);
    assert.equal(status, 200);
    assert.deepEqual(body, { codes: [{ code: '603918', context: 'Use the code below to sign in. It is valid for 15 minutes. 603918' }] });
  });

  it('answers an empty list for mail full of numbers that are not codes', async () => {
    const id = await sendFixture('05-order-confirmation.eml');
    assert.deepEqual(await get(`/messages/${id}/codes`), { status: 200, body: { codes: [] } });
  });

  it('answers 404 with the API error shape for an unknown id', async () => {
    const { status, body } = await get('/messages/nosuchmessage/codes');
    assert.equal(status, 404);
    assert.equal(body.statusCode, 404);
    assert.equal(typeof body.message, 'string');
  });

  it('is listed in the OpenAPI document', async () => {
    const { body } = await get('/openapi.json');
    assert.ok(body.paths['/api/messages/{id}/codes']?.get);
  });
});

describe('GET /api/wait?include=', () => {
  it('returns the summary with the codes and links of the message in one call', async () => {
    const since = Date.now();
    const id = await sendFixture('36-multipart-welcome.eml', 'include-both@example.test');
    const { status, body } = await get(`/wait?${new URLSearchParams({ q: 'to:include-both@example.test', after: String(since), include: 'codes,links' })}`);
    assert.equal(status, 200);
    assert.equal(body.id, id);
    assert.equal(body.subject, 'Welcome! Confirm your account');
    assert.deepEqual(body.codes, [{ code: '246810', context: 'Your confirmation code: 246810' }]);
    assert.deepEqual(body.links, ['https://app.test/confirm?c=246810&u=9912']);
  });

  it('adds only what include names, and nothing without it', async () => {
    const since = String(Date.now());
    await sendFixture('01-signup-text.eml', 'include-one@example.test');
    const q = 'to:include-one@example.test';
    const codesOnly = await get(`/wait?${new URLSearchParams({ q, after: since, include: 'codes' })}`);
    assert.deepEqual(codesOnly.body.codes.map((c: { code: string }) => c.code), ['482913']);
    assert.equal('links' in codesOnly.body, false);
    const plain = await get(`/wait?${new URLSearchParams({ q, after: since })}`);
    assert.equal('codes' in plain.body, false);
    assert.equal('links' in plain.body, false);
  });

  it('includes the codes of a message that arrives while it waits', async () => {
    const pending = get(`/wait?${new URLSearchParams({ q: 'to:include-later@example.test', include: 'codes', timeout: '10' })}`);
    // The wait is registered before the mail is sent: the server counts it.
    for (;;) {
      const info = await get('/info');
      if (info.body.counts.waiters >= 1) break;
      await new Promise((r) => setImmediate(r));
    }
    await sendFixture('08-german.eml', 'include-later@example.test');
    const { status, body } = await pending;
    assert.equal(status, 200);
    assert.deepEqual(body.codes, [{ code: '739204', context: 'Ihr Bestätigungscode lautet: 739204' }]);
  });

  it('answers 400 with the reason for an unknown include', async () => {
    const { status, body } = await get('/wait?include=codes,attachments&timeout=0');
    assert.equal(status, 400);
    assert.match(body.message, /include/);
  });
});
