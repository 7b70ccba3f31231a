// The roads of a patrol in the chief's patrol list: the longest few shown, the rest behind a "more".
import type { PatrolRoad } from '../shared/types';

/** Roads shown in a row of the patrol table before the rest are folded away. */
const ROADS_SHOWN = 3;

export function splitRoads(roads: PatrolRoad[] | undefined, shown = ROADS_SHOWN): { shown: PatrolRoad[]; rest: PatrolRoad[] } {
  // The server sorts them; sorting again keeps the order if an older one did not.
  const sorted = [...(roads ?? [])].sort((a, b) => b.distance_m - a.distance_m);
  return { shown: sorted.slice(0, shown), rest: sorted.slice(shown) };
}
