// The cross-site refusal must hold for every spelling of a protected path. It read the raw URL
// for "/api/" while the router decodes it: `/%61pi/wait` reached the wait route from a
// cross-site frame, and a page on another origin read a reset token by the wait's timing. Every
// path that reaches an API route without browser headers must be refused (403) with a
// third-party page's headers, however it is spelled; nothing the router does not serve may answer
// with API data either. Raw sockets, so the request target goes out exactly as written.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startTestServer, type TestServer } from './helpers/server.js';

interface Answer {
  status: number;
  contentType: string;
}

function rawGet(port: number, target: string, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      const head = text.indexOf('\r\n\r\n');
      if (head < 0) return;
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      const contentType = /\r\ncontent-type: *([^\r\n]*)/i.exec(text.slice(0, head))?.[1] ?? '';
      socket.destroy();
      resolve({ status, contentType });
    });
    socket.on('error', reject);
    const lines = [`GET ${target} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  });
}

/** What a third-party page makes Chromium send: a frame navigation, an image, a no-cors fetch. */
const THIRD_PARTY: Record<string, Record<string, string>> = {
  'a cross-site frame navigation': { 'Sec-Fetch-Site': 'cross-site', 'Sec-Fetch-Mode': 'navigate', 'Sec-Fetch-Dest': 'iframe' },
  'a same-site top-level navigation': { 'Sec-Fetch-Site': 'same-site', 'Sec-Fetch-Mode': 'navigate', 'Sec-Fetch-Dest': 'document' },
  'a cross-site image': { 'Sec-Fetch-Site': 'cross-site', 'Sec-Fetch-Mode': 'no-cors', 'Sec-Fetch-Dest': 'image' },
  'a cross-site script': { 'Sec-Fetch-Site': 'cross-site', 'Sec-Fetch-Mode': 'no-cors', 'Sec-Fetch-Dest': 'script' },
};

/** Every way to write `path` that a router or a normalizing client might take for it. */
function spellings(path: string): string[] {
  const [p, query] = path.split('?') as [string, string | undefined];
  const q = query === undefined ? '' : `?${query}`;
  const out = new Set<string>();
  const hex = (c: string, upper: boolean): string => {
    const h = c.charCodeAt(0).toString(16).padStart(2, '0');
    return `%${upper ? h.toUpperCase() : h}`;
  };
  // Each letter percent-encoded on its own, in both cases of hex, and all of them at once.
  for (let i = 0; i < p.length; i++) {
    if (!/[a-z]/i.test(p[i]!)) continue;
    for (const upper of [false, true]) out.add(p.slice(0, i) + hex(p[i]!, upper) + p.slice(i + 1) + q);
  }
  out.add([...p].map((c) => (/[a-z]/i.test(c) ? hex(c, false) : c)).join('') + q);
  // Slashes encoded, doubled, and dot segments.
  out.add(p.replace(/\//g, '%2F') + q);
  out.add(p.replace(/\/(?=[^/]*$)/, '%2f') + q);
  out.add(p.replace(/\//g, '//') + q);
  out.add(`/${p}${q}`);
  out.add(`/x/..${p}${q}`);
  out.add(`/.${p}${q}`);
  out.add(p.replace(/\//g, '/./') + q);
  out.add(`/x/%2e%2e${p}${q}`);
  // Case, and characters after the path.
  out.add(p.toUpperCase() + q);
  out.add(p.replace('/api/', '/API/') + q);
  for (const tail of ['/', ';', ';x', '%20', '%00', '#', '%23', '.', '..', '/.']) out.add(`${p}${tail}${q}`);
  // Absolute-form targets, naming us or another host.
  out.add(`http://127.0.0.1${p}${q}`);
  out.add(`http://evil.test${p}${q}`);
  out.add(`//evil.test${p}${q}`);
  return [...out];
}

describe('cross-site refusal under every spelling of a protected path', () => {
  let server: TestServer;
  let port: number;
  let id: string;
  before(async () => {
    server = await startTestServer();
    port = server.http.port;
    id = server.store.add({ raw: Buffer.from('Subject: reset token 123456\r\n\r\nhttps://app.test/reset?t=secret\r\n'), inbox: 'default', envelope: { mailFrom: 'a@example.test', rcptTo: ['b@example.test'], helo: 'x', remoteAddress: '127.0.0.1', authUser: null, tls: false } }).id;
  });
  after(() => server.close());

  const PROTECTED = () => [
    '/api/wait?after=0&timeout=1',
    '/api/messages',
    `/api/messages/${id}`,
    `/api/messages/${id}/raw`,
    `/api/messages/${id}/html`,
    `/api/messages/${id}/links`,
    '/api/inboxes',
    '/api/info',
    '/api/openapi.json',
  ];

  it('never answers a third-party request with API data, however the path is spelled', async () => {
    let reachedApi = 0;
    for (const path of PROTECTED()) {
      for (const target of spellings(path)) {
        const plain = await rawGet(port, target, {});
        const servedByApi = plain.status !== 404 && plain.contentType.startsWith('application/json') || plain.contentType.startsWith('message/rfc822');
        if (servedByApi && plain.status < 400) reachedApi++;
        for (const [who, headers] of Object.entries(THIRD_PARTY)) {
          const answer = await rawGet(port, target, headers);
          const leaked = (answer.status < 400 || answer.status === 408) && (answer.contentType.startsWith('application/json') || answer.contentType.startsWith('message/rfc822'));
          assert.ok(!leaked, `${who} to ${target} got ${answer.status} ${answer.contentType}`);
          if (servedByApi && plain.status < 400) assert.equal(answer.status, 403, `${who} to ${target} (an API route without browser headers) got ${answer.status}`);
        }
      }
    }
    // The spellings do reach the API (the router decodes): the refusals above are not vacuous.
    assert.ok(reachedApi > 50, `only ${reachedApi} spellings reached an API route`);
  });

  it('answers 400 to an absolute-form request target, whatever host it names', async () => {
    for (const target of ['http://127.0.0.1/api/messages', 'http://evil.test/api/messages', 'https://evil.test/api/wait?after=0']) {
      assert.equal((await rawGet(port, target, {})).status, 400, target);
    }
  });

  it('still lets a cross-site navigation open the UI and a cross-site image load a part', async () => {
    const nav = await rawGet(port, '/', THIRD_PARTY['a cross-site frame navigation']!);
    assert.equal(nav.status, 200);
    assert.match(nav.contentType, /^text\/html/);
    const withImage = server.store.add({
      raw: Buffer.from('Content-Type: multipart/related; boundary=b\r\n\r\n--b\r\nContent-Type: text/html\r\n\r\n<img src="cid:i@x">\r\n--b\r\nContent-Type: image/png\r\nContent-ID: <i@x>\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--b--\r\n'),
      inbox: 'default',
      envelope: { mailFrom: 'a@example.test', rcptTo: ['b@example.test'], helo: 'x', remoteAddress: '127.0.0.1', authUser: null, tls: false },
    }).id;
    const detail = (await (await fetch(`${server.httpUrl}/api/messages/${withImage}`)).json()) as { parts: Array<{ partId: string; contentType: string }> };
    const png = detail.parts.find((p) => p.contentType === 'image/png');
    assert.ok(png, JSON.stringify(detail.parts));
    const image = await rawGet(port, `/api/messages/${withImage}/parts/${png.partId}`, THIRD_PARTY['a cross-site image']!);
    assert.equal(image.status, 200);
  });
});
