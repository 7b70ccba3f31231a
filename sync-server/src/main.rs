//! `sync-server`: the command line of protocol.md (serve, user add, dict import, basemap import, grid import).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use chrono::Utc;
use clap::{Parser, Subcommand};
use protocol::{Dictionary, Role};
use sync_server::db::NewUser;
use sync_server::{AppError, AppState, Config, Zone, auth, demo};

#[derive(Parser)]
#[command(
    name = "sync-server",
    version,
    about = "Tiejiaoban (铁脚板) sync server: device sync, photos, cases and the web console"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the server until SIGTERM or Ctrl-C.
    Serve {
        /// Data directory (SQLite store and photos); created and migrated on first start.
        #[arg(long, default_value = "./data")]
        data: PathBuf,
        /// Address to listen on; port 0 picks a free port.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// Seed demo users, teams and roads (only what is missing).
        #[arg(long)]
        demo: bool,
        /// Time zone of calendar days: `host` or an offset such as `+08:00`.
        #[arg(long, default_value = "host")]
        timezone: String,
        /// Largest photo accepted, in bytes.
        #[arg(long, default_value_t = protocol::DEFAULT_MAX_BLOB_BYTES)]
        max_blob_bytes: u64,
        /// Hours a console session lasts (1 to 8,760).
        #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(i64).range(1..=8760))]
        session_hours: i64,
        /// Directory of the built web console (default: ui/dist/console when present).
        #[arg(long)]
        console: Option<PathBuf>,
        /// Where photos are kept: absent, packs in the data directory; `s3://BUCKET[/PREFIX]`, S3-compatible
        /// object storage (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ALLOW_HTTP).
        #[arg(long)]
        blobs: Option<String>,
        /// Serve HTTPS with this certificate chain (PEM); with --tls-key. Answers then carry HSTS.
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The certificate's private key (PEM).
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Admins must sign in with a second factor (TOTP); one without is let in only to set it up.
        #[arg(long)]
        require_totp_for_admins: bool,
        /// Retention: remove the photos of cases closed more than this many days ago (0 to 36,500), every
        /// night at 02:00 (hashes and history stay). Absent: photos are kept for ever.
        #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(u32).range(0..=36_500))]
        purge_photos_after_days: Option<u32>,
        /// The address people open the console at (e.g. https://cg.example.cn), for the links in group robots'
        /// messages. Absent: messages carry no link.
        #[arg(long, value_name = "URL")]
        public_url: Option<String>,
        /// Seconds from a failed webhook delivery to its first retry (1 to 25, so that with the sender's polling
        /// it comes within 30 s); each next wait is three times longer, at most an hour, for 25 hours.
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=25))]
        webhook_first_retry_secs: u64,
        /// Open311 reads (`GET /open311/v2/…`) need an integration token as `api_key` too; by default they are
        /// open, as Open311 clients expect (they never show photos, callers or reporters).
        #[arg(long)]
        open311_require_key: bool,
        /// The database: absent, the embedded SQLite store in --data; `postgres://USER:PASSWORD@HOST:PORT/DB`,
        /// PostgreSQL (created and migrated on first start). Several servers may share one database; with
        /// --blobs s3://… they serve the same devices as one
        #[arg(long, value_name = "URL")]
        database: Option<String>,
    },
    /// Manages users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manages the category dictionary.
    Dict {
        #[command(subcommand)]
        command: DictCommand,
    },
    /// Manages the offline base maps phones download.
    Basemap {
        #[command(subcommand)]
        command: BasemapCommand,
    },
    /// Manages the unit grids (单元网格) of the dictionary.
    Grid {
        #[command(subcommand)]
        command: GridCommand,
    },
    /// Backs a data directory up into a new directory, while the server runs or not: a consistent copy of the
    /// store, the photo packs, base maps and calendar; then checks the copy (its records counted, every photo
    /// read back against its hash) and writes backup.json.
    Backup {
        #[arg(long)]
        data: PathBuf,
        /// A directory that does not exist yet, or is empty.
        #[arg(long)]
        to: PathBuf,
        /// Leave the photos out (they are in object storage: back the bucket up with its own tools).
        #[arg(long)]
        skip_photos: bool,
        /// The store is this PostgreSQL database (as `serve --database`): it is dumped with pg_dump from one
        /// snapshot, beside the files of --data.
        #[arg(long, value_name = "URL")]
        database: Option<String>,
    },
    /// Copies a data directory's store into PostgreSQL, and its photos into object storage with --to-blobs
    /// (configured as for `serve --blobs`). Run it with the server stopped; run it again after an interruption:
    /// it adds only what is missing. It ends by comparing counts and reading every photo back against its hash.
    /// Then start `serve --data DIR --database URL [--blobs URL]`.
    Migrate {
        #[arg(long)]
        data: PathBuf,
        /// The database to copy into (`postgres://…`), created and migrated when new.
        #[arg(long, value_name = "URL")]
        to_database: String,
        /// The bucket to copy the photos into (`s3://BUCKET[/PREFIX]`); absent, they stay in the packs of --data.
        #[arg(long, value_name = "URL")]
        to_blobs: Option<String>,
        /// Stops once this many rows were added, as an interruption would (for testing a second run).
        #[arg(long, hide = true)]
        stop_after_rows: Option<u64>,
    },
    /// Restores a backup into a new data directory and checks it against the backup's backup.json.
    Restore {
        #[arg(long)]
        from: PathBuf,
        /// A directory that does not exist yet, or is empty; start `serve --data` on it afterwards.
        #[arg(long)]
        data: PathBuf,
        /// The backup is of a PostgreSQL store: restore it into this empty database (pg_restore).
        #[arg(long, value_name = "URL")]
        database: Option<String>,
    },
    /// Checks evidence packages (GET /api/v1/cases/{case_no}/evidence).
    Evidence {
        #[command(subcommand)]
        command: EvidenceCommand,
    },
}

#[derive(Subcommand)]
enum EvidenceCommand {
    /// Checks a package offline: every photo's hash, every signature against the device's registered keys,
    /// every chain link, and that the case's record is what the phone signed. Prints one line per finding and
    /// exits 0 when everything holds; exits 1 naming each thing that does not.
    Verify { file: PathBuf },
}

#[derive(Subcommand)]
enum GridCommand {
    /// Imports grids from a GeoJSON FeatureCollection of Polygon / MultiPolygon features (WGS-84, [lon, lat])
    /// whose properties carry `code`, `name` and optionally `team` and `inspectors`, as a new dictionary
    /// version; every finding and case is placed again by them. Nothing is imported when a feature is refused.
    Import {
        #[arg(long)]
        data: PathBuf,
        /// The database, as `serve --database` (absent: the embedded SQLite store in --data).
        #[arg(long, value_name = "URL")]
        database: Option<String>,
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum BasemapCommand {
    /// Imports an MBTiles file of raster tiles (png, jpg or webp) as the base map NAME, replacing one of that
    /// name; phones see it in the list of base maps.
    Import {
        #[arg(long)]
        data: PathBuf,
        /// The database, as `serve --database` (absent: the embedded SQLite store in --data).
        #[arg(long, value_name = "URL")]
        database: Option<String>,
        /// 1 to 64 of a-z, 0-9 and -.
        #[arg(long)]
        name: String,
        /// The datum the tiles are drawn in: wgs84 (天地图, OpenStreetMap) or gcj02 (most Chinese online maps).
        #[arg(long, default_value = "wgs84")]
        datum: String,
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Adds a user (creating the store and the team when needed).
    Add {
        #[arg(long)]
        data: PathBuf,
        /// The database, as `serve --database` (absent: the embedded SQLite store in --data).
        #[arg(long, value_name = "URL")]
        database: Option<String>,
        #[arg(long)]
        username: String,
        #[arg(long)]
        password: String,
        /// inspector, chief, dispatcher, department or admin.
        #[arg(long)]
        role: String,
        #[arg(long)]
        team: Option<String>,
        /// Department code from the dictionary (for department users).
        #[arg(long)]
        department: Option<String>,
        /// Display name (default: the username).
        #[arg(long)]
        name: Option<String>,
    },
}

#[derive(Subcommand)]
enum DictCommand {
    /// Imports a dictionary (JSON in the shape of the `dictionary` change) as a new version.
    Import {
        #[arg(long)]
        data: PathBuf,
        /// The database, as `serve --database` (absent: the embedded SQLite store in --data).
        #[arg(long, value_name = "URL")]
        database: Option<String>,
        file: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,tower_http=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn describe(e: impl Into<AppError>) -> String {
    let said = |error: protocol::ApiError| match error.field() {
        Some(field) => format!("{} ({field})", error.message),
        None => error.message,
    };
    match e.into() {
        AppError::Api(failure) => said(failure.error),
        AppError::Store(e) => e.to_api().map_or_else(|| e.to_string(), said),
        other => other.to_string(),
    }
}

fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Serve {
            data,
            listen,
            demo,
            timezone,
            max_blob_bytes,
            session_hours,
            console,
            blobs,
            tls_cert,
            tls_key,
            require_totp_for_admins,
            purge_photos_after_days,
            public_url,
            webhook_first_retry_secs,
            open311_require_key,
            database,
        } => {
            if database.is_some() && blobs.is_none() {
                eprintln!(
                    "warning: --database without --blobs: photos are kept in this server's --data; run a second \
                     server on the same database only with --blobs s3://…, where every server finds them"
                );
            }
            let zone = Zone::parse(&timezone)
                .ok_or_else(|| format!("--timezone: `{timezone}` is neither `host` nor an offset like +08:00"))?;
            let mut config = config_for(data, database)?;
            config.zone = zone;
            config.max_blob_bytes = max_blob_bytes;
            config.session_hours = session_hours;
            config.console_dir = console.or_else(default_console_dir);
            if let Some(url) = &blobs {
                sync_server::blobs::object::BucketUrl::parse(url).map_err(|e| format!("--blobs: {e}"))?;
            }
            config.blobs = blobs;
            config.tls = tls_cert.is_some();
            config.require_totp_for_admins = require_totp_for_admins;
            config.purge_photos_after_days = purge_photos_after_days;
            if let Some(url) = &public_url {
                match url::Url::parse(url) {
                    Ok(u) if matches!(u.scheme(), "http" | "https") => {}
                    _ => return Err(format!("--public-url: `{url}` is not an http(s) address")),
                }
            }
            config.public_url = public_url;
            config.webhook_first_retry = std::time::Duration::from_secs(webhook_first_retry_secs);
            config.open311_require_key = open311_require_key;
            let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
            let tls = tls_cert.zip(tls_key);
            runtime.block_on(serve(config, listen, demo, tls))
        }
        Command::User {
            command: UserCommand::Add { data, database, username, password, role, team, department, name },
        } => {
            let role = Role::parse(&role).ok_or_else(|| {
                format!("--role: `{role}` is not one of inspector, chief, dispatcher, department, admin")
            })?;
            if username.trim().is_empty() {
                return Err("--username must not be empty".into());
            }
            // The operator of the data directory may set any password (the command line is the contract's, and
            // its scripts may use short ones); one the console would refuse is taken with a warning.
            if let Err(e) =
                auth::check_password_policy(&password, &[username.as_str(), name.as_deref().unwrap_or_default()])
            {
                eprintln!("warning: --password: {} (the console and the API would refuse it)", e.message);
            }
            if role == Role::Department && department.is_none() {
                return Err("--department is required for a department user".into());
            }
            let state = AppState::open(config_for(data, database)?).map_err(describe)?;
            let user = state
                .store
                .add_user(
                    NewUser {
                        display_name: name.unwrap_or_else(|| username.clone()),
                        username,
                        password_hash: auth::hash_password(&password).map_err(describe)?,
                        role,
                        team,
                        department,
                    },
                    Utc::now(),
                )
                .map_err(describe)?;
            println!("added {} ({}) id {}", user.username, user.role, user.id);
            Ok(())
        }
        Command::Backup { data, to, skip_photos, database } => {
            config_for(data.clone(), database.clone())?;
            let settings = sync_server::state::engine_settings(&Config::new(&data)).map_err(describe)?;
            let mut progress = |line: String| eprintln!("{line}");
            let m =
                sync_server::backup::backup(&data, &to, settings, !skip_photos, database.as_deref(), &mut progress)?;
            println!(
                "backed up to {}: {} findings, {} cases, {} photos checked ({} bytes){}",
                to.display(),
                m.inventory.get("findings").unwrap_or(&0),
                m.inventory.get("cases").unwrap_or(&0),
                m.photos_checked,
                m.photo_bytes,
                if skip_photos { "; photos left out" } else { "" }
            );
            Ok(())
        }
        Command::Migrate { data, to_database, to_blobs, stop_after_rows } => {
            config_for(data.clone(), Some(to_database.clone()))
                .map_err(|e| e.replace("--database", "--to-database"))?;
            if let Some(url) = &to_blobs {
                sync_server::blobs::object::BucketUrl::parse(url).map_err(|e| format!("--to-blobs: {e}"))?;
            }
            let settings = sync_server::state::engine_settings(&Config::new(&data)).map_err(describe)?;
            let mut progress = |line: String| eprintln!("{line}");
            let m = sync_server::migrate::migrate(
                &data,
                &to_database,
                to_blobs.as_deref(),
                settings,
                stop_after_rows,
                &mut progress,
            )?;
            let rows: u64 = m.tables.iter().map(|t| t.rows).sum();
            let added: u64 = m.tables.iter().map(|t| t.added).sum();
            println!(
                "migrated {rows} rows of {} tables ({added} new this run), {} photos copied; counts equal ({} findings, {} cases); {} photos read back, each matching its hash",
                m.tables.len(),
                m.photos_copied,
                m.inventory.get("findings").unwrap_or(&0),
                m.inventory.get("cases").unwrap_or(&0),
                m.photos_checked
            );
            Ok(())
        }
        Command::Restore { from, data, database } => {
            config_for(data.clone(), database.clone())?;
            let settings = sync_server::state::engine_settings(&Config::new(&data)).map_err(describe)?;
            let mut progress = |line: String| eprintln!("{line}");
            let m = sync_server::backup::restore(&from, &data, settings, database.as_deref(), &mut progress)?;
            println!(
                "restored into {}: {} findings, {} cases, {} photos checked, as the backup holds",
                data.display(),
                m.inventory.get("findings").unwrap_or(&0),
                m.inventory.get("cases").unwrap_or(&0),
                m.photos_checked
            );
            Ok(())
        }
        Command::Evidence { command: EvidenceCommand::Verify { file } } => {
            let bytes = std::fs::read(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            let verdict = sync_server::evidence::verify(&bytes);
            for line in &verdict.holds {
                println!("{line}");
            }
            if verdict.fails.is_empty() {
                return Ok(());
            }
            for line in &verdict.fails {
                println!("FAILS: {line}");
            }
            Err(format!("{} of the package does not hold ({} problems)", file.display(), verdict.fails.len()))
        }
        Command::Dict { command: DictCommand::Import { data, database, file } } => {
            let text = std::fs::read_to_string(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            let dict: Dictionary = protocol::json::decode_slice(text.as_bytes()).map_err(|e| match e {
                protocol::json::DecodeError::Syntax(m) => {
                    format!("{} is not JSON: {m}", file.display())
                }
                protocol::json::DecodeError::Field(f) => format!("{}: {f}", file.display()),
            })?;
            let state = AppState::open(config_for(data, database)?).map_err(describe)?;
            let version = state.store.import_dictionary(dict, Utc::now()).map_err(describe)?;
            println!("imported dictionary version {version}");
            Ok(())
        }
        Command::Grid { command: GridCommand::Import { data, database, file } } => {
            let bytes = std::fs::metadata(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?.len();
            sync_server::grids::check_size(bytes).map_err(|e| format!("{}: {}", file.display(), describe(e)))?;
            let text = std::fs::read_to_string(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            let state = AppState::open(config_for(data, database)?).map_err(describe)?;
            let imported = sync_server::grids::import(state.store.as_ref(), &text, false, Utc::now())
                .map_err(|e| format!("{}: {}", file.display(), describe(e)))?;
            for o in &imported.overlaps {
                eprintln!("warning: grids {} and {} overlap by {:.0} m²", o.a, o.b, o.area_m2);
            }
            println!("imported {} grids as dictionary version {}", imported.grids, imported.version);
            Ok(())
        }
        Command::Basemap { command: BasemapCommand::Import { data, database, name, datum, file } } => {
            if !protocol::is_basemap_name(&name) {
                return Err(format!("`{name}` is not a base map name: 1 to 64 of a-z, 0-9 and -"));
            }
            let datum =
                protocol::Datum::parse(&datum).ok_or_else(|| format!("`{datum}` is not a datum: wgs84 or gcj02"))?;
            if !file.is_file() {
                return Err(format!("{} is not a file", file.display()));
            }
            let state = AppState::open(config_for(data, database)?).map_err(describe)?;
            let received =
                state.basemaps.receive_file(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            let inspected = match sync_server::basemaps::inspect(&received.path) {
                Ok(i) => i,
                Err(reason) => {
                    let _ = std::fs::remove_file(&received.path);
                    return Err(format!("{}: {reason}", file.display()));
                }
            };
            let basemap = sync_server::basemaps::describe(&name, datum, inspected, &received, Utc::now());
            state.basemaps.install(&received, &name).map_err(|e| format!("cannot keep the base map: {e}"))?;
            let created = state.store.save_basemap(&basemap).map_err(describe)?;
            println!(
                "{} base map {name}: {} bytes, zoom {}–{}, {} tiles in {}, sha256 {}",
                if created { "imported" } else { "replaced" },
                basemap.bytes,
                basemap.minzoom,
                basemap.maxzoom,
                basemap.tile_format.as_deref().unwrap_or("?"),
                basemap.datum.as_str(),
                basemap.sha256
            );
            Ok(())
        }
    }
}

/// The configuration of a data directory and, when given, a database (`--database`).
fn config_for(data: PathBuf, database: Option<String>) -> Result<Config, String> {
    if let Some(url) = &database
        && !(url.starts_with("postgres://") || url.starts_with("postgresql://"))
    {
        return Err(format!(
            "--database: `{url}` is not a postgres:// URL (leave it out for the embedded SQLite store)"
        ));
    }
    let mut config = Config::new(data);
    config.database = database;
    Ok(config)
}

/// `ui/dist/console` under the working directory or next to the binary's repository.
fn default_console_dir() -> Option<PathBuf> {
    let candidates =
        [PathBuf::from("ui/dist/console"), PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../ui/dist/console"))];
    candidates.into_iter().find(|p| p.join("index.html").is_file())
}

async fn serve(config: Config, listen: String, demo: bool, tls: Option<(PathBuf, PathBuf)>) -> Result<(), String> {
    let listener =
        tokio::net::TcpListener::bind(&listen).await.map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let console = config.console_dir.clone();
    let state = tokio::task::spawn_blocking(move || AppState::open(config))
        .await
        .map_err(|e| e.to_string())?
        .map_err(describe)?;
    state.check_photos().await.map_err(describe)?;
    if demo {
        let st = state.clone();
        let added = tokio::task::spawn_blocking(move || demo::seed_demo(st.store.as_ref()))
            .await
            .map_err(|e| e.to_string())?
            .map_err(describe)?;
        if !added.is_empty() {
            eprintln!("demo users added: {} (password: {})", added.join(", "), demo::DEMO_PASSWORD);
        }
    }
    eprintln!("photos: {}", state.photos.describe());
    if let Some(days) = state.config.purge_photos_after_days {
        eprintln!("retention: photos of cases closed more than {days} days ago are removed nightly at 02:00");
        sync_server::retention::schedule(state.clone(), days);
    }
    // Exports left running by the last stop end as failed: on the embedded store this server ran them all; on
    // a shared database only those no server has worked on for a while.
    let now = chrono::Utc::now();
    let stale_before = if state.config.database.is_some() { now - sync_server::exports::STALE } else { now };
    let st = state.clone();
    let interrupted = tokio::task::spawn_blocking(move || st.store.interrupt_exports(stale_before, now))
        .await
        .map_err(|e| e.to_string())?
        .map_err(describe)?;
    for id in &interrupted {
        sync_server::exports::remove_files(&state, *id);
    }
    if !interrupted.is_empty() {
        eprintln!("exports: {} export(s) cut off by the last stop are marked failed", interrupted.len());
    }
    sync_server::exports::sweep(state.clone());
    // Webhooks and group robots: the outbox is sent from here on (what waited across a restart too).
    sync_server::webhooks::start(state.clone());
    let tls = match tls {
        Some((cert, key)) => Some(
            sync_server::tls_config(&cert, &key)
                .await
                .map_err(|e| format!("--tls-cert {} / --tls-key {}: {e}", cert.display(), key.display()))?,
        ),
        None => None,
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    println!("listening on {scheme}://{addr}");
    if console.is_some() {
        println!("console at {scheme}://{addr}/console/");
    }
    let _ = std::io::stdout().flush();
    match tls {
        Some(tls) => {
            let listener = listener.into_std().map_err(|e| e.to_string())?;
            sync_server::serve_tls(listener, state, tls, sync_server::shutdown_signal())
                .await
                .map_err(|e| e.to_string())?;
        }
        None => {
            sync_server::serve(listener, state, sync_server::shutdown_signal()).await.map_err(|e| e.to_string())?;
        }
    }
    eprintln!("stopped");
    Ok(())
}
