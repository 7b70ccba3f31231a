// Records the console's tests build: users, verification tasks and cases, with fields overridden per test.
import type { Case, CaseTask, ConsoleUser, ReviewItem } from '../../shared/types';

/** An active inspector of no team, unless `fields` says otherwise. */
export function consoleUser(username: string, fields: Partial<ConsoleUser> = {}): ConsoleUser {
  return { id: `id-${username}`, username, display_name: username, role: 'inspector', team: null, department: null, active: true, totp_enabled: false, ...fields };
}

/** An open verification task of inspector1. */
export function task(fields: Partial<CaseTask> = {}): CaseTask {
  return {
    id: 'task-1',
    assignee: 'inspector1',
    state: 'open',
    created_at: '2026-11-22T08:00:00+08:00',
    due_at: '2026-11-23T08:00:00+08:00',
    completed_at: null,
    result: null,
    note: null,
    ...fields,
  };
}

/** A handled case of 一中队. */
export function caseOf(fields: Partial<Case> = {}): Case {
  return {
    case_no: '20261122-0001',
    state: 'handled',
    category: 'E0102',
    department: 'HW',
    team: '一中队',
    due_at: null,
    overdue: false,
    self_handled: false,
    rework_count: 0,
    urgent: false,
    filed_at: '2026-11-22T08:00:00+08:00',
    location: { lat: 41.7968, lon: 123.4328 },
    grid: null,
    light: 'green',
    supervisions: 0,
    requests: [],
    description: '',
    photos: [],
    allowed_actions: [],
    category_name: null,
    closed_at: null,
    address: null,
    ...fields,
  };
}

/** A finding of inspector1 waiting for review, at the GPS position. */
export function reviewItem(fields: Partial<ReviewItem> = {}): ReviewItem {
  return {
    id: 'f-1',
    reporter: 'inspector1',
    category: 'E0102',
    description: '路边暴露垃圾',
    address: null,
    observed_at: '2026-11-22T08:00:00+08:00',
    location: { lat: 41.7968, lon: 123.4328, accuracy_m: 6, source: 'gps', fixed_at: '2026-11-22T08:00:00+08:00' },
    gps: null,
    photos: [],
    fixed_on_spot: false,
    urgent: false,
    state: 'pending_review',
    case_no: null,
    possible_duplicate_of: null,
    team: '一中队',
    road: null,
    grid: null,
    facility_code: null,
    reason: null,
    signed: false,
    ...fields,
  };
}
