//! Exports of cases and findings, in the background: a job reads its rows a page at a time (after the last
//! row written, never all at once) and writes them straight to a file in `DATA/exports/` — CSV, GeoJSON, or
//! XLSX written row by row (constant memory) — then, when asked, puts the file and every photo its rows name
//! into a ZIP, one photo at a time. The job's progress is kept in the store for the console to follow; its
//! file is downloaded when done and removed after a week.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::blobs::BlobMeta;
use crate::db::{CaseView, ReviewItem, Store};
use crate::domain::exports::{
    CASE_COLUMNS, Cell, ExportFilter, ExportFormat, ExportJob, ExportKind, ExportRequest, FINDING_COLUMNS,
};
use crate::error::{AppError, AppResult};
use crate::policy::Scope;
use crate::state::AppState;

/// Rows read from the store at a time.
const PAGE: u32 = 1000;
/// How often (in rows) the progress is kept.
const PROGRESS_EVERY: u64 = 5000;
/// How long a finished export's file is kept.
pub const KEPT: Duration = Duration::days(7);
/// A running export whose progress was not kept for this long was cut off (its server stopped): progress is
/// kept every 5,000 rows and every 200 photos, which takes far less.
pub const STALE: Duration = Duration::minutes(10);

/// Where export files are.
pub fn dir(state: &AppState) -> PathBuf {
    state.config.data_dir.join("exports")
}

/// The finished file of a job.
pub fn file_of(state: &AppState, job: &ExportJob) -> PathBuf {
    let ext = if job.request.photos { "zip" } else { job.request.format.extension() };
    dir(state).join(format!("{}.{ext}", job.id))
}

/// Begins an export for `user` over what `scope` lets them see; answers the job at once, running.
pub async fn begin(
    state: &AppState,
    user: (Uuid, String),
    scope: Scope,
    request: ExportRequest,
) -> AppResult<ExportJob> {
    let zone = state.config.zone;
    let filter = ExportFilter {
        from: Some(zone.day_bounds(request.from).0),
        to: Some(zone.day_bounds(request.to).1),
        state: request.state.clone(),
        category: request.category.clone(),
        department: request.department.clone(),
        grid: request.grid.clone(),
    };
    let (kind, s2, f2) = (request.kind, scope.clone(), filter.clone());
    let total = state.blocking(move |s| s.export_count(kind, &s2, &f2)).await?;
    let now = Utc::now();
    let job = ExportJob {
        id: Uuid::now_v7(),
        file_name: request.file_name(),
        request,
        username: user.1,
        state: "running".into(),
        rows: 0,
        total,
        photos: 0,
        bytes: 0,
        error: None,
        created_at: zone.at(now),
        finished_at: None,
    };
    std::fs::create_dir_all(dir(state))?;
    let expired = state.blocking(move |s| s.expire_exports(now - KEPT)).await?;
    for id in expired {
        remove_files(state, id);
    }
    let (saved, uid) = (job.clone(), user.0);
    state.blocking(move |s| s.save_export(uid, &saved)).await?;
    let (state2, job2) = (state.clone(), job.clone());
    tokio::task::spawn_blocking(move || {
        let mut job = job2;
        let outcome = run(&state2, uid, &mut job, &scope, &filter);
        job.finished_at = Some(state2.config.zone.at(Utc::now()));
        match outcome {
            Ok(()) => job.state = "done".into(),
            Err(e) => {
                tracing::warn!(export = %job.id, "export failed: {e}");
                job.state = "failed".into();
                job.error = Some(e.to_string());
                remove_files(&state2, job.id);
            }
        }
        if let Err(e) = state2.store.save_export(uid, &job) {
            tracing::error!(export = %job.id, "the export's outcome could not be kept: {e}");
        }
    });
    Ok(job)
}

/// Every five minutes, ends the exports a stopped server left running (with several servers, one that stopped
/// is not the one that starts next), and removes their partial files where this server holds them.
pub fn sweep(state: AppState) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(300));
        every.tick().await;
        loop {
            every.tick().await;
            let now = chrono::Utc::now();
            match state.blocking(move |s| s.interrupt_exports(now - STALE, now)).await {
                Ok(ended) => ended.into_iter().for_each(|id| remove_files(&state, id)),
                Err(e) => tracing::warn!("exports cut off could not be ended: {e}"),
            }
        }
    });
}

/// Removes a job's files, finished or not.
pub fn remove_files(state: &AppState, id: Uuid) {
    for ext in ["csv", "xlsx", "geojson", "zip", "part.csv", "part.xlsx", "part.geojson", "zip.part"] {
        let _ = std::fs::remove_file(dir(state).join(format!("{id}.{ext}")));
    }
}

/// Writes the whole export; keeps its progress as it goes.
fn run(state: &AppState, user: Uuid, job: &mut ExportJob, scope: &Scope, filter: &ExportFilter) -> AppResult<()> {
    let store = state.store.as_ref();
    let finished = file_of(state, job);
    let data_path = dir(state).join(format!("{}.part.{}", job.id, job.request.format.extension()));
    let mut sink = Sink::create(job.request.format, &data_path, columns(job.request.kind))?;
    let mut photos: BTreeSet<String> = BTreeSet::new();
    let mut kept_at = 0;
    let mut write = |job: &mut ExportJob, row: Vec<Cell>, point: (f64, f64), shas: Vec<String>| -> AppResult<()> {
        sink.row(&row, point)?;
        if job.request.photos {
            photos.extend(shas);
        }
        job.rows += 1;
        if job.rows - kept_at >= PROGRESS_EVERY {
            kept_at = job.rows;
            store.save_export(user, job)?;
        }
        Ok(())
    };
    match job.request.kind {
        ExportKind::Findings => {
            let names = category_names(store)?;
            let mut after: Option<(i64, String)> = None;
            loop {
                let page = store.export_findings(scope, filter, after.clone(), PAGE)?;
                let Some(last) = page.last() else { break };
                after = Some((last.observed_at.timestamp(), last.id.to_string()));
                for f in page {
                    let point = (f.location.lon, f.location.lat);
                    let shas = f.photos.iter().map(|p| p.sha256.clone()).collect();
                    write(job, finding_row(&f, &names), point, shas)?;
                }
            }
        }
        ExportKind::Cases => {
            let mut after: Option<(String, String)> = None;
            loop {
                let page = store.export_cases(scope, filter, after.clone(), PAGE, Utc::now())?;
                let Some(last) = page.last() else { break };
                let filed = last.filed_at.to_utc().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
                after = Some((filed, last.case_no.clone()));
                for c in page {
                    let point = (c.location.lon, c.location.lat);
                    let shas = c.photos.clone();
                    write(job, case_row(&c), point, shas)?;
                }
            }
        }
    }
    sink.finish()?;
    if job.request.photos {
        let inner = format!("{}.{}", job.file_name.trim_end_matches(".zip"), job.request.format.extension());
        zip_with_photos(state, (user, job), &data_path, &inner, &photos, &finished)?;
        std::fs::remove_file(&data_path)?;
    } else {
        std::fs::rename(&data_path, &finished)?;
    }
    job.bytes = std::fs::metadata(&finished)?.len();
    Ok(())
}

fn columns(kind: ExportKind) -> &'static [&'static str] {
    match kind {
        ExportKind::Findings => &FINDING_COLUMNS,
        ExportKind::Cases => &CASE_COLUMNS,
    }
}

fn category_names(store: &dyn Store) -> AppResult<std::collections::HashMap<String, String>> {
    let dictionary = store.dictionary()?;
    Ok(dictionary.iter().flat_map(|d| d.categories.iter()).map(|c| (c.code.clone(), c.name.clone())).collect())
}

fn time(t: DateTime<chrono::FixedOffset>) -> Cell {
    Cell::text(t.to_rfc3339())
}

fn yes(b: bool) -> Cell {
    Cell::Number(if b { 1.0 } else { 0.0 })
}

fn finding_row(f: &ReviewItem, names: &std::collections::HashMap<String, String>) -> Vec<Cell> {
    vec![
        Cell::text(f.id.to_string()),
        time(f.observed_at),
        Cell::text(f.category.clone()),
        Cell::opt(names.get(&f.category).cloned()),
        Cell::text(f.description.clone()),
        Cell::text(f.state.as_str()),
        Cell::text(f.reporter.clone()),
        Cell::opt(f.team.clone()),
        Cell::opt(f.grid.clone()),
        Cell::opt(f.road.clone()),
        Cell::opt(f.address.clone()),
        Cell::Number(f.location.lat),
        Cell::Number(f.location.lon),
        Cell::opt(f.case_no.clone()),
        Cell::opt(f.reason.clone()),
        yes(f.urgent),
        yes(f.signed),
        Cell::text(f.photos.iter().map(|p| p.sha256.as_str()).collect::<Vec<_>>().join(";")),
    ]
}

fn case_row(c: &CaseView) -> Vec<Cell> {
    vec![
        Cell::text(c.case_no.clone()),
        Cell::text(c.state.as_str()),
        Cell::text(c.category.clone()),
        Cell::opt(c.category_name.clone()),
        Cell::opt(c.department.clone()),
        Cell::opt(c.team.clone()),
        Cell::opt(c.grid.clone()),
        Cell::opt(c.address.clone()),
        Cell::text(c.description.clone()),
        Cell::Number(c.location.lat),
        Cell::Number(c.location.lon),
        time(c.filed_at),
        c.due_at.map(time).unwrap_or(Cell::Empty),
        c.closed_at.map(time).unwrap_or(Cell::Empty),
        Cell::text(serde_json::to_value(c.light).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()),
        yes(c.overdue),
        Cell::Number(c.supervisions as f64),
        yes(c.urgent),
        Cell::text(c.photos.join(";")),
    ]
}

/// Where rows go, in the asked format.
enum Sink {
    Csv(BufWriter<File>),
    Geojson { out: BufWriter<File>, columns: &'static [&'static str], first: bool },
    Xlsx { book: Box<rust_xlsxwriter::Workbook>, path: PathBuf, row: u32 },
}

fn xlsx_error(e: rust_xlsxwriter::XlsxError) -> AppError {
    AppError::internal(format!("writing the XLSX file: {e}"))
}

/// The most rows a worksheet holds (Excel's limit, the header row included).
const XLSX_MAX_ROWS: u32 = 1_048_576;

impl Sink {
    fn create(format: ExportFormat, path: &Path, columns: &'static [&'static str]) -> AppResult<Sink> {
        Ok(match format {
            ExportFormat::Csv => {
                let mut out = BufWriter::new(File::create(path)?);
                // A byte-order mark, so that spreadsheet programs read the Chinese text as UTF-8.
                out.write_all("\u{feff}".as_bytes())?;
                writeln!(out, "{}", columns.join(","))?;
                Sink::Csv(out)
            }
            ExportFormat::Geojson => {
                let mut out = BufWriter::new(File::create(path)?);
                out.write_all(br#"{"type":"FeatureCollection","features":["#)?;
                Sink::Geojson { out, columns, first: true }
            }
            ExportFormat::Xlsx => {
                let mut book = Box::new(rust_xlsxwriter::Workbook::new());
                let sheet = book.add_worksheet_with_constant_memory().map_err(xlsx_error)?;
                for (i, c) in columns.iter().enumerate() {
                    sheet.write_string(0, i as u16, *c).map_err(xlsx_error)?;
                }
                Sink::Xlsx { book, path: path.to_owned(), row: 1 }
            }
        })
    }

    fn row(&mut self, cells: &[Cell], (lon, lat): (f64, f64)) -> AppResult<()> {
        match self {
            Sink::Csv(out) => {
                let line: Vec<String> = cells.iter().map(Cell::csv).collect();
                writeln!(out, "{}", line.join(","))?;
            }
            Sink::Geojson { out, columns, first } => {
                let properties: serde_json::Map<String, serde_json::Value> =
                    columns.iter().zip(cells).map(|(k, c)| ((*k).to_owned(), c.json())).collect();
                let feature = serde_json::json!({
                    "type": "Feature",
                    "geometry": { "type": "Point", "coordinates": [lon, lat] },
                    "properties": properties,
                });
                if !*first {
                    out.write_all(b",")?;
                }
                *first = false;
                serde_json::to_writer(&mut *out, &feature).map_err(|e| AppError::internal(e.to_string()))?;
            }
            Sink::Xlsx { book, row, .. } => {
                if *row >= XLSX_MAX_ROWS {
                    return Err(AppError::invalid(
                        "format",
                        "more rows than a spreadsheet holds (1,048,575): export CSV, or a shorter period",
                    ));
                }
                let sheet = book.worksheet_from_index(0).map_err(xlsx_error)?;
                for (i, c) in cells.iter().enumerate() {
                    match c {
                        Cell::Text(s) => sheet.write_string(*row, i as u16, s).map_err(xlsx_error)?,
                        Cell::Number(n) => sheet.write_number(*row, i as u16, *n).map_err(xlsx_error)?,
                        Cell::Empty => sheet,
                    };
                }
                *row += 1;
            }
        }
        Ok(())
    }

    fn finish(self) -> AppResult<()> {
        match self {
            Sink::Csv(mut out) => out.flush()?,
            Sink::Geojson { mut out, .. } => {
                out.write_all(b"]}")?;
                out.flush()?;
            }
            Sink::Xlsx { mut book, path, .. } => book.save(&path).map_err(xlsx_error)?,
        }
        Ok(())
    }
}

/// The data file and every photo its rows name (`photos/<sha256>.jpg`), one photo in memory at a time.
fn zip_with_photos(
    state: &AppState,
    (user, job): (Uuid, &mut ExportJob),
    data: &Path,
    inner: &str,
    photos: &BTreeSet<String>,
    target: &Path,
) -> AppResult<()> {
    let part = target.with_extension("zip.part");
    let mut zip = zip::ZipWriter::new(BufWriter::new(File::create(&part)?));
    let zip_error = |e: zip::result::ZipError| AppError::internal(format!("writing the ZIP file: {e}"));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored).large_file(true);
    zip.start_file(inner, stored).map_err(zip_error)?;
    std::io::copy(&mut File::open(data)?, &mut zip)?;
    let runtime = tokio::runtime::Handle::current();
    let mut missing = Vec::new();
    for sha in photos {
        let meta: Option<BlobMeta> = state.store.blob(sha)?;
        let Some(meta) = meta else {
            missing.push(sha.clone());
            continue;
        };
        let ext = if meta.content_type == "image/png" { "png" } else { "jpg" };
        let bytes = match runtime.block_on(state.photos.read(meta)) {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(photo = %sha, "an exported photo could not be read: {e}");
                missing.push(sha.clone());
                continue;
            }
        };
        zip.start_file(format!("photos/{sha}.{ext}"), stored).map_err(zip_error)?;
        zip.write_all(&bytes)?;
        job.photos += 1;
        if job.photos.is_multiple_of(200) {
            state.store.save_export(user, job)?;
        }
    }
    if !missing.is_empty() {
        // Photos removed by the retention rule, or never uploaded: named, so that the gap is not silent.
        zip.start_file("photos/MISSING.txt", stored).map_err(zip_error)?;
        zip.write_all(missing.join("\n").as_bytes())?;
    }
    zip.finish().map_err(zip_error)?.flush()?;
    std::fs::rename(part, target)?;
    Ok(())
}
