// Builds the inbox UI into dist/ui, which the server serves at /. In development
// (`npx vite --config ui/vite.config.ts`) the API and the event stream are proxied to a running
// Mailpen on 8025, so the page and the API share one origin as they do in production.
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: here,
  base: '/',
  plugins: [svelte()],
  build: {
    outDir: fileURLToPath(new URL('../dist/ui', import.meta.url)),
    emptyOutDir: true,
    // No inline scripts or modulepreload polyfill: the page runs under script-src 'self'.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 300,
  },
  server: {
    proxy: {
      '/api': { target: 'http://127.0.0.1:8025', ws: true },
    },
  },
});
