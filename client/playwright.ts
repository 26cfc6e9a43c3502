// mailpen/playwright: a @playwright/test fixture that gives each test its own inbox. The app under
// test sends with `inbox.smtp` (the AUTH user names the inbox) or, when Mailpen routes by recipient,
// to `inbox.address('bob')` with its own SMTP settings; the test waits with
// `inbox.waitFor({ subject })` and gets the message with its links and codes; the inbox is
// emptied after the test. Parallel workers and tests never see each other's mail.
import { test as base, expect } from '@playwright/test';
import { MailpenClient, type ClientOptions, type Inbox } from './index.js';

export type * from './index.js';
export { MailpenClient, MailpenError, MailpenTimeoutError, Inbox, createClient } from './index.js';

export interface MailpenFixtures {
  /** A client for the whole API (default address: MAILPEN_URL, else http://127.0.0.1:8025). */
  mailpen: MailpenClient;
  /** This test's own inbox, emptied after the test. */
  inbox: Inbox;
}

export interface MailpenOptions {
  /** Client settings, e.g. `test.use({ mailpenOptions: { baseUrl: 'http://mailpen:8025' } })`. */
  mailpenOptions: ClientOptions;
  /** Leave a failed test's mail in Mailpen to look at in the UI. Default false. */
  mailpenKeepFailed: boolean;
}

export const test = base.extend<MailpenFixtures & MailpenOptions>({
  mailpenOptions: [{}, { option: true }],
  mailpenKeepFailed: [false, { option: true }],
  mailpen: async ({ mailpenOptions }, use) => {
    await use(new MailpenClient(mailpenOptions));
  },
  inbox: async ({ mailpen, mailpenKeepFailed }, use, testInfo) => {
    const inbox = await mailpen.inbox({ prefix: `pw${testInfo.workerIndex}` });
    await use(inbox);
    if (mailpenKeepFailed && testInfo.status !== testInfo.expectedStatus) return;
    await inbox.clear();
  },
});

export { expect };
