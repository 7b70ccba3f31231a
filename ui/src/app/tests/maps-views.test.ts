// The map tab and the offline maps page against mocked Tauri commands: what is drawn from the store, where
// a marker leads, and downloading a base map (Wi-Fi only unless the inspector says otherwise).
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Basemap, BasemapOffer, MapLayers } from '../../shared/types';
import PhoneMap from '../map/PhoneMap.vue';
import type { MapMarker } from '../map/layers';
import { basemapOf, byTestId, mountApp, resetApp, settle, toastText } from './harness';

afterEach(() => {
  resetApp();
  vi.restoreAllMocks();
});

const LAYERS: MapLayers = {
  findings: [
    {
      id: 'f-1',
      lat: 41.7968,
      lon: 123.4328,
      category: 'C0102',
      local_state: 'received',
      server_state: 'filed',
      case_state: 'dispatched',
      observed_at: '2026-12-04T08:00:00+08:00',
    },
  ],
  tasks: [{ id: 't-1', task_type: 'verify', title: null, case_no: '20261204-0001', category: 'C0102', due_at: null, lat: 41.8, lon: 123.44 }],
  cases: [{ case_no: '20261204-0002', category: 'C0102', state: 'dispatched', lat: 41.79, lon: 123.42 }],
  track: [
    [41.79, 123.43],
    [41.791, 123.431],
  ],
};

function basemap(name: string, bytes = 50 * 1048576): Basemap {
  return basemapOf(name, { datum: 'gcj02', bytes });
}

describe('the map tab', () => {
  it('draws what the store holds, on the schematic map without a package, and opens what is tapped', async () => {
    const { wrapper, router, callsOf } = await mountApp(
      '/map',
      { map_layers: () => LAYERS, basemaps_installed: () => [] },
      { PhoneMap: true },
    );
    expect(callsOf('map_layers')).toHaveLength(1);
    expect(byTestId('map-schematic')).toHaveLength(1);
    expect(byTestId('map-count-findings')[0].textContent).toContain('我的上报 1');
    expect(byTestId('map-count-tasks')[0].textContent).toContain('待核查 1');
    expect(byTestId('map-count-cases')[0].textContent).toContain('片区案件 1');
    const map = wrapper.findComponent(PhoneMap);
    expect(map.props('layers')).toEqual(LAYERS);
    expect(map.props('basemap')).toBeNull();
    // The schematic map draws the dictionary's roads.
    expect(map.props('roads')).toEqual(expect.any(Array));
    const marker = (kind: MapMarker['kind'], id: string): MapMarker => ({
      key: `${kind}:${id}`,
      kind,
      id,
      at: [41.8, 123.4],
      color: '#000',
      state: 'dispatched',
      category: 'C0102',
    });
    map.vm.$emit('select', marker('case', '20261204-0002'));
    await settle();
    expect(document.body.textContent).toContain('案件 20261204-0002');
    expect(document.body.textContent).toContain('状态: 已派遣');
    map.vm.$emit('select', marker('task', 't-1'));
    await settle();
    expect(router.currentRoute.value.name).toBe('task');
    expect(router.currentRoute.value.params.id).toBe('t-1');
  });

  it('uses the installed package that covers the position', async () => {
    const elsewhere = { ...basemap('elsewhere'), bounds: [116.3, 39.8, 116.5, 40.0] as [number, number, number, number] };
    const { wrapper } = await mountApp(
      '/map',
      {
        map_layers: () => LAYERS,
        basemaps_installed: () => [elsewhere, basemap('shenhe')],
        simulated_location: () => ({ lat: 41.7968, lon: 123.4328, accuracy_m: 8, source: 'gps' }),
      },
      { PhoneMap: true },
    );
    await settle(4);
    expect(byTestId('map-basemap')[0].textContent).toContain('离线地图: shenhe');
    expect(wrapper.findComponent(PhoneMap).props('basemap')).toMatchObject({ name: 'shenhe', datum: 'gcj02' });
    expect(wrapper.findComponent(PhoneMap).props('here')).toMatchObject({ lat: 41.7968, lon: 123.4328 });
  });
});

describe('offline maps', () => {
  const offers = (): BasemapOffer[] => [
    { basemap: basemap('shenhe'), held: 'none', partial_bytes: 0 },
    { basemap: basemap('dadong', 20 * 1048576), held: 'partial', partial_bytes: 5 * 1048576 },
    { basemap: basemap('heping'), held: 'installed', partial_bytes: 0 },
  ];

  it('lists what the server offers with what the phone holds, and asks before using mobile data', async () => {
    let downloads = 0;
    // The second download (over mobile data) runs until the test lets it finish.
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const { callsOf } = await mountApp('/maps/offline', {
      basemaps_installed: () => [basemap('heping')],
      basemaps_offered: () => offers(),
      basemap_download: async (args) => {
        downloads += 1;
        if (!args.anyway) throw { code: 'needs_wifi', message: 'Wi-Fi only' };
        await held;
        return basemap(String(args.name));
      },
    });
    const rows = byTestId('offline-map');
    expect(rows.map((r) => [r.dataset.name, r.dataset.held])).toEqual([
      ['shenhe', 'none'],
      ['dadong', 'partial'],
      ['heping', 'installed'],
    ]);
    expect(rows[0].textContent).toContain('50.0 MB');
    expect(rows[1].textContent).toContain('已下载 25%');
    expect(rows[1].textContent).toContain('继续下载');
    expect(rows[2].textContent).toContain('已下载');

    (rows[1].querySelector('[data-testid="offline-map-download"]') as HTMLElement).click();
    await settle(4);
    expect(callsOf('basemap_download')[0].args).toMatchObject({ name: 'dadong', anyway: false });
    // On mobile data: the size still to come, and a choice.
    expect(document.body.textContent).toContain('约 15.0 MB');
    (document.querySelector('.van-dialog__confirm') as HTMLElement).click();
    await settle(2);
    // While the download over mobile data runs, its progress shows and no other download can start.
    expect(byTestId('offline-map-progress')).toHaveLength(1);
    expect(byTestId('offline-map-download').every((b) => b.hasAttribute('disabled'))).toBe(true);
    release();
    await settle(6);
    expect(callsOf('basemap_download')[1].args).toMatchObject({ name: 'dadong', anyway: true });
    expect(downloads).toBe(2);
    expect(toastText()).toContain('已下载 dadong');
  });

  it('still shows the maps on the phone when the server cannot be reached', async () => {
    await mountApp('/maps/offline', {
      basemaps_installed: () => [basemap('heping')],
      basemaps_offered: () => {
        throw { code: 'unreachable', message: 'no route' };
      },
    });
    expect(byTestId('offline-maps-unreachable')).toHaveLength(1);
    expect(byTestId('offline-map-here').map((r) => r.dataset.name)).toEqual(['heping']);
  });

  it('has a setting for downloading on Wi-Fi only, on by default', async () => {
    const settings = { photo_max_edge: 1600, photo_quality: 85, wifi_only_photos: false, stamp: true, language: 'zh-CN', wifi_only_basemaps: true };
    const { callsOf } = await mountApp('/settings', {
      settings_get: () => settings,
      settings_set: (args) => args.settings,
    });
    const [toggle] = byTestId('settings-wifi-only-maps');
    expect(toggle.classList.contains('van-switch--on')).toBe(true);
    toggle.click();
    await settle(4);
    expect(callsOf('settings_set')[0].args.settings).toMatchObject({ wifi_only_basemaps: false });
    expect(byTestId('settings-offline-maps')).toHaveLength(1);
  });
});

describe('a verification task', () => {
  it('shows the place on a map, how far it is and which way', async () => {
    const task = {
      id: 't-1', task_type: 'verify', title: null, photos: [], case_no: '20261120-0011', state: 'open', due_at: null, result: null,
      category: 'E0102', description: '垃圾已清运', address: null, lat: 41.8, lon: 123.437,
    };
    const { wrapper } = await mountApp(
      '/tasks/t-1',
      {
        tasks: () => [task],
        basemaps_installed: () => [],
        simulated_location: () => ({ lat: 41.7968, lon: 123.4328, accuracy_m: 8, source: 'gps' }),
      },
      { PhoneMap: true },
    );
    await settle(4);
    const [way] = byTestId('task-way');
    // About 490 m to the north-east.
    expect(way.dataset.dir).toBe('ne');
    expect(Number(way.dataset.metres)).toBeGreaterThan(450);
    expect(Number(way.dataset.metres)).toBeLessThan(530);
    expect(way.textContent).toContain('东北');
    const map = wrapper.findComponent(PhoneMap);
    expect(map.props('layers')?.tasks).toMatchObject([{ id: 't-1', lat: 41.8, lon: 123.437 }]);
  });

  const TASK = {
    id: 't-1', task_type: 'verify', title: null, photos: [], case_no: '20261120-0011', state: 'open', due_at: null, result: null,
    category: 'E0102', description: '垃圾已清运', address: '青年大街 8 号', lat: 41.8, lon: 123.437,
  };

  it('offers the phone\'s navigation apps, and says so when the app is missing', async () => {
    vi.spyOn(navigator, 'userAgent', 'get').mockReturnValue('Mozilla/5.0 (Linux; Android 14; wv) AppleWebKit/537.36 Mobile');
    let installed = true;
    const { callsOf } = await mountApp(
      '/tasks/t-1',
      {
        tasks: () => [TASK],
        basemaps_installed: () => [],
        simulated_location: () => null,
        'plugin:opener|open_url': () => {
          if (!installed) throw 'Failed to open URL: no activity found';
          return null;
        },
      },
      { PhoneMap: true },
    );
    await settle(4);
    expect(byTestId('task-navigate')[0].textContent).toContain('导航前往');
    byTestId('task-navigate-amap')[0].click();
    await settle();
    const [opened] = callsOf('plugin:opener|open_url');
    const url = String(opened.args.url);
    expect(url.startsWith('amapuri://route/plan/?')).toBe(true);
    expect(url).toContain(encodeURIComponent('青年大街 8 号'));

    installed = false;
    byTestId('task-navigate-baidu')[0].click();
    await settle();
    expect(String(callsOf('plugin:opener|open_url')[1].args.url).startsWith('baidumap://')).toBe(true);
    expect(toastText()).toContain('无法打开百度地图');
  });

  it('shows no navigation buttons on desktop', async () => {
    vi.spyOn(navigator, 'userAgent', 'get').mockReturnValue('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/605.1.15');
    await mountApp('/tasks/t-1', { tasks: () => [TASK], basemaps_installed: () => [], simulated_location: () => null }, { PhoneMap: true });
    await settle(4);
    expect(byTestId('task-detail')).toHaveLength(1);
    expect(byTestId('task-navigate')).toHaveLength(0);
  });
});
