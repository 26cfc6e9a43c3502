// One rule for what is an attachment (server/mail/attachments.ts): the list's count and
// has:attachment (the body scan) agree with the parts the message view marks `attachment` (the
// full parse), on every corpus message and on the cases the rule names.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { apiApp, type ApiApp } from './helpers/api-app.js';
import { loadCorpus } from './helpers/corpus.js';

let api: ApiApp;
before(async () => {
  api = await apiApp({ maxMessages: 0, maxBytes: 0 });
});
after(() => api.close());

interface Shown {
  listed: number;
  marked: number;
  parts: Array<{ contentType: string; disposition: string; filename: string | null }>;
}

async function shown(id: string): Promise<Shown> {
  const list = (await api.app.inject({ url: `/api/messages?q=${encodeURIComponent('has:attachment')}&limit=1000` })).json() as { messages: Array<{ id: string }> };
  const res = await api.app.inject({ url: `/api/messages/${id}` });
  assert.equal(res.statusCode, 200);
  const m = res.json() as { attachments: number; parts: Shown['parts'] };
  const marked = m.parts.filter((p) => p.disposition === 'attachment').length;
  assert.equal(list.messages.some((x) => x.id === id), m.attachments > 0, 'has:attachment agrees with the count');
  return { listed: m.attachments, marked, parts: m.parts };
}

test('the list count and the parts marked attachment agree on every corpus message', async () => {
  const corpus = loadCorpus();
  const disagree: string[] = [];
  let withAttachments = 0;
  for (const { name, raw } of corpus) {
    const id = api.add(raw, { rcptTo: ['corpus@example.test'] }).id;
    const res = await api.app.inject({ url: `/api/messages/${id}` });
    assert.equal(res.statusCode, 200, name);
    const m = res.json() as { attachments: number; parts: Array<{ disposition: string }> };
    const marked = m.parts.filter((p) => p.disposition === 'attachment').length;
    if (m.attachments !== marked) disagree.push(`${name}: list ${m.attachments}, view ${marked}`);
    if (marked > 0) withAttachments++;
  }
  assert.deepEqual(disagree, []);
  // has:attachment selects exactly the messages the view shows a file for.
  const total = ((await api.app.inject({ url: `/api/messages?q=${encodeURIComponent('has:attachment')}&limit=1` })).json() as { total: number }).total;
  assert.equal(total, withAttachments);
  assert.ok(withAttachments > 100, `${withAttachments} corpus messages with attachments`);
  await api.app.inject({ method: 'DELETE', url: '/api/messages' });
});

function mime(parts: string[], type = 'multipart/mixed'): string {
  return [
    'From: a@example.test',
    'To: b@example.test',
    `Subject: rule ${Math.random().toString(36).slice(2)}`,
    'MIME-Version: 1.0',
    `Content-Type: ${type}; boundary="zz"`,
    '',
    ...parts.map((p) => `--zz\n${p}`),
    '--zz--',
    '',
  ].join('\n');
}

const TEXT = 'Content-Type: text/plain\n\nhello';
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

test('an inline photo with no HTML to show it (iPhone mail) is an attachment in the list and the view', async () => {
  const id = api.add(mime([TEXT, `Content-Type: image/jpeg; name=photo.JPG\nContent-Disposition: inline; filename=photo.JPG\nContent-Transfer-Encoding: base64\n\n${PNG}`])).id;
  const s = await shown(id);
  assert.deepEqual([s.listed, s.marked], [1, 1]);
  assert.deepEqual(s.parts.map((p) => [p.contentType, p.filename]), [['image/jpeg', 'photo.JPG']]);
});

test('an image the HTML shows by cid: inside multipart/related is not an attachment; marked attachment, it is', async () => {
  const html = 'Content-Type: text/html\n\n<img src="cid:logo@x">';
  const logo = (disposition: string) => `Content-Type: image/png\nContent-ID: <logo@x>\n${disposition}Content-Transfer-Encoding: base64\n\n${PNG}`;
  const shownInHtml = await shown(api.add(mime([html, logo('Content-Disposition: inline; filename=logo.png\n')], 'multipart/related')).id);
  assert.deepEqual([shownInHtml.listed, shownInHtml.marked, shownInHtml.parts.length], [0, 0, 1]);
  const attached = await shown(api.add(mime([html, logo('Content-Disposition: attachment; filename=logo.png\n')], 'multipart/related')).id);
  assert.deepEqual([attached.listed, attached.marked], [1, 1]);
  // A Content-ID outside multipart/related shows in no HTML: a file.
  const loose = await shown(api.add(mime([html, logo('')])).id);
  assert.deepEqual([loose.listed, loose.marked], [1, 1]);
});

test('text parts are body unless marked attachment; other text types (calendar, headers of a bounce) are files', async () => {
  const namedText = await shown(api.add(mime([TEXT, 'Content-Type: text/plain; name=notes.txt\n\nmore text'])).id);
  assert.deepEqual([namedText.listed, namedText.marked], [0, 0], 'a name alone leaves text in the body');
  const attachedText = await shown(api.add(mime([TEXT, 'Content-Type: text/plain\nContent-Disposition: attachment; filename=notes.txt\n\nnotes'])).id);
  assert.deepEqual([attachedText.listed, attachedText.marked], [1, 1]);
  const others = await shown(api.add(mime([TEXT, 'Content-Type: text/calendar\n\nBEGIN:VCALENDAR', 'Content-Type: text/rfc822-headers\n\nFrom: x@y'])).id);
  assert.deepEqual([others.listed, others.marked], [2, 2]);
});

test('an attached message is one attachment; an inline one is read as part of the message', async () => {
  const inner = 'From: c@example.test\nSubject: inner\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="in"\n\n--in\nContent-Type: text/plain\n\ninner text\n--in\nContent-Type: application/pdf; name=a.pdf\n\n%PDF\n--in--';
  const attached = await shown(api.add(mime([TEXT, `Content-Type: message/rfc822\n\n${inner}`])).id);
  assert.deepEqual([attached.listed, attached.marked], [1, 1]);
  const embedded = await shown(api.add(mime([TEXT, `Content-Type: message/rfc822\nContent-Disposition: inline\n\n${inner}`])).id);
  assert.deepEqual([embedded.listed, embedded.marked], [1, 1]);
  assert.equal(embedded.parts[0]!.contentType, 'application/pdf', 'the file inside the inline message');
});
