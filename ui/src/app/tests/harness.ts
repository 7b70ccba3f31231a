// Mounting the phone app against a fake Tauri shell. Each test gives the commands' answers; every call is
// recorded so the test can check what the UI sent.
import { mount, type VueWrapper } from '@vue/test-utils';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { closeDialog, closeToast } from 'vant';
import type { Basemap, DeviceStatus, Dictionary, DictionaryCategory } from '../../shared/types';
import { i18n, setLocale } from '../../shared/i18n';
import { byTestId, settle } from '../../shared/testing/dom';
import App from '../App.vue';
import { createAppRouter } from '../router';
import { app } from '../state';
import { position, release, resetPositionSources } from '../position';

export type Handler = (args: Record<string, unknown>) => unknown;
export interface Call {
  cmd: string;
  args: Record<string, unknown>;
}

export function statusOf(overrides: Partial<DeviceStatus> = {}): DeviceStatus {
  return {
    registered: true,
    server_url: 'http://192.168.1.10:8080',
    username: 'inspector1',
    device_id: 'dev-1',
    pending_ops: 0,
    pending_photo_bytes: 0,
    findings: 0,
    drafts: 0,
    rejected: 0,
    dictionary_version: 1,
    last_sync_at: null,
    clock_offset_ms: null,
    display_name: null,
    patrol: null,
    open_tasks: 0,
    ...overrides,
  };
}

function category(code: string, name: string, urgent = false): DictionaryCategory {
  return {
    code,
    name,
    name_en: name,
    branch: code.startsWith('C') ? 'component' : 'event',
    parent: code.slice(0, 3),
    department: 'ZF',
    time_limit_hours: 24,
    review: urgent ? 'auto' : 'chief',
    urgent,
  };
}

export const DICTIONARY: Dictionary = {
  version: 1,
  categories: [category('C0102', '污水井盖', true), category('E0102', '暴露垃圾'), category('E0512', '占道经营')],
  departments: [{ code: 'ZF', name: '城管执法' }],
  roads: [],
  grids: [],
  classes: [
    { code: 'C01', name: '公用设施', name_en: 'Public utilities' },
    { code: 'E01', name: '市容环境', name_en: 'City appearance' },
    { code: 'E05', name: '街面秩序', name_en: 'Street order' },
  ],
};

/** Answers every test needs; a test's own handlers override them. */
function defaults(): Record<string, Handler> {
  return {
    status: () => statusOf(),
    dictionary: () => DICTIONARY,
    settings_get: () => ({ photo_max_edge: 1600, photo_quality: 85, wifi_only_photos: false, stamp: true, language: 'zh-CN' }),
    sync_state: () => ({ running: false, progress: null, last_report: null, last_error: null, last_sync_at: null }),
    simulated_location: () => ({ lat: 41.7968, lon: 123.4328, accuracy_m: 8, source: 'gps' }),
    nearby_cases: () => [],
    place_at: () => ({ road: null, grid: null, grid_name: null }),
    campaigns: () => [],
    basemaps_installed: () => [],
    notify_network: () => null,
    findings: () => [],
    tasks: () => [],
  };
}

export interface Mounted {
  wrapper: VueWrapper;
  calls: Call[];
  callsOf: (cmd: string) => Call[];
  router: ReturnType<typeof createAppRouter>;
}

const wrappers: VueWrapper[] = [];

// Timers started while an app is mounted. Vant's placeholders (nav bar, tab bar) measure themselves again 100–300 ms
// after mounting; once the test has ended those timers would fire into a torn-down DOM, so `resetApp` clears them.
const timers = new Set<ReturnType<typeof setTimeout>>();
const nativeSetTimeout = globalThis.setTimeout;

function trackTimers(): void {
  if (globalThis.setTimeout !== nativeSetTimeout) return;
  const tracked = (callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const handle = nativeSetTimeout(() => {
      timers.delete(handle);
      callback(...args);
    }, ms);
    timers.add(handle);
    return handle;
  };
  globalThis.setTimeout = tracked as typeof setTimeout;
}

function clearTrackedTimers(): void {
  globalThis.setTimeout = nativeSetTimeout;
  timers.forEach((handle) => clearTimeout(handle));
  timers.clear();
}

/**
 * Mounts the app at `path` with mocked commands. `stubs` replaces child components by name: the Leaflet map
 * (PhoneMap), whose animation timers never let a test's clock settle outside a real browser.
 */
export async function mountApp(
  path: string,
  handlers: Record<string, Handler> = {},
  stubs: Record<string, boolean> = {},
): Promise<Mounted> {
  const table = { ...defaults(), ...handlers };
  const calls: Call[] = [];
  mockIPC(
    (cmd, payload) => {
      const args = (payload ?? {}) as Record<string, unknown>;
      calls.push({ cmd, args });
      const handler = table[cmd];
      if (!handler) throw { code: 'unknown_command', message: `no mock for ${cmd}` };
      return handler(args);
    },
    { shouldMockEvents: true },
  );
  trackTimers();
  const router = createAppRouter();
  await router.push(path);
  await router.isReady();
  const wrapper = mount(App, { global: { plugins: [i18n, router], stubs }, attachTo: document.body });
  wrappers.push(wrapper);
  await settle();
  return { wrapper, calls, callsOf: (cmd) => calls.filter((c) => c.cmd === cmd), router };
}


export function resetApp(): void {
  wrappers.splice(0).forEach((w) => w.unmount());
  clearTrackedTimers();
  app.status = null;
  app.statusError = null;
  app.sync = null;
  app.dictionary = null;
  app.campaigns = [];
  app.settings = null;
  position.fix = null;
  position.problem = null;
  release('report');
  resetPositionSources();
  localStorage.clear();
  setLocale('zh-CN');
  clearMocks();
  // Vant keeps its toast and dialog containers in <body> for reuse: close them, never remove them.
  closeToast(true);
  closeDialog();
}

/** Puts files on an <input type=file> (happy-dom cannot pick files) and fires `change`. */
export async function chooseFiles(input: HTMLInputElement, files: File[]): Promise<void> {
  Object.defineProperty(input, 'files', { value: files, configurable: true });
  input.dispatchEvent(new Event('change'));
  await settle();
}


export function decodeBase64(text: string): Uint8Array {
  const binary = atob(text);
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** Text of the toasts on screen (hidden ones stay in the page for reuse). */
export function toastText(): string {
  return Array.from(document.querySelectorAll<HTMLElement>('.van-toast'))
    .filter((toast) => toast.style.display !== 'none')
    .map((toast) => toast.textContent ?? '')
    .join(' ');
}

export { byTestId, settle };

/** An installed base map package around Shenyang's centre (zoom 12–17), fields overridden per test. */
export function basemapOf(name: string, fields: Partial<Basemap> = {}): Basemap {
  return {
    name,
    format: 'mbtiles',
    datum: 'wgs84',
    bounds: [123.4, 41.77, 123.46, 41.81],
    minzoom: 12,
    maxzoom: 17,
    bytes: 1,
    sha256: 'a'.repeat(64),
    updated_at: '2026-12-04T08:00:00+08:00',
    tile_format: 'png',
    ...fields,
  };
}
