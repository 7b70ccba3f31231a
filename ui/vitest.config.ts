// Component and unit tests of the front-ends (`npm test`): Vitest in happy-dom, the Tauri shell replaced by
// `mockIPC` from @tauri-apps/api/mocks.
import { defineConfig } from 'vitest/config';
import { sharedConfig } from './vite.shared';

export default defineConfig({
  ...sharedConfig,
  test: {
    environment: 'happy-dom',
    include: ['src/**/*.test.ts'],
    restoreMocks: true,
  },
});
