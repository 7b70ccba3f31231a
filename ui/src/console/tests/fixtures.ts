// Records the console's tests build: users, verification tasks, cases, webhooks and their deliveries,
// integration tokens, exports, with fields overridden per test.
import type {
  Case,
  CaseTask,
  ConsoleUser,
  DeliveryAttempt,
  ExportJob,
  IntegrationToken,
  ReviewItem,
  Webhook,
  WebhookDelivery,
} from '../../shared/types';

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

/** An active system endpoint (signed JSON) that wants filed cases, with no deliveries yet. */
export function webhook(fields: Partial<Webhook> = {}): Webhook {
  return {
    id: '6f1c2a52-0000-4000-8000-000000000001',
    url: 'https://example.gov.cn/tiejiaoban/webhook',
    events: ['case.filed'],
    format: 'json',
    department: null,
    description: '',
    active: true,
    signed: true,
    created_by: 'admin',
    created_at: '2026-12-04T08:00:00+08:00',
    pending: 0,
    failed: 0,
    delivered: 0,
    ...fields,
  };
}

/** A try that the receiver answered 200. */
export function attempt(fields: Partial<DeliveryAttempt> = {}): DeliveryAttempt {
  return { at: '2026-12-04T08:00:01+08:00', status: 200, error: null, answer: 'ok', millis: 42, ...fields };
}

/** The delivery of case 20261204-0001's filing to `webhook()`, delivered at the first try. */
export function delivery(fields: Partial<WebhookDelivery> = {}): WebhookDelivery {
  return {
    id: 1,
    webhook_id: '6f1c2a52-0000-4000-8000-000000000001',
    event_id: '0b7e5e3c-0000-4000-8000-000000000001',
    event: 'case.filed',
    subject: '20261204-0001',
    at: '2026-12-04T08:00:00+08:00',
    state: 'delivered',
    attempts: 1,
    next_at: null,
    delivered_at: '2026-12-04T08:00:01+08:00',
    tries: [attempt()],
    ...fields,
  };
}

/** The 12345 hotline's token, in force, acting as dispatcher1. */
export function integrationToken(fields: Partial<IntegrationToken> = {}): IntegrationToken {
  return {
    id: '0c4e7a10-0000-4000-8000-000000000001',
    name: '12345 热线',
    username: 'dispatcher1',
    created_by: 'admin',
    created_at: '2026-12-04T08:00:00+08:00',
    revoked_at: null,
    ...fields,
  };
}

/** dispatcher1's CSV export of December's cases, finished: 120 rows, no photos. */
export function exportJob(fields: Partial<ExportJob> = {}): ExportJob {
  return {
    id: '01938f2a-0000-7000-8000-000000000001',
    request: {
      kind: 'cases',
      format: 'csv',
      from: '2026-12-01',
      to: '2026-12-31',
      state: null,
      category: null,
      department: null,
      grid: null,
      photos: false,
    },
    username: 'dispatcher1',
    state: 'done',
    rows: 120,
    total: 120,
    photos: 0,
    bytes: 18_432,
    error: null,
    file_name: 'cases-2026-12-01-2026-12-31.csv',
    created_at: '2026-12-04T09:00:00+08:00',
    finished_at: '2026-12-04T09:00:02+08:00',
    ...fields,
  };
}
