// Handing a place over to the phone's navigation app: AMap (高德), Baidu Maps (百度) or Tencent Maps (腾讯), by
// their URL schemes. Positions are WGS-84 everywhere in Tiejiaoban; each app wants its own datum, converted
// here once: AMap and Tencent take GCJ-02, Baidu takes BD-09 (`coord_type=bd09ll`).
//
// Only phones have these apps; desktop runs (field laptops, tests) show no buttons. The URLs are opened
// through the opener plugin, whose permission on phones is scoped to exactly these schemes
// (src-tauri/capabilities/mobile.json).
import { openUrl } from '@tauri-apps/plugin-opener';
import { gcj02ToBd09, wgs84ToGcj02 } from '../shared/geo';

export type NavApp = 'amap' | 'baidu' | 'tencent';
export const NAV_APPS: readonly NavApp[] = ['amap', 'baidu', 'tencent'];

export type PhoneOs = 'android' | 'ios';

/** What the app is asked to lead to: a WGS-84 place and the name shown at the destination. */
export interface NavTarget {
  lat: number;
  lon: number;
  name: string;
}

/** Which phone this webview runs on, or null on desktop. iPadOS reports a desktop Safari with touch. */
export function phoneOs(
  userAgent: string = navigator.userAgent,
  touchPoints: number = navigator.maxTouchPoints ?? 0,
): PhoneOs | null {
  if (/Android/i.test(userAgent)) return 'android';
  if (/iPhone|iPad|iPod/.test(userAgent)) return 'ios';
  if (/Macintosh/.test(userAgent) && touchPoints > 1) return 'ios';
  return null;
}

/** Six decimals: about 10 cm, all the apps read. */
const coord = (value: number): string => value.toFixed(6);

/** Names the apps show for the source, as each asks for it. */
const SOURCE = 'tiejiaoban';

/** The walking route to `target` in `app`, as that app's URL scheme on `os` spells it. */
export function navigationUrl(app: NavApp, target: NavTarget, os: PhoneOs): string {
  const name = encodeURIComponent(target.name);
  const [gLat, gLon] = wgs84ToGcj02(target.lat, target.lon);
  switch (app) {
    case 'amap': {
      // dev=0: the coordinates are already GCJ-02; t=2: on foot.
      const query = `dlat=${coord(gLat)}&dlon=${coord(gLon)}&dname=${name}&dev=0&t=2&sourceApplication=${SOURCE}`;
      return os === 'android' ? `amapuri://route/plan/?${query}` : `iosamap://path?${query}`;
    }
    case 'baidu': {
      const [bLat, bLon] = gcj02ToBd09(gLat, gLon);
      const src = `${os === 'android' ? 'andr' : 'ios'}.${SOURCE}.patrol`;
      // The parts of the destination are joined by `|`, escaped: iOS refuses to parse a URL holding it.
      return (
        `baidumap://map/direction?destination=name:${name}%7Clatlng:${coord(bLat)},${coord(bLon)}` +
        `&coord_type=bd09ll&mode=walking&src=${src}`
      );
    }
    case 'tencent':
      return `qqmap://map/routeplan?type=walk&to=${name}&tocoord=${coord(gLat)},${coord(gLon)}&referer=${SOURCE}`;
  }
}

/** Opens the route in `app`; rejects when the app is not installed (the phone has no handler for it). */
export async function navigate(app: NavApp, target: NavTarget, os: PhoneOs): Promise<void> {
  await openUrl(navigationUrl(app, target, os));
}
