// A message's content as bytes and documents: the raw source, one part, the HTML body for a
// sandboxed frame, its links and its one-time codes. Mail content is hostile: nothing here is served in a way a
// browser would run or sniff, and no URL found in a message is ever fetched.
import { Type } from '@sinclair/typebox';
import type { App, AppDeps } from '../app.js';
import { CodesResponse, ErrorRef, HtmlQuery, IdParams, LinksResponse, PartParams, RawQuery } from '../schemas.js';
import { findMessage } from '../selection.js';
import { HttpError } from '../errors.js';
import { rewriteCidReferences, extractLinks, linksInNewTab } from '../../mail/html.js';
import { contentDisposition } from '../content-disposition.js';
import { findCodes } from '../../mail/codes.js';
import type { StoredMessage } from '../../store/store.js';
import type { ParsedMessage } from '../../mail/parse.js';

/**
 * What the HTML view may do: show images and styles, never run script, submit, or frame anything.
 * With remote content blocked, only the message's own parts (cid:, rewritten to 'self') and data:
 * URLs load: a tracking pixel, a remote font or a stylesheet never tells the sender it was opened.
 */
export function htmlCsp(remote: 'allow' | 'block' = 'allow'): string {
  const far = remote === 'allow' ? ' https: http:' : '';
  return [
    "default-src 'none'",
    `img-src 'self' data:${far}`,
    `style-src 'unsafe-inline' 'self' data:${far}`,
    `font-src 'self' data:${far}`,
    "script-src 'none'",
    "form-action 'none'",
    "base-uri 'none'",
    "frame-src 'none'",
    "frame-ancestors 'self'",
    // Opened directly in a tab instead of the UI's frame, it is still a sandboxed document.
    'sandbox allow-popups allow-popups-to-escape-sandbox',
  ].join('; ');
}

/** Images the UI shows inline. SVG is absent on purpose: it can carry script. */
const INLINE_IMAGES = new Set(['image/png', 'image/jpeg', 'image/jpg', 'image/gif', 'image/webp', 'image/bmp', 'image/avif', 'image/x-icon']);

/** A MIME type as a message declares it is not fit for a header until checked. */
function safeContentType(type: string): string {
  return /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/.test(type) ? type : 'application/octet-stream';
}

export async function messageContentRoutes(app: App, { store, parser }: AppDeps): Promise<void> {
  /** The stored message and its full parse; 404 for an unknown id. */
  const parsedMessage = async (id: string): Promise<{ message: StoredMessage; parsed: ParsedMessage }> => {
    const message = findMessage(store, id);
    return { message, parsed: await parser.parse(message.raw) };
  };

  const binary = { 200: Type.Unsafe<Buffer>({ type: 'string', format: 'binary' }), 404: ErrorRef };

  app.get(
    '/messages/:id/raw',
    {
      schema: {
        summary: 'The exact bytes received, as message/rfc822 (?download: as <id>.eml)',
        tags: ['content'],
        params: IdParams,
        querystring: RawQuery,
        produces: ['message/rfc822'],
        response: binary,
      },
    },
    async (request, reply) => {
      const message = findMessage(store, request.params.id);
      const { download } = request.query;
      void reply.header('content-type', 'message/rfc822').header('x-content-type-options', 'nosniff');
      if (download !== undefined && download !== 'false' && download !== '0') {
        void reply.header('content-disposition', contentDisposition('attachment', `${message.id}.eml`));
      }
      return reply.send(message.raw);
    },
  );

  app.get(
    '/messages/:id/parts/:partId',
    {
      schema: {
        summary: "One part's decoded bytes (attachment disposition except images the UI shows inline)",
        tags: ['content'],
        params: PartParams,
        response: binary,
      },
    },
    async (request, reply) => {
      const message = findMessage(store, request.params.id);
      const found = await parser.part(message.raw, request.params.partId);
      if (!found) throw new HttpError(404, `message ${message.id} has no part ${JSON.stringify(request.params.partId)}`);
      const type = safeContentType(found.part.contentType);
      const inline = INLINE_IMAGES.has(type);
      const filename = found.part.filename ?? `${message.id}-part-${found.part.partId}`;
      return reply
        .header('content-type', type)
        .header('content-disposition', contentDisposition(inline ? 'inline' : 'attachment', filename))
        .header('x-content-type-options', 'nosniff')
        .header('content-security-policy', "default-src 'none'; sandbox")
        .send(found.content);
    },
  );

  app.get(
    '/messages/:id/html',
    {
      schema: {
        summary: 'The HTML body for a sandboxed frame: cid: images rewritten to the parts endpoint, script forbidden by CSP',
        tags: ['content'],
        params: IdParams,
        querystring: HtmlQuery,
        produces: ['text/html'],
        response: { 200: Type.String(), 404: ErrorRef },
      },
    },
    async (request, reply) => {
      const { message, parsed } = await parsedMessage(request.params.id);
      if (parsed.html === null) throw new HttpError(404, `message ${message.id} has no HTML body`);
      const html = rewriteCidReferences(parsed.html, parsed.parts, (partId) => `/api/messages/${encodeURIComponent(message.id)}/parts/${encodeURIComponent(partId)}`);
      return reply
        .header('content-type', 'text/html; charset=utf-8')
        .header('content-security-policy', htmlCsp(request.query.remote))
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer')
        .send(linksInNewTab(html));
    },
  );

  app.get(
    '/messages/:id/links',
    {
      schema: {
        summary: 'The links in the message: HTML hrefs, then URLs in the text, in order, without repeats',
        tags: ['content'],
        params: IdParams,
        response: { 200: LinksResponse, 404: ErrorRef },
      },
    },
    async (request) => {
      const { message, parsed } = await parsedMessage(request.params.id);
      return { links: extractLinks(parsed.html, parsed.text) };
    },
  );

  app.get(
    '/messages/:id/codes',
    {
      schema: {
        summary: 'One-time codes in the message (sign-up, login, 2FA, reset): in order, without repeats, each with the words around it',
        tags: ['content'],
        params: IdParams,
        response: { 200: CodesResponse, 404: ErrorRef },
      },
    },
    async (request) => {
      const { message, parsed } = await parsedMessage(request.params.id);
      return { codes: findCodes(parsed.text, parsed.html) };
    },
  );
}
