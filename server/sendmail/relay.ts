// `sendmail -bs`: the caller speaks SMTP on our stdin and stdout (Symfony Mailer's and Laravel's
// default sendmail command). Mailpen speaks SMTP too, so the bytes are carried both ways unchanged.
import net from 'node:net';
import type { Readable, Writable } from 'node:stream';
import type { HostPort } from '../config.js';
import { DeliveryError } from './submit.js';
import { EX_TEMPFAIL } from './sysexits.js';

/** Resolves when Mailpen closes the session (after QUIT, normally); rejects if it cannot be reached. */
export function relaySmtpSession(server: HostPort, stdin: Readable, stdout: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: server.host, port: server.port });
    let connected = false;
    socket.once('connect', () => {
      connected = true;
      socket.pipe(stdout, { end: false });
      // Input starts flowing after the greeting: a client that writes first is cut off with
      // "421 You talk too soon". The caller closing its side before QUIT half-closes ours.
      socket.once('data', () => stdin.pipe(socket));
    });
    socket.once('error', (err) => {
      if (!connected) reject(new DeliveryError(`cannot reach Mailpen at ${server.host}:${server.port}: ${err.message}`, EX_TEMPFAIL));
    });
    socket.once('close', () => {
      stdin.unpipe(socket);
      // Input nobody will read must not keep the process alive.
      stdin.destroy();
      if (connected) resolve();
    });
  });
}
