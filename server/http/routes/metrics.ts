// GET /metrics: the Prometheus text format. Not under /api (a scraper's default path), but behind
// the same Host, cross-site and auth checks as the API: security.ts's hooks apply to every route.
import { Type } from '@sinclair/typebox';
import type { App } from '../app.js';
import { ErrorRef } from '../schemas.js';
import { HttpError } from '../errors.js';
import type { Metrics } from '../../integrations/metrics.js';

/** With metrics off the path still answers, 404 with the reason, instead of the UI's page fallback. */
export async function metricsRoutes(app: App, { metrics }: { metrics: Metrics | null }): Promise<void> {
  app.get(
    '/metrics',
    {
      schema: {
        summary: 'Prometheus metrics (text exposition format); 404 with MAILPEN_METRICS=off',
        tags: ['meta'],
        produces: ['text/plain'],
        response: { 200: Type.String(), 404: ErrorRef },
      },
    },
    async (_request, reply) => {
      if (metrics === null) throw new HttpError(404, 'metrics are off (MAILPEN_METRICS=off)');
      return reply.type(metrics.contentType).send(await metrics.text());
    },
  );
}
