// POST /api/messages: store uploaded mail as if it came over SMTP, the envelope read from its
// headers (From; To, Cc and Bcc). A body starting with a "From " line is an mbox file.
import { Type } from '@sinclair/typebox';
import type { App, AppDeps } from '../app.js';
import { ErrorRef, UploadQuery, UploadResponse } from '../schemas.js';
import { HttpError } from '../errors.js';
import { DEFAULT_INBOX } from '../../smtp/server.js';
import { readHeaderBlock, parseAddresses } from '../../mail/headers.js';
import { looksLikeMbox, splitMbox } from '../../mail/mbox.js';
import type { Envelope } from '../../store/types.js';

function envelopeFromHeaders(raw: Buffer, remoteAddress: string): Envelope {
  const { fields } = readHeaderBlock(raw);
  const all = (key: string): string[] => fields.filter((f) => f.key === key).flatMap((f) => parseAddresses(f.value).map((a) => a.address));
  const from = all('from')[0] ?? all('sender')[0] ?? '';
  const rcptTo = [...new Set([...all('to'), ...all('cc'), ...all('bcc')].filter((a) => a !== ''))];
  return { mailFrom: from, rcptTo, helo: 'upload', remoteAddress, authUser: null, tls: false };
}

export async function uploadRoutes(app: App, { store, config }: AppDeps): Promise<void> {
  // Any body is taken as bytes here (message/rfc822, application/mbox, text/plain, none at all).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  app.post(
    '/messages',
    {
      schema: {
        summary: 'Upload a raw RFC 5322 message or an mbox file; the envelope comes from its headers',
        tags: ['messages'],
        querystring: UploadQuery,
        // Any bytes validate: the size is checked below and the content is mail, taken as it is.
        body: Type.Unsafe<Buffer>({ description: 'a raw RFC 5322 message, or an mbox file (starts with a "From " line)' }),
        consumes: ['message/rfc822', 'application/mbox', 'application/octet-stream'],
        response: { 201: UploadResponse, 400: ErrorRef, 413: ErrorRef },
      },
    },
    async (request, reply) => {
      const body = request.body;
      if (!Buffer.isBuffer(body) || body.length === 0) throw new HttpError(400, 'the body must be a raw message (message/rfc822) or an mbox file');
      const messages = looksLikeMbox(body) ? splitMbox(body) : [body];
      if (messages.length === 0) throw new HttpError(400, 'the mbox file holds no message');
      // All or nothing: one message over the limit stores none of them.
      for (const [i, raw] of messages.entries()) {
        if (raw.length > config.maxMessageSize) {
          throw new HttpError(413, `message ${i + 1} is ${raw.length} bytes; the limit is ${config.maxMessageSize}`);
        }
      }
      const inbox = request.query.inbox ?? DEFAULT_INBOX;
      const ids = messages.map((raw) => store.add({ raw, inbox, envelope: envelopeFromHeaders(raw, request.ip) }).id);
      return reply.code(201).send({ ids });
    },
  );
}
