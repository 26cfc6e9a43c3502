// Every real-world message of the shared corpus goes in over SMTP, is accepted, comes back
// byte-exact, and its summary, body scan and full parse complete without throwing or hanging.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './helpers/server.js';
import { RawSmtp, queuedId, expectedStored } from './helpers/smtp-client.js';
import { loadCorpus, CORPUS_MIN_MESSAGES, type CorpusMessage } from './helpers/corpus.js';
import { MessageParser } from '../server/mail/parse.js';

const CONNECTIONS = 4;
/** A parse that takes longer than this on a corpus message is a hang, not a slow machine. */
const PARSE_BOUND_MS = 10_000;

describe('the real-world corpus over SMTP', () => {
  let server: TestServer;
  const corpus: CorpusMessage[] = loadCorpus();
  const stored = new Map<string, string>();

  before(async () => {
    server = await startTestServer({ maxMessages: 0, maxBytes: 0 });
    // Several transactions per connection, as an application's mail queue sends them.
    const queue = [...corpus];
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        const { client } = await RawSmtp.connect(server.smtpPort);
        await client.command('EHLO corpus.example');
        for (let item = queue.shift(); item; item = queue.shift()) {
          assert.equal((await client.command('MAIL FROM:<corpus@example.test>')).code, 250, item.name);
          assert.equal((await client.command('RCPT TO:<inbox@example.test>')).code, 250, item.name);
          const reply = await client.data(item.raw);
          assert.equal(reply.code, 250, `${item.name}: ${reply.code} ${reply.text}`);
          stored.set(item.name, queuedId(reply));
        }
        await client.quit();
      }),
    );
  });
  const parser = new MessageParser({ workers: 2, timeoutMs: 5000 });
  after(() => Promise.all([server.close(), parser.close()]));

  it('has the whole corpus to work with', () => {
    assert.ok(corpus.length >= CORPUS_MIN_MESSAGES, `found ${corpus.length} messages`);
  });

  it('accepts every message and stores it byte for byte', () => {
    const mismatched: string[] = [];
    for (const item of corpus) {
      const m = server.store.get(stored.get(item.name)!);
      if (!m || !m.raw.equals(expectedStored(item.raw))) mismatched.push(item.name);
    }
    assert.deepEqual(mismatched, []);
    assert.equal(server.store.counts().messages, corpus.length);
  });

  it('summarizes every message without throwing', () => {
    for (const item of corpus) {
      const summary = server.store.summary(server.store.get(stored.get(item.name)!)!);
      assert.equal(typeof summary.subject, 'string', item.name);
      assert.equal(typeof summary.snippet, 'string', item.name);
      assert.ok(summary.attachments >= 0, item.name);
    }
  });

  it('parses every message fully, each within a bound, problems said on the message', async () => {
    for (const item of corpus) {
      const m = server.store.get(stored.get(item.name)!)!;
      let timer: NodeJS.Timeout | undefined;
      const hang = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${item.name}: parse still running after ${PARSE_BOUND_MS} ms`)), PARSE_BOUND_MS);
      });
      try {
        const parsed = await Promise.race([parser.parse(m.raw), hang]);
        assert.ok(Array.isArray(parsed.headers), item.name);
        assert.ok(Array.isArray(parsed.problems), item.name);
      } finally {
        clearTimeout(timer);
      }
    }
  });
});
