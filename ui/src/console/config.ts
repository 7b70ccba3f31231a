// Site settings read at start-up from `/console/config.json`, which a district may place next to the built
// console (it is not part of the build). Without it the maps draw on a plain background: many sites have
// no internet access and no tile server of their own.
import { shallowRef } from 'vue';

export interface MapConfig {
  /** A Leaflet tile URL template, e.g. `https://tiles.example/{z}/{x}/{y}.png`; null for no base map. */
  tileUrl: string | null;
  attribution: string;
  subdomains: string;
  maxZoom: number;
  /** The datum of the tiles: `gcj02` for most Chinese online maps (AMap, Tencent), else `wgs84`. */
  datum: 'wgs84' | 'gcj02';
  /** Where an empty map is centred, [lat, lon]. */
  center: [number, number];
  zoom: number;
}

export interface ConsoleConfig {
  map: MapConfig;
}

const DEFAULTS: ConsoleConfig = {
  map: {
    tileUrl: null,
    attribution: '',
    subdomains: 'abc',
    maxZoom: 19,
    datum: 'wgs84',
    center: [41.7968, 123.4328],
    zoom: 13,
  },
};

export const consoleConfig = shallowRef<ConsoleConfig>(DEFAULTS);

function pick<T>(value: unknown, check: (v: unknown) => boolean, fallback: T): T {
  return check(value) ? (value as T) : fallback;
}

const isString = (v: unknown) => typeof v === 'string' && v !== '';
const isNumber = (v: unknown) => typeof v === 'number' && Number.isFinite(v);

/** Reads config.json; a missing or broken file leaves the defaults. */
export async function loadConsoleConfig(): Promise<void> {
  try {
    const response = await fetch(`${import.meta.env.BASE_URL}config.json`, { cache: 'no-cache' });
    if (!response.ok) return;
    const raw = (await response.json()) as { map?: Record<string, unknown> };
    const map = raw.map ?? {};
    const d = DEFAULTS.map;
    consoleConfig.value = {
      map: {
        tileUrl: pick(map.tile_url, isString, d.tileUrl),
        attribution: pick(map.attribution, (v) => typeof v === 'string', d.attribution),
        subdomains: pick(map.subdomains, isString, d.subdomains),
        maxZoom: pick(map.max_zoom, isNumber, d.maxZoom),
        datum: map.datum === 'gcj02' ? 'gcj02' : 'wgs84',
        center: pick(
          map.center,
          (v) => Array.isArray(v) && v.length === 2 && v.every(isNumber),
          d.center,
        ),
        zoom: pick(map.zoom, isNumber, d.zoom),
      },
    };
  } catch {
    // No config (404 answered with the SPA's index.html, or offline): keep the defaults.
  }
}
