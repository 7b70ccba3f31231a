// The phone's position, shared by the report page and the patrol track. Sources, first that answers:
//   1. Rust's simulated source, when it has one (desktop runs and tests);
//   2. tauri-plugin-geolocation, registered in phone builds only: the system's location service, with the
//      app's own permission prompt;
//   3. the webview's navigator.geolocation, when the plugin is absent (desktop builds: its commands reject),
//      fails, or is refused permission. Many phones sold in China lack Google Play services, where the
//      webview's provider still works.
// A plugin that rejected is not asked again until the app restarts.
//
// Watching costs battery, so it runs only while someone holds it: `acquire` / `release` by name.
import { reactive } from 'vue';
import {
  checkPermissions,
  clearWatch,
  getCurrentPosition,
  requestPermissions,
  watchPosition,
  type PermissionStatus,
  type PositionOptions as PluginOptions,
} from '@tauri-apps/plugin-geolocation';
import type { Location } from '../shared/types';
import { simulatedLocation } from './ipc';
import { bearingDegrees, distanceMetres } from '../shared/geo';

/** Accuracy (metres) above which a report warns: worse than this rarely pins the right shopfront. */
export const POOR_ACCURACY_M = 50;

/** How often the simulated source is asked again. */
const SIMULATED_POLL_MS = 3000;

/**
 * The plugin's options. On Android `timeout` is also the interval of a watch's updates: 5 s matches how
 * often the patrol track takes a point.
 */
const PLUGIN_OPTIONS: PluginOptions = { enableHighAccuracy: true, maximumAge: 5000, timeout: 5000 };
const WEBVIEW_OPTIONS: PositionOptions = { enableHighAccuracy: true, maximumAge: 5000, timeout: 30000 };

export type PositionProblem = 'denied' | 'unavailable' | 'timeout' | 'unsupported';
export type PositionProvider = 'simulated' | 'plugin' | 'webview';

export const position = reactive({
  fix: null as Location | null,
  problem: null as PositionProblem | null,
  simulated: false,
  watching: false,
  /** Which source the current watch uses. */
  provider: null as PositionProvider | null,
  /**
   * Which way I am heading, degrees clockwise from north: the source's own when it gives one (a moving
   * phone), else the way I last walked, once I moved more than the fixes' noise. Null until known.
   */
  heading: null as number | null,
});

/** Below this a step between two fixes is noise, not walking. */
const HEADING_MIN_STEP_M = 10;
/** The fix the walked heading was last measured from. */
let headingFrom: Location | null = null;

type FixListener = (fix: Location) => void;
const listeners = new Set<FixListener>();
const holders = new Set<string>();
let geoWatchId: number | null = null;
let pluginWatchId: number | null = null;
/** False once the plugin rejected a call (absent on desktop, broken): the webview is used from then on. */
let pluginUsable = true;
let pollTimer: ReturnType<typeof setInterval> | null = null;
/** Bumped on every stop, so a start still waiting for Rust does not resume after a release. */
let generation = 0;

export function onFix(listener: FixListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function publish(fix: Location, reported: number | null = null): void {
  position.heading = headingOf(fix, reported);
  position.fix = fix;
  position.problem = null;
  for (const listener of listeners) listener(fix);
}

function headingOf(fix: Location, reported: number | null): number | null {
  if (reported !== null && Number.isFinite(reported)) {
    headingFrom = fix;
    return ((reported % 360) + 360) % 360;
  }
  if (!headingFrom) {
    headingFrom = fix;
    return position.heading;
  }
  const from: [number, number] = [headingFrom.lat, headingFrom.lon];
  const to: [number, number] = [fix.lat, fix.lon];
  const step = distanceMetres(from, to);
  if (step < Math.max(HEADING_MIN_STEP_M, fix.accuracy_m)) return position.heading;
  headingFrom = fix;
  return bearingDegrees(from, to);
}

/** A fix as both the plugin and the webview give it; `heading` is null or NaN when standing still. */
interface RawFix {
  coords: { latitude: number; longitude: number; accuracy: number; heading?: number | null };
  timestamp: number;
}

const reportedHeading = (pos: RawFix): number | null => pos.coords.heading ?? null;

function fromGeolocation(pos: RawFix): Location {
  const accuracy = Math.round(pos.coords.accuracy);
  return {
    lat: pos.coords.latitude,
    lon: pos.coords.longitude,
    accuracy_m: accuracy,
    // Neither source says which provider answered; an accuracy of more than ~100 m is in practice always a
    // cell or Wi-Fi fix, a satellite fix is better than that.
    source: accuracy > 100 ? 'network' : 'gps',
    fixed_at: new Date(pos.timestamp || Date.now()).toISOString(),
  };
}

function problemOf(error: GeolocationPositionError): PositionProblem {
  if (error.code === error.PERMISSION_DENIED) return 'denied';
  if (error.code === error.TIMEOUT) return 'timeout';
  return 'unavailable';
}

async function pollSimulated(): Promise<boolean> {
  const sim = await simulatedLocation();
  if (!sim) return false;
  publish({ ...sim, fixed_at: new Date().toISOString() });
  return true;
}

/** The plugin's errors are plain text ("Location permission was denied.", "Location disabled."). */
function pluginProblem(error: string | undefined): PositionProblem {
  const text = (error ?? '').toLowerCase();
  if (text.includes('denied') || text.includes('permission')) return 'denied';
  if (text.includes('timeout') || text.includes('timed out')) return 'timeout';
  return 'unavailable';
}

function permitted(status: PermissionStatus): boolean {
  // Android 12+ lets people grant only the approximate position: still better than none.
  return status.location === 'granted' || status.coarseLocation === 'granted';
}

function asksAgain(status: PermissionStatus): boolean {
  return status.location === 'prompt' || status.location === 'prompt-with-rationale';
}

/**
 * Watches through the plugin. 'watching' when it does (or when a stop came meanwhile: nothing else is to
 * start), 'refused' without permission, 'absent' when a call rejected (then never tried again).
 */
async function startPlugin(mine: number): Promise<'watching' | 'refused' | 'absent'> {
  try {
    let status = await checkPermissions();
    if (!permitted(status) && asksAgain(status)) status = await requestPermissions(['location']);
    if (mine !== generation) return 'watching';
    if (!permitted(status)) return 'refused';
    let watched = false;
    const id = await watchPosition(PLUGIN_OPTIONS, (pos, error) => {
      if (mine !== generation) return;
      if (pos) {
        watched = true;
        publish(fromGeolocation(pos), reportedHeading(pos));
      } else {
        position.problem = pluginProblem(error);
      }
    });
    if (mine !== generation) {
      clearWatch(id).catch(() => undefined);
      return 'watching';
    }
    pluginWatchId = id;
    position.provider = 'plugin';
    // A first fix at once (the last known one, if recent), unless the watch was quicker.
    getCurrentPosition(PLUGIN_OPTIONS)
      .then((pos) => {
        if (mine === generation && !watched) publish(fromGeolocation(pos), reportedHeading(pos));
      })
      .catch(() => undefined);
    return 'watching';
  } catch {
    pluginUsable = false;
    return 'absent';
  }
}

function startWebview(): void {
  if (typeof navigator === 'undefined' || !navigator.geolocation) {
    position.problem = 'unsupported';
    return;
  }
  position.provider = 'webview';
  geoWatchId = navigator.geolocation.watchPosition(
    (pos) => publish(fromGeolocation(pos), reportedHeading(pos)),
    (error) => {
      position.problem = problemOf(error);
    },
    WEBVIEW_OPTIONS,
  );
}

async function start(): Promise<void> {
  const mine = ++generation;
  position.watching = true;
  position.provider = null;
  let simulated = false;
  try {
    simulated = await pollSimulated();
  } catch {
    // No simulated source (phones, or an older Rust side): the phone's own position it is.
  }
  if (mine !== generation) return;
  position.simulated = simulated;
  if (simulated) {
    position.provider = 'simulated';
    pollTimer = setInterval(() => {
      pollSimulated().catch(() => undefined);
    }, SIMULATED_POLL_MS);
    return;
  }
  if (pluginUsable && (await startPlugin(mine)) === 'watching') return;
  if (mine !== generation) return;
  startWebview();
}

function stop(): void {
  generation++;
  headingFrom = null;
  position.heading = null;
  position.watching = false;
  position.provider = null;
  if (geoWatchId !== null) navigator.geolocation.clearWatch(geoWatchId);
  geoWatchId = null;
  if (pluginWatchId !== null) clearWatch(pluginWatchId).catch(() => undefined);
  pluginWatchId = null;
  if (pollTimer !== null) clearInterval(pollTimer);
  pollTimer = null;
}

/** Forgets that the plugin failed, so the next start tries it again (tests). */
export function resetPositionSources(): void {
  pluginUsable = true;
}

/** Starts watching the position (if nobody did yet) on behalf of `holder`. */
export function acquire(holder: string): void {
  holders.add(holder);
  if (holders.size === 1 && !position.watching) void start();
}

/** Ends `holder`'s interest; watching stops when nobody is left. */
export function release(holder: string): void {
  holders.delete(holder);
  if (holders.size === 0) stop();
}

/** Whether a fix is recent enough to stand for "here, now" in a report. */
export function isFresh(fix: Location, maxAgeMs = 2 * 60 * 1000): boolean {
  return Date.now() - new Date(fix.fixed_at).getTime() <= maxAgeMs;
}
