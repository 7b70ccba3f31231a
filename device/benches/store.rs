//! Store benchmarks of the phone core, on a real SQLite file with `synchronous=FULL`:
//! - save a report: "save" tapped → the finding, its photo rows and its op durable (photo processing
//!   excluded: the photos are staged first), on a store already holding 50,000 findings;
//! - "my reports": the first page (50 rows) of a store holding 50,000 findings, filtered by state, and by day;
//! - app start: store open with the migrations check, then the first screen's data (status, patrol, tasks,
//!   first page of reports).
//!
//! Run: `cargo bench -p tiejiaoban-device --bench store` (figures go to BENCHMARKS.md). The store folder
//! is a temporary one on the same disk as the system's temp dir (`TMPDIR` to choose another).

use std::time::{Duration, Instant};

use chrono::{Duration as Span, Local, TimeZone};
use device::photo::ProcessedPhoto;
use device::store::NewFinding;
use device::{DeviceStore, StagedPhoto};
use protocol::{Location, LocationSource, PhotoRole};
use rusqlite::{Connection, params};

const FINDINGS: usize = 50_000;
const SAVES: usize = 1_000;
const LIST_RUNS: usize = 200;
const START_RUNS: usize = 20;

fn percentile(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn stage(store: &DeviceStore, n: u32) -> StagedPhoto {
    let jpeg = n.to_le_bytes().repeat(64);
    let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&jpeg));
    store
        .stage_photo(&ProcessedPhoto {
            jpeg,
            sha256,
            width: 1600,
            height: 1200,
            taken_at: None,
            exif_position: None,
            thumbnail: Vec::new(),
            stamped: false,
        })
        .unwrap()
}

fn report(photos: Vec<StagedPhoto>) -> NewFinding {
    let now = Local::now().fixed_offset();
    NewFinding {
        category: "A0101".into(),
        description: "人行道井盖缺失，已设置警示".into(),
        urgent: false,
        fixed_on_spot: false,
        location: Location { lat: 41.7968, lon: 123.4328, accuracy_m: 6.5, source: LocationSource::Gps, fixed_at: now },
        address: Some("沈河区中街路 128 号".into()),
        road: None,
        grid: None,
        facility_code: None,
        observed_at: now,
        photos: photos.into_iter().map(|p| (p, PhotoRole::Before)).collect(),
        gps: None,
    }
}

/// 50,000 findings of the last 100 days with two photo rows each, written directly in one transaction
/// (the same rows `queue_finding` writes): 80 % received, 15 % queued, 4 % rejected, 1 % drafts.
fn fill(home: &std::path::Path) {
    let mut conn = Connection::open(home.join("device.sqlite")).unwrap();
    let tx = conn.transaction().unwrap();
    let body = serde_json::to_string(&serde_json::json!({"category": "A0101", "description": "井盖缺失"})).unwrap();
    let start = Local.with_ymd_and_hms(2026, 8, 1, 8, 0, 0).unwrap();
    {
        let mut finding = tx
            .prepare(
                "INSERT INTO findings (id, body, category, description, observed_at, observed_day, local_state, server_state, case_no, created_at, updated_at)
                 VALUES (?1, ?2, 'A0101', '井盖缺失', ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
            )
            .unwrap();
        let mut photo = tx
            .prepare(
                "INSERT INTO photos (finding_id, idx, sha256, role, width, height, bytes) VALUES (?1, ?2, ?3, 'before', 1600, 1200, 300000)",
            )
            .unwrap();
        for i in 0..FINDINGS {
            let id = uuid::Uuid::now_v7().to_string();
            let at = start + Span::seconds(i as i64 * 170);
            let state = match i % 100 {
                0..80 => "received",
                80..95 => "queued",
                95..99 => "rejected",
                _ => "draft",
            };
            let (server_state, case_no) =
                if state == "received" { (Some("filed"), Some(format!("C{i:08}"))) } else { (None, None) };
            let text = at.to_rfc3339();
            finding
                .execute(params![id, body, text, at.format("%Y-%m-%d").to_string(), state, server_state, case_no, text])
                .unwrap();
            for idx in 0..2 {
                photo.execute(params![id, idx, format!("{i:064}")]).unwrap();
            }
        }
    }
    tx.commit().unwrap();
}

fn main() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    drop(DeviceStore::open(home).unwrap()); // creates the schema
    let t = Instant::now();
    fill(home);
    println!("filled {FINDINGS} findings in {:.1} s", t.elapsed().as_secs_f64());

    // The floor of a durable save on this disk: one 4 KB append made durable with fdatasync, as a commit
    // in WAL mode costs at least that.
    let mut syncs = Vec::with_capacity(SAVES);
    {
        use std::io::Write;
        let mut f = std::fs::File::create(home.join("fsync-probe")).unwrap();
        for _ in 0..SAVES {
            let t = Instant::now();
            f.write_all(&[7u8; 4096]).unwrap();
            f.sync_data().unwrap();
            syncs.push(t.elapsed());
        }
    }
    println!(
        "disk floor: 4 KB append + fdatasync ({SAVES} times): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        ms(percentile(&mut syncs, 0.5)),
        ms(percentile(&mut syncs, 0.99)),
        ms(percentile(&mut syncs, 1.0))
    );

    let mut store = DeviceStore::open(home).unwrap();
    // Save: the photos are on disk before "save" is tapped, as in the app.
    let staged: Vec<StagedPhoto> = (0..SAVES as u32 * 2).map(|n| stage(&store, n)).collect();
    let mut saves = Vec::with_capacity(SAVES);
    for pair in staged.chunks(2) {
        let new = report(pair.to_vec());
        let t = Instant::now();
        store.queue_finding(new).unwrap();
        saves.push(t.elapsed());
    }
    println!(
        "save a report (2 photos, {SAVES} saves): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms (target p99 ≤ 5 ms)",
        ms(percentile(&mut saves, 0.5)),
        ms(percentile(&mut saves, 0.99)),
        ms(percentile(&mut saves, 1.0))
    );

    let day = (Local.with_ymd_and_hms(2026, 8, 1, 8, 0, 0).unwrap() + Span::days(50)).format("%Y-%m-%d").to_string();
    let cases: [(&str, Option<&str>, Option<&str>); 5] = [
        ("state=queued", Some("queued"), None),
        ("state=received", Some("received"), None),
        ("state=rejected", Some("rejected"), None),
        ("one day", None, Some(&day)),
        ("all", None, None),
    ];
    for (label, state, day) in cases {
        let mut runs = Vec::with_capacity(LIST_RUNS);
        let mut rows = 0;
        for _ in 0..LIST_RUNS {
            let t = Instant::now();
            rows = store.findings(state, day, 50, 0).unwrap().len();
            runs.push(t.elapsed());
        }
        println!(
            "my reports, first page ({rows} rows) of {} findings, {label}: median {:.3} ms, max {:.3} ms (target ≤ 10 ms)",
            FINDINGS + SAVES,
            ms(percentile(&mut runs, 0.5)),
            ms(percentile(&mut runs, 1.0))
        );
    }
    drop(store);

    let mut starts = Vec::with_capacity(START_RUNS);
    for _ in 0..START_RUNS {
        let t = Instant::now();
        let store = DeviceStore::open(home).unwrap();
        store.status().unwrap();
        store.current_patrol().unwrap();
        store.open_task_count().unwrap();
        store.findings(None, None, 50, 0).unwrap();
        starts.push(t.elapsed());
    }
    println!(
        "app start (open + migrations check + first screen) on {} findings: median {:.2} ms, max {:.2} ms (target ≤ 150 ms)",
        FINDINGS + SAVES,
        ms(percentile(&mut starts, 0.5)),
        ms(percentile(&mut starts, 1.0))
    );
}
