// The base map the console's maps draw when the site configured no tile server (config.json): the offline
// package the admin uploaded for the phones, its tiles fetched from the server with the session's token (an
// <img> cannot send one), so the chief and the dispatcher see the streets the inspectors see.
import { shallowRef } from 'vue';
import L from 'leaflet';
import type { Basemap } from '../shared/types';
import { basemapTile, listBasemaps } from './api';
import { consoleConfig } from './config';

/** The package drawn; null without one (or before it is known). */
export const serverBasemap = shallowRef<Basemap | null>(null);
let asked = false;

/** Asks the server once per session which package there is; the one covering the configured centre first. */
export async function ensureServerBasemap(): Promise<void> {
  if (asked) return;
  asked = true;
  try {
    const offered = await listBasemaps();
    const [lat, lon] = consoleConfig.value.map.center;
    serverBasemap.value =
      offered.find(({ bounds: [w, s, e, n] }) => lon >= w && lon <= e && lat >= s && lat <= n) ?? offered[0] ?? null;
  } catch {
    asked = false;
  }
}

/** Forgets what was asked (sign-out, a package uploaded or removed). */
export function resetServerBasemap(): void {
  asked = false;
  serverBasemap.value = null;
}

/** A tile layer of a server package: each tile fetched with the token, shown from a blob URL. */
export function serverTileLayer(b: Basemap): L.TileLayer {
  const Layer = L.TileLayer.extend({
    createTile(coords: L.Coords, done: L.DoneCallback): HTMLImageElement {
      const img = document.createElement('img');
      img.alt = '';
      basemapTile(b.name, coords.z, coords.x, coords.y).then(
        (blob) => {
          const url = URL.createObjectURL(blob);
          img.onload = () => {
            URL.revokeObjectURL(url);
            done(undefined, img);
          };
          img.onerror = () => {
            URL.revokeObjectURL(url);
            done(new Error('tile'), img);
          };
          img.src = url;
        },
        (e: unknown) => done(e instanceof Error ? e : new Error('tile'), img),
      );
      return img;
    },
  });
  const TileLayer = Layer as unknown as new (url: string, options: L.TileLayerOptions) => L.TileLayer;
  return new TileLayer('', { minZoom: 3, maxZoom: b.maxzoom + 2, maxNativeZoom: b.maxzoom, minNativeZoom: b.minzoom });
}
