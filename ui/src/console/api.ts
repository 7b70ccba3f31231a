// Typed client of the sync server's API. The console is served by that same server, so paths are absolute
// and same-origin. Every call but sign-in carries the session's bearer token; a 401 on such a call means the
// session ended (expired, signed out elsewhere, user disabled) and is reported once to `onUnauthorized`.
import type {
  ApiErrorBody,
  AuditRecord,
  Basemap,
  Case,
  CaseActionRequest,
  CoverageBy,
  CoverageResponse,
  DeliveryQueued,
  DeliveryState,
  GridsImported,
  HeatKind,
  HeatResponse,
  IntegrationToken,
  IssuedToken,
  ConsoleUser,
  DepartmentSummary,
  DeviceRecord,
  Dictionary,
  ExportJob,
  ExportRequest,
  NewIntegration,
  NewReport,
  NewTask,
  NewUserRequest,
  NewWebhook,
  PatrolRecord,
  Report,
  ReportChannel,
  ReportState,
  ReviewItem,
  ReviewRequest,
  ReviewResponse,
  SessionRequest,
  SessionResponse,
  StatsGroupBy,
  StatsResponse,
  SyncHealth,
  TaskItem,
  TaskReassignRequest,
  Team,
  TotpEnrolment,
  TotpStatus,
  UserInfo,
  UserPatch,
  Webhook,
  WebhookDelivery,
} from '../shared/types';

/** A non-success answer of the server. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | null,
    /** The server's own message, when the answer had the contract's error body. */
    readonly serverMessage: string | null,
    readonly details: unknown = null,
  ) {
    super(serverMessage ?? `HTTP ${status}`);
    this.name = 'ApiError';
  }
}

function isApiErrorBody(body: unknown): body is ApiErrorBody {
  if (typeof body !== 'object' || body === null || !('error' in body)) return false;
  const error = (body as { error: unknown }).error;
  return typeof error === 'object' && error !== null && typeof (error as { message?: unknown }).message === 'string';
}

async function readJson(response: Response): Promise<unknown> {
  try {
    return await response.json();
  } catch {
    return null;
  }
}

async function errorOf(response: Response): Promise<ApiError> {
  const body = await readJson(response);
  if (isApiErrorBody(body)) {
    return new ApiError(response.status, body.error.code, body.error.message, body.error.details ?? null);
  }
  return new ApiError(response.status, null, null);
}

let token: string | null = null;
let unauthorizedHandler: (() => void) | null = null;

export function setToken(value: string | null): void {
  token = value;
}

/** Called when a signed-in call gets 401. */
export function onUnauthorized(handler: () => void): void {
  unauthorizedHandler = handler;
}

type Query = Record<string, string | number | boolean | null | undefined>;

interface RequestOptions {
  query?: Query;
  json?: unknown;
  body?: BodyInit;
  contentType?: string;
  accept?: string;
}

function urlOf(path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== null && value !== undefined && value !== '') params.set(key, String(value));
  }
  const qs = params.toString();
  return `/api/v1${path}${qs ? `?${qs}` : ''}`;
}

/** Sends a signed-in request; resolves with the raw response when it is 2xx, throws `ApiError` otherwise. */
async function send(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { Accept: options.accept ?? 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  let body = options.body;
  if (options.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.json);
  } else if (options.contentType) {
    headers['Content-Type'] = options.contentType;
  }
  const response = await fetch(urlOf(path, options.query), { method, headers, body });
  if (response.ok) return response;
  const error = await errorOf(response);
  if (response.status === 401 && token !== null) unauthorizedHandler?.();
  throw error;
}

async function json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const response = await send(method, path, options);
  return (await response.json()) as T;
}

const seg = encodeURIComponent;

// --- sessions -----------------------------------------------------------------------------------------------

/** Signs in to the console. Throws `ApiError` for an answer other than 201, and fetch's error offline. */
export async function signIn(request: SessionRequest): Promise<SessionResponse> {
  const response = await fetch('/api/v1/sessions', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify(request),
  });
  const body = await readJson(response);
  if (response.status === 201 && body !== null) return body as SessionResponse;
  if (isApiErrorBody(body)) {
    throw new ApiError(response.status, body.error.code, body.error.message, body.error.details ?? null);
  }
  throw new ApiError(response.status, null, null);
}

/** The field a refusal names (`details.field`, e.g. `url` or `events[1]`), or null. */
export function refusedField(e: unknown): string | null {
  if (!(e instanceof ApiError) || typeof e.details !== 'object' || e.details === null) return null;
  const field = (e.details as { field?: unknown }).field;
  return typeof field === 'string' ? field : null;
}

/** Whether an error is about the second factor (the server names `totp` as the field). */
export function isAboutSecondFactor(e: unknown): boolean {
  return refusedField(e) === 'totp';
}

export async function signOut(): Promise<void> {
  await send('DELETE', '/sessions/current');
}

export async function me(): Promise<UserInfo> {
  return (await json<{ user: UserInfo }>('GET', '/me')).user;
}

// --- two-factor sign-in -------------------------------------------------------------------------------------

export async function secondFactorStatus(): Promise<TotpStatus> {
  return json<TotpStatus>('GET', '/me/totp');
}

/** Begins setting up: a new secret and its otpauth:// link, to show as a QR code. */
export async function beginSecondFactor(): Promise<TotpEnrolment> {
  return json<TotpEnrolment>('POST', '/me/totp');
}

export async function confirmSecondFactor(code: string): Promise<TotpStatus> {
  return json<TotpStatus>('POST', '/me/totp/confirm', { json: { code } });
}

export async function turnOffSecondFactor(code: string): Promise<void> {
  await send('DELETE', '/me/totp', { json: { code } });
}

/** The admin removes a user's second factor (a lost phone). */
export async function resetSecondFactor(username: string): Promise<void> {
  await send('DELETE', `/users/${seg(username)}/totp`);
}

// --- review -------------------------------------------------------------------------------------------------

export async function listReview(date: string): Promise<ReviewItem[]> {
  return (await json<{ findings: ReviewItem[] }>('GET', '/review', { query: { date } })).findings;
}

export function reviewFinding(id: string, request: ReviewRequest): Promise<ReviewResponse> {
  return json('POST', `/findings/${seg(id)}/review`, { json: request });
}

export async function listPatrols(date: string): Promise<PatrolRecord[]> {
  return (await json<{ patrols: PatrolRecord[] }>('GET', '/patrols', { query: { date } })).patrols;
}

// --- cases --------------------------------------------------------------------------------------------------

export interface CaseFilter {
  state?: string;
  department?: string;
  overdue?: boolean;
}

export async function listCases(filter: CaseFilter = {}): Promise<Case[]> {
  const query: Query = { state: filter.state, department: filter.department };
  if (filter.overdue) query.overdue = 'true';
  return (await json<{ cases: Case[] }>('GET', '/cases', { query })).cases;
}

export function getCase(caseNo: string): Promise<Case> {
  return json('GET', `/cases/${seg(caseNo)}`);
}

export function caseAction(caseNo: string, request: CaseActionRequest): Promise<Case> {
  return json('POST', `/cases/${seg(caseNo)}/actions`, { json: request });
}

/** Gives an open verification task to another inspector; answers the updated case detail. */
export function reassignTask(taskId: string, request: TaskReassignRequest): Promise<Case> {
  return json('POST', `/tasks/${seg(taskId)}/reassign`, { json: request });
}

/** Cancels an open verification task; answers the updated case detail. */
export function cancelTask(taskId: string, note?: string): Promise<Case> {
  return json('POST', `/tasks/${seg(taskId)}/cancel`, { json: note ? { note } : {} });
}

// --- reports and free tasks ---------------------------------------------------------------------------------

export interface ReportFilter {
  state?: ReportState;
  channel?: ReportChannel;
}

export async function listReports(filter: ReportFilter = {}): Promise<Report[]> {
  const query: Query = { state: filter.state, channel: filter.channel };
  return (await json<{ reports: Report[] }>('GET', '/reports', { query })).reports;
}

/** Takes a report (受理); sending the same one again answers it as it is now. */
export async function receiveReport(report: NewReport): Promise<Report> {
  return (await json<{ report: Report }>('POST', '/reports', { json: report })).report;
}

export async function listTasks(type?: 'confirm' | 'inspect'): Promise<TaskItem[]> {
  return (await json<{ tasks: TaskItem[] }>('GET', '/tasks', { query: { type } })).tasks;
}

export function createTask(task: NewTask): Promise<TaskItem> {
  return json('POST', '/tasks', { json: task });
}

// --- statistics ---------------------------------------------------------------------------------------------

export interface StatsQuery {
  from: string;
  to: string;
  group_by: StatsGroupBy;
}

export function stats(query: StatsQuery): Promise<StatsResponse> {
  return json('GET', '/stats', { query: { ...query } });
}

/** A case's evidence package (ZIP): its signed ops, the devices' keys, its photos and history. */
export async function evidencePackage(caseNo: string): Promise<Blob> {
  return (await send('GET', `/cases/${seg(caseNo)}/evidence`, { accept: 'application/zip' })).blob();
}

/** The same rows as `stats`, as the server's CSV. */
export async function statsCsv(query: StatsQuery): Promise<Blob> {
  return (await send('GET', '/stats', { query: { ...query }, accept: 'text/csv' })).blob();
}

// --- audit log ------------------------------------------------------------------------------------------------

export interface AuditQuery {
  from?: string;
  to?: string;
  action?: string;
  actor?: string;
}

export async function auditLog(query: AuditQuery): Promise<AuditRecord[]> {
  return (await json<{ entries: AuditRecord[] }>('GET', '/audit', { query: { ...query } })).entries;
}

export async function auditCsv(query: AuditQuery): Promise<Blob> {
  return (await send('GET', '/audit', { query: { ...query }, accept: 'text/csv' })).blob();
}

// --- place: coverage, heat map, grids ------------------------------------------------------------------------

export interface CoverageQuery {
  from: string;
  to: string;
  by: CoverageBy;
}

/** Every road or grid with what the patrols of the period walked there, never walked first. */
export function coverage(query: CoverageQuery): Promise<CoverageResponse> {
  return json('GET', '/coverage', { query: { ...query } });
}

/** The same rows as `coverage`, as the server's CSV. */
export async function coverageCsv(query: CoverageQuery): Promise<Blob> {
  return (await send('GET', '/coverage', { query: { ...query }, accept: 'text/csv' })).blob();
}

export interface HeatQuery {
  from: string;
  to: string;
  kind: HeatKind;
  category?: string;
  state?: string;
  team?: string;
}

/** Where the findings or cases of the period are. */
export function heatmap(query: HeatQuery): Promise<HeatResponse> {
  const q: Record<string, string> = { from: query.from, to: query.to, kind: query.kind };
  for (const k of ['category', 'state', 'team'] as const) if (query[k]) q[k] = query[k] as string;
  return json('GET', '/heatmap', { query: q });
}

/** Imports a GeoJSON file of unit grids as a new dictionary version; with `dryRun` only checks it. A refusal
 * is an `ApiError` whose details name the feature (`feature`, `code`). */
export function importGrids(geojson: string, dryRun = false): Promise<GridsImported> {
  return json('PUT', '/grids', {
    body: geojson,
    contentType: 'application/geo+json',
    query: dryRun ? { dry_run: 'true' } : undefined,
  });
}

// --- blobs --------------------------------------------------------------------------------------------------

export async function getBlob(sha256: string): Promise<Blob> {
  return (await send('GET', `/blobs/${seg(sha256)}`, { accept: 'image/*' })).blob();
}

/** Uploads a photo under its SHA-256; the server checks the hash and the image type. */
export async function putBlob(sha256: string, data: ArrayBuffer, contentType: string): Promise<void> {
  await send('PUT', `/blobs/${seg(sha256)}`, { body: data, contentType });
}

// --- administration -----------------------------------------------------------------------------------------

export async function listBasemaps(): Promise<Basemap[]> {
  return (await json<{ basemaps: Basemap[] }>('GET', '/basemaps')).basemaps;
}

/**
 * Uploads an MBTiles package under `name` (201 new, 200 replaced); `onProgress` hears the bytes sent, which
 * fetch cannot report, hence XMLHttpRequest. Rejects with `ApiError` as the other calls do.
 */
export function uploadBasemap(
  name: string,
  file: Blob,
  datum: Basemap['datum'],
  onProgress?: (sent: number, total: number) => void,
): Promise<Basemap> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', urlOf(`/basemaps/${seg(name)}`, { datum }));
    if (token) xhr.setRequestHeader('Authorization', `Bearer ${token}`);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.onprogress = (e) => onProgress?.(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onerror = () => reject(new TypeError('network error'));
    xhr.onload = () => {
      let body: unknown = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) return resolve(body as Basemap);
      if (xhr.status === 401 && token !== null) unauthorizedHandler?.();
      reject(
        isApiErrorBody(body)
          ? new ApiError(xhr.status, body.error.code, body.error.message, body.error.details ?? null)
          : new ApiError(xhr.status, null, null),
      );
    };
    xhr.send(file);
  });
}

/** One tile of an offered base map (rows from the north), for the console's map. */
export async function basemapTile(name: string, z: number, x: number, y: number): Promise<Blob> {
  return (await send('GET', `/basemaps/${seg(name)}/tiles/${z}/${x}/${y}`, { accept: 'image/*' })).blob();
}

export async function deleteBasemap(name: string): Promise<void> {
  await send('DELETE', `/basemaps/${seg(name)}`);
}

export async function listDevices(): Promise<DeviceRecord[]> {
  return (await json<{ devices: DeviceRecord[] }>('GET', '/devices')).devices;
}

export function revokeDevice(id: string): Promise<DeviceRecord> {
  return json('POST', `/devices/${seg(id)}/revoke`);
}

export function getDictionary(): Promise<Dictionary> {
  return json('GET', '/dictionary');
}

export function importDictionary(dictionary: unknown): Promise<{ version: number }> {
  return json('POST', '/dictionary', { json: dictionary });
}

export async function listUsers(): Promise<ConsoleUser[]> {
  return (await json<{ users: ConsoleUser[] }>('GET', '/users')).users;
}

export function addUser(user: NewUserRequest): Promise<ConsoleUser> {
  return json('POST', '/users', { json: user });
}

/** Changes the given fields of a user (name, role, team, department, active, password). */
export function updateUser(username: string, patch: UserPatch): Promise<ConsoleUser> {
  return json('PATCH', `/users/${seg(username)}`, { json: patch });
}

export async function listTeams(): Promise<Team[]> {
  return (await json<{ teams: Team[] }>('GET', '/teams')).teams;
}

export function addTeam(name: string): Promise<Team> {
  return json('POST', '/teams', { json: { name } });
}

export async function listDepartments(): Promise<DepartmentSummary[]> {
  return (await json<{ departments: DepartmentSummary[] }>('GET', '/departments')).departments;
}

export function syncHealth(): Promise<SyncHealth> {
  return json('GET', '/sync-health');
}

// --- integrations: webhooks and the departments' group robots -----------------------------------------------

/** Every endpoint, the active ones first, with counts of their deliveries. */
export async function listWebhooks(): Promise<Webhook[]> {
  return (await json<{ webhooks: Webhook[] }>('GET', '/webhooks')).webhooks;
}

/** Registers an endpoint (201). A refusal is an `ApiError` whose details name the field (`refusedField`). */
export function addWebhook(hook: NewWebhook): Promise<Webhook> {
  return json('POST', '/webhooks', { json: hook });
}

/** Stops an endpoint: nothing more is sent, what waited is cancelled, its deliveries stay listed. */
export async function removeWebhook(id: string): Promise<void> {
  await send('DELETE', `/webhooks/${seg(id)}`);
}

/** Queues a test message to this endpoint only. */
export function pingWebhook(id: string): Promise<DeliveryQueued> {
  return json('POST', `/webhooks/${seg(id)}/ping`);
}

export interface DeliveryQuery {
  state?: DeliveryState;
  limit?: number;
}

/** An endpoint's deliveries, the newest first, each with every try and its answer. */
export async function listDeliveries(id: string, query: DeliveryQuery = {}): Promise<WebhookDelivery[]> {
  return (await json<{ deliveries: WebhookDelivery[] }>('GET', `/webhooks/${seg(id)}/deliveries`, { query: { ...query } }))
    .deliveries;
}

/** Sends a delivery again, now (409 when the endpoint is stopped). */
export function retryDelivery(id: string, delivery: number): Promise<DeliveryQueued> {
  return json('POST', `/webhooks/${seg(id)}/deliveries/${delivery}/retry`);
}

// --- integration tokens: other systems' bearer tokens and Open311 api_keys ---------------------------------

/** Every token, those in force first (never the tokens themselves). */
export async function listIntegrationTokens(): Promise<IntegrationToken[]> {
  return (await json<{ tokens: IntegrationToken[] }>('GET', '/integrations')).tokens;
}

/** Issues a token acting as `username` (201); the answer's `secret` is the token, never given again. A refusal
 * names the field (`name`, `username`). */
export function issueIntegrationToken(request: NewIntegration): Promise<IssuedToken> {
  return json('POST', '/integrations', { json: request });
}

/** Revokes a token: it stops working at once. */
export async function revokeIntegrationToken(id: string): Promise<void> {
  await send('DELETE', `/integrations/${seg(id)}`);
}

// --- exports ------------------------------------------------------------------------------------------------

/** Begins an export (202), made in the background: the job answered is running. A refusal names the field
 * (`to` for the period, `state`, `category`, `department`); 403 when the role may not export that kind. */
export function beginExport(request: ExportRequest): Promise<ExportJob> {
  return json('POST', '/exports', { json: request });
}

/** The caller's exports (the admin's: everyone's), the newest first. */
export async function listExports(): Promise<ExportJob[]> {
  return (await json<{ exports: ExportJob[] }>('GET', '/exports')).exports;
}

/** An export and its progress. */
export function getExport(id: string): Promise<ExportJob> {
  return json('GET', `/exports/${seg(id)}`);
}

/** A finished export's file (409 while it is made, or when it failed). */
export async function exportFile(id: string): Promise<Blob> {
  return (await send('GET', `/exports/${seg(id)}/file`, { accept: '*/*' })).blob();
}
