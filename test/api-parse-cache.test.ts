// The full-parse cache: repeated views of a message parse it once, and the cache never keeps a
// message's bytes alive (the store's raw Buffers are views of shared 4 MB slabs).
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

/** Parses a fresh message in its own scope and hands back only a weak reference to its bytes. */
async function parseAndForget(n: number): Promise<WeakRef<Buffer>> {
  const raw = message(n);
  const parsed = await parser.parse(raw);
  assert.match(parsed.headers.find((h) => h.name === 'Subject')!.value, new RegExp(`cached ${n}`));
  return new WeakRef(raw);
}

test('a cached parse does not keep the message bytes alive', async () => {
  const ref = await parseAndForget(2);
  for (let i = 0; i < 10 && ref.deref() !== undefined; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    gc();
  }
  assert.equal(ref.deref(), undefined);
});
