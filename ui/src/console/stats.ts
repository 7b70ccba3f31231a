// The evaluation indicators (domain.md, 综合评价) as the console shows and exports them: one column list
// shared by the table, the charts and the XLSX file.
import type { StatsGroupBy, StatsRow } from '../shared/types';
import { i18n } from '../shared/i18n';
import { formatPercent } from '../shared/format';
import { categoryLabel, departmentLabel, gridLabel } from './dictionary';

export type StatsField = Exclude<keyof StatsRow, 'key'>;

export interface StatsColumn {
  field: StatsField;
  /** Rates are fractions shown as percentages. */
  rate: boolean;
}

export const STATS_COLUMNS: StatsColumn[] = [
  { field: 'reported', rate: false },
  { field: 'valid', rate: false },
  { field: 'valid_rate', rate: true },
  { field: 'self_handled', rate: false },
  { field: 'verify_due', rate: false },
  { field: 'verified_on_time', rate: false },
  { field: 'confirm_due', rate: false },
  { field: 'confirmed_on_time', rate: false },
  { field: 'due', rate: false },
  { field: 'handled_on_time', rate: false },
  { field: 'on_time_rate', rate: true },
  { field: 'handled', rate: false },
  { field: 'rework', rate: false },
  { field: 'rework_rate', rate: true },
  { field: 'closed', rate: false },
  { field: 'closed_on_time', rate: false },
  { field: 'supervised', rate: false },
  { field: 'returned', rate: false },
  { field: 'dispatch_accuracy', rate: true },
];

export const GROUPS: StatsGroupBy[] = ['team', 'department', 'category', 'inspector', 'day', 'grid', 'road'];

export function columnLabel(field: StatsField): string {
  return i18n.global.t(`console.stats.fields.${field}`);
}

/** What a row's key names, in words. */
export function keyLabel(groupBy: StatsGroupBy, key: string): string {
  if (groupBy === 'category') return categoryLabel(key);
  if (groupBy === 'department') return departmentLabel(key);
  if (groupBy === 'grid') return gridLabel(key);
  return key === '' ? i18n.global.t('common.notSet') : key;
}

export function cellText(row: StatsRow, column: StatsColumn): string {
  const value = row[column.field];
  return column.rate ? formatPercent(value as number | null) : String(value ?? '—');
}

function rate(num: number, den: number): number | null {
  return den > 0 ? num / den : null;
}

/** The sum of the rows, rates recomputed from the sums (never averaged). */
export function totalRow(rows: StatsRow[], key: string): StatsRow {
  const sum = (f: StatsField) => rows.reduce((s, r) => s + (Number(r[f]) || 0), 0);
  const total: StatsRow = {
    key,
    reported: sum('reported'),
    valid: sum('valid'),
    valid_rate: null,
    self_handled: sum('self_handled'),
    verify_due: sum('verify_due'),
    verified_on_time: sum('verified_on_time'),
    confirm_due: sum('confirm_due'),
    confirmed_on_time: sum('confirmed_on_time'),
    due: sum('due'),
    handled_on_time: sum('handled_on_time'),
    on_time_rate: null,
    handled: sum('handled'),
    rework: sum('rework'),
    rework_rate: null,
    closed: sum('closed'),
    closed_on_time: sum('closed_on_time'),
    supervised: sum('supervised'),
    dispatched: sum('dispatched'),
    returned: sum('returned'),
    dispatch_accuracy: null,
  };
  total.valid_rate = rate(total.valid, total.reported);
  total.on_time_rate = rate(total.handled_on_time, total.due);
  total.rework_rate = rate(total.rework, total.handled);
  total.dispatch_accuracy = rate(total.dispatched - total.returned, total.dispatched);
  return total;
}
