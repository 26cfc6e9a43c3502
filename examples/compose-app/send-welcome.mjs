// The "app under test" of docker-compose.yml: signs a user up and sends the welcome mail over
// SMTP to whatever SMTP_HOST names, here the mailpen service. Plain Node (no npm install), so the
// example runs on the stock node image; a real app would use its mail library (Nodemailer etc.).
import net from 'node:net';

const host = process.env.SMTP_HOST ?? 'localhost';
const port = Number(process.env.SMTP_PORT ?? 1025);
const to = process.env.SIGNUP_EMAIL ?? 'new.user@example.test';

const message = [
  'From: Example App <no-reply@app.example.test>',
  `To: ${to}`,
  'Subject: Welcome to Example App',
  `Date: ${new Date().toUTCString()}`,
  `Message-ID: <${Date.now()}@app.example.test>`,
  'Content-Type: text/plain; charset=utf-8',
  '',
  'Confirm your address: https://app.example.test/confirm?token=abc123',
  '',
].join('\r\n');

const socket = net.connect({ host, port });
socket.setEncoding('utf8');
// One command per reply, in order; DATA's content goes after its 354.
const script = [
  'EHLO app.example.test',
  'MAIL FROM:<no-reply@app.example.test>',
  `RCPT TO:<${to}>`,
  'DATA',
  message.replace(/^\./gm, '..') + '.',
  'QUIT',
];
let pending = '';
socket.on('data', (chunk) => {
  pending += chunk;
  let end;
  while ((end = pending.indexOf('\r\n')) >= 0) {
    const line = pending.slice(0, end);
    pending = pending.slice(end + 2);
    if (line[3] === '-') continue;
    console.log(`S: ${line}`);
    if (!/^[23]/.test(line)) {
      console.error(`the mail server refused: ${line}`);
      process.exit(1);
    }
    const next = script.shift();
    if (next === undefined) return;
    console.log(`C: ${next.split('\r\n')[0]}`);
    socket.write(next + '\r\n');
  }
});
socket.on('error', (err) => {
  console.error(`cannot reach the mail server at ${host}:${port}: ${err.message}`);
  process.exit(1);
});
socket.on('close', () => {
  if (script.length > 0) {
    console.error('the mail server closed the connection early');
    process.exit(1);
  }
  console.log(`welcome mail sent to ${to}; open http://localhost:8025 to see it`);
});
