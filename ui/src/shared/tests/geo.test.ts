// The datum conversion, against a published reference point, and its inverse.
import { describe, expect, it } from 'vitest';
import { distanceMetres, gcj02ToBd09, gcj02ToWgs84, wgs84ToGcj02 } from '../geo';

describe('GCJ-02', () => {
  it('shifts a point in Beijing as the reference implementation does', () => {
    // The widely used coordtransform's example: wgs84togcj02(116.404, 39.915).
    const [lat, lon] = wgs84ToGcj02(39.915, 116.404);
    expect(lat).toBeCloseTo(39.91640428150164, 9);
    expect(lon).toBeCloseTo(116.41024449916938, 9);
  });

  it('leaves points outside China alone', () => {
    expect(wgs84ToGcj02(48.8584, 2.2945)).toEqual([48.8584, 2.2945]);
  });

  it('goes back from a GCJ-02 pin to WGS-84 within a centimetre', () => {
    for (const [lat, lon] of [
      [41.7968, 123.4328],
      [22.5431, 114.0579],
      [39.915, 116.404],
    ]) {
      const [gLat, gLon] = wgs84ToGcj02(lat, lon);
      expect(distanceMetres([gLat, gLon], [lat, lon])).toBeGreaterThan(100);
      const back = gcj02ToWgs84(gLat, gLon);
      expect(distanceMetres(back, [lat, lon])).toBeLessThan(0.01);
    }
  });
});

describe('BD-09', () => {
  it('shifts a GCJ-02 point as the reference implementation does', () => {
    // coordtransform's example: gcj02tobd09(116.404, 39.915) = (116.41036949371029, 39.92133699351021).
    const [lat, lon] = gcj02ToBd09(39.915, 116.404);
    expect(lat).toBeCloseTo(39.92133699351021, 9);
    expect(lon).toBeCloseTo(116.41036949371029, 9);
  });
});
