// Tags in Mailpen's own API (the same store feature Mailpit's /api/v1/tags answers from): every tag
// in use with its count, and a message's tags replaced. Tags start from X-Tags and plus-addresses
// (server/store/tags.ts); a change is an `updated` event carrying the tags.
import { Type } from '@sinclair/typebox';
import type { App, AppDeps } from '../app.js';
import { ErrorRef, IdParams } from '../schemas.js';
import { findMessage } from '../selection.js';
import { MAX_TAGS_PER_MESSAGE, MAX_TAG_LENGTH } from '../../store/tags.js';

export const TagsBody = Type.Object(
  { tags: Type.Array(Type.String({ maxLength: 1000 }), { maxItems: 1000, description: `cleaned as Mailpit cleans them (letters, digits, - _ . @ and spaces; at most ${MAX_TAG_LENGTH} characters), repeats dropped, at most ${MAX_TAGS_PER_MESSAGE} kept` }) },
  { additionalProperties: false },
);

export async function tagRoutes(app: App, { store }: AppDeps): Promise<void> {
  app.get(
    '/tags',
    {
      schema: {
        summary: 'Every tag in use, with how many messages carry it',
        tags: ['messages'],
        response: { 200: Type.Object({ tags: Type.Array(Type.Object({ name: Type.String(), messages: Type.Integer() })) }) },
      },
    },
    async () => {
      const counts = new Map<string, number>();
      store.forEachNewest((m) => {
        for (const t of m.tags) counts.set(t, (counts.get(t) ?? 0) + 1);
      });
      const tags = [...counts].map(([name, messages]) => ({ name, messages })).sort((a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase()));
      return { tags };
    },
  );

  app.put(
    '/messages/:id/tags',
    {
      schema: {
        summary: "Replace a message's tags ([] removes them all)",
        tags: ['messages'],
        params: IdParams,
        body: TagsBody,
        response: { 200: Type.Ref('MessageSummary'), 400: ErrorRef, 404: ErrorRef },
      },
    },
    async (request) => {
      findMessage(store, request.params.id);
      return store.summary(store.setTags(request.params.id, request.body.tags)!);
    },
  );
}
