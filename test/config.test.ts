import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { loadConfig, helpText, SETTINGS, ConfigError, parseBytes } from '../server/config.js';

describe('configuration', () => {
  it('has the documented defaults', () => {
    const c = loadConfig();
    assert.deepEqual(c.smtp, { host: '127.0.0.1', port: 1025 });
    assert.deepEqual(c.http, { host: '127.0.0.1', port: 8025 });
    assert.equal(c.maxMessages, 10_000);
    assert.equal(c.maxBytes, 512 * 1024 * 1024);
    assert.equal(c.maxMessageSize, 50 * 1024 * 1024);
    assert.equal(c.maxRecipients, 1000);
    assert.equal(c.smtps, null);
    assert.equal(c.smtpAuth, 'optional');
  });

  it('takes environment variables over defaults and flags over environment variables', () => {
    const env = { MAILPEN_SMTP_ADDR: '0.0.0.0:2525', MAILPEN_MAX_MESSAGES: '5', MAILPEN_MAX_BYTES: '1MB', MAILPEN_MAX_MESSAGE_SIZE: '512KB' };
    const fromEnv = loadConfig([], env);
    assert.deepEqual(fromEnv.smtp, { host: '0.0.0.0', port: 2525 });
    assert.equal(fromEnv.maxMessages, 5);
    assert.equal(fromEnv.maxBytes, 1024 * 1024);
    const fromFlags = loadConfig(['--max-messages', '7', '--smtp-addr=:3525'], env);
    assert.equal(fromFlags.maxMessages, 7);
    assert.deepEqual(fromFlags.smtp, { host: '127.0.0.1', port: 3525 });
  });

  it('is frozen', () => {
    const c = loadConfig();
    assert.throws(() => {
      (c as { maxMessages: number }).maxMessages = 1;
    }, TypeError);
  });

  it('names the setting and what it accepts when a value is bad', () => {
    assert.throws(() => loadConfig([], { MAILPEN_MAX_MESSAGES: 'lots' }), (e: Error) =>
      e instanceof ConfigError && /MAILPEN_MAX_MESSAGES "lots"/.test(e.message) && /whole number/.test(e.message));
    assert.throws(() => loadConfig(['--http-addr', 'localhost:99999']), /--http-addr.*port from 0 to 65535/);
    assert.throws(() => loadConfig(['--max-message-size', '12 parsecs']), /--max-message-size.*size in bytes/);
    assert.throws(() => loadConfig(['--nope', '1']), /unknown option --nope/);
    assert.throws(() => loadConfig([], { MAILPEN_SMTP_AUTH: 'strict' }), /MAILPEN_SMTP_USERS/);
    assert.throws(() => loadConfig(['--max-message-size', '0']), /MAILPEN_MAX_MESSAGE_SIZE must be above 0/);
    assert.throws(() => loadConfig(['--max-bytes', '10MB']), /MAILPEN_MAX_MESSAGE_SIZE .* is larger than MAILPEN_MAX_BYTES/);
    assert.equal(loadConfig(['--max-bytes', '10MB', '--max-message-size', '10MB']).maxBytes, 10 * 1024 * 1024);
    assert.equal(loadConfig(['--max-bytes', '0']).maxBytes, 0);
  });

  it('reads sizes with units', () => {
    assert.equal(parseBytes('0'), 0);
    assert.equal(parseBytes('512KB'), 512 * 1024);
    assert.equal(parseBytes('1.5mb'), 1.5 * 1024 * 1024);
    assert.equal(parseBytes('2G'), 2 * 1024 ** 3);
  });

  it('lists every setting with its variable and default in --help', () => {
    const help = helpText();
    for (const s of SETTINGS) {
      assert.ok(help.includes(s.env), s.env);
      assert.ok(help.includes(s.flag), s.flag);
    }
  });

  it('stops the real command with exit code 2 and the reason on a bad value', async () => {
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = execFile(process.execPath, ['--import', 'tsx', 'server/cli.ts'], { env: { ...process.env, MAILPEN_MAX_BYTES: 'huge' } }, (_e, _o, stderr) =>
        resolve({ code: child.exitCode, stderr }),
      );
    });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /MAILPEN_MAX_BYTES "huge"/);
  });
});
