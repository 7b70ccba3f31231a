// Pages of the console and who sees them. Hash history: the server serves index.html for /console/ and
// needs no knowledge of the console's routes.
import { createRouter, createWebHashHistory, type RouteRecordRaw } from 'vue-router';
import type { Role } from '../shared/types';
import { session, user } from './session';

declare module 'vue-router' {
  interface RouteMeta {
    /** Roles that see the page in the menu and may open it; absent = every signed-in user. */
    roles?: Role[];
    /** i18n key of the menu entry. */
    menu?: string;
    /** Testid of the menu entry. */
    testid?: string;
    public?: boolean;
  }
}

const routes: RouteRecordRaw[] = [
  { path: '/sign-in', name: 'sign-in', component: () => import('./views/SignInView.vue'), meta: { public: true } },
  { path: '/', name: 'home', component: () => import('./views/HomeView.vue') },
  {
    path: '/review',
    name: 'review',
    component: () => import('./views/ReviewView.vue'),
    meta: { roles: ['chief', 'dispatcher', 'admin'], menu: 'console.menu.review', testid: 'menu-review' },
  },
  {
    path: '/cases',
    name: 'cases',
    component: () => import('./views/DispatchView.vue'),
    meta: { roles: ['dispatcher', 'chief', 'admin'], menu: 'console.menu.dispatch', testid: 'menu-dispatch' },
  },
  {
    path: '/intake',
    name: 'intake',
    component: () => import('./views/IntakeView.vue'),
    meta: { roles: ['dispatcher', 'chief', 'admin'], menu: 'console.menu.intake', testid: 'menu-intake' },
  },
  {
    path: '/department',
    name: 'department',
    component: () => import('./views/DepartmentView.vue'),
    meta: { roles: ['department', 'admin'], menu: 'console.menu.department', testid: 'menu-department' },
  },
  {
    path: '/dashboard',
    name: 'dashboard',
    component: () => import('./views/DashboardView.vue'),
    meta: { roles: ['chief', 'dispatcher', 'admin'], menu: 'console.menu.dashboard', testid: 'menu-dashboard' },
  },
  {
    path: '/coverage',
    name: 'coverage',
    component: () => import('./views/CoverageView.vue'),
    meta: { roles: ['chief', 'dispatcher', 'admin'], menu: 'console.menu.coverage', testid: 'menu-coverage' },
  },
  {
    path: '/heatmap',
    name: 'heatmap',
    component: () => import('./views/HeatmapView.vue'),
    meta: { roles: ['chief', 'dispatcher', 'admin'], menu: 'console.menu.heatmap', testid: 'menu-heatmap' },
  },
  {
    path: '/exports',
    name: 'exports',
    component: () => import('./views/ExportsView.vue'),
    meta: { roles: ['chief', 'dispatcher', 'admin', 'department'], menu: 'console.menu.exports', testid: 'menu-exports' },
  },
  {
    path: '/admin/users',
    name: 'users',
    component: () => import('./views/admin/UsersView.vue'),
    meta: { roles: ['admin'], menu: 'console.menu.users', testid: 'menu-users' },
  },
  {
    path: '/admin/teams',
    name: 'teams',
    component: () => import('./views/admin/TeamsView.vue'),
    meta: { roles: ['admin'], menu: 'console.menu.teams', testid: 'menu-teams' },
  },
  {
    path: '/admin/devices',
    name: 'devices',
    component: () => import('./views/admin/DevicesView.vue'),
    meta: { roles: ['admin'], menu: 'console.menu.devices', testid: 'menu-devices' },
  },
  {
    path: '/admin/dictionary',
    name: 'dictionary',
    component: () => import('./views/admin/DictionaryView.vue'),
    meta: { roles: ['admin'], menu: 'console.menu.dictionary', testid: 'menu-dictionary' },
  },
  {
    path: '/admin/grids',
    name: 'grids',
    component: () => import('./views/admin/GridsView.vue'),
    meta: { roles: ['admin'], menu: 'console.menu.grids', testid: 'menu-grids' },
  },
  {
    path: '/admin/basemaps',
    name: 'basemaps',
    component: () => import('./views/admin/BasemapsView.vue'),
    meta: { roles: ['admin'], menu: 'console.menu.basemaps', testid: 'menu-basemaps' },
  },
  {
    path: '/admin/sync-health',
    name: 'sync-health',
    component: () => import('./views/admin/SyncHealthView.vue'),
    meta: { roles: ['admin'], menu: 'console.menu.syncHealth', testid: 'menu-sync-health' },
  },
  {
    path: '/admin/integrations',
    name: 'integrations',
    component: () => import('./views/admin/IntegrationsView.vue'),
    meta: { roles: ['admin'], menu: 'console.menu.integrations', testid: 'menu-integrations' },
  },
  {
    path: '/admin/audit',
    name: 'audit',
    component: () => import('./views/admin/AuditView.vue'),
    meta: { roles: ['admin'], menu: 'console.menu.audit', testid: 'menu-audit' },
  },
  {
    path: '/account',
    name: 'account',
    component: () => import('./views/AccountView.vue'),
    meta: { menu: 'console.menu.account', testid: 'menu-account' },
  },
  { path: '/:rest(.*)*', redirect: '/' },
];

export const router = createRouter({ history: createWebHashHistory(), routes });

export function canOpen(route: { meta: { roles?: Role[] } }, role: Role | undefined): boolean {
  return role !== undefined && (!route.meta.roles || route.meta.roles.includes(role));
}

/** Menu entries for a role, in menu order. */
export function menuFor(role: Role | undefined) {
  return routes.filter((r) => r.meta?.menu && canOpen(r as { meta: { roles?: Role[] } }, role));
}

/** The page a role lands on after sign-in. */
export function homeFor(role: Role | undefined): string {
  switch (role) {
    case 'chief':
      return '/review';
    case 'dispatcher':
      return '/cases';
    case 'department':
      return '/department';
    case 'admin':
      return '/admin/users';
    default:
      return '/';
  }
}

router.beforeEach((to) => {
  const role = user.value?.role;
  if (to.meta.public) return true;
  if (!role) return { name: 'sign-in', query: to.fullPath !== '/' ? { redirect: to.fullPath } : {} };
  // A session that may only set up a second factor sees only that page.
  if (session.value?.enrol_second_factor && to.name !== 'account') return { name: 'account' };
  if (to.name === 'home') {
    const home = homeFor(role);
    return home === '/' ? true : home;
  }
  if (!canOpen(to, role)) return { name: 'home' };
  return true;
});
