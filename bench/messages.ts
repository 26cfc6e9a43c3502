// The messages the benchmark sends: generated, deterministic, each one distinct, so that a
// search can look for a word that only one message carries.

/** Words for the bodies: common enough that a free-text search has to look at every body. */
const WORDS = (
  'the order your account was shipped today please confirm address invoice payment team support ' +
  'welcome reset password link expires hours thanks regards update profile settings notification ' +
  'delivery tracking number receipt subscription renewal monthly plan upgrade billing customer review'
).split(' ');

/** A small deterministic PRNG (mulberry32): the same run sends the same bytes (test/phrase.test.ts uses it too). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The word only message `i` carries in its body, for the free-text search (no other word contains it). */
export function bodyToken(i: number): string {
  return `zq${i}x`;
}

export function recipientOf(i: number): string {
  return `user${i % 1000}@example.test`;
}

/** A plain-text message of about `size` bytes (headers included), CRLF line ends. */
export function textMessage(i: number, size = 2048): Buffer {
  const rand = prng(i + 1);
  const to = recipientOf(i);
  const head =
    `From: "Shop ${i % 50}" <noreply${i % 50}@shop.example>\r\n` +
    `To: <${to}>\r\n` +
    `Subject: Your order ${i} has shipped\r\n` +
    `Date: ${new Date(Date.UTC(2026, 0, 1) + i * 1000).toUTCString()}\r\n` +
    `Message-ID: <${i}.bench@shop.example>\r\n` +
    'MIME-Version: 1.0\r\n' +
    'Content-Type: text/plain; charset=utf-8\r\n' +
    'Content-Transfer-Encoding: 7bit\r\n' +
    '\r\n';
  const lines: string[] = [`Hello, order ${i} reference ${bodyToken(i)}.`];
  let length = head.length + lines[0]!.length + 2;
  let line = '';
  while (length < size) {
    const word = WORDS[Math.floor(rand() * WORDS.length)]!;
    line += (line ? ' ' : '') + word;
    if (line.length > 70) {
      lines.push(line);
      length += line.length + 2;
      line = '';
    }
  }
  const text = head + lines.join('\r\n') + '\r\n';
  return Buffer.from(text.slice(0, Math.max(size, head.length + 10) - 2) + '\r\n', 'latin1');
}

/** A multipart message of about `size` bytes: a short text part and a base64 attachment. */
export function messageWithAttachment(i: number, size: number): Buffer {
  const boundary = `bench-${i}-boundary`;
  const head =
    `From: <reports@app.example>\r\n` +
    `To: <${recipientOf(i)}>\r\n` +
    `Subject: Report ${i} attached\r\n` +
    `Date: ${new Date(Date.UTC(2026, 0, 1) + i * 1000).toUTCString()}\r\n` +
    `Message-ID: <${i}.large@app.example>\r\n` +
    'MIME-Version: 1.0\r\n' +
    `Content-Type: multipart/mixed; boundary="${boundary}"\r\n` +
    '\r\n' +
    `--${boundary}\r\n` +
    'Content-Type: text/plain; charset=utf-8\r\n\r\n' +
    `Report ${i} is attached.\r\n` +
    `--${boundary}\r\n` +
    `Content-Type: application/octet-stream; name="report-${i}.bin"\r\n` +
    'Content-Transfer-Encoding: base64\r\n' +
    `Content-Disposition: attachment; filename="report-${i}.bin"\r\n\r\n`;
  const tail = `\r\n--${boundary}--\r\n`;
  // base64 lines of 76 characters + CRLF carry 57 bytes each.
  const lineCount = Math.max(1, Math.floor((size - head.length - tail.length) / 78));
  const payload = Buffer.alloc(lineCount * 57);
  const rand = prng(i + 7);
  for (let p = 0; p < payload.length; p += 4) payload.writeUInt32LE(Math.floor(rand() * 0xffffffff), Math.min(p, payload.length - 4));
  const b64 = payload.toString('base64');
  const lines: string[] = [];
  for (let p = 0; p < b64.length; p += 76) lines.push(b64.slice(p, p + 76));
  return Buffer.from(head + lines.join('\r\n') + tail, 'latin1');
}

/**
 * The bytes on the wire for a message: dot-stuffed, then the CRLF.CRLF terminator. The
 * generated messages have no line starting with a dot except by accident, so this is cheap.
 */
export function onWire(raw: Buffer): Buffer {
  const text = raw.toString('latin1');
  const stuffed = text.startsWith('.') ? '.' + text : text;
  const body = stuffed.replace(/\r\n\./g, '\r\n..');
  return Buffer.from(body.endsWith('\r\n') ? body + '.\r\n' : body + '\r\n.\r\n', 'latin1');
}
