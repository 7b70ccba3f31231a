//! `patrol`: the device core on the command line — everything the app does, without a screen.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;

use chrono::Local;
use clap::{Parser, Subcommand};
use device::store::NewFinding;
use device::sync::Progress;
use device::{DeviceError, DeviceStore, PhotoPipeline, SyncClient};
use protocol::{Location, LocationSource, PhotoRole};

#[derive(Parser)]
#[command(name = "patrol", version, about = "Tiejiaoban (铁脚板) field device on the command line")]
struct Cli {
    /// Directory holding this device's store and photos.
    #[arg(long, global = true)]
    home: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Registers this device with a server and fetches the dictionary.
    Register {
        /// The server's origin, e.g. http://127.0.0.1:8080.
        #[arg(long)]
        server: String,
        #[arg(long)]
        username: String,
        #[arg(long)]
        password: String,
        #[arg(long)]
        device_name: Option<String>,
        /// The 6-digit code of the authenticator app, for an account with two-factor sign-in on.
        #[arg(long)]
        totp: Option<String>,
    },
    /// Saves a finding with its photos and queues it; works with no network.
    Report {
        #[arg(long)]
        category: String,
        #[arg(long, allow_hyphen_values = true)]
        lat: f64,
        #[arg(long, allow_hyphen_values = true)]
        lon: f64,
        /// Position accuracy in metres.
        #[arg(long, default_value_t = 0.0)]
        accuracy: f64,
        #[arg(long, default_value = "")]
        description: String,
        #[arg(long)]
        address: Option<String>,
        #[arg(long)]
        road: Option<String>,
        #[arg(long)]
        facility_code: Option<String>,
        #[arg(long)]
        urgent: bool,
        #[arg(long)]
        fixed_on_spot: bool,
        /// A photo of the problem (1 to 9 photos in all).
        #[arg(long = "photo", required = true)]
        photos: Vec<PathBuf>,
        /// A photo after fixing it on the spot (needs --fixed-on-spot).
        #[arg(long = "after-photo")]
        after_photos: Vec<PathBuf>,
    },
    /// One full sync: photos, ops, changes.
    Sync,
    /// The findings on this device.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Registration, queue and last sync.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Checks the store: removes leftovers of a crash, verifies the photos waiting to be sent.
    Check,
    /// Verification tasks (核查) received from the server.
    Tasks {
        #[arg(long)]
        json: bool,
    },
    /// Records the result of a task; works with no network.
    TaskComplete {
        task_id: String,
        /// 核查 (verify): pass or fail; 核实 (confirm): confirmed or not_found; a free task (inspect): done.
        #[arg(long)]
        result: String,
        #[arg(long, default_value = "")]
        note: String,
        #[arg(long = "photo")]
        photos: Vec<PathBuf>,
        /// confirmed: the category found, when the report came without one.
        #[arg(long)]
        category: Option<String>,
        /// confirmed: where you stand, when the report came with an address only.
        #[arg(long, allow_hyphen_values = true)]
        lat: Option<f64>,
        #[arg(long, allow_hyphen_values = true)]
        lon: Option<f64>,
    },
    /// A patrol: start, end, or one track point now.
    Patrol {
        #[command(subcommand)]
        command: PatrolCommand,
    },
    /// Offline base maps: what the server offers and this device holds; download one.
    Basemap {
        #[command(subcommand)]
        command: BasemapCommand,
    },
    /// The campaigns (每月一主题) running today, as the server announced them: one JSON object a line.
    Campaigns,
    /// The road and the unit grid (单元网格) at positions, from the dictionary this device holds, as a report
    /// there would carry them: one JSON object a line. Positions as `--at LAT,LON` (repeatable), or one
    /// `LAT,LON` a line from `--from FILE`.
    Place {
        #[arg(long, allow_hyphen_values = true)]
        at: Vec<String>,
        #[arg(long)]
        from: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum BasemapCommand {
    /// The packages the server offers, and which of them this device holds.
    List,
    /// Downloads a package (resuming a cut download), checks its SHA-256 and installs it.
    Get { name: String },
    /// Removes a package from this device.
    Remove { name: String },
}

#[derive(Subcommand)]
enum PatrolCommand {
    /// Starts a patrol; findings reported while it runs belong to it.
    Start,
    /// Ends the running patrol.
    End,
    /// Records the current position.
    Track {
        #[arg(long, allow_hyphen_values = true)]
        lat: f64,
        #[arg(long, allow_hyphen_values = true)]
        lon: f64,
        #[arg(long, default_value_t = 5.0)]
        accuracy: f64,
    },
}

/// Runs each file through the photo pipeline (with the stamp when given); nothing is stored yet, so a
/// refused photo leaves nothing behind.
fn process_photos(paths: &[PathBuf], stamp: Option<&[String]>) -> Result<Vec<device::ProcessedPhoto>, DeviceError> {
    let pipeline = PhotoPipeline::default();
    paths
        .iter()
        .map(|path| {
            let bytes = std::fs::read(path).map_err(|e| DeviceError::BadPhoto(format!("{}: {e}", path.display())))?;
            pipeline.process_stamped(&bytes, stamp).map_err(|e| match e {
                DeviceError::UnsupportedFormat(m) => DeviceError::UnsupportedFormat(format!("{}: {m}", path.display())),
                DeviceError::BadPhoto(m) => DeviceError::BadPhoto(format!("{}: {m}", path.display())),
                other => other,
            })
        })
        .collect()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, DeviceError> {
    tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(DeviceError::Io)
}

fn run(cli: Cli) -> Result<ExitCode, DeviceError> {
    let home = cli.home.ok_or_else(|| DeviceError::Invalid("--home DIR is required".into()))?;
    let store = DeviceStore::open(&home)?;
    // Leftovers of a crash (temporary files, photo files no row knows) go before anything else.
    let startup = store.check(false)?;
    let store = Mutex::new(store);
    match cli.command {
        Command::Register { server, username, password, device_name, totp } => {
            let client = SyncClient::new(&server)?;
            let name = device_name.unwrap_or_else(|| format!("patrol-cli@{}", std::env::consts::OS));
            let account =
                runtime()?.block_on(client.register(&store, &server, &username, &password, &name, totp.as_deref()))?;
            let status = store.lock().unwrap_or_else(|e| e.into_inner()).status()?;
            println!(
                "registered device {} for {} ({}, team {}); dictionary version {}",
                account.device_id,
                account.user.display_name,
                account.user.role,
                account.user.team.as_deref().unwrap_or("-"),
                status.dictionary_version.map(|v| v.to_string()).unwrap_or_else(|| "-".into())
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Report {
            category,
            lat,
            lon,
            accuracy,
            description,
            address,
            road,
            facility_code,
            urgent,
            fixed_on_spot,
            photos,
            after_photos,
        } => {
            let mut store = store.into_inner().unwrap_or_else(|e| e.into_inner());
            store.require_account()?;
            if !after_photos.is_empty() && !fixed_on_spot {
                return Err(DeviceError::Invalid("--after-photo needs --fixed-on-spot".into()));
            }
            let now = Local::now().fixed_offset();
            let stamp = (store.settings()?.stamp)
                .then(|| device::photo::stamp_lines(now, lat, lon, accuracy, address.as_deref().or(road.as_deref())));
            let before = process_photos(&photos, stamp.as_deref())?;
            let after = process_photos(&after_photos, stamp.as_deref())?;
            let mut processed = Vec::new();
            for (photo, role) in
                before.iter().map(|p| (p, PhotoRole::Before)).chain(after.iter().map(|p| (p, PhotoRole::After)))
            {
                processed.push((store.stage_photo(photo)?, role));
            }
            let finding = store.queue_finding(NewFinding {
                category,
                description,
                urgent,
                fixed_on_spot,
                location: Location { lat, lon, accuracy_m: accuracy, source: LocationSource::Manual, fixed_at: now },
                address,
                road,
                grid: None,
                facility_code,
                observed_at: now,
                photos: processed,
                gps: None,
            })?;
            eprintln!("saved with {} photo(s); waiting to send: {}", finding.photos.len(), store.pending_count()?);
            println!("{}", finding.id);
            Ok(ExitCode::SUCCESS)
        }
        Command::Sync => {
            let server = store.lock().unwrap_or_else(|e| e.into_inner()).require_account()?.server_url;
            let client = SyncClient::new(&server)?;
            let mut show = |p: &Progress| {
                if p.phase == device::sync::Phase::Photos && p.photos_total > 0 {
                    eprint!("\rphotos {}/{} [{}]", p.photos_done, p.photos_total, bar(p.bytes_done, p.bytes_total));
                    if p.photos_done == p.photos_total {
                        eprintln!();
                    }
                }
            };
            let report = runtime()?.block_on(client.sync(&store, &mut show, None))?;
            println!(
                "photos uploaded: {} ({} bytes); ops sent: {}, applied: {}, duplicate: {}, rejected: {}, to retry: {}; changes received: {}",
                report.photos_uploaded,
                report.photo_bytes_sent,
                report.ops_sent,
                report.applied,
                report.duplicate,
                report.rejected.len(),
                report.retry,
                report.changes_received
            );
            for (seq, reason) in &report.rejected {
                println!("rejected op {seq}: {reason}");
            }
            for (sha, reason) in &report.photo_errors {
                println!("photo {sha} not uploaded: {reason}");
            }
            if report.complete() {
                Ok(ExitCode::SUCCESS)
            } else {
                eprintln!("{} op(s) still waiting; run sync again later", report.remaining);
                Ok(ExitCode::from(3))
            }
        }
        Command::List { json } => {
            let rows = store.lock().unwrap_or_else(|e| e.into_inner()).findings(None, None, u32::MAX, 0)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                for r in rows {
                    println!(
                        "{}  {}  {:<9} {:<15} {:<14} {}",
                        r.id,
                        r.category,
                        r.local_state,
                        r.server_state.as_deref().unwrap_or("-"),
                        r.case_no.as_deref().unwrap_or("-"),
                        r.reason.as_deref().unwrap_or(&r.description)
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Check => {
            let report = store.lock().unwrap_or_else(|e| e.into_inner()).check(true)?;
            println!(
                "removed {} temporary and {} orphan file(s) at start; {} missing and {} corrupt photo(s)",
                startup.removed_temp_files,
                startup.removed_orphans,
                report.missing.len(),
                report.corrupt.len()
            );
            for sha in report.missing.iter().chain(&report.corrupt) {
                println!("photo {sha} cannot be sent");
            }
            Ok(if report.missing.is_empty() && report.corrupt.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Tasks { json } => {
            let tasks = store.lock().unwrap_or_else(|e| e.into_inner()).tasks()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&tasks)?);
            } else {
                for t in tasks {
                    println!(
                        "{}  {:<7} {:<9} {}  {}  due {}  {}",
                        t.id,
                        t.task_type.as_str(),
                        t.state,
                        t.case_no.as_deref().or(t.title.as_deref()).unwrap_or("-"),
                        t.category,
                        t.due_at.as_deref().unwrap_or("-"),
                        t.address.as_deref().unwrap_or(&t.description)
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::TaskComplete { task_id, result, note, photos, category, lat, lon } => {
            let id = uuid::Uuid::parse_str(&task_id)
                .map_err(|_| DeviceError::Invalid(format!("`{task_id}` is not a task id")))?;
            let result: protocol::TaskResult = result.parse().map_err(|_| {
                DeviceError::Invalid(format!("--result is pass, fail, confirmed, not_found or done, not `{result}`"))
            })?;
            let mut store = store.into_inner().unwrap_or_else(|e| e.into_inner());
            store.require_account()?;
            let now = Local::now().fixed_offset();
            let stamp = store.settings()?.stamp.then(|| vec![now.format("%Y-%m-%d %H:%M:%S").to_string()]);
            let staged = process_photos(&photos, stamp.as_deref())?
                .iter()
                .map(|p| store.stage_photo(p))
                .collect::<Result<Vec<_>, _>>()?;
            let location = lat.zip(lon).map(|(lat, lon)| Location {
                lat,
                lon,
                accuracy_m: 0.0,
                source: LocationSource::Manual,
                fixed_at: now,
            });
            store.complete_task(id, result, note, staged, now, category, location)?;
            eprintln!("task result saved; waiting to send: {}", store.pending_count()?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Basemap { command } => {
            let maps = device::basemaps::Basemaps::open(&home)?;
            let server = store.lock().unwrap_or_else(|e| e.into_inner()).require_account()?.server_url;
            let client = SyncClient::new(&server)?;
            let mb = |b: u64| format!("{:.1} MB", b as f64 / 1048576.0);
            match command {
                BasemapCommand::List => {
                    let held = maps.installed()?;
                    for b in runtime()?.block_on(client.basemaps(&store))? {
                        let here = match held.iter().find(|h| h.name == b.name) {
                            Some(h) if h.sha256 == b.sha256 => "installed",
                            Some(_) => "installed, older",
                            None => "-",
                        };
                        println!(
                            "{}\t{}\tzoom {}-{}\t{}\t{}",
                            b.name,
                            mb(b.bytes),
                            b.minzoom,
                            b.maxzoom,
                            b.datum.as_str(),
                            here
                        );
                    }
                }
                BasemapCommand::Get { name } => {
                    let offered = runtime()?
                        .block_on(client.basemaps(&store))?
                        .into_iter()
                        .find(|b| b.name == name)
                        .ok_or_else(|| DeviceError::Invalid(format!("the server offers no base map `{name}`")))?;
                    if let Some((entry, have)) =
                        maps.partial(&name).filter(|(e, h)| e.sha256 == offered.sha256 && *h > 0)
                    {
                        eprintln!("resuming {} from byte {have}", entry.name);
                    }
                    let mut show = |p: device::basemaps::DownloadProgress| {
                        eprint!("\r{name} [{}] {} / {}", bar(p.done, p.total), mb(p.done), mb(p.total));
                    };
                    let installed =
                        runtime()?.block_on(client.download_basemap(&store, &maps, &offered, &mut show, None));
                    eprintln!();
                    let installed = installed?;
                    println!(
                        "installed base map {} ({}, sha256 {})",
                        installed.name,
                        mb(installed.bytes),
                        installed.sha256
                    );
                }
                BasemapCommand::Remove { name } => {
                    maps.remove(&name)?;
                    println!("removed base map {name}");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Patrol { command } => {
            let mut store = store.into_inner().unwrap_or_else(|e| e.into_inner());
            store.require_account()?;
            let now = Local::now().fixed_offset();
            match command {
                PatrolCommand::Start => println!("{}", store.start_patrol(now)?),
                PatrolCommand::End => {
                    let p = store.end_patrol(now)?;
                    println!("patrol {} ended: {:.0} m, {} points", p.id, p.distance_m, p.points);
                }
                PatrolCommand::Track { lat, lon, accuracy } => {
                    let kept = store.track_point(protocol::TrackPoint { t: now, lat, lon, accuracy_m: accuracy })?;
                    if !kept {
                        eprintln!("point skipped (too close to the last one or too inaccurate)");
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Campaigns => {
            let today = chrono::Local::now().date_naive();
            for c in store.lock().unwrap_or_else(|e| e.into_inner()).campaigns_on(today)? {
                println!("{}", serde_json::to_string(&c)?);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Place { at, from } => {
            let mut lines = at;
            if let Some(file) = from {
                lines.extend(
                    std::fs::read_to_string(&file)?.lines().filter(|l| !l.trim().is_empty()).map(str::to_owned),
                );
            }
            let store = store.lock().unwrap_or_else(|e| e.into_inner());
            for line in &lines {
                let parsed = line
                    .split_once(',')
                    .and_then(|(a, b)| Some((a.trim().parse::<f64>().ok()?, b.trim().parse::<f64>().ok()?)));
                let Some((lat, lon)) =
                    parsed.filter(|(lat, lon)| (-90.0..=90.0).contains(lat) && (-180.0..=180.0).contains(lon))
                else {
                    eprintln!("not a position (LAT,LON): {line}");
                    return Ok(ExitCode::from(2));
                };
                let place = store.place_at(lat, lon)?;
                println!("{}", serde_json::json!({"lat": lat, "lon": lon, "road": place.road, "grid": place.grid}));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Status { json } => {
            let status = store.lock().unwrap_or_else(|e| e.into_inner()).status()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&status)?);
            } else {
                println!("registered: {}", if status.registered { "yes" } else { "no" });
                if let (Some(server), Some(user)) = (&status.server_url, &status.username) {
                    println!("server: {server}\nuser: {user}");
                }
                println!("findings: {} (drafts: {}, rejected: {})", status.findings, status.drafts, status.rejected);
                println!("waiting to send: {} op(s), {} photo bytes", status.pending_ops, status.pending_photo_bytes);
                println!("last sync: {}", status.last_sync_at.as_deref().unwrap_or("never"));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn bar(done: u64, total: u64) -> String {
    let width = 30;
    let filled = (done * width as u64).checked_div(total).map_or(width, |f| (f as usize).min(width));
    format!("{}{}", "#".repeat(filled), "-".repeat(width - filled))
}
