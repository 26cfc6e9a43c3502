// Scenario 6: with 100,000 messages stored, the time from navigation to the first message rows
// shown, in headless Chromium (Debian's, driven by playwright-core). Fresh page each time; the
// first load has a cold browser cache, the others do not.
import { existsSync } from 'node:fs';
import { launchBrowser, CHROMIUM } from '../../test/helpers/browser.js';
import { loadedMailpen } from '../loaded.js';
import { fmt, percentiles, type RunConfig, type ScenarioResult } from '../report.js';

const ROW = '[data-testid="message-list"] [role="option"]';

export async function ui(run: RunConfig): Promise<ScenarioResult> {
  if (!existsSync(CHROMIUM)) {
    return { rows: [{ scenario: 'UI', figure: 'first rows', value: `no Chromium at ${CHROMIUM}`, target: '≤ 1 s', met: null }], figures: { skipped: 'no chromium' } };
  }
  const count = run.small ? 10_000 : 100_000;
  const loaded = await loadedMailpen(count);
  await loaded.target.settled();
  const browser = await launchBrowser();
  try {
    const samples: number[] = [];
    for (let i = 0; i < (run.small ? 3 : 7); i++) {
      const page = await browser.context.newPage();
      const t0 = performance.now();
      await page.goto(`http://127.0.0.1:${loaded.target.http}/`, { waitUntil: 'commit' });
      await page.waitForSelector(ROW, { state: 'visible', timeout: 30_000 });
      samples.push(performance.now() - t0);
      const shown = await page.locator(ROW).count();
      if (shown === 0) throw new Error('no rows shown');
      await page.close();
    }
    const p = percentiles(samples);
    run.log(`ui: first rows ${samples.map((s) => fmt(s, 0)).join(', ')} ms`);
    const full = count === 100_000;
    return {
      rows: [
        { scenario: `UI at ${count / 1000}k`, figure: 'navigation → first rows, cold', value: `${fmt(samples[0]!, 0)} ms`, target: '≤ 1 s', met: full ? samples[0]! <= 1000 : null },
        { scenario: `UI at ${count / 1000}k`, figure: 'navigation → first rows, p50', value: `${fmt(p.p50, 0)} ms`, target: '≤ 1 s', met: full ? p.p50 <= 1000 : null },
      ],
      figures: { count, samples, ...p },
    };
  } finally {
    await browser.close();
  }
}
