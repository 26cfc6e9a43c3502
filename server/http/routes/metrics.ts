// GET /metrics: the Prometheus text format. Not under /api (a scraper's default path), but behind
// the same Host, cross-site and auth checks as the API: security.ts's hooks apply to every route.
import { Type } from '@sinclair/typebox';
import type { App } from '../app.js';
import type { Metrics } from '../../integrations/metrics.js';

export async function metricsRoutes(app: App, { metrics }: { metrics: Metrics }): Promise<void> {
  app.get(
    '/metrics',
    {
      schema: {
        summary: 'Prometheus metrics (text exposition format); off with MAILPEN_METRICS=off',
        tags: ['meta'],
        produces: ['text/plain'],
        response: { 200: Type.String() },
      },
    },
    async (_request, reply) => reply.type(metrics.contentType).send(await metrics.text()),
  );
}
