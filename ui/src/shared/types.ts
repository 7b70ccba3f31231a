// Shapes of the data the front-ends receive from the Tauri shell and the sync server. Those of the server's
// HTTP API move, one at a time, to the types generated from its OpenAPI document (console/generated/api.ts,
// itself generated from the Rust types); the rest still mirror the Rust types (src-tauri and the protocol
// crate) by hand.
import type * as api from '../console/generated/api';

/** Answer of the Tauri command `status`. */
export interface DeviceStatus {
  registered: boolean;
  server_url: string | null;
  username: string | null;
  device_id: string | null;
  /** Sync operations stored on the phone and not yet accepted by the server. */
  pending_ops: number;
  /** Bytes of photos stored on the phone and not yet uploaded. */
  pending_photo_bytes: number;
  /** Findings reported from this phone, sent or not, drafts included. */
  findings: number;
  /** Drafts: saved on the phone, not yet queued. */
  drafts: number;
  /** Findings the server refused for good (local state `rejected`). */
  rejected: number;
  dictionary_version: number | null;
  last_sync_at: string | null;
  /** Server clock minus phone clock, measured at the last sync. */
  clock_offset_ms: number | null;
  /** The current (or today's last) patrol. */
  patrol: Patrol | null;
  /** Verification tasks still to do. */
  open_tasks: number;
}

export type Role = 'inspector' | 'chief' | 'dispatcher' | 'department' | 'admin';




/** The body of every non-2xx answer of the server. */
export interface ApiErrorBody {
  error: {
    code: string;
    message: string;
    details?: unknown;
  };
}

// ---------------------------------------------------------------------------------------------------------
// Console data (protocol.md, "Console endpoints"). Optional fields are console extensions the server may add.

export type FindingState = 'pending_review' | 'filed' | 'merged' | 'rejected';
export type CaseState = 'filed' | 'dispatched' | 'accepted' | 'handled' | 'closed' | 'suspended' | 'voided';
export type ReviewDecision = 'approve' | 'reject' | 'merge';
export type CaseAction =
  | 'dispatch'
  | 'accept'
  | 'return'
  | 'handle'
  | 'close'
  | 'suspend'
  | 'resume'
  | 'void'
  | 'extend';
export type StatsGroupBy = 'inspector' | 'team' | 'department' | 'category' | 'day';







/** A case as the console endpoints return it (`findings`, `history` and `tasks` only in the detail), an
 * entry of its history, one of its verification tasks: generated from the server's types. */
export type Case = api.CaseView;
export type CaseHistoryEntry = api.HistoryEntry;
export type CaseTask = api.TaskView;
export type CaseTaskState = api.TaskState;
/** The console's other records, as the server sends them (generated). */
export type StatsResponse = api.StatsAnswer;
export type ReviewResponse = api.ReviewAnswer;
export type NewUserRequest = api.NewUserRequest;
export type UserPatch = api.UserPatch;
export type TaskReassignRequest = api.TaskChangeRequest;
export type CaseActionRequest = api.ActionRequest;
export type ReviewRequest = api.ReviewRequest;
export type SessionRequest = api.SessionRequest;
export type SessionResponse = api.SessionResponse;
export type UserInfo = api.UserInfo;
export type Location = api.Location;
export type PhotoRef = api.PhotoRef;
export type DeviceRecord = api.DeviceView;
export type ConsoleUser = api.UserView;
export type Team = api.TeamView;
export type DepartmentSummary = api.DepartmentView;
export type RejectedOp = api.RejectedOp;
export type SyncHealth = api.SyncHealth;
export type StatsRow = api.StatsRow;
export type ReviewItem = api.ReviewItem;



















// ---------------------------------------------------------------------------------------------------------
// Phone app: the Tauri commands' arguments and answers (the IPC contract of src-tauri/src/commands.rs).

/** How every Tauri command of ours rejects. */
export interface IpcError {
  code: string;
  message: string;
}

export interface RegisterRequest {
  /** An origin such as http://192.168.1.10:8080 */
  server: string;
  username: string;
  password: string;
  deviceName: string;
}

export interface RegisterResult {
  device_id: string;
  user: UserInfo;
}

/** A photo the Rust pipeline has stored (upright, resized, stamped, EXIF removed). */
export interface StagedPhoto {
  sha256: string;
  width: number;
  height: number;
  bytes: number;
  taken_at: string | null;
}

export type PhotoRole = 'before' | 'after';

/** What the report screen sends: to `report`, or to `draft_save` / `draft_submit` (a draft may have category "" and no photos). */
export interface ReportInput {
  category: string;
  description: string;
  urgent: boolean;
  fixed_on_spot: boolean;
  location: Location;
  address: string | null;
  road: string | null;
  facility_code: string | null;
  photos: { sha256: string; role: PhotoRole }[];
}

/**
 * Where a finding is on its way from the phone: a draft still being edited, stored here and queued,
 * accepted by the server, or refused.
 */
export type LocalState = 'draft' | 'queued' | 'received' | 'rejected';

export interface FindingRow {
  id: string;
  local_state: LocalState;
  server_state: FindingState | null;
  case_no: string | null;
  case_state: CaseState | null;
  /** Why the server or the chief rejected it. */
  reason: string | null;
  category: string;
  description: string;
  observed_at: string;
  photos: number;
}

export interface FindingQuery {
  state?: LocalState;
  /** YYYY-MM-DD, the phone's local day. */
  day?: string;
  limit: number;
  offset: number;
}

export interface FindingDetail {
  row: FindingRow;
  finding: {
    id: string;
    category: string;
    description: string;
    urgent: boolean;
    fixed_on_spot: boolean;
    location: Location;
    address: string | null;
    road: string | null;
    facility_code: string | null;
    observed_at: string;
    photos: PhotoRef[];
  };
}

export type TaskState = 'open' | 'done' | 'cancelled';

/** An on-site verification (核查) of a handled case. */
export interface TaskRow {
  id: string;
  case_no: string;
  state: TaskState;
  due_at: string | null;
  result: 'pass' | 'fail' | null;
  category: string;
  description: string;
  address: string | null;
  lat: number | null;
  lon: number | null;
}

export interface CompleteTaskRequest {
  taskId: string;
  result: 'pass' | 'fail';
  note: string;
  /** SHA-256 of staged photos. */
  photos: string[];
}

export interface Patrol {
  id: string;
  started_at: string;
  ended_at: string | null;
  distance_m: number;
  /** Track points kept. */
  points: number;
  paused: boolean;
}

export type SyncPhase = 'photos' | 'ops' | 'changes' | 'done';

export interface SyncProgress {
  phase: SyncPhase;
  photos_done: number;
  photos_total: number;
  bytes_done: number;
  bytes_total: number;
  ops_done: number;
  ops_total: number;
}

export interface SyncReport {
  photos_uploaded: number;
  photo_bytes_sent: number;
  ops_sent: number;
  applied: number;
  duplicate: number;
  /** [seq, reason] of each operation the server refused. */
  rejected: [number, string][];
  /** Operations to send again later (server busy, transient errors). */
  retry: number;
  changes_received: number;
  /** Operations still waiting after this run. */
  remaining: number;
  /** [sha256, reason] of each photo that could not be uploaded. */
  photo_errors: [string, string][];
}

/** Payload of the `sync-state` event and answer of `sync_state`. */
export interface SyncState {
  running: boolean;
  progress: SyncProgress | null;
  last_report: SyncReport | null;
  last_error: IpcError | null;
  last_sync_at: string | null;
}

export type PhotoMaxEdge = 1280 | 1600 | 2048;

export interface DeviceSettings {
  photo_max_edge: number;
  photo_quality: number;
  wifi_only_photos: boolean;
  stamp: boolean;
  language: 'zh-CN' | 'en';
}

export interface NearbyCase {
  case_no: string;
  category: string;
  distance_m: number;
}

/** A simulated position (desktop runs and tests). */
export interface SimulatedLocation {
  lat: number;
  lon: number;
  accuracy_m: number;
  source: Location['source'];
}

export interface Dictionary {
  version: number;
  categories: DictionaryCategory[];
  departments: { code: string; name: string }[];
  roads: { name: string; grid: string | null; points: [number, number][] }[];
  classes?: { code: string; name: string; name_en: string }[];
}

export interface DictionaryCategory {
  code: string;
  name: string;
  name_en: string;
  branch: 'component' | 'event';
  parent: string;
  department: string;
  time_limit_hours: number;
  review: 'chief' | 'auto';
  urgent: boolean;
}

export interface PatrolRecord {
  id: string;
  user: { username: string; display_name: string };
  team: string | null;
  started_at: string;
  ended_at: string | null;
  distance_m: number | null;
  findings: number;
  /** [lat, lon, time] */
  points: [number, number, string][];
  /** Roads of the dictionary the track follows, longest stretch first; empty without road geometry. */
  roads?: PatrolRoad[];
}

export interface PatrolRoad {
  name: string;
  distance_m: number;
}
