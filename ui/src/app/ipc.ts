// Every call from the phone app to its Rust side goes through this module: one function per Tauri command
// of the IPC contract (src-tauri/src/commands.rs), each calling the generated binding of that command
// (generated/bindings.ts, made from the commands themselves), so that a command's name, arguments or answer
// changed in Rust fails the type check here. Commands reject with an `IpcError` ({code, message}).
import { Channel } from '@tauri-apps/api/core';
import { listen, type UnlistenFn } from '@tauri-apps/api/event';
import type {
  Campaign,
  CompleteTaskRequest,
  DeviceSettings,
  DeviceStatus,
  Dictionary,
  FindingDetail,
  FindingQuery,
  FindingRow,
  IpcError,
  NearbyCase,
  Patrol,
  PlaceAt,
  RegisterRequest,
  RegisterResult,
  ReportInput,
  SimulatedLocation,
  StagedPhoto,
  SyncProgress,
  SyncReport,
  SyncState,
  TaskRow,
  Basemap,
  BasemapOffer,
  DownloadProgress,
  MapLayers,
} from '../shared/types';
import { commands } from './generated/bindings';

export function isIpcError(error: unknown): error is IpcError {
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as IpcError).code === 'string' &&
    typeof (error as IpcError).message === 'string'
  );
}

export const status = (): Promise<DeviceStatus> => commands.status();

export const register = (request: RegisterRequest): Promise<RegisterResult> =>
  commands.register(request.server, request.username, request.password, request.deviceName, request.totp ?? null);

export const dictionary = (): Promise<Dictionary | null> => commands.dictionary();

/** The dictionary road within reach of a position (30 m, the rule the device applies), or null. */
export const placeAt = (lat: number, lon: number): Promise<PlaceAt> => commands.placeAt(lat, lon);
/** The campaigns running today. */
export const campaigns = (): Promise<Campaign[]> => commands.campaigns();

// --- photos --------------------------------------------------------------------------------------------

/**
 * Bytes of the original file per `photo_append` call. Android's IPC has no raw bodies, so a photo goes over
 * as base64 text; 256 KiB per piece is the contract's upper bound and keeps each message ~350 KB.
 */
export const PHOTO_CHUNK_BYTES = 256 * 1024;

export const photoBegin = (): Promise<string> => commands.photoBegin();

export const photoAppend = (uploadId: string, chunk: string): Promise<number> =>
  commands.photoAppend(uploadId, chunk);

/**
 * What a photo is stamped with besides the time (when the stamp is on in the settings): the position the
 * report will have and its place (the address, else the road), as the patrol CLI stamps its photos.
 */
export interface PhotoStamp {
  lat: number;
  lon: number;
  accuracy_m: number;
  /** The address or road; Rust keeps its first 40 characters. */
  place: string | null;
}

/**
 * Processes and stores the uploaded bytes. Without a stamp (no position known yet, or a photo that is not
 * of a report) the photo is stamped with the time only.
 */
export const photoFinish = (uploadId: string, stamp: PhotoStamp | null = null): Promise<StagedPhoto> =>
  commands.photoFinish(uploadId, stamp?.lat ?? null, stamp?.lon ?? null, stamp?.accuracy_m ?? null, stamp?.place ?? null);

/** Base64 of bytes without Node's Buffer; `String.fromCharCode` in slices keeps the call stack small. */
export function toBase64(bytes: Uint8Array): string {
  let binary = '';
  const step = 0x8000;
  for (let i = 0; i < bytes.length; i += step) {
    binary += String.fromCharCode.apply(null, Array.from(bytes.subarray(i, i + step)));
  }
  return btoa(binary);
}

/** Reads a Blob's bytes; `Blob.arrayBuffer` is missing on some old Android WebViews. */
function readBytes(blob: Blob): Promise<ArrayBuffer> {
  if (typeof blob.arrayBuffer === 'function') return blob.arrayBuffer();
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result as ArrayBuffer);
    reader.onerror = () => reject(reader.error);
    reader.readAsArrayBuffer(blob);
  });
}

/**
 * Hands a photo file to Rust piece by piece and returns what the photo pipeline stored (stamped with
 * `stamp`, see `photoFinish`). Only one chunk is held as base64 at a time, so a 10 MB camera photo does not
 * need 10 MB of strings at once.
 */
export async function stagePhoto(
  file: Blob,
  stamp: PhotoStamp | null = null,
  onProgress?: (sent: number, total: number) => void,
): Promise<StagedPhoto> {
  const uploadId = await photoBegin();
  const total = file.size;
  for (let offset = 0; offset < total; offset += PHOTO_CHUNK_BYTES) {
    const bytes = new Uint8Array(await readBytes(file.slice(offset, offset + PHOTO_CHUNK_BYTES)));
    await photoAppend(uploadId, toBase64(bytes));
    onProgress?.(Math.min(offset + PHOTO_CHUNK_BYTES, total), total);
  }
  return photoFinish(uploadId, stamp);
}

/** Platforms whose webview reaches custom URI schemes as http://<scheme>.localhost (Tauri's convention). */
function usesHttpSchemeHost(): boolean {
  const agent = typeof navigator === 'undefined' ? '' : navigator.userAgent;
  return agent.includes('Android') || agent.includes('Windows');
}

/** A URL of one of Rust's URI schemes (`photo`, `tiles`) as this platform's webview reaches it. */
export function schemeUrl(scheme: string, path: string): string {
  return usesHttpSchemeHost() ? `http://${scheme}.localhost/${path}` : `${scheme}://localhost/${path}`;
}

/** The URL template of an installed base map's tiles, served by Rust's `tiles` scheme (Leaflet's {z}/{x}/{y}). */
export function tileUrlTemplate(name: string): string {
  return schemeUrl('tiles', `${name}/{z}/{x}/{y}`);
}

/** The `src` of a stored photo, served by Rust's `photo` URI scheme. */
export function photoUrl(sha256: string, thumb = false): string {
  const base = schemeUrl('photo', sha256);
  return thumb ? `${base}?thumb=1` : base;
}

// --- findings and tasks --------------------------------------------------------------------------------

export const report = (input: ReportInput): Promise<string> => commands.report(input);

// A draft is a finding still being edited: saved on the phone, not queued. `draft_submit` queues it like
// `report` (same checks) and wakes the sync.

/** Saves a draft (a new one when `id` is null, else replaces that draft's fields and photos); its id. */
export const draftSave = (id: string | null, input: ReportInput): Promise<string> => commands.draftSave(id, input);

/** Saves the draft's latest fields and queues it for sending. */
export const draftSubmit = (id: string, input: ReportInput): Promise<string> => commands.draftSubmit(id, input);

export const draftDelete = (id: string): Promise<null> => commands.draftDelete(id);

export const findings = (query: FindingQuery): Promise<FindingRow[]> =>
  commands.findings(query.state ?? null, query.day ?? null, query.limit, query.offset) as Promise<FindingRow[]>;

export const finding = (id: string): Promise<FindingDetail> => commands.finding(id) as Promise<FindingDetail>;

export const tasks = (): Promise<TaskRow[]> => commands.tasks() as Promise<TaskRow[]>;

export const completeTask = (request: CompleteTaskRequest): Promise<null> =>
  commands.completeTask(request.taskId, {
    result: request.result,
    note: request.note,
    photos: request.photos,
    category: request.category ?? null,
    location: request.location ?? null,
  });

export const nearbyCases = (lat: number, lon: number, radiusM: number): Promise<NearbyCase[]> =>
  commands.nearbyCases(lat, lon, radiusM);

// --- patrol and position -------------------------------------------------------------------------------

export const patrolStart = (): Promise<Patrol> => commands.patrolStart();
export const patrolPause = (): Promise<Patrol> => commands.patrolPause();
export const patrolResume = (): Promise<Patrol> => commands.patrolResume();
export const patrolEnd = (): Promise<Patrol> => commands.patrolEnd();

/** Adds a fix to the running patrol's track; false when Rust dropped it (too close, too inaccurate). */
export const patrolTrack = (lat: number, lon: number, accuracy: number): Promise<boolean> =>
  commands.patrolTrack(lat, lon, accuracy);

export const simulatedLocation = (): Promise<SimulatedLocation | null> =>
  commands.simulatedLocation() as Promise<SimulatedLocation | null>;

// --- map and offline base maps --------------------------------------------------------------------------

/** What the map draws, from the phone's store: my findings, open tasks, the team's open cases, the track. */
export const mapLayers = (): Promise<MapLayers> => commands.mapLayers();

/** The base maps installed on this phone (no network needed). */
export const basemapsInstalled = (): Promise<Basemap[]> => commands.basemapsInstalled();

/** The base maps the server offers, each with what this phone holds of it. */
export const basemapsOffered = (): Promise<BasemapOffer[]> => commands.basemapsOffered() as Promise<BasemapOffer[]>;

/**
 * Downloads (or resumes) a base map; progress arrives on `onProgress`. Rejects with `needs_wifi` on a metered
 * network while the Wi-Fi-only setting is on, unless `anyway`.
 */
export function basemapDownload(
  name: string,
  anyway: boolean,
  onProgress?: (progress: DownloadProgress) => void,
): Promise<Basemap> {
  const channel = new Channel<DownloadProgress>();
  if (onProgress) channel.onmessage = onProgress;
  return commands.basemapDownload(name, anyway, channel);
}

/** Stops the download under way (what arrived is kept, to resume); false when none runs. */
export const basemapCancel = (): Promise<boolean> => commands.basemapCancel();

export const basemapRemove = (name: string): Promise<null> => commands.basemapRemove(name);

// --- sync ----------------------------------------------------------------------------------------------

/** Runs a sync now; progress arrives on `onProgress` while it runs. */
export function syncNow(onProgress?: (progress: SyncProgress) => void): Promise<SyncReport> {
  const channel = new Channel<SyncProgress>();
  if (onProgress) channel.onmessage = onProgress;
  return commands.syncNow(channel);
}

export const syncState = (): Promise<SyncState> => commands.syncState();

/**
 * Asks the running sync to stop; true when one was running. It then ends with `last_error.code` "cancelled"
 * (a `sync_now` waiting on it may reject with that code too).
 */
export const syncCancel = (): Promise<boolean> => commands.syncCancel();

/** The error code of a sync that was stopped on request: not a failure. */
export const SYNC_CANCELLED = 'cancelled';

/** The background sync's state changes (start, progress, end). */
export const onSyncState = (handler: (state: SyncState) => void): Promise<UnlistenFn> =>
  listen<SyncState>('sync-state', (event) => handler(event.payload));

export const notifyNetwork = (online: boolean, wifi: boolean): Promise<void> => commands.notifyNetwork(online, wifi);

// --- settings ------------------------------------------------------------------------------------------

export const settingsGet = (): Promise<DeviceSettings> => commands.settingsGet() as Promise<DeviceSettings>;

export const settingsSet = (settings: DeviceSettings): Promise<DeviceSettings> =>
  commands.settingsSet(settings) as Promise<DeviceSettings>;
