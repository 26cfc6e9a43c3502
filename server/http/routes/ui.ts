// The inbox UI: the files Vite built into dist/ui, served at /. Hashed assets are cached for
// good; index.html is revalidated so a new build shows at the next load. Any other GET for a
// page (not /api, not a file) gets index.html, so a reload on a deep link still opens the UI.
// Kept in its own file so security headers for the page can be added here in one place.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { App } from '../app.js';
import { errorBody } from '../errors.js';
import { PACKAGE_ROOT } from '../../package-root.js';

/** The built UI, under the package root. */
export const UI_DIR: string = join(PACKAGE_ROOT, 'dist', 'ui');

const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';

export interface UiRouteOptions {
  /** Where the built UI is; tests of a missing build point it elsewhere. */
  uiDir?: string;
}

export async function uiRoutes(app: App, { uiDir = UI_DIR }: UiRouteOptions): Promise<void> {
  const indexFile = join(uiDir, 'index.html');
  if (!existsSync(indexFile)) {
    // The API works without the UI (an npm link, a build:server only); say so instead of a bare 404.
    app.get('/', { schema: { hide: true } }, async (_request, reply) =>
      reply.code(503).send(errorBody(503, 'the UI is not built: run `npm run build:ui` (the API under /api works)')),
    );
    return;
  }
  const index = readFileSync(indexFile);

  await app.register(fastifyStatic, {
    root: uiDir,
    prefix: '/',
    // Routes for the files that exist, instead of a catch-all that would shadow the fallback below.
    wildcard: false,
    decorateReply: false,
    cacheControl: false,
    dotfiles: 'ignore',
    setHeaders(res, path) {
      res.setHeader('cache-control', path.includes('/assets/') ? IMMUTABLE : REVALIDATE);
      res.setHeader('x-content-type-options', 'nosniff');
    },
  });

  app.get('/*', { schema: { hide: true } }, async (request, reply) => {
    const path = request.url.split('?')[0]!;
    // The API's and the docs' unknown paths stay JSON 404s; a missing asset is a 404, not the page.
    if (path.startsWith('/api/') || path === '/api' || path.startsWith('/assets/') || /\.[a-z0-9]+$/i.test(path)) {
      return reply.callNotFound();
    }
    return reply.header('cache-control', REVALIDATE).header('x-content-type-options', 'nosniff').type('text/html; charset=utf-8').send(index);
  });
}
