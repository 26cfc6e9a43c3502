import type { App, AppDeps } from '../app.js';
import { InboxesResponse } from '../schemas.js';

export async function inboxRoutes(app: App, { store }: AppDeps): Promise<void> {
  app.get(
    '/inboxes',
    {
      schema: {
        summary: 'Every inbox with its total and unread counts',
        tags: ['messages'],
        response: { 200: InboxesResponse },
      },
    },
    async () => ({ inboxes: store.inboxes().sort((a, b) => a.name.localeCompare(b.name)) }),
  );
}
