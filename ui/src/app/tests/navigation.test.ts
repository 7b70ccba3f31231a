// Handing a task's place to the phone's navigation apps: each app's URL scheme, each app's datum, which
// phones get the buttons, and the phone capability that lets exactly these URLs out.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gcj02ToBd09, wgs84ToGcj02 } from '../../shared/geo';
import { NAV_APPS, navigationUrl, phoneOs, type PhoneOs } from '../navigation';

// A place in Shenyang (WGS-84), where GCJ-02 is some 500 m off.
const TARGET = { lat: 41.7968, lon: 123.4328, name: '中山路 12 号' };
const [gLat, gLon] = wgs84ToGcj02(TARGET.lat, TARGET.lon);
const [bLat, bLon] = gcj02ToBd09(gLat, gLon);

/** The query of a custom-scheme URL, decoded. */
const query = (url: string) => new URLSearchParams(url.slice(url.indexOf('?') + 1));

describe('navigation URLs', () => {
  it('gives AMap GCJ-02 coordinates, marked as already shifted, on foot', () => {
    const android = navigationUrl('amap', TARGET, 'android');
    expect(android.startsWith('amapuri://route/plan/?')).toBe(true);
    const q = query(android);
    expect(Number(q.get('dlat'))).toBeCloseTo(gLat, 6);
    expect(Number(q.get('dlon'))).toBeCloseTo(gLon, 6);
    expect(q.get('dev')).toBe('0');
    expect(q.get('t')).toBe('2');
    expect(q.get('dname')).toBe(TARGET.name);
    // The shift is real: the raw WGS-84 numbers would put the inspector ~500 m off.
    expect(Math.abs(Number(q.get('dlon')) - TARGET.lon)).toBeGreaterThan(0.004);

    const ios = navigationUrl('amap', TARGET, 'ios');
    expect(ios.startsWith('iosamap://path?')).toBe(true);
    expect(query(ios).get('dlat')).toBe(q.get('dlat'));
  });

  it('gives Baidu Maps BD-09 coordinates and says so', () => {
    const url = navigationUrl('baidu', TARGET, 'android');
    expect(url.startsWith('baidumap://map/direction?')).toBe(true);
    // Nothing a strict URL parser (iOS's) refuses.
    expect(url).not.toMatch(/[|\s]/);
    const q = query(url);
    expect(q.get('coord_type')).toBe('bd09ll');
    expect(q.get('mode')).toBe('walking');
    expect(q.get('src')).toBe('andr.tiejiaoban.patrol');
    const match = /^name:(.*)\|latlng:([\d.]+),([\d.]+)$/.exec(q.get('destination') ?? '');
    expect(match).not.toBeNull();
    expect(match![1]).toBe(TARGET.name);
    expect(Number(match![2])).toBeCloseTo(bLat, 6);
    expect(Number(match![3])).toBeCloseTo(bLon, 6);
    expect(query(navigationUrl('baidu', TARGET, 'ios')).get('src')).toBe('ios.tiejiaoban.patrol');
  });

  it('gives Tencent Maps GCJ-02 coordinates', () => {
    const url = navigationUrl('tencent', TARGET, 'ios');
    expect(url.startsWith('qqmap://map/routeplan?')).toBe(true);
    const q = query(url);
    expect(q.get('type')).toBe('walk');
    expect(q.get('to')).toBe(TARGET.name);
    const [lat, lon] = (q.get('tocoord') ?? '').split(',').map(Number);
    expect(lat).toBeCloseTo(gLat, 6);
    expect(lon).toBeCloseTo(gLon, 6);
  });

  it('escapes a name that holds the URL syntax', () => {
    const url = navigationUrl('tencent', { ...TARGET, name: 'A&B=C?' }, 'android');
    expect(query(url).get('to')).toBe('A&B=C?');
  });
});

describe('which phones get the buttons', () => {
  it('tells Android and iOS from a desktop webview', () => {
    const android = 'Mozilla/5.0 (Linux; Android 14; 22081212C Build/UKQ1.230917.001; wv) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36';
    const iphone = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148';
    const ipad = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)';
    const linux = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/605.1.15 (KHTML, like Gecko)';
    expect(phoneOs(android, 5)).toBe('android');
    expect(phoneOs(iphone, 5)).toBe('ios');
    expect(phoneOs(ipad, 5)).toBe('ios');
    expect(phoneOs(ipad, 0)).toBeNull();
    expect(phoneOs(linux, 0)).toBeNull();
  });
});

const capabilityFile = (name: string) => resolve(__dirname, '../../../../src-tauri/capabilities', `${name}.json`);

describe('the phone capability', () => {
  // src-tauri/capabilities/mobile.json scopes the opener plugin: a URL it does not match is refused on the
  // phone, where no test here can run. The scope's patterns are globs in which `*` matches anything.
  const capability = JSON.parse(
    readFileSync(capabilityFile('mobile'), 'utf8'),
  ) as { permissions: (string | { identifier: string; allow?: { url: string }[] })[] };
  const opener = capability.permissions.find(
    (p): p is { identifier: string; allow: { url: string }[] } => typeof p === 'object' && p.identifier === 'opener:allow-open-url',
  );
  const patterns = (opener?.allow ?? []).map(
    ({ url }) => new RegExp(`^${url.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`),
  );
  const allowed = (url: string) => patterns.some((p) => p.test(url));

  it('lets out every navigation URL the app makes, and nothing else', () => {
    expect(patterns.length).toBeGreaterThan(0);
    for (const app of NAV_APPS) {
      for (const os of ['android', 'ios'] as PhoneOs[]) expect(allowed(navigationUrl(app, TARGET, os))).toBe(true);
    }
    expect(allowed('https://example.com/')).toBe(false);
    expect(allowed('file:///data/data/app/tiejiaoban.db')).toBe(false);
    expect(allowed('tel:110')).toBe(false);
  });

  it('is not granted on desktop builds, which show no buttons', () => {
    const desktop = readFileSync(capabilityFile('desktop'), 'utf8');
    expect(desktop).not.toContain('opener:');
  });
});
