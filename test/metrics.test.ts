// GET /metrics scraped from a real server over HTTP and read with a real Prometheus exposition
// parser (parse-prometheus-text-format, a port of the Python client's parser), after real SMTP
// sessions, refusals, evictions, a parse, an event-stream client and a pending wait.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { startTestServer, type TestServer } from './helpers/server.js';
import { RawSmtp, sendRaw, queuedId } from './helpers/smtp-client.js';

interface Family {
  name: string;
  help: string;
  type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
  metrics: Array<{ value?: string; labels?: Record<string, string>; buckets?: Record<string, string>; count?: string; sum?: string }>;
}

async function scrape(server: TestServer, headers: Record<string, string> = {}): Promise<Family[]> {
  const res = await fetch(`${server.httpUrl}/metrics`, { headers });
  assert.equal(res.status, 200, await res.clone().text());
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parsePrometheusTextFormat(await res.text()) as Family[];
}

function value(families: Family[], name: string, labels: Record<string, string> = {}): number {
  const family = families.find((f) => f.name === name);
  assert.ok(family, `no metric ${name}`);
  const sample = family.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  assert.ok(sample, `no ${name} sample with ${JSON.stringify(labels)}`);
  return Number(sample.value ?? sample.count);
}

/** Scrapes until `check` holds (a session's close is counted a tick after the socket closes). */
async function scrapeUntil(server: TestServer, check: (f: Family[]) => boolean, what: string): Promise<Family[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const families = await scrape(server);
    if (check(families)) return families;
    if (Date.now() > deadline) throw new Error(`metrics never showed ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const mail = (subject: string, body = 'Hello.'): Buffer => Buffer.from(`From: app@example.test\r\nTo: bob@example.test\r\nSubject: ${subject}\r\n\r\n${body}\r\n`);

async function sendAs(port: number, user: string, pass: string, raw: Buffer): Promise<number> {
  const { client } = await RawSmtp.connect(port);
  try {
    await client.command('EHLO test.example');
    const auth = await client.command(`AUTH PLAIN ${Buffer.from(`\0${user}\0${pass}`).toString('base64')}`);
    if (auth.code !== 235) return auth.code;
    await client.command('MAIL FROM:<app@example.test>');
    await client.command('RCPT TO:<bob@example.test>');
    return (await client.data(raw)).code;
  } finally {
    await client.quit();
  }
}

describe('GET /metrics', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ maxMessages: 2, maxMessageSize: 4096, smtpAuth: 'strict', smtpUsers: new Map([['ann', 'secret']]) });
  });
  after(() => server.close());

  test('counts received, refused by reason, evicted and stored mail, SMTP sessions, parses, stream clients and waits', async () => {
    for (const subject of ['one', 'two', 'three']) assert.equal(await sendAs(server.smtpPort, 'ann', 'secret', mail(subject)), 250);
    assert.equal(await sendAs(server.smtpPort, 'ann', 'secret', mail('big', 'x'.repeat(8000))), 552);
    assert.equal(await sendAs(server.smtpPort, 'ann', 'wrong', mail('nope')), 535);

    // A full parse (the single-message view) feeds the histogram.
    const list = (await (await fetch(`${server.httpUrl}/api/messages`)).json()) as { messages: Array<{ id: string }> };
    assert.equal((await fetch(`${server.httpUrl}/api/messages/${list.messages[0]!.id}`)).status, 200);

    const ws = new WebSocket(`${server.httpUrl.replace('http', 'ws')}/api/events`);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const waiting = new AbortController();
    const wait = fetch(`${server.httpUrl}/api/wait?q=subject:never&timeout=30`, { signal: waiting.signal }).catch(() => null);

    const families = await scrapeUntil(
      server,
      (f) => value(f, 'mailpen_smtp_sessions_open') === 0 && value(f, 'mailpen_pending_waits') === 1 && value(f, 'mailpen_event_stream_clients') === 1,
      'sessions closed, one wait and one stream client',
    );
    const info = (await (await fetch(`${server.httpUrl}/api/info`)).json()) as { counts: { messages: number; bytes: number } };

    assert.equal(value(families, 'mailpen_messages_received_total'), 3);
    assert.equal(value(families, 'mailpen_messages_evicted_total'), 1);
    assert.equal(value(families, 'mailpen_messages_refused_total', { reason: 'message_too_big' }), 1);
    assert.equal(value(families, 'mailpen_messages_refused_total', { reason: 'auth_failed' }), 1);
    assert.equal(value(families, 'mailpen_stored_messages'), 2);
    assert.equal(value(families, 'mailpen_stored_bytes'), info.counts.bytes);
    assert.ok(info.counts.bytes > 0);
    assert.equal(value(families, 'mailpen_smtp_sessions_total'), 5);
    assert.ok(value(families, 'mailpen_parse_duration_seconds') >= 1, 'the parse was observed');
    const parse = families.find((f) => f.name === 'mailpen_parse_duration_seconds')!;
    assert.equal(parse.type, 'HISTOGRAM');
    assert.ok(Number(parse.metrics[0]!.buckets!['+Inf']) >= 1);
    // Process metrics come along (resident memory is what an operator graphs first).
    assert.ok(value(families, 'process_resident_memory_bytes') > 0);

    ws.close();
    waiting.abort();
    await wait;
  });

  test('names follow the Prometheus conventions: mailpen_ prefix, counters end in _total, units in the name', async () => {
    const families = (await scrape(server)).filter((f) => f.name.startsWith('mailpen_'));
    assert.ok(families.length >= 10);
    for (const f of families) {
      assert.match(f.name, /^[a-z_][a-z0-9_]*$/, f.name);
      assert.ok(f.help.length > 0, `${f.name} has help`);
      if (f.type === 'COUNTER') assert.match(f.name, /_total$/, `${f.name} is a counter`);
      else assert.doesNotMatch(f.name, /_total$/, `${f.name} is a ${f.type}`);
    }
    assert.equal(families.find((f) => f.name === 'mailpen_stored_bytes')?.type, 'GAUGE');
    assert.equal(families.find((f) => f.name === 'mailpen_parse_duration_seconds')?.type, 'HISTOGRAM');
  });

  test('webhook metrics are absent when no webhook URL is configured', async () => {
    const families = await scrape(server);
    assert.equal(families.filter((f) => f.name.startsWith('mailpen_webhook_')).length, 0);
  });
});

describe('GET /metrics behind the API checks', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ apiToken: 't0ken' });
  });
  after(() => server.close());

  test('needs the API credentials: 401 without, 200 with the bearer token', async () => {
    const refused = await fetch(`${server.httpUrl}/metrics`);
    assert.equal(refused.status, 401);
    assert.equal(((await refused.json()) as { statusCode: number }).statusCode, 401);
    const families = await scrape(server, { authorization: 'Bearer t0ken' });
    assert.ok(families.some((f) => f.name === 'mailpen_messages_received_total'));
  });

  test('refuses a DNS-rebinding Host (421) and another site reading it (403)', async () => {
    // fetch cannot set Host; inject goes through the same hooks.
    const rebinding = await server.app.inject({ url: '/metrics', headers: { host: 'evil.example', authorization: 'Bearer t0ken' } });
    assert.equal(rebinding.statusCode, 421);
    const crossSite = await fetch(`${server.httpUrl}/metrics`, {
      headers: { authorization: 'Bearer t0ken', 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors', origin: 'https://evil.example' },
    });
    assert.equal(crossSite.status, 403);
  });
});

describe('MAILPEN_METRICS=off', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ metrics: false });
  });
  after(() => server.close());

  test('/metrics answers 404 saying metrics are off, and SMTP works without the observer', async () => {
    const res = await fetch(`${server.httpUrl}/metrics`);
    assert.equal(res.status, 404);
    assert.match(((await res.json()) as { message: string }).message, /MAILPEN_METRICS=off/);
    const id = queuedId(await sendRaw(server.smtpPort, mail('still works')));
    assert.equal((await fetch(`${server.httpUrl}/api/messages/${id}`)).status, 200);
  });
});
