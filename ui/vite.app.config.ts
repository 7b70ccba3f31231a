// Vite config of the phone app, loaded by Tauri 2 (src-tauri/tauri.conf.json: frontendDist
// "../ui/dist/app", devUrl http://localhost:5173).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { sharedConfig } from './vite.shared';

// `tauri android dev` / `tauri ios dev` set this so the phone can reach the dev server over the network.
const devHost = process.env.TAURI_DEV_HOST;

export default defineConfig({
  root: fileURLToPath(new URL('./src/app', import.meta.url)),
  // Relative asset URLs: the app is served from Tauri's custom protocol, not from a web server root.
  base: './',
  ...sharedConfig,
  clearScreen: false,
  envPrefix: ['VITE_', 'TAURI_ENV_'],
  server: {
    port: 5173,
    strictPort: true,
    host: devHost || false,
    hmr: devHost ? { protocol: 'ws', host: devHost, port: 5183 } : undefined,
  },
  build: {
    outDir: fileURLToPath(new URL('./dist/app', import.meta.url)),
    emptyOutDir: true,
    // Old Android System WebViews show a blank page with Vite's default (newer) target.
    target: 'es2019',
  },
});
