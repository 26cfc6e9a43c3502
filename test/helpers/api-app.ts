// The HTTP app over a fresh in-memory store, for inject() tests; and a few message builders.
import { loadConfig, type Config } from '../../server/config.js';
import { createLogger } from '../../server/log.js';
import { MemoryStore } from '../../server/store/memory-store.js';
import { buildApp, type App } from '../../server/http/app.js';
import { MessageParser } from '../../server/mail/parse.js';
import { cacheBytesFor } from '../../server/store/cache-bounds.js';
import type { StoredMessage } from '../../server/store/store.js';

export interface ApiApp {
  app: App;
  store: MemoryStore;
  config: Readonly<Config>;
  /** Stores a message as SMTP would; `rcptTo` defaults to the To header's address. */
  add(raw: string | Buffer, opts?: { rcptTo?: string[]; mailFrom?: string; inbox?: string; receivedAt?: Date }): StoredMessage;
  close(): Promise<void>;
}

export async function apiApp(overrides: Partial<Config> = {}): Promise<ApiApp> {
  const config = loadConfig([], {}, { logLevel: 'silent', ...overrides });
  const store = new MemoryStore({ maxMessages: config.maxMessages, maxBytes: config.maxBytes });
  const parser = new MessageParser({ workers: config.parseWorkers, timeoutMs: config.parseTimeout, cacheBytes: cacheBytesFor(config.maxBytes) });
  const app = await buildApp({
    config,
    store,
    parser,
    log: createLogger({ logLevel: process.env.MAILPEN_TEST_LOG === '1' ? 'debug' : 'silent', logFormat: 'json' }),
    runtime: { startedAt: new Date(), version: 'test', ports: { smtp: 1025, smtps: null, http: 8025 } },
  });
  return {
    app,
    store,
    config,
    add(raw, opts = {}) {
      const buf = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.replace(/\r?\n/g, '\r\n'));
      return store.add({
        raw: buf,
        inbox: opts.inbox ?? 'default',
        receivedAt: opts.receivedAt,
        envelope: {
          mailFrom: opts.mailFrom ?? 'sender@example.test',
          rcptTo: opts.rcptTo ?? ['rcpt@example.test'],
          helo: 'test.example',
          remoteAddress: '127.0.0.1',
          authUser: null,
          tls: false,
        },
      });
    },
    close: async () => {
      await app.close();
      await parser.close();
    },
  };
}

/** A plain-text message with the given headers (name -> value) and body. */
export function textMail(headers: Record<string, string>, body = 'Hello.'): string {
  const lines = Object.entries({ 'Message-ID': `<${Math.random().toString(36).slice(2)}@example.test>`, ...headers }).map(([k, v]) => `${k}: ${v}`);
  return `${lines.join('\n')}\nContent-Type: text/plain; charset=utf-8\n\n${body}\n`;
}
