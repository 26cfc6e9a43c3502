// Inboxes by recipient (issue 19): an application sends all its mail with one SMTP account (or
// none), and each test's mail lands in the inbox its recipient names: alice+run42@x (subaddress),
// alice@run42.inbox.test (domain), or a rule in the search language. Real servers on port 0,
// nodemailer and raw SMTP sockets, the API over fetch, the event stream over ws.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import nodemailer from 'nodemailer';
import WebSocket from 'ws';
import { startTestServer, type TestServer } from './helpers/server.js';
import { RawSmtp } from './helpers/smtp-client.js';
import { ConfigError, loadConfig } from '../server/config.js';
import { createClient, type WebSocketConstructor } from '../client/index.js';

interface Summary {
  id: string;
  inbox: string;
  subject: string;
  read: boolean;
  envelope: { from: string; to: string[] };
}

async function api<T>(server: TestServer, path: string, init: { method?: string; body?: unknown } = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(`${server.httpUrl}/api${path}`, {
    method: init.method ?? 'GET',
    ...(init.body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(init.body) }),
  });
  return { status: res.status, body: (await res.json()) as T };
}

const list = async (server: TestServer, query: string): Promise<Summary[]> =>
  (await api<{ messages: Summary[] }>(server, `/messages?limit=1000&${query}`)).body.messages;

/** What the application under test does: one SMTP configuration for the whole process. */
function appTransport(server: TestServer, auth?: { user: string; pass: string }) {
  return nodemailer.createTransport({ host: '127.0.0.1', port: server.smtpPort, secure: false, ...(auth ? { auth } : {}) });
}

async function inboxNames(server: TestServer): Promise<string[]> {
  return (await api<{ inboxes: Array<{ name: string }> }>(server, '/inboxes')).body.inboxes.map((i) => i.name);
}

describe('routing by recipient over SMTP', () => {
  it('keeps the AUTH user, else default, when nothing is configured', async () => {
    const server = await startTestServer();
    try {
      await appTransport(server, { user: 'ci-user', pass: 'x' }).sendMail({ from: 'app@example.test', to: 'alice+run1@example.test', subject: 'auth', text: 'x' });
      await appTransport(server).sendMail({ from: 'app@example.test', to: 'bob@run2.inbox.test', subject: 'none', text: 'x' });
      assert.deepEqual(await inboxNames(server), ['ci-user', 'default']);
      assert.deepEqual((await api(server, '/routing')).body, { modes: ['auth'], domain: 'inbox.test', rules: [] });
    } finally {
      await server.close();
    }
  });

  it('subaddress: one SMTP account, many recipients, each test\'s mail only in its inbox', async () => {
    // The AUTH user is the same for every test: the tag decides; a message without one falls back to it.
    const server = await startTestServer({ routing: ['subaddress', 'auth'] });
    const transport = appTransport(server, { user: 'shared-app', pass: 'x' });
    try {
      for (const run of ['run-a', 'run-b', 'run-c']) {
        await transport.sendMail({ from: 'app@example.test', to: `alice+${run}@example.test`, subject: `signup ${run}`, text: 'x' });
        await transport.sendMail({ from: 'app@example.test', to: `Bob <bob+${run}@example.test>`, subject: `invite ${run}`, text: 'x' });
      }
      await transport.sendMail({ from: 'app@example.test', to: 'nobody@example.test', subject: 'no tag', text: 'x' });
      // A tag that cannot be an inbox name (here "a/b") names none: the next mode decides.
      await transport.sendMail({ from: 'app@example.test', to: 'carol+a/b@example.test', subject: 'bad tag', text: 'x' });
      for (const run of ['run-a', 'run-b', 'run-c']) {
        const mail = await list(server, `inbox=${run}`);
        assert.deepEqual(mail.map((m) => m.subject).sort(), [`invite ${run}`, `signup ${run}`]);
      }
      assert.deepEqual((await list(server, 'inbox=shared-app')).map((m) => m.subject).sort(), ['bad tag', 'no tag']);
    } finally {
      transport.close();
      await server.close();
    }
  });

  it('domain: anyone@NAME.<suffix> lands in NAME, the domain read without regard to case; the suffix is a setting', async () => {
    const server = await startTestServer({ routing: ['domain'], routingDomain: 'Mail.Example.Test' });
    const transport = appTransport(server);
    try {
      assert.equal(server.config.routingDomain, 'mail.example.test');
      await transport.sendMail({ from: 'app@example.test', to: 'alice@run42.mail.example.test', subject: 'one', text: 'x' });
      await transport.sendMail({ from: 'app@example.test', to: 'bob@RUN42.Mail.Example.Test', subject: 'two', text: 'x' });
      await transport.sendMail({ from: 'app@example.test', to: 'carol@tenant.run43.mail.example.test', subject: 'three', text: 'x' });
      await transport.sendMail({ from: 'app@example.test', to: 'dave@mail.example.test', subject: 'bare suffix', text: 'x' });
      assert.deepEqual((await list(server, 'inbox=run42')).map((m) => m.subject).sort(), ['one', 'two']);
      assert.deepEqual((await list(server, 'inbox=tenant.run43')).map((m) => m.subject), ['three']);
      assert.deepEqual((await list(server, 'inbox=default')).map((m) => m.subject), ['bare suffix']);
    } finally {
      transport.close();
      await server.close();
    }
  });

  it('a message to two inboxes\' recipients is in both, with every recipient in its envelope; deleted from one it stays in the other', async () => {
    const server = await startTestServer({ routing: ['subaddress'] });
    const transport = appTransport(server);
    const events: Array<{ type: string; data: { message?: Summary; messages?: Array<{ id: string; inbox: string }> } }> = [];
    const ws = new WebSocket(`${server.httpUrl.replace('http', 'ws')}/api/events`);
    ws.on('message', (data) => events.push(JSON.parse(String(data))));
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    try {
      // A waiter on the second inbox, pending before the mail is sent.
      const waited = api<Summary>(server, `/wait?inbox=team-b&q=${encodeURIComponent('subject:shared')}&after=0&timeout=10`);
      const info = await transport.sendMail({
        from: 'app@example.test',
        to: 'alice+team-a@example.test',
        cc: 'bob+team-b@example.test',
        bcc: 'carol+team-a@example.test',
        subject: 'shared report',
        text: 'for both teams',
      });
      const [a] = await list(server, 'inbox=team-a');
      const [b] = await list(server, 'inbox=team-b');
      assert.ok(a && b, 'in both inboxes');
      assert.notEqual(a.id, b.id, 'one stored message per inbox, each its own id');
      assert.match(info.response, new RegExp(`queued as ${a.id} ${b.id}`));
      const recipients = ['alice+team-a@example.test', 'bob+team-b@example.test', 'carol+team-a@example.test'];
      assert.deepEqual(a.envelope.to, recipients);
      assert.deepEqual(b.envelope.to, recipients);
      const waitedFor = await waited;
      assert.equal(waitedFor.status, 200);
      assert.equal(waitedFor.body.id, b.id, '/api/wait with inbox= sees its own copy');
      // The same bytes in both, held once by the store.
      const [heldA, heldB] = [server.store.get(a.id)!.raw, server.store.get(b.id)!.raw];
      assert.ok(heldA.buffer === heldB.buffer && heldA.byteOffset === heldB.byteOffset, 'the copies share their raw bytes');
      const rawA = await (await fetch(`${server.httpUrl}/api/messages/${a.id}/raw`)).text();
      assert.equal(await (await fetch(`${server.httpUrl}/api/messages/${b.id}/raw`)).text(), rawA);
      // Search with inbox:, and the counts.
      assert.deepEqual((await list(server, `q=${encodeURIComponent('inbox:team-b subject:shared')}`)).map((m) => m.id), [b.id]);
      const counts = (await api<{ inboxes: Array<{ name: string; total: number; unread: number }> }>(server, '/inboxes')).body.inboxes;
      assert.deepEqual(counts, [
        { name: 'team-a', total: 1, unread: 1 },
        { name: 'team-b', total: 1, unread: 1 },
      ]);
      // Read in one inbox is not read in the other.
      const patched = await api<{ message?: string }>(server, `/messages/${a.id}`, { method: "PATCH", body: { read: true } });
      assert.equal(patched.status, 200, patched.body.message);
      assert.equal((await list(server, 'inbox=team-b'))[0]!.read, false);
      // Deleted from one, it remains in the other.
      assert.equal((await fetch(`${server.httpUrl}/api/messages/${a.id}`, { method: 'DELETE' })).status, 200);
      assert.deepEqual(await list(server, 'inbox=team-a'), []);
      assert.deepEqual((await list(server, 'inbox=team-b')).map((m) => m.id), [b.id]);
      assert.equal(await (await fetch(`${server.httpUrl}/api/messages/${b.id}/raw`)).text(), rawA);
      // Clearing the other inbox leaves nothing behind.
      assert.equal((await fetch(`${server.httpUrl}/api/messages?inbox=team-b`, { method: 'DELETE' })).status, 200);
      assert.deepEqual(await inboxNames(server), []);
      // The events: an added per inbox, then the deletion of one copy.
      await waitUntil(() => events.some((e) => e.type === 'cleared'));
      const added = events.filter((e) => e.type === 'added').map((e) => [e.data.message!.id, e.data.message!.inbox]);
      assert.deepEqual(added, [
        [a.id, 'team-a'],
        [b.id, 'team-b'],
      ]);
      assert.deepEqual(events.find((e) => e.type === 'deleted')?.data.messages, [{ id: a.id, inbox: 'team-a' }]);
    } finally {
      ws.close();
      transport.close();
      await server.close();
    }
  });

  it('refuses with 452 a message whose recipients would add inboxes past MAILPEN_MAX_INBOXES, and stores none of its copies', async () => {
    const server = await startTestServer({ routing: ['subaddress'], maxInboxes: 3 });
    try {
      const { client } = await RawSmtp.connect(server.smtpPort);
      await client.command('EHLO routing.test');
      const send = async (tags: string[]): Promise<number> => {
        assert.equal((await client.command('MAIL FROM:<app@example.test>')).code, 250);
        for (const tag of tags) assert.equal((await client.command(`RCPT TO:<u+${tag}@example.test>`)).code, 250);
        return (await client.data(Buffer.from(`Subject: ${tags.join(' ')}\r\n\r\nx\r\n`))).code;
      };
      assert.equal(await send(['a', 'b']), 250);
      assert.equal(await send(['a', 'c', 'd']), 452);
      assert.deepEqual((await inboxNames(server)).sort(), ['a', 'b']);
      assert.equal(await send(['a', 'b', 'c']), 250, 'one new inbox fits');
      await client.quit();
      assert.deepEqual((await inboxNames(server)).sort(), ['a', 'b', 'c']);
    } finally {
      await server.close();
    }
  });

  it('20 senders x 50 messages at once, one SMTP account, put no message in a wrong inbox', async () => {
    const server = await startTestServer({ routing: ['subaddress', 'domain', 'auth'] });
    const runs = Array.from({ length: 20 }, (_, i) => `par-${i}`);
    try {
      await Promise.all(
        runs.map(async (run, i) => {
          // Every sender authenticates as the same user; half address by tag, half by domain.
          const transport = nodemailer.createTransport({ host: '127.0.0.1', port: server.smtpPort, pool: true, maxConnections: 2, auth: { user: 'one-account', pass: 'x' } });
          const to = (n: number): string => (i % 2 === 0 ? `user${n}+${run}@example.test` : `user${n}@${run}.inbox.test`);
          try {
            await Promise.all(Array.from({ length: 50 }, (_, n) => transport.sendMail({ from: 'app@example.test', to: to(n), subject: `${run} #${n}`, text: `for ${run}` })));
          } finally {
            transport.close();
          }
        }),
      );
      assert.deepEqual((await inboxNames(server)).sort(), [...runs].sort());
      for (const run of runs) {
        const mail = await list(server, `inbox=${run}`);
        assert.equal(mail.length, 50, run);
        const wrong = mail.filter((m) => !m.subject.startsWith(`${run} #`));
        assert.deepEqual(wrong, [], `${run} holds only its own mail`);
        assert.equal(new Set(mail.map((m) => m.subject)).size, 50);
      }
    } finally {
      await server.close();
    }
  });
});

describe('routing by recipient: the AUTH user', () => {
  it('takes any AUTH user name when the routing does not use it, and refuses one that cannot be an inbox when it does', async () => {
    const server = await startTestServer({ routing: ['subaddress'] });
    try {
      const auth = (user: string): string => `AUTH PLAIN ${Buffer.from(`\0${user}\0secret`).toString('base64')}`;
      const { client } = await RawSmtp.connect(server.smtpPort);
      await client.command('EHLO routing.test');
      assert.equal((await client.command(auth('app account/prod'))).code, 235);
      assert.equal((await client.command('MAIL FROM:<app@example.test>')).code, 250);
      assert.equal((await client.command('RCPT TO:<u+run-7@example.test>')).code, 250);
      assert.equal((await client.data(Buffer.from('Subject: s\r\n\r\nx\r\n'))).code, 250);
      await client.quit();
      assert.deepEqual(await inboxNames(server), ['run-7']);
      assert.equal((await api(server, '/routing', { method: 'PUT', body: { modes: ['subaddress', 'auth'] } })).status, 200);
      const again = await RawSmtp.connect(server.smtpPort);
      await again.client.command('EHLO routing.test');
      const refused = await again.client.command(auth('app account/prod'));
      assert.equal(refused.code, 535);
      assert.match(refused.text, /the user name is the inbox name/);
      await again.client.quit();
    } finally {
      await server.close();
    }
  });
});

describe('routing rules', () => {
  const rules = [
    { inbox: 'tenant-a', query: 'to:@tenant-a.example' },
    { inbox: 'tenant-b', query: 'to:@tenant-b.example' },
    { inbox: 'alerts', query: 'subject:alert from:monitor@' },
  ];

  it('a rule set from the API routes the next messages; every matching rule names an inbox', async () => {
    const server = await startTestServer();
    const transport = appTransport(server);
    try {
      const put = await api(server, '/routing', { method: 'PUT', body: { modes: ['rules', 'auth'], rules } });
      assert.equal(put.status, 200);
      assert.deepEqual(put.body, { modes: ['rules', 'auth'], domain: 'inbox.test', rules });
      assert.deepEqual((await api(server, '/routing')).body, put.body);
      await transport.sendMail({ from: 'app@example.test', to: 'ann@tenant-a.example', subject: 'welcome a', text: 'x' });
      await transport.sendMail({ from: 'app@example.test', to: 'ben@tenant-b.example', subject: 'welcome b', text: 'x' });
      await transport.sendMail({ from: 'monitor@ops.example', to: ['ann@tenant-a.example', 'ben@tenant-b.example'], subject: 'Alert: disk', text: 'x' });
      await transport.sendMail({ from: 'app@example.test', to: 'zed@elsewhere.example', subject: 'unmatched', text: 'x' });
      assert.deepEqual((await list(server, 'inbox=tenant-a')).map((m) => m.subject).sort(), ['Alert: disk', 'welcome a']);
      assert.deepEqual((await list(server, 'inbox=tenant-b')).map((m) => m.subject).sort(), ['Alert: disk', 'welcome b']);
      assert.deepEqual((await list(server, 'inbox=alerts')).map((m) => m.subject), ['Alert: disk']);
      assert.deepEqual((await list(server, 'inbox=default')).map((m) => m.subject), ['unmatched']);
      // Back to AUTH only: rules left out of the body stay, and must then go too.
      assert.equal((await api(server, '/routing', { method: 'PUT', body: { modes: ['auth'], rules: [] } })).status, 200);
      await transport.sendMail({ from: 'app@example.test', to: 'ann@tenant-a.example', subject: 'after', text: 'x' });
      assert.deepEqual((await list(server, 'inbox=default')).map((m) => m.subject).sort(), ['after', 'unmatched']);
    } finally {
      transport.close();
      await server.close();
    }
  });

  it('rules match what a search would: a body phrase, a header, a Bcc recipient', async () => {
    const server = await startTestServer({
      routing: ['rules'],
      routingRules: [
        { inbox: 'by-body', query: '"reset your password"' },
        { inbox: 'by-header', query: 'header:X-Tenant:acme' },
        { inbox: 'by-bcc', query: 'to:audit@' },
      ],
    });
    const transport = appTransport(server);
    try {
      await transport.sendMail({ from: 'app@example.test', to: 'u@example.test', subject: 's1', text: 'Click to reset   your password.' });
      await transport.sendMail({ from: 'app@example.test', to: 'u@example.test', subject: 's2', text: 'x', headers: { 'X-Tenant': 'ACME corp' } });
      await transport.sendMail({ from: 'app@example.test', to: 'u@example.test', bcc: 'audit@example.test', subject: 's3', text: 'x' });
      assert.deepEqual((await list(server, 'inbox=by-body')).map((m) => m.subject), ['s1']);
      assert.deepEqual((await list(server, 'inbox=by-header')).map((m) => m.subject), ['s2']);
      assert.deepEqual((await list(server, 'inbox=by-bcc')).map((m) => m.subject), ['s3']);
    } finally {
      transport.close();
      await server.close();
    }
  });

  it('the API refuses a routing that cannot work with 400 and the reason, and keeps the one in force', async () => {
    const server = await startTestServer({ routing: ['rules', 'auth'], routingRules: [rules[0]!] });
    try {
      const before = (await api(server, '/routing')).body;
      for (const [body, reason] of [
        [{ rules: [{ inbox: 'x', query: "(subject:unclosed" }] }, /rule 1 \(inbox x\): the query does not parse: unclosed/],
        [{ rules: [{ inbox: 'x', query: 'nosuchfield:y' }] }, /unknown field "nosuchfield:"/],
        [{ rules: [rules[0], { inbox: '', query: 'subject:y' }] }, /rule 2: an inbox name cannot be empty/],
        [{ rules: [{ inbox: 'a b/c', query: 'subject:y' }] }, /rule 1: an inbox name holds letters, digits/],
        [{ rules: [{ inbox: 'x', query: '   ' }] }, /would match every message/],
        [{ modes: ['auth'] }, /rules are given but the modes \(auth\) do not include rules/],
        [{ modes: [] }, /at least one mode/],
        [{ modes: ['auth', 'auth'] }, /listed twice/],
        [{ modes: ['recipient'] }, /must be equal to constant|auth, subaddress, domain, rules/],
        [{ domain: 'not a domain' }, /not a domain name/],
        [{ rules: [{ inbox: 'x' }] }, /must have required property 'query'/],
      ] as const) {
        const res = await api<{ statusCode: number; message: string }>(server, '/routing', { method: 'PUT', body });
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.match(res.body.message, reason, JSON.stringify(body));
        assert.deepEqual((await api(server, '/routing')).body, before, 'unchanged');
      }
    } finally {
      await server.close();
    }
  });
});

describe('routing settings at start', () => {
  const env = (vars: Record<string, string>): (() => unknown) => () => loadConfig([], vars);

  it('refuses bad rules, modes and suffixes with the reason', () => {
    for (const [vars, reason] of [
      [{ MAILPEN_ROUTING: 'rules', MAILPEN_ROUTING_RULES: '[{"inbox":"x","query":"(subject:a"}]' }, /rule 1 \(inbox x\): the query does not parse/],
      [{ MAILPEN_ROUTING: 'rules', MAILPEN_ROUTING_RULES: '[{"inbox":"","query":"subject:a"}]' }, /rule 1: an inbox name cannot be empty/],
      [{ MAILPEN_ROUTING: 'rules', MAILPEN_ROUTING_RULES: '[{"inbox":"a\\"b","query":"subject:a"}]' }, /letters, digits/],
      [{ MAILPEN_ROUTING: 'rules', MAILPEN_ROUTING_RULES: 'to:@x => x' }, /MAILPEN_ROUTING_RULES .*a JSON array/],
      [{ MAILPEN_ROUTING_RULES: '[{"inbox":"x","query":"subject:a"}]' }, /do not include rules/],
      [{ MAILPEN_ROUTING: 'subaddres' }, /unknown mode "subaddres"/],
      [{ MAILPEN_ROUTING: 'domain', MAILPEN_ROUTING_DOMAIN: '-bad-' }, /not a domain name/],
    ] as const) {
      assert.throws(env(vars), (e: unknown) => e instanceof ConfigError && reason.test(e.message), JSON.stringify(vars));
    }
    assert.deepEqual(loadConfig([], { MAILPEN_ROUTING: ' subaddress , auth ' }).routing, ['subaddress', 'auth']);
  });

  it('the mailpen command exits 2 with the reason for a rule that does not parse', async () => {
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = execFile(
        process.execPath,
        ['--import', 'tsx', 'server/cli.ts', '--smtp-addr', '127.0.0.1:0', '--http-addr', '127.0.0.1:0'],
        { env: { ...process.env, MAILPEN_ROUTING: 'rules', MAILPEN_ROUTING_RULES: '[{"inbox":"tenant-a","query":"(to:@tenant-a.example"}]' } },
        (_e, _o, stderr) => resolve({ code: child.exitCode, stderr }),
      );
    });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /MAILPEN_ROUTING_RULES\): rule 1 \(inbox tenant-a\): the query does not parse: unclosed "\("/);
  });
});

describe('mailpen/client: addresses for an inbox', () => {
  it('inbox.address() lands in the inbox under subaddress and domain routing; with AUTH routing it says what to set', async () => {
    const server = await startTestServer();
    const client = createClient({ baseUrl: server.httpUrl, WebSocket: WebSocket as unknown as WebSocketConstructor });
    const transport = appTransport(server);
    try {
      const authOnly = await client.inbox();
      assert.throws(() => authOnly.address(), /MAILPEN_ROUTING=subaddress/);

      await client.setRouting({ modes: ['subaddress', 'auth'] });
      const tagged = await client.inbox({ prefix: 'signup' });
      assert.equal(tagged.address('alice'), `alice+${tagged.name}@example.test`);
      await transport.sendMail({ from: 'app@example.test', to: tagged.address('alice'), subject: 'Your code is 482913', text: 'Your verification code: 482913' });
      assert.equal(await tagged.waitForCode({ subject: 'Your code' }), '482913');

      await client.setRouting({ modes: ['domain', 'auth'] });
      const byDomain = await client.inbox();
      assert.equal(byDomain.address('bob'), `bob@${byDomain.name}.inbox.test`);
      // Applications often lower-case the addresses they are given.
      await transport.sendMail({ from: 'app@example.test', to: byDomain.address('Bob').toUpperCase(), subject: 'hello', text: 'x' });
      assert.equal((await byDomain.waitFor({ subject: 'hello' })).inbox, byDomain.name);
      // Either way the AUTH settings still work, and the choice can be made per inbox.
      const both = await client.inbox({ addresses: 'subaddress' });
      assert.equal(both.address(), `user+${both.name}@example.test`);
      await nodemailer.createTransport(both.smtp).sendMail({ from: 'app@example.test', to: 'x@example.test', subject: 'by auth', text: 'x' });
      assert.equal((await both.messages()).messages.length, 1);
      assert.equal((await client.routing()).modes[0], 'domain');
    } finally {
      transport.close();
      await server.close();
    }
  });
});

async function waitUntil(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10));
}
