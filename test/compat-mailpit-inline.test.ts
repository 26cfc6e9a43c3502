// Mailpit's has:inline is decided from the message's MIME structure (a part whose header declares a
// Content-ID, as indexing's body scan reads it), never from body text that quotes such a line.
// A real server on port 0: mail over SMTP, the search over HTTP.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import nodemailer from 'nodemailer';
import { startTestServer, type TestServer } from './helpers/server.js';

const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

const MAILS: Record<string, string> = {
  // A plain body that merely quotes the header line.
  quoted: ['From: a@example.test', 'To: b@example.test', 'Subject: quoted', '', 'A header pasted into a reply:', 'Content-ID: <x@y>', 'and nothing inline.', ''].join('\r\n'),
  // The same line in the body text of a MIME part, not in its header.
  'quoted in a part': [
    'From: a@example.test',
    'To: b@example.test',
    'Subject: quoted in a part',
    'MIME-Version: 1.0',
    'Content-Type: multipart/alternative; boundary="alt"',
    '',
    '--alt',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Content-ID: <x@y>',
    '--alt',
    'Content-Type: text/html; charset=utf-8',
    '',
    '<p>Content-ID: &lt;x@y&gt;</p>',
    '--alt--',
    '',
  ].join('\r\n'),
  // A real inline part: an image the HTML shows by cid:, its Content-ID on its part header.
  inline: [
    'From: a@example.test',
    'To: b@example.test',
    'Subject: inline',
    'MIME-Version: 1.0',
    'Content-Type: multipart/related; boundary="rel"',
    '',
    '--rel',
    'Content-Type: text/html; charset=utf-8',
    '',
    '<img src="cid:logo@y">',
    '--rel',
    'Content-Type: image/png',
    'Content-Transfer-Encoding: base64',
    'Content-ID: <logo@y>',
    '',
    PNG,
    '--rel--',
    '',
  ].join('\r\n'),
  // An attachment without a Content-ID.
  attached: [
    'From: a@example.test',
    'To: b@example.test',
    'Subject: attached',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="mix"',
    '',
    '--mix',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'See the file.',
    '--mix',
    'Content-Type: application/pdf; name="a.pdf"',
    'Content-Disposition: attachment; filename="a.pdf"',
    'Content-Transfer-Encoding: base64',
    '',
    'JVBERi0xLjQK',
    '--mix--',
    '',
  ].join('\r\n'),
};

describe("Mailpit's has:inline", () => {
  let server: TestServer;
  const names = new Map<string, string>();

  before(async () => {
    server = await startTestServer();
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: server.smtpPort, secure: false });
    try {
      for (const [name, raw] of Object.entries(MAILS)) {
        await transport.sendMail({ envelope: { from: 'a@example.test', to: ['b@example.test'] }, raw });
        let newest = '';
        server.store.forEachNewest((m) => ((newest = m.id), false));
        names.set(newest, name);
      }
    } finally {
      transport.close();
    }
  });
  after(async () => {
    await server.close();
  });

  const search = async (query: string): Promise<string[]> => {
    const res = await fetch(`${server.httpUrl}/api/v1/search?${new URLSearchParams({ query })}`);
    assert.equal(res.status, 200, `${query}: ${res.status} ${await res.clone().text()}`);
    const body = (await res.json()) as { messages_count: number; messages: Array<{ ID: string }> };
    assert.equal(body.messages_count, body.messages.length);
    return body.messages.map((m) => names.get(m.ID) ?? m.ID).sort();
  };

  it('a body whose text merely contains the line "Content-ID: <x@y>" is not has:inline; a part with a Content-ID header is', async () => {
    // Right after the mail came in (the search indexes what the background has not reached first).
    assert.deepEqual(await search('has:inline'), ['inline']);
    assert.deepEqual(await search('-has:inline'), ['attached', 'quoted', 'quoted in a part']);
    await server.store.settled();
    assert.deepEqual(await search('has:inline'), ['inline'], 'the same once indexed in the background');
    assert.deepEqual(await search('has:inlines subject:inline'), ['inline']);
    assert.deepEqual(await search('"Content-ID"'), ['quoted', 'quoted in a part'], 'the quoted line is still found as text');
  });
});
