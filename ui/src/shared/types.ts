// Shapes of the data the front-ends receive from the Tauri shell and the sync server, generated from the
// Rust types: the server's HTTP API from its OpenAPI document (console/generated/api.ts), the phone app's
// IPC from the Tauri commands (app/generated/bindings.ts). What is written here by hand narrows a text the
// Rust side keeps as a string to the values it takes, or describes the console's patrol records.
import type * as api from '../console/generated/api';
import type * as ipc from '../app/generated/bindings';

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
  | 'extend'
  | 'supervise'
  | 'request_extension'
  | 'request_return'
  | 'approve_request'
  | 'deny_request';
export type StatsGroupBy = 'inspector' | 'team' | 'department' | 'category' | 'day' | 'grid' | 'road';







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
export type TotpStatus = api.TotpStatus;
export type TotpEnrolment = api.TotpEnrolment;
export type UserInfo = api.UserInfo;
export type Location = api.Location;
export type PhotoRef = api.PhotoRef;
/** An entry of the audit log. */
export type AuditRecord = api.AuditRecord;
/** A report from another channel (12345, 领导交办, …) as the centre's intake takes and lists it. */
export type Report = api.Report;
export type NewReport = api.NewReport;
export type ReportState = api.ReportState;
export type ReportChannel = api.Channel;
/** A free task (点名抽查, 领导交办) or a 核实 task, as the console lists it. */
export type TaskItem = api.TaskItem;
export type NewTask = api.NewTask;
export type DeviceRecord = api.DeviceView;
export type ConsoleUser = api.UserView;
export type Team = api.TeamView;
export type DepartmentSummary = api.DepartmentView;
export type RejectedOp = api.RejectedOp;
export type SyncHealth = api.SyncHealth;
export type StatsRow = api.StatsRow;
export type ReviewItem = api.ReviewItem;
/** An endpoint of another system or a department's group robot, with counts of its deliveries (never its
 * secret); what the admin registers; the events it may want; how a delivery is written. */
export type Webhook = api.Webhook;
export type NewWebhook = api.NewWebhook;
export type WebhookEvent = api.Event;
export type WebhookFormat = api.Format;
/** An event's delivery to one endpoint, each try with the receiver's answer. */
export type WebhookDelivery = api.Delivery;
export type DeliveryAttempt = api.Attempt;
/** `state` of a delivery, which the server keeps as a string. */
export type DeliveryState = 'pending' | 'delivered' | 'failed' | 'cancelled';
/** The answer of a ping or a "send again": the delivery queued. */
export type DeliveryQueued = api.Queued;
/** A token another system calls the API with (a 12345 system, an Open311 client), as the admin lists it
 * (never the token itself); what the admin issues; the answer that carries the token, this once. */
export type IntegrationToken = api.IntegrationToken;
export type NewIntegration = api.NewIntegration;
export type IssuedToken = api.IssuedToken;
/** An export of cases or findings and its progress; what is asked for. */
export type ExportJob = api.ExportJob;
export type ExportRequest = api.ExportRequest;
export type ExportKind = api.ExportKind;
export type ExportFormat = api.ExportFormat;
/** `state` of an export, which the server keeps as a string. */
export type ExportState = 'running' | 'done' | 'failed';



















// ---------------------------------------------------------------------------------------------------------
// Phone app: the Tauri commands' arguments and answers, generated from the commands themselves
// (app/generated/bindings.ts; `UPDATE_BINDINGS=1 cargo test -p tiejiaoban-app bindings` writes it again).
// Answers are a type's `_Serialize` form, arguments its `_Deserialize` form.

/** Answer of the Tauri command `status`: the device at a glance. */
export type DeviceStatus = ipc.AppStatus_Serialize;

/** How every Tauri command of ours rejects. */
export type IpcError = ipc.CommandError;

/** The arguments of `register` (ipc.ts takes them as one object). */
export interface RegisterRequest {
  /** An origin such as http://192.168.1.10:8080 */
  server: string;
  username: string;
  password: string;
  deviceName: string;
  /** The authenticator app's code, for an account with two-factor sign-in on. */
  totp?: string | null;
}

export type RegisterResult = ipc.Registered_Serialize;

/** A photo the Rust pipeline has stored (upright, resized, stamped, EXIF removed). */
export type StagedPhoto = ipc.StagedPhoto_Serialize;

export type PhotoRole = ipc.PhotoRole;

/** What the report screen sends: to `report`, or to `draft_save` / `draft_submit` (a draft may have category "" and no photos). */
export type ReportInput = ipc.ReportInput_Deserialize;

/** The phone's own fix, kept beside a pin placed by hand. */
export type GpsFix = ipc.GpsFix;

/**
 * Where a finding is on its way from the phone: a draft still being edited, stored here and queued,
 * accepted by the server, or refused.
 */
export type LocalState = 'draft' | 'queued' | 'received' | 'rejected';

/**
 * A finding in the phone's list. The device keeps its states as text; the app reads them as the states
 * the device and the contract name.
 */
export type FindingRow = Omit<ipc.FindingRow_Serialize, 'local_state' | 'server_state' | 'case_state'> & {
  local_state: LocalState;
  server_state: FindingState | null;
  case_state: CaseState | null;
};

/** The arguments of `findings` (ipc.ts takes them as one object). */
export interface FindingQuery {
  state?: LocalState;
  /** YYYY-MM-DD, the phone's local day. */
  day?: string;
  limit: number;
  offset: number;
}

export type FindingDetail = Omit<ipc.FindingDetail_Serialize, 'row'> & { row: FindingRow };

export type TaskState = 'open' | 'done' | 'cancelled';

/** An on-site verification (核查) of a handled case. */
export type TaskRow = Omit<ipc.TaskRow_Serialize, 'state' | 'result'> & {
  state: TaskState;
  result: ipc.TaskResult | null;
};

export type TaskResult = ipc.TaskResult;
/** 核查 (`verify`), 核实 (`confirm`), a free task (`inspect`). */
export type TaskType = ipc.TaskType;

/** The arguments of `complete_task` (ipc.ts takes them as one object). */
export interface CompleteTaskRequest {
  taskId: string;
  result: ipc.TaskResult;
  note: string;
  /** SHA-256 of staged photos. */
  photos: string[];
  /** 核实, confirmed: the category found, when the report came without one. */
  category?: string | null;
  /** 核实, confirmed: where the inspector stands, when the report has no place on the map. */
  location?: ipc.Location | null;
}

export type Patrol = ipc.PatrolRow_Serialize;
/** A campaign (每月一主题) as the phone keeps it. */
export type Campaign = ipc.Campaign_Serialize;
/** The dictionary road and unit grid (单元网格) at a position, as the phone finds them offline. */
export type PlaceAt = ipc.PlaceAt_Serialize;

export type SyncPhase = ipc.Phase;

export type SyncProgress = ipc.Progress;

export type SyncReport = ipc.SyncReport;

/** Payload of the `sync-state` event and answer of `sync_state`. */
export type SyncState = ipc.SyncState_Serialize;

export type PhotoMaxEdge = 1280 | 1600 | 2048;

export type DeviceSettings = Omit<ipc.Settings_Serialize, 'language'> & { language: 'zh-CN' | 'en' };

export type NearbyCase = ipc.NearbyCase;

/** A simulated position (desktop runs and tests). */
export type SimulatedLocation = Omit<ipc.SimulatedFix, 'source'> & { source: Location['source'] };

/** An offline base map package (MBTiles), as the server offers it and the phone installs it. */
export type Basemap = ipc.Basemap_Serialize;

/** A package the server offers and what this phone holds of it (`installed`, `older`, `partial`, `none`). */
export type BasemapOffer = Omit<ipc.BasemapOffer_Serialize, 'held'> & { held: 'installed' | 'older' | 'partial' | 'none' };

export type DownloadProgress = ipc.DownloadProgress;

/** What the phone's map draws, from its store. */
export type MapLayers = ipc.MapLayers_Serialize;
export type MapFinding = ipc.MapFinding_Serialize;
export type MapTask = ipc.MapTask_Serialize;
export type MapCase = ipc.MapCase;

/** The dictionary, as the phone holds it and the server serves it. */
export type Dictionary = ipc.Dictionary_Serialize;

export type DictionaryCategory = ipc.Category_Serialize;

/** A road of the dictionary with its centre line ([lat, lon] pairs). */
export type Road = ipc.Road_Serialize;
export type Grid = ipc.Grid_Serialize;
/** Patrol coverage (巡查覆盖) of a period, by road or grid; where findings or cases are (heat map); an import
 * of grids (or its check). */
export type CoverageBy = 'road' | 'grid';
export type CoverageResponse = api.CoverageAnswer;
export type CoverageRow = api.CoverageRow;
export type HeatKind = 'findings' | 'cases';
export type HeatResponse = api.HeatAnswer;
export type HeatPoint = api.HeatPoint;
export type GridsImported = api.GridsImported;

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
