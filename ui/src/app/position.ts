// The phone's position, shared by the report page and the patrol track. The source is the webview's
// navigator.geolocation (tauri-plugin-geolocation needs Google Play services, missing on many phones sold
// in China), or Rust's simulated source when it has one (desktop runs and tests).
//
// Watching costs battery, so it runs only while someone holds it: `acquire` / `release` by name.
import { reactive } from 'vue';
import type { Location } from '../shared/types';
import { simulatedLocation } from './ipc';

/** Accuracy (metres) above which a report warns: worse than this rarely pins the right shopfront. */
export const POOR_ACCURACY_M = 50;

/** How often the simulated source is asked again. */
const SIMULATED_POLL_MS = 3000;

export type PositionProblem = 'denied' | 'unavailable' | 'timeout' | 'unsupported';

export const position = reactive({
  fix: null as Location | null,
  problem: null as PositionProblem | null,
  simulated: false,
  watching: false,
});

type FixListener = (fix: Location) => void;
const listeners = new Set<FixListener>();
const holders = new Set<string>();
let geoWatchId: number | null = null;
let pollTimer: ReturnType<typeof setInterval> | null = null;
/** Bumped on every stop, so a start still waiting for Rust does not resume after a release. */
let generation = 0;

export function onFix(listener: FixListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function publish(fix: Location): void {
  position.fix = fix;
  position.problem = null;
  for (const listener of listeners) listener(fix);
}

function fromGeolocation(pos: GeolocationPosition): Location {
  const accuracy = Math.round(pos.coords.accuracy);
  return {
    lat: pos.coords.latitude,
    lon: pos.coords.longitude,
    accuracy_m: accuracy,
    // The webview does not say which provider answered; an accuracy of more than ~100 m is in practice
    // always a cell or Wi-Fi fix, a satellite fix is better than that.
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

async function start(): Promise<void> {
  const mine = ++generation;
  position.watching = true;
  let simulated = false;
  try {
    simulated = await pollSimulated();
  } catch {
    // No simulated source (or an older Rust side): the phone's own position it is.
  }
  if (mine !== generation) return;
  position.simulated = simulated;
  if (simulated) {
    pollTimer = setInterval(() => {
      pollSimulated().catch(() => undefined);
    }, SIMULATED_POLL_MS);
    return;
  }
  if (typeof navigator === 'undefined' || !navigator.geolocation) {
    position.problem = 'unsupported';
    return;
  }
  geoWatchId = navigator.geolocation.watchPosition(
    (pos) => publish(fromGeolocation(pos)),
    (error) => {
      position.problem = problemOf(error);
    },
    { enableHighAccuracy: true, maximumAge: 5000, timeout: 30000 },
  );
}

function stop(): void {
  generation++;
  position.watching = false;
  if (geoWatchId !== null) navigator.geolocation.clearWatch(geoWatchId);
  geoWatchId = null;
  if (pollTimer !== null) clearInterval(pollTimer);
  pollTimer = null;
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
