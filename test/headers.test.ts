// The shortcuts in header reading give what the general parsers give: the single-address fast
// path against addressparser, and skipping RFC 2047 decoding for values without an encoded word
// against libmime, on every address header of the corpus and on generated ones. Likewise the
// snippet, folded in steps, against folding its first 640 characters at once.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import libmime from 'libmime';
import { decodeWords, parseAddresses, parseAddressList, readHeaderBlock } from '../server/mail/headers.js';
import { scanBody } from '../server/mail/scan.js';
import { loadCorpus } from './helpers/corpus.js';

const ADDRESS_HEADERS = new Set(['from', 'to', 'cc', 'reply-to', 'sender', 'bcc']);

describe('header reading shortcuts', () => {
  it('reads every address header of the corpus as addressparser does', () => {
    let compared = 0;
    for (const { name, raw } of loadCorpus()) {
      for (const f of readHeaderBlock(raw).fields) {
        if (!ADDRESS_HEADERS.has(f.key)) continue;
        assert.deepEqual(parseAddresses(f.value), parseAddressList(f.value), `${name}: ${f.name}: ${f.value}`);
        compared++;
      }
    }
    assert.ok(compared > 400, `only ${compared} address headers compared`);
  });

  it('reads generated single addresses as addressparser does', () => {
    const atom = fc.stringMatching(/^[A-Za-z0-9._'+-]{1,12}$/);
    const address = fc.tuple(atom, atom).map(([l, d]) => `${l}@${d}`);
    const name = fc.stringMatching(/^[ A-Za-z0-9._'"=?,@<>()-]{0,20}$/);
    const form = fc.oneof(
      address,
      address.map((a) => `<${a}>`),
      fc.tuple(name, address).map(([n, a]) => `"${n.replace(/"/g, '')}" <${a}>`),
      fc.tuple(name, address).map(([n, a]) => `${n} <${a}>`),
      fc.tuple(name, address, fc.constantFrom(' ', '  ', '\t', '')).map(([n, a, sp]) => `${sp}${n}${sp}<${a}>${sp}`),
    );
    fc.assert(
      fc.property(form, (value) => {
        assert.deepEqual(parseAddresses(value), parseAddressList(value), JSON.stringify(value));
      }),
      { numRuns: 2000 },
    );
  });

  it('leaves a value without an encoded word as libmime would', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }).filter((v) => !v.includes('=?')), (value) => {
        assert.equal(decodeWords(value), libmime.decodeWords(value));
      }),
      { numRuns: 2000 },
    );
    assert.equal(decodeWords('=?UTF-8?B?w6l0w6k=?= ok'), 'été ok');
  });
});

describe('snippet shortcut', () => {
  it('gives the snippet that folding the first 640 characters gives', () => {
    const reference = (text: string): string => {
      const folded = text.slice(0, 640).replace(/\s+/g, ' ').trim();
      return folded.length > 160 ? folded.slice(0, 159) + '…' : folded;
    };
    const text = fc.array(fc.oneof(fc.stringMatching(/^[a-z]{1,9}$/), fc.constantFrom(' ', '\r\n', '\t\t  ', '\r\n\r\n\r\n        ')), { maxLength: 400 }).map((a) => a.join(''));
    fc.assert(
      fc.property(text, (body) => {
        const raw = Buffer.from(`Content-Type: text/plain; charset=utf-8\r\n\r\n${body}`);
        assert.equal(scanBody(raw).snippet, reference(scanBody(raw).text));
      }),
      { numRuns: 1000 },
    );
  });
});
