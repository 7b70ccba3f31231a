//! Export throughput: 100,000 findings (and 20,000 cases) exported by `exports::begin` as the server runs it
//! (in the background, a page of rows at a time, to a file), in each format, against a real SQLite store in a
//! temporary directory. Rows a second and megabytes a second of file written, each format timed from the
//! request to the job's end.
//!
//! Run: `cargo bench -p sync-server --bench exports` (figures go to BENCHMARKS.md).

use std::time::{Duration, Instant};

use chrono::Utc;
use protocol::{DeviceInfo, OpEnvelopeRaw, Role};
use sync_server::blobs::BlobMeta;
use sync_server::db::{NewUser, SyncContext};
use sync_server::domain::exports::{ExportFormat, ExportKind, ExportRequest};
use sync_server::domain::ops;
use sync_server::policy::Scope;
use sync_server::principal::Principal;
use sync_server::{AppState, Config};
use uuid::Uuid;

const FINDINGS: usize = 100_000;
const CASES: usize = 20_000;

#[derive(serde::Deserialize)]
struct Batch<'a> {
    #[serde(borrow)]
    ops: Vec<OpEnvelopeRaw<'a>>,
}

/// Sends `count` findings of `category`, 500 to a request; spread over a grid of points `step` degrees apart.
fn ingest(state: &AppState, phone: &Principal, first_seq: u64, count: usize, category: &str, step: f64) {
    let store = state.store.as_ref();
    let now = Utc::now();
    let at = now.to_rfc3339();
    let sha = "ab".repeat(32);
    let mut seq = first_seq;
    for chunk in 0..count / 500 {
        let ops: Vec<String> = (0..500)
            .map(|i| {
                seq += 1;
                let n = chunk * 500 + i;
                let body = serde_json::json!({
                    "id": Uuid::now_v7(), "patrol_id": null, "category": category,
                    "description": format!("第{n}号 人行道堆放垃圾，影响通行"), "urgent": false, "fixed_on_spot": false,
                    "location": {"lat": 41.70 + (n % 300) as f64 * step, "lon": 123.30 + (n / 300) as f64 * step,
                                 "accuracy_m": 4.0, "source": "gps", "fixed_at": at},
                    "address": "中街路 12 号", "road": null, "grid": null, "facility_code": null, "observed_at": at,
                    "photos": [{"sha256": sha, "role": "before", "taken_at": at, "width": 1600, "height": 1200, "bytes": 1000}]
                });
                format!(r#"{{"seq":{seq},"kind":"finding.create","body":{body}}}"#)
            })
            .collect();
        let text = format!(r#"{{"ops":[{}]}}"#, ops.join(","));
        let batch: Batch<'_> = serde_json::from_str(&text).unwrap();
        let device_id = phone.device_id.unwrap();
        let ctx = SyncContext { principal: phone, device_id, now, backlog: None, dictionary_version: None };
        let prepared = ops::prepare(now, &batch.ops, None, store.category_check());
        store.apply_ops(&ctx, prepared).unwrap();
    }
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let _guard = runtime.enter();
    let state = AppState::open(Config::new(dir.path())).unwrap();
    let store = state.store.clone();
    let now = Utc::now();
    let new_user = NewUser {
        username: "wang".into(),
        password_hash: "x".into(),
        display_name: "王".into(),
        role: Role::Inspector,
        team: Some("一中队".into()),
        department: None,
    };
    let user = store.add_user(new_user, now).unwrap();
    let info = DeviceInfo {
        id: Uuid::new_v4(),
        name: "p".into(),
        platform: "bench".into(),
        app_version: "1".into(),
        public_key: None,
    };
    store.register_device(&user, &info, "t", now).unwrap();
    let phone = Principal { user: user.clone(), device_id: Some(info.id), address: None, enrol_only: false };
    let meta = BlobMeta { sha256: "ab".repeat(32), bytes: 1000, content_type: "image/jpeg".into(), packed: None };
    store.record_blobs(&[(meta, user.id)], now).unwrap();
    // Findings a chief reviews (no case), then findings of an automatic category far enough apart that each
    // files a case of its own.
    ingest(&state, &phone, 0, FINDINGS - CASES, "E0102", 0.0001);
    ingest(&state, &phone, (FINDINGS - CASES) as u64, CASES, "C0101", 0.001);
    let day = state.config.zone.at(now).date_naive();
    for (kind, format, rows) in [
        (ExportKind::Findings, ExportFormat::Csv, FINDINGS),
        (ExportKind::Findings, ExportFormat::Geojson, FINDINGS),
        (ExportKind::Findings, ExportFormat::Xlsx, FINDINGS),
        (ExportKind::Cases, ExportFormat::Csv, CASES),
    ] {
        let request = ExportRequest {
            kind,
            format,
            from: day,
            to: day,
            state: None,
            category: None,
            department: None,
            grid: None,
            photos: false,
        };
        let start = Instant::now();
        let job = runtime
            .block_on(sync_server::exports::begin(&state, (user.id, "wang".into()), Scope::All, request))
            .unwrap();
        let done = loop {
            let (_, j) = store.export_job(job.id).unwrap().unwrap();
            if j.state != "running" {
                break j;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let took = start.elapsed().as_secs_f64();
        assert_eq!((done.state.as_str(), done.rows as usize), ("done", rows), "{:?}", done.error);
        println!(
            "export of {rows} {kind:?} as {format:?}: {:.2} s, {:.0} rows/s, {:.1} MB ({:.1} MB/s)",
            took,
            rows as f64 / took,
            done.bytes as f64 / 1e6,
            done.bytes as f64 / 1e6 / took
        );
    }
}
