// Which dictionary road a position is on, to fill in the report's road without typing.
import type { Dictionary } from '../shared/types';
import { ROAD_MATCH_M } from '../shared/limits';

const METRES_PER_DEGREE = 111320;

/** Distance in metres from p to the segment a–b, on a local flat projection (fine over a few hundred m). */
function toSegment(p: [number, number], a: [number, number], b: [number, number]): number {
  const k = Math.cos((p[0] * Math.PI) / 180);
  const ax = (a[1] - p[1]) * k;
  const ay = a[0] - p[0];
  const bx = (b[1] - p[1]) * k;
  const by = b[0] - p[0];
  const dx = bx - ax;
  const dy = by - ay;
  const lengthSquared = dx * dx + dy * dy;
  const s = lengthSquared === 0 ? 0 : Math.max(0, Math.min(1, -(ax * dx + ay * dy) / lengthSquared));
  const x = ax + s * dx;
  const y = ay + s * dy;
  return Math.sqrt(x * x + y * y) * METRES_PER_DEGREE;
}

/** The name of the nearest road within ROAD_MATCH_M, or null. */
export function nearestRoad(dict: Dictionary | null, lat: number, lon: number): string | null {
  let best: { name: string; distance: number } | null = null;
  for (const road of dict?.roads ?? []) {
    const points = road.points;
    for (let i = 0; i < points.length; i++) {
      const a = points[i];
      const b = points[i + 1] ?? a;
      const distance = toSegment([lat, lon], a, b);
      if (distance <= ROAD_MATCH_M && (!best || distance < best.distance)) best = { name: road.name, distance };
    }
  }
  return best?.name ?? null;
}
