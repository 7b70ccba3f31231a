//! The store's share of ingest, in process: `Store::apply_ops` on batches of 100 `finding.create` ops
//! (photos already uploaded) against a real SQLite file with `synchronous=FULL`, from as many threads as
//! the machine has cores (each a device sending batch after batch), as the server's blocking pool runs
//! them, each request's JSON parsed as the server parses it. No HTTP: this bounds the server's durable
//! findings per second whatever the number of devices.
//!
//! Run: `cargo bench -p sync-server --bench ingest` (figures go to BENCHMARKS.md).

use std::time::{Duration, Instant};

use chrono::Utc;
use protocol::{DeviceInfo, OpEnvelopeRaw, OpStatus, Role};
use sync_server::Zone;
use sync_server::blobs::BlobMeta;
use sync_server::db::{NewUser, SqliteStore, Store, SyncContext};
use sync_server::domain::calendar::WorkCalendar;
use sync_server::domain::{EngineSettings, ops};
use sync_server::principal::Principal;
use uuid::Uuid;

const BATCH: usize = 100;

#[derive(serde::Deserialize)]
struct Batch<'a> {
    #[serde(borrow)]
    ops: Vec<OpEnvelopeRaw<'a>>,
}
const BATCHES: usize = 300;

fn percentile(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let tmp = tempfile::tempdir().unwrap();
    let settings = EngineSettings {
        zone: Zone::Host,
        calendar: WorkCalendar::default(),
        verify_hours: 24.0,
        duplicate_radius_m: 50.0,
        duplicate_window_hours: 72.0,
    };
    let store = SqliteStore::open(tmp.path(), settings).unwrap();
    sync_server::seed::ensure_dictionary(&store).unwrap();
    let now = Utc::now();
    let user = store
        .add_user(
            NewUser {
                username: "inspector1".into(),
                password_hash: "unused".into(),
                display_name: "巡查员".into(),
                role: Role::Inspector,
                team: Some("一中队".into()),
                department: None,
            },
            now,
        )
        .unwrap();
    let threads = std::thread::available_parallelism().map(usize::from).unwrap_or(2);
    let sha = "ab".repeat(32);
    store
        .record_blobs(
            &[(
                BlobMeta { sha256: sha.clone(), bytes: 300_000, content_type: "image/jpeg".into(), packed: None },
                user.id,
            )],
            now,
        )
        .unwrap();
    let observed = chrono::Local::now().fixed_offset().to_rfc3339();
    // Each batch as the request's text, parsed on each call as the server does.
    let batches = |first: usize| -> Vec<String> {
        (0..BATCHES)
            .map(|b| {
                (0..BATCH)
                    .map(|i| {
                        let n = first + b * BATCH + i;
                        serde_json::json!({
                            "seq": (b * BATCH + i) as u64 + 1,
                            "kind": "finding.create",
                            "body": serde_json::json!({
                                "id": Uuid::now_v7(), "patrol_id": null, "category": "E0102",
                                "description": format!("人行道堆放垃圾 {n}"), "urgent": false, "fixed_on_spot": false,
                                "location": {"lat": 41.70 + (n % 1000) as f64 * 0.0001, "lon": 123.40 + (n / 1000) as f64 * 0.0001,
                                             "accuracy_m": 5.0, "source": "gps", "fixed_at": observed},
                                "address": null, "road": null, "grid": null, "facility_code": null, "observed_at": observed,
                                "photos": [{"sha256": sha, "role": "before", "taken_at": observed, "width": 1600, "height": 1200, "bytes": 300000}]
                            }),
                        })
                    })
                    .collect::<Vec<_>>()
            })
            .map(|ops| serde_json::json!({ "ops": ops }).to_string())
            .collect()
    };
    let devices: Vec<(Principal, Vec<String>)> = (0..threads)
        .map(|t| {
            let device = DeviceInfo {
                id: Uuid::now_v7(),
                name: format!("bench-{t}"),
                platform: "bench".into(),
                app_version: "0".into(),
            };
            store.register_device(&user, &device, &format!("token-hash-{t}"), now).unwrap();
            (Principal { user: user.clone(), device_id: Some(device.id) }, batches(t * BATCHES * BATCH))
        })
        .collect();

    let start = Instant::now();
    let mut times: Vec<Duration> = std::thread::scope(|scope| {
        let store = &store;
        let handles: Vec<_> = devices
            .iter()
            .map(|(principal, batches)| {
                scope.spawn(move || {
                    let device_id = principal.device_id.unwrap();
                    batches
                        .iter()
                        .map(|text| {
                            let ctx = SyncContext {
                                principal,
                                device_id,
                                now: Utc::now(),
                                backlog: None,
                                dictionary_version: None,
                            };
                            let t = Instant::now();
                            let request: Batch<'_> = serde_json::from_str(text).unwrap();
                            let prepared = ops::prepare(ctx.now, &request.ops, store.category_check());
                            let results = store.apply_ops(&ctx, prepared).unwrap();
                            let took = t.elapsed();
                            assert!(results.iter().all(|r| r.status == OpStatus::Applied), "{results:?}");
                            took
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let total = start.elapsed();
    let findings = threads * BATCHES * BATCH;
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "apply_ops from {threads} threads, {findings} finding.create in batches of {BATCH}: {:.0} findings/s; batch p50 {:.2} ms, p99 {:.2} ms",
        findings as f64 / total.as_secs_f64(),
        ms(percentile(&mut times, 0.5)),
        ms(percentile(&mut times, 0.99)),
    );
}
