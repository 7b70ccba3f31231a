// The Leaflet map itself, mounted for real: clustered markers that answer a tap, the schematic roads
// without a base map, the tile URL of an installed package, and a pin that reports where it was put.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mount, type VueWrapper } from '@vue/test-utils';
import type { MapLayers } from '../../shared/types';
import { basemapOf } from './harness';
import PhoneMap from '../map/PhoneMap.vue';

let wrapper: VueWrapper | null = null;
afterEach(() => {
  wrapper?.unmount();
  wrapper = null;
  document.body.innerHTML = '';
});

const LAYERS: MapLayers = {
  findings: Array.from({ length: 3 }, (_, i) => ({
    id: `f-${i}`,
    lat: 41.79 + i * 0.01,
    lon: 123.43,
    category: 'E0102',
    local_state: 'received',
    server_state: 'filed',
    case_state: 'dispatched',
    observed_at: '2026-12-04T08:00:00+08:00',
  })),
  tasks: [],
  cases: [],
  track: [],
};

async function mountMap(props: Record<string, unknown>) {
  const host = document.createElement('div');
  host.style.width = '400px';
  host.style.height = '600px';
  document.body.appendChild(host);
  wrapper = mount(PhoneMap, { props: { height: '600px', ...props }, attachTo: host });
  await new Promise((r) => setTimeout(r, 0));
  return wrapper;
}

describe('PhoneMap', () => {
  // (Markers are drawn only inside the visible area, which a DOM without layout does not have: the app's
  // end-to-end test sees and taps them in a real WebKit.)
  it('draws the schematic roads without a base map, with a finite zoom range for the clusters', async () => {
    const w = await mountMap({
      layers: LAYERS,
      roads: [{ name: '中山路', grid: null, points: [[41.79, 123.42], [41.79, 123.44]] }],
    });
    expect(w.element.classList.contains('schematic')).toBe(true);
    expect(document.body.textContent).toContain('中山路');
    expect(w.attributes('data-markers')).toBe('3');
  });

  it('takes tiles from the installed package through the tiles scheme', async () => {
    const basemap = basemapOf('shenhe');
    const w = await mountMap({ layers: LAYERS, basemap });
    expect(w.element.classList.contains('schematic')).toBe(false);
    const tiles = [...document.querySelectorAll<HTMLImageElement>('img.leaflet-tile')].map((t) => t.getAttribute('src'));
    expect(tiles.length).toBeGreaterThan(0);
    expect(tiles.every((src) => /^tiles:\/\/localhost\/shenhe\/\d+\/\d+\/\d+$/.test(src ?? ''))).toBe(true);
  });

  it('moves the pin where the map is tapped and says where, in WGS-84', async () => {
    const w = await mountMap({ pin: [41.7968, 123.4328], basemap: null });
    expect(document.querySelectorAll('.leaflet-marker-draggable').length).toBe(1);
    const map = w.element as HTMLElement;
    map.dispatchEvent(new MouseEvent('click', { bubbles: true, clientX: 200, clientY: 300 }));
    const pinned = w.emitted('pin');
    expect(pinned).toHaveLength(1);
    const [lat, lon] = pinned![0] as [number, number];
    expect(Math.abs(lat - 41.7968)).toBeLessThan(0.01);
    expect(Math.abs(lon - 123.4328)).toBeLessThan(0.01);
  });

  it('draws my position with an arrow the way I am heading, and none when that is not known', async () => {
    const here = { lat: 41.7968, lon: 123.4328, accuracy_m: 8, source: 'gps', fixed_at: '2026-12-04T08:00:00Z' };
    const w = await mountMap({ here, heading: 90 });
    const arrow = document.querySelector<HTMLElement>('.map-heading span');
    expect(arrow?.style.transform).toBe('rotate(90deg)');
    expect(w.attributes('data-heading')).toBe('90');
    await w.setProps({ heading: null });
    expect(document.querySelector('.map-heading')).toBeNull();
    expect(w.attributes('data-heading')).toBe('');
  });

  it('outlines the grids in view with their names, and none once the dictionary has none', async () => {
    const square = (s: number, w: number): [number, number][][] => [[[s, w], [s, w + 0.004], [s + 0.004, w + 0.004], [s + 0.004, w], [s, w]]];
    const grids = [
      { code: 'G1', name: '中街西网格', team: null, inspectors: [], polygon: square(41.794, 123.426) },
      { code: 'G2', name: '中街东网格', team: null, inspectors: [], polygon: square(41.794, 123.430) },
      { code: 'FAR', name: '远处网格', team: null, inspectors: [], polygon: square(41.9, 123.6) },
    ];
    // A DOM without layout gives the map no size: this one is 400 × 600 pixels, about 0.009° wide at zoom 15.
    const width = vi.spyOn(HTMLElement.prototype, 'clientWidth', 'get').mockReturnValue(400);
    const height = vi.spyOn(HTMLElement.prototype, 'clientHeight', 'get').mockReturnValue(600);
    const w = await mountMap({ grids, center: [41.796, 123.430] });
    width.mockRestore();
    height.mockRestore();
    expect(w.attributes('data-grids')).toBe('2');
    const labels = [...document.querySelectorAll('.grid-label')].map((e) => e.textContent);
    expect(labels.sort()).toEqual(['中街东网格', '中街西网格']);
    await w.setProps({ center: null, grids: [] });
    expect(w.attributes('data-grids')).toBe('0');
  });
});
