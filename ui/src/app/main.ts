import { createApp } from 'vue';
import 'vant/lib/index.css';
import { i18n } from '../shared/i18n';
import App from './App.vue';
import { createAppRouter } from './router';
import { startBackground } from './state';

createApp(App).use(i18n).use(createAppRouter()).mount('#app');
startBackground();
