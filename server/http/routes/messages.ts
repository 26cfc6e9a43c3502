// The message collection: list and search, one message as JSON, read flags, deletion.
// Reading never changes state; only PATCH marks a message read.
import type { App, AppDeps } from '../app.js';
import {
  BulkReadBody,
  DeletedResponse,
  ErrorRef,
  IdParams,
  ListQuery,
  ListResponse,
  MessageSchema,
  ReadBody,
  SelectQuery,
  UpdatedResponse,
} from '../schemas.js';
import { Type } from '@sinclair/typebox';
import { findMessage, selectedIds, walkedSelection } from '../selection.js';
import { HttpError } from '../errors.js';

export async function messageRoutes(app: App, { store, parser }: AppDeps): Promise<void> {
  app.get(
    '/messages',
    {
      schema: {
        summary: 'List or search messages, newest first',
        tags: ['messages'],
        querystring: ListQuery,
        response: { 200: ListResponse, 400: ErrorRef },
      },
    },
    async (request) => {
      const { inbox, q, limit, cursor, offset } = request.query;
      if (cursor !== undefined && offset !== undefined) throw new HttpError(400, 'give either cursor or offset, not both');
      const sel = await walkedSelection(store, q, inbox);
      const page = store.list({ ...sel, limit, offset, beforeSeq: cursor === undefined ? undefined : Number(cursor) });
      return {
        total: page.total,
        unread: page.unread,
        messages: page.messages.map((m) => store.summary(m)),
        next: page.nextBeforeSeq === null ? null : String(page.nextBeforeSeq),
      };
    },
  );

  app.get(
    '/messages/:id',
    {
      schema: {
        summary: 'One message: summary, headers, text, HTML, parts (does not mark it read)',
        tags: ['messages'],
        params: IdParams,
        response: { 200: MessageSchema, 404: ErrorRef },
      },
    },
    async (request) => {
      const message = findMessage(store, request.params.id);
      const summary = store.summary(message);
      const parsed = await parser.parse(message.raw);
      const { mailFrom, rcptTo, helo, remoteAddress, authUser, tls, via } = message.envelope;
      return {
        ...summary,
        envelope: { from: mailFrom, to: rcptTo, helo, remoteAddress, authUser, tls, ...(via === undefined ? {} : { via }) },
        date: summary.date ?? parsed.date,
        messageId: summary.messageId ?? parsed.messageId,
        replyTo: parsed.replyTo,
        headers: parsed.headers,
        text: parsed.text,
        html: parsed.html,
        parts: parsed.parts,
        problems: [...new Set([...summary.problems, ...parsed.problems])],
      };
    },
  );

  app.patch(
    '/messages/:id',
    {
      schema: {
        summary: 'Mark one message read or unread',
        tags: ['messages'],
        params: IdParams,
        body: ReadBody,
        response: { 200: Type.Ref('MessageSummary'), 400: ErrorRef, 404: ErrorRef },
      },
    },
    async (request) => {
      findMessage(store, request.params.id);
      return store.summary(store.setRead(request.params.id, request.body.read)!);
    },
  );

  app.patch(
    '/messages',
    {
      schema: {
        summary: 'Mark many messages read or unread: by ids, or by q and/or inbox (neither: all)',
        tags: ['messages'],
        body: BulkReadBody,
        response: { 200: UpdatedResponse, 400: ErrorRef },
      },
    },
    async (request) => {
      const { ids, q, inbox, read } = request.body;
      if (ids !== undefined && (q !== undefined || inbox !== undefined)) throw new HttpError(400, 'give either ids, or q and/or inbox, not both');
      const targets = ids ?? selectedIds(store, await walkedSelection(store, q, inbox));
      let updated = 0;
      for (const id of targets) {
        const m = store.get(id);
        if (m && m.read !== read) {
          store.setRead(id, read);
          updated++;
        }
      }
      return { updated };
    },
  );

  app.delete(
    '/messages/:id',
    {
      schema: {
        summary: 'Delete one message',
        tags: ['messages'],
        params: IdParams,
        response: { 200: DeletedResponse, 404: ErrorRef },
      },
    },
    async (request) => {
      findMessage(store, request.params.id);
      return { deleted: store.delete([request.params.id]).length };
    },
  );

  app.delete(
    '/messages',
    {
      schema: {
        summary: 'Delete what q and/or inbox select; with neither, every message',
        tags: ['messages'],
        querystring: SelectQuery,
        response: { 200: DeletedResponse, 400: ErrorRef },
      },
    },
    async (request) => {
      const { q, inbox } = request.query;
      // Parsed before anything is touched: a query that does not parse deletes nothing.
      const sel = await walkedSelection(store, q, inbox);
      if (!sel.match) {
        if (inbox === undefined) return { deleted: store.clear() };
        // An inbox with no mail does not exist; clearing it would only announce a change that did not happen.
        return { deleted: store.inboxes().some((i) => i.name === inbox) ? store.clear(inbox) : 0 };
      }
      return { deleted: store.delete(selectedIds(store, sel)).length };
    },
  );
}
