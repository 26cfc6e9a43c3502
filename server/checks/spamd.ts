// SpamAssassin's score for a message, asked of a spamd the operator runs (MAILPEN_SPAMD_ADDR), over
// spamd's own protocol (SPAMC/1.5: one request, one answer, one connection). Mailpen connects to
// nothing else, and to this only when it is configured. REPORT is asked for rather than SYMBOLS:
// its table carries each rule's points and description, SYMBOLS only the names.
import { connect } from 'node:net';
import type { HostPort } from '../config.js';

/** A spamd that has not answered by then is reported as not answering. */
export const SPAMD_TIMEOUT_MS = 20_000;
/** Larger messages are not sent (spamc's own default limit is 500 KB; spam is rarely larger). */
export const SPAMD_MAX_BYTES = 2 * 1024 * 1024;
/** An answer larger than this is not a spamd report. */
const MAX_ANSWER = 1024 * 1024;

export interface SpamRule {
  name: string;
  score: number;
  description: string;
}

export type SpamResult =
  | { status: 'checked'; isSpam: boolean; score: number; threshold: number; rules: SpamRule[] }
  | { status: 'not-configured'; reason: string }
  | { status: 'error'; error: string };

export interface SpamdOptions {
  address: HostPort;
  timeoutMs?: number;
}

export function spamCheck(raw: Buffer, { address, timeoutMs = SPAMD_TIMEOUT_MS }: SpamdOptions): Promise<SpamResult> {
  const where = `${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`;
  if (raw.length > SPAMD_MAX_BYTES) {
    return Promise.resolve({ status: 'error', error: `the message is larger than ${SPAMD_MAX_BYTES / 1024 / 1024} MB and was not sent to spamd` });
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (result: SpamResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const socket = connect({ host: address.host, port: address.port });
    const timer = setTimeout(() => finish({ status: 'error', error: `spamd at ${where} did not answer within ${timeoutMs / 1000} s` }), timeoutMs);
    socket.on('error', (err: NodeJS.ErrnoException) => {
      finish({ status: 'error', error: `spamd at ${where} could not be reached (${err.code ?? err.message})` });
    });
    socket.on('connect', () => {
      socket.write(`REPORT SPAMC/1.5\r\nContent-length: ${raw.length}\r\nUser: mailpen\r\n\r\n`);
      socket.write(raw);
      // spamd reads Content-length bytes; half-closing tells an old one the request is complete too.
      socket.end();
    });
    socket.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_ANSWER) return finish({ status: 'error', error: `spamd at ${where} answered more than ${MAX_ANSWER} bytes` });
      chunks.push(chunk);
    });
    socket.on('end', () => finish(parseAnswer(Buffer.concat(chunks).toString('utf8'), where)));
  });
}

/** Reads spamd's answer: a status line, headers (Spam: True ; 6.1 / 5.0), an empty line, the report. */
export function parseAnswer(answer: string, where = 'spamd'): SpamResult {
  const headEnd = answer.indexOf('\r\n\r\n');
  const head = (headEnd < 0 ? answer : answer.slice(0, headEnd)).split('\r\n');
  const body = headEnd < 0 ? '' : answer.slice(headEnd + 4);
  const status = /^SPAMD\/\d+\.\d+\s+(\d+)\s+(.*)$/.exec(head[0] ?? '');
  if (!status) return { status: 'error', error: `${where} did not answer in the spamd protocol` };
  if (status[1] !== '0') return { status: 'error', error: `spamd refused the check: ${status[1]} ${status[2]!.trim()}` };
  const spam = head.map((l) => /^Spam:\s*(\w+)\s*;\s*(-?[\d.]+)\s*\/\s*(-?[\d.]+)/i.exec(l)).find((m) => m !== null);
  if (!spam) return { status: 'error', error: 'spamd answered without a Spam: header' };
  return {
    status: 'checked',
    isSpam: /^(true|yes)$/i.test(spam[1]!),
    score: Number(spam[2]),
    threshold: Number(spam[3]),
    rules: parseReport(body),
  };
}

/**
 * The rules of a REPORT's table:
 *
 *      pts rule name              description
 *     ---- ---------------------- --------------------------------------------------
 *     1000 GTUBE                  BODY: Generic Test for Unsolicited Bulk Email
 *     -0.0 NO_RELAYS              Informational: message was not relayed via SMTP
 *
 * A description too long for its line goes on in the next, indented.
 */
export function parseReport(report: string): SpamRule[] {
  const rules: SpamRule[] = [];
  const lines = report.split(/\r?\n/);
  const table = lines.findIndex((l) => /^-{3,}\s+-{3,}/.test(l.trim()));
  if (table < 0) return rules;
  for (const line of lines.slice(table + 1)) {
    const rule = /^\s*(-?\d+(?:\.\d+)?)\s+([A-Z0-9_]+)\s*(.*)$/.exec(line);
    if (rule) {
      rules.push({ score: Number(rule[1]), name: rule[2]!, description: rule[3]!.trim() });
    } else if (/^\s+\S/.test(line) && rules.length > 0) {
      const last = rules[rules.length - 1]!;
      last.description = `${last.description} ${line.trim()}`.trim();
    } else if (line.trim() === '') {
      break;
    }
  }
  return rules;
}
