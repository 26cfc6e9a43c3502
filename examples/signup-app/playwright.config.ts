// The sign-up example's Playwright configuration: several workers, each test with its own Mailpen
// inbox (mailpen/playwright). Mailpen runs at MAILPEN_URL (default http://127.0.0.1:8025, e.g.
// `npm start` in this repository); the app is started here unless APP_URL points at a running one.
// test/playwright-example.test.ts runs it in CI against a Mailpen on a free port.
import { defineConfig } from '@playwright/test';

const appUrl = process.env.APP_URL ?? 'http://127.0.0.1:3000';

export default defineConfig({
  testDir: './tests',
  fullyParallel: true,
  workers: 3,
  forbidOnly: true,
  outputDir: process.env.PLAYWRIGHT_OUTPUT_DIR ?? 'test-results',
  use: {
    baseURL: appUrl,
    // Debian's Chromium (npx playwright install needs the network); set CHROMIUM_PATH elsewhere,
    // or remove launchOptions to use Playwright's own browsers.
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    },
  },
  webServer: process.env.APP_URL
    ? undefined
    : {
        command: 'node server.mjs',
        url: appUrl,
        env: { TEST_MODE: '1', PORT: '3000' },
        reuseExistingServer: true,
      },
});
