// Text extraction and header parsing run on the main thread for every message (snippets, the
// search index, list rows), so a sender must not be able to make them slow. Regular expressions
// such as `<[^>]*>` or `\s*\([^)]*\)\s*$` retry from every "<", "(" or space and take time in the
// square of the input: 20,000 "<br" took htmlToText 1.5 s, 1 MB would have taken minutes. Their
// linear replacements must give exactly what the expressions gave (on the corpus and on
// generated input) and stay fast on the inputs that made the expressions crawl. The links list
// (GET /api/messages/:id/links) is read on the main thread too.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import he from 'he';
import { htmlToText, scanBody } from '../server/mail/scan.js';
import { parseDate, parseMessageId, withoutTrailingComment, parseAddresses } from '../server/mail/headers.js';
import { extractLinks, hrefs, linksInNewTab, rewriteCidReferences, trimTrailingPunctuation } from '../server/mail/html.js';
import { summarizeHeaders } from '../server/mail/summary.js';
import { fullParse } from '../server/mail/full-parse.js';
import { loadCorpus } from './helpers/corpus.js';

/** The expressions as they were: the reference for what the output must be. */
function htmlToTextByRegex(html: string): string {
  const stripped = html
    .replace(/<(script|style|head|title)\b[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<(br|\/p|\/div|\/tr|\/h\d|\/li)\b[^>]*>/gi, '\n')
    .replace(/<[^>]*>/g, ' ');
  try {
    return he.decode(stripped);
  } catch {
    return stripped;
  }
}
const hrefsByRegex = (h: string): string[] =>
  [...h.matchAll(/<(?:a|area)\b[^>]*?\shref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/gi)].map((m) => m[1] ?? m[2] ?? m[3] ?? '');
function trimByRecount(url: string): string {
  let end = url.length;
  for (;;) {
    const c = url[end - 1];
    if (c === undefined) break;
    if ('.,;:!?\'"]'.includes(c)) {
      end--;
      continue;
    }
    if (c === ')') {
      const s = url.slice(0, end);
      if ((s.match(/\(/g)?.length ?? 0) < (s.match(/\)/g)?.length ?? 0)) {
        end--;
        continue;
      }
    }
    break;
  }
  return url.slice(0, end);
}
const commentByRegex = (v: string): string => v.replace(/\s*\([^)]*\)\s*$/, '');
const messageIdByRegex = (v: string): string | null => {
  const m = /<([^>]*)>/.exec(v);
  return (m ? m[1]! : v).trim() || null;
};

const htmlPiece = fc.oneof(
  fc.constantFrom('<', '>', '<br>', '<BR/>', '<br', '</p>', '</P >', '</h2>', '</li>', '<script>', '<script src=x>', '</script>', '</SCRIPT >',
    '<style>', '</style>', '<head>', '</head>', '<title>', '</title >', '<!--', '-->', '<!-->', '<a href="x">', '<scripts>', '</scriptx>',
    '&amp;', '&#x41;', '&bogus;', 'text', ' ', '\n', '\t', '"', "'", '<<', '>>'),
  fc.string({ maxLength: 4 }),
);
const linkPiece = fc.oneof(
  fc.constantFrom('<a', '<A ', '<area ', '<abbr ', ' href=', ' HREF = ', 'href=', '"', "'", '>', ' ', '\t', 'http://x.test/', 'mailto:a@b', '&amp;', '=', 'x', '<a href="', "<a href='"),
  fc.string({ maxLength: 3 }),
);
const linkHtml = fc.array(linkPiece, { maxLength: 40 }).map((p) => p.join(''));
const urlTail = fc.array(fc.constantFrom('(', ')', '.', ',', ';', ':', '!', '?', "'", '"', ']', 'a', '/'), { maxLength: 30 }).map((p) => `http://x.test/${p.join('')}`);
const html = fc.array(htmlPiece, { maxLength: 40 }).map((p) => p.join(''));
const headerText = fc.array(fc.oneof(fc.constantFrom('(', ')', ' ', '\t', '\r\n', '<', '>', '@', 'Tue, 4 Jun 2024 10:00:00 +0000', 'GMT', '\u00a0'), fc.string({ maxLength: 3 })), { maxLength: 20 }).map((p) => p.join(''));

/** Milliseconds `fn` takes. */
function time(fn: () => unknown): number {
  const started = performance.now();
  fn();
  return performance.now() - started;
}

describe('linear text extraction and header parsing', () => {
  it('htmlToText gives what the regular expressions gave, on every corpus HTML body', async () => {
    let bodies = 0;
    for (const m of loadCorpus()) {
      const parsed = await fullParse(m.raw).catch(() => null);
      const body = parsed?.message.html;
      if (!body) continue;
      bodies++;
      assert.equal(htmlToText(body), htmlToTextByRegex(body), m.name);
      assert.deepEqual(hrefs(body), hrefsByRegex(body), m.name);
    }
    assert.ok(bodies > 100, `only ${bodies} HTML bodies`);
  });

  it('htmlToText, comment stripping and Message-ID give what the regular expressions gave, on generated input', () => {
    fc.assert(fc.property(html, (h) => assert.equal(htmlToText(h), htmlToTextByRegex(h))), { numRuns: 20_000 });
    fc.assert(fc.property(headerText, (v) => assert.equal(withoutTrailingComment(v), commentByRegex(v))), { numRuns: 20_000 });
    fc.assert(fc.property(headerText, (v) => assert.equal(parseMessageId(v), messageIdByRegex(v))), { numRuns: 20_000 });
    fc.assert(fc.property(linkHtml, (h) => assert.deepEqual(hrefs(h), hrefsByRegex(h))), { numRuns: 20_000 });
    fc.assert(fc.property(urlTail, (u) => assert.equal(trimTrailingPunctuation(u), trimByRecount(u))), { numRuns: 20_000 });
  });

  const MB = 1024 * 1024;
  const hostile: Array<[string, () => unknown]> = [
    ['1 MB of "<br"', () => htmlToText('<br'.repeat(MB / 3))],
    ['1 MB of "<!--"', () => htmlToText('<!--'.repeat(MB / 4))],
    ['1 MB of "<script>"', () => htmlToText('<script>'.repeat(MB / 8))],
    ['1 MB of "<a "', () => htmlToText('<a '.repeat(MB / 3))],
    ['1 MB of "<style x>"', () => htmlToText('<style x>'.repeat(MB / 9))],
    ['a 1 MB HTML body of "<br" through the body scan', () => scanBody(Buffer.from(`Content-Type: text/html\r\n\r\n${'<br'.repeat(MB / 3)}`))],
    ['a Date header of 1 MB of "("', () => parseDate('('.repeat(MB))],
    ['a Date header of 1 MB of spaces', () => parseDate(`${' '.repeat(MB)}x`)],
    ['a Message-ID of 1 MB of "<"', () => parseMessageId('<'.repeat(MB))],
    ['a From header of 1 MB of "a "', () => parseAddresses(`${'a '.repeat(MB / 2)}<`)],
    ['a From header of 1 MB of spaces before "<"', () => parseAddresses(`${' '.repeat(MB)}<a@b.test`)],
    ['a From header of a name, 1 MB of spaces and "<"', () => parseAddresses(`Name${' '.repeat(MB)}<a@b.test`)],
    ['a From header of one 1 MB address', () => parseAddresses(`${'a'.repeat(MB / 2)}@${'b'.repeat(MB / 2)} x`)],
    ['links in 1 MB of "<a " without ">"', () => extractLinks('<a '.repeat(MB / 3), null)],
    ['links in 1 MB of "<a x>" without href', () => extractLinks('<a x>'.repeat(MB / 5), null)],
    ['links in 1 MB of \'<a href="\'', () => extractLinks('<a href="'.repeat(MB / 9), null)],
    // Each a worst case of one loop in hrefs(): a tag with no ">" after it, an href with no
    // value, a quote that never closes, many href names in one endless tag (10 MB: minutes when quadratic).
    ['links in 10 MB of \'<a href="\' without ">" (the probe\'s input)', () => extractLinks('<a href="'.repeat((10 * MB) / 9), null)],
    ['links in 10 MB of "<a href=x " without ">"', () => extractLinks('<a href=x '.repeat(MB), null)],
    ['links in 10 MB of "<a href " (names, no values)', () => extractLinks('<a href '.repeat((10 * MB) / 8), null)],
    ['links in 10 MB of "<a " then " href=" repeated, no ">"', () => extractLinks(`<a ${' href='.repeat((10 * MB) / 6)}`, null)],
    ['links in 10 MB of "<a href=\'" and "<a href=\"" alternating, quotes never closed', () => extractLinks('<a href=\'<a href="'.repeat((10 * MB) / 18), null)],
    ['new-tab links in 10 MB of "<a target=" without ">"', () => linksInNewTab('<a target='.repeat(MB))],
    ['cid: rewriting in 10 MB of "cid:"', () => rewriteCidReferences('cid:'.repeat((10 * MB) / 4), [{ partId: '1', contentId: 'x', contentType: 'image/png', filename: null, size: 1, disposition: 'inline' } as never], (id) => id)],
    ['a URL followed by 1 MB of ")"', () => extractLinks(null, `see http://x.test/${')'.repeat(MB)}`)],
    ['new-tab links in 1 MB of "<a " without ">"', () => linksInNewTab('<a '.repeat(MB / 3))],
    ['new-tab links in 1 MB of "<a target=x>"', () => linksInNewTab('<a target=x>'.repeat(MB / 12))],
    ['a 45 MB HTML body (only its first 2 MB are turned into text for the snippet and index)', () => {
      const scan = scanBody(Buffer.from(`Content-Type: text/html\r\n\r\n${'<p>hello <b>world</b></p>\r\n'.repeat((45 * MB) / 28)}`));
      assert.match(scan.snippet, /^hello world hello world/);
    }],
    ['a header block of 1 MB with such values', () => summarizeHeaders(Buffer.from(`Date: ${'('.repeat(300_000)}\r\nMessage-ID: ${'<'.repeat(300_000)}\r\nSubject: ${'=?'.repeat(100_000)}\r\n\r\nx`))],
  ];
  for (const [name, fn] of hostile) {
    it(`stays fast on ${name}`, () => {
      const ms = time(fn);
      // Milliseconds when linear, minutes when quadratic: a bound far from both, so that a machine
      // busy with other tests (seen: 20x slower) never crosses it while a quadratic path always does.
      assert.ok(ms < 15_000, `${name} took ${Math.round(ms)} ms`);
    });
  }

  it('keeps every text path fast on 150 KB made by repeating any short unit (the shape quadratic code trips on)', () => {
    const unit = fc
      .array(fc.constantFrom('<', '>', ' ', '(', ')', '"', "'", '=', '?', '@', ',', ';', ':', '\\', '-', '!', 'a', '/', '&', '#', '\r\n', '\t', 'br',
        'script', '--', '<!--', 'href=', 'http://', '=?utf-8?q?', '=?', '<a', '.', '[', ']', '\u00e9', '%', '*'), { minLength: 1, maxLength: 6 })
      .map((a) => a.join(''));
    let slowest = { ms: 0, what: '' };
    fc.assert(
      fc.property(unit, (u) => {
        const big = u.repeat(Math.ceil(150_000 / u.length));
        const line = big.replace(/[\r\n]/g, ' ');
        const paths: Array<[string, () => unknown]> = [
          ['htmlToText', () => htmlToText(big)],
          ['links', () => extractLinks(big, big)],
          ['header summary', () => summarizeHeaders(Buffer.from(`From: ${line}\r\nTo: ${line}\r\nDate: ${line}\r\nMessage-ID: ${line}\r\nSubject: ${line}\r\n\r\nx`))],
          ['body scan', () => scanBody(Buffer.from(`Content-Type: text/html\r\n\r\n${big}`))],
          ['multipart scan', () => scanBody(Buffer.from(`Content-Type: multipart/mixed; boundary="${u.replace(/["\r\n\\]/g, 'x')}"\r\n\r\n${big}`))],
          ['parameter scan', () => scanBody(Buffer.from(`Content-Type: text/plain; ${line}\r\nContent-Disposition: attachment; ${line}\r\n\r\nx`))],
        ];
        for (const [what, fn] of paths) {
          const ms = time(fn);
          if (ms > slowest.ms) slowest = { ms, what: `${what} on ${JSON.stringify(u)}` };
        }
      }),
      { numRuns: 80, interruptAfterTimeLimit: 15_000, markInterruptAsFailure: false },
    );
    // Linear code takes tens of milliseconds here (the slowest seen alone: 180 ms; 2 s once on a machine
    // running the whole suite); quadratic code takes seconds to minutes.
    assert.ok(slowest.ms < 10_000, `${slowest.what} took ${Math.round(slowest.ms)} ms`);
  });
});
