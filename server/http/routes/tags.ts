// Tags in Mailpen's own API (the same store feature Mailpit's /api/v1/tags answers from): every tag
// in use with its count (kept by the store as messages come, go and change tags), and a message's
// tags replaced. Tags start from X-Tags and plus-addresses
// (server/store/tags.ts); a change is an `updated` event carrying the tags.
import { Type } from '@sinclair/typebox';
import type { App, AppDeps } from '../app.js';
import { ErrorRef, IdParams } from '../schemas.js';
import { findMessage } from '../selection.js';
import { MAX_TAGS_PER_MESSAGE, MAX_TAG_LENGTH, TagCounts } from '../../store/tags.js';
import type { MessageStore, TagCount } from '../../store/store.js';
import { SEARCH_SLICE_MS, sliceEach } from '../../search/sliced-match.js';
import { nextTurn } from '../../turn-end.js';

export const TagsBody = Type.Object(
  { tags: Type.Array(Type.String({ maxLength: 1000 }), { maxItems: 1000, description: `cleaned as Mailpit cleans them (letters, digits, - _ . @ and spaces; at most ${MAX_TAG_LENGTH} characters), repeats dropped, at most ${MAX_TAGS_PER_MESSAGE} kept` }) },
  { additionalProperties: false },
);

/**
 * Every tag in use with how many messages carry it, sorted as Mailpit sorts tags (case-insensitively):
 * GET /api/tags, and the Tags of Mailpit's list, search, info and tags routes. The store keeps the
 * counts; it reads the tags of messages not indexed yet first (a burst just taken), in slices with
 * I/O let in between. Walking 100,000 messages for them in one piece held the event loop, SMTP's
 * 250s included. The answer is read in the turn this resolves in, so a caller that reads the store
 * synchronously after the await sees the same messages.
 */
export async function tagCounts(store: MessageStore): Promise<TagCount[]> {
  if (store.tagCounts) {
    let tags: TagCount[] | null;
    while ((tags = store.tagCounts(SEARCH_SLICE_MS)) === null) await nextTurn();
    return tags;
  }
  // A store without counts: its messages are walked, in slices too.
  const counts = new TagCounts();
  await sliceEach(store.since(0), (m) => {
    if (store.get(m.id) === m) counts.add(m.tags);
  });
  return counts.list();
}

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
    async () => ({ tags: await tagCounts(store) }),
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
