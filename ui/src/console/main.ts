import { createApp } from 'vue';
import 'element-plus/dist/index.css';
import { i18n } from '../shared/i18n';
import App from './App.vue';

createApp(App).use(i18n).mount('#app');
