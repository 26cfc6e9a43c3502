// The OpenAPI document, generated from the route schemas, and a readable page of it.
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import fp from 'fastify-plugin';
import type { App, AppDeps } from '../app.js';

/**
 * Registered before every other route (swagger collects routes as they are added) and at the
 * root, not encapsulated, so that it sees them all.
 */
export const openApiDocs = fp(async function openApiDocs(app: App, { runtime }: AppDeps): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Mailpen API',
        version: runtime.version,
        description: 'A fake SMTP server\'s API for tests: list, search, wait for and read captured mail. Errors are { statusCode, error, message }.',
      },
    },
    // Schemas registered by $id become components named after that id, not def-0, def-1.
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs' });
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
});
