// What the phone's map shows, as plain data: markers from the store's layers (coloured by state, each
// opening its finding or task), positions shifted once for drawing on a GCJ-02 base map and shifted back for
// a pin, and the base map a position falls in. The Leaflet component (PhoneMap.vue) only draws these.
import type { Basemap, MapCase, MapFinding, MapLayers, MapTask } from '../../shared/types';
import { gcj02ToWgs84, wgs84ToGcj02 } from '../../shared/geo';

export type Datum = Basemap['datum'];
export type MarkerKind = 'finding' | 'task' | 'case';

export interface MapMarker {
  /** Unique across kinds: `finding:<id>`, `task:<id>`, `case:<case_no>`. */
  key: string;
  kind: MarkerKind;
  id: string;
  /** Where to draw it, in the base map's datum. */
  at: [number, number];
  color: string;
  /** A state key for the legend and tests: a finding's status, `task`, or the case's state. */
  state: string;
  category: string;
}

/** A WGS-84 position as drawn on a base map of `datum` (shifted once for GCJ-02). */
export function toDisplay(lat: number, lon: number, datum: Datum | null): [number, number] {
  return datum === 'gcj02' ? wgs84ToGcj02(lat, lon) : [lat, lon];
}

/** A point picked on a base map of `datum`, back in WGS-84 (what is stored and sent). */
export function fromDisplay(lat: number, lon: number, datum: Datum | null): [number, number] {
  return datum === 'gcj02' ? gcj02ToWgs84(lat, lon) : [lat, lon];
}

/** Colours of the states, as the findings list shows them. */
export const STATE_COLORS: Record<string, string> = {
  draft: '#969799',
  queued: '#ff976a',
  received: '#1989fa',
  filed: '#1989fa',
  dispatched: '#1989fa',
  accepted: '#7232dd',
  handled: '#7232dd',
  suspended: '#969799',
  closed: '#07c160',
  merged: '#07c160',
  rejected: '#ee0a24',
  voided: '#969799',
  task: '#ee0a24',
  case: '#ff976a',
};

/** Where a finding of mine stands, most telling first: the case's state, else the server's, else the phone's. */
export function findingState(f: MapFinding): string {
  if (f.local_state === 'draft' || f.local_state === 'queued') return f.local_state;
  if (f.local_state === 'rejected' || f.server_state === 'rejected') return 'rejected';
  if (f.server_state === 'merged') return 'merged';
  return f.case_state ?? 'received';
}

export function markersOf(layers: MapLayers, datum: Datum | null): MapMarker[] {
  const finding = (f: MapFinding): MapMarker => {
    const state = findingState(f);
    return {
      key: `finding:${f.id}`,
      kind: 'finding',
      id: f.id,
      at: toDisplay(f.lat, f.lon, datum),
      color: STATE_COLORS[state] ?? STATE_COLORS.received,
      state,
      category: f.category,
    };
  };
  const task = (t: MapTask): MapMarker => ({
    key: `task:${t.id}`,
    kind: 'task',
    id: t.id,
    at: toDisplay(t.lat, t.lon, datum),
    color: STATE_COLORS.task,
    state: 'task',
    category: t.category,
  });
  const teamCase = (c: MapCase): MapMarker => ({
    key: `case:${c.case_no}`,
    kind: 'case',
    id: c.case_no,
    at: toDisplay(c.lat, c.lon, datum),
    color: STATE_COLORS.case,
    state: c.state,
    category: c.category,
  });
  return [...layers.cases.map(teamCase), ...layers.findings.map(finding), ...layers.tasks.map(task)];
}

/** The page a marker opens; a team case has no page on the phone (its popup says what it is). */
export function routeOf(marker: MapMarker): { name: string; params: { id: string } } | null {
  if (marker.kind === 'finding') return { name: 'finding', params: { id: marker.id } };
  if (marker.kind === 'task') return { name: 'task', params: { id: marker.id } };
  return null;
}

/** Whether a WGS-84 position is inside a package's bounds ([west, south, east, north]). */
export function covers(b: Basemap, lat: number, lon: number): boolean {
  const [west, south, east, north] = b.bounds;
  return lon >= west && lon <= east && lat >= south && lat <= north;
}

/** The installed package to draw: the one covering where I am, else the first; none when none is installed. */
export function chooseBasemap(installed: Basemap[], here: [number, number] | null): Basemap | null {
  if (installed.length === 0) return null;
  return (here && installed.find((b) => covers(b, here[0], here[1]))) || installed[0];
}

export const COMPASS = ['n', 'ne', 'e', 'se', 's', 'sw', 'w', 'nw'] as const;
export type CompassPoint = (typeof COMPASS)[number];

/** The nearest of the eight compass points to a bearing. */
export function compassPoint(bearing: number): CompassPoint {
  return COMPASS[Math.round((((bearing % 360) + 360) % 360) / 45) % 8];
}
