// Mailpit's chaos triggers as fault rules (server/rules/chaos.ts), the functions the Mailpit
// compatibility layer calls for MP_CHAOS_TRIGGERS and /api/v1/chaos; and `probability`, the one
// counter that is not deterministic, with the rule set's random source given.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FaultRules, RuleError, parseChaosTriggers, setChaosTriggers, chaosTriggers } from '../server/rules/index.js';
import { RawSmtp } from './helpers/smtp-client.js';
import { startTestServer } from './helpers/server.js';

const ctx = { remoteAddress: '127.0.0.1', inboxes: () => ['default'], mailFrom: 'a@example.test', rcptTo: ['b@example.test'], raw: null };

describe('Mailpit chaos triggers as fault rules', () => {
  it('parses MP_CHAOS_TRIGGERS as Mailpit does: comma-separated trigger:code:probability, names in any case', () => {
    assert.deepEqual(parseChaosTriggers('Sender:451:50,recipients:550:10'), {
      Sender: { ErrorCode: 451, Probability: 50 },
      Recipient: { ErrorCode: 550, Probability: 10 },
      Authentication: { ErrorCode: 535, Probability: 0 },
    });
    for (const [text, reason] of [
      ['Sender:451', /<trigger>:<error code>:<probability>/],
      ['Helo:451:5', /Sender, Recipient or Authentication/],
      ['Sender:399:5', /400 to 599/],
      ['Sender:451:101', /0 to 100/],
    ] as const) {
      assert.throws(() => parseChaosTriggers(text), (e: Error) => e instanceof RuleError && reason.test(e.message), text);
    }
  });

  it('sets the triggers as a group of rules, reads them back, and leaves other rules and their counters alone', () => {
    const rules = new FaultRules();
    rules.append({ id: 'mine', stage: 'rcpt', reply: { code: 452 } });
    assert.ok(rules.evaluate('rcpt', ctx));
    setChaosTriggers(rules, { Recipient: { ErrorCode: 550, Probability: 100 }, Sender: { Probability: 0 } });
    assert.deepEqual(chaosTriggers(rules), {
      Sender: { ErrorCode: 451, Probability: 0 },
      Recipient: { ErrorCode: 550, Probability: 100 },
      Authentication: { ErrorCode: 535, Probability: 0 },
    });
    assert.deepEqual(rules.list().map((r) => [r.id, r.hits]), [['mine', 1], ['chaos-sender', 0], ['chaos-recipient', 0], ['chaos-authentication', 0]]);
    setChaosTriggers(rules, {});
    assert.deepEqual(chaosTriggers(rules).Recipient, { ErrorCode: 451, Probability: 0 });
    assert.throws(() => setChaosTriggers(rules, { Sender: { ErrorCode: 600, Probability: 5 } }), /400 to 599/);
    assert.equal(rules.list().length, 4);
  });

  it('a 100 % Recipient trigger answers every RCPT with Mailpit\'s text over SMTP', async () => {
    const server = await startTestServer();
    try {
      setChaosTriggers(server.rules, { Recipient: { ErrorCode: 451, Probability: 100 } });
      const { client } = await RawSmtp.connect(server.smtpPort);
      assert.equal((await client.command('EHLO client.test')).code, 250);
      assert.equal((await client.command('MAIL FROM:<a@example.test>')).code, 250);
      const reply = await client.command('RCPT TO:<b@example.test>');
      assert.equal(reply.code, 451);
      assert.match(reply.text, /Chaos recipient error/);
      await client.quit();
    } finally {
      await server.close();
    }
  });

  it('probability: a rule fires when the random draw is below it, and only then counts a hit', () => {
    const draws = [0.1, 0.9, 0.49, 0.5];
    const rules = new FaultRules({ random: () => draws.shift()! });
    rules.append({ stage: 'rcpt', reply: { code: 451 }, probability: 0.5 });
    const fired = [0, 1, 2, 3].map(() => rules.evaluate('rcpt', ctx) !== null);
    assert.deepEqual(fired, [true, false, true, false]);
    assert.equal(rules.list()[0]!.hits, 2);
    assert.equal(rules.list()[0]!.matched, 4);
  });
});
