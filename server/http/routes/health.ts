import { Type } from '@sinclair/typebox';
import type { App, AppDeps } from '../app.js';

export async function healthRoutes(app: App, { store }: AppDeps): Promise<void> {
  app.get(
    '/healthz',
    {
      schema: {
        summary: 'Readiness: 200 while the server can take mail; 503 with the reason while its store (Redis) cannot',
        tags: ['meta'],
        response: {
          200: Type.Object({ status: Type.Literal('ok'), messages: Type.Integer() }),
          503: Type.Object({ status: Type.Literal('unavailable'), reason: Type.String(), messages: Type.Integer() }),
        },
      },
    },
    async (_request, reply) => {
      const health = store.health?.();
      if (health && !health.ready) return reply.code(503).send({ status: 'unavailable' as const, reason: health.reason ?? 'not ready', messages: store.counts().messages });
      return { status: 'ok' as const, messages: store.counts().messages };
    },
  );
}
