// How the server hands out the built UI (dist/ui): through inject(), no socket.
// Needs the built UI: `npm test` builds it first; alone, run `npm run build:ui` once.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import Fastify from 'fastify';
import { apiApp, type ApiApp } from './helpers/api-app.js';
import { uiRoutes, UI_DIR } from '../server/http/routes/ui.js';
import { notFoundHandler } from '../server/http/errors.js';

describe('serving the UI', () => {
  let api: ApiApp;
  before(async () => {
    api = await apiApp();
  });
  after(() => api.close());

  test('serves index.html at / for revalidation, with no inline script', async () => {
    const res = await api.app.inject({ url: '/' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/html/);
    assert.equal(res.headers['cache-control'], 'no-cache');
    assert.match(res.body, /<script type="module" crossorigin src="\/assets\/[\w-]+\.js"><\/script>/);
    assert.doesNotMatch(res.body, /<script(?![^>]*\bsrc=)[^>]*>/, 'every script has a src');
    assert.doesNotMatch(res.body, /\son[a-z]+=/i, 'no inline event handlers');
  });

  test('serves hashed assets as immutable, with their type', async () => {
    const js = readdirSync(join(UI_DIR, 'assets')).find((f) => f.endsWith('.js'))!;
    const res = await api.app.inject({ url: `/assets/${js}` });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /javascript/);
    assert.equal(res.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
  });

  test('answers a deep link with the page, and unknown API paths and assets with 404s', async () => {
    const deep = await api.app.inject({ url: '/some/page?x=1' });
    assert.equal(deep.statusCode, 200);
    assert.match(deep.body, /<div id="app">/);
    const apiMiss = await api.app.inject({ url: '/api/nothing-here' });
    assert.equal(apiMiss.statusCode, 404);
    assert.equal((apiMiss.json() as { error: string }).error, 'Not Found');
    assert.equal((await api.app.inject({ url: '/assets/missing.js' })).statusCode, 404);
    assert.equal((await api.app.inject({ url: '/robots.txt' })).statusCode, 404);
  });

  test('without a build, / says how to build the UI instead of a bare 404', async () => {
    const bare = Fastify();
    bare.setNotFoundHandler(notFoundHandler);
    await bare.register(uiRoutes, { uiDir: join(UI_DIR, 'not-built-here') });
    const res = await bare.inject({ url: '/' });
    assert.equal(res.statusCode, 503);
    assert.match((res.json() as { message: string }).message, /npm run build:ui/);
    await bare.close();
  });
});
