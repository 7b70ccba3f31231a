//! The commands the app's web view may call: each is a thin call into the device core. Store work runs
//! on the blocking pool, never on the main thread, and never holds the store lock across a network wait.

use std::collections::HashMap;
use std::sync::Mutex;

use base64::Engine;
use chrono::Local;
use device::photo::{PhotoOptions, PhotoPipeline, stamp_lines};
use device::store::NewFinding;
use device::sync::{Progress, SyncReport};
use device::{DeviceError, DeviceStore, PatrolRow, Settings, StagedPhoto, TaskRow};
use protocol::{Dictionary, Finding, Location, PhotoRole, TaskResult, UserInfo};
use serde::{Deserialize, Serialize};
use tauri::ipc::Channel;
use tauri::{AppHandle, Runtime, State};
use uuid::Uuid;

use crate::sync_loop::{SyncState, Syncer};
use crate::{CommandError, Core};

type Result<T> = std::result::Result<T, CommandError>;

/// Largest photo taken from the web view (bytes of the original file).
const MAX_PHOTO_BYTES: usize = 40 * 1024 * 1024;

/// Runs store work on the blocking pool.
async fn with_store<T: Send + 'static>(
    core: &Core,
    f: impl FnOnce(&mut DeviceStore) -> std::result::Result<T, DeviceError> + Send + 'static,
) -> Result<T> {
    let store = core.store.clone();
    tauri::async_runtime::spawn_blocking(move || {
        let mut guard = store.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut guard)
    })
    .await
    .map_err(|e| CommandError { code: "internal".into(), message: e.to_string() })?
    .map_err(CommandError::from)
}

#[derive(Debug, Serialize, specta::Type)]
pub struct AppStatus {
    #[serde(flatten)]
    status: device::Status,
    display_name: Option<String>,
    patrol: Option<PatrolRow>,
    open_tasks: u64,
}

/// The device at a glance: registration, queue, patrol, tasks, last sync.
#[tauri::command]
#[specta::specta]
pub async fn status(core: State<'_, Core>) -> Result<AppStatus> {
    with_store(&core, |s| {
        Ok(AppStatus {
            status: s.status()?,
            display_name: s.account()?.map(|a| a.user.display_name),
            patrol: s.current_patrol()?,
            open_tasks: s.open_task_count()?,
        })
    })
    .await
}

#[derive(Debug, Serialize, specta::Type)]
pub struct Registered {
    device_id: Uuid,
    user: UserInfo,
}

/// Registers this phone with a server and fetches the dictionary.
#[tauri::command]
#[specta::specta]
pub async fn register(
    core: State<'_, Core>,
    server: String,
    username: String,
    password: String,
    device_name: String,
    totp: Option<String>,
) -> Result<Registered> {
    let client = device::SyncClient::new(&server)?;
    let name = if device_name.trim().is_empty() { "铁脚板".to_owned() } else { device_name };
    let account = client.register(core.store.as_ref(), &server, &username, &password, &name, totp.as_deref()).await?;
    Ok(Registered { device_id: account.device_id, user: account.user })
}

#[tauri::command]
#[specta::specta]
pub async fn dictionary(core: State<'_, Core>) -> Result<Option<Dictionary>> {
    with_store(&core, |s| s.dictionary()).await
}

/// The campaigns (每月一主题) running today: their categories come first in the category picker.
#[tauri::command]
#[specta::specta]
pub async fn campaigns(core: State<'_, Core>) -> Result<Vec<protocol::Campaign>> {
    with_store(&core, |s| s.campaigns_on(Local::now().date_naive())).await
}

/// The road within reach of a position (`protocol::ROAD_MATCH_M`) and the unit grid (单元网格) holding it, from
/// the dictionary the phone holds: the report form fills them in without typing, by the same rules the device
/// and the server apply when the report is saved and received.
#[tauri::command]
#[specta::specta]
pub async fn place_at(core: State<'_, Core>, lat: f64, lon: f64) -> Result<device::PlaceAt> {
    with_store(&core, move |s| s.place_at(lat, lon)).await
}

/// Photos arrive from the web view in base64 chunks (Android's IPC has no raw bodies).
#[derive(Default)]
pub struct Uploads(Mutex<HashMap<String, Vec<u8>>>);

#[tauri::command]
#[specta::specta]
pub fn photo_begin(uploads: State<'_, Uploads>) -> String {
    let id = Uuid::new_v4().to_string();
    uploads.0.lock().unwrap_or_else(|e| e.into_inner()).insert(id.clone(), Vec::new());
    id
}

#[tauri::command]
#[specta::specta]
pub fn photo_append(uploads: State<'_, Uploads>, upload_id: String, chunk: String) -> Result<usize> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(chunk.as_bytes())
        .map_err(|e| CommandError { code: "invalid".into(), message: format!("a photo chunk is not base64: {e}") })?;
    let mut map = uploads.0.lock().unwrap_or_else(|e| e.into_inner());
    let buf = map
        .get_mut(&upload_id)
        .ok_or_else(|| CommandError { code: "invalid".into(), message: "no such photo upload".into() })?;
    if buf.len() + bytes.len() > MAX_PHOTO_BYTES {
        map.remove(&upload_id);
        return Err(CommandError { code: "invalid".into(), message: "the photo is larger than 40 MB".into() });
    }
    buf.extend_from_slice(&bytes);
    Ok(buf.len())
}

/// Runs the photo pipeline on the received bytes and stores the result; the stamp carries the position
/// given (the one the report will have).
#[tauri::command]
#[specta::specta]
pub async fn photo_finish(
    core: State<'_, Core>,
    uploads: State<'_, Uploads>,
    upload_id: String,
    lat: Option<f64>,
    lon: Option<f64>,
    accuracy: Option<f64>,
    place: Option<String>,
) -> Result<StagedPhoto> {
    let bytes = uploads
        .0
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&upload_id)
        .ok_or_else(|| CommandError { code: "invalid".into(), message: "no such photo upload".into() })?;
    with_store(&core, move |s| {
        let settings = s.settings()?;
        let pipeline = PhotoPipeline::new(PhotoOptions {
            max_edge: settings.photo_max_edge,
            quality: settings.photo_quality,
            ..PhotoOptions::default()
        });
        let now = Local::now().fixed_offset();
        let lines = match (settings.stamp, lat, lon) {
            (true, Some(lat), Some(lon)) => Some(stamp_lines(now, lat, lon, accuracy.unwrap_or(0.0), place.as_deref())),
            (true, _, _) => Some(vec![now.format("%Y-%m-%d %H:%M:%S").to_string()]),
            (false, _, _) => None,
        };
        let processed = pipeline.process_stamped(&bytes, lines.as_deref())?;
        s.stage_photo(&processed)
    })
    .await
}

/// A task's result as the task screen sends it.
#[derive(Debug, Deserialize, specta::Type)]
pub struct TaskAnswer {
    result: TaskResult,
    #[serde(default)]
    note: Option<String>,
    /// SHA-256 of staged photos.
    #[serde(default)]
    photos: Vec<String>,
    /// 核实, confirmed: the category found, when the report came without one.
    #[serde(default)]
    category: Option<String>,
    /// 核实, confirmed: where the inspector stands, when the report has no place on the map.
    #[serde(default)]
    location: Option<Location>,
}

#[derive(Debug, Deserialize, specta::Type)]
pub struct PhotoChoice {
    sha256: String,
    role: PhotoRole,
}

#[derive(Debug, Deserialize, specta::Type)]
pub struct ReportInput {
    category: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    urgent: bool,
    #[serde(default)]
    fixed_on_spot: bool,
    location: Location,
    #[serde(default)]
    address: Option<String>,
    #[serde(default)]
    road: Option<String>,
    #[serde(default)]
    facility_code: Option<String>,
    photos: Vec<PhotoChoice>,
    /// The phone's last fix, when `location` is a pin placed by hand.
    #[serde(default)]
    gps: Option<protocol::GpsFix>,
}

fn staged(s: &DeviceStore, sha: &str) -> std::result::Result<StagedPhoto, DeviceError> {
    s.staged_photo(sha)?.ok_or_else(|| DeviceError::Invalid(format!("photo {sha} is not stored on this device")))
}

impl ReportInput {
    /// The finding as the store takes it, with the photos named by hash looked up on the device.
    fn into_new(self, s: &DeviceStore) -> std::result::Result<NewFinding, DeviceError> {
        let photos = self
            .photos
            .iter()
            .map(|p| Ok((staged(s, &p.sha256)?, p.role)))
            .collect::<std::result::Result<Vec<_>, DeviceError>>()?;
        let text = |v: Option<String>| v.filter(|a| !a.trim().is_empty());
        Ok(NewFinding {
            category: self.category,
            description: self.description,
            urgent: self.urgent,
            fixed_on_spot: self.fixed_on_spot,
            location: self.location,
            address: text(self.address),
            road: text(self.road),
            grid: None,
            facility_code: text(self.facility_code),
            observed_at: Local::now().fixed_offset(),
            photos,
            gps: self.gps,
        })
    }
}

/// Saves a finding and queues it; works with no network. Returns the finding id.
#[tauri::command]
#[specta::specta]
pub async fn report(core: State<'_, Core>, syncer: State<'_, Syncer>, input: ReportInput) -> Result<Uuid> {
    queue(&core, &syncer, input, None).await
}

/// Queues a report (or, with `draft`, that draft with the fields given) and wakes the sync.
async fn queue(core: &Core, syncer: &Syncer, input: ReportInput, draft: Option<Uuid>) -> Result<Uuid> {
    let id = with_store(core, move |s| {
        s.require_account()?;
        let new = input.into_new(s)?;
        let finding = match draft {
            Some(id) => s.submit_draft(id, new)?,
            None => s.queue_finding(new)?,
        };
        Ok(finding.id)
    })
    .await?;
    syncer.wake();
    Ok(id)
}

/// Saves a draft (new without `id`, else replacing that draft); nothing is sent. Returns its id.
#[tauri::command]
#[specta::specta]
pub async fn draft_save(core: State<'_, Core>, id: Option<Uuid>, input: ReportInput) -> Result<Uuid> {
    with_store(&core, move |s| {
        let new = input.into_new(s)?;
        Ok(s.save_draft(id, new)?.id)
    })
    .await
}

/// Queues a draft with the fields given, checked as a report is. Returns its id.
#[tauri::command]
#[specta::specta]
pub async fn draft_submit(
    core: State<'_, Core>,
    syncer: State<'_, Syncer>,
    id: Uuid,
    input: ReportInput,
) -> Result<Uuid> {
    queue(&core, &syncer, input, Some(id)).await
}

#[tauri::command]
#[specta::specta]
pub async fn draft_delete(core: State<'_, Core>, id: Uuid) -> Result<()> {
    with_store(&core, move |s| s.delete_draft(id)).await
}

#[tauri::command]
#[specta::specta]
pub async fn findings(
    core: State<'_, Core>,
    state: Option<String>,
    day: Option<String>,
    limit: Option<u32>,
    offset: Option<u32>,
) -> Result<Vec<device::FindingRow>> {
    with_store(&core, move |s| s.findings(state.as_deref(), day.as_deref(), limit.unwrap_or(50), offset.unwrap_or(0)))
        .await
}

#[derive(Debug, Serialize, specta::Type)]
pub struct FindingDetail {
    row: device::FindingRow,
    finding: Finding,
}

#[tauri::command]
#[specta::specta]
pub async fn finding(core: State<'_, Core>, id: Uuid) -> Result<FindingDetail> {
    with_store(&core, move |s| {
        s.finding(id)?
            .map(|(row, finding)| FindingDetail { row, finding })
            .ok_or_else(|| DeviceError::Invalid(format!("no finding {id} on this device")))
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn tasks(core: State<'_, Core>) -> Result<Vec<TaskRow>> {
    with_store(&core, |s| s.tasks()).await
}

#[tauri::command]
#[specta::specta]
pub async fn complete_task(
    core: State<'_, Core>,
    syncer: State<'_, Syncer>,
    task_id: Uuid,
    answer: TaskAnswer,
) -> Result<()> {
    with_store(&core, move |s| {
        let TaskAnswer { result, note, photos, category, location } = answer;
        let staged = photos.iter().map(|sha| staged(s, sha)).collect::<std::result::Result<Vec<_>, _>>()?;
        let now = Local::now().fixed_offset();
        s.complete_task(task_id, result, note.unwrap_or_default(), staged, now, category, location)
    })
    .await?;
    syncer.wake();
    Ok(())
}

#[tauri::command]
#[specta::specta]
pub async fn patrol_start(core: State<'_, Core>) -> Result<PatrolRow> {
    with_store(&core, |s| {
        s.start_patrol(Local::now().fixed_offset())?;
        s.current_patrol()?.ok_or_else(|| DeviceError::Invalid("the patrol did not start".into()))
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn patrol_pause(core: State<'_, Core>) -> Result<PatrolRow> {
    with_store(&core, |s| s.pause_patrol(true)).await
}

#[tauri::command]
#[specta::specta]
pub async fn patrol_resume(core: State<'_, Core>) -> Result<PatrolRow> {
    with_store(&core, |s| s.pause_patrol(false)).await
}

#[tauri::command]
#[specta::specta]
pub async fn patrol_end(core: State<'_, Core>, syncer: State<'_, Syncer>) -> Result<PatrolRow> {
    let patrol = with_store(&core, |s| s.end_patrol(Local::now().fixed_offset())).await?;
    syncer.wake();
    Ok(patrol)
}

#[tauri::command]
#[specta::specta]
pub async fn patrol_track(core: State<'_, Core>, lat: f64, lon: f64, accuracy: f64) -> Result<bool> {
    with_store(&core, move |s| {
        s.track_point(protocol::TrackPoint { t: Local::now().fixed_offset(), lat, lon, accuracy_m: accuracy })
    })
    .await
}

/// One sync now, reporting progress on the channel.
#[tauri::command]
#[specta::specta]
pub async fn sync_now<R: Runtime>(
    app: AppHandle<R>,
    syncer: State<'_, Syncer>,
    on_progress: Channel<Progress>,
) -> Result<SyncReport> {
    syncer.run(&app, Some(on_progress)).await
}

/// Asks a running sync to stop at its next step (between photo chunks' uploads or op batches); true when
/// one was running. What was sent stays sent; the rest goes next time.
#[tauri::command]
#[specta::specta]
pub fn sync_cancel(syncer: State<'_, Syncer>) -> bool {
    syncer.cancel()
}

#[tauri::command]
#[specta::specta]
pub fn sync_state(syncer: State<'_, Syncer>) -> SyncState {
    syncer.state()
}

/// The web view tells the core which network it is on (it can see `online`/`offline`).
#[tauri::command]
#[specta::specta]
pub fn notify_network(syncer: State<'_, Syncer>, online: bool, wifi: bool) {
    syncer.set_network(online, wifi);
}

#[tauri::command]
#[specta::specta]
pub async fn settings_get(core: State<'_, Core>) -> Result<Settings> {
    with_store(&core, |s| s.settings()).await
}

#[tauri::command]
#[specta::specta]
pub async fn settings_set(core: State<'_, Core>, settings: Settings) -> Result<Settings> {
    if !(320..=4096).contains(&settings.photo_max_edge) || !(30..=100).contains(&settings.photo_quality) {
        return Err(CommandError {
            code: "invalid".into(), message: "photo size 320–4096 px, quality 30–100".into()
        });
    }
    with_store(&core, move |s| {
        s.set_settings(&settings)?;
        s.settings()
    })
    .await
}

#[derive(Debug, Serialize, specta::Type)]
pub struct NearbyCase {
    case_no: String,
    category: String,
    distance_m: f64,
}

#[tauri::command]
#[specta::specta]
pub async fn nearby_cases(core: State<'_, Core>, lat: f64, lon: f64, radius_m: Option<f64>) -> Result<Vec<NearbyCase>> {
    with_store(&core, move |s| {
        Ok(s.nearby_cases(lat, lon, radius_m.unwrap_or(50.0))?
            .into_iter()
            .map(|(case_no, category, distance_m)| NearbyCase { case_no, category, distance_m })
            .collect())
    })
    .await
}

#[derive(Debug, Serialize, specta::Type)]
pub struct SimulatedFix {
    lat: f64,
    lon: f64,
    accuracy_m: f64,
    source: &'static str,
}

/// A simulated position for desktop runs and tests (`TIEJIAOBAN_SIM_LOCATION=lat,lon[,accuracy]`);
/// phones use their own positioning and get `null`.
#[tauri::command]
#[specta::specta]
pub fn simulated_location() -> Option<SimulatedFix> {
    let text = std::env::var("TIEJIAOBAN_SIM_LOCATION").ok()?;
    let mut parts = text.split(',').map(|p| p.trim().parse::<f64>());
    let lat = parts.next()?.ok()?;
    let lon = parts.next()?.ok()?;
    let accuracy_m = parts.next().and_then(|a| a.ok()).unwrap_or(5.0);
    Some(SimulatedFix { lat, lon, accuracy_m, source: "gps" })
}
