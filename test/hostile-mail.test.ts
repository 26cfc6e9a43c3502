// Hostile mail opened through the real UI in headless Chromium, against a real Mailpen process
// whose working directory, HOME and TMPDIR are empty directories made for this test.
//
// Every payload, if it ran, would load `<sink>/ran-<name>` (the path is assembled at run time,
// so no static reference to it exists in the mail): the sink seeing any /ran- request is proof
// of execution. Besides that: no dialog opens, neither the page nor the message frame is
// navigated, no popup opens except the control links the test clicks on purpose, the message
// frame sends nothing to the API but GETs under its own message, nothing is deleted, the
// server fetches none of the URLs in the mail (only the browser ever reaches the sink) and opens
// no outbound connection at all (a preload reports any), and it writes no file (its directories
// are still empty at the end).
//
// Needs the built UI (dist/ui): `npm test` builds it first; alone, run `npm run build:ui` once.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import type { Page, Request } from 'playwright-core';
import { launchBrowser, type TestBrowser } from './helpers/browser.js';
import { Sink } from './helpers/sink.js';
import { sendRaw, queuedId } from './helpers/smtp-client.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Mailpen as a separate process, in directories of its own. */
interface Process {
  child: ChildProcess;
  smtpPort: number;
  url: string;
  dirs: string[];
  logs: Array<Record<string, unknown>>;
  /** The process's stderr lines; test/helpers/no-outbound.mjs writes an OUTBOUND line per connection or lookup. */
  stderr: string[];
}

async function startMailpen(): Promise<Process> {
  const cwd = await mkdtemp(join(tmpdir(), 'mailpen-cwd-'));
  const home = await mkdtemp(join(tmpdir(), 'mailpen-home-'));
  const tmp = await mkdtemp(join(tmpdir(), 'mailpen-tmp-'));
  const child = spawn(
    process.execPath,
    ['--import', import.meta.resolve('./helpers/no-outbound.mjs'), '--import', import.meta.resolve('tsx'), join(ROOT, 'server/cli.ts'), '--smtp-addr', '127.0.0.1:0', '--http-addr', '127.0.0.1:0', '--log-format', 'json'],
    // tsx's own compile cache would land in TMPDIR; it is the test's loader, not the server.
    { cwd, env: { PATH: process.env.PATH, HOME: home, TMPDIR: tmp, TSX_DISABLE_CACHE: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const logs: Array<Record<string, unknown>> = [];
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line));
  const ready = new Promise<Record<string, unknown>>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`mailpen exited with ${code} before listening`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      logs.push(entry);
      if (entry.msg === 'Mailpen is listening') resolve(entry);
    });
  });
  const entry = await ready;
  return { child, smtpPort: Number(String(entry.smtp).split(':').pop()), url: String(entry.http).replace(/\/$/, ''), dirs: [cwd, home, tmp], logs, stderr };
}

/** Every file and directory under `dir`, as relative paths. */
async function listTree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries.map(String).sort();
}

const CRLF = '\r\n';

interface Attachment {
  /** Header lines of the part, Content-Type first. */
  headers: string[];
  body: string;
}

function message(subject: string, html: string, opts: { headers?: string[]; text?: string; attachments?: Attachment[] } = {}): Buffer {
  const head = [
    'From: "Hostile sender" <evil@example.test>',
    'To: dev@example.test',
    `Subject: ${subject}`,
    'Date: Tue, 04 Jun 2024 10:00:00 +0000',
    `Message-ID: <${Math.random().toString(36).slice(2)}@example.test>`,
    'MIME-Version: 1.0',
    ...(opts.headers ?? []),
  ];
  const parts: string[] = [];
  if (opts.text !== undefined) parts.push(['Content-Type: text/plain; charset=utf-8', '', opts.text].join(CRLF));
  parts.push(['Content-Type: text/html; charset=utf-8', '', html].join(CRLF));
  for (const a of opts.attachments ?? []) parts.push([...a.headers, '', a.body].join(CRLF));
  const body = parts.map((p) => `--b0undary${CRLF}${p}${CRLF}`).join('') + `--b0undary--${CRLF}`;
  return Buffer.from([...head, 'Content-Type: multipart/mixed; boundary="b0undary"', '', body].join(CRLF), 'utf8');
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('hostile mail in the real UI', () => {
  let mailpen: Process;
  let sink: Sink;
  let S: string;
  let browser: TestBrowser;
  let page: Page;
  const dialogs: string[] = [];
  const popups: string[] = [];
  const mainNavigations: string[] = [];
  /** Where the UI's message frame went: only ever a message's HTML endpoint. */
  const messageFrameNavigations: string[] = [];
  const requests: Array<{ method: string; url: string; main: boolean; type: string }> = [];
  /** Subject -> id, in the order sent. */
  const sent = new Map<string, string>();

  /** JavaScript that, if it ever runs, loads <sink>/ran-<name>. */
  const RAN = (name: string): string => `new Image().src=['${S}','ran-${name}'].join('/')`;
  const marker = (n: string): string => `<p id="marker">hostile ${n}</p>`;

  before(async () => {
    sink = new Sink();
    S = await sink.listen();
    mailpen = await startMailpen();
    browser = await launchBrowser();
    page = await browser.context.newPage();
    // Each popup (from the page or its frames) is recorded where it went, then closed: open
    // tabs would slow the browser down.
    page.on('popup', (p) => {
      void p
        .waitForLoadState('domcontentloaded')
        .catch(() => undefined)
        .then(() => {
          popups.push(p.url());
          return p.close();
        });
    });
    browser.context.on('request', (r: Request) => {
      let main = true;
      try {
        main = r.frame().parentFrame() === null;
      } catch {
        // Service-worker and popup bootstrap requests have no frame; count them as top level.
      }
      requests.push({ method: r.method(), url: r.url(), main, type: r.resourceType() });
    });
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    page.on('framenavigated', (f) => {
      if (f === page.mainFrame()) {
        // The UI's own page under another query (?m=<id>, ?q=...: its history entries for the open
        // message and search) is not a navigation away; anything else is.
        const u = new URL(f.url());
        const url = `${u.origin}` === mailpen.url && u.pathname === '/' ? `${mailpen.url}/` : f.url();
        if (mainNavigations.at(-1) !== url) mainNavigations.push(url);
      }
      else if (f.parentFrame() === page.mainFrame()) messageFrameNavigations.push(f.url());
    });

    const svgWithScript = `<svg xmlns="http://www.w3.org/2000/svg" onload="${RAN('svg-part-onload')}"><script>${RAN('svg-part-script')}</script><circle r="5"/></svg>`;
    const mails: Array<[string, Buffer]> = [
      ['H01 script', message('H01 script', [
        marker('01'),
        `<script>${RAN('script')}</script>`,
        `<script src="${S}/ext-script.js"></script>`,
        `<script type="module">${RAN('module')}</script>`,
        `<img src="x" onerror="${RAN('onerror')}">`,
      ].join(CRLF))],
      ['H02 handlers', message('H02 handlers', [
        `<body onload="${RAN('onload')}">`,
        marker('02'),
        `<svg onload="${RAN('svg-onload')}"><circle r="1"/></svg>`,
        `<input autofocus onfocus="${RAN('autofocus')}">`,
        `<details open ontoggle="${RAN('ontoggle')}"><summary>details</summary>x</details>`,
        `<div id="hover" onmouseover="${RAN('mouseover')}" onclick="${RAN('onclick')}" style="padding:20px">hover and click me</div>`,
        `<video><source onerror="${RAN('video')}"></video>`,
        `<marquee onstart="${RAN('marquee')}">m</marquee>`,
        '</body>',
      ].join(CRLF))],
      ['H03 javascript urls', message('H03 javascript urls', [
        marker('03'),
        `<a id="js" href="javascript:${RAN('js-link')}">plain</a>`,
        `<a id="js-case" href="JaVaScRiPt:${RAN('js-case')}">mixed case</a>`,
        `<a id="js-entity" href="&#106;&#97;vascript:${RAN('js-entity')}">entities</a>`,
        `<a id="js-space" href=" &#x09;javascript:${RAN('js-space')}">leading whitespace</a>`,
        `<iframe src="javascript:${RAN('js-iframe')}"></iframe>`,
        `<form><button id="js-formaction" formaction="javascript:${RAN('js-formaction')}">formaction</button></form>`,
        `<area href="javascript:${RAN('js-area')}">`,
      ].join(CRLF))],
      ['H04 data urls', message('H04 data urls', [
        marker('04'),
        `<a id="data-link" href="data:text/html;base64,${b64(`<script>${RAN('data-link')}</script>`)}">data link</a>`,
        `<iframe src="data:text/html;base64,${b64(`<script>${RAN('data-iframe')}</script>`)}"></iframe>`,
        `<object data="data:text/html;base64,${b64(`<script>${RAN('data-object')}</script>`)}"></object>`,
        `<embed src="data:image/svg+xml;base64,${b64(`<svg xmlns="http://www.w3.org/2000/svg" onload="${RAN('data-embed')}"/>`)}">`,
        `<img src="data:image/svg+xml;base64,${b64(`<svg xmlns="http://www.w3.org/2000/svg" onload="${RAN('data-img')}"/>`)}">`,
        `<iframe srcdoc="&lt;script&gt;${RAN('srcdoc')}&lt;/script&gt;"></iframe>`,
        `<meta http-equiv="refresh" content="0;url=javascript:${RAN('refresh-js')}">`,
      ].join(CRLF))],
      ['H05 svg', message('H05 svg', [
        marker('05'),
        `<svg><script>${RAN('svg-script')}</script></svg>`,
        `<svg xmlns:xlink="http://www.w3.org/1999/xlink"><a id="svg-a" xlink:href="javascript:${RAN('svg-a')}"><text x="10" y="20">svg link</text></a></svg>`,
        `<svg><animate attributeName="onload" to="${RAN('svg-animate')}"/><set attributeName="onmouseover" to="${RAN('svg-set')}"/></svg>`,
        '<img src="cid:logo.svg@hostile">',
        '<object data="cid:logo.svg@hostile"></object>',
        '<embed src="cid:logo.svg@hostile">',
        '<iframe src="cid:logo.svg@hostile"></iframe>',
      ].join(CRLF), {
        attachments: [{ headers: ['Content-Type: image/svg+xml', 'Content-ID: <logo.svg@hostile>', 'Content-Disposition: inline; filename="logo.svg"'], body: svgWithScript }],
      })],
      ['H06 meta refresh and base', message('H06 meta refresh and base', [
        `<meta http-equiv="refresh" content="0;url=${S}/meta-refresh">`,
        `<meta http-equiv="Content-Security-Policy" content="script-src * 'unsafe-inline'">`,
        `<base href="${S}/base/">`,
        marker('06'),
        '<img src="relative-via-base.png">',
        `<script>${RAN('meta-csp')}</script>`,
      ].join(CRLF))],
      ['H07 forms', message('H07 forms', [
        marker('07'),
        `<form action="${S}/form-post" method="post"><input name="a" value="b"><button id="submit-ext">send</button></form>`,
        '<form action="/api/messages" method="post" enctype="text/plain"><input name="x" value="y"><button id="submit-api">upload</button></form>',
        '<form action="/api/messages" method="get"><input name="q" value=""><button id="submit-get">list</button></form>',
        `<input id="form-input" form="f2" name="z"><form id="f2" action="${S}/form-attr"></form>`,
      ].join(CRLF))],
      ['H08 css tricks', message('H08 css tricks', [
        `<style>.x{behavior:url(${S}/htc);-moz-binding:url(${S}/xbl)} a[href^=j]{background:url(${S}/css-selector)}</style>`,
        marker('08'),
        '<div id="overlay" style="position:fixed;top:0;left:0;width:100vw;height:100vh;z-index:2147483647;background:rgba(255,0,0,.2)">overlay</div>',
        `<link rel="preload" as="script" href="${S}/preload.js">`,
        `<link rel="modulepreload" href="${S}/modulepreload.js">`,
        `<link rel="import" href="${S}/html-import">`,
        `<div style="width:expression(${RAN('expression')})">ie expression</div>`,
      ].join(CRLF))],
      ['H09 mutation xss', message('H09 mutation xss', [
        marker('09'),
        `<noscript><p title="</noscript><img src=x onerror=${RAN('mxss-noscript').replace(/ /g, '')}>"></noscript>`,
        `<math><mtext><table><mglyph><style><img src=x onerror="${RAN('mxss-math')}">`,
        `<svg></p><style><a id="</style><img src=1 onerror=${RAN('mxss-svg').replace(/ /g, '')}>">`,
        `<!--<img src="--><img src=x onerror="${RAN('mxss-comment')}">`,
        `<textarea><img src=x onerror="${RAN('textarea')}"></textarea>`,
        `<xmp><img src=x onerror="${RAN('xmp')}"></xmp>`,
      ].join(CRLF))],
      ['H10 headers', message('=?utf-8?b?' + b64(`H10 headers <img src=x onerror="${RAN('subject')}">`) + '?=', marker('10'), {
        headers: [`Reply-To: "<script>${RAN('reply-to')}</script>" <javascript:alert(1)@example.test>`, `X-Payload: <svg onload="${RAN('x-header')}">`],
        text: `Plain text with <script>${RAN('text')}</script> and <img src=x onerror="${RAN('text-img')}">`,
      })],
      ['H11 attachment names', message('H11 attachment names', marker('11') + `<img src="cid:<../../etc/passwd>"><img src="cid:javascript:${RAN('cid-js')}">`, {
        attachments: [
          { headers: ['Content-Type: text/plain', 'Content-Disposition: attachment; filename="../../x"'], body: 'dot dot slash' },
          { headers: ['Content-Type: text/plain', 'Content-Disposition: attachment; filename="a\u0000b\\..\\..\\c.txt"'], body: 'nul and backslashes' },
          { headers: ['Content-Type: text/plain', `Content-Disposition: attachment; filename="${'A'.repeat(1000)}.txt"`], body: 'very long' },
          { headers: ['Content-Type: text/plain', "Content-Disposition: attachment; filename*=utf-8''..%2F..%2F..%2Fetc%2Fpasswd"], body: 'rfc 2231 slashes' },
          { headers: ['Content-Type: text/plain', "Content-Disposition: attachment; filename*0*=utf-8''%2E%2E%2F; filename*1=\"evil%00.sh\""], body: 'rfc 2231 continuation' },
          { headers: ['Content-Type: application/octet-stream', "Content-Disposition: attachment; filename*=utf-8''invoice%E2%80%AEfdp.exe"], body: 'right-to-left override' },
          { headers: ['Content-Type: image/png', `Content-Disposition: attachment; filename*=utf-8''${encodeURIComponent(`<img src=x onerror="${RAN('filename')}">.png`)}`], body: 'not a png' },
          { headers: ['Content-Type: text/plain', `Content-Disposition: attachment; filename="=?utf-8?b?${b64('a\r\nX-Injected: 1\r\n.txt')}?="`], body: 'header injection' },
          { headers: ['Content-Type: text/plain', 'Content-ID: <../../etc/passwd>', 'Content-Disposition: inline'], body: 'content id path' },
          { headers: ['Content-Type: text/plain', `Content-ID: <javascript:${RAN('cid-js')}>`], body: 'content id javascript' },
          { headers: ['Content-Type: text/html', 'Content-Disposition: attachment; filename="page.html"'], body: `<script>${RAN('html-attachment')}</script>` },
          { headers: ['Content-Type: image/svg+xml', 'Content-Disposition: attachment; filename="image.svg"'], body: svgWithScript },
          { headers: ['Content-Type: text/javascript', 'Content-Disposition: attachment; filename="payload.js"'], body: RAN('part-as-script') },
        ],
      })],
    ];
    for (const [subject, raw] of mails) sent.set(subject, queuedId(await sendRaw(mailpen.smtpPort, raw, { to: ['dev@example.test'] })));

    await page.goto(mailpen.url);
    await page.locator('[role=option]').first().waitFor();
  });

  after(async () => {
    await browser?.close();
    mailpen?.child.kill('SIGKILL');
    await sink?.close();
    for (const d of mailpen?.dirs ?? []) await rm(d, { recursive: true, force: true });
  });

  const row = (subject: string) => page.locator('[role=option]', { hasText: subject });
  const frame = () => page.frameLocator('[data-testid=html-frame]');

  /** Opens a message in the UI and waits until its HTML has rendered in the frame. */
  async function open(subject: string, n: string): Promise<void> {
    // A page Chromium counts as a background tab gets one animation frame a second, and every
    // Playwright action waits for two (measured: the file took 42 s instead of 12).
    await page.bringToFront();
    await row(subject).click();
    await page.getByTestId('reader-subject').filter({ hasText: subject }).waitFor();
    await page.getByRole('tab', { name: 'HTML' }).click();
    await frame().locator('#marker', { hasText: `hostile ${n}` }).waitFor();
  }

  /** Clicks inside the frame; a click the sandbox refuses is what we expect, so errors are ignored. */
  async function clickInFrame(selector: string): Promise<void> {
    await frame().locator(selector).click({ timeout: 2000, force: true }).catch(() => undefined);
  }

  it('runs no script, event handler or javascript: URL, whatever the trick', async () => {
    await open('H01 script', '01');
    await open('H02 handlers', '02');
    await frame().locator('#hover').hover();
    await clickInFrame('#hover');
    await open('H03 javascript urls', '03');
    for (const id of ['#js', '#js-case', '#js-entity', '#js-space', '#js-formaction']) await clickInFrame(id);
    await open('H04 data urls', '04');
    await clickInFrame('#data-link');
    await open('H05 svg', '05');
    await clickInFrame('#svg-a');
    await open('H09 mutation xss', '09');
    await open('H10 headers', '10');
    await page.getByRole('tab', { name: 'Text' }).click();
    assert.match((await page.getByTestId('text-body').textContent()) ?? '', /<script>new Image\(\)/, 'the text body is shown as text');
    await page.getByRole('tab', { name: 'Headers' }).click();
    await page.getByRole('tab', { name: 'Source' }).click();
    await page.getByRole('tab', { name: 'HTML' }).click();
    assert.match((await page.getByTestId('reader-subject').textContent()) ?? '', /<img src=x onerror=/, 'the subject is shown as text');

    await settle('after-scripts');
    assert.deepEqual(ranPayloads(), []);
    assert.deepEqual(dialogs, []);
  });

  it('is not navigated by meta refresh or <base>, and submits no form', async () => {
    await open('H06 meta refresh and base', '06');
    await open('H07 forms', '07');
    for (const id of ['#submit-ext', '#submit-api', '#submit-get']) await clickInFrame(id);
    await frame().locator('#form-input').press('Enter').catch(() => undefined);
    await settle('after-forms');
    for (const path of ['/meta-refresh', '/form-post', '/form-attr']) assert.ok(!sink.hits.some((h) => h.startsWith(path)), `${path} was requested`);
    assert.ok(!sink.hits.some((h) => h.startsWith('/base/')), `<base href> took effect: ${sink.hits.join(' ')}`);
    assert.deepEqual(ranPayloads(), []);
    // Still the UI, and the message frame only ever showed messages' HTML.
    assert.deepEqual(mainNavigations, [`${mailpen.url}/`]);
    assert.ok(messageFrameNavigations.length >= 2);
    for (const url of messageFrameNavigations) assert.match(url, new RegExp(`^${mailpen.url}/api/messages/[A-Za-z0-9_-]+/html$`));
  });

  it('keeps CSS inside the frame: an overlay cannot cover the UI, and nothing loads as script', async () => {
    await open('H08 css tricks', '08');
    const del = page.getByRole('button', { name: 'Delete', exact: true });
    const box = (await del.boundingBox())!;
    const hit = await page.evaluate(([x, y]) => document.elementFromPoint(x!, y!)?.closest('button')?.textContent?.trim() ?? null, [box.x + box.width / 2, box.y + box.height / 2]);
    assert.equal(hit, 'Delete', 'the UI button is still what is under the pointer');
    await settle('after-css');
    for (const path of ['/preload.js', '/modulepreload.js', '/html-import', '/htc', '/xbl']) assert.ok(!sink.hits.includes(path), `${path} was loaded`);
    assert.deepEqual(ranPayloads(), []);
  });

  it('serves hostile attachment names and Content-IDs safely, and shows them as text', async () => {
    const id = sent.get('H11 attachment names')!;
    await open('H11 attachment names', '11');
    const list = page.getByTestId('attachments');
    await list.waitFor();
    assert.match((await list.textContent()) ?? '', /<img src=x onerror=/, 'a name with markup is shown as text');

    const parsed = (await (await fetch(`${mailpen.url}/api/messages/${id}`)).json()) as { parts: Array<{ partId: string; filename: string | null; contentType: string }> };
    assert.ok(parsed.parts.length >= 10, `parts: ${parsed.parts.length}`);
    for (const part of parsed.parts) {
      const res = await fetch(`${mailpen.url}/api/messages/${id}/parts/${part.partId}`);
      assert.equal(res.status, 200, `part ${part.partId}`);
      const cd = res.headers.get('content-disposition') ?? '';
      assert.equal(res.headers.get('x-injected'), null, 'no header injected through a file name');
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      const names = [...cd.matchAll(/filename\*?=(?:UTF-8'')?("?)([^";]*)\1/gi)].map((m) => decodeURIComponent(m[2]!));
      for (const name of names) {
        assert.doesNotMatch(name, /[/\\\u0000-\u001f]/, `part ${part.partId} suggests ${JSON.stringify(name)}`);
        assert.ok(name.length <= 255, `part ${part.partId} name is ${name.length} long`);
      }
      if (part.contentType === 'image/svg+xml' || part.contentType === 'text/html') {
        assert.match(cd, /^attachment/, `${part.contentType} is never served inline`);
        assert.match(res.headers.get('content-security-policy') ?? '', /sandbox/);
      }
    }

    // A download through the browser gets a plain name too.
    const link = list.getByRole('link', { name: /x$/ }).first();
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    assert.doesNotMatch(download.suggestedFilename(), /[/\\]/);
    await download.cancel().catch(() => undefined);

    // Even a script element in the UI's own document cannot load a sender's part as script: the
    // UI's CSP allows scripts from its build only.
    const js = parsed.parts.find((p) => p.contentType === 'text/javascript')!;
    const loaded = await page.evaluate(async (src) => {
      const viaElement = await new Promise<string>((resolve) => {
        const s = document.createElement('script');
        s.src = src;
        s.onload = () => resolve('loaded');
        s.onerror = () => resolve('refused');
        document.head.append(s);
      });
      const viaImport = await import(/* @vite-ignore */ src).then(() => 'loaded', () => 'refused');
      return { viaElement, viaImport };
    }, `/api/messages/${id}/parts/${js.partId}`);
    assert.deepEqual(loaded, { viaElement: 'refused', viaImport: 'refused' });

    // Opening the SVG and HTML attachments directly, as a user might, runs nothing either.
    const direct = await browser.context.newPage();
    for (const part of parsed.parts.filter((p) => p.contentType === 'image/svg+xml' || p.contentType === 'text/html')) {
      await direct.goto(`${mailpen.url}/api/messages/${id}/parts/${part.partId}`).catch(() => undefined);
    }
    await direct.close();
    await settle('after-attachments');
    assert.deepEqual(ranPayloads(), []);
  });

  it('left the store, the API and the disk untouched', async () => {
    // The message frame only ever asked for its own document and parts, and only with GET.
    const api = requests.filter((r) => r.url.startsWith(mailpen.url));
    const fromFrames = api.filter((r) => !r.main);
    assert.ok(fromFrames.length > 0, 'the frames did load from the server');
    for (const r of fromFrames) {
      assert.equal(r.method, 'GET', `${r.method} ${r.url} from a message frame`);
      assert.match(new URL(r.url).pathname, /^\/api\/messages\/[A-Za-z0-9_-]+\/(html|parts\/[^/]+|[^/]+)$/, `${r.url} from a message frame`);
    }
    for (const r of api) assert.ok(!['DELETE', 'POST', 'PUT'].includes(r.method), `${r.method} ${r.url}`);
    const list = (await (await fetch(`${mailpen.url}/api/messages`)).json()) as { total: number };
    assert.equal(list.total, sent.size, 'every message is still there');

    // Every URL in these messages points at the sink; the server listed them and fetched none.
    for (const id of sent.values()) assert.equal((await fetch(`${mailpen.url}/api/messages/${id}/links`)).status, 200);
    assert.ok(sink.hits.length > 0);
    assert.deepEqual([...new Set(sink.agents.filter((a) => !/Chrome\//.test(a)))], [], 'only the browser ever contacted the sink');
    // Nor any other host: the process (its parse workers included) opened no connection and looked up no name.
    const outbound = mailpen.stderr.filter((l) => l.startsWith('OUTBOUND') && !/: ipc .*\/tsx-\d+\/\d+\.pipe$/.test(l));
    assert.deepEqual(outbound, [], 'the server opened no outbound connection');

    assert.deepEqual(dialogs, []);
    assert.deepEqual(mainNavigations, [`${mailpen.url}/`]);
    const controls = popups.filter((u) => u.includes('/control-'));
    assert.deepEqual(popups.filter((u) => !controls.includes(u) && u !== 'about:blank'), [], 'no popup but the control links');
    for (const dir of mailpen.dirs) assert.deepEqual(await listTree(dir), [], `the server wrote into ${dir}`);
    assert.deepEqual(mailpen.logs.filter((l) => Number(l.level) >= 50), [], 'no error in the server log');
    assert.equal((await fetch(`${mailpen.url}/healthz`)).status, 200);
  });

  /** Every /ran- path the sink saw: each one is a payload that executed. */
  function ranPayloads(): string[] {
    return sink.hits.filter((h) => h.startsWith('/ran-'));
  }

  /**
   * Gives whatever the payloads started time to reach the sink: a control link in a fresh
   * message opens a new tab that the sink sees, after every earlier click was handled.
   */
  async function settle(name: string): Promise<void> {
    const raw = message(`Control ${name}`, `<p id="marker">hostile control-${name}</p><a id="control" href="${S}/control-${name}">control</a>`);
    sent.set(`Control ${name}`, queuedId(await sendRaw(mailpen.smtpPort, raw)));
    await open(`Control ${name}`, `control-${name}`);
    await frame().locator('#control').click();
    await sink.waitFor(`/control-${name}`);
  }
});
