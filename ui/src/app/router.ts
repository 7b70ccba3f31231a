// Screens of the phone app. Hash history: Tauri serves the built files from its own protocol, where only
// index.html exists.
import { createRouter, createWebHashHistory, type RouteRecordRaw } from 'vue-router';
import { app, refreshStatus } from './state';
import RegisterView from './views/RegisterView.vue';
import HomeView from './views/HomeView.vue';
import ReportView from './views/ReportView.vue';
import FindingsView from './views/FindingsView.vue';
import FindingDetailView from './views/FindingDetailView.vue';
import TasksView from './views/TasksView.vue';
import TaskView from './views/TaskView.vue';
import SyncView from './views/SyncView.vue';
import SettingsView from './views/SettingsView.vue';
import MapView from './views/MapView.vue';
import OfflineMapsView from './views/OfflineMapsView.vue';

declare module 'vue-router' {
  interface RouteMeta {
    /** Shows the bottom tab bar. */
    tab?: boolean;
  }
}

export const routes: RouteRecordRaw[] = [
  { path: '/', redirect: '/home' },
  { path: '/register', name: 'register', component: RegisterView },
  { path: '/home', name: 'home', component: HomeView, meta: { tab: true } },
  { path: '/report', name: 'report', component: ReportView },
  { path: '/findings', name: 'findings', component: FindingsView, meta: { tab: true } },
  { path: '/findings/:id', name: 'finding', component: FindingDetailView, props: true },
  { path: '/tasks', name: 'tasks', component: TasksView, meta: { tab: true } },
  { path: '/tasks/:id', name: 'task', component: TaskView, props: true },
  { path: '/map', name: 'map', component: MapView, meta: { tab: true } },
  { path: '/maps/offline', name: 'offline-maps', component: OfflineMapsView },
  { path: '/sync', name: 'sync', component: SyncView, meta: { tab: true } },
  { path: '/settings', name: 'settings', component: SettingsView, meta: { tab: true } },
  { path: '/:pathMatch(.*)*', redirect: '/home' },
];

export function createAppRouter() {
  const router = createRouter({ history: createWebHashHistory(), routes });
  router.beforeEach(async (to) => {
    const status = app.status ?? (await refreshStatus());
    // No answer from Rust at all: App.vue shows the error and a retry, whatever the route.
    if (!status) return true;
    if (!status.registered && to.name !== 'register') return { name: 'register' };
    if (status.registered && to.name === 'register') return { name: 'home' };
    return true;
  });
  return router;
}
