// Exports in the console: the kinds a role may export, the form that asks for one and the request it sends,
// the field of the form a refusal names, and how far a job has come.
import type { ExportFormat, ExportJob, ExportKind, ExportRequest, Role } from '../shared/types';
import { isoDate } from '../shared/format';

export const EXPORT_FORMATS: ExportFormat[] = ['csv', 'xlsx', 'geojson'];

/** What a role may export: findings only who reviews them, so a department's user exports cases alone (the
 * server answers 403 otherwise). */
export function exportKinds(role: Role | undefined): ExportKind[] {
  return role === 'department' ? ['cases'] : ['cases', 'findings'];
}

/** What the export form holds; `exportBody` turns it into the request. Empty text is "any". */
export interface ExportForm {
  kind: ExportKind;
  format: ExportFormat;
  /** First and last day, YYYY-MM-DD, both included. */
  period: [string, string];
  state: string;
  category: string;
  /** A department code; cases only. */
  department: string;
  grid: string;
  photos: boolean;
}

/** The first and the last day of the month `now` is in. */
export function thisMonth(now: Date = new Date()): [string, string] {
  const first = new Date(now.getFullYear(), now.getMonth(), 1);
  const last = new Date(now.getFullYear(), now.getMonth() + 1, 0);
  return [isoDate(first), isoDate(last)];
}

/** This month's cases as CSV, no filter, no photos. */
export function emptyExportForm(now: Date = new Date()): ExportForm {
  return { kind: 'cases', format: 'csv', period: thisMonth(now), state: '', category: '', department: '', grid: '', photos: false };
}

function given(value: string): string | null {
  const v = value.trim();
  return v === '' ? null : v;
}

/** The request for the form: an empty filter as null; a department only for cases (the server refuses it for
 * findings, which are no department's). */
export function exportBody(form: ExportForm): ExportRequest {
  return {
    kind: form.kind,
    format: form.format,
    from: form.period[0],
    to: form.period[1],
    state: given(form.state),
    category: given(form.category),
    department: form.kind === 'cases' ? given(form.department) : null,
    grid: given(form.grid),
    photos: form.photos,
  };
}

/** The form's field a refusal names: the period's ends (`from`, `to`) are the one period picker. */
export function exportField(field: string): string {
  return field === 'from' || field === 'to' ? 'period' : field;
}

export function isRunning(job: ExportJob): boolean {
  return job.state === 'running';
}

/** How far a job has come, 0–100: the rows written of those counted when it began; a finished one whole. */
export function exportPercent(job: ExportJob): number {
  if (job.state === 'done') return 100;
  if (job.total <= 0) return 0;
  return Math.min(100, Math.floor((job.rows * 100) / job.total));
}
