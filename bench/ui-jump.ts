/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// One-off measure: with N messages stored (100,000 by default), the time from dragging the list's
// scrollbar to a position (setting scrollTop) to every row in view showing its message, in
// headless Chromium. Run from the repository root after `npm run build:ui`:
//   node --import tsx bench/ui-jump.ts [count]
// To compare with another version, export that version's tree (git archive <commit> | tar -x -C
// DIR), link node_modules, build its UI there and run this same file from DIR.
import { startTestServer } from '../test/helpers/server.js';
import { launchBrowser } from '../test/helpers/browser.js';

const ROW = 68;
const count = Number(process.argv[2] ?? 100_000);

const server = await startTestServer({ maxMessages: 0, maxBytes: 0 });
const envelope = { mailFrom: 'bulk@example.test', rcptTo: ['bob@example.test'], helo: 'bench', remoteAddress: '127.0.0.1', authUser: null, tls: false };
for (let n = 0; n < count; n++) {
  const raw = Buffer.from(`From: bulk@example.test\r\nTo: bob@example.test\r\nSubject: Bulk ${n}\r\n\r\nBody ${n}.\r\n`);
  server.store.add({ raw, inbox: 'default', envelope });
}
await server.store.settled();
const browser = await launchBrowser();
try {
  for (const fraction of [0.5, 0.25, 0.75, 0.999]) {
    const samples: number[] = [];
    for (let round = 0; round < 3; round++) {
      const page = await browser.context.newPage();
      await page.goto(server.httpUrl);
      await page.waitForSelector('[data-testid="message-list"] [role="option"]');
      const target = Math.floor(count * fraction);
      const t0 = performance.now();
      await page.getByTestId('message-list').evaluate((el, top) => {
        el.scrollTop = top;
      }, target * ROW);
      // Every row in view is a loaded message, and the one at the target position is the right one.
      await page.waitForFunction(
        ([index, subject]) => {
          const viewport = document.querySelector('[data-testid=message-list]')!;
          const view = viewport.getBoundingClientRect();
          for (const el of viewport.querySelectorAll('.row')) {
            const box = el.getBoundingClientRect();
            if (box.bottom > view.top && box.top < view.bottom && el.classList.contains('placeholder')) return false;
          }
          const row = viewport.querySelector(`[aria-posinset="${index + 1}"] .subject`);
          return row !== null && row.textContent!.endsWith(subject);
        },
        [target, `Bulk ${count - 1 - target}`] as const,
        { timeout: 60_000, polling: 'raf' },
      );
      samples.push(performance.now() - t0);
      await page.close();
    }
    samples.sort((a, b) => a - b);
    console.log(`${count} messages, jump to ${(fraction * 100).toFixed(1)}%: ${samples.map((s) => s.toFixed(0)).join(', ')} ms (median ${samples[1]!.toFixed(0)})`);
  }
} finally {
  await browser.close();
  await server.close();
}
