// The console's pages of place against a fake server: coverage (rows in the server's order, days since walked
// as tags, the map fed by the dictionary's roads or grids), and the review list filtered by grid.
import { afterEach, describe, expect, it } from 'vitest';
import type { VueWrapper } from '@vue/test-utils';
import type { CoverageRow, Dictionary } from '../../shared/types';
import { addDays, today } from '../../shared/format';
import { forgetDictionary } from '../dictionary';
import CoverageView from '../views/CoverageView.vue';
import FindingsTab from '../views/review/FindingsTab.vue';
import MapView from '../components/MapView.vue';
import { reviewItem } from './fixtures';
import { answer, byTestId, fakeServer, mountConsole, settle, signOut, signedInAs } from './harness';

let wrapper: VueWrapper | null = null;
afterEach(() => {
  wrapper?.unmount();
  wrapper = null;
  signOut();
  forgetDictionary();
  document.body.innerHTML = '';
});

const square = (s: number, w: number): [number, number][][] => [[[s, w], [s, w + 0.01], [s + 0.01, w + 0.01], [s + 0.01, w], [s, w]]];
const DICTIONARY: Dictionary = {
  version: 3,
  categories: [],
  departments: [],
  roads: [
    { name: '中街路', grid: null, chief: 'chief1', points: [[41.7968, 123.428], [41.797, 123.4385]] },
    { name: '正阳街', grid: null, points: [[41.79, 123.429], [41.8, 123.4292]] },
  ],
  grids: [
    { code: 'G1', name: '中街西网格', team: '一中队', inspectors: ['inspector1'], polygon: square(41.79, 123.42) },
    { code: 'G2', name: '中街东网格', team: '一中队', inspectors: [], polygon: square(41.79, 123.43) },
  ],
};

const row = (key: string, fields: Partial<CoverageRow> = {}): CoverageRow => ({
  key,
  name: key,
  owner: null,
  walked_m: 0,
  visits: 0,
  last_walked_at: null,
  days_since_walked: null,
  findings: 0,
  ...fields,
});

describe('CoverageView', () => {
  it("shows the server's rows with days since walked, and the roads or the grids on the map", async () => {
    signedInAs('chief', '一中队');
    const [from, to] = [addDays(today(), -6), today()];
    const { calls } = fakeServer({
      'GET /api/v1/dictionary': () => answer(200, DICTIONARY),
      [`GET /api/v1/coverage?from=${from}&to=${to}&by=road`]: () =>
        answer(200, {
          from,
          to,
          by: 'road',
          rows: [
            row('正阳街'),
            row('中街路', { owner: 'chief1', walked_m: 812.3, visits: 2, days_since_walked: 4, last_walked_at: '2026-11-30T09:00:00+08:00' }),
          ],
        }),
      [`GET /api/v1/coverage?from=${from}&to=${to}&by=grid`]: () =>
        answer(200, { from, to, by: 'grid', rows: [row('G2', { name: '中街东网格' }), row('G1', { name: '中街西网格', walked_m: 300, visits: 1, days_since_walked: 0 })] }),
    });
    wrapper = await mountConsole(CoverageView, {}, { MapView: true });
    await settle();
    const rows = byTestId('coverage-row').filter((e) => e.closest('tr'));
    expect(rows.map((e) => [e.dataset.key, e.dataset.days])).toEqual([
      ['正阳街', ''],
      ['中街路', '4'],
    ]);
    const table = byTestId('coverage-table')[0];
    expect(table.textContent).toContain('未巡查');
    expect(table.textContent).toContain('4 天');
    expect(byTestId('coverage-summary')[0].dataset).toMatchObject({ walked: '1', total: '2' });
    const map = wrapper.findComponent(MapView);
    const tracks = map.props('tracks') as { id: string; color: string }[];
    expect(tracks.map((t) => [t.id, t.color])).toEqual([
      ['中街路', '#e6a23c'],
      ['正阳街', '#f56c6c'],
    ]);
    expect(map.props('areas')).toEqual([]);

    byTestId('coverage-by-grid')[0].querySelector('input')!.click();
    await settle();
    expect(calls.some((c) => c.path.endsWith('by=grid'))).toBe(true);
    const areas = wrapper.findComponent(MapView).props('areas') as { id: string; color: string }[];
    expect(areas.map((a) => [a.id, a.color])).toEqual([
      ['G1', '#67c23a'],
      ['G2', '#f56c6c'],
    ]);
    expect(wrapper.findComponent(MapView).props('tracks')).toEqual([]);
  });
});

describe('FindingsTab', () => {
  it('filters the day by grid', async () => {
    signedInAs('chief', '一中队');
    fakeServer({
      'GET /api/v1/dictionary': () => answer(200, DICTIONARY),
      'GET /api/v1/review?date=2026-11-22': () =>
        answer(200, {
          findings: [reviewItem({ id: 'f-1', grid: 'G1' }), reviewItem({ id: 'f-2', grid: 'G2' }), reviewItem({ id: 'f-3', grid: null })],
        }),
    });
    const { ensureDictionary } = await import('../dictionary');
    await ensureDictionary();
    wrapper = await mountConsole(FindingsTab, { date: '2026-11-22', active: true }, { MapView: true });
    await settle();
    expect(byTestId('review-counts')[0].textContent).toContain('3');
    const grid = wrapper.findAllComponents({ name: 'ElSelect' }).find((c) => c.attributes('data-testid') === 'filter-grid');
    expect(grid).toBeTruthy();
    grid!.vm.$emit('update:modelValue', 'G2');
    await settle();
    const shown = byTestId('finding-row').filter((e) => e.closest('tr')).map((e) => e.dataset.id);
    expect(shown).toEqual(['f-2']);
  });
});
