// Mailpit compatibility (issue 12): the mailpit-api client (2.1.0, a devDependency), every method
// called against a real Mailpen, asserting what that client's own end-to-end suite asserts of
// Mailpit (github.com/mpspahr/mailpit-api, tests/e2e.spec.ts, MIT; its expectations restated here
// with node:test, not its code). Where Mailpen refuses on purpose (release, link-check, chaos), the
// test asserts the refusal and its reason instead. Then cypress-mailpit 2.0.0's requests, as its
// source builds them (dist/src/MailpitCommands.js), replayed with fetch; and Mailpit's search syntax.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { MailpitClient, type MailpitSendRequest } from 'mailpit-api';
import nodemailer, { type SendMailOptions } from 'nodemailer';
import { startTestServer, type TestServer } from './helpers/server.js';
import { assertShape, type Template } from './helpers/shape.js';
import { mailpitArgs, parseMailpitDate } from '../server/http/compat/mailpit/search.js';

const USERNAME = 'tester';
const PASSWORD = 'secret-pass';
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');
const fileContent = PNG.toString('base64');

const sendRequest: MailpitSendRequest = {
  From: { Email: 'sender@example.test', Name: 'Sender Name' },
  To: [{ Email: 'recipient@example.test', Name: 'Recipient Name' }],
  Cc: [{ Email: 'cc@example.test', Name: 'Carbon Name' }],
  Bcc: ['bcc@example.test'],
  ReplyTo: [{ Email: 'noreply@example.test', Name: 'No Reply' }],
  Subject: 'Test Email with Attachment',
  Text: 'This is a test email with an attachment.',
  HTML: `<div style="text-align:center"><p>Mailpit is <b>awesome</b>!</p>
      <p>This is a test email with an inline image: <img src="cid:test-image" /></p></div>
      <p><a href="https://example.test">Example Link</a></p>`,
  Headers: { 'List-Unsubscribe': '<mailto:unsubscribe@example.test>, <https://example.test/unsubscribe>' },
  Attachments: [
    { Content: fileContent, Filename: 'test.png' },
    { Content: fileContent, Filename: 'test.png', ContentID: 'inline-image', ContentType: 'image/png' },
  ],
};

const address = { Address: String, Name: String };
const listItem: Template = {
  Attachments: Number,
  Bcc: [address],
  Cc: [address],
  Created: String,
  From: address,
  ID: String,
  MessageID: String,
  Read: Boolean,
  ReplyTo: [address],
  Size: Number,
  Snippet: String,
  Subject: String,
  Tags: Array,
  To: [address],
  Username: USERNAME,
};
const listShape = (n: number): Template => ({
  messages: Array.from({ length: n }, () => listItem),
  messages_count: Number,
  messages_unread: Number,
  start: Number,
  tags: Array,
  total: Number,
  unread: Number,
  count: Number,
});

let server: TestServer;
let mailpit: MailpitClient;
let messageId: string;

before(async () => {
  server = await startTestServer({ uiAuth: new Map([[USERNAME, PASSWORD]]) });
  mailpit = new MailpitClient(server.httpUrl, { auth: { username: USERNAME, password: PASSWORD } });
});
after(() => server.close());

describe('mailpit-api 2.1.0 against Mailpen', () => {
  it('sendMessage() stores the message and answers its ID', async () => {
    const sent = await mailpit.sendMessage(sendRequest);
    assertShape(sent, { ID: String });
    messageId = sent.ID;
    assert.ok(server.store.get(messageId), 'the message is in the store');
  });

  it('getInfo() answers Mailpit\'s application information', async () => {
    assertShape(await mailpit.getInfo(), {
      Database: String,
      DatabaseSize: Number,
      LatestVersion: String,
      Messages: 1,
      RuntimeStats: { Memory: Number, MessagesDeleted: Number, SMTPAccepted: Number, SMTPAcceptedSize: Number, SMTPIgnored: Number, SMTPRejected: Number, Uptime: Number },
      Tags: Object,
      Unread: 1,
      Version: String,
    });
  });

  it('getConfiguration() answers the web UI configuration: relay off, chaos on (fault rules)', async () => {
    const config = await mailpit.getConfiguration();
    assertShape(config, {
      ChaosEnabled: true,
      DuplicatesIgnored: Boolean,
      HideDeleteAllButton: Boolean,
      Label: String,
      MessageRelay: {
        AllowedRecipients: String,
        BlockedRecipients: String,
        Enabled: false,
        OverrideFrom: String,
        PreserveMessageIDs: Boolean,
        RecipientAllowlist: String,
        ReturnPath: String,
        SMTPServer: String,
      },
      SpamAssassin: false,
    });
  });

  it('getMessageSummary() answers the parsed message, for latest and by ID, and marks it read', async () => {
    const attachment = { ContentID: String, ContentType: String, FileName: String, PartID: String, Size: Number, Checksums: { MD5: String, SHA1: String, SHA256: String } };
    const expected: Template = {
      Attachments: [attachment],
      Bcc: [address],
      Cc: [address],
      Date: String,
      From: address,
      HTML: String,
      ID: messageId,
      Inline: [attachment],
      ListUnsubscribe: { Errors: String, Header: String, HeaderPost: String, Links: Array },
      MessageID: String,
      ReplyTo: [address],
      ReturnPath: 'sender@example.test',
      Size: Number,
      Subject: sendRequest.Subject!,
      Tags: [],
      Text: String,
      To: [address],
      Username: USERNAME,
    };
    assert.equal(server.store.get(messageId)!.read, false);
    const latest = await mailpit.getMessageSummary();
    assertShape(latest, expected);
    assertShape(await mailpit.getMessageSummary(messageId), expected);
    assert.equal(server.store.get(messageId)!.read, true, 'Mailpit marks a message read when it is fetched');
    assert.deepEqual(latest.Bcc, [{ Name: '', Address: 'bcc@example.test' }]);
    assert.deepEqual(latest.ReplyTo, [{ Name: 'No Reply', Address: 'noreply@example.test' }]);
    assert.deepEqual(latest.ListUnsubscribe.Links, ['mailto:unsubscribe@example.test', 'https://example.test/unsubscribe']);
    assert.equal(latest.Attachments[0]!.FileName, 'test.png');
    assert.equal(latest.Attachments[0]!.Checksums.SHA256, '' + (await import('node:crypto')).createHash('sha256').update(PNG).digest('hex'));
    assert.equal(latest.Inline[0]!.ContentID, 'inline-image');
    assert.equal(latest.Text.trim(), sendRequest.Text);
  });

  it('getMessageHeaders() answers every header by canonical name', async () => {
    const values = [String];
    const expected: Template = {
      Bcc: values,
      Cc: values,
      'Content-Type': values,
      Date: values,
      From: values,
      'List-Unsubscribe': values,
      'Message-Id': values,
      'Mime-Version': values,
      'Reply-To': values,
      'Return-Path': values,
      Subject: values,
      To: values,
    };
    assertShape(await mailpit.getMessageHeaders(), expected);
    assertShape(await mailpit.getMessageHeaders(messageId), expected);
  });

  it('getMessageSource() answers the source as text', async () => {
    const source = await mailpit.getMessageSource();
    assert.match(source, /^Content-Type: multipart\/mixed|Subject: Test Email with Attachment/m);
    assert.equal(await mailpit.getMessageSource(messageId), server.store.get(messageId)!.raw.toString('utf8'));
  });

  it('releaseMessage() is refused with the reason: Mailpen never delivers', async () => {
    await assert.rejects(mailpit.releaseMessage(messageId, { To: ['user1@example.test'] }), /400 Bad Request .*never delivers/);
  });

  it('listMessages() answers a page of summaries', async () => {
    assertShape(await mailpit.listMessages(), listShape(1));
    assertShape(await mailpit.listMessages(0, 10), listShape(1));
    const empty = await mailpit.listMessages(1, 10);
    assert.equal(empty.messages.length, 0);
    assert.equal(empty.messages_count, 1);
    assert.equal(empty.start, 1);
  });

  it('setReadStatus() by IDs, by search and for all answers ok', async () => {
    assert.equal(await mailpit.setReadStatus({ IDs: [messageId], Read: false }), 'ok');
    assert.equal(server.store.get(messageId)!.read, false);
    assert.equal(await mailpit.setReadStatus({ Search: 'subject:Attachment', Read: true }), 'ok');
    assert.equal(server.store.get(messageId)!.read, true);
    assert.equal(await mailpit.setReadStatus({ Search: 'subject:nothing-like-this', Read: false }), 'ok');
    assert.equal(server.store.get(messageId)!.read, true);
    assert.equal(await mailpit.setReadStatus(), 'ok');
    assert.equal(server.store.get(messageId)!.read, false, 'neither IDs nor Search: every message');
  });

  it('searchMessages() finds by subject words', async () => {
    const found = await mailpit.searchMessages({ query: `subject:${sendRequest.Subject!}`, start: 0, limit: 10 });
    assertShape(found, listShape(1));
    const none = await mailpit.searchMessages({ query: 'subject:absent' });
    assert.equal(none.messages_count, 0);
  });

  it('waitForMessage() and waitForMessages() resolve on what is there', async () => {
    const m = await mailpit.waitForMessage({ query: 'subject:Attachment' }, { timeout: 2000, interval: 50 });
    assert.equal(m.ID, messageId);
    const list = await mailpit.waitForMessages({ query: 'from:sender@example.test', count: 1, exact: true }, { timeout: 2000, interval: 50 });
    assert.equal(list.messages_count, 1);
  });

  it('getMessageAttachment() answers the part with its type', async () => {
    const summary = await mailpit.getMessageSummary(messageId);
    const blob = await mailpit.getMessageAttachment(messageId, summary.Attachments[0]!.PartID);
    assert.equal(blob.type, 'image/png');
    assert.deepEqual(Buffer.from(await blob.arrayBuffer()), PNG);
  });

  it('getAttachmentThumbnail() answers a JPEG', async () => {
    const summary = await mailpit.getMessageSummary(messageId);
    const blob = await mailpit.getAttachmentThumbnail(messageId, summary.Attachments[0]!.PartID);
    assert.equal(blob.type, 'image/jpeg');
    const bytes = Buffer.from(await blob.arrayBuffer());
    assert.deepEqual([...bytes.subarray(0, 2)], [0xff, 0xd8], 'a JPEG starts with SOI');
  });

  it('htmlCheck() answers Mailpit\'s HTML check from the message checks', async () => {
    for (const response of [await mailpit.htmlCheck(), await mailpit.htmlCheck(messageId)]) {
      assertShape(response.Total as unknown, { Nodes: Number, Partial: Number, Supported: Number, Tests: Number, Unsupported: Number });
      assert.equal(typeof response.Platforms, 'object');
      assert.ok(response.Warnings.length > 0, 'the style attribute and <b> have known support');
      const w = response.Warnings[0]! as unknown as Record<string, unknown>;
      assertShape(
        Object.fromEntries(Object.entries(w).filter(([k]) => k !== 'Results' && k !== 'NotesByNumber')) as Record<string, unknown>,
        { Category: String, Description: String, Keywords: String, Score: { Found: Number, Partial: Number, Supported: Number, Unsupported: Number }, Slug: String, Tags: Array, Title: String, URL: String },
      );
      assertShape((w.Results as unknown[])[0], { Family: String, Name: String, NoteNumber: String, Platform: String, Support: String, Version: String });
    }
  });

  it('linkCheck() is refused with the reason: Mailpen fetches no URL from mail', async () => {
    await assert.rejects(mailpit.linkCheck(), /400 Bad Request .*never connects to a URL/);
    await assert.rejects(mailpit.linkCheck(messageId, true), /400 Bad Request/);
  });

  it('spamAssassinCheck() says SpamAssassin is not enabled without MAILPEN_SPAMD_ADDR', async () => {
    await assert.rejects(mailpit.spamAssassinCheck(messageId), /400 Bad Request .*MAILPEN_SPAMD_ADDR/);
  });

  it('setTags(), renameTag(), getTags() and deleteTag() manage tags', async () => {
    assert.equal(await mailpit.setTags({ IDs: [messageId], Tags: ['test-tag'] }), 'ok');
    assert.deepEqual(server.store.get(messageId)!.tags, ['test-tag']);
    assert.equal(await mailpit.renameTag('test-tag', 'renamed-tag'), 'ok');
    assert.deepEqual(await mailpit.getTags(), ['renamed-tag']);
    assert.deepEqual((await mailpit.getInfo()).Tags, { 'renamed-tag': 1 });
    assert.equal((await mailpit.searchMessages({ query: 'tag:renamed-tag' })).messages_count, 1);
    assert.equal(await mailpit.deleteTag('renamed-tag'), 'ok');
    assert.deepEqual(await mailpit.getTags(), []);
    assert.equal(await mailpit.setTags({ IDs: [messageId], Tags: ['a', 'b'] }), 'ok');
    assert.equal(await mailpit.setTags({ IDs: [messageId] }), 'ok');
    assert.deepEqual(server.store.get(messageId)!.tags, [], 'no Tags removes them all');
    await assert.rejects(mailpit.deleteTag('never-there'), /404/);
  });

  it('setChaosTriggers() and getChaosTriggers() set Mailpit\'s triggers as fault rules', async () => {
    const newTriggers = {
      Authentication: { ErrorCode: 451, Probability: 5 },
      Recipient: { ErrorCode: 452, Probability: 10 },
      Sender: { ErrorCode: 453, Probability: 15 },
    };
    assert.deepEqual(await mailpit.setChaosTriggers(newTriggers), newTriggers);
    assert.deepEqual(await mailpit.getChaosTriggers(), newTriggers);
    const res = await fetch(`${server.httpUrl}/api/rules`, { headers: { authorization: basic() } });
    const { rules } = (await res.json()) as { rules: Array<{ id: string; stage: string; probability?: number; reply?: { code: number } }> };
    const sender = rules.find((r) => r.id === 'chaos-sender');
    assert.deepEqual([sender?.stage, sender?.probability, sender?.reply?.code], ['mail', 0.15, 453]);
    // Omitted triggers reset to 0 %, as in Mailpit.
    const reset = await mailpit.setChaosTriggers();
    assert.deepEqual([reset.Sender.Probability, reset.Recipient.Probability, reset.Authentication.Probability], [0, 0, 0]);
    await assert.rejects(mailpit.setChaosTriggers({ Sender: { ErrorCode: 200, Probability: 5 } }), /400 Bad Request .*400 to 599/);
  });

  it('renderMessageHTML() answers the HTML as sent; embedded, with links opening a new tab', async () => {
    assert.ok((await mailpit.renderMessageHTML()).includes(sendRequest.HTML!));
    const embedded = await mailpit.renderMessageHTML(messageId, 1);
    assert.ok(!embedded.includes(sendRequest.HTML!));
    assert.ok(embedded.includes('target="_blank" rel="noreferrer noopener"'));
    const res = await fetch(`${server.httpUrl}/view/${messageId}.html`, { headers: { authorization: basic() } });
    assert.match(res.headers.get('content-security-policy') ?? '', /script-src 'none'/, 'the page runs no script');
  });

  it("/view's cid: images load from the sandboxed page, whose loads are cross-site", async () => {
    const { ID } = await mailpit.sendMessage({
      From: { Email: 'a@example.test' },
      To: [{ Email: 'b@example.test' }],
      Subject: 'inline image',
      HTML: '<p><img src="cid:logo"></p>',
      Attachments: [{ Content: fileContent, Filename: 'logo.png', ContentID: 'logo', ContentType: 'image/png' }],
    });
    const html = await mailpit.renderMessageHTML(ID);
    const src = /<img src="([^"]+)"/.exec(html)?.[1];
    assert.ok(src?.startsWith(`/api/messages/${ID}/parts/`), src);
    const image = await fetch(`${server.httpUrl}${src}`, { headers: { authorization: basic(), 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image' } });
    assert.equal(image.status, 200);
    assert.deepEqual(Buffer.from(await image.arrayBuffer()), PNG);
    await mailpit.deleteMessages({ IDs: [ID] });
  });

  it('renderMessageText() answers the text part', async () => {
    assert.ok((await mailpit.renderMessageText()).includes(sendRequest.Text!));
    assert.ok((await mailpit.renderMessageText(messageId)).includes(sendRequest.Text!));
  });

  it('deleteMessagesBySearch(), deleteMessages() by ID and for all answer ok and delete', async () => {
    assert.equal(await mailpit.deleteMessagesBySearch({ query: `subject:${sendRequest.Subject!}` }), 'ok');
    assert.equal(server.store.counts().messages, 0);
    const a = (await mailpit.sendMessage(sendRequest)).ID;
    const b = (await mailpit.sendMessage({ ...sendRequest, Subject: 'Other' })).ID;
    assert.equal(await mailpit.deleteMessages({ IDs: [a] }), 'ok');
    assert.equal(server.store.get(a), undefined);
    assert.ok(server.store.get(b));
    assert.equal(await mailpit.deleteMessages(), 'ok');
    assert.equal(server.store.counts().messages, 0);
  });

  it('a wrong password is 401 Unauthorized; no server is a clear error', async () => {
    const wrong = new MailpitClient(server.httpUrl, { auth: { username: 'invalid-user', password: 'invalid-password' } });
    await assert.rejects(wrong.getInfo(), /401 Unauthorized/);
  });

  it('getMessageSummary() of an unknown ID, and latest with no mail, are 404', async () => {
    await assert.rejects(mailpit.getMessageSummary('nope'), /404 Not Found/);
    await assert.rejects(mailpit.getMessageSummary(), /404 Not Found/);
  });
});

function basic(): string {
  return `Basic ${Buffer.from(`${USERNAME}:${PASSWORD}`).toString('base64')}`;
}

describe('cypress-mailpit 2.0.0 requests, as its commands build them', () => {
  // MailpitCommands.mailpitUrl(path, isApi): `${baseUrl}/${isApi ? "api" : ""}${path}`.
  const url = (path: string, isApi = true): string => `${server.httpUrl}/${isApi ? 'api' : ''}${path}`;
  const request = async (method: string, target: string, body?: unknown): Promise<Response> =>
    fetch(target, {
      method,
      headers: { authorization: basic(), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  it('mailpitSendMail() with its defaults, then every read command', async () => {
    // The body mailpitSendMail() sends when given no options.
    const sent = await request('POST', url('/v1/send'), {
      Attachments: [],
      Bcc: ['bcc@example.com'],
      Cc: [{ Email: 'cc@example.com', Name: 'CC' }],
      From: { Email: 'from@example.com', Name: 'From' },
      HTML: '<p>hello from mailpit</p>',
      Headers: {},
      ReplyTo: [{ Email: 'replyto@example.com', Name: 'ReplyTo' }],
      Subject: 'Hello Mailpit',
      Tags: [],
      Text: 'hello from mailpit',
      To: [{ Email: 'jane@example.com', Name: 'Jane' }],
    });
    assert.equal(sent.status, 200);
    const { ID } = (await sent.json()) as { ID: string };

    const all = (await (await request('GET', url('/v1/messages?start=0&limit=50'))).json()) as { messages: Array<{ ID: string }> };
    assert.deepEqual(all.messages.map((m) => m.ID), [ID]);
    const mail = (await (await request('GET', url('/v1/message/latest'))).json()) as { ID: string; Subject: string; From: { Address: string }; To: Array<{ Address: string }> };
    assert.equal(mail.ID, ID);
    assert.equal(mail.Subject, 'Hello Mailpit');
    assert.equal(mail.From.Address, 'from@example.com');
    assert.deepEqual(mail.To.map((r) => r.Address), ['jane@example.com']);

    const bySubject = (await (await request('GET', `${url('/v1/search')}?${new URLSearchParams({ query: 'subject:Hello Mailpit', start: '0', limit: '50' })}`)).json()) as { messages_count: number };
    assert.equal(bySubject.messages_count, 1);
    const byTo = (await (await request('GET', `${url('/v1/search')}?${new URLSearchParams({ query: 'to:jane@example.com', start: '0', limit: '50' })}`)).json()) as { messages_count: number };
    assert.equal(byTo.messages_count, 1);
    const notTo = (await (await request('GET', `${url('/v1/search')}?${new URLSearchParams({ query: 'to:cc@example.com', start: '0', limit: '50' })}`)).json()) as { messages_count: number };
    assert.equal(notTo.messages_count, 0, "Mailpit's to: is the To header only");

    // mailpitGetMailHTMlBody / TextBody: the empty "api" segment leaves a double slash before view.
    const htmlUrl = url(`/view/${ID}.html`, false);
    assert.ok(htmlUrl.includes('//view/'));
    const html = await request('GET', htmlUrl);
    assert.equal(html.status, 200);
    assert.match(await html.text(), /<p>hello from mailpit<\/p>/);
    const text = await request('GET', url(`/view/${ID}.txt`, false));
    assert.equal((await text.text()).trim(), 'hello from mailpit');

    // setReadStatus(): IDs of the given messages, or [] for all.
    assert.equal(await (await request('PUT', url('/v1/messages'), { IDs: [ID], Read: true })).text(), 'ok');
    assert.equal(server.store.get(ID)!.read, true);
    assert.equal(await (await request('PUT', url('/v1/messages'), { IDs: [], Read: false })).text(), 'ok');
    assert.equal(server.store.get(ID)!.read, false);

    const sa = await request('GET', url(`/v1/message/${ID}/sa-check`));
    assert.equal(sa.status, 400);
    assert.match(await sa.text(), /SpamAssassin is not enabled/);

    assert.equal((await request('DELETE', `${url('/v1/search')}?${new URLSearchParams({ query: 'subject:Nothing' })}`)).status, 200);
    assert.equal(server.store.counts().messages, 1);
    assert.equal((await request('DELETE', `${url('/v1/search')}?${new URLSearchParams({ query: 'subject:Hello Mailpit' })}`)).status, 200);
    assert.equal(server.store.counts().messages, 0);
    await request('POST', url('/v1/send'), { From: { Email: 'a@example.com' }, To: [{ Email: 'b@example.com' }], Subject: 'x' });
    assert.equal((await request('DELETE', url('/v1/messages'))).status, 200);
    assert.equal(server.store.counts().messages, 0);
  });

  it('errors are plain text with the reason, as Mailpit answers', async () => {
    const bad = await request('GET', `${url('/v1/search')}?query=${encodeURIComponent('after:yesterday-ish')}`);
    assert.equal(bad.status, 400);
    assert.match(bad.headers.get('content-type') ?? '', /^text\/plain/);
    assert.match(await bad.text(), /is not a date/);
    const send = await request('POST', url('/v1/send'), { From: { Email: 'not an address' } });
    assert.equal(send.status, 400);
    assert.deepEqual(await send.json(), { Error: 'invalid From address: not an address' });
    const header = await request('POST', url('/v1/send'), { From: { Email: 'a@example.com' }, Headers: { Subject: 'x' } });
    assert.deepEqual(await header.json(), { Error: 'cannot overwrite header: "Subject"' });
    const injected = await request('POST', url('/v1/send'), { From: { Email: 'a@example.com' }, Headers: { 'X-A': 'a\r\nBcc: x@example.com' } });
    assert.deepEqual(await injected.json(), { Error: 'invalid header: "X-A"' });
    const tagged = await request('POST', url('/v1/send'), { From: { Email: 'a@example.com' }, Tags: ['one\r\nBcc: x@example.com'] });
    const { ID } = (await tagged.json()) as { ID: string };
    assert.match(server.store.get(ID)!.raw.toString(), /^X-Tags: one Bcc x@example.com\r$/m, 'a tag cannot start a header line');
    assert.doesNotMatch(server.store.get(ID)!.raw.toString(), /^Bcc:/m);
  });
});

describe("Mailpit's search syntax on /api/v1/search", () => {
  const ids: Record<string, string> = {};
  const count = async (query: string, tz?: string): Promise<string[]> => {
    const res = await fetch(`${server.httpUrl}/api/v1/search?${new URLSearchParams({ query, ...(tz ? { tz } : {}) })}`, { headers: { authorization: basic() } });
    assert.equal(res.status, 200, `${query}: ${res.status}`);
    const body = (await res.json()) as { messages: Array<{ ID: string }> };
    return body.messages.map((m) => Object.entries(ids).find(([, id]) => id === m.ID)?.[0] ?? m.ID).sort();
  };

  before(async () => {
    await server.store.clear();
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: server.smtpPort, secure: false });
    const send = async (name: string, mail: SendMailOptions, envelope?: { from: string; to: string[] }) => {
      const info = await transport.sendMail({ from: 'Alice <alice@example.test>', ...mail, ...(envelope ? { envelope } : {}) });
      void info;
      let newest = '';
      server.store.forEachNewest((m) => ((newest = m.id), false));
      ids[name] = newest;
    };
    await send('welcome', { to: 'bob+signup@example.test', subject: 'Welcome aboard', text: 'Your code is 123456', headers: { 'X-Tags': 'onboarding, Urgent' } });
    await send('invoice', { to: 'carol@example.test', cc: 'dave@example.test', subject: 'Invoice 42', text: 'Please pay', attachments: [{ filename: 'inv.pdf', content: 'x' }] });
    await send('hidden', { to: 'erin@example.test', bcc: 'frank@example.test', subject: 'Quiet "note"', text: 'shh', messageId: '<abc-123@example.test>' });
    await send('inline', { to: 'gina@example.test', subject: 'Logo', html: '<img src="cid:logo">', attachments: [{ filename: 'logo.png', content: PNG, cid: 'logo' }] });
    transport.close();
    await server.store.settled();
  });

  it('reads fields, phrases, negation with - and !, and Mailpit-only fields', async () => {
    assert.deepEqual(await count('subject:welcome'), ['welcome']);
    assert.deepEqual(await count('"Invoice 42"'), ['invoice']);
    assert.deepEqual(await count('subject:"Invoice 42"'), ['invoice']);
    assert.deepEqual(await count('-subject:invoice'), ['hidden', 'inline', 'welcome']);
    assert.deepEqual(await count('!subject:invoice'), ['hidden', 'inline', 'welcome']);
    assert.deepEqual(await count('to:carol'), ['invoice']);
    assert.deepEqual(await count('to:dave'), [], 'to: is the To header only');
    assert.deepEqual(await count('cc:dave'), ['invoice']);
    assert.deepEqual(await count('bcc:frank'), ['hidden'], 'a Bcc recipient is found in the envelope');
    assert.deepEqual(await count('from:alice'), ['hidden', 'inline', 'invoice', 'welcome']);
    assert.deepEqual(await count('message-id:abc-123'), ['hidden']);
    assert.deepEqual(await count('has:attachment'), ['invoice']);
    assert.deepEqual(await count('has:inline'), ['inline']);
    assert.deepEqual(await count('-has:inline'), ['hidden', 'invoice', 'welcome'], 'an attachment without a Content-ID is not inline');
    assert.deepEqual(await count('123456'), ['welcome']);
    assert.deepEqual(await count('unknown:field'), [], 'an unknown prefix is text, as in Mailpit');
  });

  it('finds tags from X-Tags and plus-addresses, and is:tagged', async () => {
    assert.deepEqual(server.store.get(ids.welcome!)!.tags, ['onboarding', 'signup', 'Urgent']);
    assert.deepEqual(await count('tag:signup'), ['welcome']);
    assert.deepEqual(await count('tag:urgent'), ['welcome']);
    assert.deepEqual(await count('is:tagged'), ['welcome']);
    assert.deepEqual(await count('-is:tagged'), ['hidden', 'inline', 'invoice']);
  });

  it('reads is:read / is:unread, sizes, and dates in the tz given', async () => {
    server.store.setRead(ids.invoice!, true);
    assert.deepEqual(await count('is:read'), ['invoice']);
    assert.deepEqual(await count('is:unread'), ['hidden', 'inline', 'welcome']);
    assert.deepEqual(await count('larger:1'), ['hidden', 'inline', 'invoice', 'welcome']);
    assert.deepEqual(await count('smaller:1'), []);
    assert.deepEqual(await count('larger:abc'), [], 'not a size: searched as text');
    const today = new Date().toISOString().slice(0, 10);
    assert.deepEqual(await count(`after:2000-01-01`, 'UTC'), ['hidden', 'inline', 'invoice', 'welcome']);
    assert.deepEqual(await count(`before:2000-01-01`, 'America/Chicago'), []);
    assert.deepEqual(await count(`before:${today}T00:00:00Z`), []);
    const zone = await fetch(`${server.httpUrl}/api/v1/search?query=after:2020-01-01&tz=Mars/Olympus`, { headers: { authorization: basic() } });
    assert.equal(zone.status, 400);
    assert.match(await zone.text(), /not a time zone/);
  });

  it('reads a date without an offset in the tz given, across a DST change, and refuses what is not a date', () => {
    assert.equal(parseMailpitDate('after', '2024-01-15', 'America/Chicago'), Date.parse('2024-01-15T06:00:00Z'));
    assert.equal(parseMailpitDate('after', '2024-07-15 08:30', 'America/Chicago'), Date.parse('2024-07-15T13:30:00Z'), 'CDT, not CST');
    // 02:30 does not exist in Berlin that night: either side of the change will do (as in Go's time.Date).
    assert.ok([Date.parse('2024-03-31T00:30:00Z'), Date.parse('2024-03-31T01:30:00Z')].includes(parseMailpitDate('after', '2024-03-31T02:30:00', 'Europe/Berlin')));
    assert.equal(parseMailpitDate('before', '2024-05-31T14:30:00+02:00', 'America/Chicago'), Date.parse('2024-05-31T12:30:00Z'), 'an offset wins over tz');
    assert.equal(parseMailpitDate('before', '1717165800', undefined), 1717165800_000);
    assert.throws(() => parseMailpitDate('after', 'yesterday', 'UTC'), /is not a date/);
    assert.deepEqual(mailpitArgs('subject:"two words" -from:x  !is:read'), ['subject:two words', '-from:x', '!is:read']);
  });

  it("Mailpen's own search language knows tag: and is:tagged", async () => {
    const res = await fetch(`${server.httpUrl}/api/messages?q=${encodeURIComponent('tag:onboarding')}`, { headers: { authorization: basic() } });
    const body = (await res.json()) as { messages: Array<{ id: string; tags: string[] }> };
    assert.deepEqual(body.messages.map((m) => m.id), [ids.welcome]);
    assert.deepEqual(body.messages[0]!.tags, ['onboarding', 'signup', 'Urgent']);
  });
});

describe("Mailpen's own tags API, and the compatibility routes in the OpenAPI document", () => {
  const auth = (): Record<string, string> => ({ authorization: basic() });

  it('PUT /api/messages/:id/tags replaces the tags and GET /api/tags counts them', async () => {
    const { ID } = await mailpit.sendMessage({ From: { Email: 'a@example.test' }, To: [{ Email: 'bob+news@example.test' }], Subject: 'tagged', Tags: ['From API'] });
    const before = (await (await fetch(`${server.httpUrl}/api/messages/${ID}`, { headers: auth() })).json()) as { tags: string[] };
    assert.deepEqual(before.tags, ['From API', 'news'], 'X-Tags from the send request and the plus-address');
    const put = await fetch(`${server.httpUrl}/api/messages/${ID}/tags`, {
      method: 'PUT',
      headers: { ...auth(), 'content-type': 'application/json' },
      body: JSON.stringify({ tags: ['b', 'A', 'a', 'bad/char', '  '] }),
    });
    assert.equal(put.status, 200);
    assert.deepEqual(((await put.json()) as { tags: string[] }).tags, ['A', 'b', 'bad char'], 'cleaned as Mailpit cleans, repeats dropped, sorted');
    const all = (await (await fetch(`${server.httpUrl}/api/tags`, { headers: auth() })).json()) as { tags: Array<{ name: string; messages: number }> };
    assert.deepEqual(all.tags.find((t) => t.name === 'A'), { name: 'A', messages: 1 });
    const missing = await fetch(`${server.httpUrl}/api/messages/nope/tags`, { method: 'PUT', headers: { ...auth(), 'content-type': 'application/json' }, body: '{"tags":[]}' });
    assert.equal(missing.status, 404);
    const bad = await fetch(`${server.httpUrl}/api/messages/${ID}/tags`, { method: 'PUT', headers: { ...auth(), 'content-type': 'application/json' }, body: '{}' });
    assert.equal(bad.status, 400);
  });

  it('lists the Mailpit and MailHog routes under their own tags', async () => {
    const doc = (await (await fetch(`${server.httpUrl}/api/openapi.json`, { headers: auth() })).json()) as { paths: Record<string, Record<string, { tags?: string[] }>> };
    const tagOf = (path: string, method: string): string[] | undefined => doc.paths[path]?.[method]?.tags;
    assert.deepEqual(tagOf('/api/v1/messages', 'get'), ['mailpit (compatibility)']);
    assert.deepEqual(tagOf('/api/v1/message/{id}', 'get'), ['mailpit (compatibility)']);
    assert.deepEqual(tagOf('/view/{file}', 'get'), ['mailpit (compatibility)']);
    assert.deepEqual(tagOf('/api/v2/messages', 'get'), ['mailhog (compatibility)']);
    assert.deepEqual(tagOf('/api/v2/search', 'get'), ['mailhog (compatibility)']);
    assert.deepEqual(tagOf('/api/v1/messages', 'delete'), ['mailpit (compatibility)', 'mailhog (compatibility)']);
    assert.deepEqual(tagOf('/api/messages', 'get'), ['messages'], "Mailpen's own routes keep theirs");
    assert.equal(doc.paths['//view/{file}'], undefined, "cypress-mailpit's double-slash alias is not listed");
  });
});

describe("Tags in Mailpit's answers (list, search, info, tags) after tag changes and deletions", () => {
  // What every message's own tags say: the names sorted as Mailpit sorts them, and each one's count.
  const fromMessages = (): { names: string[]; counts: Record<string, number> } => {
    const counts: Record<string, number> = {};
    server.store.forEachNewest((m) => {
      for (const t of m.tags) counts[t] = (counts[t] ?? 0) + 1;
    });
    const names = Object.keys(counts).sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()));
    return { names, counts };
  };
  const answers = async (): Promise<{ list: string[]; search: string[]; info: Record<string, number>; tags: string[] }> => ({
    list: (await mailpit.listMessages()).tags,
    search: (await mailpit.searchMessages({ query: 'from:example.test' })).tags,
    info: (await mailpit.getInfo()).Tags,
    tags: await mailpit.getTags(),
  });
  const check = async (names: string[], counts: Record<string, number>, when: string): Promise<void> => {
    const oracle = fromMessages();
    assert.deepEqual(oracle, { names, counts }, `${when}: the messages' own tags`);
    const got = await answers();
    assert.deepEqual(got.list, names, `${when}: listMessages().tags`);
    assert.deepEqual(got.search, names, `${when}: searchMessages().tags`);
    assert.deepEqual(got.tags, names, `${when}: getTags()`);
    assert.deepEqual(got.info, counts, `${when}: getInfo().Tags`);
  };

  it('each answers the tags every stored message carries, right after the mail arrives and after each change', async () => {
    assert.equal(await mailpit.deleteMessages(), 'ok');
    await check([], {}, 'empty');
    const send = async (to: string, Tags?: string[]): Promise<string> =>
      (await mailpit.sendMessage({ From: { Email: 'tags@example.test' }, To: [{ Email: to }], Subject: 'tag counts', ...(Tags ? { Tags } : {}) })).ID;
    // Asked at once: not indexed yet, their tags are read for the answer.
    const one = await send('a@example.test', ['zeta', 'Alpha']);
    const two = await send('b@example.test', ['alpha-2', 'zeta']);
    const three = await send('c+Mid@example.test');
    await check(['Alpha', 'alpha-2', 'Mid', 'zeta'], { Alpha: 1, 'alpha-2': 1, Mid: 1, zeta: 2 }, 'sent');
    await server.store.settled();
    await check(['Alpha', 'alpha-2', 'Mid', 'zeta'], { Alpha: 1, 'alpha-2': 1, Mid: 1, zeta: 2 }, 'indexed');

    assert.equal(await mailpit.setTags({ IDs: [one], Tags: ['zeta'] }), 'ok');
    await check(['alpha-2', 'Mid', 'zeta'], { 'alpha-2': 1, Mid: 1, zeta: 2 }, 'Alpha replaced');
    assert.equal(await mailpit.renameTag('zeta', 'Omega'), 'ok');
    await check(['alpha-2', 'Mid', 'Omega'], { 'alpha-2': 1, Mid: 1, Omega: 2 }, 'zeta renamed');
    assert.equal(await mailpit.deleteMessages({ IDs: [two] }), 'ok');
    await check(['Mid', 'Omega'], { Mid: 1, Omega: 1 }, 'a message deleted');
    assert.equal(await mailpit.deleteTag('Mid'), 'ok');
    assert.ok(server.store.get(three), 'deleting a tag keeps the message');
    await check(['Omega'], { Omega: 1 }, 'Mid deleted');
    assert.equal(await mailpit.deleteMessagesBySearch({ query: 'tag:Omega' }), 'ok');
    await check([], {}, 'deleted by search');
    await send('d+again@example.test', ['Alpha']);
    await check(['again', 'Alpha'], { again: 1, Alpha: 1 }, 'sent after');
    assert.equal(await mailpit.deleteMessages(), 'ok');
    await check([], {}, 'all deleted');
  });
});
