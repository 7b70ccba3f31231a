//! An export of 100,000 findings streams: the server's memory grows by a page of rows, not by the file. The
//! findings go in through the store as a sync would put them; the export runs as `POST /exports` runs it
//! (in the background, a page at a time). What the process holds is counted by this test's allocator (every
//! allocation of Rust code; SQLite's own page cache is bounded by its settings and not counted), its peak
//! during the export compared with the file's size.

use chrono::Utc;
use protocol::{DeviceInfo, Role, SyncRequestRaw};
use sync_server::blobs::BlobMeta;
use sync_server::db::{NewUser, SyncContext};
use sync_server::domain::exports::{ExportFormat, ExportKind, ExportRequest};
use sync_server::domain::ops;
use sync_server::policy::Scope;
use sync_server::principal::Principal;
use sync_server::{AppState, Config};
use uuid::Uuid;

const FINDINGS: usize = 100_000;

#[global_allocator]
static ALLOCATOR: peak_alloc::PeakAlloc = peak_alloc::PeakAlloc;

#[test]
fn an_export_of_a_hundred_thousand_findings_streams_with_flat_memory() {
    let dir = tempfile::tempdir().unwrap();
    let state = AppState::open(Config::new(dir.path())).unwrap();
    let store = state.store.clone();
    let now = Utc::now();
    let user = store
        .add_user(
            NewUser {
                username: "wang".into(),
                password_hash: "x".into(),
                display_name: "王".into(),
                role: Role::Inspector,
                team: Some("一中队".into()),
                department: None,
            },
            now,
        )
        .unwrap();
    let info = DeviceInfo {
        id: Uuid::new_v4(),
        name: "p".into(),
        platform: "android".into(),
        app_version: "1".into(),
        public_key: None,
    };
    store.register_device(&user, &info, "t", now).unwrap();
    let phone = Principal { user: user.clone(), device_id: Some(info.id), address: None, enrol_only: false };
    let sha = "ab".repeat(32);
    let meta = BlobMeta { sha256: sha.clone(), bytes: 1000, content_type: "image/jpeg".into(), packed: None };
    store.record_blobs(&[(meta, user.id)], now).unwrap();
    let at = now.to_rfc3339();
    let mut seq = 0u64;
    for _ in 0..FINDINGS / 1000 {
        let ops: Vec<String> = (0..1000)
            .map(|i| {
                seq += 1;
                let body = serde_json::json!({
                    "id": Uuid::new_v4(), "patrol_id": null, "category": "C0118",
                    "description": format!("第{seq}号 路面破损，需要尽快修补以免影响通行"),
                    "urgent": false, "fixed_on_spot": false,
                    "location": {"lat": 41.79 + f64::from(i) * 1e-5, "lon": 123.43, "accuracy_m": 4.0, "source": "gps", "fixed_at": at},
                    "address": "中街路 12 号", "road": null, "grid": null, "facility_code": null, "observed_at": at,
                    "photos": [{"sha256": sha, "role": "before", "taken_at": at, "width": 1600, "height": 1200, "bytes": 1000}]
                });
                format!(r#"{{"seq":{seq},"kind":"finding.create","body":{body}}}"#)
            })
            .collect();
        let text = format!(r#"{{"device_id":"{}","ops":[{}]}}"#, info.id, ops.join(","));
        let req: SyncRequestRaw<'_> = serde_json::from_str(&text).unwrap();
        let ctx =
            SyncContext { principal: &phone, device_id: req.device_id, now, backlog: None, dictionary_version: None };
        let prepared = ops::prepare(now, &req.ops, None, store.category_check());
        store.apply_ops(&ctx, prepared).unwrap();
    }

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let day = state.config.zone.at(now).date_naive();
    let request = ExportRequest {
        kind: ExportKind::Findings,
        format: ExportFormat::Csv,
        from: day,
        to: day,
        state: None,
        category: None,
        department: None,
        grid: None,
        photos: false,
    };
    let export = || {
        let asked = sync_server::exports::begin(&state, (user.id, "wang".into()), Scope::All, request.clone());
        let job = runtime.block_on(asked).unwrap();
        assert_eq!(job.total, FINDINGS as u64);
        loop {
            let (_, j) = store.export_job(job.id).unwrap().unwrap();
            if j.state != "running" {
                break j;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    };
    let before = ALLOCATOR.current_usage();
    ALLOCATOR.reset_peak_usage();
    let done = export();
    let peak = ALLOCATOR.peak_usage();
    assert_eq!((done.state.as_str(), done.rows, done.error.as_deref()), ("done", FINDINGS as u64, None));
    let file = sync_server::exports::file_of(&state, &done);
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(text.lines().count(), FINDINGS + 1, "a header and a line a finding");
    assert!(text.lines().nth(1).unwrap().contains("路面破损"));
    let file_kib = done.bytes / 1024;
    let grown = (peak.saturating_sub(before) / 1024) as u64;
    eprintln!("export of {FINDINGS} findings: file {file_kib} KiB; held at most {grown} KiB more than before");
    assert!(file_kib > 20_000, "the file is large enough to show the difference: {file_kib} KiB");
    assert!(grown * 10 < file_kib, "memory grew by {grown} KiB for a {file_kib} KiB file");
}
