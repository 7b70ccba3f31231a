// The category dictionary, loaded once per session and shared by every page (names of categories and
// departments, department defaults for dispatch, category correction in review).
import { computed, shallowRef } from 'vue';
import type { Dictionary, DictionaryCategory } from '../shared/types';
import { i18n } from '../shared/i18n';
import { getDictionary } from './api';

export const dictionary = shallowRef<Dictionary | null>(null);
let loading: Promise<Dictionary | null> | null = null;

/** Loads the dictionary unless already loaded; a failure leaves codes shown as they are. */
export function ensureDictionary(force = false): Promise<Dictionary | null> {
  if (force || !loading) {
    loading = getDictionary()
      .then((d) => (dictionary.value = d))
      .catch(() => {
        loading = null;
        return null;
      });
  }
  return loading;
}

/** The dictionary's roads as map lines: a frame of reference where there is no base map. */
export const roadLines = computed(() =>
  (dictionary.value?.roads ?? [])
    .filter((r) => r.points.length > 1)
    .map((r) => ({ id: `road:${r.name}`, label: r.name, points: r.points })),
);

/** The dictionary's unit grids (单元网格) as shaded map areas, labelled by name. */
export const gridAreas = computed(() =>
  (dictionary.value?.grids ?? []).map((g) => ({
    id: `grid:${g.code}`,
    label: g.name,
    polygons: [g.polygon, ...(g.parts ?? [])] as [number, number][][][],
  })),
);

/** A grid's name with its code, or the code as it is (a grid of no current version, "-" for none). */
export function gridLabel(code: string): string {
  const grid = dictionary.value?.grids.find((g) => g.code === code);
  if (grid) return `${grid.name} (${code})`;
  return code === '-' || code === '' ? i18n.global.t('common.notSet') : code;
}

export function forgetDictionary(): void {
  dictionary.value = null;
  loading = null;
}

const categoriesByCode = computed(() => new Map((dictionary.value?.categories ?? []).map((c) => [c.code, c])));
const departmentsByCode = computed(() => new Map((dictionary.value?.departments ?? []).map((d) => [d.code, d])));

export function category(code: string): DictionaryCategory | undefined {
  return categoriesByCode.value.get(code);
}

function english(): boolean {
  return i18n.global.locale.value === 'en';
}

/** "E0102 暴露垃圾" in Chinese, "E0102 exposed garbage" in English; the bare code when unknown. */
export function categoryLabel(code: string, fallbackName?: string): string {
  const c = category(code);
  const name = c ? (english() && c.name_en ? c.name_en : c.name) : fallbackName;
  return name ? `${code} ${name}` : code;
}

export function departmentLabel(code: string | null | undefined): string {
  if (!code) return '—';
  const d = departmentsByCode.value.get(code);
  return d ? `${d.name} (${code})` : code;
}

export interface ClassGroup {
  code: string;
  label: string;
  categories: DictionaryCategory[];
}

/** Categories grouped by big class (大类), in code order. */
export function categoriesByClass(d: Dictionary | null): ClassGroup[] {
  if (!d) return [];
  const names = new Map((d.classes ?? []).map((c) => [c.code, english() && c.name_en ? c.name_en : c.name]));
  const groups = new Map<string, ClassGroup>();
  for (const c of [...d.categories].sort((a, b) => a.code.localeCompare(b.code))) {
    const code = c.parent || c.code.slice(0, 3);
    let group = groups.get(code);
    if (!group) {
      const name = names.get(code);
      group = { code, label: name ? `${code} ${name}` : code, categories: [] };
      groups.set(code, group);
    }
    group.categories.push(c);
  }
  return [...groups.values()];
}
