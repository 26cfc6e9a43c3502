import type { App, AppDeps } from '../app.js';
import { InfoResponse } from '../schemas.js';
import type { Waiters } from '../waiters.js';

export async function infoRoutes(app: App, { store, config, runtime, waiters, webhooks, rules }: AppDeps & { waiters: Waiters }): Promise<void> {
  app.get(
    '/info',
    {
      schema: {
        summary: 'Version, uptime, bound ports, limits and counts',
        tags: ['meta'],
        response: { 200: InfoResponse },
      },
    },
    async () => {
      const counts = store.counts();
      return {
        version: runtime.version,
        startedAt: runtime.startedAt.toISOString(),
        uptime: Math.round((Date.now() - runtime.startedAt.getTime()) / 100) / 10,
        ports: runtime.ports,
        limits: {
          maxMessages: config.maxMessages,
          maxBytes: config.maxBytes,
          maxMessageSize: config.maxMessageSize,
          maxRecipients: config.maxRecipients,
        },
        counts: { ...counts, inboxes: store.inboxes().length, waiters: waiters.count },
        webhooks: webhooks?.stats ?? null,
        ...(rules && { rules: rules.stats }),
      };
    },
  );
}
