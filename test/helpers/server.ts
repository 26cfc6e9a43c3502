// Starts a real Mailpen on port 0 (SMTP and HTTP), silent, with settings a test can override.
import { loadConfig, type Config } from '../../server/config.js';
import { createLogger } from '../../server/log.js';
import { start, type Mailpen } from '../../server/main.js';

export interface TestServer extends Mailpen {
  smtpPort: number;
  httpUrl: string;
}

export async function startTestServer(overrides: Partial<Config> = {}): Promise<TestServer> {
  const config = loadConfig([], {}, {
    smtp: { host: '127.0.0.1', port: 0 },
    http: { host: '127.0.0.1', port: 0 },
    logLevel: 'silent',
    ...overrides,
  });
  const mailpen = await start(config, createLogger({ logLevel: process.env.MAILPEN_TEST_LOG === '1' ? 'debug' : 'silent', logFormat: 'json' }));
  return Object.assign(mailpen, { smtpPort: mailpen.smtp.port, httpUrl: `http://127.0.0.1:${mailpen.http.port}` });
}
