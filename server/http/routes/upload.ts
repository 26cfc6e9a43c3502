// POST /api/messages: store uploaded mail as if it came over SMTP, the envelope read from its
// headers (From; To, Cc and Bcc). A body starting with a "From " line is an mbox file.
import { Type } from '@sinclair/typebox';
import type { App, AppDeps } from '../app.js';
import { ErrorRef, UploadQuery, UploadResponse } from '../schemas.js';
import { HttpError } from '../errors.js';
import { storeMessage } from '../../store/store.js';
import { StoreUnavailableError } from '../../store/unavailable.js';
import { DEFAULT_INBOX, inboxRefusal } from '../../store/inbox-name.js';
import { readHeaderBlock, parseAddresses } from '../../mail/headers.js';
import { looksLikeMbox, splitMbox } from '../../mail/mbox.js';
import type { Envelope } from '../../store/types.js';

/** The envelope SMTP would have had, from the headers; recipients over the limit dropped, as SMTP's 452 drops them. */
function envelopeFromHeaders(raw: Buffer, remoteAddress: string, maxRecipients: number): { envelope: Envelope; dropped: number } {
  const { fields } = readHeaderBlock(raw);
  const all = (key: string): string[] => fields.filter((f) => f.key === key).flatMap((f) => parseAddresses(f.value).map((a) => a.address));
  const from = all('from')[0] ?? all('sender')[0] ?? '';
  const named = [...new Set([...all('to'), ...all('cc'), ...all('bcc')].filter((a) => a !== ''))];
  const rcptTo = maxRecipients > 0 ? named.slice(0, maxRecipients) : named;
  return { envelope: { mailFrom: from, rcptTo, helo: 'upload', remoteAddress, authUser: null, tls: false }, dropped: named.length - rcptTo.length };
}

export async function uploadRoutes(app: App, { store, config }: AppDeps): Promise<void> {
  // Any body is taken as bytes here (message/rfc822, application/mbox, text/plain, none at all).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  app.post(
    '/messages',
    {
      // An mbox holds many messages, each held to the message size below; the body as a whole to this.
      bodyLimit: Math.max(config.maxUploadSize, config.maxMessageSize) + 64 * 1024,
      schema: {
        summary: 'Upload a raw RFC 5322 message or an mbox file; the envelope comes from its headers',
        tags: ['messages'],
        querystring: UploadQuery,
        // Any bytes validate: the size is checked below and the content is mail, taken as it is.
        body: Type.Unsafe<Buffer>({ description: 'a raw RFC 5322 message, or an mbox file (starts with a "From " line)' }),
        consumes: ['message/rfc822', 'application/mbox', 'application/octet-stream'],
        response: { 201: UploadResponse, 400: ErrorRef, 413: ErrorRef, 503: ErrorRef },
      },
    },
    async (request, reply) => {
      const body = request.body;
      if (!Buffer.isBuffer(body) || body.length === 0) throw new HttpError(400, 'the body must be a raw message (message/rfc822) or an mbox file');
      const mbox = looksLikeMbox(body);
      const tooBig = (raw: Buffer): string => `${raw.length} bytes; the limit is ${config.maxMessageSize} (MAILPEN_MAX_MESSAGE_SIZE)`;
      if (!mbox && body.length > config.maxMessageSize) throw new HttpError(413, `the message is ${tooBig(body)}`);
      if (mbox && body.length > config.maxUploadSize) {
        throw new HttpError(413, `the mbox file is ${body.length} bytes; the limit is ${config.maxUploadSize} (MAILPEN_MAX_UPLOAD_SIZE)`);
      }
      const messages = mbox ? splitMbox(body) : [body];
      if (messages.length === 0) throw new HttpError(400, 'the mbox file holds no message');
      // Each message of an mbox on its own, as SMTP takes each: one too big is refused and said, the rest stored.
      const rejected: Array<{ message: number; reason: string }> = [];
      const notes: Array<{ message: number; note: string }> = [];
      const inbox = request.query.inbox ?? DEFAULT_INBOX;
      const refusal = inboxRefusal(inbox, store, config.maxInboxes);
      if (refusal !== null) throw new HttpError(400, `inbox: ${refusal}`);
      // Handed to the store all in this turn, in the mbox's order: on a shared store (Redis) they go
      // to its log as one write, in that order, and are applied on every replica from there.
      const pending: Array<{ message: number; ids: Promise<string[]> }> = [];
      for (const [i, raw] of messages.entries()) {
        if (raw.length > config.maxMessageSize) {
          rejected.push({ message: i + 1, reason: `${tooBig(raw)}; not stored` });
          continue;
        }
        const { envelope, dropped } = envelopeFromHeaders(raw, request.ip, config.maxRecipients);
        if (dropped > 0) {
          notes.push({ message: i + 1, note: `${dropped} of its ${envelope.rcptTo.length + dropped} recipients dropped: the limit is ${config.maxRecipients} (MAILPEN_MAX_RECIPIENTS), as SMTP answers 452 past it` });
        }
        pending.push({ message: i + 1, ids: storeMessage(store, { raw, envelope }, [inbox]) });
      }
      const ids: string[] = [];
      let unavailable: StoreUnavailableError | null = null;
      const settled = await Promise.allSettled(pending.map((p) => p.ids));
      for (const [k, result] of settled.entries()) {
        if (result.status === 'fulfilled') {
          ids.push(result.value[0]!);
          continue;
        }
        if (!(result.reason instanceof StoreUnavailableError)) throw result.reason;
        // The store (Redis) could not take it: said per message when some others were stored.
        unavailable ??= result.reason;
        rejected.push({ message: pending[k]!.message, reason: `not stored: ${result.reason.message}` });
      }
      // Nothing stored because the store cannot take a write now: 503 with the reason, as for any write.
      if (ids.length === 0 && unavailable !== null) throw unavailable;
      if (ids.length === 0) throw new HttpError(413, `no message stored: every one is over the size limit (message 1 is ${tooBig(messages[0]!)})`);
      rejected.sort((x, y) => x.message - y.message);
      return reply.code(201).send({ ids, rejected, notes });
    },
  );
}
