// Takes docs/inbox.png and docs/inbox-phone.png, the README's pictures of the inbox: a real
// Mailpen on free ports, a few messages sent over SMTP by nodemailer, the page in headless
// Chromium with one message open, on a desktop and on a phone.
// Run with `npm run screenshot` (builds the UI first).
import { fileURLToPath } from 'node:url';
import nodemailer from 'nodemailer';
import { startTestServer } from '../test/helpers/server.js';
import { launchBrowser } from '../test/helpers/browser.js';

const OUT = fileURLToPath(new URL('./inbox.png', import.meta.url));
const OUT_PHONE = fileURLToPath(new URL('./inbox-phone.png', import.meta.url));

const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP4z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==',
  'base64',
);

const WELCOME_HTML = `<!doctype html>
<html><body style="margin:0;background:#f4f6fb;font-family:Helvetica,Arial,sans-serif">
<table width="100%" cellpadding="0" cellspacing="0"><tr><td align="center" style="padding:32px 12px">
<table width="520" cellpadding="0" cellspacing="0" style="background:#ffffff;border-radius:10px;padding:32px">
<tr><td>
<h1 style="margin:0 0 12px;color:#1b2a4a;font-size:24px">Welcome to Acme, Ada!</h1>
<p style="color:#3d4a63;font-size:15px;line-height:1.5">Thanks for signing up. Confirm your address to finish setting up your account.</p>
<p style="text-align:center;margin:28px 0"><a href="https://app.acme.test/confirm?token=7f3a9c" style="background:#2457c5;color:#fff;padding:12px 22px;border-radius:6px;text-decoration:none;font-weight:bold">Confirm my email</a></p>
<p style="color:#7a8499;font-size:13px">If you did not sign up, ignore this message.</p>
</td></tr></table></td></tr></table></body></html>`;

async function main(): Promise<void> {
  const server = await startTestServer();
  const send = (auth: string | null) =>
    nodemailer.createTransport({
      host: '127.0.0.1',
      port: server.smtpPort,
      secure: false,
      ignoreTLS: true,
      ...(auth ? { auth: { user: auth, pass: 'secret' } } : {}),
    });
  const app = send(null);
  const staging = send('staging');
  const mails: [nodemailer.Transporter, nodemailer.SendMailOptions][] = [
    [app, { from: 'Acme Billing <billing@acme.test>', to: 'ada@example.test', subject: 'Your invoice #10452', text: 'Your invoice for November is attached. Amount due: 49.00 EUR.', attachments: [{ filename: 'invoice-10452.pdf', content: Buffer.from('%PDF-1.4\n'), contentType: 'application/pdf' }] }],
    [staging, { from: 'Acme Staging <noreply@staging.acme.test>', to: 'qa@example.test', subject: '[staging] Nightly export finished', text: '3 files exported, 0 errors.' }],
    [app, { from: 'Acme Security <security@acme.test>', to: 'ada@example.test', subject: 'New sign-in from Firefox on Linux', text: 'We noticed a new sign-in to your account. If this was you, there is nothing to do.' }],
    [app, { from: 'Acme Team <team@acme.test>', to: 'grace@example.test', cc: 'ops@example.test', subject: 'Grace invited you to the Acme workspace', text: 'Grace Hopper invited you to join the Acme workspace. Accept the invitation to get started.', attachments: [{ filename: 'team.png', content: PNG }] }],
    [app, { from: 'Acme Accounts <accounts@acme.test>', to: 'ada@example.test', subject: 'Reset your password', text: 'Someone asked to reset your password. Use this link within 30 minutes: https://app.acme.test/reset?token=c0ffee' }],
    [app, { from: 'Acme <hello@acme.test>', to: 'ada@example.test', bcc: 'audit@acme.test', subject: 'Welcome to Acme, Ada!', text: 'Thanks for signing up. Confirm your address: https://app.acme.test/confirm?token=7f3a9c', html: WELCOME_HTML }],
  ];
  for (const [transport, mail] of mails) await transport.sendMail(mail);
  app.close();
  staging.close();

  const chromium = await launchBrowser({ width: 1280, height: 760 });
  try {
    const page = await chromium.context.newPage();
    await page.goto(server.httpUrl);
    await page.getByTestId('connection').filter({ hasText: 'Live' }).waitFor();
    await page.locator('[role=option]', { hasText: 'Reset your password' }).click();
    await page.getByTestId('reader-subject').filter({ hasText: 'Reset your password' }).waitFor();
    await page.locator('[role=option]', { hasText: 'Welcome to Acme' }).click();
    await page.frameLocator('[data-testid=html-frame]').locator('h1').waitFor();
    await page.waitForFunction(() => document.querySelectorAll('[role=option].unread').length === 4);
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await page.screenshot({ path: OUT });
    console.log(`wrote ${OUT}`);

    // A phone: the list, then (linked by its URL) the message, side by side in one picture is
    // not how a phone shows it; the reader is the one worth seeing.
    const phone = await chromium.context.newPage();
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.goto(page.url());
    await phone.getByTestId('connection').filter({ hasText: 'Live' }).waitFor();
    await phone.frameLocator('[data-testid=html-frame]').locator('h1').waitFor();
    await phone.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await phone.screenshot({ path: OUT_PHONE });
    console.log(`wrote ${OUT_PHONE}`);
  } finally {
    await chromium.close();
    await server.close();
  }
}

await main();
