// A tiny application under test: a sign-up page that sends a confirmation mail over SMTP, with a
// link to follow and a code to type. Run: SMTP_URL=smtp://127.0.0.1:1025 node server.mjs
//
// For tests it takes its SMTP settings per request from the X-Test-SMTP header when started with
// TEST_MODE=1: each Playwright test hands it the settings of its own Mailpen inbox
// (mailpen/playwright's `inbox.smtp.url`), so parallel tests never read each other's mail. A real
// application would read them from its configuration; nothing else here is test-specific.
import http from 'node:http';
import { randomBytes, randomInt } from 'node:crypto';
import nodemailer from 'nodemailer';

const SMTP_URL = process.env.SMTP_URL ?? 'smtp://127.0.0.1:1025';
const TEST_MODE = process.env.TEST_MODE === '1';
const PORT = Number(process.env.PORT ?? 3000);

/** Pending sign-ups by token, and by code for the code form. */
const pending = new Map();

const page = (title, body) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body><main>${body}</main></body></html>`;
const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function readForm(req) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 10_000) throw new Error('form too large');
  }
  return new URLSearchParams(body);
}

async function sendConfirmation(req, { name, email, token, code }) {
  const smtpUrl = TEST_MODE && typeof req.headers['x-test-smtp'] === 'string' ? req.headers['x-test-smtp'] : SMTP_URL;
  // ignoreTLS: Mailpen's STARTTLS (when on) has a self-signed certificate.
  const transport = nodemailer.createTransport(`${smtpUrl}?ignoreTLS=true`);
  const link = `http://${req.headers.host}/confirm?token=${token}`;
  try {
    await transport.sendMail({
      from: '"Signup App" <no-reply@signup.test>',
      to: `"${name}" <${email}>`,
      subject: 'Confirm your account',
      text: `Hi ${name},\n\nConfirm your account: ${link}\n\nOr enter your confirmation code: ${code}\n`,
      html: `<p>Hi ${escape(name)},</p><p><a href="${link}">Confirm your account</a></p><p>Or enter your confirmation code:</p><p style="font-size:28px">${code}</p>`,
    });
  } finally {
    transport.close();
  }
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://app');
  const send = (status, html) => res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' }).end(html);
  try {
    if (req.method === 'GET' && url.pathname === '/') {
      return send(
        200,
        page(
          'Sign up',
          `<h1>Sign up</h1><form method="post" action="/signup">
            <label>Name <input name="name" required></label>
            <label>Email <input name="email" type="email" required></label>
            <button>Sign up</button></form>`,
        ),
      );
    }
    if (req.method === 'POST' && url.pathname === '/signup') {
      const form = await readForm(req);
      const signup = { name: form.get('name') ?? '', email: form.get('email') ?? '', token: randomBytes(16).toString('hex'), code: String(randomInt(100000, 1000000)) };
      pending.set(signup.token, signup);
      await sendConfirmation(req, signup);
      return send(
        200,
        page(
          'Check your inbox',
          `<h1>Check your inbox</h1><p>We sent a confirmation to ${escape(signup.email)}.</p>
          <form method="post" action="/verify"><input type="hidden" name="token" value="${signup.token}">
          <label>Confirmation code <input name="code" inputmode="numeric" required></label><button>Confirm</button></form>`,
        ),
      );
    }
    if (req.method === 'POST' && url.pathname === '/verify') {
      const form = await readForm(req);
      const signup = pending.get(form.get('token'));
      if (!signup || signup.code !== form.get('code')) return send(400, page('Wrong code', '<h1>Wrong code</h1>'));
      pending.delete(signup.token);
      return send(200, page('Welcome', `<h1>Welcome, ${escape(signup.name)}!</h1><p>Your account is confirmed.</p>`));
    }
    if (req.method === 'GET' && url.pathname === '/confirm') {
      const signup = pending.get(url.searchParams.get('token'));
      if (!signup) return send(404, page('Unknown link', '<h1>This link is not valid</h1>'));
      pending.delete(signup.token);
      return send(200, page('Welcome', `<h1>Welcome, ${escape(signup.name)}!</h1><p>Your account is confirmed.</p>`));
    }
    send(404, page('Not found', '<h1>Not found</h1>'));
  } catch (err) {
    send(500, page('Error', `<h1>Error</h1><pre>${escape(err.message)}</pre>`));
  }
});

server.listen(PORT, '127.0.0.1', () => {
  console.log(`signup-app listening on http://127.0.0.1:${server.address().port}`);
});
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
