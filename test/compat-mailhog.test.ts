// MailHog compatibility (issue 12): the mailhog npm client's own test suite (4.16.0,
// github.com/blueimp/mailhog-node, index.test.js and mail/*.eml, MIT licence, (c) 2016 Sebastian
// Tschan), run against a real Mailpen. Adapted only in how the server starts and how the four
// messages are sent (its sendmail.sh piped them to MailHog's mhsendmail; here nodemailer sends the
// same bytes over SMTP, with the envelope mhsendmail would give) and in releaseMessage, which
// Mailpen refuses on purpose (it never delivers mail): that test asserts the refusal instead. Every
// other test and assertion is the suite's own, with node:test in place of mocha. Then MailHog's
// WebSocket (/api/v2/websocket) and the DELETE /api/v1/messages shared with Mailpit.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert';
import { createRequire } from 'node:module';
import nodemailer from 'nodemailer';
import WebSocket from 'ws';
import { startTestServer, type TestServer } from './helpers/server.js';
import { parseAddresses, readHeaderBlock } from '../server/mail/headers.js';
import { MAX_PAGE_RAW_BYTES } from '../server/http/compat/mailhog/routes.js';

const require = createRequire(import.meta.url);
type MailhogClient = ReturnType<typeof import('mailhog')>;
const createMailhog = require('mailhog') as typeof import('mailhog');

/** mail/01.eml to mail/04.eml of the mailhog-node repository, as sendmail.sh sends them, in order. */
const MAIL = [
  "Content-Type: multipart/mixed; boundary=next-part-zuB0VEK66qG0M6t4\nDate: Sun, 23 Oct 2016 20:59:40 +0200\nFrom: Test <test@example.org>\nTo: =?utf-8?Q?=C3=BC=C3=A4=C3=B6?= <ueaeoe@example.org>\nSubject: =?utf-8?Q?=C3=BC=C3=A4=C3=B6?=\n\nThis is a message with multiple parts in MIME format.\n--next-part-zuB0VEK66qG0M6t4\nContent-Type: text/plain; charset=utf-8\nMIME-Version: 1.0\nContent-Transfer-Encoding: quoted-printable\n\n=C3=BC\n=C3=A4=C3=B6\n--next-part-zuB0VEK66qG0M6t4\nContent-Type: text/html; charset=utf-8\nMIME-Version: 1.0\nContent-Transfer-Encoding: quoted-printable\n\n<strong>=C3=BC<br>=C3=A4=C3=B6</strong>\n--next-part-zuB0VEK66qG0M6t4\nContent-Transfer-Encoding: base64\nMIME-Version: 1.0\nContent-Type: image/gif\nContent-Disposition: attachment; filename=\"black-80x60.gif\"\n\nR0lGODdhUAA8AIABAAAAAP///ywAAAAAUAA8AAACS4SPqcvtD6OctNqLs968+w+G4kiW5omm6sq2\n7gvH8kzX9o3n+s73/g8MCofEovGITCqXzKbzCY1Kp9Sq9YrNarfcrvcLDovH5PKsAAA7\n--next-part-zuB0VEK66qG0M6t4\nContent-Transfer-Encoding: base64\nMIME-Version: 1.0\nContent-Type: image/jpeg\nContent-Disposition: attachment; filename=\"white-2x1.jpg\"\n\n/9j/4AAQSkZJRgABAQEAYABgAAD/4QAiRXhpZgAASUkqAAgAAAABABIBAwABAAAABgASAAAAAAD/\n7QAsUGhvdG9zaG9wIDMuMAA4QklNBAQAAAAAAA8cAgUACm9iamVjdG5hbWUA/9sAQwABAQEBAQEB\nAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB\n/9sAQwEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB\nAQEBAQEBAQEBAQEB/8AAEQgAAQACAwEiAAIRAQMRAf/EAB8AAAEFAQEBAQEBAAAAAAAAAAABAgME\nBQYHCAkKC//EALUQAAIBAwMCBAMFBQQEAAABfQECAwAEEQUSITFBBhNRYQcicRQygZGhCCNCscEV\nUtHwJDNicoIJChYXGBkaJSYnKCkqNDU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3\neHl6g4SFhoeIiYqSk5SVlpeYmZqio6Slpqeoqaqys7S1tre4ubrCw8TFxsfIycrS09TV1tfY2drh\n4uPk5ebn6Onq8fLz9PX29/j5+v/EAB8BAAMBAQEBAQEBAQEAAAAAAAABAgMEBQYHCAkKC//EALUR\nAAIBAgQEAwQHBQQEAAECdwABAgMRBAUhMQYSQVEHYXETIjKBCBRCkaGxwQkjM1LwFWJy0QoWJDTh\nJfEXGBkaJicoKSo1Njc4OTpDREVGR0hJSlNUVVZXWFlaY2RlZmdoaWpzdHV2d3h5eoKDhIWGh4iJ\nipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uLj5OXm5+jp6vLz\n9PX29/j5+v/aAAwDAQACEQMRAD8A/v4ooooA/9k=\n--next-part-zuB0VEK66qG0M6t4--\n",
  "Content-Transfer-Encoding: base64\nContent-Type: text/plain; charset=utf-8\nDate: Sun, 23 Oct 2016 20:59:40 +0200\nFrom: Test <test@example.org>\nTo: =?utf-8?B?5pel5pys?= <nihon@example.org>\nCc: =?utf-8?B?5pel5pys?= <cc@example.org>\nBcc: =?utf-8?B?5pel5pys?= <bcc@example.org>\nReply-To: =?utf-8?B?5pel5pys?= <reply-to@example.org>\nSubject: =?utf-8?B?5pel5pys?=\n\n5pel5pysCg==\n",
  "Content-Transfer-Encoding: quoted-printable\nContent-Type: text/plain; charset=ISO-8859-1\nDate: Sun, 23 Oct 2016 20:59:40 +0200\nFrom: Test <test@example.org>\nTo: ISO-8859-1 <iso-8859-1@example.org>\nSubject: ISO-8859-1\n\n=FC=E4=F6=\n",
  "Content-Transfer-Encoding: 7bit\nContent-Type: text/plain\nDate: Tue, 04 Dec 2018 15:54:33 +0000\nFrom: Test <test@example.org>\nTo: no-charset@example.org\nSubject: Mail without charset\n\ntext content\n",
];

let server: TestServer;
let mailhog: MailhogClient;

/** sendmail.sh: each message in order; the envelope from its headers, as mhsendmail reads them. */
async function sendAllMail(): Promise<void> {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port: server.smtpPort, secure: false });
  try {
    for (const raw of MAIL) {
      const { fields } = readHeaderBlock(Buffer.from(raw));
      const of = (key: string) => fields.filter((f) => f.key === key).flatMap((f) => parseAddresses(f.value).map((a) => a.address));
      await transport.sendMail({ raw, envelope: { from: of('from')[0]!, to: [...of('to'), ...of('cc'), ...of('bcc')] } });
    }
  } finally {
    transport.close();
  }
}

async function deleteAllMail(): Promise<void> {
  const result = (await mailhog.deleteAll()) as { statusCode?: number };
  assert.strictEqual(result.statusCode, 200, 'Responds with status code 200');
}

before(async () => {
  server = await startTestServer();
  const url = new URL(server.httpUrl);
  mailhog = createMailhog({ host: url.hostname, port: Number(url.port) });
  await sendAllMail();
});
after(async () => {
  await deleteAllMail();
  await server.close();
});

describe('mailhog 4.16.0 suite against Mailpen', () => {
  describe('encode', function () {
    it('quoted-printable encoding of utf8 string', function () {
      assert.strictEqual(mailhog.encode('üäö', 'quoted-printable'), '=C3=BC=C3=A4=C3=B6', 'Returns quoted-printable encoding of utf8 string');
    });

    it('quoted-printable encoding of iso-8859-1 string', function () {
      assert.strictEqual(mailhog.encode('Ã¼Ã¤Ã¶', 'quoted-printable', 'iso-8859-1'), '=C3=BC=C3=A4=C3=B6', 'Returns quoted-printable encoding of iso-8859-1 string');
    });

    it('quoted-printable encoding of long utf8 string', function () {
      assert.strictEqual(
        mailhog.encode('üäö'.repeat(10), 'quoted-printable', 'utf8'),
        ['=C3=BC=C3=A4=C3=B6'.repeat(4), '=C3=BC=C3=A4=C3=B6'.repeat(4), '=C3=BC=C3=A4=C3=B6'.repeat(2)].join('=\r\n'),
        'Returns wrapped quoted-printable encoding of utf8 string',
      );
    });

    it('quoted-printable encoding of utf8 string, linelength:10', function () {
      assert.strictEqual(mailhog.encode('üäöüäö', 'quoted-printable', 'utf8', 10), '=C3=BC=C3=\r\n=A4=C3=B6=\r\n=C3=BC=C3=\r\n=A4=C3=B6', 'Returns wrapped quoted-printable encoding of utf8 string');
    });

    it('base64 encoding of utf8 string', function () {
      assert.strictEqual(mailhog.encode('üäö', 'base64'), 'w7zDpMO2', 'Returns base64 encoding of utf8 string');
    });

    it('base64 encoding of iso-8859-1 string', function () {
      assert.strictEqual(mailhog.encode('Ã¼Ã¤Ã¶', 'base64', 'iso-8859-1'), 'w7zDpMO2', 'Returns base64 encoding of iso-8859-1 string');
    });

    it('base64 encoding of long utf8 string', function () {
      assert.strictEqual(mailhog.encode('üäö'.repeat(10), 'base64', 'utf8'), 'w7zDpMO2'.repeat(9) + 'w7zD\r\npMO2', 'Returns wrapped base64 encoding of utf8 string');
    });

    it('base64 encoding of utf8 string, linelength:10', function () {
      assert.strictEqual(mailhog.encode('üäöüäö', 'base64', 'utf8', 10), 'w7zDpMO2w7\r\nzDpMO2', 'Returns wrapped base64 encoding of utf8 string');
    });
  });

  describe('decode', function () {
    it('quoted-printable decoding to utf8 string', function () {
      assert.strictEqual(mailhog.decode('=C3=BC=C3=A4=C3=B6', 'quoted-printable'), 'üäö', 'Returns utf8 string from quoted-printable input string');
    });

    it('quoted-printable decoding to iso-8859-1 string', function () {
      assert.strictEqual(mailhog.decode('=C3=BC=C3=A4=C3=B6', 'quoted-printable', 'iso-8859-1'), 'Ã¼Ã¤Ã¶', 'Returns iso-8859-1 string from quoted-printable input string');
    });

    it('quoted-printable decoding of wrapped string to utf8 string', function () {
      assert.strictEqual(
        mailhog.decode(['=C3=BC=C3=A4=C3=B6'.repeat(4), '=C3=BC=C3=A4=C3=B6'.repeat(4), '=C3=BC=C3=A4=C3=B6'.repeat(2)].join('=\r\n'), 'quoted-printable'),
        'üäö'.repeat(10),
        'Returns utf8 string from wrapped quoted-printable input string',
      );
    });

    it('base64 decoding to utf8 string', function () {
      assert.strictEqual(mailhog.decode('w7zDpMO2', 'base64'), 'üäö', 'Returns utf8 string from base64 input string');
    });

    it('base64 decoding to iso-8859-1 string', function () {
      assert.strictEqual(mailhog.decode('w7zDpMO2', 'base64', 'iso-8859-1'), 'Ã¼Ã¤Ã¶', 'Returns iso-8859-1 string from base64 input string');
    });

    it('base64 decoding of wrapped string to utf8 string', function () {
      assert.strictEqual(mailhog.decode('w7zDpMO2'.repeat(9) + 'w7zD\r\npMO2', 'base64'), 'üäö'.repeat(10), 'Returns utf8 string from wrapped base64 input string');
    });
  });

  describe('multipart', function () {
    it('parses quoted-printable encoded text content', async function () {
      const result = await mailhog.latestTo('ueaeoe@example.org');
      assert.ok(result);
      assert.strictEqual(result.text, 'ü\r\näö', 'Returns plain text content');
    });

    it('parses quoted-printable encoded HTML content', async function () {
      const result = await mailhog.latestTo('ueaeoe@example.org');
      assert.ok(result);
      assert.strictEqual(result.html, '<strong>ü<br>äö</strong>', 'Returns HTML content');
    });

    it('parses attachments', async function () {
      const result = await mailhog.latestTo('ueaeoe@example.org');
      assert.ok(result);
      assert.strictEqual(result.attachments.length, 2, 'Returns attachments');
      assert.strictEqual(result.attachments[0]!.name, 'black-80x60.gif');
      assert.strictEqual(result.attachments[0]!.type, 'image/gif');
      assert.strictEqual(
        Buffer.from(result.attachments[0]!.Body, result.attachments[0]!.encoding as BufferEncoding).toString('base64'),
        'R0lGODdhUAA8AIABAAAAAP///ywAAAAAUAA8AAACS4SPqcvtD6OctNqLs968+w+G4kiW5o' +
          'mm6sq27gvH8kzX9o3n+s73/g8MCofEovGITCqXzKbzCY1Kp9Sq9YrNarfcrvcLDovH5P' +
          'KsAAA7',
      );
      assert.strictEqual(result.attachments[1]!.name, 'white-2x1.jpg');
      assert.strictEqual(result.attachments[1]!.type, 'image/jpeg');
      assert.strictEqual(
        Buffer.from(result.attachments[1]!.Body, result.attachments[1]!.encoding as BufferEncoding).toString('base64'),
        '/9j/4AAQSkZJRgABAQEAYABgAAD/4QAiRXhpZgAASUkqAAgAAAABABIBAwABAAAABgASAA' +
          'AAAAD/7QAsUGhvdG9zaG9wIDMuMAA4QklNBAQAAAAAAA8cAgUACm9iamVjdG5hbWUA/9' +
          'sAQwABAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQ' +
          'EBAQEBAQEBAQEBAQEBAQEB/9sAQwEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQ' +
          'EBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB/8AAEQgAAQACAwEiAAIRAQ' +
          'MRAf/EAB8AAAEFAQEBAQEBAAAAAAAAAAABAgMEBQYHCAkKC//EALUQAAIBAwMCBAMFBQ' +
          'QEAAABfQECAwAEEQUSITFBBhNRYQcicRQygZGhCCNCscEVUtHwJDNicoIJChYXGBkaJS' +
          'YnKCkqNDU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6g4SFhoeIiY' +
          'qSk5SVlpeYmZqio6Slpqeoqaqys7S1tre4ubrCw8TFxsfIycrS09TV1tfY2drh4uPk5e' +
          'bn6Onq8fLz9PX29/j5+v/EAB8BAAMBAQEBAQEBAQEAAAAAAAABAgMEBQYHCAkKC//EAL' +
          'URAAIBAgQEAwQHBQQEAAECdwABAgMRBAUhMQYSQVEHYXETIjKBCBRCkaGxwQkjM1LwFW' +
          'Jy0QoWJDThJfEXGBkaJicoKSo1Njc4OTpDREVGR0hJSlNUVVZXWFlaY2RlZmdoaWpzdH' +
          'V2d3h5eoKDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJyt' +
          'LT1NXW19jZ2uLj5OXm5+jp6vLz9PX29/j5+v/aAAwDAQACEQMRAD8A/v4ooooA/9k=',
      );
    });
  });

  describe('charset', function () {
    it('parses mail with utf8 charset', async function () {
      const result = await mailhog.latestTo('nihon@example.org');
      assert.ok(result);
      assert.strictEqual(result.text, '日本\n', 'Parses mail with utf8 charset');
    });

    it('parses mail with ISO-8859-1 charset', async function () {
      const result = await mailhog.latestTo('iso-8859-1@example.org');
      assert.ok(result);
      assert.strictEqual(result.text, 'üäö', 'Returns plain text content');
    });

    it('parses mail without charset definition', async function () {
      const result = await mailhog.latestTo('no-charset@example.org');
      assert.ok(result);
      assert.strictEqual(result.text, 'text content', 'Returns plain text content');
    });
  });

  describe('headers', function () {
    it('parses the mail Cc header', async function () {
      const result = await mailhog.latestTo('nihon@example.org');
      assert.ok(result);
      assert.strictEqual(result.cc, '日本 <cc@example.org>', 'Returns the decoded mail Cc header');
    });

    it('parses the mail Bcc header', async function () {
      const result = await mailhog.latestTo('nihon@example.org');
      assert.ok(result);
      assert.strictEqual(result.bcc, '日本 <bcc@example.org>', 'Returns the decoded mail Bcc header');
    });

    it('parses the mail Reply-To header', async function () {
      const result = await mailhog.latestTo('nihon@example.org');
      assert.ok(result);
      assert.strictEqual(result.replyTo, '日本 <reply-to@example.org>', 'Returns the decoded mail Reply-To header');
    });

    it('parses the mail Date header', async function () {
      const result = await mailhog.latestTo('nihon@example.org');
      assert.ok(result);
      assert.ok(result.deliveryDate instanceof Date, 'Returns mail Date header as Date object');
      assert.strictEqual(result.date!.getTime(), Date.parse('2016-10-23T18:59:40.000Z'), 'Returns mail Date header as defined in the composed mail');
    });

    it('parses the mail Delivery-Date header', async function () {
      const result = await mailhog.latestTo('nihon@example.org');
      assert.ok(result);
      assert.ok(result.deliveryDate instanceof Date, 'Returns mail Delivery-Date header as Date object');
      assert.ok(result.deliveryDate > result.date!, 'Returns mail with Delivery-Date later than Date');
    });
  });

  describe('messages', function () {
    it('retrieve mails', async function () {
      const result = await mailhog.messages();
      assert.ok(result);
      assert.strictEqual(result.count, 4, 'Returns all emails');
      assert.strictEqual(result.items[0]!.subject, 'Mail without charset', 'Returns the decoded mail Subject header for the first mail in the set');
      assert.strictEqual(result.items[1]!.subject, 'ISO-8859-1', 'Returns the decoded mail Subject header for the second mail in the set');
      assert.strictEqual(result.items[2]!.subject, '日本', 'Returns the decoded mail Subject header for the third mail in the set');
      assert.strictEqual(result.items[3]!.subject, 'üäö', 'Returns the decoded mail Subject header for the fourth mail in the set');
    });

    it('limit the messages range', async function () {
      const result = await mailhog.messages(3, 1);
      assert.ok(result);
      assert.strictEqual(result.count, 1, 'Returns a set for the given range');
      assert.strictEqual(result.items[0]!.subject, 'üäö', 'Returns the decoded mail Subject header for mail from the given range');
    });
  });

  describe('search', function () {
    it('search mails containing the query', async function () {
      const result = await mailhog.search(mailhog.encode('üäö', 'quoted-printable'));
      assert.ok(result);
      assert.strictEqual(result.count, 1, 'Returns a list of matching emails');
      assert.strictEqual(result.items[0]!.subject, 'üäö', 'Returns the decoded mail Subject header');
    });

    it('search mails from the given user', async function () {
      const result = await mailhog.search('test@example.org', 'from');
      assert.ok(result);
      assert.strictEqual(result.count, 4, 'Returns a list of matching emails');
      assert.strictEqual(result.items[0]!.subject, 'Mail without charset', 'Returns the decoded mail Subject header sent from the given user');
    });

    it('search mails to the given user', async function () {
      const result = await mailhog.search('nihon@example.org', 'to');
      assert.ok(result);
      assert.strictEqual(result.count, 1, 'Returns a list of matching emails');
      assert.strictEqual(result.items[0]!.subject, '日本', 'Returns the decoded mail Subject header sent to the given user');
    });

    it('limit the search results range', async function () {
      const result = await mailhog.search('example.org', undefined, 3, 1);
      assert.ok(result);
      assert.strictEqual(result.count, 1, 'Returns a set for the given range');
      assert.strictEqual(result.items[0]!.subject, 'üäö', 'Returns the decoded mail Subject header for mail from the given range');
    });
  });

  describe('latestFrom', function () {
    it('latest mail from a given user', async function () {
      const result = await mailhog.latestFrom('test@example.org');
      assert.ok(result);
      assert.strictEqual(result.from, 'Test <test@example.org>', 'Returns the decoded mail From header sent from the given user');
    });
  });

  describe('latestTo', function () {
    it('latest mail to a given user', async function () {
      const result = await mailhog.latestTo('nihon@example.org');
      assert.ok(result);
      assert.strictEqual(result.to, '日本 <nihon@example.org>', 'Returns the decoded mail To header sent to the given user');
    });
  });

  describe('latestContaining', function () {
    it('latest mail with the query text in the body content', async function () {
      const result = await mailhog.latestContaining('text content');
      assert.ok(result);
      assert.strictEqual(result.text, 'text content', 'Returns the decoded plain text mail content containing the given query');
    });

    it('latest mail with query text in the Subject header', async function () {
      const result = await mailhog.latestContaining('ISO-8859-1');
      assert.ok(result);
      assert.strictEqual(result.subject, 'ISO-8859-1', 'Returns the decoded mail Subject header containing the given query');
    });

    it('latest mail with the query text in the From header', async function () {
      const result = await mailhog.latestContaining('test@example.org');
      assert.ok(result);
      assert.strictEqual(result.from, 'Test <test@example.org>', 'Returns the decoded mail From header containing the given query');
    });

    it('latest mail with the query text in the To header', async function () {
      const result = await mailhog.latestContaining('nihon@example.org');
      assert.ok(result);
      assert.strictEqual(result.to, '日本 <nihon@example.org>', 'Returns the decoded mail To header containing the given query');
    });

    it('latest mail with query text in attachment filename', async function () {
      const result = await mailhog.latestContaining('black-80x60.gif');
      assert.ok(result);
      assert.strictEqual(result.attachments[0]!.name, 'black-80x60.gif', 'Finds mail for a given attachment filename');
    });
  });

  describe('releaseMessage', function () {
    // Adapted: MailHog relays the message to the SMTP server given; Mailpen never delivers mail,
    // so it refuses with the reason and stores nothing.
    it('refuses to release the given mail, with the reason', async function () {
      const result = await mailhog.latestTo('nihon@example.org');
      assert.ok(result);
      const response = (await mailhog.releaseMessage(result.ID, { host: 'localhost', port: '1025', email: 'nihon@example.org' })) as unknown as { statusCode: number; message: string };
      assert.strictEqual(response.statusCode, 400, 'Responds with status code 400');
      assert.match(response.message, /never delivers/);
      const listResult = await mailhog.messages();
      assert.ok(listResult);
      assert.strictEqual(listResult.count, 4, 'Number of mails stored is unchanged');
    });
  });

  describe('deleteMessage', function () {
    after(deleteAllMail);
    after(sendAllMail);

    it('deletes the given mail from MailHog storage', async function () {
      const result = await mailhog.latestTo('nihon@example.org');
      assert.ok(result);
      const response = (await mailhog.deleteMessage(result.ID)) as { statusCode?: number };
      assert.strictEqual(response.statusCode, 200, 'Responds with status code 200');
      const newResult = await mailhog.latestTo('nihon@example.org');
      assert.strictEqual(newResult, 0, 'New search for the deleted mail returns 0');
      const listResult = await mailhog.messages();
      assert.ok(listResult);
      assert.strictEqual(listResult.count, 3, 'Number of mails stored has decreased by 1');
    });
  });

  describe('deleteAll', function () {
    after(deleteAllMail);
    after(sendAllMail);

    it('deletes all mail from MailHog storage', async function () {
      const response = (await mailhog.deleteAll()) as { statusCode?: number };
      assert.strictEqual(response.statusCode, 200, 'Responds with status code 200');
      const listResult = await mailhog.messages();
      assert.ok(listResult);
      assert.strictEqual(listResult.count, 0, 'Number of mails stored has decreased to 0');
    });
  });
});

describe("MailHog's JSON and WebSocket", () => {
  it('GET /api/v1/messages/:id answers MailHog\'s message JSON', async () => {
    const list = await mailhog.messages();
    assert.ok(list);
    const id = list.items[0]!.ID;
    const res = await fetch(`${server.httpUrl}/api/v1/messages/${id}`);
    assert.strictEqual(res.status, 200);
    const m = (await res.json()) as Record<string, unknown> & { From: unknown; To: unknown[]; Content: { Headers: Record<string, string[]>; MIME: unknown }; Raw: { From: string; To: string[]; Data: string; Helo: string } };
    assert.deepStrictEqual(Object.keys(m).sort(), ['Content', 'Created', 'From', 'ID', 'MIME', 'Raw', 'To']);
    assert.deepStrictEqual(m.From, { Relays: null, Mailbox: 'test', Domain: 'example.org', Params: '' });
    assert.deepStrictEqual(m.To, [{ Relays: null, Mailbox: 'no-charset', Domain: 'example.org', Params: '' }]);
    assert.deepStrictEqual(m.Content.Headers.Subject, ['Mail without charset']);
    assert.strictEqual(m.Content.MIME, null);
    assert.deepStrictEqual([m.Raw.From, m.Raw.To], ['test@example.org', ['no-charset@example.org']]);
    assert.match(m.Raw.Data, /^Content-Transfer-Encoding: 7bit/);
    assert.strictEqual((await fetch(`${server.httpUrl}/api/v1/messages/nope`)).status, 404);
  });

  it('a page stops before the message that would pass MAX_PAGE_RAW_BYTES, and says how many came', async () => {
    await mailhog.deleteAll();
    const big = (n: number) => Buffer.concat([Buffer.from(`Subject: big ${n}\r\n\r\n`), Buffer.alloc(MAX_PAGE_RAW_BYTES / 2 + 1024, 'a')]);
    for (const n of [1, 2]) {
      const res = await fetch(`${server.httpUrl}/api/messages`, { method: 'POST', headers: { 'content-type': 'message/rfc822' }, body: big(n) });
      assert.strictEqual(res.status, 201);
    }
    const first = (await (await fetch(`${server.httpUrl}/api/v2/messages`)).json()) as { total: number; count: number; start: number; items: Array<{ Content: { Headers: Record<string, string[]> } }> };
    assert.deepStrictEqual([first.total, first.count], [2, 1]);
    assert.deepStrictEqual(first.items[0]!.Content.Headers.Subject, ['big 2']);
    const next = (await (await fetch(`${server.httpUrl}/api/v2/messages?start=1`)).json()) as { count: number; items: Array<{ Content: { Headers: Record<string, string[]> } }> };
    assert.deepStrictEqual([next.count, next.items[0]!.Content.Headers.Subject], [1, ['big 1']]);
    await mailhog.deleteAll();
    await sendAllMail();
  });

  it('a search kind MailHog does not know is a 400 with the reason', async () => {
    const res = await fetch(`${server.httpUrl}/api/v2/search?kind=subject&query=x`);
    assert.strictEqual(res.status, 400);
    assert.match(((await res.json()) as { message: string }).message, /kind must be from, to or containing/);
  });

  it('/api/v2/websocket pushes each new message in MailHog\'s JSON', async () => {
    const ws = new WebSocket(`${server.httpUrl.replace('http', 'ws')}/api/v2/websocket`);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const frame = new Promise<{ ID: string; Content: { Headers: Record<string, string[]> } }>((resolve) => ws.once('message', (data) => resolve(JSON.parse(String(data)))));
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: server.smtpPort, secure: false });
    await transport.sendMail({ from: 'a@example.org', to: 'b@example.org', subject: 'pushed', text: 'hi' });
    transport.close();
    const pushed = await frame;
    assert.deepStrictEqual(pushed.Content.Headers.Subject, ['pushed']);
    assert.ok(server.store.get(pushed.ID));
    ws.close();
  });

  it('DELETE /api/v1/messages answers MailHog\'s empty 200 without Accept, Mailpit\'s "ok" with one', async () => {
    const withAccept = await fetch(`${server.httpUrl}/api/v1/messages`, { method: 'DELETE' });
    assert.strictEqual(withAccept.status, 200);
    assert.strictEqual(await withAccept.text(), 'ok');
    const response = (await mailhog.deleteAll()) as { statusCode?: number };
    assert.strictEqual(response.statusCode, 200);
  });
});
