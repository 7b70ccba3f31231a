// Vite config of the web console, served by the sync server under /console/.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { sharedConfig } from './vite.shared';

// Where `npm run dev:console` forwards /api calls; the sync server's default listen address.
const syncServer = process.env.SYNC_SERVER_URL || 'http://127.0.0.1:8080';

export default defineConfig({
  root: fileURLToPath(new URL('./src/console', import.meta.url)),
  base: '/console/',
  ...sharedConfig,
  server: {
    port: 5174,
    strictPort: true,
    proxy: { '/api': syncServer },
  },
  build: {
    outDir: fileURLToPath(new URL('./dist/console', import.meta.url)),
    emptyOutDir: true,
    // ECharts' core alone is ~570 kB minified; it is loaded only by the pages with charts.
    chunkSizeWarningLimit: 800,
  },
});
