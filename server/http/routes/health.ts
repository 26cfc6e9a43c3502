import { Type } from '@sinclair/typebox';
import type { App, AppDeps } from '../app.js';

export async function healthRoutes(app: App, { store }: AppDeps): Promise<void> {
  app.get(
    '/healthz',
    {
      schema: {
        summary: 'Liveness: answers 200 while the server runs',
        tags: ['meta'],
        response: { 200: Type.Object({ status: Type.Literal('ok'), messages: Type.Integer() }) },
      },
    },
    async () => ({ status: 'ok' as const, messages: store.counts().messages }),
  );
}
