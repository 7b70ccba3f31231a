// The map's data: markers by state and kind, the datum shift and its inverse for a pin, the base map chosen.
import { describe, expect, it } from 'vitest';
import type { Basemap, MapLayers } from '../../shared/types';
import { basemapOf } from './harness';
import { bearingDegrees, wgs84ToGcj02 } from '../../shared/geo';
import { chooseBasemap, compassPoint, findingState, fromDisplay, markersOf, routeOf, toDisplay } from '../map/layers';

const finding = (id: string, fields: Partial<MapLayers['findings'][number]> = {}) => ({
  id,
  lat: 41.7968,
  lon: 123.4328,
  category: 'E0102',
  local_state: 'received',
  server_state: 'filed',
  case_state: 'dispatched',
  observed_at: '2026-12-04T08:00:00+08:00',
  ...fields,
});

const layers: MapLayers = {
  findings: [
    finding('f-draft', { local_state: 'draft', server_state: null, case_state: null }),
    finding('f-closed', { case_state: 'closed' }),
    finding('f-rejected', { local_state: 'received', server_state: 'rejected', case_state: null }),
  ],
  tasks: [{ id: 't-1', task_type: 'verify', title: null, case_no: '20261204-0001', category: 'C0101', due_at: null, lat: 41.8, lon: 123.44 }],
  cases: [{ case_no: '20261204-0002', category: 'E0102', state: 'dispatched', lat: 41.79, lon: 123.42 }],
  track: [],
};

function basemap(name: string, bounds: [number, number, number, number]): Basemap {
  return basemapOf(name, { bounds });
}

describe('map markers', () => {
  it('colour my findings by where they stand and open their pages', () => {
    const markers = markersOf(layers, null);
    expect(markers.map((m) => [m.key, m.state])).toEqual([
      ['case:20261204-0002', 'dispatched'],
      ['finding:f-draft', 'draft'],
      ['finding:f-closed', 'closed'],
      ['finding:f-rejected', 'rejected'],
      ['task:t-1', 'task'],
    ]);
    expect(new Set(markers.map((m) => m.color)).size).toBeGreaterThan(3);
    expect(routeOf(markers[1])).toEqual({ name: 'finding', params: { id: 'f-draft' } });
    expect(routeOf(markers[4])).toEqual({ name: 'task', params: { id: 't-1' } });
    expect(routeOf(markers[0])).toBeNull();
    expect(findingState(finding('q', { local_state: 'queued', server_state: null, case_state: null }))).toBe('queued');
  });

  it('are drawn shifted on a GCJ-02 base map, once, and a pin comes back to WGS-84', () => {
    const [wgs] = markersOf(layers, 'wgs84');
    const [gcj] = markersOf(layers, 'gcj02');
    expect(wgs.at).toEqual([41.79, 123.42]);
    expect(gcj.at).toEqual(wgs84ToGcj02(41.79, 123.42));
    const [lat, lon] = fromDisplay(...toDisplay(41.7968, 123.4328, 'gcj02'), 'gcj02');
    expect(lat).toBeCloseTo(41.7968, 7);
    expect(lon).toBeCloseTo(123.4328, 7);
    expect(fromDisplay(41.7968, 123.4328, 'wgs84')).toEqual([41.7968, 123.4328]);
  });
});

describe('the base map drawn', () => {
  it('is the installed package that covers where I am, else the first, else none', () => {
    const shenhe = basemap('shenhe', [123.40, 41.77, 123.46, 41.81]);
    const dadong = basemap('dadong', [123.46, 41.77, 123.52, 41.83]);
    expect(chooseBasemap([shenhe, dadong], [41.8, 123.5])?.name).toBe('dadong');
    expect(chooseBasemap([shenhe, dadong], [41.8, 123.42])?.name).toBe('shenhe');
    expect(chooseBasemap([shenhe, dadong], [30.0, 120.0])?.name).toBe('shenhe');
    expect(chooseBasemap([shenhe], null)?.name).toBe('shenhe');
    expect(chooseBasemap([], [41.8, 123.42])).toBeNull();
  });
});

describe('the way to a place', () => {
  it('is a bearing from north and its compass point', () => {
    const here: [number, number] = [41.7968, 123.4328];
    expect(bearingDegrees(here, [41.8068, 123.4328])).toBeCloseTo(0, 3);
    expect(bearingDegrees(here, [41.7968, 123.4428])).toBeCloseTo(90, 0);
    expect(bearingDegrees(here, [41.7868, 123.4328])).toBeCloseTo(180, 3);
    expect(compassPoint(bearingDegrees(here, [41.8, 123.437]))).toBe('ne');
    expect(compassPoint(350)).toBe('n');
    expect(compassPoint(200)).toBe('s');
    expect(compassPoint(-90)).toBe('w');
  });
});
