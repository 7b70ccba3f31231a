// What several screens show at once: the device status, the background sync, the dictionary and the
// settings; and the work that runs whatever screen is open (network hints, sync on return, patrol track).
import { reactive, watch } from 'vue';
import type { Campaign, DeviceSettings, DeviceStatus, Dictionary, Location, SyncState } from '../shared/types';
import { setLocale, currentLocale } from '../shared/i18n';
import * as ipc from './ipc';
import { errorText } from './errors';
import { acquire, onFix, release } from './position';

export const app = reactive({
  status: null as DeviceStatus | null,
  statusError: null as string | null,
  sync: null as SyncState | null,
  dictionary: null as Dictionary | null,
  /** The campaigns running today, whose categories the picker shows first. */
  campaigns: [] as Campaign[],
  settings: null as DeviceSettings | null,
  online: typeof navigator === 'undefined' ? true : navigator.onLine,
});

export async function refreshStatus(): Promise<DeviceStatus | null> {
  try {
    app.status = await ipc.status();
    app.statusError = null;
  } catch (error) {
    app.statusError = errorText(error);
  }
  return app.status;
}

export async function loadDictionary(): Promise<void> {
  try {
    app.dictionary = await ipc.dictionary();
  } catch {
    // Keep what we had: category names then show as codes until the next try.
  }
  try {
    app.campaigns = await ipc.campaigns();
  } catch {
    // Without them the picker shows the categories in their usual order.
  }
}

export async function loadSettings(): Promise<void> {
  try {
    app.settings = await ipc.settingsGet();
    // The phone's stored choice wins over the webview's, so a reinstalled webview keeps the language.
    if (app.settings.language !== currentLocale()) setLocale(app.settings.language);
  } catch {
    app.settings = null;
  }
}

export async function saveSettings(settings: DeviceSettings): Promise<DeviceSettings> {
  app.settings = await ipc.settingsSet(settings);
  return app.settings;
}

/** True while a sync (ours or the background one) runs. */
export function syncRunning(): boolean {
  return app.sync?.running === true;
}

/** Asks for a sync and ignores the outcome: the `sync-state` event carries it to the screens. */
export function requestSync(): void {
  if (!app.status?.registered) return;
  ipc.syncNow().catch(() => undefined);
}

interface NetworkInformationLike {
  type?: string;
}

/** Wi-Fi cannot be seen from a webview; only an explicit "cellular" from the Network Information API counts. */
function onWifi(): boolean {
  const connection = (navigator as Navigator & { connection?: NetworkInformationLike }).connection;
  return connection?.type !== 'cellular';
}

function tellNetwork(): void {
  app.online = navigator.onLine;
  ipc.notifyNetwork(app.online, onWifi()).catch(() => undefined);
}

// --- patrol track ---------------------------------------------------------------------------------------

/** Fixes closer together than this are not sent to Rust (it would thin them out anyway). */
const TRACK_MIN_INTERVAL_MS = 5000;
const PATROL_HOLDER = 'patrol';
let lastTrackAt = 0;

function trackFix(fix: Location): void {
  const patrol = app.status?.patrol;
  if (!patrol || patrol.ended_at || patrol.paused || fix.source === 'manual') return;
  const now = Date.now();
  if (now - lastTrackAt < TRACK_MIN_INTERVAL_MS) return;
  lastTrackAt = now;
  ipc.patrolTrack(fix.lat, fix.lon, fix.accuracy_m).catch(() => undefined);
}

function patrolRecording(): boolean {
  const patrol = app.status?.patrol;
  return !!patrol && !patrol.ended_at && !patrol.paused;
}

// --- start-up -------------------------------------------------------------------------------------------

/** Status refresh while the app is in front: counts change as the background sync works. */
const STATUS_POLL_MS = 15000;

/** Starts the app-wide work; returns a function that stops it (used by tests). */
export function startBackground(): () => void {
  const stops: (() => void)[] = [];

  ipc
    .onSyncState((state) => {
      const wasRunning = app.sync?.running === true;
      app.sync = state;
      // A finished run changed the counts (and maybe the dictionary); the page's own data follows.
      if (wasRunning && !state.running) {
        void refreshStatus();
        if (state.last_report && state.last_report.changes_received > 0) void loadDictionary();
      }
    })
    .then((unlisten) => stops.push(unlisten))
    .catch(() => undefined);
  ipc
    .syncState()
    .then((state) => {
      app.sync = state;
    })
    .catch(() => undefined);

  tellNetwork();
  window.addEventListener('online', tellNetwork);
  window.addEventListener('offline', tellNetwork);
  stops.push(() => {
    window.removeEventListener('online', tellNetwork);
    window.removeEventListener('offline', tellNetwork);
  });

  // There is no resume event on phones: coming back to the front is the moment to catch up.
  const onVisibility = (): void => {
    if (document.visibilityState !== 'visible') return;
    void refreshStatus();
    requestSync();
  };
  document.addEventListener('visibilitychange', onVisibility);
  stops.push(() => document.removeEventListener('visibilitychange', onVisibility));

  const poll = setInterval(() => {
    if (document.visibilityState === 'visible') void refreshStatus();
  }, STATUS_POLL_MS);
  stops.push(() => clearInterval(poll));

  stops.push(onFix(trackFix));
  stops.push(
    watch(
      patrolRecording,
      (recording) => {
        if (recording) acquire(PATROL_HOLDER);
        else release(PATROL_HOLDER);
      },
      { immediate: true },
    ),
  );
  stops.push(() => release(PATROL_HOLDER));

  return () => stops.forEach((stop) => stop());
}
