// Settings both apps' Vite configs share.
import vue from '@vitejs/plugin-vue';
import type { UserConfig } from 'vite';

export const sharedConfig: UserConfig = {
  plugins: [vue()],
  // Compile-time flags of vue-i18n's bundler build: Composition API only, no devtools in production.
  // Without them vue-i18n warns at start-up and keeps its legacy API in the bundle.
  define: {
    __VUE_I18N_FULL_INSTALL__: 'true',
    __VUE_I18N_LEGACY_API__: 'false',
    __INTLIFY_PROD_DEVTOOLS__: 'false',
  },
};
