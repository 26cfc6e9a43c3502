// The full-parse cache: repeated views of a message parse it once, and the cache never keeps a
// message's bytes alive (the store's raw Buffers are views of shared slabs, a new one each time).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { MessageParser } from '../server/mail/parse.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const parser = new MessageParser({ workers: 1, timeoutMs: 5000 });
after(() => parser.close());

function message(n: number): Buffer {
  return Buffer.from(`From: a@example.test\r\nSubject: cached ${n}\r\nContent-Type: text/plain\r\n\r\nBody ${n}.\r\n`);
}

test('a second view of the same message is served from the cache', async () => {
  const raw = message(1);
  const first = await parser.parse(raw);
  assert.equal(first.text?.trim(), 'Body 1.');
  assert.equal(await parser.parse(raw), first);
});

test('any view of the same bytes is served from the cache, and other bytes of the same ArrayBuffer are not', async () => {
  // As the store hands them out: views of one slab, a new view each time a message's bytes are asked for.
  const first = message(3);
  const second = message(4);
  const slab = Buffer.allocUnsafeSlow(first.length + second.length);
  first.copy(slab, 0);
  second.copy(slab, first.length);
  const view = (start: number, length: number): Buffer => Buffer.from(slab.buffer, start, length);
  const parsed = await parser.parse(view(0, first.length));
  assert.equal(await parser.parse(view(0, first.length)), parsed, 'a new view of the same bytes');
  const other = await parser.parse(view(first.length, second.length));
  assert.notEqual(other, parsed);
  assert.equal(other.text?.trim(), 'Body 4.', 'the bytes after it');
  const prefix = await parser.parse(view(0, first.length - 2));
  assert.notEqual(prefix, parsed, 'a shorter view at the same offset');
});

/** Parses a fresh message, in bytes of their own, in its own scope and hands back only weak references to them. */
async function parseAndForget(n: number): Promise<{ view: WeakRef<Buffer>; bytes: WeakRef<ArrayBufferLike> }> {
  const raw = Buffer.from(new Uint8Array(message(n)).buffer);
  const parsed = await parser.parse(raw);
  assert.match(parsed.headers.find((h) => h.name === 'Subject')!.value, new RegExp(`cached ${n}`));
  return { view: new WeakRef(raw), bytes: new WeakRef(raw.buffer) };
}

test('a cached parse keeps neither the message bytes nor their Buffer alive', async () => {
  const { view, bytes } = await parseAndForget(2);
  for (let i = 0; i < 10 && (view.deref() !== undefined || bytes.deref() !== undefined); i++) {
    await new Promise((resolve) => setImmediate(resolve));
    gc();
  }
  assert.equal(view.deref(), undefined, 'the Buffer');
  assert.equal(bytes.deref(), undefined, 'its ArrayBuffer');
});
