// Fault rules (issue 14): SMTP failures on purpose, deterministic and scoped. Each test starts a
// real Mailpen on port 0, sets rules through the real API, and sends with real clients
// (Nodemailer, Python's smtplib, a raw socket for what those smooth over).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';
import WebSocket from 'ws';
import { RawSmtp } from './helpers/smtp-client.js';
import { startTestServer, type TestServer } from './helpers/server.js';

interface Json {
  [key: string]: any;
}

async function api(server: TestServer, method: string, url: string, body?: unknown): Promise<{ status: number; body: Json }> {
  const res = await fetch(server.httpUrl + url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Json };
}

async function setRules(server: TestServer, rules: unknown[]): Promise<Json[]> {
  const res = await api(server, 'PUT', '/api/rules', rules);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.rules as Json[];
}

async function messages(server: TestServer, q = ''): Promise<Json[]> {
  return (await api(server, 'GET', `/api/messages?${new URLSearchParams({ q })}`)).body.messages as Json[];
}

/** Sends one message over a raw connection; answers each step's reply code (0: the connection closed). */
async function rawSend(client: RawSmtp, from: string, to: string[], subject = 'hello'): Promise<{ mail: number; rcpt: number[]; data: number; text: string }> {
  const mail = (await client.command(`MAIL FROM:<${from}>`)).code;
  const rcpt: number[] = [];
  for (const r of to) rcpt.push((await client.command(`RCPT TO:<${r}>`)).code);
  const reply = await client.data(Buffer.from(`From: ${from}\r\nTo: ${to.join(', ')}\r\nSubject: ${subject}\r\n\r\nbody\r\n`));
  return { mail, rcpt, data: reply.code, text: reply.text };
}

/** A raw connection past its greeting and EHLO. */
async function open(server: TestServer): Promise<{ client: RawSmtp }> {
  const { client } = await RawSmtp.connect(server.smtpPort);
  assert.equal((await client.command('EHLO client.test')).code, 250);
  return { client };
}

const transport = (server: TestServer, extra: Record<string, unknown> = {}) =>
  nodemailer.createTransport({ host: '127.0.0.1', port: server.smtpPort, secure: false, ignoreTLS: true, ...extra });

async function withServer(fn: (server: TestServer) => Promise<void>, overrides = {}): Promise<void> {
  const server = await startTestServer(overrides);
  try {
    await fn(server);
  } finally {
    await server.close();
  }
}

describe('fault rules API', () => {
  it('replaces, appends, lists with hit counts, switches off and deletes rules', () =>
    withServer(async (server) => {
      const [first] = await setRules(server, [{ stage: 'rcpt', match: 'to:full@example.test', reply: { code: 552, text: 'mailbox full' }, times: 1 }]);
      assert.equal(first!.id, 'r1');
      assert.deepEqual(first, { id: 'r1', stage: 'rcpt', match: 'to:full@example.test', reply: { code: 552, text: 'mailbox full' }, times: 1, enabled: true, hits: 0, matched: 0 });
      const added = await api(server, 'POST', '/api/rules', { id: 'slow', stage: 'mail', delay: 10 });
      assert.equal(added.status, 201);
      assert.equal(added.body.id, 'slow');
      assert.deepEqual((await api(server, 'GET', '/api/rules')).body.rules.map((r: Json) => r.id), ['r1', 'slow']);
      const off = await api(server, 'PATCH', '/api/rules/slow', { enabled: false });
      assert.equal(off.body.enabled, false);
      assert.equal((await api(server, 'GET', '/api/rules/slow')).body.enabled, false);
      assert.equal((await api(server, 'DELETE', '/api/rules/slow')).body.deleted, 1);
      assert.equal((await api(server, 'DELETE', '/api/rules/slow')).status, 404);
      assert.equal((await api(server, 'GET', '/api/rules/nope')).status, 404);
      assert.equal((await api(server, 'DELETE', '/api/rules')).body.deleted, 1);
      assert.deepEqual((await api(server, 'GET', '/api/rules')).body.rules, []);
    }));

  it('refuses a rule that does not validate with 400 and the reason, and leaves the rule set unchanged', () =>
    withServer(async (server) => {
      await setRules(server, [{ id: 'keep', stage: 'rcpt', reply: { code: 451 } }]);
      const bad: Array<[unknown, RegExp]> = [
        [{ stage: 'helo', reply: { code: 550 } }, /stage.*connect, ehlo, auth, mail, rcpt, data/],
        [{ stage: 'rcpt', reply: { code: 399 } }, /reply\.code/],
        [{ stage: 'rcpt', reply: { code: 600 } }, /reply\.code/],
        [{ stage: 'rcpt', match: 'to:"unclosed', reply: { code: 550 } }, /does not parse: unclosed quote/],
        [{ stage: 'rcpt', match: 'subject:hello', reply: { code: 550 } }, /subject: is not known at rcpt \(known there: inbox:, from:, to:\)/],
        [{ stage: 'mail', match: 'to:bob', reply: { code: 550 } }, /to: is not known at mail/],
        [{ stage: 'connect', inbox: 'a', reply: { code: 554 } }, /inbox is not known at connect/],
        [{ stage: 'rcpt', reply: { code: 550 }, time: 1 }, /\.time: Unexpected property/],
        [{ stage: 'rcpt', reply: { code: 550, enhanced: '4.2.2' } }, /not in the class of 550/],
        [{ stage: 'rcpt', reply: { code: 550 }, disconnect: true }, /one action at a time/],
        [{ stage: 'rcpt' }, /needs an action/],
        [{ stage: 'data', greylist: {} }, /greylist acts at rcpt/],
        [{ stage: 'mail', delay: 60_000 }, /not below the SMTP idle timeout/],
        [{ stage: 'rcpt', reply: { code: 550, text: 'two\r\nlines' } }, /one line/],
      ];
      for (const [rule, reason] of bad) {
        for (const [method, body] of [['POST', rule], ['PUT', [rule]]] as const) {
          const res = await api(server, method, '/api/rules', body);
          assert.equal(res.status, 400, `${method} ${JSON.stringify(rule)}: ${JSON.stringify(res.body)}`);
          assert.match(res.body.message, reason);
        }
      }
      const dup = await api(server, 'PUT', '/api/rules', [{ id: 'x', stage: 'rcpt', delay: 1 }, { id: 'x', stage: 'rcpt', delay: 1 }]);
      assert.match(dup.body.message, /id "x" is used twice/);
      assert.equal((await api(server, 'PUT', '/api/rules', { not: 'a list' })).status, 400);
      assert.deepEqual((await api(server, 'GET', '/api/rules')).body.rules.map((r: Json) => r.id), ['keep']);
    }));
});

describe('fault rules at each SMTP stage', () => {
  it('Nodemailer: a 451 at rcpt with times 1 fails the first send through the pool, and the retry on the same pool is stored', () =>
    withServer(async (server) => {
      await setRules(server, [{ stage: 'rcpt', match: 'to:bob@example.test', reply: { code: 451, enhanced: '4.3.0', text: 'try later' }, times: 1 }]);
      const mailer = transport(server, { pool: true, maxConnections: 1 });
      const mail = { from: 'app@example.test', to: 'bob@example.test', subject: 'retry me', text: 'hi' };
      try {
        const err = (await mailer.sendMail(mail).then(
          () => assert.fail('the first send should be refused'),
          (e: unknown) => e,
        )) as { responseCode: number; response: string; code: string };
        assert.equal(err.responseCode, 451);
        assert.equal(err.code, 'EENVELOPE');
        assert.match(err.response, /^451 4\.3\.0 try later/);
        // What an application's retry does: send the same mail again; the pool's connection goes on.
        const info = await mailer.sendMail(mail);
        assert.deepEqual(info.accepted, ['bob@example.test']);
      } finally {
        mailer.close();
      }
      const stored = await messages(server);
      assert.equal(stored.length, 1);
      assert.equal(stored[0]!.subject, 'retry me');
      const rule = (await api(server, 'GET', '/api/rules')).body.rules[0];
      assert.equal(rule.hits, 1);
      assert.equal(rule.matched, 2);
    }));

  it('greylisting: Python smtplib gets 451 4.7.1 on its first attempt and is accepted on its second', () =>
    withServer(async (server) => {
      await setRules(server, [{ stage: 'rcpt', greylist: {} }]);
      const script = `
import json, smtplib, sys
attempts = []
for attempt in range(3):
    try:
        with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=10) as s:
            s.sendmail("app@example.test", ["carol@example.test"], "Subject: greylisted\\r\\n\\r\\nhi\\r\\n")
        attempts.append("ok")
        break
    except smtplib.SMTPRecipientsRefused as e:
        code, text = e.recipients["carol@example.test"]
        attempts.append(f"{code} {text.decode()}")
print(json.dumps(attempts))
`;
      const out = await new Promise<string>((resolve, reject) =>
        execFile('python3', ['-c', script, String(server.smtpPort)], { timeout: 30_000 }, (err, stdout, stderr) => (err ? reject(new Error(stderr || err.message)) : resolve(stdout))),
      );
      const attempts = JSON.parse(out) as string[];
      assert.equal(attempts.length, 2);
      assert.match(attempts[0]!, /^451 4\.7\.1 Greylisted/);
      assert.equal(attempts[1], 'ok');
      assert.equal((await messages(server, 'subject:greylisted')).length, 1);
      // Another triple (another recipient) is greylisted on its own.
      const { client } = await open(server);
      const r = await rawSend(client, 'app@example.test', ['dave@example.test']);
      assert.deepEqual(r.rcpt, [451]);
      await client.command('QUIT');
    }));

  it('a 550 at rcpt for one of three recipients: the other two get the message, and its envelope names only them', () =>
    withServer(async (server) => {
      await setRules(server, [{ stage: 'rcpt', match: 'to:ghost@example.test', reply: { code: 550, enhanced: '5.1.1', text: 'no such user' } }]);
      const mailer = transport(server);
      const info = await mailer.sendMail({
        from: 'app@example.test',
        to: ['ann@example.test', 'ghost@example.test', 'bob@example.test'],
        subject: 'three',
        text: 'hi',
      });
      mailer.close();
      assert.deepEqual(info.accepted, ['ann@example.test', 'bob@example.test']);
      assert.deepEqual(info.rejected, ['ghost@example.test']);
      const [stored] = await messages(server);
      assert.deepEqual(stored!.envelope.to, ['ann@example.test', 'bob@example.test']);
      // Header To still names all three: the envelope says who got it.
      assert.equal(stored!.to.length, 3);
    }));

  it('a disconnect at data closes the connection with no reply and stores nothing; the next connection works', () =>
    withServer(async (server) => {
      await setRules(server, [{ stage: 'data', match: 'subject:drop', disconnect: true, times: 1 }]);
      const { client } = await open(server);
      const r = await rawSend(client, 'app@example.test', ['bob@example.test'], 'drop me');
      assert.equal(r.data, 0, `expected no reply, got ${r.data} ${r.text}`);
      assert.equal(client.closed, true);
      assert.deepEqual(await messages(server), []);
      const again = await open(server);
      assert.equal((await rawSend(again.client, 'app@example.test', ['bob@example.test'], 'drop me')).data, 250);
      await again.client.command('QUIT');
      assert.equal((await messages(server)).length, 1);
    }));

  it('a client that drops mid-DATA while data rules are set leaves nothing stored', () =>
    withServer(async (server) => {
      await setRules(server, [{ stage: 'data', match: 'subject:never', reply: { code: 554 } }]);
      const { client } = await open(server);
      assert.equal((await client.command('MAIL FROM:<a@example.test>')).code, 250);
      assert.equal((await client.command('RCPT TO:<b@example.test>')).code, 250);
      assert.equal((await client.command('DATA')).code, 354);
      client.write('Subject: half\r\n\r\nthe first half of a mess');
      client.destroy();
      // A message sent after it proves the server went on; the half one never appears.
      const next = await open(server);
      assert.equal((await rawSend(next.client, 'a@example.test', ['b@example.test'], 'whole')).data, 250);
      await next.client.command('QUIT');
      assert.deepEqual((await messages(server)).map((m) => m.subject), ['whole']);
    }));

  it('after a rejected DATA, the next message on the same connection is stored', () =>
    withServer(async (server) => {
      await setRules(server, [{ stage: 'data', match: 'subject:reject', reply: { code: 554, enhanced: '5.7.1', text: 'refused by rule' } }]);
      const { client } = await open(server);
      const first = await rawSend(client, 'a@example.test', ['b@example.test'], 'reject this');
      assert.equal(first.data, 554);
      assert.match(first.text, /^5\.7\.1 refused by rule/);
      assert.equal((await rawSend(client, 'a@example.test', ['b@example.test'], 'keep this')).data, 250);
      await client.command('QUIT');
      assert.deepEqual((await messages(server)).map((m) => m.subject), ['keep this']);
    }));

  it('a rule scoped to one inbox refuses its mail and does not touch another inbox', () =>
    withServer(async (server) => {
      await setRules(server, [{ stage: 'rcpt', inbox: 'team-a', reply: { code: 550 } }]);
      for (const [user, accepted] of [['team-a', false], ['team-b', true]] as const) {
        const mailer = transport(server, { auth: { user, pass: 'x' } });
        const sent = mailer.sendMail({ from: 'app@example.test', to: 'bob@example.test', subject: user, text: 'hi' });
        if (accepted) await sent;
        else await assert.rejects(sent, (e: { responseCode: number }) => e.responseCode === 550);
        mailer.close();
      }
      assert.deepEqual((await messages(server)).map((m) => m.inbox), ['team-b']);
      // inbox: in the match does the same.
      await setRules(server, [{ stage: 'data', match: 'inbox:team-b subject:x', reply: { code: 552 } }]);
      const mailer = transport(server, { auth: { user: 'team-c', pass: 'x' } });
      await mailer.sendMail({ from: 'app@example.test', to: 'bob@example.test', subject: 'x', text: 'hi' });
      mailer.close();
      assert.equal((await messages(server, 'inbox:team-c')).length, 1);
    }));

  it('a pipelined batch with a refused recipient in each transaction and a refused DATA is answered in full and in order', () =>
    withServer(async (server) => {
      await setRules(server, [
        { stage: 'rcpt', match: 'to:ghost', reply: { code: 550, enhanced: '5.1.1', text: 'no such user' } },
        { stage: 'data', match: 'subject:"pipelined 2"', reply: { code: 554 } },
      ]);
      const { client } = await open(server);
      const batch = [1, 2, 3]
        .map((n) => `MAIL FROM:<p${n}@example.test>\r\nRCPT TO:<r${n}@example.test>\r\nRCPT TO:<ghost${n}@example.test>\r\nDATA\r\nSubject: pipelined ${n}\r\n\r\nbody\r\n.\r\n`)
        .join('');
      client.write(batch);
      const codes: number[] = [];
      for (let i = 0; i < 15; i++) codes.push((await client.read()).code);
      assert.deepEqual(codes, [250, 250, 550, 354, 250, 250, 250, 550, 354, 554, 250, 250, 550, 354, 250]);
      await client.quit();
      assert.deepEqual((await messages(server)).map((m) => m.envelope.to), [['r3@example.test'], ['r1@example.test']]);
    }));

  it('with routing by subaddress, a rule scoped to an inbox acts on the mail routed there, at rcpt and at data', () =>
    withServer(
      async (server) => {
        await setRules(server, [
          { stage: 'rcpt', inbox: 'run42', reply: { code: 450, text: 'run42 is full' } },
          { stage: 'data', match: 'inbox:run43 subject:drop', reply: { code: 554 } },
        ]);
        const { client } = await open(server);
        assert.deepEqual((await rawSend(client, 'a@example.test', ['bob+run42@example.test', 'bob+run43@example.test'], 'keep')).rcpt, [450, 250]);
        assert.equal((await rawSend(client, 'a@example.test', ['bob+run43@example.test'], 'drop')).data, 554);
        assert.equal((await rawSend(client, 'a@example.test', ['bob+run44@example.test'], 'drop')).data, 250);
        await client.quit();
        assert.deepEqual((await messages(server)).map((m) => [m.inbox, m.subject]), [['run44', 'drop'], ['run43', 'keep']]);
      },
      { routing: ['subaddress'] },
    ));

  it('counters: after skips the first matches, every fires on every Nth, times stops it', () =>
    withServer(async (server) => {
      await setRules(server, [{ stage: 'rcpt', match: 'to:bob', reply: { code: 450 }, after: 1, every: 2, times: 2 }]);
      const { client } = await open(server);
      const codes: number[] = [];
      assert.equal((await client.command('MAIL FROM:<a@example.test>')).code, 250);
      for (let i = 0; i < 8; i++) codes.push((await client.command('RCPT TO:<bob@example.test>')).code);
      // The other recipient never matches.
      codes.push((await client.command('RCPT TO:<ann@example.test>')).code);
      await client.command('QUIT');
      assert.deepEqual(codes, [250, 450, 250, 450, 250, 250, 250, 250, 250]);
      const [rule] = (await api(server, 'GET', '/api/rules')).body.rules;
      assert.equal(rule.hits, 2);
      assert.equal(rule.matched, 8);
    }));

  it('connect, ehlo, auth and mail stages answer with the rule, and the session goes on where the protocol allows', () =>
    withServer(async (server) => {
      await setRules(server, [
        { stage: 'connect', reply: { code: 554, text: 'no service' }, times: 1 },
        { stage: 'ehlo', reply: { code: 421, text: 'busy' }, times: 1 },
        { stage: 'auth', match: 'inbox:locked', reply: { code: 454, enhanced: '4.7.0', text: 'auth unavailable' } },
        { stage: 'mail', match: 'from:blocked@example.test', reply: { code: 553, text: 'sender refused' } },
      ]);
      const refused = await RawSmtp.connect(server.smtpPort);
      assert.equal(refused.greeting.code, 554);
      assert.match(refused.greeting.text, /no service/);
      const busy = await RawSmtp.connect(server.smtpPort);
      assert.equal(busy.greeting.code, 220);
      assert.equal((await busy.client.command('EHLO client.test')).code, 421);
      const { client } = await RawSmtp.connect(server.smtpPort);
      assert.equal((await client.command('EHLO client.test')).code, 250);
      const auth = await client.command(`AUTH PLAIN ${Buffer.from('\0locked\0pw').toString('base64')}`);
      assert.equal(auth.code, 454);
      assert.match(auth.text, /^4\.7\.0 auth unavailable/);
      const mail = await client.command('MAIL FROM:<blocked@example.test>');
      assert.equal(mail.code, 553);
      assert.equal((await rawSend(client, 'ok@example.test', ['b@example.test'])).data, 250);
      await client.command('QUIT');
    }));

  it('a delayed session does not hold another: a second client is stored while the first still waits', () =>
    withServer(async (server) => {
      await setRules(server, [{ stage: 'mail', match: 'from:slow@example.test', delay: 30_000 }]);
      const slow = await open(server);
      let slowAnswered = false;
      const slowMail = slow.client.command('MAIL FROM:<slow@example.test>').then((r) => {
        slowAnswered = true;
        return r;
      });
      // The rule has fired (the slow MAIL is being held) before the fast client starts.
      await waitFor(async () => (await api(server, 'GET', '/api/rules')).body.rules[0].hits === 1);
      const fast = await open(server);
      assert.equal((await rawSend(fast.client, 'fast@example.test', ['b@example.test'])).data, 250);
      await fast.client.command('QUIT');
      assert.equal(slowAnswered, false);
      slow.client.destroy();
      assert.equal((await slowMail).code, 0);
    }));

  it('a delay then the normal answer: the message is stored after the wait', () =>
    withServer(async (server) => {
      await setRules(server, [{ stage: 'data', delay: 50 }]);
      const { client } = await open(server);
      assert.equal((await rawSend(client, 'a@example.test', ['b@example.test'], 'late')).data, 250);
      await client.command('QUIT');
      assert.equal((await messages(server)).length, 1);
    }));

  it('a data rule matches fields of the message: only the matching subject is refused', () =>
    withServer(async (server) => {
      await setRules(server, [{ stage: 'data', match: 'subject:invoice header:X-Tenant:acme', reply: { code: 552, text: 'full' } }]);
      const mailer = transport(server);
      await assert.rejects(
        mailer.sendMail({ from: 'a@example.test', to: 'b@example.test', subject: 'Your invoice', text: 'x', headers: { 'X-Tenant': 'acme' } }),
        (e: { responseCode: number }) => e.responseCode === 552,
      );
      await mailer.sendMail({ from: 'a@example.test', to: 'b@example.test', subject: 'Your invoice', text: 'x', headers: { 'X-Tenant': 'other' } });
      await mailer.sendMail({ from: 'a@example.test', to: 'b@example.test', subject: 'Welcome', text: 'x', headers: { 'X-Tenant': 'acme' } });
      mailer.close();
      assert.equal((await messages(server)).length, 2);
    }));
});

describe('fault rules are visible', () => {
  it('/api/info counts rules and firings, and /metrics has mailpen_fault_rules_fired_total', () =>
    withServer(async (server) => {
      await setRules(server, [{ stage: 'rcpt', reply: { code: 450 }, times: 2 }, { stage: 'mail', delay: 1, enabled: false }]);
      const { client } = await open(server);
      await client.command('MAIL FROM:<a@example.test>');
      for (let i = 0; i < 3; i++) await client.command('RCPT TO:<b@example.test>');
      await client.command('QUIT');
      const info = (await api(server, 'GET', '/api/info')).body;
      assert.deepEqual(info.rules, { rules: 2, enabled: 1, fired: 2 });
      const metrics = await (await fetch(`${server.httpUrl}/metrics`)).text();
      assert.match(metrics, /^mailpen_fault_rules_fired_total\{stage="rcpt"\} 2$/m);
    }));
});

describe('fault rules on the event stream', () => {
  it('sends rule-fired to the stream, and to an inbox-filtered client only for its inbox', () =>
    withServer(async (server) => {
      await setRules(server, [{ id: 'no', stage: 'rcpt', reply: { code: 550, text: 'no' } }]);
      const frames: Json[] = [];
      const ws = new WebSocket(`${server.httpUrl.replace('http', 'ws')}/api/events?inbox=team-a`);
      ws.on('message', (m) => frames.push(JSON.parse(String(m)) as Json));
      await waitFor(async () => frames.some((f) => f.type === 'hello'));
      for (const user of ['team-b', 'team-a']) {
        const mailer = transport(server, { auth: { user, pass: 'x' } });
        await assert.rejects(mailer.sendMail({ from: 'a@example.test', to: 'b@example.test', subject: user, text: 'x' }));
        mailer.close();
      }
      await waitFor(async () => frames.some((f) => f.type === 'rule-fired'));
      ws.close();
      const fired = frames.filter((f) => f.type === 'rule-fired');
      assert.equal(fired.length, 1);
      assert.deepEqual(fired[0]!.data, { rule: 'no', stage: 'rcpt', action: 'reply', code: 550, inbox: 'team-a', hits: 2 });
    }));
});

describe('rules file', () => {
  it('loads the rules file at start', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mailpen-rules-'));
    try {
      const file = path.join(dir, 'rules.json');
      writeFileSync(file, JSON.stringify({ rules: [{ id: 'full', stage: 'rcpt', match: 'to:full@example.test', reply: { code: 552 } }] }));
      await withServer(
        async (server) => {
          assert.deepEqual((await api(server, 'GET', '/api/rules')).body.rules.map((r: Json) => r.id), ['full']);
          const { client } = await open(server);
          assert.deepEqual((await rawSend(client, 'a@example.test', ['full@example.test'])).rcpt, [552]);
          await client.command('QUIT');
        },
        { rulesFile: file },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a bad rules file stops the start with exit code 2 and the reason', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mailpen-rules-'));
    try {
      const file = path.join(dir, 'rules.json');
      writeFileSync(file, JSON.stringify([{ stage: 'rcpt', match: 'subject:x', reply: { code: 550 } }]));
      const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = execFile(
          process.execPath,
          ['--import', 'tsx', 'server/cli.ts', '--smtp-addr', '127.0.0.1:0', '--http-addr', '127.0.0.1:0', '--rules-file', file],
          { timeout: 30_000 },
          (_e, _o, stderr) => resolve({ code: child.exitCode, stderr }),
        );
      });
      assert.equal(result.code, 2);
      assert.match(result.stderr, /MAILPEN_RULES_FILE .*rules\.json: rules\[0\]: subject: is not known at rcpt/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
