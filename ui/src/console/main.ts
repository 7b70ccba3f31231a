import { createApp } from 'vue';
import 'element-plus/dist/index.css';
import 'leaflet/dist/leaflet.css';
import './print.css';
import { i18n } from '../shared/i18n';
import App from './App.vue';
import { me, onUnauthorized } from './api';
import { clearBlobCache } from './blobs';
import { loadConsoleConfig } from './config';
import { forgetDictionary } from './dictionary';
import { router } from './router';
import { endSession, session, startSession } from './session';

// A 401 on any signed-in call: the session is over. Back to sign-in, then to the same page after it.
onUnauthorized(() => {
  endSession('expired');
  clearBlobCache();
  forgetDictionary();
  const here = router.currentRoute.value;
  if (here.name !== 'sign-in') {
    void router.push({ name: 'sign-in', query: { redirect: here.fullPath } });
  }
});

void loadConsoleConfig();

// A session restored from sessionStorage may have ended on the server (expiry, sign-out elsewhere): ask
// once, so that a dead token sends the user to sign in now rather than at their first click. The answer
// also refreshes the user's name, role and team.
if (session.value) {
  const restored = session.value;
  me()
    .then((fresh) => {
      if (session.value?.token === restored.token) startSession({ ...restored, user: fresh });
    })
    // 401 is handled above; anything else (offline, a server without /me yet) keeps the session as it is.
    .catch(() => undefined);
}

createApp(App).use(i18n).use(router).mount('#app');
