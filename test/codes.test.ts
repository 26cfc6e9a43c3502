// Verification codes (server/mail/codes.ts) on the templates in test/fixtures/codes/: sign-up,
// login, 2FA, password reset in several languages, and transactional mail full of numbers that are
// not codes. Each template says what it holds in its X-Expected-Codes header (read by this test
// only; the finder never sees headers). Precision and recall are printed; every template must
// give exactly its expected codes, except the few listed in KNOWN, each with the reason.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findCodes, MAX_SCANNED_CHARS } from '../server/mail/codes.js';
import { fullParse } from '../server/mail/full-parse.js';
import { loadCorpus } from './helpers/corpus.js';

const DIR = join(import.meta.dirname, 'fixtures/codes');

interface Template {
  file: string;
  expected: string[];
  text: string | null;
  html: string | null;
}

async function loadTemplates(): Promise<Template[]> {
  const out: Template[] = [];
  for (const file of readdirSync(DIR).filter((f) => f.endsWith('.eml')).sort()) {
    const raw = readFileSync(join(DIR, file));
    const header = /^X-Expected-Codes:[ \t]*(.*)$/im.exec(raw.toString('utf8'));
    assert.ok(header, `${file} has an X-Expected-Codes header`);
    const expected = header[1]!.trim().split(/\s+/).filter(Boolean);
    const { message } = await fullParse(raw);
    out.push({ file, expected, text: message.text, html: message.html });
  }
  return out;
}

/**
 * What the finder still gets wrong on the templates, and why it is left so. Empty when it gets
 * every template right; a fix that makes one of these pass must take it out of here.
 */
const KNOWN: Record<string, { found: string[]; why: string }> = {};

describe('verification codes in realistic templates', () => {
  it('finds the expected codes in every template, with precision and recall reported', async (t) => {
    const templates = await loadTemplates();
    assert.ok(templates.length >= 30, `at least 30 templates (${templates.length})`);
    let truePositives = 0;
    let falsePositives = 0;
    let falseNegatives = 0;
    const wrong: string[] = [];
    for (const tpl of templates) {
      const found = findCodes(tpl.text, tpl.html).map((c) => c.code);
      truePositives += found.filter((c) => tpl.expected.includes(c)).length;
      falsePositives += found.filter((c) => !tpl.expected.includes(c)).length;
      falseNegatives += tpl.expected.filter((c) => !found.includes(c)).length;
      const known = KNOWN[tpl.file];
      const want = known ? known.found : tpl.expected;
      if (JSON.stringify(found) !== JSON.stringify(want)) wrong.push(`${tpl.file}: found ${JSON.stringify(found)}, expected ${JSON.stringify(want)}`);
    }
    const precision = truePositives / (truePositives + falsePositives);
    const recall = truePositives / (truePositives + falseNegatives);
    t.diagnostic(`${templates.length} templates, ${truePositives + falseNegatives} codes: precision ${precision.toFixed(3)}, recall ${recall.toFixed(3)} (${falsePositives} false, ${falseNegatives} missed)`);
    assert.deepEqual(wrong, []);
  });
});

describe('verification codes in the real-world corpus', () => {
  // None of the corpus messages (parser test suites' mail, mailing lists, bounces, TNEF with PDF
  // streams, a syslog dump) brings a one-time code, so anything found there is a false find. Nine
  // messages had some before "FlateDecode", "bytecode", "Diagnostic-Code: ... RFC822", "Probate
  // Code section 9860", "pin2=-1", "ubiquity[4446]" and a Dutch payment receipt's
  // "Autorisatiecode" were told apart.
  it('finds no code in any of its messages', async () => {
    const found: string[] = [];
    for (const { name, raw } of loadCorpus()) {
      const { message } = await fullParse(raw);
      const codes = findCodes(message.text, message.html);
      if (codes.length > 0) found.push(`${name}: ${JSON.stringify(codes)}`);
    }
    assert.deepEqual(found, []);
  });
});

describe('findCodes', () => {
  it('gives each code once, in order, text before HTML, with the words around it', () => {
    const text = 'Your login code is 111222.\n\nAgain: your login code is 111222.';
    const html = '<p>Your login code is <b>111222</b></p><p>Backup code: 333444</p>';
    assert.deepEqual(findCodes(text, html), [
      { code: '111222', context: 'Your login code is 111222.' },
      // </p> is a line break; the paragraph (up to a blank line) is the context.
      { code: '333444', context: 'Your login code is 111222 Backup code: 333444' },
    ]);
  });

  it('finds nothing without a word that names a code, whatever the numbers look like', () => {
    assert.deepEqual(findCodes('Ticket 482913 was updated by 2 people at 14:30.', null), []);
    assert.deepEqual(findCodes(null, '<p style="color:#123456">Order 482913</p>'), []);
    assert.deepEqual(findCodes(null, null), []);
  });

  it('skips colours, links, addresses, prices, dates and phone numbers next to the word code', () => {
    const text = [
      'Your code colour is #482913 and the code page is https://x.test/code/482913?c=551234.',
      'Code questions: code-team+551234@x.test, code hotline +1 (800) 555-0199, code fee $4821.',
      'Code issued 2024-05-31, code valid until 31.05.2024 14:30, code batch 1.2.3.4.',
    ].join('\n');
    assert.deepEqual(findCodes(text, null), []);
  });

  it('takes no other kind of code for a one-time code', () => {
    for (const text of [
      'Our code of conduct (updated 2024) applies to everyone.',
      'Unicode 15.1 adds 4489 characters.',
      'Postcode 10115, Berlin.',
      'The error code 4040 means the card was declined.',
      'Your code review 4821 is ready.',
      'Use code SAVE20 at checkout.',
    ]) {
      assert.deepEqual(findCodes(text, null), [], text);
    }
  });

  it('reads codes in HTML entities and non-breaking spaces', () => {
    assert.deepEqual(findCodes(null, '<p>Code&nbsp;de&nbsp;v&eacute;rification&nbsp;: <strong>551087</strong></p>'), [
      { code: '551087', context: 'Code de vérification : 551087' },
    ]);
  });

  it('reads only the first MAX_SCANNED_CHARS of a body', () => {
    const padding = 'x '.repeat(MAX_SCANNED_CHARS / 2);
    assert.deepEqual(findCodes(`${padding}\nYour code is 482913`, null), []);
    assert.deepEqual(findCodes(`Your code is 482913\n${padding}`, null).map((c) => c.code), ['482913']);
  });

  // The finder runs on the main thread for a request; mail content is hostile. Each input below
  // made an earlier version (or an obvious regular expression) quadratic: a long line, a long
  // word, a keyword beside every number, an unclosed tag. Linear, each takes milliseconds; the
  // bound only catches a return to quadratic time (minutes at this size).
  for (const [name, text, html] of [
    ['a keyword beside every number', 'code 482913 '.repeat(30_000), null],
    ['numbers without line breaks', '1234 '.repeat(60_000), null],
    ['one long word', 'a'.repeat(300_000), null],
    ['one long word before an @', `${'a'.repeat(300_000)}@x.test code 482913`, null],
    ['a long compound before code', `${'k'.repeat(300_000)}code 482913`, null],
    ['unclosed tags and digits in cells', null, '<td>4</td><b'.repeat(40_000)],
    ['spaced single digits', `code ${'1 '.repeat(150_000)}`, null],
  ] as const) {
    it(`stays linear on ${name}`, () => {
      const started = performance.now();
      findCodes(text, html);
      const ms = performance.now() - started;
      assert.ok(ms < 15_000, `${name} took ${Math.round(ms)} ms`);
    });
  }
});
