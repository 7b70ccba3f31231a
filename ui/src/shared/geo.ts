// Coordinate helpers for drawing. Positions are stored and sent as WGS-84; a GCJ-02 base map (the datum of
// most Chinese online maps, offset by up to ~0.5 km) needs them shifted once, for display only.

/** Krasovsky 1940 ellipsoid, the reference of the GCJ-02 offset. */
const SEMI_MAJOR_AXIS = 6378245.0;
const ECCENTRICITY_SQUARED = 0.00669342162296594323;

/** GCJ-02 applies only inside this rough box around mainland China; outside it equals WGS-84. */
function outsideChina(lat: number, lon: number): boolean {
  return lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271;
}

function latOffset(x: number, y: number): number {
  let r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
  r += ((20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0) / 3.0;
  r += ((20.0 * Math.sin(y * Math.PI) + 40.0 * Math.sin((y / 3.0) * Math.PI)) * 2.0) / 3.0;
  r += ((160.0 * Math.sin((y / 12.0) * Math.PI) + 320.0 * Math.sin((y * Math.PI) / 30.0)) * 2.0) / 3.0;
  return r;
}

function lonOffset(x: number, y: number): number {
  let r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
  r += ((20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0) / 3.0;
  r += ((20.0 * Math.sin(x * Math.PI) + 40.0 * Math.sin((x / 3.0) * Math.PI)) * 2.0) / 3.0;
  r += ((150.0 * Math.sin((x / 12.0) * Math.PI) + 300.0 * Math.sin((x / 30.0) * Math.PI)) * 2.0) / 3.0;
  return r;
}

/** WGS-84 → GCJ-02, as [lat, lon]. */
export function wgs84ToGcj02(lat: number, lon: number): [number, number] {
  if (outsideChina(lat, lon)) return [lat, lon];
  const x = lon - 105.0;
  const y = lat - 35.0;
  const radLat = (lat / 180.0) * Math.PI;
  let magic = Math.sin(radLat);
  magic = 1 - ECCENTRICITY_SQUARED * magic * magic;
  const sqrtMagic = Math.sqrt(magic);
  const dLat =
    (latOffset(x, y) * 180.0) /
    (((SEMI_MAJOR_AXIS * (1 - ECCENTRICITY_SQUARED)) / (magic * sqrtMagic)) * Math.PI);
  const dLon = (lonOffset(x, y) * 180.0) / ((SEMI_MAJOR_AXIS / sqrtMagic) * Math.cos(radLat) * Math.PI);
  return [lat + dLat, lon + dLon];
}

/**
 * GCJ-02 → WGS-84, as [lat, lon]: the inverse of `wgs84ToGcj02`, found by iterating it (the offset varies
 * slowly, so a few steps reach well under a centimetre). For a pin placed on a GCJ-02 base map.
 */
export function gcj02ToWgs84(lat: number, lon: number): [number, number] {
  let [wLat, wLon] = [lat, lon];
  for (let i = 0; i < 8; i++) {
    const [gLat, gLon] = wgs84ToGcj02(wLat, wLon);
    const dLat = gLat - lat;
    const dLon = gLon - lon;
    wLat -= dLat;
    wLon -= dLon;
    if (Math.abs(dLat) < 1e-10 && Math.abs(dLon) < 1e-10) break;
  }
  return [wLat, wLon];
}

/**
 * GCJ-02 → BD-09, as [lat, lon]: Baidu's own datum, a further shift of GCJ-02 (about 0.006°), which Baidu
 * Maps expects unless told otherwise.
 */
export function gcj02ToBd09(lat: number, lon: number): [number, number] {
  const k = (Math.PI * 3000.0) / 180.0;
  const z = Math.sqrt(lon * lon + lat * lat) + 0.00002 * Math.sin(lat * k);
  const theta = Math.atan2(lat, lon) + 0.000003 * Math.cos(lon * k);
  return [z * Math.sin(theta) + 0.006, z * Math.cos(theta) + 0.0065];
}

/** Great-circle distance in metres (haversine), good enough for track lengths. */
export function distanceMetres(a: [number, number], b: [number, number]): number {
  const R = 6371008.8;
  const rad = Math.PI / 180;
  const dLat = (b[0] - a[0]) * rad;
  const dLon = (b[1] - a[1]) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a[0] * rad) * Math.cos(b[0] * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * R * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** The initial bearing from one WGS-84 point to another, in degrees clockwise from north (0–360). */
export function bearingDegrees(from: [number, number], to: [number, number]): number {
  const rad = Math.PI / 180;
  const [lat1, lat2] = [from[0] * rad, to[0] * rad];
  const dLon = (to[1] - from[1]) * rad;
  const y = Math.sin(dLon) * Math.cos(lat2);
  const x = Math.cos(lat1) * Math.sin(lat2) - Math.sin(lat1) * Math.cos(lat2) * Math.cos(dLon);
  return ((Math.atan2(y, x) / rad) + 360) % 360;
}
