// Replies to a pipelined batch (RFC 2920) go out in one write. smtp-server writes every reply as
// it is made, one send() per reply; a client that pipelines the next envelope behind a message's
// data (Postfix, load tests) gets four replies per message (250 for the data, 250 MAIL, 250 RCPT,
// 354 DATA), each a syscall and a TCP segment its side wakes up for. Those writes cost the server
// about as much as everything else it does with a 2 KB message (bench: ingest, profiled with
// --cpu-prof: the socket writes were 30% of the server's time); in one write, 0.75 → ~1.0 of a bare
// smtp-server sink.
//
// While the server works through what one read brought, the socket is corked, and it is uncorked
// at the end of that turn of the event loop (setImmediate): every reply to the read is made by
// then, as the server answers a pipelined RCPT and the message's end on nextTicks (server.ts;
// smtp-server's stream ends on one). A microtask would do too (it runs once those ticks have), but
// writing there, in the middle of the turn's reads, ran ingest at 0.9 of the sink instead of ~1.0
// with as many writes (one a message either way). A reply made outside a read (a greeting, a 250
// after Redis acknowledged the message) is written at once, as before. A search's next slice,
// queued before the read, waits for these writes (server/turn-end.ts).
import type { Socket } from 'node:net';
import type { SMTPServer } from 'smtp-server';
import { atTurnEnd } from '../turn-end.js';

/**
 * Batches the replies of a plain listener's connections. After STARTTLS, smtp-server moves the
 * session onto a TLS socket and drops this listener with the raw socket's others, so a TLS session
 * is not batched; the 220 to STARTTLS may still be corked when it does, and goes out in clear
 * before any TLS byte all the same (the server's first one answers the client's ClientHello, which
 * comes after the client has read that 220). An implicit TLS listener's sessions are made inside
 * smtp-server, out of reach.
 */
export function batchReplies(server: SMTPServer): void {
  server.server.on('connection', (socket: Socket) => {
    // A data listener would set the socket flowing, and what an early talker sent before
    // smtp-server pipes the socket into its parser (a turn later) would reach this listener alone.
    // Paused, it flows when the parser is piped, to both.
    socket.pause();
    // Before the parser's listener, so the replies to this read are corked.
    socket.prependListener('data', () => {
      socket.cork();
      atTurnEnd(() => socket.uncork());
    });
  });
}
